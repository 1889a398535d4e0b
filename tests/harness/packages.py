"""Print-file packages built the way their tools build them, for tests in several folders:
a .bgcode by libbgcode's own converter (the one PrusaSlicer uses), and zip (OPC) packages
assembled from real-slicer G-code following their published layouts:

- .gcode.3mf as Bambu Studio and OrcaSlicer write it: Metadata/plate_N.gcode with its MD5 in
  Metadata/plate_N.gcode.md5, Metadata/plate_N.png, Metadata/slice_info.config and the
  model part 3D/3dmodel.model;
- .ufp as Cura writes it for UltiMaker printers (UltiMaker's UFP: an OPC package whose
  _rels/.rels relates /3D/model.gcode and the /Metadata/thumbnail.png beside it). Cura writes
  it through libCharon, which stores every part under its OPC part name, leading '/' included.

And G-code whose thumbnails are QOI, as PrusaSlicer writes them for the MK4/MINI/XL.
"""

import base64
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pybgcode
from PIL import Image

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 b'package/2006/content-types"><Default Extension="rels" ContentType="application/'
                 b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="gcode" '
                 b'ContentType="text/x-gcode"/><Default Extension="png" ContentType="image/png"/></Types>')
MODEL = (b'<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xmlns="http://schemas.microsoft.com/'
         b'3dmanufacturing/core/2015/02"><resources/><build/></model>')
UFP_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Target="/3D/model.gcode" Id="rel0" '
            b'Type="http://schemas.ultimaker.org/package/2018/relationships/gcode"/><Relationship '
            b'Target="/Metadata/thumbnail.png" Id="rel1" Type="http://schemas.openxmlformats.org/package/'
            b'2006/relationships/metadata/thumbnail"/></Relationships>')
_THUMBNAIL_BLOCK = re.compile(rb"; thumbnail begin (\d+)x(\d+) \d+\n(.*?); thumbnail end", re.DOTALL)


def binarize(src: Path, dst: Path) -> bytes:
    """`src` (text G-code) as a .bgcode written to `dst`; its bytes."""
    infile, outfile = pybgcode.open(str(src), "r"), pybgcode.open(str(dst), "wb")
    try:
        assert pybgcode.from_ascii_to_binary(infile, outfile, pybgcode.get_config()) == pybgcode.EResult.Success
    finally:
        pybgcode.close(infile)
        pybgcode.close(outfile)
    return dst.read_bytes()


def zip_of(members: dict[str, bytes]) -> bytes:
    """A deflated zip holding `members` (name -> bytes), in that order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def thumbnail_png(gcode: bytes, size: str = "300x300") -> bytes:
    """The PNG of a PrusaSlicer thumbnail block of `size` in `gcode`."""
    block = next(m for m in _THUMBNAIL_BLOCK.finditer(gcode) if m[1] + b"x" + m[2] == size.encode())
    return base64.b64decode(b"".join(line[2:] for line in block[3].splitlines()))


def qoi_thumbnails(gcode: bytes) -> bytes:
    """`gcode` with each PNG thumbnail re-encoded as QOI, in the block PrusaSlicer writes with
    `--thumbnails-format QOI` (`; thumbnail_QOI begin WxH LEN` ... `; thumbnail_QOI end`)."""
    def as_qoi(block: re.Match[bytes]) -> bytes:
        png = base64.b64decode(b"".join(line[2:] for line in block[3].splitlines()))
        out = io.BytesIO()
        Image.open(io.BytesIO(png)).save(out, format="QOI")
        encoded = base64.b64encode(out.getvalue())
        lines = b"".join(b"; " + encoded[i:i + 78] + b"\n" for i in range(0, len(encoded), 78))
        return b"; thumbnail_QOI begin %sx%s %d\n%s; thumbnail_QOI end" % (block[1], block[2], len(encoded), lines)
    return _THUMBNAIL_BLOCK.sub(as_qoi, gcode)


def gcode_3mf_members(plates: Sequence[bytes], *, image: bytes | None = None,
                      slice_info: bytes | None = None) -> dict[str, bytes]:
    """A .gcode.3mf's members: plate N's G-code (N from 1) with its .md5, `image` as every
    plate's picture, `slice_info` as Metadata/slice_info.config."""
    members = {"[Content_Types].xml": CONTENT_TYPES, "3D/3dmodel.model": MODEL}
    for n, gcode in enumerate(plates, start=1):
        members[f"Metadata/plate_{n}.gcode"] = gcode
        members[f"Metadata/plate_{n}.gcode.md5"] = hashlib.md5(gcode).hexdigest().encode()
        if image is not None:
            members[f"Metadata/plate_{n}.png"] = image
    if slice_info is not None:
        members["Metadata/slice_info.config"] = slice_info
    return members


def gcode_3mf(plates: Sequence[bytes], **layout: bytes | None) -> bytes:
    """A .gcode.3mf of these plates' G-code (see gcode_3mf_members for `layout`)."""
    return zip_of(gcode_3mf_members(plates, **layout))


def ufp(gcode: bytes, thumbnail: bytes) -> bytes:
    """A .ufp holding `gcode` and its `thumbnail` (PNG), its parts named as Cura names them."""
    return zip_of({"/[Content_Types].xml": CONTENT_TYPES, "/_rels/.rels": UFP_RELS, "/3D/model.gcode": gcode,
                   "/Metadata/thumbnail.png": thumbnail})
