"""The start-of-print command block, read with gcodeparser.

gcodeparser is the right tool for a *bounded* region of real commands: the lines before the
first layer marker (at most MAX_LINES command lines). It raises on lines such as
`M23 x.gcode` and misreads Klipper extended commands (`EXCLUDE_OBJECT_START` → M3), so only
lines that start with a G/M/T word are fed to it, one at a time, and a line it rejects is
skipped, never fatal.
"""

import re
from dataclasses import dataclass, field

from gcodeparser import parse_gcode_lines

MAX_LINES = 2000
MAX_LINE_CHARS = 256  # no real command is longer; a giant line would cost gcodeparser seconds
_FIRST_LAYER = re.compile(r"\n;(?:LAYER_CHANGE|LAYER:|Z:|layer )")
_GMT_LINE = re.compile(r"^[ \t]*[GMT]\d+\b", re.IGNORECASE)
_SETTERS = {("M", 104): "extruder", ("M", 109): "extruder", ("M", 140): "bed", ("M", 190): "bed",
            ("M", 141): "chamber", ("M", 191): "chamber"}


@dataclass
class StartBlock:
    temps: dict[str, float] = field(default_factory=dict)  # first non-zero set point per heater
    commands: int = 0
    rejected: int = 0


def read_start_block(head: str) -> StartBlock:
    marker = _FIRST_LAYER.search(head)
    region = head[: marker.start()] if marker else head
    block = StartBlock()
    for line in region.splitlines():
        if block.commands >= MAX_LINES:
            break
        if len(line) <= MAX_LINE_CHARS and _GMT_LINE.match(line):
            block.commands += 1
            _read_line(line, block)
    return block


def _read_line(line: str, block: StartBlock) -> None:
    try:
        parsed = list(parse_gcode_lines(line))
    except (ValueError, TypeError, IndexError):
        block.rejected += 1
        return
    for cmd in parsed[:1]:  # one command per physical line; the rest is message text
        heater = _SETTERS.get((cmd.command[0], cmd.command[1]) if cmd.command[1] is not None else ("", 0))
        temp = cmd.params.get("S") if heater else None
        if heater and isinstance(temp, (int, float)) and not isinstance(temp, bool) and temp > 0:
            block.temps.setdefault(heater, float(temp))
