"""Meshes of models: binary/ASCII STL told apart by length, 3MF builds placed as written
(components, other model parts, units), and the software renderer's isometric PNG."""

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from harness.packages import zip_of
from harness.paths import MODEL_FIXTURES
from PIL import Image

from printstash.formats import Broken, meshes, render

CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
PRODUCTION = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
# A 10 mm cube, corner at the origin, as 3MF vertices and triangles (outward winding).
CUBE_VERTICES = [(0, 0, 0), (10, 0, 0), (10, 10, 0), (0, 10, 0), (0, 0, 10), (10, 0, 10), (10, 10, 10), (0, 10, 10)]
CUBE_FACES = [(0, 2, 1), (0, 3, 2), (4, 5, 6), (4, 6, 7), (0, 1, 5), (0, 5, 4), (1, 2, 6), (1, 6, 5),
              (2, 3, 7), (2, 7, 6), (3, 0, 4), (3, 4, 7)]


def cube_object(oid: int) -> str:
    vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in CUBE_VERTICES)
    triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in CUBE_FACES)
    mesh = f"<mesh><vertices>{vertices}</vertices><triangles>{triangles}</triangles></mesh>"
    return f'<object id="{oid}" type="model">{mesh}</object>'


def model_xml(resources: str, build: str, unit: str = "millimeter") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><model unit="{unit}" xmlns="{CORE}" xmlns:p="{PRODUCTION}">'
            f"<resources>{resources}</resources><build>{build}</build></model>").encode()


def load_3mf(tmp_path: Path, members: dict[str, bytes]) -> meshes.ModelFacts:
    path = tmp_path / "m.3mf"
    path.write_bytes(zip_of(members))
    return meshes.facts(meshes.load(path, "3mf"))


def test_components_are_placed_by_their_transforms_and_the_build_item(tmp_path: Path) -> None:
    # Two cubes 20 mm apart, the pair lifted 5 mm by its build item: 30 x 10 x 10 mm, 2000 mm³.
    pair = ('<object id="2" type="model"><components><component objectid="1"/>'
            '<component objectid="1" transform="1 0 0 0 1 0 0 0 1 20 0 0"/></components></object>')
    facts = load_3mf(tmp_path, {"3D/3dmodel.model": model_xml(
        cube_object(1) + pair, '<item objectid="2" transform="1 0 0 0 1 0 0 0 1 0 0 5"/>')})
    assert facts == meshes.ModelFacts(triangles=24, size_mm=(30.0, 10.0, 10.0), volume_mm3=2000.0, watertight=True)


def test_components_in_another_model_part_and_units(tmp_path: Path) -> None:
    # Bambu Studio's layout: the mesh lives in 3D/Objects/, the root part refers to it by p:path.
    part = model_xml(cube_object(7), "")
    root = model_xml('<object id="1" type="model"><components>'
                     '<component p:path="/3D/Objects/object_7.model" objectid="7" '
                     'transform="2 0 0 0 1 0 0 0 1 0 0 0"/></components></object>',
                     '<item objectid="1"/>', unit="centimeter")
    facts = load_3mf(tmp_path, {"3D/3dmodel.model": root, "3D/Objects/object_7.model": part})
    assert facts.size_mm == (200.0, 100.0, 100.0) and facts.volume_mm3 == pytest.approx(2_000_000.0)


def test_a_component_cycle_is_refused(tmp_path: Path) -> None:
    loop = '<object id="1" type="model"><components><component objectid="1"/></components></object>'
    with pytest.raises(Broken) as raised:
        load_3mf(tmp_path, {"3D/3dmodel.model": model_xml(loop, '<item objectid="1"/>')})
    assert raised.value.code == "bad_3mf"


def test_a_triangle_pointing_past_the_vertices_is_refused(tmp_path: Path) -> None:
    bad = cube_object(1).replace('v3="1"/>', 'v3="99"/>', 1)
    with pytest.raises(Broken) as raised:
        load_3mf(tmp_path, {"3D/3dmodel.model": model_xml(bad, '<item objectid="1"/>')})
    assert raised.value.code == "bad_3mf"


def binary_stl(header: bytes, triangles: int, declared: int | None = None) -> bytes:
    body = struct.pack("<12fH", 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0) * triangles
    return header.ljust(80, b" ") + struct.pack("<I", triangles if declared is None else declared) + body


@pytest.mark.parametrize(("data", "flavour"), [
    (binary_stl(b"solid by a CAD program that writes 'solid' in binary headers", 3), "binary"),
    ((MODEL_FIXTURES / "cone_ascii.stl").read_bytes(), "ascii"),
    ((MODEL_FIXTURES / "cylinder_binary.stl").read_bytes(), "binary"),
])
def test_stl_flavour(tmp_path: Path, data: bytes, flavour: str) -> None:
    path = tmp_path / "m.stl"
    path.write_bytes(data)
    assert meshes.stl_flavour(path) == flavour


@pytest.mark.parametrize(("data", "code"), [
    (binary_stl(b"x", 3, declared=4), "stl_size_mismatch"),
    (binary_stl(b"x", 3)[:-1], "stl_size_mismatch"),
    (b"\0" * 40, "bad_stl"),
])
def test_a_binary_stl_whose_count_disagrees_with_its_length_is_broken(tmp_path: Path, data: bytes,
                                                                       code: str) -> None:
    path = tmp_path / "m.stl"
    path.write_bytes(data)
    with pytest.raises(Broken) as raised:
        meshes.stl_flavour(path)
    assert raised.value.code == code


def test_the_render_shows_a_cube_as_three_shaded_faces_on_a_transparent_background() -> None:
    vertices = np.array(CUBE_VERTICES, dtype=float)
    triangles = vertices[np.array(CUBE_FACES)]
    with Image.open(io.BytesIO(render.isometric_png(triangles))) as image:
        assert image.format == "PNG" and image.size == (render.SIZE, render.SIZE) and image.mode == "RGBA"
        pixels = np.asarray(image)
    alpha = pixels[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0  # the corners are background
    assert alpha[render.SIZE // 2, render.SIZE // 2] == 255  # the cube fills the middle
    opaque = pixels[alpha == 255][:, :3]
    shades, counts = np.unique(opaque, axis=0, return_counts=True)
    faces = shades[counts > 0.05 * len(opaque)]  # an isometric cube shows top, front and side
    assert len(faces) == 3 and len({tuple(f) for f in faces}) == 3
    covered = (alpha > 0).mean()  # a regular hexagon 0.88 of the side tall: 0.50 of the square
    assert 0.45 < covered < 0.55
