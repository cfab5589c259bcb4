"""OpenText Content Server (Extended ECM): connector and emulator."""
