"""Chat housekeeping (membership, migrations; handler group -1) and /start."""
