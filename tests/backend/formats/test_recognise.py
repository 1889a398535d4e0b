"""Kind recognition by content (the name only breaks ties) and the package checks that run on
a zip's central directory before anything of it is read or stored."""

import io
import stat
import zipfile
from pathlib import Path

import pytest
from harness.paths import GCODE_FIXTURES

from printstash.formats import Broken, family, packages

CUBE_STL = GCODE_FIXTURES / "models" / "cube20.stl"  # ASCII, as the corpus generator wrote it
GCODE = GCODE_FIXTURES / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode"
OBJ = b"# cube\no cube\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvn 0 0 1\nf 1//1 2//1 3//1\n"
BINARY_STL = b"binary stl header".ljust(80, b"\0") + (1).to_bytes(4, "little") + b"\0" * 50


@pytest.mark.parametrize(("head", "name", "want"), [
    (GCODE.read_bytes()[:1024], "anything.bin", "gcode"),
    (b"GCDE\x01\x00\x00\x00\x01\x00", "x.gcode", "bgcode"),
    (b"PK\x03\x04" + b"\0" * 100, "x.gcode", "zip"),
    (CUBE_STL.read_bytes()[:1024], "x.gcode", "stl"),
    (BINARY_STL, "part.STL", "stl"),
    (BINARY_STL, "part.gcode", None),  # no signature: only the name says STL
    (OBJ, "x.txt", "obj"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "x.stl", None),
    (b"hello world\n", "x.obj", None),
])
def test_family_by_content(head: bytes, name: str, want: str | None) -> None:
    assert family(head, name) == want


def _zip(members: dict[str, bytes], tmp_path: Path, **info: object) -> Path:
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            zinfo = zipfile.ZipInfo(name)
            for key, value in info.items():
                setattr(zinfo, key, value)
            z.writestr(zinfo, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize(("members", "want"), [
    ({"[Content_Types].xml": b"<x/>", "Metadata/plate_1.gcode": b"G28\n", "3D/3dmodel.model": b"<m/>"}, "gcode.3mf"),
    ({"[Content_Types].xml": b"<x/>", "3D/model.gcode": b"G28\n"}, "ufp"),
    ({"[Content_Types].xml": b"<x/>", "3D/3dmodel.model": b"<m/>"}, "3mf"),
])
def test_package_kind(members: dict[str, bytes], want: str, tmp_path: Path) -> None:
    with packages.open_checked(_zip(members, tmp_path)) as package:
        assert packages.kind_of(package) == want


def test_a_package_with_neither_gcode_nor_model_is_broken(tmp_path: Path) -> None:
    with packages.open_checked(_zip({"Metadata/notes.txt": b"hi"}, tmp_path)) as package, \
            pytest.raises(Broken) as raised:
        packages.kind_of(package)
    assert raised.value.code == "empty_package"


@pytest.mark.parametrize("name", ["../evil.gcode", "/etc/evil.gcode", "3D/../../evil", "C:/evil", "..\\evil"])
def test_members_outside_the_package_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(Broken) as raised:
        packages.open_checked(_zip({name: b"x"}, tmp_path))
    assert raised.value.code == "unsafe_member"


def test_symlink_members_are_refused(tmp_path: Path) -> None:
    path = _zip({"3D/model.gcode": b"/etc/passwd"}, tmp_path, external_attr=(stat.S_IFLNK | 0o777) << 16)
    with pytest.raises(Broken) as raised:
        packages.open_checked(path)
    assert raised.value.code == "unsafe_member"


def test_encrypted_members_are_refused(tmp_path: Path) -> None:
    path = _zip({"3D/model.gcode": b"G28\n"}, tmp_path)
    data = bytearray(path.read_bytes())  # set the "encrypted" flag bit in both headers
    for magic, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(magic) + offset] |= 0x1
    path.write_bytes(bytes(data))
    with pytest.raises(Broken) as raised:
        packages.open_checked(path)
    assert raised.value.code == "encrypted_package"


def test_a_zip_bomb_is_refused_from_its_ratio(tmp_path: Path) -> None:
    path = _zip({"3D/model.gcode": b"\0" * (64 * 1024 * 1024)}, tmp_path)
    with pytest.raises(Broken) as raised:
        packages.open_checked(path)
    assert raised.value.code == "package_too_large"


def test_a_forged_member_size_cannot_inflate_a_read(tmp_path: Path) -> None:
    path = _zip({"3D/model.gcode": b"G28\n" * 1000}, tmp_path)
    data = bytearray(path.read_bytes())
    # Declare 10 bytes in both headers: the read stops there and fails the size/CRC check.
    real = (4000).to_bytes(4, "little")
    data = bytearray(bytes(data).replace(real, (10).to_bytes(4, "little")))
    path.write_bytes(bytes(data))
    with packages.open_checked(path) as package, pytest.raises(Broken):
        packages.read_member(package, "3D/model.gcode")


def test_not_a_zip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "x.3mf"
    path.write_bytes(b"PK\x03\x04" + io.BytesIO(b"garbage" * 10).read())
    with pytest.raises(Broken) as raised:
        packages.open_checked(path)
    assert raised.value.code == "bad_package"
