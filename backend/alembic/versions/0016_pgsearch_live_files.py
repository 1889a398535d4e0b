"""live files index (PostgreSQL): the ids of the files not in the trash, so that a text search
checks its matches against this small index instead of reading each match's files row

A search by words finds its files in files_fts (0005) and the name trigram index (0013), then
keeps those not in the trash. Without this index every match costs a lookup of its files row
(metadata JSON inline, scattered over the table); with it, an index-only lookup: the count of
`q=bracket` at 1M files (19,636 matches) 434 -> 129 ms (bench/search/bench_search.py). SQLite
needs none: its FTS5 ids lead straight to the row by rowid.

Named with the files_fts prefix: like 0013's trigram index it belongs to search's raw SQL and
is left out of autogenerate (alembic/env.py).

Revision ID: 0016_pgsearch
Revises: 0015_search
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_pgsearch"
down_revision: str | None = "0015_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        op.execute("CREATE INDEX files_fts_live ON files (id) WHERE deleted_at IS NULL")


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP INDEX IF EXISTS files_fts_live")
