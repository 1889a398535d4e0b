"""The streaming stage: facts that need the whole file (layer count, max Z, tool changes,
labelled objects), computed over chunks with C-speed bytes searches and bounded memory.

Every marker is searched as '\\n<marker>' so it only matches at a line start. The unprocessed
tail of each chunk (from its last newline on) is carried into the next one, so chunks may be
split anywhere; the carry always starts with '\\n' (the first one is synthetic).
"""

from pathlib import Path
from typing import Any

from printstash.gcode.types import FullFacts
from printstash.gcode.values import to_float

CHUNK_SIZE = 4 << 20
MAX_LINE = 64 << 10  # longer lines are no marker: dropped instead of buffered
MAX_OBJECTS = 500

_LAYER_CHANGE = b"\n;LAYER_CHANGE"
_CURA_LAYER = b"\n;LAYER:"
_LAYER_Z = b"\n;Z:"
# Labelled objects, in the forms slicers and Klipper/Marlin tooling write them.
_OBJECT_MARKERS = (
    b"\n; printing object ",       # PrusaSlicer / SuperSlicer / Orca (gcode_label_objects)
    b"\nEXCLUDE_OBJECT_START NAME=",  # Klipper exclude_object (PrusaSlicer ≥2.6, Orca, Cura plugin)
    b"\n;MESH:",                   # Cura
    b"\nM486 A",                   # Marlin / RepRapFirmware object names
)


class FullScan:
    """Feed every chunk of a file in order, then call finish()."""

    def __init__(self) -> None:
        self._carry = b"\n"
        self._skip_line = False
        self.bytes_seen = 0
        self.layer_changes = 0
        self.cura_layers = 0
        self.max_z: float | None = None
        self.tools: list[int] = []
        self.tool_changes = 0
        self._current_tool: int | None = None
        self.objects: dict[str, None] = {}

    def feed(self, chunk: bytes) -> None:
        self.bytes_seen += len(chunk)
        if self._skip_line:
            cut = chunk.find(b"\n")
            if cut < 0:
                return
            chunk, self._skip_line = chunk[cut:], False
            self._carry = b""
        data = self._carry + chunk
        cut = data.rfind(b"\n")
        if cut <= 0:
            self._carry = data
            if len(data) > MAX_LINE:
                self._carry, self._skip_line = b"\n", True
            return
        self._scan(data, cut)
        self._carry = data[cut:]
        if len(self._carry) > MAX_LINE:
            self._carry, self._skip_line = b"\n", True

    def finish(self) -> FullFacts:
        if len(self._carry) > 1:
            data = self._carry + b"\n"
            self._scan(data, len(data) - 1)
        self._carry = b"\n"
        return FullFacts(fields=self._fields())

    def _scan(self, data: bytes, end: int) -> None:
        """Count the markers of the complete lines in data[:end] (data[end] is a newline)."""
        self.layer_changes += data.count(_LAYER_CHANGE, 0, end)
        self.cura_layers += data.count(_CURA_LAYER, 0, end)
        self._scan_z(data, end)
        self._scan_tools(data, end)
        if len(self.objects) < MAX_OBJECTS:
            for marker in _OBJECT_MARKERS:
                self._scan_objects(data, end, marker)

    def _scan_z(self, data: bytes, end: int) -> None:
        pos = data.find(_LAYER_Z, 0, end)
        while pos >= 0:
            value = to_float(_line_value(data, pos + len(_LAYER_Z)).decode("ascii", "replace"))
            if value is not None and (self.max_z is None or value > self.max_z):
                self.max_z = value
            pos = data.find(_LAYER_Z, pos + 1, end)

    def _scan_tools(self, data: bytes, end: int) -> None:
        pos = data.find(b"\nT", 0, end)
        while pos >= 0:
            word = _line_value(data, pos + 2).split(b";")[0].split()
            if word and word[0].isdigit():
                self._tool(int(word[0]))
            pos = data.find(b"\nT", pos + 1, end)

    def _tool(self, tool: int) -> None:
        if tool not in self.tools:
            self.tools.append(tool)
        if self._current_tool is not None and tool != self._current_tool:
            self.tool_changes += 1
        self._current_tool = tool

    def _scan_objects(self, data: bytes, end: int, marker: bytes) -> None:
        pos = data.find(marker, 0, end)
        while pos >= 0 and len(self.objects) < MAX_OBJECTS:
            name = _object_name(marker, _line_value(data, pos + len(marker)))
            if name:
                self.objects.setdefault(name, None)
            pos = data.find(marker, pos + 1, end)

    def _fields(self) -> dict[str, Any]:
        layers = self.layer_changes or self.cura_layers or None
        fields: dict[str, Any] = {"layer_count": layers, "max_z": self.max_z,
                                  "tool_changes": self.tool_changes, "tools": sorted(self.tools),
                                  "objects": list(self.objects) or None, "size": self.bytes_seen}
        return {k: v for k, v in fields.items() if v is not None}


def _line_value(data: bytes, start: int) -> bytes:
    stop = data.find(b"\n", start)
    return data[start: stop if stop >= 0 else len(data)][:512].strip()


def _object_name(marker: bytes, value: bytes) -> str | None:
    text = value.decode("utf-8", "replace").strip()
    if marker.startswith(b"\nEXCLUDE"):
        text = text.split()[0].strip("'\"") if text else ""
    elif marker.startswith(b"\nM486"):
        text = text.split(";")[0].strip().strip("'\"")
    if not text or text == "NONMESH":
        return None
    return text


def scan_file(path: Path, chunk_size: int = CHUNK_SIZE) -> FullFacts:
    """FullScan over a file on disk (the deferred re-parse job), chunk by chunk."""
    scan = FullScan()
    with path.open("rb", buffering=0) as fh:
        while chunk := fh.read(chunk_size):
            scan.feed(chunk)
    return scan.finish()
