"""The values the G-code package hands to the rest of PrintStash."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Thumbnail:
    """One embedded preview image, already decoded and checked (length and signature)."""

    width: int
    height: int
    format: str  # "png" | "jpg" | "qoi"
    data: bytes


@dataclass
class GcodeMetadata:
    """Result of the bounded stage (first and last 1 MiB of the file).

    `fields` uses Moonraker's metadata names (see FIELD_DOCS in fields.py for the list and
    PrintStash's own additions); a field the file does not state is absent, never None.
    """

    fields: dict[str, Any] = field(default_factory=dict)
    thumbnails: list[Thumbnail] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class LayerMarks:
    """Where the full-file pass saw each layer marker start (byte offset of its line) with the
    Z its comment states (None: none stated), and each tool change (offset, tool)."""

    starts: list[int] = field(default_factory=list)
    zs: list[float | None] = field(default_factory=list)
    tools: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class FullFacts:
    """Result of the streaming full-file pass (FullScan)."""

    fields: dict[str, Any] = field(default_factory=dict)
    layers: LayerMarks | None = None  # None: not scanned (a kind without a G-code pass)
