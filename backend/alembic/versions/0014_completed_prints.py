"""completed prints: a file's print_count counts completed prints only

Before, every finished job counted, so a print cancelled at 2 % made a file "printed 1x".
The history import (library/service.py record_print) now counts only completed jobs; this
takes out of each count the jobs already counted that did not complete. Jobs of printers
deleted since are gone and cannot be told apart: their counts stay as they were.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# recorded: the job was counted once by the import (printers/history.py)
_NOT_COMPLETED = ("(SELECT count(*) FROM print_jobs AS j WHERE j.file_id = files.id "
                  "AND j.recorded = TRUE AND j.status <> 'completed')")


def upgrade() -> None:
    op.execute(f"UPDATE files SET print_count = CASE WHEN print_count > {_NOT_COMPLETED} "
               f"THEN print_count - {_NOT_COMPLETED} ELSE 0 END WHERE print_count > 0")


def downgrade() -> None:
    op.execute(f"UPDATE files SET print_count = print_count + {_NOT_COMPLETED}")
