"""Bounded view of a G-code file: its first and last READ_SIZE bytes, decoded once.

Every bounded-stage field is computed from a Source, so parse() cost does not depend on the
file's size (Moonraker reads the same two 1 MiB windows).
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

READ_SIZE = 1 << 20
# '; key = value' lines: PrusaSlicer-family config blocks, Prusa/Orca/Bambu/KISSlicer stats.
_CONFIG = re.compile(r"\n;[ \t]*([A-Za-z_][^=\n]{0,80}?)[ \t]*=[ \t]*([^\n]*)")
_COMMAND_LINE = re.compile(rb"^[ \t]*[^;\s]", re.MULTILINE)


@dataclass
class Source:
    head: str  # first READ_SIZE bytes (the whole file when it is small)
    tail: str  # last READ_SIZE bytes ('' when head already holds the whole file)
    size: int
    head_bytes: bytes = b""
    tail_bytes: bytes = b""
    config: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Head and tail together (for searches where the position does not matter)."""
        return self.head + self.tail

    @property
    def end_text(self) -> str:
        """The last window of the file (the whole file when small)."""
        return self.tail or self.head

    def first(self, pattern: re.Pattern[str]) -> str | None:
        """Group 1 of the first match in the head."""
        match = pattern.search(self.head)
        return match.group(1) if match else None

    def last(self, pattern: re.Pattern[str]) -> str | None:
        """Group 1 of the last match in the last window."""
        found: str | None = None
        for match in pattern.finditer(self.end_text):
            found = match.group(1)
        return found

    def anywhere(self, pattern: re.Pattern[str]) -> str | None:
        """Group 1 of the first match in the head, else the last in the tail."""
        found = self.first(pattern)
        return found if found is not None or not self.tail else self.last(pattern)

    def key(self, *names: str) -> str | None:
        """Value of the first '; name = value' line present (tail wins over head)."""
        for name in names:
            if name in self.config:
                return self.config[name]
        return None


def read(path: Path) -> Source:
    """Read the two windows; files up to 2 * READ_SIZE are read whole (as Moonraker does)."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(0)
        if size <= 2 * READ_SIZE:
            return from_bytes(fh.read(), b"", size)
        head = fh.read(READ_SIZE)
        fh.seek(size - READ_SIZE)
        return from_bytes(head, fh.read(READ_SIZE), size)


def from_bytes(head: bytes, tail: bytes, size: int) -> Source:
    src = Source(head=_decode(head), tail=_decode(tail), size=size, head_bytes=head, tail_bytes=tail)
    for text in (src.head, src.tail):
        src.config.update((k.strip(), v.strip()) for k, v in _CONFIG.findall(text))
    return src


def _decode(data: bytes) -> str:
    """Text with a leading newline, so every line (the first too) starts after a '\\n'.
    CRLF files (Windows tools) become LF and a UTF-8 BOM is dropped, so one set of patterns
    fits all; NUL bytes never occur in G-code and are dropped too. Byte offsets are computed
    on the raw bytes, never on this text."""
    if not data:
        return ""
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff").replace("\x00", "")
    return "\n" + (text.replace("\r\n", "\n") if "\r" in text else text)


def gcode_span(src: Source) -> tuple[int | None, int | None]:
    """Moonraker's gcode_start_byte / gcode_end_byte: the newline just before the first
    command line, and the offset just after the last one; outside is header/footer comments.
    Unlike Moonraker, T<n> and Klipper extended commands (EXCLUDE_OBJECT_DEFINE …) count as
    commands: they are executed, so they are not part of the header."""
    first = _COMMAND_LINE.search(src.head_bytes)
    start = max(src.head_bytes.rfind(b"\n", 0, first.start()), 0) if first else None
    window = src.tail_bytes or src.head_bytes
    end = _end_of_last_command(window)
    return start, (src.size - len(window) + end if end is not None else None)


def _end_of_last_command(window: bytes) -> int | None:
    stop = len(window)
    while stop > 0:
        begin = window.rfind(b"\n", 0, stop - 1) + 1
        line = window[begin:stop].strip()
        if line and not line.startswith(b";"):
            return stop
        stop = begin
    return None
