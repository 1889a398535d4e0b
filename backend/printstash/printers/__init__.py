"""printers domain."""
