"""OPC/zip packages: `.gcode.3mf` (Bambu Studio/OrcaSlicer: Metadata/plate_N.gcode per sliced
plate), `.ufp` (Cura/UltiMaker: 3D/model.gcode) and `.3mf` models (3D/3dmodel.model).

Read with zipfile inside limits, checked on the central directory before anything is read:
no member outside the package (`..`, absolute paths, symlinks), none encrypted, sizes and
compression ratios a real slicer writes (a zip bomb declares or decompresses far more), and
every read stops at the member's declared size.
"""

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from printstash.formats.recognise import Broken, KindName

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 4 * 1024**3  # a plate's G-code can be a few hundred MB
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_RATIO = 100  # G-code deflates ~4-8x, meshes ~2-5x; zeros ~1000x
RATIO_FLOOR_BYTES = 1024 * 1024  # small members may compress well (XML of a cube)
PLATE_GCODE = re.compile(r"^Metadata/plate_(\d+)\.gcode$")
UFP_GCODE = "3D/model.gcode"
MODEL_PART = re.compile(r"^3D/[^/]+\.model$", re.IGNORECASE)


def open_checked(path: Path) -> zipfile.ZipFile:
    """The package, its members checked (Broken otherwise)."""
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Broken(f"not a readable zip package: {exc}", "bad_package") from exc
    try:
        check_members(package.infolist())
    except Broken:
        package.close()
        raise
    return package


def check_members(members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_MEMBERS:
        raise Broken(f"the package has {len(members)} members (at most {MAX_MEMBERS})", "package_too_large")
    total = 0
    for info in members:
        _check_member(info)
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise Broken(f"the package unpacks to {total} bytes (at most {MAX_TOTAL_BYTES})", "package_too_large")


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise Broken(f"package member {name!r} points outside the package", "unsafe_member")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise Broken(f"package member {name!r} is a symbolic link", "unsafe_member")
    if info.flag_bits & 0x1:
        raise Broken(f"package member {name!r} is encrypted", "encrypted_package")
    if info.file_size > MAX_MEMBER_BYTES:
        raise Broken(f"package member {name!r} unpacks to {info.file_size} bytes", "package_too_large")
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise Broken(f"package member {name!r} compresses {info.file_size // max(info.compress_size, 1)}:1 "
                     "(a zip bomb?)", "package_too_large")


def kind_of(package: zipfile.ZipFile) -> KindName:
    """gcode.3mf, ufp or 3mf by the members present (G-code wins over a model)."""
    names = package.namelist()
    if any(PLATE_GCODE.match(n) for n in names):
        return "gcode.3mf"
    if UFP_GCODE in names:
        return "ufp"
    if any(MODEL_PART.match(n) for n in names):
        return "3mf"
    raise Broken("the package has neither G-code (Metadata/plate_N.gcode, 3D/model.gcode) "
                 "nor a 3D model (3D/3dmodel.model)", "empty_package")


def read_member(package: zipfile.ZipFile, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """A member's bytes, never more than it declared (a forged size cannot inflate it)."""
    info = package.getinfo(name)
    if info.file_size > limit:
        raise Broken(f"package member {name!r} is too large to read ({info.file_size} bytes)", "package_too_large")
    try:
        with package.open(info) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:  # bad CRC, truncated, bad deflate
        raise Broken(f"package member {name!r} cannot be read: {exc}", "bad_package") from exc
    if len(data) != info.file_size:
        raise Broken(f"package member {name!r} does not match its declared size", "bad_package")
    return data
