"""Real-browser tests: the Debian chromium driven by Playwright."""
