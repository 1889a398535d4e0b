"""Content sniffing for uploads: is this G-code? (decided from the first few KiB only)."""

import re

# Formats people upload by mistake, recognised by their first bytes.
_BINARY_SIGNATURES = (
    b"\x89PNG", b"PK\x03\x04", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"\x7fELF", b"\x1f\x8b",
    b"GCDE",  # Prusa binary G-code (.bgcode): not text G-code
)
_MARKUP = re.compile(rb"^\s*(?:<!doctype|<html|<\?xml|<svg|\{|\[)", re.IGNORECASE)
_ASCII_STL = re.compile(rb"^\s*solid\b[^\n]*\n\s*(?:facet|endsolid)", re.IGNORECASE)
_COMMAND = re.compile(rb"^(?:N\d+[ \t]*)?[GMT]\d+(?:\.\d+)?(?:[\s;*(]|$)", re.IGNORECASE)
_MACRO = re.compile(rb"^[A-Z][A-Z0-9_]{2,}(?:[ \t]|$)")  # Klipper macros: PRINT_START, SET_…
_COMMENT = re.compile(rb"^(?:;|\()")
MAX_FOREIGN_SHARE = 0.1


def looks_like_gcode(head: bytes) -> bool:
    """True when the first KiB are G-code lines: comments, G/M/T commands, Klipper macros."""
    if not head.strip() or b"\x00" in head or head.startswith(_BINARY_SIGNATURES):
        return False
    if _MARKUP.match(head) or _ASCII_STL.match(head):
        return False
    head = head.removeprefix(b"\xef\xbb\xbf")  # UTF-8 BOM (Windows editors)
    if not head.endswith(b"\n") and b"\n" in head.rstrip(b"\n"):
        head = head[: head.rfind(b"\n")]  # a line cut by the window is not evidence
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    commands = sum(1 for line in lines if _COMMAND.match(line) or _MACRO.match(line))
    comments = sum(1 for line in lines if _COMMENT.match(line))
    foreign = len(lines) - commands - comments
    return (commands + comments) > 0 and foreign <= MAX_FOREIGN_SHARE * len(lines) and _text(head)


def _text(head: bytes) -> bool:
    """Mostly printable: a binary file that happens to start with ';' is still binary."""
    control = sum(1 for b in head[:4096] if b < 9 or 13 < b < 32)
    return control <= len(head[:4096]) // 100
