"""files_fts.live (PostgreSQL): whether a file is out of the trash, kept in its words' row

A search by words on PostgreSQL reads each match's files_fts row to rank it, then checked the
match against the live files' index (0016) in a lookup of its own. With the flag in the row the
search reads anyway, a search without filters needs no lookup per match: the page of
`q=bracket` (1,157 matches at bench/search/bench_search.py's 100k files) 10.0 -> 6.3 ms in
PostgreSQL (the two statements alternating on one connection, docs/performance.md).

The flag is set when the row is written (0005's files_fts_refresh, which an insert runs: `printstash
db copy` inserts files already in the trash) and changed by a trigger of its own when a file
goes to the trash or comes back, so that trashing files does not rebuild their words.

Revision ID: 0018_pgsearch_live
Revises: 0017_live_files
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_pgsearch_live"
down_revision: str | None = "0017_live_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _refresh(columns: str, values: str, updates: str) -> str:
    """0005's files_fts_refresh(file_id), writing these columns."""
    return f"""
CREATE OR REPLACE FUNCTION files_fts_refresh(file_id integer) RETURNS void LANGUAGE sql AS $$
INSERT INTO files_fts ({columns}) SELECT {values} FROM files AS f WHERE f.id = file_id
ON CONFLICT (id) DO UPDATE SET {updates}
$$
"""


REFRESH = _refresh("id, document, live", "f.id, files_fts_document(f.id), f.deleted_at IS NULL",
                   "document = excluded.document, live = excluded.live")
REFRESH_0005 = _refresh("id, document", "f.id, files_fts_document(f.id)", "document = excluded.document")
TRASHED = """
CREATE FUNCTION files_fts_file_trashed() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN UPDATE files_fts SET live = NEW.deleted_at IS NULL WHERE id = NEW.id; RETURN NULL; END $$
"""
TRASHED_TRIGGER = """
CREATE TRIGGER files_fts_files_au_trash AFTER UPDATE OF deleted_at ON files FOR EACH ROW
WHEN ((OLD.deleted_at IS NULL) IS DISTINCT FROM (NEW.deleted_at IS NULL)) EXECUTE FUNCTION files_fts_file_trashed()
"""


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return  # SQLite's FTS5 ids lead straight to the files row, which says it
    # a constant default adds the column without rewriting the table; only the trash is updated
    op.execute("ALTER TABLE files_fts ADD COLUMN live boolean NOT NULL DEFAULT true")
    op.execute("UPDATE files_fts SET live = false FROM files WHERE files.id = files_fts.id "
               "AND files.deleted_at IS NOT NULL")
    op.execute(REFRESH)
    op.execute(TRASHED)
    op.execute(TRASHED_TRIGGER)


def downgrade() -> None:
    if not _postgresql():
        return
    op.execute("DROP TRIGGER IF EXISTS files_fts_files_au_trash ON files")
    op.execute("DROP FUNCTION IF EXISTS files_fts_file_trashed()")
    op.execute(REFRESH_0005)
    op.execute("ALTER TABLE files_fts DROP COLUMN live")
