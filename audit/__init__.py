"""The append-only, hash-chained audit trail and compliance search."""
