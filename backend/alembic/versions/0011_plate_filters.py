"""plate filters: file_plates gets the typed filter columns, so a file matches a filter when
any of its plates does (library/search.py)

Plate 1's typed values are the file's own columns (plate 1's metadata is the file's), copied
in SQL. The few later plates (.gcode.3mf files stored since 0008) are typed here from their
metadata JSON the way library/service.py typed_columns does: text trimmed and capped, a list
read as its first item, numbers as finite floats.

Plain ADD COLUMN (no batch rebuild): file_plates has no triggers, but keeping to one way of
changing tables in this chain (see 0008) costs nothing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = {"slicer": 64, "printer_model": 128, "filament_type": 128}
FLOAT = ("nozzle_diameter", "layer_height", "estimated_time")


def upgrade() -> None:
    for name, length in TEXT.items():
        op.add_column("file_plates", sa.Column(name, sa.String(length=length), nullable=True))
    for name in FLOAT:
        op.add_column("file_plates", sa.Column(name, sa.Float(), nullable=True))
    # copied, not imported: a migration keeps the shape it had when it was written
    op.create_index("ix_file_plates_later", "file_plates",
                    ["file_id", "slicer", "printer_model", "filament_type", "nozzle_diameter", "layer_height",
                     "estimated_time"], unique=False,
                    sqlite_where=sa.text('"index" > 1'), postgresql_where=sa.text('"index" > 1'))
    columns = [*TEXT, *FLOAT]
    files = sa.table("files", sa.column("id", sa.Integer()), *(sa.column(c) for c in columns))
    plates = sa.table("file_plates", sa.column("id", sa.Integer()), sa.column("file_id", sa.Integer()),
                      sa.column("index", sa.Integer()), sa.column("metadata_json", sa.JSON()),
                      *(sa.column(c) for c in columns))
    op.execute(plates.update().where(plates.c.index == 1).values(
        {c: sa.select(files.c[c]).where(files.c.id == plates.c.file_id).scalar_subquery() for c in columns}))
    connection = op.get_bind()
    later = connection.execute(sa.select(plates.c.id, plates.c.metadata_json).where(plates.c.index > 1)).all()
    for plate_id, fields in later:
        connection.execute(plates.update().where(plates.c.id == plate_id).values(_typed(fields or {})))


def _typed(fields: dict[str, Any]) -> dict[str, Any]:
    typed: dict[str, Any] = {name: _text(fields.get(name), cap) for name, cap in TEXT.items()}
    return typed | {name: _float(fields.get(name)) for name in FLOAT}


def _first(value: Any) -> Any:
    return (value[0] if value else None) if isinstance(value, list) else value


def _text(value: Any, cap: int) -> str | None:
    value = _first(value)
    if value is None or isinstance(value, dict):
        return None
    return str(value).strip()[:cap] or None


def _float(value: Any) -> float | None:
    value = _first(value)
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def downgrade() -> None:
    op.drop_index("ix_file_plates_later", table_name="file_plates")
    for name in [*TEXT, *FLOAT]:
        op.drop_column("file_plates", name)
