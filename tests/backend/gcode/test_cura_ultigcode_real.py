"""Cura's UltiGCode flavour (Ultimaker 2 family) from a real CuraEngine 4.13 file
(tests/backend/gcode/real): the header's time, nozzle and filament volume in mm³, checked
against the lines the engine printed and its log (ultigcode_expected.json)."""

import json
import math
from pathlib import Path
from typing import Any

import pytest

from printstash.gcode import merge, parse, scan_file

REAL = Path(__file__).parent / "real"
SPEC: dict[str, Any] = json.loads((REAL / "ultigcode_expected.json").read_text())
GCODE = REAL / SPEC["file"]


def _fields() -> dict[str, Any]:
    meta = parse(GCODE)
    assert meta.errors == []
    return merge(meta, scan_file(GCODE))


def test_printed_lines_are_in_the_file() -> None:
    text = GCODE.read_text()
    for line in SPEC["printed_lines"]:
        assert f"\n{line}\n" in f"\n{text}", line


def test_header_values_match_what_the_engine_printed() -> None:
    fields = _fields()
    for name, want in SPEC["expected"].items():
        assert fields.get(name) == (pytest.approx(want) if isinstance(want, float) else want), name
    assert SPEC["expected"]["estimated_time"] == SPEC["engine_log"]["print_time_s"]


def test_filament_volume_becomes_the_length_of_the_machines_filament() -> None:
    """;MATERIAL: is mm³ (and E values are volumetric): the length is the volume over the
    cross-section of the 2.85 mm filament the Ultimaker 2 definition uses."""
    volume = SPEC["expected_volume_mm3"]
    assert volume == SPEC["engine_log"]["filament_mm3"]
    area = math.pi * (SPEC["inputs"]["material_diameter_mm"] / 2) ** 2
    assert _fields()["filament_total"] == pytest.approx(volume / area, abs=0.01)


def test_the_raw_engine_header_volume_is_a_placeholder(tmp_path: Path) -> None:
    """Before slicing the engine writes ;MATERIAL:6666 and ;MINX:2.14748e+06: no length then."""
    text = GCODE.read_text()
    raw = text.replace(";MATERIAL:4838\n", ";MATERIAL:6666\n").replace(";MINX:93.7\n", ";MINX:2.14748e+06\n")
    path = tmp_path / "raw.gcode"
    path.write_text(raw)
    assert "filament_total" not in merge(parse(path), scan_file(path))
