"""Field names PrintStash reports, and helpers shared by the slicer dialects.

Moonraker's names (so Fluidd/Mainsail users recognise them):
  slicer, slicer_version, estimated_time (s), filament_total (mm), filament_weight_total (g),
  filament_weights (g per extruder), filament_type, filament_name, nozzle_diameter (mm),
  layer_height, first_layer_height, object_height (mm), layer_count, first_layer_extr_temp,
  first_layer_bed_temp, chamber_temp (°C), filament_colors, extruder_colors, filament_temps,
  filament_change_count, referenced_tools, mmu_print, printer_model, gcode_start_byte,
  gcode_end_byte.
PrintStash's own additions:
  infill (%), filament_cost (the slicer's currency), filament_diameter (mm),
  filament_types / filament_names (real lists for multi-material prints; filament_type keeps a
  single string, ';'-joined when the materials differ — Moonraker returns a JSON string there),
  extruder_temp / bed_temp (°C, after the first layer), estimated_time_silent (s, Prusa
  silent mode), objects (labelled object names), estimated_time_source ("time_elapsed" when a
  raw CuraEngine header held only placeholders and the last ;TIME_ELAPSED was used).
Added by merge() from the full pass (FullScan): max_z (mm, highest ';Z:' layer comment, so
  Z-hops do not count), tool_changes (switches between T<n> tools), tools_used (tool numbers,
  when the header has no referenced_tools); and layer_count / object_height / objects when
  the header does not state them.
"""

import re
from typing import Any

from printstash.gcode.source import Source
from printstash.gcode.values import to_float

MOONRAKER_FIELDS = (
    "slicer", "slicer_version", "estimated_time", "filament_total", "filament_weight_total",
    "filament_weights", "filament_type", "filament_name", "nozzle_diameter", "layer_height",
    "first_layer_height", "object_height", "layer_count", "first_layer_extr_temp",
    "first_layer_bed_temp", "chamber_temp", "filament_colors", "extruder_colors", "filament_temps",
    "filament_change_count", "referenced_tools", "mmu_print", "printer_model",
)
EXTRA_FIELDS = (
    "infill", "filament_cost", "filament_diameter", "filament_types", "filament_names",
    "extruder_temp", "bed_temp", "estimated_time_silent", "objects",
)
# Fields computed by the bounded stage's dialect methods, in this order.
DIALECT_FIELDS = MOONRAKER_FIELDS[2:] + EXTRA_FIELDS

_G1_Z = re.compile(r"\nG[01]\b[^\n;]*?\bZ(-?\d+(?:\.\d*)?)")
_LAYER_Z = re.compile(r"\n;Z(?:_HEIGHT)?:[ \t]*(-?\d+(?:\.\d*)?)")
_OBJECT_DEFINE = re.compile(r"\nEXCLUDE_OBJECT_DEFINE\b[^\n]*?\bNAME=(?:'([^'\n]*)'|\"([^\"\n]*)\"|(\S+))")
MAX_OBJECTS = 500


def floats(pattern: re.Pattern[str], text: str) -> list[float]:
    values = (to_float(v) for v in pattern.findall(text))
    return [v for v in values if v is not None]


def max_layer_z(src: Source) -> float | None:
    """Highest ';Z:' layer comment in the last window (the object's top, not a Z-hop)."""
    values = floats(_LAYER_Z, src.end_text)
    return max(values) if values else None


def max_move_z(src: Source) -> float | None:
    """Highest G0/G1 Z in the last window: the fallback when a slicer writes no layer comment."""
    values = floats(_G1_Z, src.end_text)
    return max(values) if values else None


def min_move_z(src: Source) -> float | None:
    """Lowest positive G0/G1 Z in the head: the first layer's height for unknown slicers."""
    values = [v for v in floats(_G1_Z, src.head) if v > 0]
    return min(values) if values else None


def defined_objects(src: Source) -> list[str] | None:
    """Klipper EXCLUDE_OBJECT_DEFINE names in the head (PrusaSlicer ≥2.6, Orca, Cura plugins)."""
    names: list[str] = []
    for groups in _OBJECT_DEFINE.findall(src.head):
        name = next((g for g in groups if g), "")
        if name and name not in names:
            names.append(name)
        if len(names) >= MAX_OBJECTS:
            break
    return names or None


def prune(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop fields the file did not state (None)."""
    return {k: v for k, v in fields.items() if v is not None}
