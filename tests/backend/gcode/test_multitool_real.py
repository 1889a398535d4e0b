"""A real multi-tool PrusaSlicer file (tests/backend/gcode/real): per-tool lists, tool changes,
and agreement with the values the slicer printed (expected.json)."""

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from printstash.gcode import merge, parse, scan_file

REAL = Path(__file__).parent / "real"
SPEC: dict[str, Any] = json.loads((REAL / "expected.json").read_text())
GCODE = REAL / SPEC["file"]


def test_printed_lines_are_in_the_file() -> None:
    text = GCODE.read_text()
    for line in SPEC["printed_lines"]:
        assert f"\n{line}\n" in text


def test_values_match_what_the_slicer_printed() -> None:
    meta = parse(GCODE)
    assert meta.errors == []
    fields = merge(meta, scan_file(GCODE))
    for name, want in SPEC["expected"].items():
        assert fields.get(name) == (pytest.approx(want) if isinstance(want, float) else want), name


def test_tool_changes_and_layers_counted_independently() -> None:
    """Count the T<n> switches and ;LAYER_CHANGE lines with a plain line loop, and compare."""
    tools = [line.strip() for line in GCODE.read_text().splitlines() if line[:1] == "T" and line[1:2].isdigit()]
    switches = sum(1 for a, b in itertools.pairwise(tools) if a != b)
    layers = sum(1 for line in GCODE.read_text().splitlines() if line == ";LAYER_CHANGE")
    facts = scan_file(GCODE).fields
    assert switches > 10 and facts["tool_changes"] == switches
    assert facts["layer_count"] == layers and facts["tools"] == [0, 1]
