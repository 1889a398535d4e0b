"""Slicers without a real fixture: hand-written SYNTHETIC snippets (see synthetic/README.md).
EXPECTED lists the values written into each snippet; every one must come back."""

from pathlib import Path
from typing import Any

import pytest
from gcodekit import SYNTHETIC

from printstash.gcode import merge, parse, scan_file
from printstash.gcode.startblock import read_start_block

EXPECTED: dict[str, dict[str, Any]] = {
    "bambustudio_synthetic": {
        "slicer": "BambuStudio", "slicer_version": "01.08.04.51", "estimated_time": 3511, "layer_count": 75,
        "filament_total": 3456.78, "filament_weight_total": 10.31, "object_height": 15.0, "nozzle_diameter": 0.4,
        "layer_height": 0.2, "first_layer_height": 0.2, "first_layer_extr_temp": 220, "first_layer_bed_temp": 55,
        "filament_type": "PLA", "filament_name": "Bambu PLA Basic @BBL X1C", "printer_model": "Bambu Lab X1 Carbon",
        "infill": 15, "filament_colors": ["#FF6A13"], "filament_cost": 0.21,
    },
    "orcaslicer_mmu_synthetic": {
        "slicer": "OrcaSlicer", "slicer_version": "2.1.1", "estimated_time": 3723, "layer_count": 40,
        "filament_total": 2000.75, "filament_weights": [3.58, 2.44], "filament_weight_total": 6.02,
        "filament_type": "PLA;PETG", "filament_types": ["PLA", "PETG"],
        "filament_names": ["Generic PLA @System", "Generic PETG @System"], "first_layer_height": 0.25,
        "first_layer_extr_temp": 225, "first_layer_bed_temp": 65, "filament_temps": [220, 240],
        "filament_colors": ["#FF0000", "#00FF00"], "extruder_colors": ["#FF0000", "#00FF00"], "mmu_print": 1,
        "filament_change_count": 3, "printer_model": "Voron 2.4 300", "infill": 25, "filament_cost": 0.13,
        "objects": ["cube_id_0_copy_0", "cylinder_id_1_copy_0"], "object_height": 8.0, "max_z": 8.0,
        "tool_changes": 2, "tools_used": [0, 1],
    },
    "simplify3d_synthetic": {
        "slicer": "Simplify3D", "slicer_version": "4.1.2", "estimated_time": 4980, "filament_total": 4321.5,
        "filament_weight_total": 13.2, "filament_cost": 0.4, "filament_type": "PETG", "nozzle_diameter": 0.5,
        "layer_height": 0.25, "first_layer_height": 0.3, "infill": 30, "object_height": 20.05, "layer_count": 80,
        "first_layer_extr_temp": 235, "first_layer_bed_temp": 75,
    },
    "ideamaker_synthetic": {
        "slicer": "IdeaMaker", "slicer_version": "4.2.1.4530", "estimated_time": 3725, "filament_total": 2345.6,
        "filament_type": "PLA", "filament_name": "Raise3D Premium PLA", "printer_model": "Raise3D Pro2",
        "nozzle_diameter": 0.4, "first_layer_height": 0.3, "layer_height": 0.2, "object_height": 20.1,
        "first_layer_extr_temp": 210, "first_layer_bed_temp": 60, "objects": ["cube"], "layer_count": 3,
        # 2345.6 mm of 1.75 mm filament at 1.24 g/cm3
        "filament_weight_total": 7.0,
    },
    "kisslicer_synthetic": {
        "slicer": "KISSlicer", "slicer_version": "2.0.6", "estimated_time": 2550, "filament_total": 1234.56,
        "nozzle_diameter": 0.4, "layer_height": 0.2, "first_layer_height": 0.3, "object_height": 10.1,
        "first_layer_extr_temp": 215, "first_layer_bed_temp": 65, "chamber_temp": 0,
    },
    "icesl_synthetic": {
        "slicer": "IceSL", "slicer_version": "2.5.2", "estimated_time": 1800, "layer_count": 61,
        "filament_total": 987.6, "filament_weight_total": 2.9, "filament_name": "Generic PLA",
        "filament_type": "PLA", "nozzle_diameter": 0.4, "layer_height": 0.2, "first_layer_height": 0.3,
        "object_height": 12.3, "first_layer_extr_temp": 210, "first_layer_bed_temp": 60, "chamber_temp": 0,
    },
    "kirimoto_synthetic": {
        "slicer": "Kiri:Moto", "slicer_version": "4.1.5", "estimated_time": 1234, "filament_total": 456.7,
        "layer_height": 0.15, "first_layer_height": 0.25, "layer_count": 3, "nozzle_diameter": 0.6,
        "first_layer_extr_temp": 215, "first_layer_bed_temp": 65, "object_height": 0.55,
    },
    "crealityprint4_synthetic": {
        "slicer": "CrealityPrint", "slicer_version": "4.3.7.6627", "estimated_time": 2400, "filament_total": 2500.0,
        "filament_weight_total": 7.45, "filament_type": "PLA", "filament_name": "Hyper PLA",
        "nozzle_diameter": 0.4, "layer_height": 0.16, "first_layer_height": 0.2, "object_height": 25.12,
        "layer_count": 156, "first_layer_extr_temp": 220, "first_layer_bed_temp": 60,
    },
    # Header as CrealityPrint 6.2 writes it (quoted in CrealityOfficial/Creality_Sonic_Pad#133).
    "crealityprint6_synthetic": {
        "slicer": "CrealityPrint", "slicer_version": "6.2.0.2828", "layer_count": 30, "object_height": 6.0,
        "estimated_time": 1213, "filament_total": 321.09, "filament_weight_total": 0.96, "filament_type": "PLA",
        "filament_name": "Hyper PLA", "printer_model": "K1 Max", "first_layer_extr_temp": 220,
        "first_layer_bed_temp": 60, "layer_height": 0.2, "first_layer_height": 0.2, "infill": 15, "max_z": 6.0,
    },
    "unknown_synthetic": {
        "slicer": "Unknown", "first_layer_height": 0.28, "object_height": 9.88, "first_layer_extr_temp": 230,
        "first_layer_bed_temp": 70,
    },
}


def test_every_snippet_has_expectations() -> None:
    assert {p.stem for p in SYNTHETIC.glob("*.gcode")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_snippet_values(name: str) -> None:
    path = SYNTHETIC / f"{name}.gcode"
    meta = parse(path)
    assert meta.errors == []
    fields = merge(meta, scan_file(path))
    for field, want in EXPECTED[name].items():
        got = fields.get(field)
        assert got == (pytest.approx(want) if isinstance(want, float) else want), field


def test_crealityprint5_is_an_orca_fork(tmp_path: Path) -> None:
    """SYNTHETIC: CrealityPrint ≥5 writes Orca's header and config block under its own name."""
    orca = (SYNTHETIC / "orcaslicer_mmu_synthetic.gcode").read_text()
    gcode = tmp_path / "cp5.gcode"
    gcode.write_text(orca.replace("generated by OrcaSlicer 2.1.1", "generated by CrealityPrint 5.1.6.10470"))
    fields = parse(gcode).fields
    assert (fields["slicer"], fields["slicer_version"]) == ("CrealityPrint", "5.1.6.10470")
    assert fields["filament_types"] == ["PLA", "PETG"] and fields["layer_count"] == 40


def test_superslicer_and_first_layer_percentage(tmp_path: Path) -> None:
    """SYNTHETIC: a PrusaSlicer fork, first_layer_height given as a percentage of layer_height."""
    gcode = tmp_path / "ss.gcode"
    gcode.write_text("; generated by SuperSlicer 2.5.59.2 on 2024-01-01 at 10:00:00 UTC\nG28\nG1 X1 E1\n"
                     "; layer_height = 0.2\n; first_layer_height = 150%\n; nozzle_diameter = 0.6\n")
    fields = parse(gcode).fields
    assert fields["slicer"] == "SuperSlicer" and fields["slicer_version"] == "2.5.59.2"
    assert fields["first_layer_height"] == pytest.approx(0.3) and fields["nozzle_diameter"] == 0.6


def test_start_block_uses_gcodeparser_line_by_line() -> None:
    """Lines gcodeparser rejects (M23 file names) or misreads (Klipper commands) do not stop
    the start block; the first non-zero set point of each heater wins."""
    head = ("\n; start\nM23 my file.gcode\nEXCLUDE_OBJECT_START NAME=M3_bolt\nM140 S0\nM140 S65\nM104 S0\n"
            "M104 T0 S215\nM141 S40\nM190 S65\nM109 S215\nG1 X- Y1\n;LAYER_CHANGE\nM104 S230\n")
    block = read_start_block(head)
    assert block.temps == {"bed": 65.0, "extruder": 215.0, "chamber": 40.0}
    assert block.rejected >= 1  # M23 / 'G1 X-' raised inside gcodeparser and were skipped
