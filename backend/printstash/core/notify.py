"""PostgreSQL LISTEN/NOTIFY: how one process tells the others "these rows changed".

A writer publishes ids in its own transaction (`pg_notify`), so listeners hear of a change
only once it is committed and never of a rolled-back one. Listeners hold one connection of
their own outside the pool (a LISTENing connection must stay open and idle). Notifications
sent while a listener is disconnected are lost: a listener re-reads what it serves after
every (re)connect. SQLite has no such channel; one host's processes poll the table instead.
"""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

PAYLOAD_MAX = 7000  # PostgreSQL refuses payloads of 8000 bytes and more


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def publish(session: Session, channel: str, ids: Iterable[int]) -> None:
    """NOTIFY `channel` with the ids, comma-separated (several notifications when long)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for payload in payloads(ids):
        session.execute(select(func.pg_notify(channel, payload)))


def payloads(ids: Iterable[int]) -> list[str]:
    out: list[str] = []
    current = ""
    for item in sorted(set(ids)):
        text = str(item)
        if current and len(current) + 1 + len(text) > PAYLOAD_MAX:
            out.append(current)
            current = ""
        current = f"{current},{text}" if current else text
    return [*out, current] if current else out


def parse(payload: str) -> set[int]:
    """The ids of one notification (anything else on the channel is ignored)."""
    return {int(part) for part in payload.split(",") if part.strip().isdigit()}


def conninfo(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (`postgresql+psycopg://…` → `postgresql://…`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def listening(url: str, channel: str) -> AsyncIterator[AsyncIterator[set[int]]]:
    """A connection LISTENing on `channel`; yields the stream of its notifications' ids."""
    import psycopg  # loaded by PostgreSQL installs only, as in core/db.py
    from psycopg import sql

    conn = await psycopg.AsyncConnection.connect(conninfo(url), autocommit=True)
    async with conn:
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        yield (parse(note.payload) async for note in conn.notifies())
