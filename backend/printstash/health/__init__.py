"""health domain."""
