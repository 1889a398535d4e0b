"""tag key: tags.name_key, the stored case-insensitive key that makes tag names unique

Tag names were unique through SQLite's NOCASE collation, which PostgreSQL does not have and
which no statement could rely on for "insert unless it exists". Every backend now keeps the
key (the name with ASCII letters lowered, NOCASE's equality, so existing vaults cannot
collide) in its own column under a unique index; printstash/library/tags.py writes it.

A plain ADD COLUMN and CREATE INDEX, not batch mode: rebuilding `tags` would trip over the
FTS triggers of 0005 (see its docstring). The column is filled here in Python so that both
backends compute the key exactly as tags.py does.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def upgrade() -> None:
    op.execute("ALTER TABLE tags ADD COLUMN name_key VARCHAR(64) NOT NULL DEFAULT ''")
    tags = sa.table("tags", sa.column("id", sa.Integer), sa.column("name", sa.String),
                    sa.column("name_key", sa.String))
    connection = op.get_bind()
    for tag_id, name in connection.execute(sa.select(tags.c.id, tags.c.name)).all():
        connection.execute(tags.update().where(tags.c.id == tag_id).values(name_key=name.translate(_ASCII_LOWER)))
    if op.get_context().dialect.name != "sqlite":
        op.execute("ALTER TABLE tags ALTER COLUMN name_key DROP DEFAULT")
    op.create_index("ix_tags_name_key", "tags", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_tags_name_key", table_name="tags")
    op.execute("ALTER TABLE tags DROP COLUMN name_key")
