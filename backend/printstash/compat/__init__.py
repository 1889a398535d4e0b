"""compat domain."""
