"""What admins configure (flows, mappings, triggers) and what workers run."""
