"""Golden tests: every fixture in tests/fixtures/gcode, every `expected` value in manifest.json
(the values the slicers themselves printed) matched by the bounded parse + full pass."""

import base64
import hashlib
import math
from pathlib import Path
from typing import Any

import pytest
from gcodekit import fixture_entries, fixture_path

from printstash.gcode import GcodeMetadata, merge, parse, scan_file

# manifest expected key -> PrintStash field (None: checked by a dedicated rule below)
FIELD_OF = {
    "layer_height": "layer_height",
    "first_layer_height": "first_layer_height",
    "nozzle_diameter": "nozzle_diameter",
    "filament_type": "filament_type",
    "filament_diameter": "filament_diameter",
    "first_layer_extruder_temp": "first_layer_extr_temp",
    "first_layer_bed_temp": "first_layer_bed_temp",
    "extruder_temp": "extruder_temp",
    "bed_temp": "bed_temp",
    "estimated_time_normal_s": "estimated_time",
    "estimated_time_silent_s": "estimated_time_silent",
    "estimated_time_s": "estimated_time",
    "filament_used_mm": "filament_total",
    "filament_used_g": "filament_weight_total",
    "total_filament_used_g": "filament_weight_total",
    "filament_cost": "filament_cost",
    "layer_count": "layer_count",
    "max_layer_z": "object_height",
    "max_z": "object_height",
    "slicer_in_file": "slicer",
    "version_in_file": "slicer_version",
    "filament_used_mm_for_2.85mm_filament": "filament_total",
}
# Texts and provenance notes, not values (their parsed forms are checked via FIELD_OF).
NOT_VALUES = {
    "not_in_file", "note", "flavor", "generator_line", "layer_count_source", "first_layer_height_source",
    "estimated_time_normal_text", "estimated_time_silent_text", "estimated_time_text", "filament_used_text",
    "filament_type_note", "nozzle_diameter_note", "nozzle_diameter_setting", "real_header_from_engine_log",
    "header_placeholders", "thumbnails", "last_TIME_ELAPSED_s",
    # volumes: PrintStash reports length and weight; the cm3/mm3 figures are cross-checked below
    "filament_used_cm3", "filament_used_mm3",
}
# Tolerances only where the manifest's own figure is rounded.
TOLERANCE = {"filament_used_mm_for_2.85mm_filament": 0.05 + 1e-6}  # manifest rounds to 0.1 mm


def _final(path: Path) -> tuple[GcodeMetadata, dict[str, Any]]:
    meta = parse(path)
    return meta, merge(meta, scan_file(path))


ENTRIES = fixture_entries()


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_fixture_files_are_the_ones_the_manifest_describes(entry: dict[str, Any]) -> None:
    data = fixture_path(entry).read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size_bytes"], entry["sha256"])
    assert data.count(b"\n") == entry["lines"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_every_expected_value(entry: dict[str, Any]) -> None:
    meta, fields = _final(fixture_path(entry))
    assert meta.errors == []
    expected = entry["expected"]
    unknown = set(expected) - set(FIELD_OF) - NOT_VALUES
    assert not unknown, f"manifest keys this test does not check yet: {unknown}"
    for key, field in FIELD_OF.items():
        if key not in expected or key in expected.get("not_in_file", []):
            continue
        want = expected[key]
        if want is None:
            if key == "estimated_time_s" and expected.get("header_placeholders"):
                continue  # raw Cura header: checked by test_raw_cura_time_from_time_elapsed
            assert field not in fields, (key, fields.get(field))
        elif isinstance(want, str):
            assert fields.get(field) == want, key
        else:
            assert fields.get(field) == pytest.approx(want, abs=TOLERANCE.get(key, 1e-9)), key
    for key in expected.get("not_in_file", []):
        assert FIELD_OF.get(key) not in fields, f"{key} is not in the file but was reported"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_thumbnails_match_manifest(entry: dict[str, Any]) -> None:
    meta = parse(fixture_path(entry))
    want = entry["expected"].get("thumbnails", [])
    got = [(t.width, t.height, len(base64.b64encode(t.data))) for t in meta.thumbnails]
    assert got == [(w["width"], w["height"], w["base64_chars"]) for w in want]
    for thumb in meta.thumbnails:
        assert thumb.format == "png" and thumb.data.startswith(b"\x89PNG\r\n\x1a\n")
        assert thumb.data.endswith(b"IEND\xaeB`\x82")  # complete image, not a truncated prefix
    injected = entry.get("thumbnails_injected", [])
    assert [len(t.data) for t in meta.thumbnails] == [i["png_bytes"] for i in injected]


def test_raw_cura_time_from_time_elapsed() -> None:
    """The raw CuraEngine header says ;TIME:6666 (a placeholder); the real total is the last
    ;TIME_ELAPSED line, which PrintStash reports (rounded to whole seconds)."""
    entry = next(e for e in ENTRIES if e["expected"].get("header_placeholders"))
    _, fields = _final(fixture_path(entry))
    assert entry["expected"]["header_placeholders"]["time"] == "6666"
    assert fields["estimated_time"] == round(entry["expected"]["last_TIME_ELAPSED_s"])
    assert fields["estimated_time_source"] == "time_elapsed"
    placeholder_filament = entry["expected"]["header_placeholders"]["filament_used"]
    assert placeholder_filament == "0m" and "filament_total" not in fields  # 0 m is a placeholder, not a fact
    assert "first_layer_height" not in fields and "object_height" not in fields


@pytest.mark.parametrize("entry", [e for e in ENTRIES if "filament_used_cm3" in e["expected"]
                                   and e["expected"].get("filament_diameter")], ids=lambda e: e["id"])
def test_length_agrees_with_printed_volume(entry: dict[str, Any]) -> None:
    """Cross-check: length * filament cross-section = the volume the slicer printed (cm3, 2 dp)."""
    _, fields = _final(fixture_path(entry))
    area = math.pi * (fields["filament_diameter"] / 2) ** 2
    assert fields["filament_total"] * area / 1000 == pytest.approx(entry["expected"]["filament_used_cm3"], abs=0.06)


def test_griffin_volume_converted_at_2_85_mm() -> None:
    entry = next(e for e in ENTRIES if "filament_used_mm3" in e["expected"])
    _, fields = _final(fixture_path(entry))
    area = math.pi * (2.85 / 2) ** 2
    assert fields["filament_total"] * area == pytest.approx(entry["expected"]["filament_used_mm3"], abs=0.5)
