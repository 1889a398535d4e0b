"""Component checks behind GET /api/v1/health. Each returns {"status", "reason"?, …details};
the router strips everything but status/reason for callers who are not admins."""

import logging
import os
import shutil
import time
import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from printstash.auth import service as auth_service
from printstash.backups import service as backups
from printstash.core import maintenance
from printstash.core.db import Database, utcnow
from printstash.core.objects import StorageUnavailable
from printstash.core.schema import head_revision
from printstash.core.settings import Settings
from printstash.core.storage import storage_for
from printstash.health.printers import provider_summary
from printstash.health.schemas import Component

log = logging.getLogger(__name__)
OK, DEGRADED, ERROR, UNKNOWN = "ok", "degraded", "error", "unknown"
RANK = {OK: 0, UNKNOWN: 1, DEGRADED: 1, ERROR: 2}
LOW_FREE_BYTES = 1024**3
LOW_FREE_PERCENT = 5.0
PUBLIC_KEYS = ("status", "reason")


def overall(components: dict[str, Component]) -> str:
    worst = max((RANK.get(c["status"], 2) for c in components.values()), default=0)
    return {0: OK, 1: DEGRADED, 2: ERROR}[worst]


def public_view(component: Component) -> Component:
    """Statuses and reason codes only: no paths, numbers about the host, or error text."""
    return {k: component[k] for k in PUBLIC_KEYS if k in component}


def check_database(db: Database) -> Component:
    backend = db.read_engine.dialect.name  # "sqlite" or "postgresql"
    started = time.perf_counter()
    try:
        with db.read() as session:
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # any driver error means "not usable": report, never raise
        log.warning("health: %s database unreachable: %s", backend, exc)
        return {"status": ERROR, "reason": "unreachable", "backend": backend, "error": str(exc)}
    latency = round((time.perf_counter() - started) * 1000, 2)
    head = head_revision()
    found: Component = {"backend": backend, "latency_ms": latency, "revision": revision, "head": head}
    if revision != head:
        return {"status": ERROR, "reason": "schema_mismatch", **found}
    return {"status": OK, **found}


def check_storage(settings: Settings) -> Component:
    """The local volume (uploads land in tmp/ first) and, with VAULT_STORAGE=s3, the bucket:
    reachable and writable (a probe object written, read back and removed)."""
    try:
        _probe_write(settings)
    except OSError as exc:
        return {"status": ERROR, "reason": "not_writable", "error": exc.strerror or str(exc)}
    usage = shutil.disk_usage(settings.data_dir)
    percent = round(100.0 * usage.free / usage.total, 2) if usage.total else 0.0
    found: Component = {"free_bytes": usage.free, "total_bytes": usage.total, "free_percent": percent,
                        "data_dir": str(settings.data_dir)}
    if settings.storage == "s3":
        found["bucket"] = settings.s3_bucket
        try:
            storage_for(settings).probe()
        except StorageUnavailable as exc:
            return {"status": ERROR, "reason": "bucket_unreachable", "error": exc.detail, **found}
    if usage.free < LOW_FREE_BYTES or percent < LOW_FREE_PERCENT:
        return {"status": DEGRADED, "reason": "low_free_space", **found}
    return {"status": OK, **found}


def _probe_write(settings: Settings) -> None:
    """Create, fsync and remove a small file where uploads land (tmp/ on the data volume)."""
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    probe = settings.tmp_dir / f".health-{uuid.uuid4().hex}"
    try:
        with probe.open("wb") as fh:
            fh.write(b"ok")
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        probe.unlink(missing_ok=True)


def check_backup(settings: Settings, session: Session) -> Component:
    state = backups.state(session)
    success = _when(state.last_success_at)
    failed = _when(state.last_error_at)
    found: Component = {"last_success_at": state.last_success_at, "last_name": state.last_name,
                        "max_age_hours": settings.backup_max_age_hours, "schedule": settings.backup_schedule}
    if failed is not None and (success is None or failed > success):
        found.update(last_error=state.last_error, last_error_at=state.last_error_at)
    if success is None and failed is None and _first_backup_pending(settings, session):
        return {"status": OK, "reason": "first_backup_pending", **found}
    if success is None:
        return {"status": DEGRADED, "reason": "failed" if failed else "no_backup_yet", **found}
    age = (utcnow() - success).total_seconds() / 3600
    found["age_hours"] = round(age, 2)
    if "last_error" in found:
        return {"status": DEGRADED, "reason": "last_backup_failed", **found}
    if age > settings.backup_max_age_hours:
        return {"status": DEGRADED, "reason": "too_old", **found}
    return {"status": OK, **found}


def _first_backup_pending(settings: Settings, session: Session) -> bool:
    """A new vault has no backup yet and nothing is wrong: the schedule makes the first one.
    Only when that has not happened within the allowed age does an admin have to act (as
    when the schedule is off: then backups are theirs to make)."""
    if not settings.backup_schedule:
        return False
    since = auth_service.in_use_since(session)
    return since is None or (utcnow() - since).total_seconds() / 3600 <= settings.backup_max_age_hours


def _when(value: str | None) -> datetime | None:
    try:
        return None if value is None else datetime.fromisoformat(value)
    except ValueError:
        return None


def check_session_components(settings: Settings, db: Database) -> tuple[dict[str, Component], maintenance.Mode]:
    """backup, printer_providers and the maintenance flag: all read from the database."""
    try:
        with db.read() as session:
            comps = {"backup": check_backup(settings, session), "printer_providers": provider_summary(session)}
            return comps, maintenance.status(session)
    except Exception as exc:  # the database check already says why; these are unknown
        log.warning("health: could not read component state: %s", exc)
        unknown = {"status": UNKNOWN, "reason": "database_unavailable"}
        return {"backup": dict(unknown), "printer_providers": dict(unknown)}, maintenance.Mode()


def report(settings: Settings, db: Database, *, detailed: bool) -> dict[str, object]:
    components = {"database": check_database(db), "storage": check_storage(settings)}
    more, mode = check_session_components(settings, db)
    components.update(more)
    shown = components if detailed else {name: public_view(c) for name, c in components.items()}
    flag: dict[str, object] = {"on": mode.on}
    if mode.on:
        flag.update(message=mode.message, since=mode.since)
    return {"status": overall(components), "components": shown, "maintenance": flag}
