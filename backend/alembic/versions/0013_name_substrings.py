"""name substrings: files.name_search and a trigram index over it, so that `benchy` finds
`3DBenchy_v2.gcode` (a fragment from anywhere in a name, not only a word's beginning)

files.name_search is the name folded by printstash/library/substrings.py (case, accents,
separators), written by the File model whenever the name is set and filled here in Python
for existing files, so both backends compare the very same text:
- SQLite: files_fts_names, an FTS5 table with the trigram tokenizer (case-sensitive: the
  text is folded already) over files.name_search as external content, kept in step by
  three triggers. A phrase query is an exact substring lookup.
- PostgreSQL: a pg_trgm GIN index on files.name_search, which serves `LIKE '%fragment%'`.

A plain ADD COLUMN, not batch mode (see 0005's docstring). Later migrations that rebuild
`files` in batch mode must drop files_fts_names and its triggers first and recreate them
afterwards (dropping `files` drops the triggers silently), like 0005's objects.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from printstash.library.substrings import name_text

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
FTS_TABLE = ("CREATE VIRTUAL TABLE files_fts_names USING fts5(name_search, content='files', "
             "content_rowid='id', tokenize='trigram case_sensitive 1')")
_FORGET = ("INSERT INTO files_fts_names(files_fts_names, rowid, name_search) "
           "VALUES ('delete', old.id, old.name_search);")
_INDEX = "INSERT INTO files_fts_names(rowid, name_search) VALUES (new.id, new.name_search);"
TRIGGERS = {
    "files_fts_names_ai": ("AFTER INSERT ON files", _INDEX),
    "files_fts_names_au": ("AFTER UPDATE OF name_search ON files", _FORGET + " " + _INDEX),
    "files_fts_names_ad": ("AFTER DELETE ON files", _FORGET),
}


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def _fill_name_search() -> None:
    files = sa.table("files", sa.column("id", sa.Integer), sa.column("name", sa.String),
                     sa.column("name_search", sa.Text))
    connection = op.get_bind()
    update = files.update().where(files.c.id == sa.bindparam("file_id")).values(name_search=sa.bindparam("text"))
    last = 0
    while rows := connection.execute(sa.select(files.c.id, files.c.name).where(files.c.id > last)
                                     .order_by(files.c.id).limit(BATCH)).all():
        connection.execute(update, [{"file_id": file_id, "text": name_text(name)} for file_id, name in rows])
        last = rows[-1][0]


def upgrade() -> None:
    op.execute("ALTER TABLE files ADD COLUMN name_search TEXT NOT NULL DEFAULT ''")
    _fill_name_search()
    if not _sqlite():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX files_fts_names ON files USING gin (name_search gin_trgm_ops)")
        return
    op.execute(FTS_TABLE)
    for name, (event, body) in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {event} FOR EACH ROW BEGIN {body} END")
    op.execute("INSERT INTO files_fts_names(files_fts_names) VALUES ('rebuild')")


def downgrade() -> None:
    if _sqlite():
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS files_fts_names")
    else:
        op.execute("DROP INDEX IF EXISTS files_fts_names")
    op.execute("ALTER TABLE files DROP COLUMN name_search")
