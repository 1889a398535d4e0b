"""Which kind a file is, from its content: the name only breaks ties (a binary STL has no
signature of its own, so an unrecognised binary head is one only when named .stl)."""

import re
from typing import Literal

from printstash.gcode import looks_like_gcode

KindName = Literal["gcode", "bgcode", "gcode.3mf", "ufp", "stl", "obj", "3mf"]
Family = Literal["gcode", "bgcode", "zip", "stl", "obj"]
SLICED: tuple[KindName, ...] = ("gcode", "bgcode", "gcode.3mf", "ufp")
MODELS: tuple[KindName, ...] = ("stl", "obj", "3mf")

BGCODE_MAGIC = b"GCDE"
ZIP_MAGIC = b"PK\x03\x04"
_ASCII_STL = re.compile(rb"^\s*solid\b[^\n]*\r?\n\s*(?:facet\s+normal|endsolid)", re.IGNORECASE)
_OBJ_LINE = re.compile(rb"^(?:#|v|vt|vn|vp|f|l|p|o|g|s|mtllib|usemtl)(?:\s|$)")
_OTHER_SIGNATURES = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"\x7fELF", b"\x1f\x8b")


class Broken(Exception):
    """The file is of a known kind but damaged or unsafe to read: a 422 with this message."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def family(head: bytes, filename: str) -> Family | None:
    """The reader for a file whose first bytes are `head`; None when no kind fits."""
    if head.startswith(BGCODE_MAGIC):
        return "bgcode"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if _ASCII_STL.match(head):
        return "stl"
    if looks_like_gcode(head):
        return "gcode"
    if _looks_like_obj(head):
        return "obj"
    if filename.lower().endswith(".stl") and not head.startswith(_OTHER_SIGNATURES) and len(head) >= 84:
        return "stl"  # binary: checked against its length once received (meshes.check_stl)
    return None


def _looks_like_obj(head: bytes) -> bool:
    if not head.endswith(b"\n") and b"\n" in head:
        head = head[: head.rfind(b"\n")]
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    vertices = sum(1 for line in lines if line.startswith((b"v ", b"v\t")))
    known = sum(1 for line in lines if _OBJ_LINE.match(line))
    return vertices > 0 and known == len(lines) and b"\x00" not in head
