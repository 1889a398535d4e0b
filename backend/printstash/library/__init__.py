"""library domain."""
