"""Cron-style jobs of the library domain: purge the trash after VAULT_TRASH_RETENTION_DAYS,
sweep partial uploads nobody is writing any more and content no row refers to, keep the
preview's plain G-code cache within VAULT_PREVIEW_CACHE_MB, and queue a re-parse of every file
after an upgrade."""

import logging
from datetime import timedelta

from sqlalchemy import select

from printstash import __version__
from printstash.core.db import Database
from printstash.core.runtime import Scheduled, WorkerContext
from printstash.core.settings import Settings
from printstash.library import ingest, service, store
from printstash.library.models import File

log = logging.getLogger(__name__)
PURGE_CRON = "17 * * * *"  # hourly: retention is in days, an hour late is fine


def schedules(ctx: WorkerContext) -> list[Scheduled]:
    return [Scheduled(name="library.housekeeping", cron=PURGE_CRON, func=purge_job)]


ORPHAN_MIN_AGE_SECONDS = 3600.0


def purge_job(ctx: WorkerContext) -> None:
    with ctx.db.write() as session:
        if service.reparse_after_upgrade(session, f"{__version__}+parse{ingest.PARSE_GENERATION}"):
            log.info("PrintStash %s: re-parsing every stored file in the background", __version__)
    purged = purge(ctx.settings, ctx.db)
    store.clean_stale_parts(ctx.settings)
    if evicted := store.evict_plain_cache(ctx.settings, ctx.settings.preview_cache_mb << 20):
        log.info("removed %d plate(s) from the preview's plain G-code cache", evicted)
    orphans = sweep_orphans(ctx.settings, ctx.db)
    if purged or orphans:
        log.info("purged %d file(s) from the trash, %d orphaned file(s) from storage", purged, orphans)


def sweep_orphans(settings: Settings, db: Database, min_age_seconds: float = ORPHAN_MIN_AGE_SECONDS) -> int:
    """Content/thumbnails no row refers to: what a crash between storing and commit leaves.
    Removed under the write lock, the lock an upload checks its content under before it
    commits its row (library/ingest.py _insert): content re-used meanwhile is never lost."""
    candidates = store.old_objects(settings, min_age_seconds)
    if not candidates:
        return 0
    with db.write() as session:
        known = set(session.scalars(select(File.sha256)))
        return store.remove_unreferenced(settings, candidates, known)


def purge(settings: Settings, db: Database) -> int:
    """Delete rows trashed for longer than the retention period, and their content."""
    with db.write() as session:
        return service.purge_trash_content(session, settings, timedelta(days=settings.trash_retention_days))
