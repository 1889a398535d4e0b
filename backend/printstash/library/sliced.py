"""Plain G-code of a stored sliced file's plate, for GET /files/{id}/gcode and send-to-print:
a .gcode as stored, a .bgcode decoded into a temporary .part (removed by `release`)."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from printstash import formats
from printstash.core.errors import Conflict, Invalid, NotFound
from printstash.core.settings import Settings
from printstash.formats import bgcode
from printstash.library import service
from printstash.library.ingest import PartFile
from printstash.library.models import File


@dataclass(frozen=True)
class PlainGcode:
    path: Path
    release: Callable[[], None]  # call once the G-code has been read


def plain_gcode(settings: Settings, row: File, plate: int) -> PlainGcode:
    if row.kind not in formats.SLICED:
        raise Conflict(f"file {row.id} is a {row.kind} model, not sliced G-code", code="not_sliced")
    if plate not in {p.index for p in row.plates}:
        raise NotFound(f"file {row.id} has no plate {plate}", code="plate_not_found")
    path = service.file_path(settings, row)
    if not path.is_file():
        raise NotFound(f"the content of file {row.id} is missing from storage", code="content_missing")
    if row.kind == "gcode":
        return PlainGcode(path, lambda: None)
    return _decoded(settings, path)


def _decoded(settings: Settings, path: Path) -> PlainGcode:
    part = PartFile.create(settings.tmp_dir)
    try:
        bgcode.decode(path, part.path)
    except formats.Broken as exc:
        part.discard()
        raise Invalid(f"the stored binary G-code cannot be decoded: {exc}", code=exc.code) from exc
    except BaseException:
        part.discard()
        raise
    return PlainGcode(part.path, part.discard)
