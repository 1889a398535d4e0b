"""Dialects of the slicers that do not use PrusaSlicer's '; key = value' config block.

Cura (Marlin, Griffin, UltiGCode and the raw engine header), Simplify3D, IdeaMaker, KISSlicer,
IceSL, Kiri:Moto and the Cura-based CrealityPrint (≤4). Formats follow each slicer's own
output; the ones with no real fixture are covered by labelled synthetic snippets in tests.
"""

import math
import re

from printstash.gcode.dialects import Ctx, Dialect
from printstash.gcode.values import clean_str, duration_s, first_float, float_list, to_float

_NUM = r"(-?\d+(?:\.\d*)?(?:[eE][+\-]?\d+)?)"
# The raw CuraEngine CLI writes its header before slicing: MIN*/MAX* hold ±2^31/1000 and
# ;TIME:6666 / ;Filament used: 0m are placeholders the front end normally replaces.
_CURA_PLACEHOLDER = re.compile(r"\n;MIN[XYZ]:2\.14748e\+0?6")
ULTIMAKER_FILAMENT_DIAMETER = 2.85  # Ultimaker printers (Griffin, UltiGCode): the header gives volume, not length


def _re(pattern: str) -> re.Pattern[str]:
    """Line-anchored pattern: a leading '^' becomes a literal '\\n' (Source texts start with one),
    which lets the regex engine jump between candidates instead of trying every position."""
    return re.compile("\n" + pattern[1:] if pattern.startswith("^") else pattern, re.MULTILINE)


def _int(text: str | None) -> int | None:
    value = to_float(text)
    return int(value) if value is not None else None


class Cura(Dialect):
    name = "Cura"
    _ID = _re(r"^;Generated with Cura_SteamEngine (\S+)")
    _GRIFFIN_VERSION = _re(r"^;GENERATOR\.VERSION:(\S+)")
    _TIME = _re(r"^;TIME:" + _NUM + r"[ \t]*$")
    _PRINT_TIME = _re(r"^;PRINT\.TIME:" + _NUM)
    _ELAPSED = _re(r"^;TIME_ELAPSED:" + _NUM)
    _FILAMENT = _re(r"^;Filament used:[ \t]*([^\n]*)")
    # Each extruder's filament volume in mm3: Griffin's header, and UltiGCode's (Ultimaker 2:
    # ';MATERIAL:' for the first extruder, ';MATERIAL2:' for the second).
    _VOLUME = _re(r"^;(?:EXTRUDER_TRAIN\.\d+\.MATERIAL\.VOLUME_USED|MATERIAL2?):" + _NUM)
    _LAYER_HEIGHT = _re(r"^;Layer height:[ \t]*" + _NUM)
    _MINZ = _re(r"^;MINZ:" + _NUM)
    _MAXZ = _re(r"^;(?:MAXZ|PRINT\.SIZE\.MAX\.Z):" + _NUM)
    _LAYERS = _re(r"^;LAYER_COUNT:(\d+)")
    _NOZZLE = _re(r"^;(?:EXTRUDER_TRAIN\.0\.NOZZLE\.DIAMETER|NOZZLE_DIAMETER):" + _NUM)  # Griffin, UltiGCode
    _INITIAL_EXTR = _re(r"^;EXTRUDER_TRAIN\.0\.INITIAL_TEMPERATURE:" + _NUM)
    _INITIAL_BED = _re(r"^;BUILD_PLATE\.INITIAL_TEMPERATURE:" + _NUM)
    _MACHINE = _re(r"^;TARGET_MACHINE\.NAME:([^\n]+)")
    _SETTINGS = _re(r"^;SETTING_3 ([^\n]*)")
    # Comment lines some Cura start-gcode templates and forks add (';Nozzle diameter = 0.4').
    _NOZZLE_NOTE = _re(r"^;Nozzle diameter = " + _NUM)
    _TYPE_NOTE = _re(r"^;Filament type = ([^\n]+)")
    _NAME_NOTE = _re(r"^;Filament name = ([^\n]+)")
    _WEIGHT_NOTE = _re(r"^;Filament weight = \[?([^\]\n]*)")

    def identify(self, head: str) -> tuple[str, str | None] | None:
        match = self._ID.search(head) or (self._GRIFFIN_VERSION.search(head) if "Cura_SteamEngine" in head else None)
        return (self.name, match.group(1)) if match else None

    def raw_header(self, ctx: Ctx) -> bool:
        return _CURA_PLACEHOLDER.search(ctx.src.head) is not None

    def estimated_time(self, ctx: Ctx) -> int | None:
        if self.raw_header(ctx):
            return duration_s(ctx.src.last(self._ELAPSED))
        return duration_s(ctx.src.first(self._TIME) or ctx.src.first(self._PRINT_TIME))

    def estimated_time_source(self, ctx: Ctx) -> str | None:
        return "time_elapsed" if self.raw_header(ctx) and self.estimated_time(ctx) is not None else None

    def filament_total(self, ctx: Ctx) -> float | None:
        text = ctx.src.first(self._FILAMENT)
        metres = float_list(text.replace("m", "") if text else None)
        if self.raw_header(ctx):
            return None  # ';Filament used: 0m', ';MATERIAL:6666': placeholders
        if metres:
            return round(sum(metres) * 1000, 4)
        volumes = [v for v in (to_float(x) for x in self._VOLUME.findall(ctx.src.head)) if v is not None]
        area = math.pi * (ULTIMAKER_FILAMENT_DIAMETER / 2) ** 2
        return round(sum(volumes) / area, 2) if volumes else None

    def layer_height(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.first(self._LAYER_HEIGHT)) or to_float(self.setting(ctx, "layer_height"))

    def first_layer_height(self, ctx: Ctx) -> float | None:
        if not self.raw_header(ctx):
            value = to_float(ctx.src.first(self._MINZ))
            if value is not None:
                return value
        return to_float(self.setting(ctx, "layer_height_0"))

    def object_height(self, ctx: Ctx) -> float | None:
        return None if self.raw_header(ctx) else to_float(ctx.src.first(self._MAXZ))

    def layer_count(self, ctx: Ctx) -> int | None:
        return _int(ctx.src.first(self._LAYERS))

    def nozzle_diameter(self, ctx: Ctx) -> float | None:
        src = ctx.src
        found = src.first(self._NOZZLE) or src.first(self._NOZZLE_NOTE) or self.setting(ctx, "machine_nozzle_size")
        return to_float(found)

    def filament_weight_total(self, ctx: Ctx) -> float | None:
        weights = float_list(ctx.src.first(self._WEIGHT_NOTE))
        return round(sum(weights), 4) if weights else None

    def filament_name(self, ctx: Ctx) -> str | None:
        return clean_str(ctx.src.first(self._NAME_NOTE))

    def first_layer_extr_temp(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.first(self._INITIAL_EXTR))
        return value if value is not None else super().first_layer_extr_temp(ctx)

    def first_layer_bed_temp(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.first(self._INITIAL_BED))
        return value if value is not None else super().first_layer_bed_temp(ctx)

    def printer_model(self, ctx: Ctx) -> str | None:
        return clean_str(ctx.src.first(self._MACHINE))

    def filament_type(self, ctx: Ctx) -> str | None:
        return clean_str(ctx.src.first(self._TYPE_NOTE) or self.setting(ctx, "material_type"))

    def filament_diameter(self, ctx: Ctx) -> float | None:
        return to_float(self.setting(ctx, "material_diameter"))

    def infill(self, ctx: Ctx) -> float | None:
        return to_float(self.setting(ctx, "infill_sparse_density"))

    def setting(self, ctx: Ctx, key: str) -> str | None:
        """A value from the ';SETTING_3' footer Cura's front end appends (JSON with '\\n')."""
        blob = "".join(self._SETTINGS.findall(ctx.src.end_text))
        match = re.search(r"(?:\\n|\")" + re.escape(key) + r" = ([^\\\"]*)", blob)
        return match.group(1) if match else None


class CrealityPrintCura(Cura):
    """CrealityPrint ≤4 is a Cura fork: Cura's header under Creality's name."""

    name = "CrealityPrint"
    _CREALITY = _re(r"^;[ \t]*(?:Generated with )?Creality[ _]?Print[^\d\n]*(\d[\w.\-]*)")

    def identify(self, head: str) -> tuple[str, str | None] | None:
        match = self._CREALITY.search(head)
        return (self.name, match.group(1)) if match and ";TIME:" in head else None


class Simplify3D(Dialect):
    name = "Simplify3D"
    _ID = _re(r"^;[ \t]*G-Code generated by Simplify3D\(R\) Version (\S+)")
    _SETTING = _re(r"^;[ \t]+(\w+),([^\n]*)")
    _TIME = _re(r"^;[ \t]*Build [Tt]ime:[ \t]*([^\n]+)")
    _LENGTH = _re(r"^;[ \t]*(?:Filament length|Material Length):[ \t]*" + _NUM + " mm")
    _WEIGHT = _re(r"^;[ \t]*(?:Plastic weight|Material Weight):[ \t]*" + _NUM + " g")
    _COST = _re(r"^;[ \t]*Material cost:[ \t]*" + _NUM)
    _LAYER = _re(r"^; layer (\d+), Z = " + _NUM)

    def identify(self, head: str) -> tuple[str, str | None] | None:
        match = self._ID.search(head)
        return (self.name, match.group(1)) if match else None

    def setting(self, ctx: Ctx, key: str) -> str | None:
        """A '   key,value' line of the Settings Summary (head; v5 also repeats it at the end)."""
        return dict(self._SETTING.findall(ctx.src.text)).get(key)

    def estimated_time(self, ctx: Ctx) -> int | None:
        return duration_s(ctx.src.last(self._TIME))

    def filament_total(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.last(self._LENGTH))

    def filament_weight_total(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.last(self._WEIGHT))

    def filament_cost(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.last(self._COST))

    def filament_type(self, ctx: Ctx) -> str | None:
        return clean_str(self.setting(ctx, "printMaterial") or self.setting(ctx, "makerBotModelMaterial"))

    def filament_name(self, ctx: Ctx) -> str | None:
        return self.filament_type(ctx)  # S3D has one material label; Moonraker reports it as the name

    def nozzle_diameter(self, ctx: Ctx) -> float | None:
        return first_float(self.setting(ctx, "extruderDiameter") or self.setting(ctx, "nozzleDiameter"))

    def filament_diameter(self, ctx: Ctx) -> float | None:
        return first_float(self.setting(ctx, "filamentDiameters"))

    def layer_height(self, ctx: Ctx) -> float | None:
        return to_float(self.setting(ctx, "layerHeight"))

    def first_layer_height(self, ctx: Ctx) -> float | None:
        layer, percent = self.layer_height(ctx), first_float(self.setting(ctx, "firstLayerHeightPercentage"))
        return round(layer * percent / 100, 4) if layer and percent else super().first_layer_height(ctx)

    def infill(self, ctx: Ctx) -> float | None:
        return to_float(self.setting(ctx, "infillPercentage"))

    def object_height(self, ctx: Ctx) -> float | None:
        zs = [to_float(z) for _, z in self._LAYER.findall(ctx.src.end_text)]
        value = max((z for z in zs if z is not None), default=None)
        return value if value is not None else super().object_height(ctx)

    def layer_count(self, ctx: Ctx) -> int | None:
        layers = self._LAYER.findall(ctx.src.end_text)
        return int(layers[-1][0]) if layers else None


class IdeaMaker(Dialect):
    name = "IdeaMaker"
    _ID = _re(r"^;Sliced by ideaMaker[ \t]*([\w.]+?),")
    _TIME = _re(r"^;Print Time:[ \t]*" + _NUM)
    _USED = _re(r"^;Material#\d+ Used:[ \t]*" + _NUM)
    _NOZZLE = _re(r"^;Dimension:(?:[ \t]+[\d.]+){3}[ \t]+([\d.]+)")
    _TYPE = _re(r"^;Filament (?:Type #1:|type =)[ \t]*([^\n]+)")
    _NAME = _re(r"^;Filament (?:Name #1:|name =)[ \t]*([^\n]+)")
    _DIAMETER = _re(r"^;Filament Diameter #1:[ \t]*" + _NUM)
    _DENSITY = _re(r"^;Filament Density #1:[ \t]*" + _NUM)
    _MACHINE = _re(r"^;Machine Name:[ \t]*([^\n]+)")
    _FIRST_HEIGHT = _re(r"^;LAYER:0[ \t]*\n(?:;[^\n]*\n)*?;HEIGHT:" + _NUM)
    _SECOND_HEIGHT = _re(r"^;LAYER:1[ \t]*\n(?:;[^\n]*\n)*?;HEIGHT:" + _NUM)
    _TOP = _re(r"^;Bounding Box:[^\n]*?" + _NUM + r"[ \t]*$")
    _OBJECTS = _re(r"^;PRINTING:[ \t]*([^\n]+)")
    _FIRST_TEMP = _re(r"^M109 T0 S" + _NUM)

    def identify(self, head: str) -> tuple[str, str | None] | None:
        match = self._ID.search(head)
        return (self.name, match.group(1)) if match else None

    def estimated_time(self, ctx: Ctx) -> int | None:
        return duration_s(ctx.src.last(self._TIME) or ctx.src.first(self._TIME))

    def filament_total(self, ctx: Ctx) -> float | None:
        used = [v for v in (to_float(x) for x in self._USED.findall(ctx.src.end_text)) if v is not None]
        return round(sum(used), 4) if used else None

    def filament_weight_total(self, ctx: Ctx) -> float | None:
        """Length * cross-section * density: ideaMaker prints the three, not the weight."""
        length, diameter = self.filament_total(ctx), to_float(ctx.src.first(self._DIAMETER))
        density = to_float(ctx.src.first(self._DENSITY))
        if not (length and diameter and density):
            return None
        return round(length * math.pi * (diameter / 2) ** 2 * density / 1000, 2)

    def filament_diameter(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.first(self._DIAMETER))

    def nozzle_diameter(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.first(self._NOZZLE))

    def filament_type(self, ctx: Ctx) -> str | None:
        return clean_str(ctx.src.first(self._TYPE))

    def filament_name(self, ctx: Ctx) -> str | None:
        return clean_str(ctx.src.first(self._NAME))

    def printer_model(self, ctx: Ctx) -> str | None:
        return clean_str(ctx.src.first(self._MACHINE))

    def first_layer_height(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.first(self._FIRST_HEIGHT))
        return value if value is not None else super().first_layer_height(ctx)

    def layer_height(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.first(self._SECOND_HEIGHT))

    def object_height(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.first(self._TOP))
        return value if value is not None else super().object_height(ctx)

    def first_layer_extr_temp(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.first(self._FIRST_TEMP))
        return value if value is not None else super().first_layer_extr_temp(ctx)

    def objects(self, ctx: Ctx) -> list[str] | None:
        names = list(dict.fromkeys(n.strip() for n in self._OBJECTS.findall(ctx.src.head)))
        value = names[:500] or None
        return value if value is not None else super().objects(ctx)


class KISSlicer(Dialect):
    name = "KISSlicer"
    _ID = _re(r"^; KISSlicer")
    _VERSION = _re(r"^; version[ \t]+(?:\d+ a )?(\S+)")
    _TIME = _re(r"^; Calculated[^\n]*Build Time:[ \t]*" + _NUM + " minutes")
    _EXT = _re(r"^;[ \t]*Ext #?\d+[ \t]*=[ \t]*" + _NUM + r"[ \t]*mm")
    _TOP = _re(r"^; END_LAYER_OBJECT z=" + _NUM)

    def identify(self, head: str) -> tuple[str, str | None] | None:
        if not self._ID.search(head):
            return None
        version = self._VERSION.search(head)
        return (self.name, version.group(1) if version else None)

    def estimated_time(self, ctx: Ctx) -> int | None:
        minutes = to_float(ctx.src.last(self._TIME))
        return round(minutes * 60) if minutes is not None else None

    def filament_total(self, ctx: Ctx) -> float | None:
        values = [v for v in (to_float(x) for x in self._EXT.findall(ctx.src.end_text)) if v is not None]
        return round(sum(values), 4) if values else None

    def layer_height(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.key("max_layer_thickness_mm", "layer_thickness_mm"))

    def first_layer_height(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.key("first_layer_thickness_mm"))
        return value if value is not None else super().first_layer_height(ctx)

    def object_height(self, ctx: Ctx) -> float | None:
        tops = [v for v in (to_float(x) for x in self._TOP.findall(ctx.src.end_text)) if v is not None]
        return max(tops) if tops else super().object_height(ctx)

    def nozzle_diameter(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.key("nozzle_dia_1", "nozzle_dia"))

    def first_layer_extr_temp(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.key("first_layer_C"))
        return value if value is not None else super().first_layer_extr_temp(ctx)

    def first_layer_bed_temp(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.key("bed_C"))
        return value if value is not None else super().first_layer_bed_temp(ctx)

    def chamber_temp(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.key("chamber_C"))
        return value if value is not None else super().chamber_temp(ctx)


class IceSL(Dialect):
    """IceSL: '<IceSL version>' and '; key :  value' settings in the header."""

    name = "IceSL"
    _ID = _re(r"<IceSL[ \t]+([^>\n]*)>")
    _SETTING = _re(r"^;[ \t]*(\w+)[ \t]+:[ \t]+([^\n]*)")

    def identify(self, head: str) -> tuple[str, str | None] | None:
        match = self._ID.search(head)
        return (self.name, match.group(1).strip()) if match else None

    def setting(self, ctx: Ctx, key: str) -> str | None:
        return dict(self._SETTING.findall(ctx.src.head)).get(key)

    def number(self, ctx: Ctx, key: str) -> float | None:
        return to_float(self.setting(ctx, key))

    def layer_height(self, ctx: Ctx) -> float | None:
        return self.number(ctx, "z_layer_height_mm")

    def first_layer_height(self, ctx: Ctx) -> float | None:
        value = self.number(ctx, "z_layer_height_first_layer_mm")
        return value if value is not None else super().first_layer_height(ctx)

    def object_height(self, ctx: Ctx) -> float | None:
        value = self.number(ctx, "print_height_mm")
        return value if value is not None else super().object_height(ctx)

    def nozzle_diameter(self, ctx: Ctx) -> float | None:
        return self.number(ctx, "nozzle_diameter_mm_0")

    def filament_diameter(self, ctx: Ctx) -> float | None:
        return self.number(ctx, "filament_diameter_mm_0")

    def first_layer_extr_temp(self, ctx: Ctx) -> float | None:
        value = self.number(ctx, "extruder_temp_degree_c_0")
        return value if value is not None else super().first_layer_extr_temp(ctx)

    def first_layer_bed_temp(self, ctx: Ctx) -> float | None:
        value = self.number(ctx, "bed_temp_degree_c")
        return value if value is not None else super().first_layer_bed_temp(ctx)

    def chamber_temp(self, ctx: Ctx) -> float | None:
        value = self.number(ctx, "chamber_temp_degree_c")
        return value if value is not None else super().chamber_temp(ctx)

    def filament_total(self, ctx: Ctx) -> float | None:
        return self.number(ctx, "filament_used_mm")

    def filament_weight_total(self, ctx: Ctx) -> float | None:
        return self.number(ctx, "filament_used_g")

    def filament_name(self, ctx: Ctx) -> str | None:
        return clean_str(self.setting(ctx, "filament_name"))

    def filament_type(self, ctx: Ctx) -> str | None:
        return clean_str(self.setting(ctx, "filament_type"))

    def estimated_time(self, ctx: Ctx) -> int | None:
        return duration_s(self.setting(ctx, "estimated_print_time_s"))

    def layer_count(self, ctx: Ctx) -> int | None:
        value = _int(self.setting(ctx, "layer_count"))
        return value if value is not None else super().layer_count(ctx)


class KiriMoto(Dialect):
    name = "Kiri:Moto"
    _ID = _re(r"^; Generated by Kiri:Moto(?: \(SimplyPrint\))?[ \t]*(\S+)?")
    _TIME = _re(r"^; --- print time: " + _NUM + "s")
    _USED = _re(r"^; --- filament used: " + _NUM + " mm")
    _LAYER = _re(r"^;; --- layer (\d+) \(")
    _NOZZLE = re.compile(r"\"extNozzle\":" + _NUM)

    def identify(self, head: str) -> tuple[str, str | None] | None:
        match = self._ID.search(head)
        return (self.name, match.group(1)) if match else None

    def estimated_time(self, ctx: Ctx) -> int | None:
        return duration_s(ctx.src.last(self._TIME) or ctx.src.first(self._TIME))

    def filament_total(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.last(self._USED) or ctx.src.first(self._USED))

    def layer_height(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.key("sliceHeight"))

    def first_layer_height(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.key("firstSliceHeight"))
        return value if value is not None else super().first_layer_height(ctx)

    def layer_count(self, ctx: Ctx) -> int | None:
        last = ctx.src.last(self._LAYER)
        return int(last) + 1 if last is not None else super().layer_count(ctx)

    def nozzle_diameter(self, ctx: Ctx) -> float | None:
        return to_float(ctx.src.first(self._NOZZLE))

    def first_layer_extr_temp(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.key("firstLayerNozzleTemp", "outputTemp"))
        return value if value is not None else super().first_layer_extr_temp(ctx)

    def first_layer_bed_temp(self, ctx: Ctx) -> float | None:
        value = to_float(ctx.src.key("firstLayerBedTemp", "outputBedTemp"))
        return value if value is not None else super().first_layer_bed_temp(ctx)
