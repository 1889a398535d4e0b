"""The layer index of a plain G-code (each layer's byte range, Z and starting tool) and the
moves of one layer.

The index comes from the full-file pass's marks (gcode/fullscan.py records each layer
marker's offset on its way through the file), so building it reads only a few bytes per layer;
a file without layer comments is read once more and split at the Z of its extruding moves
(gcode/moves.py z_layers). A layer runs from its marker line to the next layer's, the last
to the end of the file. Layers a slicer declares but does not write (Cura's ';LAYER_COUNT:249'
above a cone's tip that has nothing printable left) are added on top as empty layers
(padded), so the index, the file's metadata and a printer's "layer N of M" agree.
Stored as a small binary blob (to_bytes/from_bytes): header "PSLI", version, flags, count;
then per layer uint64 start, uint64 end, float32 z, uint16 tool (little-endian).
"""

import mmap
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

from printstash.gcode.moves import MAX_COORD, MoveState, segments, state_before, z_layers
from printstash.gcode.types import LayerMarks
from printstash.gcode.values import to_float

MAGIC, VERSION = b"PSLI", 1
_HEADER = struct.Struct("<4sHBxI")  # magic, version, flags, layer count
_LAYER = struct.Struct("<QQfH2x")  # start, end, z, tool
RELATIVE_E = 1  # flag: the first layer starts in M83 (relative extrusion) mode
HEAD_LOOKBACK = 4 << 20  # where the start G-code's M82/M83 is looked for, before the first layer
Z_LOOKAHEAD = 64 << 10  # a layer without a Z comment: its first Z move is looked for this far
STATE_LOOKBACK = 2 << 20  # at most this much before a layer is read to learn its starting state
# A move with X or Y that extrudes (E not negative), and a move's Z word.
_EXTRUDING_MOVE = re.compile(rb"\n[ \t]*G[0-3][ \t][^\n;]*[XY][^\n;]*E\.?\d")
_Z_MOVE = re.compile(rb"[ \t]*G[0-3][ \t][^\n;]*?Z(-?\d+(?:\.\d*)?|-?\.\d+)")

Read = Callable[[int, int], bytes]  # plain G-code bytes [start, end)


class Layer(NamedTuple):  # one layer of a LayerIndex, as its readers see it
    start: int  # offset of the layer's first byte in the plain G-code
    end: int  # offset just past its last byte
    z: float
    tool: int  # the tool selected when the layer starts


@dataclass(frozen=True, eq=False)
class LayerIndex:
    """Held as columns: an upload builds it from the full pass's marks and writes it out without
    a Python object per layer (50,000 Layer tuples and their packing took 0.05-0.09 s of a 500 MB
    upload, bench/ingest/bench_upload.py); `layers` makes the tuples when a reader asks. The
    columns are lists or tuples depending on where the index came from, so no field-wise `==`
    (it would call equal indexes different) and no field-wise hash (lists have none)."""

    starts: Sequence[int]
    ends: Sequence[int]
    zs: Sequence[float]
    tools: Sequence[int]
    relative_e: bool  # the extrusion mode (M83) the first layer starts in

    @classmethod
    def of(cls, layers: Sequence[Layer], relative_e: bool) -> "LayerIndex":
        starts, ends, zs, tools = zip(*layers, strict=True) if layers else ((), (), (), ())
        return cls(starts, ends, zs, tools, relative_e)

    @cached_property
    def layers(self) -> tuple[Layer, ...]:
        return tuple(map(Layer, self.starts, self.ends, self.zs, self.tools))

    def __len__(self) -> int:
        return len(self.starts)

    def layer(self, number: int) -> Layer:
        return Layer(self.starts[number], self.ends[number], self.zs[number], self.tools[number])

    def to_bytes(self) -> bytes:
        head = _HEADER.pack(MAGIC, VERSION, RELATIVE_E if self.relative_e else 0, len(self))
        return head + b"".join(map(_LAYER.pack, self.starts, self.ends, self.zs, self.tools))

    @classmethod
    def from_bytes(cls, data: bytes) -> "LayerIndex":
        """Raises ValueError for anything but an index this version wrote."""
        if len(data) < _HEADER.size:
            raise ValueError("layer index too short")
        magic, version, flags, count = _HEADER.unpack_from(data)
        if magic != MAGIC or version != VERSION or len(data) != _HEADER.size + count * _LAYER.size:
            raise ValueError("not a layer index of this version")
        rows = _LAYER.iter_unpack(memoryview(data)[_HEADER.size:])
        starts, ends, zs, tools = zip(*rows, strict=True) if count else ((), (), (), ())
        return cls(starts, ends, zs, tools, bool(flags & RELATIVE_E))


def build_index(path: Path, marks: LayerMarks | None) -> LayerIndex:
    """The index of the plain G-code at `path`, from the full pass's marks (None or no layer
    marks: layers from Z changes, which reads the file once more)."""
    if path.stat().st_size == 0:
        return LayerIndex((), (), (), (), False)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ) as data:
        return index_of(data, marks)


def index_of(data: bytes | mmap.mmap, marks: LayerMarks | None) -> LayerIndex:
    if marks is not None and marks.starts:
        starts, zs = marks.starts, _zs(data, marks)
    else:
        found = z_layers(data)  # type: ignore[arg-type]  # mmap reads like bytes here
        starts, zs = [start for start, _ in found], [z for _, z in found]
    ends = [*starts[1:], len(data)]
    tools = _tools_at(marks.tools if marks is not None else [], starts)
    return LayerIndex(starts, ends, zs, tools, _relative_e(data, starts[0] if starts else len(data)))


def padded(index: LayerIndex, declared: int | None, layer_height: float | None) -> LayerIndex:
    """`index` with the layers the file declares (its metadata's layer_count) but did not write
    added on top: empty byte ranges at the file's end, Z going on by `layer_height` (else the
    last step the file took). Only up to as many again as it wrote: a count far above that is
    not believed, and an index stays a few bytes per real layer."""
    written = len(index)
    missing = (declared or 0) - written
    if not written or missing <= 0 or missing > written:
        return index
    step = layer_height if layer_height and layer_height > 0 else _last_step(index.zs)
    if step <= 0:
        return index
    end, z, tool = index.ends[-1], index.zs[-1], index.tools[-1]
    return LayerIndex([*index.starts, *repeat(end, missing)], [*index.ends, *repeat(end, missing)],
                      [*index.zs, *(z + step * k for k in range(1, missing + 1))],
                      [*index.tools, *repeat(tool, missing)], index.relative_e)


def _last_step(zs: Sequence[float]) -> float:
    return zs[-1] - zs[-2] if len(zs) > 1 else 0.0


def _zs(data: bytes | mmap.mmap, marks: LayerMarks) -> list[float]:
    """Each marked layer's Z: its comment's, else the height of its first extrusion (Cura moves
    to the next layer's Z before writing its ';LAYER:n'), else the layer before's."""
    stated = [z for z in marks.zs if z is not None and abs(z) < MAX_COORD]
    if len(stated) == len(marks.zs):
        return stated  # every comment stated a usable Z: nothing to look up
    zs: list[float] = []
    ends = [*marks.starts[1:], len(data)]
    for start, end, z in zip(marks.starts, ends, marks.zs, strict=True):
        if z is None:
            extrusion = _EXTRUDING_MOVE.search(data, max(start - 1, 0), min(end, start + Z_LOOKAHEAD))
            z = _z_before(data, max(0, start - STATE_LOOKBACK), extrusion.end() if extrusion else start)
        usable = z is not None and abs(z) < MAX_COORD  # a float32 must hold it
        zs.append(z if usable and z is not None else (zs[-1] if zs else 0.0))
    return zs


def _z_before(data: bytes | mmap.mmap, lo: int, hi: int) -> float | None:
    """The Z of the last move in data[lo:hi] that states one (read backwards)."""
    at = data.rfind(b"Z", lo, hi)
    while at >= 0:
        begin = data.rfind(b"\n", lo, at) + 1 or lo
        stop = data.find(b"\n", at, hi)
        match = _Z_MOVE.match(bytes(data[begin: stop if stop >= 0 else hi]))
        if match:
            return to_float(match[1].decode())
        at = data.rfind(b"Z", lo, begin)
    return None


def _tools_at(tools: list[tuple[int, int]], starts: list[int]) -> list[int]:
    """For each layer start (ascending), the tool the last change before it selected (0
    before any): one walk through both lists."""
    if not tools:
        return [0] * len(starts)  # one tool all along: most prints
    out: list[int] = []
    tool, i = 0, 0
    for start in starts:
        while i < len(tools) and tools[i][0] < start:
            tool = min(tools[i][1], 0xFFFF)
            i += 1
        out.append(tool)
    return out


def _relative_e(data: bytes | mmap.mmap, first: int) -> bool:
    """Whether the start G-code leaves extrusion relative (its last M82/M83 before the first
    layer; none: absolute, the firmware's default)."""
    lo = max(0, first - HEAD_LOOKBACK)
    return _last_line(data, b"M83", lo, first) > _last_line(data, b"M82", lo, first)


def _last_line(data: bytes | mmap.mmap, command: bytes, lo: int, hi: int) -> int:
    """Where the last line starting with `command` in data[lo:hi] starts (-2: none)."""
    at = data.rfind(b"\n" + command, lo, hi)
    if at < 0 and lo == 0 and data[:len(command)] == command:
        return -1  # the file's first line
    return at if at >= 0 else -2


def layer_segments(index: LayerIndex, number: int, read: Read) -> bytes:
    """The segments (gcode/moves.py RECORD) of layer `number`; `read` gives plain G-code bytes.
    The state the layer starts in comes from the bytes just before it (the previous layer)."""
    layer = index.layer(number)
    if layer.end <= layer.start:
        return b""  # declared, not written (padded above): nothing to draw
    before = index.layer(number - 1) if number else None
    lookback = max(before.start if before else 0, layer.start - STATE_LOOKBACK)
    data = read(lookback, layer.end)
    split = layer.start - lookback
    start = MoveState(z=before.z if before else layer.z, relative_e=index.relative_e, tool=layer.tool)
    state = state_before(data[:split], start)
    return segments(data[split:], state)
