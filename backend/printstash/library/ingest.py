"""Ingest: an uploaded file part -> tmp/<uuid>.part -> files/ab/<sha256> -> one row. Plain
steps, no HTTP (library/upload.py adapts the multipart request to them):

1. receive: the part's bytes, as they arrive, into tmp/<uuid>.part: sniffed from its first
   batch (a refused kind writes nothing), hashed and shown to the kind's full-file scan on
   the way, fsynced (core/fastio.py write_stream does the fast part);
2. store, in a thread: dedupe (identical content already stored: that row) -> parse the .part
   (the kind's bounded parse merged with the scan's facts, thumbnails stored) while the
   content is stored as files/ab/<sha256> (core/storage.py: a hard link on the data volume, a
   create-only multipart upload to a bucket) -> insert (row + thumbnail rows in ONE transaction).

Order of effects, so that a crash at any point leaves nothing visible: the .part is flock'ed
while written and removed on any error (or at the next start-up); content and thumbnails no
row points at are invisible and swept by the worker after an hour; the row comes last.

A new file kind is an entry in FAMILIES (how it is read while it streams in and which exact
kind the received file is; recognition itself is formats/recognise.py) and one in PARSERS
(how it is parsed: the upload's .part, or a local copy of the stored content at a re-parse).
"""

import errno
import fcntl
import logging
import os
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Protocol

from sqlalchemy.exc import IntegrityError, OperationalError

from printstash import formats, gcode
from printstash.core import fastio
from printstash.core.db import Database
from printstash.core.errors import InsufficientStorage, Invalid, UnsupportedMedia
from printstash.core.objects import StorageUnavailable
from printstash.core.settings import Settings
from printstash.core.storage import content_key, storage_for
from printstash.formats import bgcode, meshes, packages, render, threemf
from printstash.library import images, service, store
from printstash.library.schemas import FileRead

log = logging.getLogger(__name__)

SNIFF_BYTES = 1024
MAX_THUMBNAILS = 32  # slicers write 1-4; more is a crafted file
PARSE_TIMEOUT_SECONDS = 10.0  # bounded stage reads 2 MiB: seconds mean something is wrong
# Bumped when parsing gives stored files something new (2: QOI thumbnails become PNG; 3: the
# preview's layer index; 4: the index holds the declared layers a slicer did not write): the
# worker then re-parses every file once (library/scheduled.py).
PARSE_GENERATION = 4


# ---- kinds -----------------------------------------------------------------------------------

class Parsed(NamedTuple):
    """What parsing a stored file gave: metadata fields (Moonraker's names; plate 1's for a
    sliced kind), each sliced plate's fields, the thumbnails written under thumbs/, and why
    parsing was incomplete (None: it was not); for a model, its facts, and whether its
    thumbnail is left to a worker job (a large mesh renders longer than an upload should wait)."""

    fields: dict[str, Any]
    thumbnails: list[store.StoredThumbnail]
    error: str | None
    plates: list[store.PlateFields]
    model: meshes.ModelFacts | None = None
    render_later: bool = False


class Scan(Protocol):
    """A full-file pass fed every byte in order while the file arrives."""

    def feed(self, data: bytes) -> None: ...

    def finish(self) -> gcode.FullFacts: ...


Parse = Callable[[Settings, Path, str, gcode.FullFacts | None], Parsed]


@dataclass(frozen=True)
class Kind:
    """A family of files read the same way while they stream in; `resolve` names the exact
    kind of the received file (raising formats.Broken for a damaged or unsafe one)."""

    name: formats.Family  # the family: gcode | bgcode | zip | stl | obj
    new_scan: Callable[[], Scan]
    resolve: Callable[[Path], formats.KindName]


def parse_stored(settings: Settings, path: Path, sha: str, facts: gcode.FullFacts | None,
                 plate: int = 1, first_thumbnail: int = 0) -> Parsed:
    """Bounded parse of a stored G-code file (time-limited), merged with full-file facts;
    thumbnails and `plate`'s layer index written under thumbs/ (thumbnails numbered from
    first_thumbnail). Never raises for a bad file: the error is returned. (Also the reparse
    job's parse.)"""
    try:
        meta = gcode.parse(path, time_limit=PARSE_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("parse of %s failed: %s", path.name, exc)
        fields = _facts_fields(facts)
        write_layer_index(settings, path, sha, plate, facts, fields)
        return Parsed(fields, [], f"parse failed: {exc or type(exc).__name__}", [store.PlateFields(plate, fields)])
    thumbs = _write_thumbnails(settings, sha, meta.thumbnails, plate, first_thumbnail)
    fields = _merged_fields(meta, facts)
    write_layer_index(settings, path, sha, plate, facts, fields)
    return Parsed(fields, thumbs, "; ".join(meta.errors) or None, [store.PlateFields(plate, fields)])


def write_layer_index(settings: Settings, path: Path, sha: str, plate: int,
                      facts: gcode.FullFacts | None, fields: dict[str, Any]) -> None:
    """The preview's layer index of a plain G-code, from the full pass's layer marks (the file
    is scanned again when the pass did not run or failed), padded to the layer count `fields`
    declare. An extra: a failure is logged, and the preview builds the index when it is first
    asked for (library/preview.py)."""
    try:
        marks = facts.layers if facts is not None and facts.layers is not None else gcode.scan_file(path).layers
        store.write_layer_index(settings, sha, plate, declared_layers(gcode.build_index(path, marks), fields))
    except Exception:
        log.exception("could not index the layers of %s (plate %d)", path.name, plate)


def declared_layers(index: gcode.LayerIndex, fields: dict[str, Any]) -> gcode.LayerIndex:
    """`index` padded to the plate's metadata layer_count (gcode/layers.py padded)."""
    count, height = fields.get("layer_count"), fields.get("layer_height")
    return gcode.padded(index, count if isinstance(count, int) else None,
                        float(height) if isinstance(height, int | float) else None)


class _NoScan:
    def feed(self, data: bytes) -> None:
        return None

    def finish(self) -> gcode.FullFacts:
        return gcode.FullFacts()


def _package_kind(path: Path) -> formats.KindName:
    """The package's kind; a sliced one has every plate's G-code, matching its .md5."""
    with packages.open_checked(path) as package:
        kind = packages.kind_of(package)
        if kind in formats.SLICED:
            packages.verify_plates(package)
        return kind


def parse_package(settings: Settings, path: Path, sha: str, facts: gcode.FullFacts | None) -> Parsed:
    """A .gcode.3mf or .ufp: each plate's G-code extracted to a temporary .part and parsed like
    any G-code; slice_info.config fills what the G-code does not say; the package's own plate
    image (Metadata/plate_N.png, a .ufp's Metadata/thumbnail.png) when the G-code has none."""
    return _parse_plates(settings, path, sha)


def _parse_plates(settings: Settings, path: Path, sha: str) -> Parsed:
    results: list[Parsed] = []
    try:
        with packages.open_checked(path) as package:
            info = packages.slice_info(package)
            for plate in packages.plates(package):
                first = sum(len(r.thumbnails) for r in results)
                results.append(_parse_plate(settings, package, sha, plate, info.get(plate, {}), first))
    except (formats.Broken, OSError) as exc:  # checked at upload; a reparse must not fail
        log.warning("reading package %s failed: %s", path.name, exc)
        return Parsed({}, [], f"package read failed: {exc}", [])
    errors = [f"plate {p.plates[0].index}: {p.error}" for p in results if p.error]
    return Parsed(results[0].fields if results else {}, [t for r in results for t in r.thumbnails],
                  "; ".join(errors) or None, [r.plates[0] for r in results])


def _parse_plate(settings: Settings, package: zipfile.ZipFile, sha: str, plate: int,
                 sliced: dict[str, Any], first: int) -> Parsed:
    part = PartFile.create(settings.tmp_dir)
    try:
        with open(part.fd, "wb", closefd=False) as out:
            packages.copy_member(package, packages.plate_gcode(package, plate), out)
        parsed = parse_stored(settings, part.path, sha, _scan_or_none(part.path), plate, first)
    finally:
        part.discard()
    thumbs = parsed.thumbnails or _package_image(settings, package, sha, plate, first)
    fields = {**sliced, **parsed.fields}  # the G-code wins where both speak
    return Parsed(fields, thumbs, parsed.error, [store.PlateFields(plate, fields)])


def _scan_or_none(path: Path) -> gcode.FullFacts | None:
    try:
        return gcode.scan_file(path)
    except Exception:
        log.exception("full scan of %s failed", path.name)
        return None


def _package_image(settings: Settings, package: zipfile.ZipFile, sha: str, plate: int,
                   first: int) -> list[store.StoredThumbnail]:
    names = package.namelist()
    name = next((n for n in (f"Metadata/plate_{plate}.png", packages.UFP_THUMBNAIL) if n in names), None)
    if name is None:
        return []
    try:
        data = packages.read_member(package, name, limit=16 * 1024 * 1024)
    except formats.Broken:
        return []
    image = gcode.Thumbnail(width=0, height=0, format="png", data=data)
    return _write_thumbnails(settings, sha, [image], plate, first)


def _only(name: formats.KindName) -> Callable[[Path], formats.KindName]:
    return lambda _path: name


@contextmanager
def decoded_bgcode(tmp_dir: Path, path: Path) -> Iterator[Path]:
    """The plain G-code of a .bgcode in a temporary, flock'ed .part beside the uploads (so a
    start-up cleanup leaves it alone while it is used, and removes it after a crash)."""
    part = PartFile.create(tmp_dir)
    try:
        bgcode.decode(path, part.path)
        yield part.path
    finally:
        part.discard()


def _check_bgcode(path: Path) -> formats.KindName:
    """Only the header here: decoding, which verifies every block's checksum, is most of a
    .bgcode's ingest, so it happens once, in parse_bgcode (a damaged file is refused there,
    still before anything is stored)."""
    bgcode.check_header(path)
    return "bgcode"


def parse_bgcode(settings: Settings, path: Path, sha: str, facts: gcode.FullFacts | None) -> Parsed:
    """A .bgcode: decoded (formats.Broken when a block is truncated or fails its checksum),
    then parsed and scanned as the G-code it holds."""
    with decoded_bgcode(settings.tmp_dir, path) as plain:
        return parse_stored(settings, plain, sha, _scan_or_none(plain))


def _check_stl(path: Path) -> formats.KindName:
    """A binary STL must be exactly as long as its triangle count says."""
    meshes.stl_flavour(path)
    return "stl"


# Models up to this size are read whole into memory (~400 bytes per triangle at peak: 162 MiB
# for a 20 MB STL in bench/models, so about 1 GiB here); larger ones are stored with their
# facts left out (parse_error says why).
MODEL_MAX_BYTES = 128 * 1024 * 1024
# Drawing a thumbnail takes ~0.8 s of CPU per 400k triangles (bench/models), several times that
# on a busy server: up to this many the upload waits for it; beyond, a worker job draws it
# (library/jobs.py) and the upload answers first.
RENDER_INLINE_TRIANGLES = 150_000


def parse_model(settings: Settings, path: Path, sha: str, kind: formats.KindName) -> Parsed:
    """A model (.stl, .obj, .3mf): its mesh facts and a thumbnail (a 3MF's own
    Metadata/thumbnail.png, else rendered). formats.Broken when it holds no readable mesh."""
    size = path.stat().st_size
    if size > MODEL_MAX_BYTES:
        error = f"the model is too large to analyse ({size >> 20} MB; at most {MODEL_MAX_BYTES >> 20} MB)"
        return Parsed({}, [], error, [])
    mesh = meshes.load(path, kind)
    facts = meshes.facts(mesh)
    own = _own_thumbnail(settings, path, sha) if kind == "3mf" else []
    if own or facts.triangles > RENDER_INLINE_TRIANGLES:
        return Parsed({}, own, None, [], facts, render_later=not own)
    return Parsed({}, model_thumbnail(settings, sha, mesh), None, [], facts)


def model_thumbnail(settings: Settings, sha: str, mesh: meshes.Mesh) -> list[store.StoredThumbnail]:
    """The model drawn on the server (formats/render.py), stored like a slicer's thumbnail."""
    image = gcode.Thumbnail(width=0, height=0, format="png", data=render.isometric_png(mesh.triangles))
    return _write_thumbnails(settings, sha, [image])


def _own_thumbnail(settings: Settings, path: Path, sha: str) -> list[store.StoredThumbnail]:
    """A 3MF's Metadata/thumbnail.png; none when it is missing or unreadable (then one is drawn)."""
    with packages.open_checked(path) as package:
        if threemf.THUMBNAIL not in package.namelist():
            return []
        try:
            data = packages.read_member(package, threemf.THUMBNAIL, limit=16 * 1024 * 1024)
        except formats.Broken:
            return []
    return _write_thumbnails(settings, sha, [gcode.Thumbnail(width=0, height=0, format="png", data=data)])


def _model_parser(kind: formats.KindName) -> Parse:
    return lambda settings, path, sha, _facts: parse_model(settings, path, sha, kind)


FAMILIES: dict[formats.Family, Kind] = {
    "gcode": Kind("gcode", gcode.FullScan, _only("gcode")),
    "bgcode": Kind("bgcode", _NoScan, _check_bgcode),
    "zip": Kind("zip", _NoScan, _package_kind),
    "stl": Kind("stl", _NoScan, _check_stl),
    "obj": Kind("obj", _NoScan, _only("obj")),
}
# How each kind is parsed: the upload's .part before it is stored, a local copy of the stored
# content when the worker re-parses (library/jobs.py). A parser raises formats.Broken for
# content it cannot read: the upload is refused (422), a re-parse records it as the parse error.
PARSERS: dict[str, Parse] = {"gcode": parse_stored, "bgcode": parse_bgcode, "gcode.3mf": parse_package,
                             "ufp": parse_package, **{kind: _model_parser(kind) for kind in formats.MODELS}}


def sniff(head: bytes, filename: str = "") -> Kind:
    """The family of a file from its first bytes (the name only breaks ties); 415 when none fits."""
    found = formats.family(head, filename)
    if found is None:
        raise UnsupportedMedia("the file is not G-code, binary G-code (.bgcode), a sliced package "
                               "(.gcode.3mf, .ufp) or a model (.stl, .obj, .3mf) (checked its content, "
                               "not its name)", code="not_gcode")  # the code clients already know
    return FAMILIES[found]


def resolve(kind: Kind, path: Path) -> formats.KindName:
    """The exact kind of a received file: 422 when it is broken or unsafe, 415 when PrintStash
    recognises it but cannot read that kind."""
    with broken_is_invalid():
        name = kind.resolve(path)
    if name not in PARSERS:
        raise UnsupportedMedia(f"the file is a {name} file, which this version cannot read yet",
                               code="unsupported_kind")
    return name


@contextmanager
def broken_is_invalid() -> Iterator[None]:
    """A damaged or unsafe file found while reading an upload: 422 with what is wrong."""
    try:
        yield
    except formats.Broken as exc:
        raise Invalid(str(exc), code=exc.code) from exc


def _merged_fields(meta: gcode.GcodeMetadata, facts: gcode.FullFacts | None) -> dict[str, Any]:
    if facts is None:
        return dict(meta.fields)
    try:
        return gcode.merge(meta, facts)
    except Exception:
        log.exception("merging full-file facts failed; keeping the bounded parse only")
        return {**facts.fields, **meta.fields}


def _facts_fields(facts: gcode.FullFacts | None) -> dict[str, Any]:
    return dict(facts.fields) if facts is not None else {}


def _write_thumbnails(settings: Settings, sha: str, thumbnails: list[gcode.Thumbnail], plate: int = 1,
                      first: int = 0) -> list[store.StoredThumbnail]:
    stored: list[store.StoredThumbnail] = []
    for thumb in thumbnails[:MAX_THUMBNAILS]:
        fmt = store.thumbnail_format(thumb.format)
        image = images.drawable(fmt, bytes(thumb.data)) if fmt and thumb.data else None
        if image is None:
            continue
        stored.append(store.write_thumbnail(settings, sha, first + len(stored), image.width, image.height,
                                            image.format, image.data, plate))
    return stored


# ---- 1. receive ------------------------------------------------------------------------------

class PartFile:
    """tmp/<uuid>.part, flock'ed from creation until discard(): the lock keeps other
    processes' start-up cleanup away, also after the rename into the store."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd

    @classmethod
    def create(cls, tmp_dir: Path) -> "PartFile":
        """A cleanup in another process can take and delete a part between its creation and
        our flock; then the name points elsewhere: take another."""
        tmp_dir.mkdir(parents=True, exist_ok=True)
        while True:
            path = tmp_dir / f"{uuid.uuid4().hex}{store.PART_SUFFIX}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if path.stat().st_ino == os.fstat(fd).st_ino:
                    return cls(path, fd)
            except FileNotFoundError:
                pass
            os.close(fd)

    def discard(self) -> None:
        """Close (dropping the flock) and remove the .part (the store has its own link or copy)."""
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class ReceivedPart:
    """An upload's file, fully written to its (still locked) .part: fsynced when the .part
    becomes the stored file (local storage); with a bucket the .part is only the scratch copy
    that is hashed, parsed and uploaded, and the object store makes the content durable."""

    tmp: PartFile
    filename: str
    kind: Kind
    written: fastio.Written
    facts: gcode.FullFacts | None  # None: the scan failed; a reparse job redoes it

    @property
    def sha256(self) -> str:
        return self.written.sha256

    @property
    def size(self) -> int:
        return self.written.size


async def receive(settings: Settings, filename: str, first: fastio.Batch,
                  rest: AsyncIterator[fastio.Batch]) -> ReceivedPart:
    """The file's bytes, batch by batch as they arrive, into a new .part. Errors raised by
    `rest` (the body refused midway) come through; the .part is then removed."""
    kind = sniff(_head(first), filename)
    with disk_errors():
        part = PartFile.create(settings.tmp_dir)
    try:
        scan = _GuardedScan(kind, filename)
        with disk_errors():
            written = await fastio.write_stream(_prepend(first, rest), part.fd, scan.feed,
                                                durable=settings.storage == "local")
        return ReceivedPart(part, filename, kind, written, scan.finish())
    except BaseException:
        part.discard()
        raise


def _head(batch: fastio.Batch) -> bytes:
    head = b""
    for piece in batch:
        head += piece[:SNIFF_BYTES - len(head)]
        if len(head) >= SNIFF_BYTES:
            break
    return head


async def _prepend(first: fastio.Batch, rest: AsyncIterator[fastio.Batch]) -> AsyncIterator[fastio.Batch]:
    yield first
    async for batch in rest:
        yield batch


class _GuardedScan:
    """The kind's scan while the bytes arrive. The scan is an extra: a scanner bug must not
    lose the upload (the row then says full_scan_done=False and a reparse job redoes it)."""

    def __init__(self, kind: Kind, filename: str) -> None:
        self.filename = filename
        self._scan: Scan | None = None
        try:
            self._scan = kind.new_scan()
        except Exception:
            log.exception("could not start the full-file scan")

    def feed(self, data: bytes) -> None:
        if self._scan is None:
            return
        try:
            self._scan.feed(data)
        except Exception:
            log.exception("full scan failed during upload of %s; a reparse job will redo it", self.filename)
            self._scan = None

    def finish(self) -> gcode.FullFacts | None:
        if self._scan is None:
            return None
        try:
            return self._scan.finish()
        except Exception:
            log.exception("full scan failed to finish for %s", self.filename)
            return None


class disk_errors:
    """Turn ENOSPC/EDQUOT into a clear 507 (the partial is removed by the caller)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if _is_disk_full(exc):
            raise InsufficientStorage("the data volume is full; free some space and upload again",
                                      code="disk_full") from exc


def _is_disk_full(exc: BaseException | None) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    # SQLite reports SQLITE_FULL as an OperationalError "database or disk is full"
    return isinstance(exc, OperationalError) and "disk is full" in str(exc)


# ---- 2. store ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    file: FileRead
    duplicate: bool  # identical content was already stored: `file` is that row


def store_part(settings: Settings, db: Database, part: ReceivedPart, user_id: int | None) -> Stored:
    """Runs in a thread: dedupe, parse (from the .part), store the content, insert."""
    existing = _existing(db, part.sha256)
    if existing is not None:
        return Stored(existing, duplicate=True)
    kind = resolve(part.kind, part.tmp.path)  # a broken or unsafe file stops here: nothing stored
    try:
        with disk_errors(), broken_is_invalid():  # thumbnails and the database can hit a full volume too
            # The content goes into the store while the .part is parsed: into a bucket that upload
            # is most of the wait, and the parse (0.07-0.15 s for 200 MB, with its thumbnails' and
            # layer index's own writes) runs during it (docs/performance.md, Object storage upload).
            upload = fastio.Background(partial(storage_for(settings).put_file, content_key(part.sha256),
                                               part.tmp.path), "store-content")
            try:
                parsed = PARSERS[kind](settings, part.tmp.path, part.sha256, part.facts)
            finally:
                upload.join()
            upload.result()
            return Stored(_insert(settings, db, part, kind, parsed, user_id), duplicate=False)
    except IntegrityError:
        # Same content committed by a concurrent upload since the check: that row wins.
        again = _existing(db, part.sha256)
        if again is None:
            raise
        return Stored(again, duplicate=True)
    except BaseException:
        _forget_unreferenced(settings, db, part.sha256)
        raise


def _existing(db: Database, sha: str) -> FileRead | None:
    """The stored row with this content (restored from the trash if it was there)."""
    with db.write() as session:
        row = service.find_by_sha256(session, sha)
        if row is None:
            return None
        if row.deleted_at is not None:
            service.restore_file(session, row.id)
        return service.to_read(row, duplicate=True)


def _insert(settings: Settings, db: Database, part: ReceivedPart, kind: formats.KindName, parsed: Parsed,
            user_id: int | None) -> FileRead:
    """The row, once its content is stored. The content is checked again under the write lock:
    the orphan sweep deletes only under that lock too (library/scheduled.py), so content an
    earlier crash left behind cannot vanish between this check and the commit."""
    with db.write() as session:
        if not storage_for(settings).exists(content_key(part.sha256)):
            raise StorageUnavailable("the stored content vanished before its row was written; upload again")
        row = service.create_file(session, name=part.filename, size=part.size, sha256=part.sha256,
                                  kind=kind, uploaded_by=user_id, fields=parsed.fields, parse_error=parsed.error,
                                  full_scan_done=part.facts is not None, thumbnails=parsed.thumbnails,
                                  plates=parsed.plates, model=parsed.model, render_later=parsed.render_later)
        return service.to_read(row, duplicate=False)


def _forget_unreferenced(settings: Settings, db: Database, sha: str) -> None:
    try:
        with db.read() as session:
            if service.find_by_sha256(session, sha) is not None:
                return
        store.remove_content(settings, sha)
    except Exception:
        log.exception("could not clean up %s after a failed upload", sha)
