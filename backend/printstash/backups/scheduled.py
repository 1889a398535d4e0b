"""Cron-style jobs of the operations domain: the scheduled backup and its retention."""

import logging

from printstash.backups import service
from printstash.core.errors import DomainError
from printstash.core.runtime import Scheduled, WorkerContext

log = logging.getLogger(__name__)


def schedules(ctx: WorkerContext) -> list[Scheduled]:
    """VAULT_BACKUP_SCHEDULE; an empty schedule disables scheduled backups."""
    cron = ctx.settings.backup_schedule
    return [Scheduled("backup", cron, run_backup)] if cron else []


def run_backup(ctx: WorkerContext) -> None:
    """One scheduled backup, then keep the newest VAULT_BACKUP_KEEP scheduled ones. A failure
    is already recorded for /health by the service; pruning only follows a success."""
    try:
        info = service.create_backup(ctx.settings, ctx.db, "scheduled")
    except DomainError as exc:
        log.error("scheduled backup failed: %s", exc.detail)
        return
    removed = service.prune(ctx.settings, ctx.settings.backup_keep)
    log.info("scheduled backup %s written (%d bytes); removed %d old", info.name, info.size, len(removed))
