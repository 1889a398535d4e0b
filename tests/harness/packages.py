"""Print-file packages built the way their tools build them, for tests in several folders:
a .bgcode by libbgcode's own converter (the one PrusaSlicer uses), and zip (OPC) packages."""

import io
import zipfile
from pathlib import Path

import pybgcode


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
