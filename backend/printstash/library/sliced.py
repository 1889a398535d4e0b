"""Plain G-code of a stored sliced file's plate, for GET /files/{id}/gcode and send-to-print:
a .gcode as stored (a bucket's object fetched into tmp/); a .bgcode decoded, a package's plate
extracted, into a temporary .part (removed by `release`). The stored content is read through
the storage interface (core/storage.py local_copy), so both stores serve every kind."""

import contextlib
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


def check_plate(row: File, plate: int) -> None:
    """409 for a model (nothing to print as it is), 404 for a plate the file does not have."""
    if row.kind not in formats.SLICED:
        raise Conflict(f"file {row.id} is a {row.kind} model, not sliced G-code", code="not_sliced")
    if plate not in {p.index for p in row.plates}:
        raise NotFound(f"file {row.id} has no plate {plate}", code="plate_not_found")


def plain_gcode(settings: Settings, row: File, plate: int) -> PlainGcode:
    check_plate(row, plate)
    content = contextlib.ExitStack()
    path = content.enter_context(service.local_content(settings, row.sha256))
    if row.kind == "gcode":
        return PlainGcode(path, content.close)  # the stored file (or its fetched copy) as it is
    with content:  # the fetched copy is not needed once the plate's G-code is written
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
