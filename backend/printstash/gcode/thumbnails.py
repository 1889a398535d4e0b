"""Embedded preview images: '; thumbnail[_PNG|_JPG|_QOI] begin WxH LEN' … '; … end' blocks.

The same block shape is used by PrusaSlicer and its forks, Bambu Studio, Cura's thumbnail
plugins and CrealityPrint ('; png begin' / '; jpg begin'). LEN is the number of base64
characters; a block whose payload length differs, does not decode, or whose bytes do not start
with the declared image signature is reported as an error and skipped.
"""

import base64
import binascii
import re
import struct

from printstash.gcode.types import Thumbnail

_BEGIN = re.compile(
    r"\n;[ \t]*(thumbnail(?:_PNG|_JPG|_QOI)?|png|jpg)[ \t]+begin[ \t]+(\d+)[ \t]*x[ \t]*(\d+)[ \t]+(\d+)[^\n]*\n"
)
_SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff", "qoi": b"qoif"}
_TAG_FORMAT = {"thumbnail_jpg": "jpg", "jpg": "jpg", "thumbnail_qoi": "qoi"}
MAX_BLOCKS = 16


def extract(text: str) -> tuple[list[Thumbnail], list[str]]:
    """All well-formed thumbnails in `text`, plus one error per rejected block.

    Blocks are found begin-line first and their end line searched forward, so a file full of
    unterminated 'begin' lines costs one scan per tag, not one per line.
    """
    thumbs: list[Thumbnail] = []
    errors: list[str] = []
    unterminated: set[str] = set()
    for begin in _BEGIN.finditer(text):
        if len(thumbs) + len(errors) >= MAX_BLOCKS:
            break
        tag = begin.group(1)
        if tag in unterminated:
            continue
        end = re.compile(r"\n;[ \t]*" + tag + r"[ \t]+end").search(text, begin.end() - 1)
        if end is None:
            unterminated.add(tag)
            errors.append(f"thumbnail {begin.group(2)}x{begin.group(3)}: no '{tag} end' line")
            continue
        thumb, error = _decode(begin, text[begin.end():end.start()])
        if thumb is not None:
            thumbs.append(thumb)
        if error:
            errors.append(error)
    return thumbs, errors


def _decode(begin: re.Match[str], body: str) -> tuple[Thumbnail | None, str | None]:
    tag, width, height, declared = begin.groups()
    label = f"thumbnail {width}x{height}"
    payload = "".join(line.lstrip(";").strip() for line in body.splitlines())
    if len(payload) != int(declared):
        return None, f"{label}: {len(payload)} base64 characters, header declares {declared}"
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None, f"{label}: payload is not valid base64"
    fmt = _TAG_FORMAT.get(tag.lower(), "png")
    if not data.startswith(_SIGNATURES[fmt]):
        return None, f"{label}: data is not a {fmt.upper()} image"
    w, h = _dimensions(fmt, data) or (int(width), int(height))
    return Thumbnail(width=w, height=h, format=fmt, data=data), None


def _dimensions(fmt: str, data: bytes) -> tuple[int, int] | None:
    """Real size from the image header where it is cheap to read (PNG IHDR, QOI header)."""
    if fmt == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if fmt == "qoi" and len(data) >= 12:
        w, h = struct.unpack(">II", data[4:12])
        return int(w), int(h)
    return None
