"""Independent clients (not ours) against the emulators."""
