"""G-code understanding: pure parsing, no database or HTTP (imports only the standard library
and gcodeparser).

Contract used by the library domain:
- parse(path, *, time_limit=10.0) -> GcodeMetadata   bounded stage: first/last 1 MiB only;
                                                      never raises on bad content (see .errors)
- FullScan()                                          streaming stage: .feed(chunk) for every
  .feed(chunk: bytes) / .finish() -> FullFacts        chunk of the file in order (split anywhere)
- scan_file(path) -> FullFacts                        FullScan over a file on disk (mapped, scanned in place)
- merge(meta, facts) -> dict                          final fields: header wins, full scan fills gaps
- looks_like_gcode(head: bytes) -> bool               content sniffing for uploads (415 otherwise)
- build_index(path, marks) -> LayerIndex              each layer's byte range, Z and tool (layers.py)
- padded(index, declared, layer_height)                the declared layers a file did not write, added empty
- layer_segments(index, n, read) -> bytes             one layer's moves as 28-byte segments (moves.py)
"""

from printstash.gcode.fullscan import FullScan, scan_file
from printstash.gcode.layers import Layer, LayerIndex, build_index, layer_segments, padded
from printstash.gcode.merge import merge
from printstash.gcode.moves import FEATURES, RECORD
from printstash.gcode.parser import parse
from printstash.gcode.sniff import looks_like_gcode
from printstash.gcode.types import FullFacts, GcodeMetadata, LayerMarks, Thumbnail

__all__ = [
    "FEATURES",
    "RECORD",
    "FullFacts",
    "FullScan",
    "GcodeMetadata",
    "Layer",
    "LayerIndex",
    "LayerMarks",
    "Thumbnail",
    "build_index",
    "layer_segments",
    "looks_like_gcode",
    "merge",
    "padded",
    "parse",
    "scan_file",
]
