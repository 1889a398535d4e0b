"""The preview's G-code side: layer marks recorded by the full pass (offsets checked against a
plain regex over the file, however the file is split), the moves of hand-written G-code
(expected segments worked out by hand), and hostile input."""

import math
import random
import re
import struct
from pathlib import Path

import pytest
from gcodekit import fixture_entries, fixture_path
from hypothesis import given, settings
from hypothesis import strategies as st

from printstash.gcode import FullScan, LayerIndex, build_index, layer_segments, padded, scan_file
from printstash.gcode.layers import Layer, index_of
from printstash.gcode.moves import MoveState, segments

RECORD = struct.Struct("<6fBBH")  # the documented layout (docs/api.md), not the module's constant
MARKER_LINE = re.compile(rb"(?m)^(?:;LAYER_CHANGE|;LAYER:|; CHANGE_LAYER)")
FIXTURES = [fixture_path(e) for e in fixture_entries()]


def records(data: bytes) -> list[tuple[float | int, ...]]:
    return [tuple(round(v, 4) if isinstance(v, float) else v for v in RECORD.unpack_from(data, i))
            for i in range(0, len(data), RECORD.size)]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_layer_marks_are_the_marker_lines_however_the_file_is_split(path: Path) -> None:
    data = path.read_bytes()
    expected = [m.start() for m in MARKER_LINE.finditer(data)]
    assert scan_file(path).layers is not None
    assert scan_file(path).layers.starts == expected  # type: ignore[union-attr]
    rng = random.Random(path.name)
    for sizes in ([4096], [1, 7, 255, 256, 257], [rng.randint(1, 70_000) for _ in range(20)]):
        scan, pos, i = FullScan(), 0, 0
        while pos < len(data):
            scan.feed(data[pos:pos + sizes[i % len(sizes)]])
            pos, i = pos + sizes[i % len(sizes)], i + 1
        marks = scan.finish().layers
        assert marks is not None and marks.starts == expected, sizes


def test_moves_follow_modes_arcs_and_features_by_hand() -> None:
    gcode = (b"G90\nM83\nG1 X10 Y0 Z0.2 F600\n;TYPE:External perimeter\nG1 X10 Y10 E1\n"
             b"G91\nG1 X-5 E0.5\nG90\nG1 X0 Y0\nT1\nM82\nG92 E0\nG1 X0 Y5 E2 ; comment X99\n"
             b"G1 X0 Y6 E2\nG1 E1\n;TYPE:Support material\nG2 X0 Y-6 I0 J-6 E3\n")
    got = records(segments(gcode, MoveState()))
    assert got[:5] == [
        (0, 0, 0, 10, 0, 0.2, 0, 0, 0),      # travel up and across, before any ;TYPE:
        (10, 0, 0.2, 10, 10, 0.2, 2, 1, 0),  # M83: E1 extrudes; "External perimeter" is code 2
        (10, 10, 0.2, 5, 10, 0.2, 2, 1, 0),  # G91: X-5 is relative
        (5, 10, 0.2, 0, 0, 0.2, 2, 0, 0),    # G90 again: a travel (no E)
        (0, 0, 0.2, 0, 5, 0.2, 2, 1, 1),     # T1; M82 after G92 E0: E2 extrudes
    ]
    assert got[5] == (0, 5, 0.2, 0, 6, 0.2, 2, 0, 1)  # absolute E2 again: no extrusion
    arc = got[6:]  # 'G1 E1' (a retract without motion) drew nothing
    assert len(arc) == math.ceil(math.pi * 6 / 0.5)
    assert arc[0][:3] == (0, 6, 0.2) and arc[-1][3:6] == (0, -6, 0.2)
    assert all(s[6:] == (11, 1, 1) for s in arc)  # Support material, extruding, tool 1
    assert all(math.hypot(s[3], s[4]) == pytest.approx(6, abs=1e-3) for s in arc)
    assert max(s[3] for s in arc) == pytest.approx(6, abs=1e-2)  # clockwise from the top: via +X


def test_a_layer_starts_where_the_one_before_ended() -> None:
    gcode = (b"M83\n;LAYER_CHANGE\n;Z:0.2\nG1 Z0.2\nG1 X5 Y5\nG1 X6 Y5 E1\n;TYPE:Solid infill\n"
             b"G1 X7 Y9 E1\n;LAYER_CHANGE\n;Z:0.4\nG1 Z0.4\nG1 X1 Y1 E1\n")
    scan = FullScan()
    scan.feed(gcode)
    index = index_of(gcode, scan.finish().layers)
    starts = [gcode.index(b";LAYER_CHANGE\n;Z:0.2"), gcode.index(b";LAYER_CHANGE\n;Z:0.4")]
    assert [la.start for la in index.layers] == starts
    assert [la.z for la in index.layers] == [pytest.approx(0.2), pytest.approx(0.4)]
    assert index.relative_e

    def read(start: int, end: int) -> bytes:
        return gcode[start:end]

    second = records(layer_segments(index, 1, read))
    assert second == [(7, 9, 0.2, 7, 9, 0.4, 5, 0, 0), (7, 9, 0.4, 1, 1, 0.4, 5, 1, 0)]


def test_the_index_round_trips_and_refuses_other_bytes() -> None:
    index = LayerIndex.of((Layer(10, 20, 0.2, 0), Layer(20, 35, 0.4, 3)), relative_e=True)
    again = LayerIndex.from_bytes(index.to_bytes())
    assert again.relative_e and [(la.start, la.end, la.tool) for la in again.layers] == [(10, 20, 0), (20, 35, 3)]
    for bad in (b"", b"PSLI", index.to_bytes()[:-1], b"XXXX" + index.to_bytes()[4:]):
        with pytest.raises(ValueError):
            LayerIndex.from_bytes(bad)


def test_declared_layers_are_padded_empty_but_an_unbelievable_count_is_not() -> None:
    written = LayerIndex.of((Layer(10, 20, 0.2, 0), Layer(20, 35, 0.4, 3)), relative_e=False)
    three = padded(written, 3, 0.1)
    assert [(la.start, la.end, la.tool) for la in three.layers[2:]] == [(35, 35, 3)]
    assert three.layers[2].z == pytest.approx(0.5)  # by the layer height from the last written one
    assert layer_segments(three, 2, lambda start, end: b"G1 X1 Y1 E1\n") == b""
    assert [la.z for la in padded(written, 4, None).layers[2:]] == [pytest.approx(0.6), pytest.approx(0.8)]
    for declared in (None, 0, 2, 5, 10**9):  # nothing missing, or more than written again
        assert padded(written, declared, 0.2) == written


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"G1", b"G0", b"G2", b"G3", b"G92", b"G91", b"G90", b"G28", b"M83", b"T",
                                 b"X", b"Y", b"Z", b"E", b"I", b"J", b"R", b"nan", b"inf", b"-1e400", b"1e39",
                                 b"0", b"5", b"-3.5", b".", b" ", b"\n", b";TYPE:", b"\xff", b"T99999"]),
                max_size=60))
def test_hostile_gcode_never_raises_and_packs_finite_floats(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    for rec in records(segments(data, MoveState())):
        assert all(math.isfinite(v) for v in rec[:6])


def test_a_file_without_markers_is_split_at_extrusion_z(tmp_path: Path) -> None:
    path = tmp_path / "plain.gcode"
    path.write_bytes(b"G28\nG1 Z0.3\nG1 X1 Y1 E1\nG1 Z1.0\nG1 X5 Y5\nG1 Z0.3\nG1 X2 Y2 E2\n"  # a Z hop
                     b"G1 Z0.5\nG1 X3 Y3 E3\nG1 Z0.7 E2\nG1 X4 Y4\n")  # the last Z extrudes nothing
    index = build_index(path, scan_file(path).layers)
    data = path.read_bytes()
    assert [(round(la.z, 3), la.start) for la in index.layers] == [(0.3, data.index(b"G1 Z0.3")),
                                                                  (0.5, data.index(b"G1 Z0.5"))]
