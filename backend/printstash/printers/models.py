"""Printers, the worker's latest view of each one, and the print history imported from them.

The api owns `printers` (admins edit it); the worker owns `printer_status`, `print_jobs`
(it writes what it polled) and `printer_leases` (which worker polls which printer). The api
only reads the status and history, which is how the SSE stream learns about changes
without talking to the worker (on PostgreSQL the worker also announces them: events.py).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from printstash.core.db import Base, UTCDateTime, utcnow
from printstash.printers.providers.base import State


class Printer(Base):
    __tablename__ = "printers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    provider: Mapped[str] = mapped_column(String(32))  # "moonraker"
    base_url: Mapped[str] = mapped_column(String(512))
    # Fernet token of the printer's API key (key file in <DATA_DIR>/secrets); never returned.
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    poll_interval: Mapped[float | None] = mapped_column(Float)  # None: VAULT_PRINTER_POLL_SECONDS
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrinterStatus(Base):
    """The latest polled status of one printer (one row per printer, written by the worker)."""

    __tablename__ = "printer_status"

    printer_id: Mapped[int] = mapped_column(
        ForeignKey("printers.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[State] = mapped_column(String(32))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    status_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # a LiveStatus
    error: Mapped[str | None] = mapped_column(Text)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last successful answer
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # history import cursor: Moonraker's start_time (unix seconds) of the newest imported job
    history_since: Mapped[float | None] = mapped_column(Float)


class PrinterLease(Base):
    """Which worker polls a printer, and until when unless it renews (printers/lease.py)."""

    __tablename__ = "printer_leases"

    printer_id: Mapped[int] = mapped_column(
        ForeignKey("printers.id", ondelete="CASCADE"), primary_key=True
    )
    worker_id: Mapped[str] = mapped_column(String(128))  # WorkerHeartbeat.worker_id
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PrintJob(Base):
    """One job from the printer's own history, linked to the vault file it printed when known."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        UniqueConstraint("printer_id", "job_id", name="uq_print_jobs_printer_job"),
        Index("ix_print_jobs_printer_start", "printer_id", "start_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    printer_id: Mapped[int] = mapped_column(ForeignKey("printers.id", ondelete="CASCADE"))
    job_id: Mapped[str] = mapped_column(String(64))  # the printer's id (Moonraker's job_id)
    filename: Mapped[str] = mapped_column(String(1024), default="")
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("files.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))  # in_progress|completed|cancelled|error|…
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    print_duration: Mapped[float | None] = mapped_column(Float)
    total_duration: Mapped[float | None] = mapped_column(Float)
    filament_used: Mapped[float | None] = mapped_column(Float)
    # True once this finished job was counted in the file's print_count (counted once only)
    recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
