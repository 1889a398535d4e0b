"""Tables of the library domain (filled in by the library issue)."""
