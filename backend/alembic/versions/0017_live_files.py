"""live files count: app_state["live_files"], the number of files not in the trash, kept by
triggers on files

A library page without filters shows the total of the whole library. SQLite counts a table
without reading its rows, but PostgreSQL reads an index entry per file for it; with the
counter both read one row (the count's statement 7.2 -> 0.8 ms on PostgreSQL at
bench/search/bench_search.py's 100k files, docs/performance.md). Like 0007's library version,
a later migration that rebuilds `files` in batch mode must drop and recreate these triggers.

PostgreSQL's triggers fire once per statement and count the statement's rows in its transition
tables: a row trigger would update the app_state row once per file, and a bulk insert in one
transaction (`printstash db copy`) would then leave a new version of that row per file
(reasoned from PostgreSQL's MVCC, not measured). They fire after 0007's (triggers of one event
fire in name order: library_version before live_files), so every transaction takes the two
app_state rows in the same order and two cannot deadlock.

Revision ID: 0017_live_files
Revises: 0016_pgsearch
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_live_files"
down_revision: str | None = "0016_pgsearch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "live_files"
LIVE = "deleted_at IS NULL"


def _sqlite_add(amount: str) -> str:
    # app_state.value is JSON: keep the count a JSON number in text form, as 0007 does
    return f"UPDATE app_state SET value = CAST(CAST(value AS INTEGER) + {amount} AS TEXT) WHERE key = '{KEY}';"


SQLITE_TRIGGERS = {
    "files_insert_live_files": f"AFTER INSERT ON files WHEN NEW.{LIVE} BEGIN {_sqlite_add('1')} END",
    "files_delete_live_files": f"AFTER DELETE ON files WHEN OLD.{LIVE} BEGIN {_sqlite_add('-1')} END",
    "files_update_live_files": (
        f"AFTER UPDATE OF deleted_at ON files WHEN (OLD.{LIVE}) <> (NEW.{LIVE}) "
        f"BEGIN {_sqlite_add(f'CASE WHEN NEW.{LIVE} THEN 1 ELSE -1 END')} END"),
}

# PostgreSQL: (trigger, event, transition tables, the change in live files as SQL)
PG_TRIGGERS = [
    ("files_insert_live_files", "INSERT", "NEW TABLE AS new_files",
     f"(SELECT count(*) FROM new_files WHERE {LIVE})"),
    ("files_delete_live_files", "DELETE", "OLD TABLE AS old_files",
     f"-(SELECT count(*) FROM old_files WHERE {LIVE})"),
    ("files_update_live_files", "UPDATE", "OLD TABLE AS old_files NEW TABLE AS new_files",
     f"(SELECT count(*) FROM new_files WHERE {LIVE}) - (SELECT count(*) FROM old_files WHERE {LIVE})"),
]


def _pg_function(trigger: str, change: str) -> str:
    return f"""
CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE change bigint := {change};
BEGIN
    IF change <> 0 THEN
        UPDATE app_state SET value = to_json((value::text)::bigint + change) WHERE key = '{KEY}';
    END IF;
    RETURN NULL;
END $$
"""


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    count = f"(SELECT count(*) FROM files WHERE {LIVE})"
    value = f"CAST({count} AS TEXT)" if _sqlite() else f"to_json({count})"
    op.execute(f"INSERT INTO app_state (key, value, updated_at) VALUES ('{KEY}', {value}, CURRENT_TIMESTAMP)")
    if _sqlite():
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for name, event, tables, change in PG_TRIGGERS:
        op.execute(_pg_function(name, change))
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON files REFERENCING {tables} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")


def downgrade() -> None:
    if _sqlite():
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, *_ in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON files")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute(f"DELETE FROM app_state WHERE key = '{KEY}'")
