"""Tables of the printers domain (filled in by the printers issue)."""
