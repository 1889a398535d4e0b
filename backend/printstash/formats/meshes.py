"""Models (.stl binary and ASCII, .obj, .3mf) as triangle meshes, and the facts people ask of
one before printing it: how many triangles, how big, how much plastic, is it closed.

trimesh reads STL and OBJ and computes the facts. A 3MF's meshes are read here from the
package's XML (formats/threemf.py) with defusedxml inside the zip limits of formats/packages.py,
rather than by trimesh's 3MF reader, which would unpack every member unchecked and needs lxml.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import trimesh
import trimesh.exchange.obj
import trimesh.exchange.stl

from printstash.formats import threemf
from printstash.formats.recognise import Broken

STL_HEADER_BYTES = 84  # 80-byte header + uint32 triangle count
STL_TRIANGLE_BYTES = 50  # normal + 3 corners (12 float32) + uint16 attribute
_ASCII_STL_HEAD = re.compile(rb"^\s*solid\b", re.IGNORECASE)
Mesh = trimesh.Trimesh


@dataclass(frozen=True)
class ModelFacts:
    """What a model is, as a slicer would report it (PrusaSlicer's `--info`)."""

    triangles: int
    size_mm: tuple[float, float, float]  # bounding box of the model as placed (a 3MF's build)
    volume_mm3: float
    watertight: bool  # every edge shared by exactly two triangles (PrusaSlicer: "manifold")


def stl_flavour(path: Path) -> Literal["binary", "ascii"]:
    """Binary when the file is exactly as long as its triangle count says (a binary header
    may begin with "solid" too), ASCII when it reads as ASCII STL; Broken otherwise."""
    size = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(1024)
    if len(head) >= STL_HEADER_BYTES:
        count = int.from_bytes(head[80:STL_HEADER_BYTES], "little")
        if size == STL_HEADER_BYTES + STL_TRIANGLE_BYTES * count:
            return "binary"
    if _ASCII_STL_HEAD.match(head) and b"\0" not in head:
        return "ascii"
    if len(head) < STL_HEADER_BYTES:
        raise Broken(f"the STL file is {size} bytes, shorter than a binary STL's header", "bad_stl")
    raise Broken(f"the binary STL says it has {count} triangles, which take "
                 f"{STL_HEADER_BYTES + STL_TRIANGLE_BYTES * count} bytes, but the file has {size} bytes "
                 "(truncated or not an STL)", "stl_size_mismatch")


def load(path: Path, kind: str) -> trimesh.Trimesh:
    """The model's triangles as one mesh (equal vertices merged, faces kept as they are);
    Broken when the file holds no triangles or cannot be read as its kind."""
    try:
        parts = threemf.load(path) if kind == "3mf" else _load_with_trimesh(path, kind)
    except Broken:
        raise
    except (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError, EOFError) as exc:
        raise Broken(f"the {kind} file cannot be read as a mesh: {exc}", f"bad_{kind}") from exc
    vertices, faces = _concatenated(parts)
    if len(faces) == 0:
        raise Broken(f"the {kind} file has no triangles", "empty_model")
    if not np.isfinite(vertices).all():
        raise Broken(f"the {kind} file has a vertex whose coordinates are not numbers", f"bad_{kind}")
    unique, inverse = merge_equal(vertices)
    return trimesh.Trimesh(vertices=unique, faces=inverse[faces], process=False)


Part = tuple[np.ndarray, np.ndarray]  # vertices (n, 3) float64, triangles (m, 3) int64 into them
# trimesh's readers, called directly: its load_mesh() wraps the result in a scene and copies it
# out again (a second or more on 400k triangles), and for an OBJ would read the material files
# its `mtllib` names from the disk.
_READERS: dict[str, Callable[[BinaryIO], dict[str, Any]]] = {
    "stl": trimesh.exchange.stl.load_stl,
            "obj": partial(trimesh.exchange.obj.load_obj, skip_materials=True, group_material=False,
                           maintain_order=True)}


def _load_with_trimesh(path: Path, kind: str) -> list[Part]:
    with path.open("rb") as file:
        loaded = _READERS[kind](file)
    pieces = loaded["geometry"].values() if "geometry" in loaded else [loaded]
    return [(np.asarray(p["vertices"], dtype=np.float64).reshape(-1, 3),
             np.asarray(p.get("faces", ()), dtype=np.int64).reshape(-1, 3)) for p in pieces]  # points: none


def _concatenated(parts: list[Part]) -> Part:
    if not parts:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    offsets = np.cumsum([0] + [len(vertices) for vertices, _ in parts[:-1]])
    return (np.concatenate([vertices for vertices, _ in parts]),
            np.concatenate([faces + offset for (_, faces), offset in zip(parts, offsets, strict=True)]))


def merge_equal(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices merged where they are exactly equal, as PrusaSlicer compares them (an STL lists
    every corner of every triangle): the unique vertices and, per input vertex, its index in them.

    trimesh's own merge rounds to 8 digits and then sorts the rows as raw bytes when they do not
    fit one integer: most of a 400k-triangle STL's load time. Here each row's bit pattern is
    hashed to one integer, sorted as integers, and the result checked; a hash collision falls
    back to sorting the rows as bytes."""
    exact = np.ascontiguousarray(vertices + 0.0)  # + 0.0 turns -0.0 into 0.0
    bits = exact.view(np.uint64)
    keys = _mix(_mix(_mix(bits[:, 0]) ^ bits[:, 1]) ^ bits[:, 2])
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    unique = exact[first]
    if np.array_equal(unique[inverse], exact):
        return unique, inverse.ravel()
    rows = exact.view(np.dtype((np.void, exact.itemsize * 3))).ravel()  # exact, but slow
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    return exact[first], inverse.ravel()


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit (a float32 read as
    float64 has 29 zero bits at the bottom, which a plain multiply would keep)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = z ^ (z >> np.uint64(31))
    return mixed


def facts(mesh: trimesh.Trimesh) -> ModelFacts:
    """Facts of a mesh load() returned."""
    extents = np.ptp(mesh.vertices[mesh.faces.ravel()], axis=0)
    x, y, z = (round(float(v), 4) for v in extents)
    return ModelFacts(triangles=len(mesh.faces), size_mm=(x, y, z), volume_mm3=round(volume(mesh.triangles), 3),
                      watertight=bool(mesh.is_watertight))


def volume(triangles: np.ndarray) -> float:
    """The enclosed volume: the signed tetrahedra from the origin to every triangle, summed.
    For a closed mesh it is what trimesh's mass properties give; for an open one (where no
    volume is right) it is what PrusaSlicer reports, where trimesh integrates differently."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    return abs(float(np.einsum("ij,ij->", a, np.cross(b, c)))) / 6
