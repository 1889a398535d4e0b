"""The HTTP side of an upload: a streamed multipart/form-data request -> library/ingest.py.

The body is parsed incrementally (python-multipart's MultipartParser), so the `file` part goes
straight to the data volume: no spooled second copy (measured 2x slower). The body chunks the
server already made are handed on uncopied, in batches of about 1 MiB; small text parts (the
slicers' `path`, `print`, …) are collected; anything else is skipped. Shared by
POST /api/v1/files and the slicer-compat upload.

Why python-multipart and not streaming-form-data (bench/ingest/bench_multipart.py, 199 MB of
real-slicer G-code, medians of 7, load 9-10 on 2 CPUs): python-multipart's framing is the
cheaper one, 0.039 s of CPU against 0.047 s in 256 KiB body chunks and 0.049 s against 0.056 s
in 64 KiB chunks (about 1 % of an upload's CPU either way). Fed into the same write_stream,
both take 0.42 s of CPU. streaming-form-data's own targets (file, SHA-256, scan) save that
pipeline's thread hand-offs (0.36 s of CPU) but write, hash and scan one after the other on
the event loop, where two threads overlap them on an idle core (bench/ingest/RESULTS-upload.md:
the overlap took the upload from 0.62 s to 0.55 s). It would also add a dependency that pulls
in smart-open and aiofiles.
"""

import logging
import re
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from urllib.parse import unquote

import anyio
from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from printstash.core import maintenance
from printstash.core.db import Database
from printstash.core.errors import DomainError, Invalid, TooLarge, UnsupportedMedia
from printstash.core.fastio import Batch
from printstash.core.settings import Settings
from printstash.library import ingest, service
from printstash.library.schemas import FileRead

log = logging.getLogger(__name__)

FILE_FIELD = "file"
BATCH_BYTES = 1024 * 1024
MULTIPART_SLACK = 1024 * 1024  # framing + text fields allowed on top of the file size limit
MAX_TEXT_FIELDS = 32
MAX_TEXT_FIELD_BYTES = 64 * 1024
_EXTENDED_FILENAME = re.compile(r"filename\*\s*=\s*([\w.-]*)'[^']*'([^;\s]+)", re.IGNORECASE)


@dataclass
class UploadOutcome:
    file: FileRead
    duplicate: bool
    fields: dict[str, str] = field(default_factory=dict)  # the other text parts (path, print, …)


async def receive_upload(request: Request, settings: Settings, db: Database, user_id: int | None) -> UploadOutcome:
    """Receive a multipart upload (field `file`) and store it."""
    await anyio.to_thread.run_sync(_refuse_in_maintenance, db)
    form = _Form(_boundary(request))
    _check_declared_length(request, settings)
    started = time.perf_counter()
    async with aclosing(_file_batches(request, form, settings.max_upload_bytes)) as batches:
        first = await anext(batches)  # the file part has begun: its name is known
        part = await ingest.receive(settings, form.filename, first, batches)
    received = time.perf_counter()
    try:
        stored = await anyio.to_thread.run_sync(ingest.store_part, settings, db, part, user_id)
    finally:
        part.tmp.discard()
    log.info("upload %r: %d bytes in %.2fs (body %.2fs incl. fsync %.2fs; dedupe+parse+insert %.2fs)%s",
             part.filename, part.size, time.perf_counter() - started, received - started,
             part.written.fsync_seconds, time.perf_counter() - received, " duplicate" if stored.duplicate else "")
    return UploadOutcome(file=stored.file, duplicate=stored.duplicate, fields=form.fields)


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
        raise _too_large(settings.max_upload_bytes)


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"file is larger than the upload limit of {limit // (1024 * 1024)} MB "
                    "(VAULT_MAX_UPLOAD_MB)", code="upload_too_large")


async def _file_batches(request: Request, form: "_Form", limit: int) -> AsyncGenerator[Batch]:
    """The `file` part's bytes in batches of about BATCH_BYTES, as the body arrives; once the
    body ended, whatever makes it unusable is raised (nothing is yielded for a missing or
    empty file)."""
    size = 0
    try:
        async for chunk in request.stream():
            form.write(chunk)
            if form.pending_size >= BATCH_BYTES:
                size += form.pending_size
                if size > limit:
                    raise _too_large(limit)
                yield form.take()
        form.finalize()
    except MultipartParseError as exc:
        raise Invalid(f"malformed multipart body: {exc}", code="malformed_multipart") from exc
    except ClientDisconnect:
        log.info("client went away during an upload; partial removed")
        raise DomainError("the upload was interrupted", code="client_disconnected") from None
    if form.pending_size:
        size += form.pending_size
        if size > limit:
            raise _too_large(limit)
        yield form.take()
    form.check_complete(size)


class _Form:
    """Drives MultipartParser: the first `file` part's bytes are kept (uncopied) until taken,
    small text parts go to `fields`, anything else is skipped."""

    def __init__(self, boundary: bytes):
        self.fields: dict[str, str] = {}
        self.filename = ""
        self.pending: Batch = []
        self.pending_size = 0
        self._kind = "skip"
        self._field_name = ""
        self._field_value = bytearray()
        self._headers: dict[str, str] = {}
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._file_seen = False
        self._ended = False
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field,
            "on_header_value": self._header_val, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done, "on_part_data": self._data,
            "on_part_end": self._part_end, "on_end": self._end,
        })

    def write(self, chunk: bytes) -> None:
        self._parser.write(chunk)

    def finalize(self) -> None:
        self._parser.finalize()

    def take(self) -> Batch:
        batch, self.pending, self.pending_size = self.pending, [], 0
        return batch

    def check_complete(self, size: int) -> None:
        if not self._ended:
            raise Invalid("multipart body ended early (no closing boundary)", code="malformed_multipart")
        if not self._file_seen:
            raise Invalid("no `file` field in the upload", code="missing_file")
        if size == 0:
            raise Invalid("the uploaded file is empty", code="empty_file")

    # parser callbacks (synchronous, called from write)
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
            self.filename = service.sanitize_name(_filename(disposition, params))
        elif name and b"filename" not in params and len(self.fields) < MAX_TEXT_FIELDS:
            self._kind, self._field_name, self._field_value = "field", name, bytearray()
        else:
            self._kind = "skip"

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._kind == "file" and end > start:
            # Mostly a whole body chunk: kept as it is (immutable bytes), not copied.
            piece = data if start == 0 and end == len(data) else data[start:end]
            self.pending.append(piece)
            self.pending_size += len(piece)
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
