"""Prusa's binary G-code (.bgcode) through Prusa's own libbgcode (its Python bindings,
pybgcode): decoded to plain G-code with every block checksum verified. The plain G-code then
goes through the same parse as any other (libbgcode writes the metadata blocks and thumbnails
back as the comment lines PrusaSlicer writes in a .gcode)."""

from pathlib import Path

import pybgcode

from printstash.formats.recognise import Broken

_CODES = {
    pybgcode.EResult.InvalidVersionNumber: "bgcode_version",
    pybgcode.EResult.InvalidChecksum: "bgcode_checksum",
    pybgcode.EResult.InvalidChecksumType: "bgcode_checksum",
}


KNOWN_VERSION = 1  # the format version libbgcode writes and reads (its conversion does not check)


def _check_version(infile: pybgcode.FILEWrapper) -> None:
    result = pybgcode.read_header(infile, pybgcode.FileHeader(), KNOWN_VERSION)
    if result != pybgcode.EResult.Success:
        raise Broken(f"not a binary G-code file PrintStash can read: {pybgcode.translate_result(result)}",
                     _CODES.get(result, "bad_bgcode"))
    pybgcode.rewind(infile)


def check_header(src: Path) -> None:
    """Broken unless `src` starts with a header of the version PrintStash reads (its blocks are
    checked by `decode`)."""
    infile = pybgcode.open(str(src), "rb")
    if not pybgcode.is_open(infile):
        raise OSError(f"cannot open {src}")
    try:
        _check_version(infile)
    finally:
        pybgcode.close(infile)


def decode(src: Path, dst: Path) -> None:
    """Write the plain G-code of `src` to `dst`; Broken when `src` is truncated, has a bad block
    checksum, an unknown version or anything else libbgcode refuses."""
    infile = pybgcode.open(str(src), "rb")
    if not pybgcode.is_open(infile):
        raise OSError(f"cannot open {src}")
    try:
        _check_version(infile)
        outfile = pybgcode.open(str(dst), "w")
        if not pybgcode.is_open(outfile):
            raise OSError(f"cannot write {dst}")
        try:
            result = pybgcode.from_binary_to_ascii(infile, outfile, True)
        finally:
            pybgcode.close(outfile)
    finally:
        pybgcode.close(infile)
    if result != pybgcode.EResult.Success:
        raise Broken(f"the binary G-code cannot be decoded: {pybgcode.translate_result(result)}",
                     _CODES.get(result, "bad_bgcode"))
