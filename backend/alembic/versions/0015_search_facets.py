"""facets index: the filter index with `kind`, so that one walk of it groups the files by
every facet column (library/search.py, `_column_facets`)

ix_files_filters (0006) led with the same four columns; `kind` comes right after them, so
the groups come out in the index's order (no sort), and the filters that used the old index
use this one alike (nozzle_diameter, a range, is the last column they seek on).

Revision ID: 0015_search
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_search"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["slicer", "filament_type", "nozzle_diameter", "printer_model", "kind", "layer_height",
           "estimated_time", "deleted_at"]
OLD_COLUMNS = ["slicer", "filament_type", "nozzle_diameter", "printer_model", "layer_height", "estimated_time",
               "deleted_at"]


def upgrade() -> None:
    # Plain CREATE/DROP INDEX, not batch mode: rebuilding `files` would trip over the FTS
    # tables and triggers of 0005 and 0013.
    op.create_index("ix_files_facets", "files", COLUMNS, unique=False)
    op.drop_index("ix_files_filters", table_name="files")


def downgrade() -> None:
    op.create_index("ix_files_filters", "files", OLD_COLUMNS, unique=False)
    op.drop_index("ix_files_facets", table_name="files")
