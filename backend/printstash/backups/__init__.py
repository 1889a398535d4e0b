"""backups domain."""
