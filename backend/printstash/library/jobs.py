"""Worker job handlers of the library domain: kind -> handler(ctx, payload), run in a thread.

library.reparse re-reads stored files (a bucket's are fetched into tmp/): the bounded parse
plus the full-file scan (after an upgrade of the parser, or when the scan did not finish
during the upload).
Payload {"file_id": N} does one file; {} fans out one job per stored file, so no single
job outlives its lease on a large library.

library.model_thumbnail {"file_id": N} draws the thumbnail of a model too large to draw while
its upload waited (library/ingest.py RENDER_INLINE_TRIANGLES).
"""

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from printstash import formats, gcode
from printstash.core.db import Database
from printstash.core.runtime import WorkerContext
from printstash.core.settings import Settings
from printstash.core.storage import content_key, storage_for
from printstash.formats import meshes
from printstash.library import ingest, service, store
from printstash.library.ingest import PARSERS, Parsed
from printstash.library.models import File

log = logging.getLogger(__name__)


def reparse(ctx: WorkerContext, payload: dict[str, Any]) -> None:
    file_id = payload.get("file_id")
    if file_id is None:
        fan_out_reparse(ctx.db)
    else:
        reparse_file(ctx.settings, ctx.db, int(file_id))


def fan_out_reparse(db: Database) -> int:
    with db.write() as session:
        ids = session.scalars(select(File.id).where(File.deleted_at.is_(None)).order_by(File.id)).all()
        for file_id in ids:
            service.enqueue_reparse(session, file_id)
    return len(ids)


def reparse_file(settings: Settings, db: Database, file_id: int) -> bool:
    """Re-parse one stored file; False when it is gone (purged) or its content is missing."""
    with db.read() as session:
        found = session.execute(select(File.sha256, File.kind).where(File.id == file_id)).first()
    if found is None:
        return False
    with storage_for(settings).local_copy(content_key(found.sha256)) as path:
        if path is None:
            log.warning("reparse: file %s has no stored content; skipped", file_id)
            return False
        facts = _scan(path) if found.kind == "gcode" else gcode.FullFacts()
        parsed = _parse(settings, path, found.sha256, found.kind, facts)
    with db.write() as session:
        row = session.get(File, file_id)
        if row is None:
            return False
        service.apply_metadata(row, parsed.fields, parsed.error)
        service.apply_model(row, parsed.model)
        service.replace_thumbnails(row, parsed.thumbnails)  # deletes the old rows first
        service.replace_plates(row, parsed.plates)
        row.full_scan_done = facts is not None
        if parsed.render_later:
            service.enqueue_model_thumbnail(session, file_id)
    store.prune_thumbnails(settings, found.sha256, keep={t.path for t in parsed.thumbnails})
    return True


def _parse(settings: Settings, path: Path, sha: str, kind: str, facts: gcode.FullFacts | None) -> Parsed:
    """The kind's parse; content that was checked at upload and no longer reads (a damaged disk
    copy) keeps the row, with the reason as its parse error."""
    try:
        return PARSERS[kind](settings, path, sha, facts)
    except (formats.Broken, OSError) as exc:
        log.warning("reparse of %s failed: %s", sha, exc)
        return Parsed({}, [], f"the stored file cannot be read: {exc}",
                      [] if kind in formats.MODELS else [store.PlateFields(1, {})])


def model_thumbnail(ctx: WorkerContext, payload: dict[str, Any]) -> None:
    render_model_thumbnail(ctx.settings, ctx.db, int(payload["file_id"]))


def render_model_thumbnail(settings: Settings, db: Database, file_id: int) -> bool:
    """Draw a stored model's thumbnail; False when the file or its content is gone."""
    with db.read() as session:
        found = session.execute(select(File.sha256, File.kind).where(File.id == file_id)).first()
    if found is None or found.kind not in formats.MODELS:
        return False
    with storage_for(settings).local_copy(content_key(found.sha256)) as path:
        if path is None:
            return False
        try:
            thumbnails = ingest.model_thumbnail(settings, found.sha256, meshes.load(path, found.kind))
        except formats.Broken as exc:  # read at upload; the stored copy must have changed since
            log.warning("model thumbnail: file %s cannot be read: %s", file_id, exc)
            return False
    with db.write() as session:
        row = session.get(File, file_id)
        if row is None:
            return False
        service.replace_thumbnails(row, thumbnails)
    return True


def _scan(path: Path) -> gcode.FullFacts | None:
    try:
        return gcode.scan_file(path)
    except Exception:
        log.exception("full scan of %s failed", path)
        return None


HANDLERS: dict[str, Callable[[WorkerContext, dict[str, Any]], None]] = {
    service.REPARSE_JOB: reparse, service.MODEL_THUMBNAIL_JOB: model_thumbnail}
