"""Plain G-code of a stored sliced file's plate, for GET /files/{id}/gcode and send-to-print:
a .gcode as stored; a .bgcode decoded, a package's plate extracted, into a temporary .part
(removed by `release`)."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from printstash import formats
from printstash.core.errors import Conflict, Invalid, NotFound
from printstash.core.settings import Settings
from printstash.formats import bgcode, packages
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
    if row.kind == "bgcode":
        return _into_part(settings, lambda out: bgcode.decode(path, out))
    return _into_part(settings, lambda out: _extract(path, plate, out))


def _extract(path: Path, plate: int, out: Path) -> None:
    with packages.open_checked(path) as package, out.open("wb") as target:
        packages.copy_member(package, packages.plate_gcode(package, plate), target)


def _into_part(settings: Settings, write: Callable[[Path], None]) -> PlainGcode:
    """The plain G-code written by `write` into a temporary, locked .part."""
    part = PartFile.create(settings.tmp_dir)
    try:
        write(part.path)
    except formats.Broken as exc:
        part.discard()
        raise Invalid(f"the stored file cannot be read: {exc}", code=exc.code) from exc
    except BaseException:
        part.discard()
        raise
    return PlainGcode(part.path, part.discard)
