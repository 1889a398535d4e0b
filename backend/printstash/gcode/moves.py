"""Toolpath moves of a stretch of plain G-code, as the compact segments the preview draws.

A layer is decoded on its own: `state_before` recovers the machine state at its first byte
from the bytes just before it (the previous layer), reading backwards until every value is
known, and `segments` replays the layer from that state. One segment is one RECORD:
float32 x0, y0, z0, x1, y1, z1, uint8 feature code (index into FEATURES), uint8 flags
(EXTRUDING), uint16 tool; little-endian, 28 bytes.

Followed as Klipper does: G0/G1 moves, G2/G3 arcs (I/J centre or R radius; split into short
chords), G90/G91 for X/Y/Z, M82/M83 for E (independent of G90/G91), G92 sets a position, G28
homes to 0, T<n> selects a tool. A move extrudes when E grows (relative: E > 0).
"""

import math
import re
import struct
from dataclasses import dataclass, replace

RECORD = struct.Struct("<6fBBH")
EXTRUDING = 1
ARC_CHORD_MM = 0.5  # arcs are split into chords about this long
MAX_ARC_CHORDS = 720
MAX_LAYERS = 200_000  # a crafted file cannot make the index grow without bound
MAX_COORD = 1e9  # larger numbers are no coordinates (and would not fit a float32)
# The legend: code i is FEATURES[i]. Slicers' own names map onto these (PrusaSlicer's words).
FEATURES = (
    "Unknown", "Perimeter", "External perimeter", "Overhang perimeter", "Internal infill",
    "Solid infill", "Top solid infill", "Bottom solid infill", "Bridge infill", "Gap fill",
    "Skirt/Brim", "Support material", "Support material interface", "Wipe tower", "Ironing",
    "Custom", "Other",
)
_CODE = {name.lower(): i for i, name in enumerate(FEATURES)}
_ALIASES = {
    # Cura / ideaMaker
    "wall-outer": "External perimeter", "wall-inner": "Perimeter", "skin": "Solid infill",
    "fill": "Internal infill", "support": "Support material", "support-infill": "Support material",
    "support-interface": "Support material interface", "support-roof": "Support material interface",
    "support-bottom": "Support material interface", "skirt": "Skirt/Brim", "brim": "Skirt/Brim",
    "prime-tower": "Wipe tower", "ooze-shield": "Other", "draft-shield": "Other",
    # Bambu Studio / OrcaSlicer
    "outer wall": "External perimeter", "inner wall": "Perimeter", "overhang wall": "Overhang perimeter",
    "sparse infill": "Internal infill", "internal solid infill": "Solid infill", "top surface": "Top solid infill",
    "bottom surface": "Bottom solid infill", "bridge": "Bridge infill", "internal bridge": "Bridge infill",
    "gap infill": "Gap fill", "support interface": "Support material interface",
    "support transition": "Support material", "prime tower": "Wipe tower", "custom": "Custom",
}
_FEATURE_PREFIXES = (b";TYPE:", b"; FEATURE:")
_AXIS_LETTERS = {88: b"X", 89: b"Y", 90: b"Z", 69: b"E"}
_TOOL = re.compile(rb"T(\d{1,4})\b")


@dataclass
class MoveState:
    """The machine as far as drawing is concerned."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    e: float = 0.0
    relative_xyz: bool = False
    relative_e: bool = False
    feature: int = 0
    tool: int = 0


def feature_code(name: str) -> int:
    """The legend code of a slicer's feature name (unknown names are "Other")."""
    key = name.strip().lower()
    if key in _CODE:
        return _CODE[key]
    alias = _ALIASES.get(key)
    return _CODE[alias.lower()] if alias else _CODE["other"]


def segments(data: bytes, state: MoveState) -> bytes:
    """The segments of `data` (whole lines), replayed from `state`, which is updated."""
    out: list[bytes] = []
    for raw in data.split(b"\n"):
        line = raw.strip()
        if not line:
            continue
        first = line[0]
        if first == 71:  # G
            _command(line, state, out)
        elif first == 59:  # ;
            _comment(line, state)
        elif first == 77:  # M
            _m_command(line, state)
        elif first == 84:  # T
            _tool(line, state)
    return b"".join(out)


def _command(line: bytes, state: MoveState, out: list[bytes]) -> None:
    words = line.split(b";", 1)[0].split()
    cmd = words[0]
    if cmd in (b"G1", b"G0", b"G01", b"G00"):
        _linear(words, state, out)
    elif cmd in (b"G2", b"G3", b"G02", b"G03"):
        _arc(words, state, out, clockwise=cmd[-1] == 50)
    elif cmd == b"G92":
        _set_position(words, state)
    elif cmd == b"G90":
        state.relative_xyz = False
    elif cmd == b"G91":
        state.relative_xyz = True
    elif cmd == b"G28":
        _home(words, state)


def _values(words: list[bytes]) -> dict[int, float]:
    values: dict[int, float] = {}
    for word in words[1:]:
        try:
            value = float(word[1:])
        except ValueError:
            continue
        if -MAX_COORD < value < MAX_COORD:  # also refuses nan and inf (float32 cannot hold them)
            values[word[0] & 0xDF] = value  # & 0xDF: upper case
    return values


def _target(values: dict[int, float], state: MoveState) -> tuple[float, float, float, float]:
    """The move's end (x, y, z) and how much it extrudes."""
    rel = state.relative_xyz
    x = values.get(88, 0.0) + state.x if rel else values.get(88, state.x)
    y = values.get(89, 0.0) + state.y if rel else values.get(89, state.y)
    z = values.get(90, 0.0) + state.z if rel else values.get(90, state.z)
    if 69 not in values:
        return x, y, z, 0.0
    e = values[69]
    if state.relative_e:
        return x, y, z, e
    extruded, state.e = e - state.e, e
    return x, y, z, extruded


def _linear(words: list[bytes], state: MoveState, out: list[bytes]) -> None:
    x, y, z, extruded = _target(_values(words), state)
    if x != state.x or y != state.y or z != state.z:
        flags = EXTRUDING if extruded > 1e-9 else 0
        out.append(RECORD.pack(state.x, state.y, state.z, x, y, z, state.feature, flags, state.tool))
        state.x, state.y, state.z = x, y, z


def _arc(words: list[bytes], state: MoveState, out: list[bytes], *, clockwise: bool) -> None:
    values = _values(words)
    x, y, z, extruded = _target(values, state)
    centre = _arc_centre(values, state, x, y, clockwise)
    if centre is None:  # no centre given: draw it straight, as a chord
        _chord_to(state, out, x, y, z, extruded)
        return
    cx, cy = centre
    radius = math.hypot(state.x - cx, state.y - cy)
    start = math.atan2(state.y - cy, state.x - cx)
    sweep = math.atan2(y - cy, x - cx) - start
    if clockwise and sweep >= -1e-9:
        sweep -= 2 * math.pi
    elif not clockwise and sweep <= 1e-9:
        sweep += 2 * math.pi
    chords = max(1, min(MAX_ARC_CHORDS, math.ceil(abs(sweep) * radius / ARC_CHORD_MM)))
    z0 = state.z
    for i in range(1, chords):
        angle = start + sweep * i / chords
        _chord_to(state, out, cx + radius * math.cos(angle), cy + radius * math.sin(angle),
                  z0 + (z - z0) * i / chords, extruded)
    _chord_to(state, out, x, y, z, extruded)


def _arc_centre(values: dict[int, float], state: MoveState, x: float, y: float,
                clockwise: bool) -> tuple[float, float] | None:
    if 73 in values or 74 in values:  # I, J: offsets from the start
        return state.x + values.get(73, 0.0), state.y + values.get(74, 0.0)
    r = values.get(82)
    if r is None:
        return None
    dx, dy = x - state.x, y - state.y
    chord = math.hypot(dx, dy)
    if chord < 1e-9 or abs(r) < chord / 2:
        return None
    h = math.sqrt(r * r - chord * chord / 4) * (1 if clockwise == (r < 0) else -1)
    return state.x + dx / 2 - h * dy / chord, state.y + dy / 2 + h * dx / chord


def _chord_to(state: MoveState, out: list[bytes], x: float, y: float, z: float, extruded: float) -> None:
    flags = EXTRUDING if extruded > 1e-9 else 0
    out.append(RECORD.pack(state.x, state.y, state.z, x, y, z, state.feature, flags, state.tool))
    state.x, state.y, state.z = x, y, z


def _set_position(words: list[bytes], state: MoveState) -> None:
    values = _values(words)
    if not values:  # bare G92: every axis is zero here
        state.x = state.y = state.z = state.e = 0.0
        return
    state.x, state.y = values.get(88, state.x), values.get(89, state.y)
    state.z, state.e = values.get(90, state.z), values.get(69, state.e)


def _home(words: list[bytes], state: MoveState) -> None:
    axes = {word[0] & 0xDF for word in words[1:] if word}
    for axis, name in ((88, "x"), (89, "y"), (90, "z")):
        if not axes or axis in axes:
            setattr(state, name, 0.0)


def _comment(line: bytes, state: MoveState) -> None:
    for prefix in _FEATURE_PREFIXES:
        if line.startswith(prefix):
            state.feature = feature_code(line[len(prefix):].decode("utf-8", "replace"))
            return


def _m_command(line: bytes, state: MoveState) -> None:
    cmd = line.split(b";", 1)[0].split()[0]
    if cmd == b"M82":
        state.relative_e = False
    elif cmd == b"M83":
        state.relative_e = True


def _tool(line: bytes, state: MoveState) -> None:
    match = _TOOL.match(line)
    if match:
        state.tool = int(match[1])


# ---- the state a layer starts in ---------------------------------------------------------------

def state_before(window: bytes, start: MoveState) -> MoveState:
    """The state at the end of `window` (the bytes before a layer). Read backwards: the last
    value of each axis, feature, tool and extrusion mode there; what the window does not say
    stays as in `start`. A window with relative X/Y/Z moves (G91) is replayed forwards instead:
    backwards, a relative move says nothing about where the head is."""
    state = replace(start)
    if b"G91" in window:
        segments(window, state)
        return state
    missing = {88, 89, 90, 69, 59, 77, 84}  # X Y Z E, feature (;), extrusion mode (M), tool (T)
    for raw in reversed(window.split(b"\n")):
        line = raw.strip()
        if line and (line[0] == 71 or line[0] in missing):
            _learn(line, state, missing)
            if not missing:
                break
    return state


def _learn(line: bytes, state: MoveState, missing: set[int]) -> None:
    first = line[0]
    if first == 71:  # G
        code = line.split(b";", 1)[0]
        if not code.startswith(b"G28") and not any(_AXIS_LETTERS[a] in code for a in missing if a in _AXIS_LETTERS):
            return  # nothing this line could tell (the cheap test first: most lines end here)
        words = code.split()
        if words[0] in (b"G1", b"G0", b"G01", b"G00", b"G2", b"G3", b"G02", b"G03", b"G92"):
            for letter, value in _values(words).items():
                if letter in missing and letter in (88, 89, 90, 69):
                    setattr(state, chr(letter).lower(), value)
                    missing.discard(letter)
        elif words[0] == b"G28":
            _learn_home(words, state, missing)
    elif first == 59 and any(line.startswith(p) for p in _FEATURE_PREFIXES):
        _comment(line, state)
        missing.discard(59)
    elif first == 77 and line[:3] in (b"M82", b"M83"):
        _m_command(line, state)
        missing.discard(77)
    elif first == 84 and _TOOL.match(line):
        _tool(line, state)
        missing.discard(84)


def _learn_home(words: list[bytes], state: MoveState, missing: set[int]) -> None:
    axes = {word[0] & 0xDF for word in words[1:] if word} or {88, 89, 90}
    for axis in axes & {88, 89, 90} & missing:
        setattr(state, chr(axis).lower(), 0.0)
        missing.discard(axis)


# ---- layers of a file without layer comments ----------------------------------------------------

_MOVE_LINE = re.compile(rb"^[ \t]*(?:G\d+|M8[23])\b[^\n]*", re.MULTILINE)


def z_layers(data: bytes) -> list[tuple[int, float]]:
    """(offset, z) of each layer of a file that marks none: a layer starts at the line that
    moved to the Z of an extruding move different from the previous layer's. Z hops (up for
    a travel, back down to extrude) start no layer."""
    state, found = MoveState(), []
    z_line, layer_z = 0, None
    sink: list[bytes] = []
    for match in _MOVE_LINE.finditer(data):
        line = match[0].strip()
        before = state.z
        if line[0] == 71:
            _command(line, state, sink)
        else:
            _m_command(line, state)
        if state.z != before:
            z_line = match.start()
        if sink:
            if sink[-1][25] & EXTRUDING and (layer_z is None or abs(state.z - layer_z) > 1e-6) \
                    and _moves_xy(sink[-1]):
                layer_z = state.z
                found.append((z_line, state.z))
                if len(found) >= MAX_LAYERS:
                    break
            sink.clear()
    return found


def _moves_xy(record: bytes) -> bool:
    x0, y0, _z0, x1, y1 = RECORD.unpack(record)[:5]
    return bool(x0 != x1 or y0 != y1)
