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


def upgrade() -> None:
    op.execute(f"INSERT INTO app_state (key, value, updated_at) VALUES ('{KEY}', '0', CURRENT_TIMESTAMP)")
    for table, event in EVENTS:
        op.execute(f"CREATE TRIGGER {table}_{event.lower()}_library_version AFTER {event} ON {table} "
                   f"BEGIN {BUMP} END")


def downgrade() -> None:
    for table, event in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{event.lower()}_library_version")
    op.execute(f"DELETE FROM app_state WHERE key = '{KEY}'")
