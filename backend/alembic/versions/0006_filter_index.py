"""filter index: a covering index for the library's filter sidebar

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["slicer", "filament_type", "nozzle_diameter", "printer_model", "layer_height", "estimated_time",
           "deleted_at"]


def upgrade() -> None:
    # A plain CREATE INDEX, not batch mode: rebuilding `files` would trip over the FTS view
    # and triggers of 0005.
    op.create_index("ix_files_filters", "files", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_files_filters", table_name="files")
