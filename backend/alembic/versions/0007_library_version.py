"""library version: a counter bumped by triggers on every change to files and tags

Whole-library facets (the filter sidebar of every library page) are cached in the api and
recomputed only when this counter moved. Like 0005's FTS triggers, a later migration that
rebuilds `files`, `file_tags` or `tags` in batch mode must drop and recreate these triggers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "library_version"
# (table, event) pairs whose changes can move a facet count
EVENTS = [("files", "INSERT"), ("files", "UPDATE"), ("files", "DELETE"),
          ("file_tags", "INSERT"), ("file_tags", "DELETE"),
          ("tags", "INSERT"), ("tags", "UPDATE"), ("tags", "DELETE")]
# app_state.value is JSON: keep the counter a JSON number in text form
BUMP = f"UPDATE app_state SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = '{KEY}';"


# PostgreSQL: one trigger function, fired once per statement (app_state.value is json there)
PG_FUNCTION = f"""
CREATE FUNCTION library_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE app_state SET value = to_json((value::text)::bigint + 1) WHERE key = '{KEY}';
    RETURN NULL;
END $$
"""


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    op.execute(f"INSERT INTO app_state (key, value, updated_at) VALUES ('{KEY}', '0', CURRENT_TIMESTAMP)")
    if not _sqlite():
        op.execute(PG_FUNCTION)
    for table, event in EVENTS:
        name = f"{table}_{event.lower()}_library_version"
        if _sqlite():
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP} END")
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION library_version_bump()")


def downgrade() -> None:
    for table, event in EVENTS:
        on_table = "" if _sqlite() else f" ON {table}"  # PostgreSQL names triggers per table
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{event.lower()}_library_version{on_table}")
    if not _sqlite():
        op.execute("DROP FUNCTION IF EXISTS library_version_bump()")
    op.execute(f"DELETE FROM app_state WHERE key = '{KEY}'")
