"""The streaming full-file pass: same facts however the file is split into chunks, bounded
memory on hostile input, and the facts the header leaves out (via merge)."""

import mmap
import random
from pathlib import Path

import pytest
from gcodekit import SYNTHETIC, all_gcode_files, fixture_entries, fixture_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printstash.gcode import FullScan, merge, parse, scan_file

FIXTURES = all_gcode_files()
SMALL = [p for p in FIXTURES if p.stat().st_size < 300_000]


def _scan_in_pieces(data: bytes, sizes: list[int]) -> dict[str, object]:
    scan = FullScan()
    pos, i = 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        scan.feed(data[pos:pos + size])
        pos, i = pos + size, i + 1
    return scan.finish().fields


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_chunking_does_not_change_facts(path: Path) -> None:
    data = path.read_bytes()
    whole = scan_file(path).fields
    rng = random.Random(path.name)
    for sizes in ([1 << 20], [4096], [1, 7, 255, 256, 257], [rng.randint(1, 5000) for _ in range(50)]):
        assert _scan_in_pieces(data, sizes) == whole, sizes
    assert scan_file(path, mmap.ALLOCATIONGRANULARITY).fields == whole  # many mapped windows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(SMALL), sizes=st.lists(st.integers(1, 70_000), min_size=1, max_size=8))
def test_chunking_property(path: Path, sizes: list[int]) -> None:
    assert _scan_in_pieces(path.read_bytes(), sizes) == scan_file(path).fields


def test_prusa_layer_count_from_full_pass() -> None:
    """Moonraker reports no layer_count for PrusaSlicer 2.5 files; the full pass does."""
    for entry in fixture_entries():
        if entry["expected"].get("layer_count_source") == "count of ;LAYER_CHANGE lines":
            facts = scan_file(fixture_path(entry)).fields
            assert facts["layer_count"] == entry["expected"]["layer_count"]
            assert facts["max_z"] == pytest.approx(entry["expected"]["max_layer_z"])
            meta = parse(fixture_path(entry))
            assert "layer_count" not in meta.fields or meta.fields["layer_count"] == facts["layer_count"]
            assert merge(meta, scan_file(fixture_path(entry)))["layer_count"] == entry["expected"]["layer_count"]


def test_max_z_ignores_z_hops(tmp_path: Path) -> None:
    gcode = tmp_path / "hops.gcode"
    layers = "".join(f";LAYER_CHANGE\n;Z:{z:.1f}\nG1 Z{z + 0.6:.1f} F600 ; hop\nG1 X1 E1\n" for z in (0.2, 0.4, 0.6))
    gcode.write_text("G28\n" + layers + "G1 Z30 ; park\n")
    facts = scan_file(gcode).fields
    assert facts["layer_count"] == 3 and facts["max_z"] == pytest.approx(0.6)


def test_labelled_objects_and_tool_changes() -> None:
    facts = scan_file(SYNTHETIC / "orcaslicer_mmu_synthetic.gcode").fields
    assert facts["objects"] == ["cube_id_0_copy_0", "cylinder_id_1_copy_0"]
    assert facts["tools"] == [0, 1] and facts["tool_changes"] == 2  # T0 → T1 → T0
    labels = next(e for e in fixture_entries() if e["id"] == "prusa_cube20x4_0.20mm_ASA_labels")
    assert scan_file(fixture_path(labels)).fields["objects"] == [f"cube20.stl id:0 copy {i}" for i in range(4)]


def test_sequential_printing_finds_later_objects(tmp_path: Path) -> None:
    """'Complete objects' printing: object B starts after A is finished (Z goes back down)."""
    def layers(name: str) -> str:
        return "".join(f";LAYER_CHANGE\n;Z:{z / 5:.1f}\n; printing object {name}\nG1 X1 E1\n"
                       f"; stop printing object {name}\n" for z in range(1, 11))
    gcode = tmp_path / "seq.gcode"
    gcode.write_text("G28\n" + layers("A") + layers("B"))
    facts = scan_file(gcode).fields
    assert facts["objects"] == ["A", "B"] and facts["layer_count"] == 20 and facts["max_z"] == 2.0


def test_cura_layers_and_meshes(tmp_path: Path) -> None:
    entry = next(e for e in fixture_entries() if e["id"] == "cura_cube20_0.20mm_ender3")
    facts = scan_file(fixture_path(entry)).fields
    assert facts["layer_count"] == entry["expected"]["layer_count"]
    assert facts["objects"] == [entry["model"]]  # ';MESH:<full path>' → the model's file name


def test_giant_line_is_bounded_and_skipped(tmp_path: Path) -> None:
    gcode = tmp_path / "giant.gcode"
    with gcode.open("wb") as fh:
        fh.write(b"G28\n;LAYER_CHANGE\n;Z:0.2\n")
        fh.write(b";" + b"x" * (8 << 20) + b"\n")  # one 8 MiB comment line
        fh.write(b";LAYER_CHANGE\n;Z:0.4\nG1 X1\n")
    scan = FullScan()
    data = gcode.read_bytes()
    for i in range(0, len(data), 1 << 20):
        scan.feed(data[i:i + (1 << 20)])
        assert len(scan._carry) <= (64 << 10) + 1  # never buffers the whole line
    facts = scan.finish().fields
    assert facts["layer_count"] == 2 and facts["max_z"] == 0.4


def test_empty_and_garbage_never_raise(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gcode"
    empty.write_bytes(b"")
    assert scan_file(empty).fields == {"tool_changes": 0, "tools": [], "size": 0}
    noise = tmp_path / "noise.bin"
    noise.write_bytes(random.Random(1).randbytes(3 << 20))
    assert scan_file(noise).fields["size"] == 3 << 20


def test_bambu_layer_markers() -> None:
    """Bambu Studio marks layers with '; CHANGE_LAYER' and '; Z_HEIGHT:' (synthetic snippet)."""
    path = SYNTHETIC / "bambustudio_synthetic.gcode"
    facts = scan_file(path).fields
    assert facts["layer_count"] == 2 and facts["max_z"] == 15.0
    assert merge(parse(path), scan_file(path))["layer_count"] == 75  # the header's total wins


def test_files_full_of_anchor_bytes_fall_back_and_stay_right(tmp_path: Path) -> None:
    """Underscores on every line (Klipper macros) make the '_' anchor useless: the scan switches
    to the plain search for that marker and still counts every layer, in any chunking."""
    layer = ";LAYER_CHANGE\n;Z:{z}\n" + "SET_GCODE_VARIABLE MACRO=_A_B VARIABLE=x_y VALUE=1\nG1 X1 E1\n" * 200
    data = "".join(layer.format(z=f"{i * 0.2:.1f}") for i in range(1, 41)).encode()
    path = tmp_path / "macros.gcode"
    path.write_bytes(data)
    scan = FullScan()
    scan.feed(data)
    facts = scan.finish().fields
    assert b"\n;LAYER_CHANGE\n;Z:" in scan._dense  # the fallback really ran
    assert facts["layer_count"] == 40 and facts["max_z"] == 8.0
    assert scan_file(path, 4096).fields == facts == _scan_in_pieces(data, [777, 70_001])
