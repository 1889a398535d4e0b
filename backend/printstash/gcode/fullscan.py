"""The streaming stage: facts that need the whole file (layer count, max Z from layer comments,
tool changes, labelled objects), over chunks, with bounded memory.

Speed comes from doing as few passes over each chunk as possible, each a memchr-speed
single-byte `find` for a rare byte of a marker (see ANCHORS), verified in place:
- the layer marker of the file's own family is found once per layer; the ';Z:' value is read
  from the few lines right after it (no separate pass for ';Z:');
- the family of layer and object markers is chosen from the first chunk(s) that contain one,
  after which the other families are no longer searched;
- tool changes are searched until the first layer starts, and after it only if the start of
  the print selected a tool (multi-tool prints always do);
- a marker whose anchor byte turns out to be common in a file falls back to a plain
  multi-byte search (still correct, slower);
- labelled objects all start on the first layers, so once no new name has appeared for
  SETTLE_LAYERS layers the object search pauses; it resumes when the layer Z goes down
  (sequential "complete objects" printing starts the next object from the bed).
No chunk is copied: only the line that straddles two chunks is joined (the "seam").

Each layer marker's byte offset (and each tool change's) is recorded on the way: the layer
index of the preview (gcode/layers.py) is built from them without another pass. Offsets are
absolute: every scanned buffer knows where its first byte sits in the file (`base`).
"""

import math
import mmap
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from printstash.gcode.types import FullFacts, LayerMarks

WINDOW = 16 << 20  # scan_file maps this much at a time
Chunk = bytes | bytearray | mmap.mmap  # anything with find/rfind and slicing
MAX_CARRY = 64 << 10  # a longer line is no marker: dropped instead of buffered
MAX_OBJECTS = 500
MAX_MARKS = 200_000  # layers (and tool changes) whose offsets are kept: 20 m of 0.1 mm layers
LOOKAHEAD = 256  # bytes after a layer marker in which its Z comment is looked for
SETTLE_LAYERS = 3
MAX_MARKER = 32  # longer than any marker below
SEAM = LOOKAHEAD + MAX_MARKER  # bytes of the next chunk joined to the carried partial line

# Prusa/Orca (';LAYER_CHANGE' then ';Z:<z>'), Bambu, Cura/ideaMaker. The long Prusa form is
# used when every ';LAYER_CHANGE' of the first chunk is followed by ';Z:': it carries the Z
# value with it (and is the quicker multi-byte search should its anchor fall back).
PRUSA_LAYER_Z = b"\n;LAYER_CHANGE\n;Z:"
LAYER_MARKERS = (b"\n;LAYER_CHANGE", b"\n; CHANGE_LAYER", b"\n;LAYER:")
Z_COMMENTS = (b"\n;Z:", b"\n; Z_HEIGHT:")
OBJECT_MARKERS = (
    b"\n; printing object ",           # PrusaSlicer / SuperSlicer / Orca (label objects)
    b"\nEXCLUDE_OBJECT_START NAME=",   # Klipper exclude_object
    b"\n;MESH:",                       # Cura
    b"\n;PRINTING:",                   # ideaMaker
    b"\nM486 A",                       # Marlin / RepRapFirmware object names
)
TOOL = b"\nT"
# Each marker is found through one rare byte of it (the "anchor"): a single-byte bytes.find is
# memchr, which is vectorised (~30 GB/s here, against 1-4 GB/s for a multi-byte search), and
# the few anchor hits that are not the marker are rejected by an exact-range find. Underscores,
# 'j' and 'H' are rare in G-code bodies, which are digits, spaces, dots and G/X/Y/Z/E/F.
ANCHORS = {
    PRUSA_LAYER_Z: b"_", b"\n;LAYER_CHANGE": b"_", b"\n; CHANGE_LAYER": b"_", b"\n;LAYER:": b"L",
    b"\n; printing object ": b"j", b"\nEXCLUDE_OBJECT_START NAME=": b"_", b"\n;MESH:": b"H",
    b"\n;PRINTING:": b"P", b"\nM486 A": b"A", TOOL: b"T",
}
DENSE = 1 / 256  # more anchor hits per byte than this: use the plain multi-byte search instead
DENSE_MIN_RANGE = 64 << 10  # judged on whole chunks only, never on a seam


class FullScan:
    """Feed every chunk of a file in order (split anywhere), then call finish()."""

    def __init__(self) -> None:
        self._carry = b"\n"  # unprocessed bytes from the previous chunk; always starts at a '\n'
        self._skipping = False  # inside an over-long line
        self._layer_markers: tuple[bytes, ...] = LAYER_MARKERS
        self._object_markers: tuple[bytes, ...] | None = OBJECT_MARKERS
        self._tools_enabled = True  # until the first layer: then only if a tool was selected
        self.bytes_seen = 0
        self.layers = 0
        self.max_z: float | None = None
        self.tools: list[int] = []
        self.tool_changes = 0
        self._tool: int | None = None
        self.objects: dict[str, None] = {}
        self._last_z: float | None = None
        self._new_object_layer = 0  # layer count when the last new object name appeared
        self._dense: set[bytes] = set()  # markers whose anchor byte is too common in this file
        self._carry_end = 0  # file offset just past the carried bytes (the first '\n' is virtual: -1)
        self.marks = LayerMarks()

    def feed(self, chunk: Chunk) -> None:
        base = self.bytes_seen  # file offset of chunk[0]
        self.bytes_seen += len(chunk)
        self._carry_end = self.bytes_seen
        if self._skipping:
            first = chunk.find(b"\n")
            if first < 0:
                return
            self._skipping, self._carry, chunk = False, b"", chunk[first:]
            base += first
        first = chunk.find(b"\n")
        if first < 0 or len(chunk) < first + SEAM:
            self._extend_carry(chunk)  # small chunk: wait for enough bytes to read past the seam
            return
        seam = self._carry + bytes(chunk[: first + SEAM])
        if self._scan(seam, 0, len(self._carry) + first, base - len(self._carry), final=False) is not None:
            self._extend_carry(chunk)  # cannot happen (the seam holds SEAM bytes more); stay safe
            return
        # Markers may span lines: stop at a newline far enough from the end for the longest.
        last = chunk.rfind(b"\n", first, max(first + 1, len(chunk) - MAX_MARKER))
        cut = self._scan(chunk, first, last, base, final=False)
        self._carry = b""
        self._extend_carry(chunk[cut if cut is not None else last:])

    def finish(self) -> FullFacts:
        data = self._carry + b"\n"
        if not self._skipping and len(data) > 2:
            self._scan(data, 0, len(data) - 1, self._carry_end - len(self._carry), final=True)
        self._carry = b"\n"
        return FullFacts(fields=self._fields(), layers=self.marks)

    def _extend_carry(self, data: Chunk) -> None:
        self._carry += data
        if len(self._carry) <= MAX_CARRY:
            return
        last = self._carry.rfind(b"\n", 0, len(self._carry) - SEAM)
        if last > 0:  # complete lines (many tiny chunks): handle them now
            cut = self._scan(self._carry, 0, last, self._carry_end - len(self._carry), final=False)
            self._carry = self._carry[cut if cut is not None else last:]
        if len(self._carry) > MAX_CARRY:  # one giant line: no marker, drop it to its end
            self._carry, self._skipping = b"\n", True

    def _scan(self, data: Chunk, start: int, end: int, base: int, *, final: bool) -> int | None:
        """Handle markers starting in data[start:end] (data[0] is at file offset `base`); return
        the position of the first one that needs bytes beyond `data` (None when all were handled)."""
        cut = self._scan_layers(data, start, end, base, final)
        limit = end if cut is None else cut
        if self._object_markers and not self._objects_settled():
            self._scan_objects(data, start, limit)
        if self._tools_enabled:
            self._scan_tools(data, start, limit, base)
            self._tools_enabled = not self.layers or bool(self.tools)
        return cut

    def _scan_layers(self, data: Chunk, start: int, end: int, base: int, final: bool) -> int | None:
        if len(self._layer_markers) > 1:
            self._choose_layer_marker(data, start, end)
        for marker in self._layer_markers:
            for pos in self._starts(data, marker, start, end):
                if not final and len(data) - pos < LOOKAHEAD + len(marker):
                    return pos  # its Z comment may be in the next chunk
                self.layers += 1
                z = self._layer_z(data, pos + len(marker))
                if len(self.marks.starts) < MAX_MARKS:  # memory stays bounded on a crafted file
                    self.marks.starts.append(base + pos + 1)  # the marker's line, after its '\n'
                    self.marks.zs.append(z)
        return None

    def _choose_layer_marker(self, data: Chunk, start: int, end: int) -> None:
        """Lock onto the file's own layer marker family once one appears."""
        for marker in LAYER_MARKERS:
            count = sum(1 for _ in self._starts(data, marker, start, end))
            if count:
                long_count = sum(1 for _ in self._starts(data, PRUSA_LAYER_Z, start, end))
                same = marker == LAYER_MARKERS[0] and long_count == count
                self._layer_markers = (PRUSA_LAYER_Z if same else marker,)
                return

    def _layer_z(self, data: Chunk, start: int) -> float | None:
        """The layer's Z from its comment (None: the marker has none, Cura's ';LAYER:n')."""
        value = None
        if data[start - 4: start] == b"\n;Z:":  # PRUSA_LAYER_Z: the value follows the marker
            value = _number_at(data, start)
        else:
            for comment in Z_COMMENTS:
                at = data.find(comment, start, start + LOOKAHEAD)
                if at >= 0:
                    value = _number_at(data, at + len(comment))
                    break
        if value is not None:
            self._layer_at(value)
        return value

    def _layer_at(self, z: float) -> None:
        if self.max_z is None or z > self.max_z:
            self.max_z = z
        if self._last_z is not None and z < self._last_z - 1e-6:
            self._new_object_layer = self.layers  # Z went down: the next object may start here
        self._last_z = z

    def _objects_settled(self) -> bool:
        return bool(self.objects) and self.layers - self._new_object_layer >= SETTLE_LAYERS

    def _scan_objects(self, data: Chunk, start: int, end: int) -> None:
        markers = self._object_markers or ()
        for marker in markers:
            for pos in self._starts(data, marker, start, end):
                if len(markers) > 1:
                    self._object_markers = (marker,)
                if len(self.objects) >= MAX_OBJECTS:
                    break
                name = _object_name(marker, _line(data, pos + len(marker)))
                if name and name not in self.objects:
                    self.objects[name] = None
                    self._new_object_layer = self.layers
        if len(markers) > 1 and self.layers >= 2 and not self.objects:
            self._object_markers = None  # two layers without a label: the file has none

    def _scan_tools(self, data: Chunk, start: int, end: int, base: int) -> None:
        for pos in self._starts(data, TOOL, start, end):
            word = _line(data, pos + 2).split(b";")[0].split()
            if word and word[0].isdigit():
                self._select(int(word[0]), base + pos + 1)

    def _select(self, tool: int, offset: int) -> None:
        if tool not in self.tools:
            self.tools.append(tool)
        if self._tool is not None and tool != self._tool:
            self.tool_changes += 1
        if tool != self._tool and len(self.marks.tools) < MAX_MARKS:
            self.marks.tools.append((offset, tool))
        self._tool = tool

    def _starts(self, data: Chunk, marker: bytes, start: int, end: int) -> Iterator[int]:
        """Positions of `marker` that start in data[start:end] (it may run past `end`: multi-line
        markers straddle the last newline of a chunk)."""
        anchor = ANCHORS.get(marker)
        if anchor is None or marker in self._dense:
            yield from _needle_starts(data, marker, start, end)
            return
        off = marker.index(anchor)
        pos, hits = data.find(anchor, start + off, end + off), 0
        while pos >= 0:
            hits += 1
            if data.find(marker, pos - off, pos - off + len(marker)) >= 0:  # (mmap: no startswith)
                yield pos - off
            pos = data.find(anchor, pos + 1, end + off)
        if end - start >= DENSE_MIN_RANGE and hits > (end - start) * DENSE:
            self._dense.add(marker)  # this file uses the anchor byte a lot: stop anchoring

    def _fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"layer_count": self.layers or None, "max_z": self.max_z,
                                  "tool_changes": self.tool_changes, "tools": sorted(self.tools),
                                  "objects": list(self.objects) or None, "size": self.bytes_seen}
        return {k: v for k, v in fields.items() if v is not None}


def _needle_starts(data: Chunk, marker: bytes, start: int, end: int) -> Iterator[int]:
    stop = min(len(data), end + len(marker))
    pos = data.find(marker, start, stop)
    while 0 <= pos < end:
        yield pos
        pos = data.find(marker, pos + 1, stop)


def _line(data: Chunk, start: int) -> bytes:
    stop = data.find(b"\n", start, start + 512)
    return bytes(data[start: stop if stop >= 0 else min(len(data), start + 512)]).strip()


def _number_at(data: Chunk, start: int) -> float | None:
    """The finite number the line at `start` holds, else None. (float() reads the bytes and
    skips the spaces itself: this runs once per layer, 50,000 times in a 500 MB file.)"""
    stop = data.find(b"\n", start, start + 512)
    try:
        value = float(data[start: stop if stop >= 0 else start + 512])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _object_name(marker: bytes, value: bytes) -> str | None:
    text = value.decode("utf-8", "replace").strip()
    if marker.startswith(b"\nEXCLUDE"):
        text = text.split()[0].strip("'\"") if text else ""
    elif marker.startswith(b"\nM486"):
        text = text.split(";")[0].strip().strip("'\"")
    elif marker == b"\n;MESH:":  # Cura writes the model's full path: keep the file name
        text = text.replace("\\", "/").rsplit("/", 1)[-1]
    if not text or text == "NONMESH":
        return None
    return text


def scan_file(path: Path, window: int = WINDOW) -> FullFacts:
    """FullScan over a file on disk (the deferred re-parse job). The file is mapped a window at
    a time and scanned in place: nothing is copied out of the page cache, so the pass costs
    little more than its single-byte searches (a read() into a buffer cost as much as `cat`)."""
    scan = FullScan()
    with path.open("rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        for offset in range(0, size, window):  # windows are multiples of the page size
            length = min(window, size - offset)
            with mmap.mmap(fh.fileno(), length, prot=mmap.PROT_READ, offset=offset) as mapped:
                mapped.madvise(mmap.MADV_SEQUENTIAL)
                scan.feed(mapped)
    return scan.finish()
