"""The append-only audit trail: events written in the same transaction as each change."""
