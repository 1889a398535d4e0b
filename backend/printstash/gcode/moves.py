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


# The lines that matter, found by one regular expression over the whole stretch (its search
# for the next line start runs in C and skips every other line). The two shapes nearly every
# line of a layer has, an extrusion `G1 [F] X Y E` and a travel `G0/G1 [F] X Y [F]`, are
# captured word by word and take the short path (half the time of reading words one by one);
# any other G0/G1 has its words read by _move; any other G line, M82/M83, T<n> and feature
# comments go through the general handlers. (Matching line by line, or capturing every
# optional word in the expression, measured 3-10x slower.)
_N = rb"([-\d.]{1,20})"  # float() checks it; 20 characters always fit a float32
_LINES = re.compile(
    rb"\n[ \t]*(?:G1 (?:F[\d.]+ )?X" + _N + rb" Y" + _N + rb" E" + _N + rb"[ \t]*(?=[\n;])"
    rb"|G[01] (?:F[\d.]+ )?X" + _N + rb" Y" + _N + rb"(?: F[\d.]+)?[ \t]*(?=[\n;])"
    rb"|G0?[01][ \t]([^\n;]*)"
    rb"|(G[^\n]*|M8[23][^\n]*|T\d[^\n]*|;TYPE:[^\n]*|; FEATURE:[^\n]*))")


def segments(data: bytes, state: MoveState) -> bytes:
    """The segments of `data` (whole lines), replayed from `state`, which is updated."""
    out: list[bytes] = []
    pack, s = RECORD.pack, state
    for ex, ey, ee, tx, ty, words, other in _LINES.findall(b"\n" + data):
        try:
            if ex and not s.relative_xyz:  # the short paths
                x, y, e = float(ex), float(ey), float(ee)
                extruded, s.e = (e, s.e) if s.relative_e else (e - s.e, e)
                flags = EXTRUDING if extruded > 1e-9 else 0
            elif tx and not s.relative_xyz:
                x, y, flags = float(tx), float(ty), 0
            else:
                x, y, flags = s.x, s.y, -1
        except ValueError:
            x, y, flags = s.x, s.y, -1
        if flags >= 0:
            if x != s.x or y != s.y:
                out.append(pack(s.x, s.y, s.z, x, y, s.z, s.feature, flags, s.tool))
                s.x, s.y = x, y
        elif other:
            _other(other.rstrip(), s, out)
        else:
            _move(words or b" ".join(w for w in (b"X" + ex, b"Y" + ey, b"E" + ee, b"X" + tx, b"Y" + ty) if len(w) > 1),
                  s, out)
    return b"".join(out)


def _move(words: bytes, s: MoveState, out: list[bytes]) -> None:
    """A G0/G1 with its words in any order (or a short-path line that was not plain)."""
    rel = s.relative_xyz
    x, y, z, extruded = s.x, s.y, s.z, 0.0
    for word in words.split():
        try:
            value = float(word[1:])
        except ValueError:
            continue
        if not -MAX_COORD < value < MAX_COORD:  # also nan and inf: a float32 must hold it
            continue
        letter = word[0] & 0xDF  # upper case
        if letter == 88:
            x = value + s.x if rel else value
        elif letter == 89:
            y = value + s.y if rel else value
        elif letter == 90:
            z = value + s.z if rel else value
        elif letter == 69:
            extruded, s.e = (value, s.e) if s.relative_e else (value - s.e, value)
    if x != s.x or y != s.y or z != s.z:
        out.append(RECORD.pack(s.x, s.y, s.z, x, y, z, s.feature, EXTRUDING if extruded > 1e-9 else 0, s.tool))
        s.x, s.y, s.z = x, y, z


def _other(line: bytes, state: MoveState, out: list[bytes]) -> None:
    first = line[0]
    if first == 71:  # G
        _command(line, state, out)
    elif first == 59:  # ;
        _comment(line, state)
    elif first == 77:  # M
        _m_command(line, state)
    else:  # T
        _tool(line, state)


def _command(line: bytes, state: MoveState, out: list[bytes]) -> None:
    words = line.split(b";", 1)[0].split()
    cmd = words[0]
    if cmd in (b"G1", b"G0", b"G01", b"G00"):
        _move(b" ".join(words[1:]), state, out)
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
    """The state at the end of `window` (the bytes before a layer): the last value of each axis,
    feature, tool and extrusion mode there, each found by searching backwards (memchr-speed
    rfind, then the line checked); what the window does not say stays as in `start`. A window
    with relative X/Y/Z moves (G91) is replayed forwards instead: backwards, a relative move
    says nothing about where the head is."""
    state = replace(start)
    if b"G91" in window:
        segments(window, state)
        return state
    homed = _last_home(window)
    for letter, name in ((b"X", "x"), (b"Y", "y"), (b"Z", "z"), (b"E", "e")):
        found = _last_word(window, letter)
        if found is not None and found[0] > homed.get(letter, -1):
            setattr(state, name, found[1])
        elif letter in homed:
            setattr(state, name, 0.0)
    feature = max(window.rfind(prefix) for prefix in (b"\n;TYPE:", b"\n; FEATURE:"))
    if feature >= 0:
        _comment(_line_at(window, feature + 1), state)
    relative, absolute = window.rfind(b"\nM83"), window.rfind(b"\nM82")
    if relative >= 0 or absolute >= 0:
        state.relative_e = relative > absolute
    _last_tool(window, state)
    return state


_MOVE_START = re.compile(rb"[ \t]*G(?:0?[0-3]|92)[ \t]")
_NUMBER = re.compile(rb"-?(?:\d{1,9}(?:\.\d*)?|\.\d+)")  # at most 9 integer digits: a float32 holds it


def _line_at(data: bytes, begin: int) -> bytes:
    end = data.find(b"\n", begin)
    return data[begin: end if end >= 0 else len(data)].strip()


def _last_word(data: bytes, letter: bytes) -> tuple[int, float] | None:
    """(line start, value) of the last `letter` word of a G0-G3/G92 line in data."""
    at = data.rfind(letter)
    while at > 0:
        begin = data.rfind(b"\n", 0, at) + 1
        if data[at - 1] in b" \t" and data.find(b";", begin, at) < 0 and _MOVE_START.match(data, begin):
            number = _NUMBER.match(data, at + 1)
            if number:
                return begin, float(number[0])
        at = data.rfind(letter, 0, at)
    return None


def _last_home(data: bytes) -> dict[bytes, int]:
    """The axes the last G28 in data homes (all, when it names none), with where it starts."""
    at = data.rfind(b"\nG28")
    if at < 0:
        return {}
    words = _line_at(data, at + 1).split(b";", 1)[0].split()[1:]
    axes = {w[:1].upper() for w in words} & {b"X", b"Y", b"Z"} or {b"X", b"Y", b"Z"}
    return dict.fromkeys(axes, at + 1)


def _last_tool(data: bytes, state: MoveState) -> None:
    at = data.rfind(b"\nT")
    while at >= 0:
        match = _TOOL.match(data, at + 1)
        if match:
            state.tool = int(match[1])
            return
        at = data.rfind(b"\nT", 0, at)


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
