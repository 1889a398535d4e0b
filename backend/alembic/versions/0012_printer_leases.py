"""printer leases: each printer is polled by exactly one worker

One row per printer that some worker polls: the worker's id and when its lease ends unless
renewed (printstash/printers/lease.py). A plain CREATE TABLE, the same on both backends.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import printstash.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('printer_leases',
    sa.Column('printer_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=128), nullable=False),
    sa.Column('expires_at', printstash.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['printer_id'], ['printers.id'], name=op.f('fk_printer_leases_printer_id_printers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('printer_id', name=op.f('pk_printer_leases'))
    )


def downgrade() -> None:
    op.drop_table('printer_leases')
