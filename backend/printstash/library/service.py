"""Library services: plain functions taking the session first; they raise domain errors and
never commit (the caller's transaction does)."""

import contextlib
import functools
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Row,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    null,
    select,
)
from sqlalchemy.orm import Session, object_session

from printstash.core import jobs
from printstash.core.db import utcnow
from printstash.core.errors import Invalid, NotFound
from printstash.core.models import AppState
from printstash.core.settings import Settings
from printstash.core.storage import content_key, storage_for
from printstash.formats.meshes import ModelFacts
from printstash.library import store
from printstash.library.models import File, Plate, Tag, Thumbnail, file_tags
from printstash.library.schemas import (
    FileRead,
    FileUpdate,
    ModelRead,
    ParseStatus,
    PlateRead,
    ThumbnailRead,
    thumbnail_url,
)
from printstash.library.store import PlateFields, StoredThumbnail

REPARSE_JOB = "library.reparse"
MODEL_THUMBNAIL_JOB = "library.model_thumbnail"
PARSED_WITH_KEY = "library.parsed_with"
NAME_MAX_CHARS = 200
DEFAULT_NAME = "upload.gcode"
COMPLETED = "completed"  # the one print result that counts as printed (record_print)
TEXT_COLUMN_MAX = {"slicer": 64, "slicer_version": 64, "printer_model": 128, "filament_type": 128,
                   "filament_name": 255}
FLOAT_COLUMNS = ("nozzle_diameter", "layer_height", "estimated_time", "filament_total",
                 "filament_weight_total", "object_height")
# the typed columns each plate keeps too: those that filters and facets read (library/search.py)
PLATE_COLUMNS = ("slicer", "printer_model", "filament_type", "nozzle_diameter", "layer_height", "estimated_time")
# Bidi overrides can make "evil\u202egcode.exe" display as something else: drop them too.
_INVISIBLE = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# ---- lookups other domains use -------------------------------------------------------------

def get_file(session: Session, file_id: int, *, include_trashed: bool = False) -> File:
    """The file, or NotFound (trashed files are not found unless asked for)."""
    row = session.get(File, file_id)
    if row is None or (row.deleted_at is not None and not include_trashed):
        raise NotFound(f"file {file_id} not found", code="file_not_found")
    return row


def find_by_sha256(session: Session, sha256: str) -> File | None:
    """The row holding this content, trashed or not (content is stored once)."""
    return session.scalars(select(File).where(File.sha256 == sha256.lower())).first()


def find_by_name(session: Session, name: str) -> File | None:
    """The newest file (not in the trash) with exactly this name."""
    query = (select(File).where(File.name == name, File.deleted_at.is_(None))
             .order_by(File.uploaded_at.desc(), File.id.desc()).limit(1))
    return session.scalars(query).first()


@contextlib.contextmanager
def local_content(settings: Settings, sha256: str) -> Iterator[Path]:
    """A local file with this content while the context lasts (a bucket's object is fetched
    into tmp/); NotFound when the store lacks it."""
    with storage_for(settings).local_copy(content_key(sha256)) as path:
        if path is None:
            raise NotFound("the content of this file is missing from storage", code="content_missing")
        yield path


def record_print(session: Session, file_id: int, finished_at: datetime, result: str) -> None:
    """One finished print: counted when it completed (a print cancelled at 2 % is no print),
    remembered as the last attempt either way; history may be imported out of order, so
    keep the newest. The row is locked first (PostgreSQL): two workers counting prints of
    one file both count."""
    row = session.get(File, file_id, with_for_update=True)
    if row is None:
        raise NotFound(f"file {file_id} not found", code="file_not_found")
    if result == COMPLETED:
        row.print_count = (row.print_count or 0) + 1
    if row.last_printed_at is None or finished_at >= row.last_printed_at:
        row.last_printed_at = finished_at
        row.last_print_result = result[:32]


# ---- names -----------------------------------------------------------------------------------

def sanitize_name(raw: str | None) -> str:
    """A safe display/download name: last path component, no control characters, capped length.

    `../../etc/passwd.gcode` -> `passwd.gcode`; unicode is kept (NFC-normalised).
    """
    text = unicodedata.normalize("NFC", raw or "").replace("\\", "/")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    text = _INVISIBLE.sub("", text)
    base = PurePosixPath(text).name.strip().lstrip(".").strip()
    if not base:
        return DEFAULT_NAME
    return _cap_length(base)


def gcode_name(row: File, plate: int) -> str:
    """The name of a sliced file's plain G-code: the file's own for a .gcode, else its stem
    (with the plate when it has several) and .gcode."""
    if row.kind == "gcode":
        return row.name
    return f"{stem(row.name)}-plate{plate}.gcode" if len(row.plates) > 1 else f"{stem(row.name)}.gcode"


def stem(name: str) -> str:
    """The name without its kind's extension (`cube.gcode.3mf` -> `cube`)."""
    lower = name.lower()
    for ext in (".gcode.3mf", ".bgcode", ".gcode", ".ufp", ".3mf", ".stl", ".obj"):
        if lower.endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)]
    return name


def _cap_length(name: str) -> str:
    if len(name) <= NAME_MAX_CHARS:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= 16:
        return stem[: NAME_MAX_CHARS - len(ext) - 1].rstrip() + "." + ext
    return name[:NAME_MAX_CHARS].rstrip()


# ---- answers ---------------------------------------------------------------------------------
#
# One mapping from stored rows to FileRead (`read_of`), for ORM objects (a file a route loaded)
# and for plain rows of the same columns (a search page, `read_files`): the list and the
# single-file routes answer alike because they share it.

class FileColumns(Protocol):
    """What a FileRead shows of a files row (a File, or a row of `FILE_READ_COLUMNS`)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def uploaded_at(self) -> datetime: ...
    @property
    def notes(self) -> str | None: ...
    @property
    def favourite(self) -> bool | None: ...
    @property
    def parse_status(self) -> ParseStatus: ...
    @property
    def parse_error(self) -> str | None: ...
    @property
    def metadata_json(self) -> dict[str, Any] | None: ...
    @property
    def model_json(self) -> dict[str, Any] | None: ...
    @property
    def print_count(self) -> int | None: ...
    @property
    def last_printed_at(self) -> datetime | None: ...
    @property
    def last_print_result(self) -> str | None: ...
    @property
    def deleted_at(self) -> datetime | None: ...


# A plate as (index, metadata_json), a thumbnail as (index, width, height, format, size, plate):
# tuples, as rows are (to a type checker a row's `.index` is the tuple method).
PlateRow = tuple[int, dict[str, Any] | None]
ThumbnailRow = tuple[int, int, int, str, int, int]
FILE_READ_COLUMNS = (File.id, File.name, File.size, File.sha256, File.kind, File.uploaded_at, File.notes,
                     File.favourite, File.parse_status, File.parse_error, File.metadata_json, File.model_json,
                     File.print_count, File.last_printed_at, File.last_print_result, File.deleted_at)
THUMBNAIL_READ_COLUMNS = (Thumbnail.index, Thumbnail.width, Thumbnail.height, Thumbnail.format, Thumbnail.size,
                          Thumbnail.plate)


def to_read(file: File, *, duplicate: bool | None = None) -> FileRead:
    plates = [(p.index, p.metadata_json) for p in file.plates]
    thumbs = [(t.index, t.width, t.height, t.format, t.size, t.plate) for t in file.thumbnails]
    return read_of(file, plates, thumbs, [t.name for t in file.tags], duplicate=duplicate)


def read_of(file: FileColumns, plates: Sequence[PlateRow], thumbnails: Sequence[ThumbnailRow],
            tags: list[str], *, duplicate: bool | None = None) -> FileRead:
    """The answer for a file from its row, its plates and thumbnails (in index order) and its
    tag names (in name order)."""
    thumbs = [(plate, ThumbnailRead(index=index, width=width, height=height, format=format_, size=size,
                                    url=thumbnail_url(file.id, index)))
              for index, width, height, format_, size, plate in thumbnails]
    plate_reads = [PlateRead(index=index, metadata=dict(metadata or {}),
                             thumbnails=[thumb for plate, thumb in thumbs if plate == index])
                   for index, metadata in plates]
    return FileRead(
        id=file.id, name=file.name, size=file.size, sha256=file.sha256, kind=file.kind, plates=plate_reads,
        uploaded_at=file.uploaded_at, notes=file.notes or "", favourite=bool(file.favourite),
        tags=tags, parse_status=file.parse_status,
        parse_error=file.parse_error, metadata=dict(file.metadata_json or {}),
        thumbnails=[thumb for _, thumb in thumbs],
        model=ModelRead.model_validate(file.model_json) if file.model_json else None,
        print_count=file.print_count or 0,
        last_printed_at=file.last_printed_at, last_print_result=file.last_print_result,
        deleted_at=file.deleted_at, duplicate=duplicate,
    )


# Plate 1 mostly says what its file says (a plain G-code's one plate): then its metadata comes
# back as NULL and the file's, decoded once, stands for it (half the JSON a page decodes).
_AS_FILE = and_(Plate.index == 1, cast(Plate.metadata_json, Text) == cast(File.metadata_json, Text))


@dataclass(frozen=True)
class _PageReads:
    files: Select[*tuple[Any, ...]]
    plates: Select[*tuple[Any, ...]]
    thumbnails: Select[*tuple[Any, ...]]
    tags: Select[*tuple[Any, ...]]


@functools.cache
def _page_reads(dialect: str) -> _PageReads:
    """read_files' statements, built once per database kind, the page's ids bound per call as ONE
    parameter: `in_(ids)` with the ids as literals made SQLAlchemy coerce each id and build the
    statements again for each page (a millisecond of a 50-file page). PostgreSQL gets an array
    (`= ANY`), the same SQL for any number of ids (prepared once, no placeholder per id: 6.7 ->
    5.0 ms for a page's four statements); SQLite one expanding parameter."""

    def among_ids(column: Any) -> ColumnElement[bool]:
        if dialect == "postgresql":
            return column == any_(bindparam("ids", type_=ARRAY(Integer)))  # type: ignore[no-any-return]
        return column.in_(bindparam("ids", expanding=True))  # type: ignore[no-any-return]

    return _PageReads(
        files=select(*FILE_READ_COLUMNS).where(among_ids(File.id)),
        plates=(select(Plate.file_id, Plate.index, case((_AS_FILE, null()), else_=Plate.metadata_json))
                .join(File, File.id == Plate.file_id).where(among_ids(Plate.file_id))
                .order_by(Plate.file_id, Plate.index)),
        thumbnails=(select(Thumbnail.file_id, *THUMBNAIL_READ_COLUMNS).where(among_ids(Thumbnail.file_id))
                    .order_by(Thumbnail.file_id, Thumbnail.index)),
        tags=(select(file_tags.c.file_id, Tag.name).join(Tag, Tag.id == file_tags.c.tag_id)
              .where(among_ids(file_tags.c.file_id)).order_by(Tag.name)))


def read_files(session: Session, ids: Sequence[int]) -> list[FileRead]:
    """The answers for these files in this order (ids not found are left out), from plain rows
    in four statements: loaded as ORM objects, a 50-file page cost as much Python as all the
    rest of its request (docs/performance.md, "Search at its speed again"). Plain columns, so
    the session's connection runs them without the ORM's statement handling."""
    if not ids:
        return []
    bound, connection = {"ids": list(ids)}, session.connection()
    reads = _page_reads(connection.dialect.name)
    # .all(): the driver's fetchall, not a fetchone per row (a 50-file page in one process,
    # the forms alternating: PostgreSQL 4.61 -> 4.44 ms, SQLite 2.60 -> 2.49 ms)
    files = {row.id: row for row in connection.execute(reads.files, bound).all()}
    plates = _by_file(connection.execute(reads.plates, bound).all())
    thumbs = _by_file(connection.execute(reads.thumbnails, bound).all())
    tags = _by_file(connection.execute(reads.tags, bound).all())
    return [read_of(files[i], [(index, files[i].metadata_json if metadata is None and index == 1 else metadata)
                               for index, metadata in plates.get(i, [])],
                    thumbs.get(i, []), [name for name, in tags.get(i, [])])
            for i in ids if i in files]


def _by_file(rows: Iterable[Row[Any]]) -> dict[int, list[tuple[Any, ...]]]:
    """The rows per file (their first column), without that column, in the statement's order."""
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(tuple(row)[1:])
    return grouped


# ---- create / metadata -----------------------------------------------------------------------

def create_file(session: Session, *, name: str, size: int, sha256: str, kind: str, uploaded_by: int | None,
                fields: dict[str, Any], parse_error: str | None, full_scan_done: bool,
                thumbnails: Iterable[StoredThumbnail], plates: Iterable[PlateFields],
                model: ModelFacts | None = None, render_later: bool = False) -> File:
    """Insert the row, its plates and thumbnails (the caller's transaction makes them one);
    queue what the worker still has to do (a full scan, a model's thumbnail)."""
    row = File(name=name, size=size, sha256=sha256, kind=kind, uploaded_by=uploaded_by, notes="",
               full_scan_done=full_scan_done)
    apply_metadata(row, fields, parse_error)
    apply_model(row, model)
    replace_thumbnails(row, thumbnails)
    replace_plates(row, plates)
    session.add(row)
    session.flush()
    if not full_scan_done:
        enqueue_reparse(session, row.id)
    if render_later:
        enqueue_model_thumbnail(session, row.id)
    return row


def apply_model(row: File, model: ModelFacts | None) -> None:
    row.model_json = ModelRead.model_validate(model, from_attributes=True).model_dump() if model else None


def apply_metadata(row: File, fields: dict[str, Any], parse_error: str | None) -> None:
    """Keep the whole result as JSON and copy the filterable fields into typed columns."""
    clean = _jsonable(fields)
    row.metadata_json = clean
    row.parse_status = "error" if parse_error and not clean else "ok"
    row.parse_error = parse_error[:2000] if parse_error else None
    for key, value in typed_columns(clean).items():
        setattr(row, key, value)
    count = _as_float(clean.get("layer_count"))
    row.layer_count = int(count) if count is not None else None


def typed_columns(fields: dict[str, Any]) -> dict[str, str | float | None]:
    """The metadata fields that have typed columns, as those columns hold them."""
    typed: dict[str, str | float | None] = {key: _as_text(fields.get(key), cap) for key, cap in TEXT_COLUMN_MAX.items()}
    return typed | {key: _as_float(fields.get(key)) for key in FLOAT_COLUMNS}


def replace_thumbnails(row: File, thumbnails: Iterable[StoredThumbnail]) -> None:
    """Update the rows of indexes kept in place and drop the rest. Swapping in new rows would
    insert before the unit of work deletes the old ones and hit UNIQUE(file_id, index)."""
    existing = {t.index: t for t in row.thumbnails}
    kept: list[Thumbnail] = []
    for t in thumbnails:
        thumb = existing.pop(t.index, None) or Thumbnail(index=t.index)
        thumb.width, thumb.height, thumb.format, thumb.size, thumb.path = t.width, t.height, t.format, t.size, t.path
        thumb.plate = t.plate
        kept.append(thumb)
    row.thumbnails = kept
    row.thumbnail_count = len(row.thumbnails)


def replace_plates(row: File, plates: Iterable[PlateFields]) -> None:
    session = object_session(row)
    if session is not None and row.plates:
        row.plates = []  # old rows first: the unit of work inserts before it deletes orphans
        session.flush()
    row.plates = [_plate(p) for p in plates]


def _plate(plate: PlateFields) -> Plate:
    clean = _jsonable(plate.fields)
    typed = typed_columns(clean)
    return Plate(index=plate.index, metadata_json=clean, **{key: typed[key] for key in PLATE_COLUMNS})


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    # Parser output may carry tuples, Decimals or NaN; the JSON column must round-trip.
    text = json.dumps(fields, default=str, allow_nan=True)
    loaded: dict[str, Any] = json.loads(text, parse_constant=lambda _: None)
    return loaded


def _as_text(value: Any, cap: int) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, dict):
        return None
    text = str(value).strip()
    return text[:cap] if text else None


def _as_float(value: Any) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# ---- edit, trash, restore, purge -------------------------------------------------------------

def update_file(session: Session, file_id: int, change: FileUpdate) -> File:
    row = get_file(session, file_id)
    if change.name is not None:
        name = sanitize_name(change.name)
        if not change.name.strip():
            raise Invalid("name must not be empty", code="invalid_name")
        row.name = name
    if change.notes is not None:
        row.notes = change.notes
    session.flush()
    return row


def trash_file(session: Session, file_id: int) -> File:
    row = get_file(session, file_id)
    row.deleted_at = utcnow()
    return row


def restore_file(session: Session, file_id: int) -> File:
    row = get_file(session, file_id, include_trashed=True)
    row.deleted_at = None
    return row


def list_trash(session: Session, limit: int, offset: int) -> tuple[list[FileRead], int]:
    """Trashed files, most recently deleted first."""
    trashed = File.deleted_at.is_not(None)
    total = session.scalar(select(func.count()).select_from(File).where(trashed)) or 0
    ids = session.scalars(select(File.id).where(trashed).order_by(File.deleted_at.desc(), File.id.desc())
                          .limit(limit).offset(offset)).all()
    return read_files(session, ids), int(total)


def purge_trash(session: Session, retention: timedelta, now: datetime | None = None) -> list[str]:
    """Delete rows trashed longer than `retention`; returns their sha256s so the caller can
    remove the content after the transaction commits (a rollback then loses nothing)."""
    cutoff = (now or utcnow()) - retention
    rows = session.scalars(select(File).where(File.deleted_at.is_not(None), File.deleted_at < cutoff)).all()
    shas = [row.sha256 for row in rows]
    for row in rows:
        session.delete(row)
    session.flush()
    return shas


def purge_trash_content(session: Session, settings: Settings, retention: timedelta) -> int:
    """purge_trash plus the stored content and thumbnails of the purged rows.

    The content is removed while the write transaction still holds the database's write
    lock, so a concurrent upload of the same bytes either restored the row first (then it is
    not purged) or inserts its own row after this commit (then it stored the content again).
    """
    shas = purge_trash(session, retention)
    for sha in shas:
        store.remove_content(settings, sha)
    return len(shas)


def enqueue_reparse(session: Session, file_id: int | None = None) -> None:
    """Re-run parse + full scan from disk: one file, or (file_id None) every file."""
    jobs.enqueue(session, REPARSE_JOB, {"file_id": file_id} if file_id is not None else {})


def enqueue_model_thumbnail(session: Session, file_id: int) -> None:
    """Draw a model's thumbnail in the worker (too large to draw while its upload waits)."""
    jobs.enqueue(session, MODEL_THUMBNAIL_JOB, {"file_id": file_id})


def reparse_after_upgrade(session: Session, version: str) -> bool:
    """Queue a re-parse of every file the first time this PrintStash version runs (a newer
    parser may understand stored files better). True when it queued one."""
    row = session.get(AppState, PARSED_WITH_KEY)
    if row is not None and isinstance(row.value, dict) and row.value.get("version") == version:
        return False
    has_files = session.scalar(select(File.id).limit(1)) is not None
    if has_files:
        enqueue_reparse(session)
    if row is None:
        session.add(AppState(key=PARSED_WITH_KEY, value={"version": version}))
    else:
        row.value = {"version": version}
    return has_files
