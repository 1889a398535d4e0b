"""OPC/zip packages: `.gcode.3mf` (Bambu Studio/OrcaSlicer: Metadata/plate_N.gcode per sliced
plate), `.ufp` (Cura/UltiMaker: 3D/model.gcode) and `.3mf` models (3D/3dmodel.model).

Read with zipfile inside limits, checked on the central directory before anything is read:
no member outside the package (`..`, absolute paths, symlinks), none encrypted, sizes and
compression ratios a real slicer writes (a zip bomb declares or decompresses far more), and
every read stops at the member's declared size.
"""

import hashlib
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from xml.etree import ElementTree

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from printstash.formats.recognise import Broken, KindName

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 4 * 1024**3  # a plate's G-code can be a few hundred MB
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_RATIO = 100  # G-code deflates ~4-8x, meshes ~2-5x; zeros ~1000x
RATIO_FLOOR_BYTES = 1024 * 1024  # small members may compress well (XML of a cube)
PLATE_GCODE = re.compile(r"^Metadata/plate_(\d+)\.gcode$")
UFP_GCODE = "3D/model.gcode"
MODEL_PART = re.compile(r"^3D/[^/]+\.model$", re.IGNORECASE)
# The OPC parts these packages hold, named from the package root as Cura's UFP writer stores
# them ('/3D/model.gcode'): not an absolute path. Any other name with a leading '/' is one.
OPC_ROOTED = re.compile(r"^/(?:3D|Metadata|_rels|Cura)/[^/]|^/\[Content_Types\]\.xml$")


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
    _from_package_root(package)
    return package


def _from_package_root(package: zipfile.ZipFile) -> None:
    """Name the parts stored from the package root ('/3D/model.gcode': OPC part names start
    with '/', and Cura's UFP writer stores them so) as every other reader here asks for them
    ('3D/model.gcode'). Reads still check the stored name in each local header."""
    for info in package.infolist():
        info.filename = info.filename.removeprefix("/")
    package.NameToInfo = {info.filename: info for info in package.infolist()}


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
    absolute = name.startswith(("/", "\\")) and not OPC_ROOTED.match(name)
    if absolute or re.match(r"^[A-Za-z]:", name) or ".." in parts:
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


# ---- sliced packages -------------------------------------------------------------------------

CHUNK = 1024 * 1024
MAX_XML_BYTES = 4 * 1024 * 1024
SLICE_INFO = "Metadata/slice_info.config"
UFP_THUMBNAIL = "Metadata/thumbnail.png"


def plates(package: zipfile.ZipFile) -> list[int]:
    """The sliced plates' numbers, ascending (gcode.3mf: Metadata/plate_N.gcode; ufp: one)."""
    if UFP_GCODE in package.namelist():
        return [1]
    found = (PLATE_GCODE.match(name) for name in package.namelist())
    return sorted(int(m[1]) for m in found if m)


def plate_gcode(package: zipfile.ZipFile, plate: int) -> str:
    return UFP_GCODE if UFP_GCODE in package.namelist() else f"Metadata/plate_{plate}.gcode"


def copy_member(package: zipfile.ZipFile, name: str, out: BinaryIO | None) -> str:
    """Stream a member (into `out`, if given) and return its MD5; never more bytes than it
    declared, Broken on a bad CRC or deflate stream."""
    info = package.getinfo(name)
    digest, left = hashlib.md5(usedforsecurity=False), info.file_size
    try:
        with package.open(info) as member:
            while chunk := member.read(min(CHUNK, left + 1)):
                left -= len(chunk)
                if left < 0:
                    raise Broken(f"package member {name!r} is longer than it declares", "bad_package")
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Broken(f"package member {name!r} cannot be read: {exc}", "bad_package") from exc
    return digest.hexdigest()


def verify_plates(package: zipfile.ZipFile) -> None:
    """Every plate's G-code is there and matches its .md5 (Bambu Studio writes one per plate);
    plates that slice_info.config lists must have their G-code."""
    names = set(package.namelist())
    listed = set(slice_info(package))
    for plate in sorted(listed | set(plates(package))):
        gcode = plate_gcode(package, plate)
        if gcode not in names:
            raise Broken(f"plate {plate} has no G-code ({gcode} is missing)", "plate_missing")
        md5 = copy_member(package, gcode, None)
        declared = _declared_md5(package, gcode + ".md5")
        if declared is not None and declared != md5:
            raise Broken(f"plate {plate}: {gcode} does not match its .md5", "plate_checksum")


def _declared_md5(package: zipfile.ZipFile, name: str) -> str | None:
    if name not in package.namelist():
        return None
    return read_member(package, name, limit=1024).decode("ascii", "replace").strip().lower()[:32]


def slice_info(package: zipfile.ZipFile) -> dict[int, dict[str, Any]]:
    """Per plate, what Metadata/slice_info.config says (Moonraker's names): prediction,
    weight, filament types, colours and length, object names."""
    if SLICE_INFO not in package.namelist():
        return {}
    try:
        root = SafeElementTree.fromstring(read_member(package, SLICE_INFO, MAX_XML_BYTES))
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise Broken(f"{SLICE_INFO} is not valid XML: {exc}", "bad_package") from exc
    result: dict[int, dict[str, Any]] = {}
    for plate in root.iter("plate"):
        meta = {m.get("key"): m.get("value") for m in plate.iter("metadata")}
        index = _number(meta.get("index"))
        if index is not None:
            result[int(index)] = _plate_fields(meta, plate)
    return result


def _plate_fields(meta: dict[str | None, str | None], plate: ElementTree.Element) -> dict[str, Any]:
    filaments = list(plate.iter("filament"))
    used_m = [_number(f.get("used_m")) for f in filaments]
    fields: dict[str, Any] = {
        "estimated_time": _number(meta.get("prediction")),
        "filament_weight_total": _number(meta.get("weight")),
        "nozzle_diameter": _number(meta.get("nozzle_diameters")),
        "printer_model": meta.get("printer_model_id") or None,
        "filament_type": ";".join(t for f in filaments if (t := f.get("type"))) or None,
        "filament_colors": [c for f in filaments if (c := f.get("color"))] or None,
        "filament_total": round(sum(u for u in used_m if u) * 1000, 2) if any(used_m) else None,
        "objects": [n for o in plate.iter("object") if (n := o.get("name"))] or None,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
