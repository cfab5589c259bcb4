"""The REST API under /api/v1/: what the browser can do, for programs."""
