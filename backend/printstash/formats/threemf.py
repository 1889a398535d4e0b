"""The meshes of a 3MF model package, placed as its build says (3MF core specification):
objects hold a <mesh> (vertices, triangles) or <components> (other objects, transformed);
<build> items place objects. Components may point into other model parts through the
production extension's p:path, as Bambu Studio and OrcaSlicer write them (3D/Objects/*.model).

Each part is streamed through defusedxml (no DTDs, no entities) from the checked package
(formats/packages.py), so neither a zip bomb nor an XML bomb gets past the limits.
"""

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

import numpy as np
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from printstash.formats import packages
from printstash.formats.recognise import Broken

CORE = "{http://schemas.microsoft.com/3dmanufacturing/core/2015/02}"
PRODUCTION_PATH = "{http://schemas.microsoft.com/3dmanufacturing/production/2015/06}path"
ROOT_PART = "3D/3dmodel.model"
THUMBNAIL = "Metadata/thumbnail.png"
UNIT_MM = {"micron": 0.001, "millimeter": 1.0, "centimeter": 10.0, "inch": 25.4, "foot": 304.8, "meter": 1000.0}
MAX_NESTING = 16  # components of components: real files nest 1-2 deep; a cycle never ends
MAX_TRIANGLES = 20_000_000  # placed triangles: one mesh placed a million times is a bomb too
_CLEAR_EVERY = 4096
IDENTITY = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])


@dataclass
class _Object:
    vertices: np.ndarray | None = None
    faces: np.ndarray | None = None
    components: list[tuple[str, str, np.ndarray]] = field(default_factory=list)  # (part, object id, transform)


@dataclass
class _Part:
    unit_mm: float = 1.0
    objects: dict[str, _Object] = field(default_factory=dict)
    build: list[tuple[str, str, np.ndarray]] = field(default_factory=list)


def load(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every build item's mesh, placed: its vertices (millimetres) and triangles."""
    with packages.open_checked(path) as package:
        reader = _Reader(package)
        root = reader.part(reader.root)
        placed = [(vertices * root.unit_mm, faces) for vertices, faces in _placed(reader, root)]
    if not placed:
        raise Broken("the 3MF model places no mesh (its build is empty)", "empty_model")
    return placed


def _root_name(package: zipfile.ZipFile) -> str:
    names = package.namelist()
    if ROOT_PART in names:
        return ROOT_PART
    return next(n for n in names if packages.MODEL_PART.match(n))  # kind_of made sure there is one


def _placed(reader: "_Reader", root: _Part) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    items = root.build or [(reader.root, oid, IDENTITY) for oid in root.objects]
    count = 0
    for part, oid, transform in items:
        for vertices, faces in _instances(reader, part, oid, transform, 0):
            count += len(faces)
            if count > MAX_TRIANGLES:
                raise Broken(f"the 3MF model places more than {MAX_TRIANGLES} triangles", "model_too_large")
            yield vertices, faces


def _instances(reader: "_Reader", part: str, oid: str, transform: np.ndarray,
               depth: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    if depth > MAX_NESTING:
        raise Broken(f"3MF components nest deeper than {MAX_NESTING} (a cycle?)", "bad_3mf")
    obj = reader.part(part).objects.get(oid)
    if obj is None:
        raise Broken(f"the 3MF model refers to object {oid!r} of {part}, which is not there", "bad_3mf")
    if obj.vertices is not None and obj.faces is not None and len(obj.faces):
        yield obj.vertices @ transform[:3] + transform[3], obj.faces
    for child_part, child, inner in obj.components:
        outer = np.vstack([inner[:3] @ transform[:3], inner[3] @ transform[:3] + transform[3]])
        yield from _instances(reader, child_part, child, outer, depth + 1)


class _Reader:
    """The package's model parts, each read once when first referred to."""

    def __init__(self, package: zipfile.ZipFile) -> None:
        self.package, self.root, self._parts = package, _root_name(package), dict[str, _Part]()

    def part(self, name: str) -> _Part:
        name = name.lstrip("/")
        if name not in self._parts:
            if name not in self.package.namelist():
                raise Broken(f"the 3MF model refers to part {name!r}, which is not in the package", "bad_3mf")
            self._parts[name] = _read_part(self.package, name)
        return self._parts[name]


def _read_part(package: zipfile.ZipFile, name: str) -> _Part:
    try:
        with package.open(name) as stream:
            return _parse(stream, name)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise Broken(f"{name} is not valid 3MF XML: {exc}", "bad_3mf") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise Broken(f"package member {name!r} cannot be read: {exc}", "bad_package") from exc
    except ValueError as exc:  # a number that is not one, an index out of range
        raise Broken(f"{name} has a bad mesh: {exc}", "bad_3mf") from exc


def _parse(stream: IO[bytes], name: str) -> _Part:
    part, obj, rows = _Part(), _Object(), list[tuple[float, ...]]()
    container: Element | None = None  # <vertices> or <triangles>, emptied as rows are read
    for event, elem in SafeElementTree.iterparse(stream, events=("start", "end")):
        tag = elem.tag.removeprefix(CORE)  # other namespaces' elements keep their "{...}"
        if event == "start":
            if tag == "model":
                part.unit_mm = UNIT_MM.get(elem.get("unit", "millimeter"), 1.0)
            elif tag in ("vertices", "triangles"):
                container, rows = elem, []
            elif tag == "object":
                obj = _Object()
        elif tag in ("vertex", "triangle"):
            keys = ("x", "y", "z") if tag == "vertex" else ("v1", "v2", "v3")
            rows.append(tuple((float if tag == "vertex" else int)(elem.get(k, "")) for k in keys))
            if container is not None and len(rows) % _CLEAR_EVERY == 0:
                del container[:]  # the rows keep the numbers: the parsed elements can go
        elif tag == "vertices":
            obj.vertices = _vertices(rows)
        elif tag == "triangles":
            obj.faces = _faces(rows, obj.vertices)
        elif tag == "component":
            obj.components.append(_reference(elem, name))
        elif tag == "object":
            part.objects[elem.get("id", "")] = obj
            elem.clear()
        elif tag == "item":
            part.build.append(_reference(elem, name))
    return part


def _reference(elem: Element, part: str) -> tuple[str, str, np.ndarray]:
    """A component's or build item's object: (its part, its id, its transform)."""
    return elem.get(PRODUCTION_PATH) or part, elem.get("objectid", ""), _transform(elem.get("transform"))


def _vertices(rows: list[tuple[float, ...]]) -> np.ndarray:
    vertices = np.array(rows, dtype=np.float64).reshape(-1, 3)
    if not np.isfinite(vertices).all():
        raise ValueError("a vertex coordinate is not a finite number")
    return vertices


def _faces(rows: list[tuple[float, ...]], vertices: np.ndarray | None) -> np.ndarray:
    faces = np.array(rows, dtype=np.int64).reshape(-1, 3)
    count = 0 if vertices is None else len(vertices)
    if len(faces) and (faces.min() < 0 or faces.max() >= count):
        raise ValueError(f"a triangle refers to a vertex that is not there (it has {count})")
    return faces


def _transform(text: str | None) -> np.ndarray:
    """A 3MF transform: 12 numbers, a 4x3 matrix for row vectors (p' = p @ m[:3] + m[3])."""
    if not text:
        return IDENTITY
    numbers = [float(n) for n in text.split()]
    if len(numbers) != 12 or not all(np.isfinite(numbers)):
        raise ValueError(f"a transform must be 12 numbers, not {text[:80]!r}")
    return np.array(numbers).reshape(4, 3)
