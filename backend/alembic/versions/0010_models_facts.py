"""model facts: files.model_json, a model's mesh facts (triangles, size, volume, watertight)

NULL for every file stored so far: models could not be stored before this revision.
Plain add/drop column (no batch rebuild of `files`), so 0005's FTS and 0007's triggers stay.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("files", sa.Column("model_json", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("files", "model_json")
