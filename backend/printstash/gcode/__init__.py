"""G-code understanding: pure parsing, no database or HTTP (imports only the standard library
and gcodeparser).

Contract used by the library domain (the G-code issue implements it):
- parse(path) -> GcodeMetadata          bounded stage: first/last 1 MiB only
- FullScan()                             streaming stage: .feed(chunk) for every chunk of
  .feed(chunk: bytes) / .finish()        the file in order, then .finish() -> FullFacts
- looks_like_gcode(head: bytes) -> bool  content sniffing for uploads (415 otherwise)
"""
