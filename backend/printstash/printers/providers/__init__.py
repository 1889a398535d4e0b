"""printers/providers domain."""
