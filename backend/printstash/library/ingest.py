"""Streaming upload: multipart body -> tmp/<uuid>.part -> files/ab/<sha256> -> one row.

The multipart body is parsed incrementally (python-multipart's MultipartParser), so the file
part goes straight to the data volume: no spooled second copy (measured 2x slower,
reference/stack.md §2). The body chunks the server already made go, uncopied, in batches of
about 1 MiB to two threads, one writing, one hashing and feeding the full-file G-code scan,
while the event loop receives the next batch. The disk writeback starts as the bytes arrive,
so the closing fsync has little left to flush.

Order of effects, so that a crash at any point leaves nothing visible:
1. tmp/<uuid>.part (flock'ed while written; removed on any error, or at the next start-up);
2. fsync, rename into files/ab/<sha256> (content no row points at is invisible, and swept
   by the worker after an hour);
3. thumbnails written atomically; 4. row + thumbnail rows in ONE transaction.
"""

import asyncio
import errno
import fcntl
import hashlib
import logging
import os
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

import anyio
from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.requests import ClientDisconnect

from printstash import gcode
from printstash.core import maintenance
from printstash.core.db import Database
from printstash.core.errors import DomainError, InsufficientStorage, Invalid, TooLarge, UnsupportedMedia
from printstash.core.settings import Settings
from printstash.core.storage import Writeback, content_path, publish
from printstash.library import service, store
from printstash.library.schemas import FileRead

log = logging.getLogger(__name__)

FILE_FIELD = "file"
BATCH_BYTES = 1024 * 1024
SNIFF_BYTES = 1024
MULTIPART_SLACK = 1024 * 1024  # framing + text fields allowed on top of the file size limit
MAX_TEXT_FIELDS = 32
MAX_TEXT_FIELD_BYTES = 64 * 1024
MAX_THUMBNAILS = 32  # slicers write 1-4; more is a crafted file
_EXTENDED_FILENAME = re.compile(r"filename\*\s*=\s*([\w.-]*)'[^']*'([^;\s]+)", re.IGNORECASE)
PARSE_TIMEOUT_SECONDS = 10.0  # bounded stage reads 2 MiB: seconds mean something is wrong


@dataclass
class UploadOutcome:
    file: FileRead
    duplicate: bool
    fields: dict[str, str] = field(default_factory=dict)  # the other text parts (path, print, …)


async def receive_upload(request: Request, settings: Settings, db: Database, user_id: int | None) -> UploadOutcome:
    """Receive a multipart upload (field `file`) and store it; the shared entry point of
    POST /api/v1/files and the slicer-compat upload."""
    await anyio.to_thread.run_sync(_refuse_in_maintenance, db)
    boundary = _boundary(request)
    _check_declared_length(request, settings)
    receiver = _Receiver(boundary, _PartWriterFactory(settings))
    started = time.perf_counter()
    try:
        part = await receiver.receive(request, settings.max_upload_bytes)
        received = time.perf_counter()
        stored = await anyio.to_thread.run_sync(_store, settings, db, part, user_id)
    finally:
        receiver.discard()
    log.info("upload %r: %d bytes in %.2fs (body %.2fs incl. fsync %.2fs; dedupe+parse+insert %.2fs)%s",
             part.filename, part.size, time.perf_counter() - started, received - started, part.fsync_seconds,
             time.perf_counter() - received, " duplicate" if stored[1] else "")
    return UploadOutcome(file=stored[0], duplicate=stored[1], fields=receiver.fields)


def _refuse_in_maintenance(db: Database) -> None:
    with db.read() as session:
        maintenance.refuse_if_on(session)


def _boundary(request: Request) -> bytes:
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data":
        raise UnsupportedMedia("send multipart/form-data with the G-code in the `file` field",
                               code="not_multipart")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise Invalid("multipart/form-data without a valid boundary", code="malformed_multipart")
    return boundary


def _check_declared_length(request: Request, settings: Settings) -> None:
    """Refuse before reading a byte when Content-Length already says it is too big."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_upload_bytes + MULTIPART_SLACK:
        raise _too_large_limit(settings.max_upload_bytes)


# ---- the .part file ----------------------------------------------------------------------

class _PartWriter:
    """tmp/<uuid>.part: written (`store`), hashed and scanned (`digest`) batch by batch.

    The receiver runs store and digest of each batch on two threads (_Stages) while it
    receives the next ones: writing and hashing release the GIL, so the three overlap (2 cores
    here; hashing and writing on one thread were the slowest stage).
    """

    def __init__(self, settings: Settings, filename: str):
        self.filename = filename
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.path, fh = _new_part(settings.tmp_dir)
        self._fh: BinaryIO | None = fh
        self._writeback = Writeback(fh.fileno())
        self.sha = hashlib.sha256()
        self.size = 0
        self._scan: Any = _new_scan()
        self.facts: Any = None  # gcode.FullFacts once finished
        self.fsync_seconds = 0.0

    def store(self, pieces: list[bytes]) -> None:
        assert self._fh is not None
        for piece in pieces:
            with _disk_errors():
                self._fh.write(piece)
            self._writeback.wrote(len(piece))

    def digest(self, pieces: list[bytes]) -> None:
        for piece in pieces:
            self.sha.update(piece)
        if self._scan is None:
            return
        try:
            for piece in pieces:
                self._scan.feed(piece)
        except Exception:  # the scan is an extra: a scanner bug must not lose the upload
            log.exception("full scan failed during upload of %s; a reparse job will redo it", self.filename)
            self._scan = None

    def finish(self) -> None:
        """fsync; collect the full-file facts. The file stays open, so its flock keeps other
        processes' cleanups away until discard(), after it was renamed into the store."""
        assert self._fh is not None
        started = time.perf_counter()
        with _disk_errors():
            self._fh.flush()
            os.fsync(self._fh.fileno())
        self.fsync_seconds = time.perf_counter() - started
        if self._scan is not None:
            try:
                self.facts = self._scan.finish()
            except Exception:
                log.exception("full scan failed to finish for %s", self.filename)

    def _close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.close()  # also drops the flock

    def discard(self) -> None:
        """Close (dropping the flock) and remove the .part unless it was renamed into the store."""
        self._close()
        self.path.unlink(missing_ok=True)


class _Stages:
    """The two per-upload threads (store; digest = SHA-256 + scan), each one worker so the
    batches stay in order. Up to DEPTH batches are in flight, so a thread that falls behind
    briefly does not stall receiving; memory stays bounded at DEPTH batches."""

    DEPTH = 4

    def __init__(self, writer: _PartWriter) -> None:
        self._writer = writer
        self._store = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-store")
        self._digest = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-digest")
        self._inflight: deque[asyncio.Future[Any]] = deque()

    async def submit(self, batch: list[bytes]) -> None:
        while len(self._inflight) >= 2 * self.DEPTH:
            await self._inflight.popleft()  # raises the batch's error, if it had one
        loop = asyncio.get_running_loop()
        self._inflight.append(loop.run_in_executor(self._store, self._writer.store, batch))
        self._inflight.append(loop.run_in_executor(self._digest, self._writer.digest, batch))

    async def drain(self) -> None:
        try:
            while self._inflight:
                await self._inflight.popleft()
        finally:
            await self.settle()

    async def settle(self) -> None:
        """Wait until no thread touches the part any more (errors were or will be raised by
        drain); then let the threads go."""
        if self._inflight:
            await asyncio.wait(self._inflight)
            self._inflight.clear()
        self._store.shutdown(wait=False)
        self._digest.shutdown(wait=False)


def _new_part(tmp_dir: Path) -> tuple[Path, BinaryIO]:
    """A new, flock'ed tmp/<uuid>.part. A cleanup in another process can take and delete a
    part between its creation and our flock; then the name points elsewhere: take another."""
    while True:
        path = tmp_dir / f"{uuid.uuid4().hex}{store.PART_SUFFIX}"
        with _disk_errors():
            fh = path.open("xb")
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            if path.stat().st_ino == os.fstat(fh.fileno()).st_ino:
                return path, fh
        except FileNotFoundError:
            pass
        fh.close()


def _new_scan() -> Any:
    try:
        return gcode.FullScan()
    except Exception:
        log.exception("could not start the full-file scan")
        return None


class _disk_errors:
    """Turn ENOSPC/EDQUOT into a clear 507 (the partial is removed by the caller)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if _is_disk_full(exc):
            raise InsufficientStorage("the data volume is full; free some space and upload again",
                                      code="disk_full") from exc


def _is_disk_full(exc: BaseException | None) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    # SQLite reports SQLITE_FULL as an OperationalError "database or disk is full"
    return isinstance(exc, OperationalError) and "disk is full" in str(exc)


@dataclass
class _PartWriterFactory:
    settings: Settings

    def __call__(self, filename: str) -> _PartWriter:
        return _PartWriter(self.settings, filename)


# ---- multipart framing ---------------------------------------------------------------------

class _Receiver:
    """Drives MultipartParser; the `file` part goes to a _PartWriter, small text parts to
    `fields`, anything else is skipped."""

    def __init__(self, boundary: bytes, new_writer: Callable[[str], _PartWriter]):
        self.fields: dict[str, str] = {}
        self.writer: _PartWriter | None = None
        self._new_writer = new_writer
        self._pending: list[bytes] = []  # file bytes not yet handed to the threads
        self._pending_size = 0
        self._sniffed = False
        self._kind = "skip"
        self._field_name = ""
        self._field_value = bytearray()
        self._headers: dict[str, str] = {}
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._file_seen = False
        self._ended = False
        self._stages: _Stages | None = None
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_val, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done, "on_part_data": self._data,
            "on_part_end": self._part_end, "on_end": self._end,
        })

    async def receive(self, request: Request, limit: int) -> _PartWriter:
        """Read the whole body; returns the finished (fsynced) file part."""
        try:
            await self._read_body(request, limit)
            await self._flush(limit, final=True)
            return await self._finish()
        except BaseException:
            await self._settle()  # no thread may still write when the caller discards the part
            raise

    async def _read_body(self, request: Request, limit: int) -> None:
        try:
            async for chunk in request.stream():
                self._parser.write(chunk)
                if self._pending_size >= BATCH_BYTES:
                    await self._flush(limit)
            self._parser.finalize()
        except MultipartParseError as exc:
            raise Invalid(f"malformed multipart body: {exc}", code="malformed_multipart") from exc
        except ClientDisconnect:
            log.info("client went away during an upload; partial removed")
            raise DomainError("the upload was interrupted", code="client_disconnected") from None

    async def _flush(self, limit: int, *, final: bool = False) -> None:
        if not self._pending:
            return
        writer = self.writer
        assert writer is not None
        if writer.size + self._pending_size > limit:
            raise _too_large_limit(limit)
        if not self._sniffed and (final or self._pending_size >= SNIFF_BYTES):
            self._sniff(b"".join(self._pending)[:SNIFF_BYTES])
        batch, size, self._pending, self._pending_size = self._pending, self._pending_size, [], 0
        if self._stages is None:
            self._stages = _Stages(writer)
        await self._stages.submit(batch)
        writer.size += size

    async def _drain(self) -> None:
        """Wait for every batch in flight; the first error (e.g. disk full) is raised here."""
        if self._stages is not None:
            await self._stages.drain()

    async def _settle(self) -> None:
        if self._stages is not None:
            await self._stages.settle()

    async def _finish(self) -> _PartWriter:
        if not self._ended:
            raise Invalid("multipart body ended early (no closing boundary)", code="malformed_multipart")
        writer = self.writer
        if writer is None:
            raise Invalid("no `file` field in the upload", code="missing_file")
        if writer.size == 0:
            raise Invalid("the uploaded file is empty", code="empty_file")
        await self._drain()
        await anyio.to_thread.run_sync(writer.finish)
        return writer

    def _sniff(self, head: bytes) -> None:
        self._sniffed = True
        if not gcode.looks_like_gcode(head):
            raise UnsupportedMedia("the file does not look like G-code (checked its content, not its name)",
                                   code="not_gcode")

    def discard(self) -> None:
        """Remove the .part (a no-op once it was renamed into the store)."""
        if self.writer is not None:
            self.writer.discard()

    # parser callbacks (synchronous, called from _parser.write)
    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_val(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        name = self._header_name.decode("latin-1").strip().lower()
        self._headers[name] = self._header_value.decode("latin-1")
        self._header_name, self._header_value = bytearray(), bytearray()

    def _headers_done(self) -> None:
        disposition = self._headers.get("content-disposition", "")
        _, params = parse_options_header(disposition)
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name == FILE_FIELD and not self._file_seen:
            self._file_seen = True
            self._kind = "file"
            self.writer = self._new_writer(service.sanitize_name(_filename(disposition, params)))
        elif name and b"filename" not in params and len(self.fields) < MAX_TEXT_FIELDS:
            self._kind, self._field_name, self._field_value = "field", name, bytearray()
        else:
            self._kind = "skip"

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._kind == "file" and end > start:
            # Mostly a whole body chunk: kept as it is (immutable bytes), not copied.
            piece = data if start == 0 and end == len(data) else data[start:end]
            self._pending.append(piece)
            self._pending_size += len(piece)
        elif self._kind == "field" and len(self._field_value) < MAX_TEXT_FIELD_BYTES:
            self._field_value += data[start:end]

    def _part_end(self) -> None:
        if self._kind == "field":
            value = self._field_value[:MAX_TEXT_FIELD_BYTES].decode("utf-8", "replace")
            self.fields[self._field_name] = value
        self._kind = "skip"

    def _end(self) -> None:
        self._ended = True


def _filename(disposition: str, params: dict[bytes, bytes]) -> str:
    """The part's file name: RFC 5987 `filename*=utf-8''…` when given (some clients send only
    that for non-ASCII names), else the plain `filename` (raw UTF-8 bytes, as browsers send)."""
    extended = _EXTENDED_FILENAME.search(disposition)
    if extended:
        try:
            return unquote(extended[2], encoding=extended[1] or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            return unquote(extended[2], errors="replace")
    return params.get(b"filename", b"").decode("utf-8", "replace")


def _too_large_limit(limit: int) -> TooLarge:
    return TooLarge(f"file is larger than the upload limit of {limit // (1024 * 1024)} MB "
                    "(VAULT_MAX_UPLOAD_MB)", code="upload_too_large")


# ---- into the store --------------------------------------------------------------------------

def _store(settings: Settings, db: Database, part: _PartWriter, user_id: int | None) -> tuple[FileRead, bool]:
    """Runs in a thread: dedupe, publish, parse, insert. Returns (file, duplicate)."""
    sha = part.sha.hexdigest()
    existing = _existing(db, sha)
    if existing is not None:
        return existing, True
    final = content_path(settings, sha)
    with _disk_errors():
        publish(part.path, final)
    try:
        with _disk_errors():  # thumbnails and the database can hit a full volume too
            return _insert(settings, db, part, sha, user_id), False
    except IntegrityError:
        # Same content committed by a concurrent upload since the check: that row wins.
        again = _existing(db, sha)
        if again is None:
            raise
        return again, True
    except BaseException:
        _forget_unreferenced(settings, db, sha)
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


def _insert(settings: Settings, db: Database, part: _PartWriter, sha: str, user_id: int | None) -> FileRead:
    final = content_path(settings, sha)
    fields, thumbs, error = parse_stored(settings, final, sha, part.facts)
    with db.write() as session:
        row = service.create_file(session, name=part.filename, size=part.size, sha256=sha,
                                  uploaded_by=user_id, fields=fields, parse_error=error,
                                  full_scan_done=part.facts is not None, thumbnails=thumbs)
        return service.to_read(row, duplicate=False)


def _forget_unreferenced(settings: Settings, db: Database, sha: str) -> None:
    try:
        with db.read() as session:
            if service.find_by_sha256(session, sha) is not None:
                return
        store.remove_content(settings, sha)
    except Exception:
        log.exception("could not clean up %s after a failed upload", sha)


# ---- parsing (also used by the reparse job) ------------------------------------------------

def parse_stored(settings: Settings, path: Path, sha: str, facts: Any
                 ) -> tuple[dict[str, Any], list[store.StoredThumbnail], str | None]:
    """Bounded parse of a stored file (time-limited), merged with full-file facts;
    thumbnails written under thumbs/. Never raises for a bad file: the error is returned."""
    try:
        meta = _bounded_parse(path)
    except Exception as exc:
        log.warning("parse of %s failed: %s", path.name, exc)
        return _facts_fields(facts), [], f"parse failed: {exc or type(exc).__name__}"
    fields = _merged_fields(meta, facts)
    thumbs = _write_thumbnails(settings, sha, getattr(meta, "thumbnails", []) or [])
    errors = [str(e) for e in (getattr(meta, "errors", None) or [])]
    return fields, thumbs, "; ".join(errors) or None


def _bounded_parse(path: Path) -> Any:
    return gcode.parse(path, time_limit=PARSE_TIMEOUT_SECONDS)


def _merged_fields(meta: Any, facts: Any) -> dict[str, Any]:
    bounded = dict(getattr(meta, "fields", {}) or {})
    if facts is None:
        return bounded
    try:
        return dict(gcode.merge(meta, facts))
    except Exception:
        log.exception("merging full-file facts failed; keeping the bounded parse only")
        return {**_facts_fields(facts), **bounded}


def _facts_fields(facts: Any) -> dict[str, Any]:
    fields = getattr(facts, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


def _write_thumbnails(settings: Settings, sha: str, thumbnails: list[Any]) -> list[store.StoredThumbnail]:
    stored: list[store.StoredThumbnail] = []
    for thumb in thumbnails[:MAX_THUMBNAILS]:
        fmt = store.thumbnail_format(str(getattr(thumb, "format", "")))
        data = getattr(thumb, "data", b"")
        if fmt is None or not isinstance(data, bytes | bytearray) or not data:
            continue
        stored.append(store.write_thumbnail(settings, sha, len(stored), int(thumb.width),
                                            int(thumb.height), fmt, bytes(data)))
    return stored

