"""State of the emulated external systems (demo and tests only)."""
