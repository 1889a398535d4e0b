"""printers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import printstash.core.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('printers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('base_url', sa.String(length=512), nullable=False),
    sa.Column('api_key_encrypted', sa.Text(), nullable=True),
    sa.Column('poll_interval', sa.Float(), nullable=True),
    sa.Column('created_at', printstash.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_printers')),
    sa.UniqueConstraint('name', name=op.f('uq_printers_name'))
    )
    op.create_table('printer_status',
    sa.Column('printer_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('status_json', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('last_seen', printstash.core.db.UTCDateTime(), nullable=True),
    sa.Column('updated_at', printstash.core.db.UTCDateTime(), nullable=False),
    sa.Column('history_since', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['printer_id'], ['printers.id'], name=op.f('fk_printer_status_printer_id_printers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('printer_id', name=op.f('pk_printer_status'))
    )
    with op.batch_alter_table('printer_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_printer_status_updated_at'), ['updated_at'], unique=False)

    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('printer_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=1024), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('start_time', printstash.core.db.UTCDateTime(), nullable=True),
    sa.Column('end_time', printstash.core.db.UTCDateTime(), nullable=True),
    sa.Column('print_duration', sa.Float(), nullable=True),
    sa.Column('total_duration', sa.Float(), nullable=True),
    sa.Column('filament_used', sa.Float(), nullable=True),
    sa.Column('recorded', sa.Boolean(), nullable=False),
    sa.Column('imported_at', printstash.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_print_jobs_file_id_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['printer_id'], ['printers.id'], name=op.f('fk_print_jobs_printer_id_printers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs')),
    sa.UniqueConstraint('printer_id', 'job_id', name='uq_print_jobs_printer_job')
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_jobs_file_id'), ['file_id'], unique=False)
        batch_op.create_index('ix_print_jobs_printer_start', ['printer_id', 'start_time'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_print_jobs_printer_start')
        batch_op.drop_index(batch_op.f('ix_print_jobs_file_id'))

    op.drop_table('print_jobs')
    with op.batch_alter_table('printer_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_printer_status_updated_at'))

    op.drop_table('printer_status')
    op.drop_table('printers')
