"""The backup policy as the Backups page shows it: schedule, next run, retention, place."""

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from printstash.backups.schemas import BackupPolicy
from printstash.core.db import utcnow
from printstash.core.settings import Settings


def policy(settings: Settings, now: datetime | None = None) -> BackupPolicy:
    cron = settings.backup_schedule.strip() or None
    return BackupPolicy(schedule=cron, next_run_at=next_run(cron, now or utcnow()) if cron else None,
                        keep=settings.backup_keep, max_age_hours=settings.backup_max_age_hours,
                        directory=str(settings.backups_dir),
                        restore_command="printstash backup restore <file>")


def next_run(cron: str, now: datetime) -> datetime | None:
    """When the worker starts the next scheduled backup (the same trigger it runs, in UTC)."""
    fire: datetime | None = CronTrigger.from_crontab(cron, timezone="UTC").get_next_fire_time(None, now)
    return fire
