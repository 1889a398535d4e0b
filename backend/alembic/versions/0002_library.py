"""library

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import printstash.core.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _uploaded_by_fk() -> list[sa.ForeignKeyConstraint]:
    # users is created by 0003. SQLite accepts a foreign key to a table that does not exist
    # yet (and vaults were made that way); PostgreSQL does not, so there 0003 adds it.
    if op.get_context().dialect.name != "sqlite":
        return []
    return [sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_files_uploaded_by_users'),
                                    ondelete='SET NULL')]


def upgrade() -> None:
    op.create_table('files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('uploaded_at', printstash.core.db.UTCDateTime(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('deleted_at', printstash.core.db.UTCDateTime(), nullable=True),
    sa.Column('parse_status', sa.String(length=16), nullable=False),
    sa.Column('parse_error', sa.Text(), nullable=True),
    sa.Column('full_scan_done', sa.Boolean(), nullable=False),
    sa.Column('metadata_json', sa.JSON(), nullable=False),
    sa.Column('slicer', sa.String(length=64), nullable=True),
    sa.Column('slicer_version', sa.String(length=64), nullable=True),
    sa.Column('printer_model', sa.String(length=128), nullable=True),
    sa.Column('filament_type', sa.String(length=128), nullable=True),
    sa.Column('filament_name', sa.String(length=255), nullable=True),
    sa.Column('nozzle_diameter', sa.Float(), nullable=True),
    sa.Column('layer_height', sa.Float(), nullable=True),
    sa.Column('estimated_time', sa.Float(), nullable=True),
    sa.Column('filament_total', sa.Float(), nullable=True),
    sa.Column('filament_weight_total', sa.Float(), nullable=True),
    sa.Column('object_height', sa.Float(), nullable=True),
    sa.Column('layer_count', sa.Integer(), nullable=True),
    sa.Column('thumbnail_count', sa.Integer(), nullable=False),
    sa.Column('print_count', sa.Integer(), nullable=False),
    sa.Column('last_printed_at', printstash.core.db.UTCDateTime(), nullable=True),
    sa.Column('last_print_result', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files')),
    sa.UniqueConstraint('sha256', name=op.f('uq_files_sha256')),
    *_uploaded_by_fk(),
    )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_files_deleted_at'), ['deleted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_estimated_time'), ['estimated_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_filament_total'), ['filament_total'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_filament_type'), ['filament_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_last_printed_at'), ['last_printed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_layer_height'), ['layer_height'], unique=False)
        batch_op.create_index('ix_files_name', ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_nozzle_diameter'), ['nozzle_diameter'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_printer_model'), ['printer_model'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_slicer'), ['slicer'], unique=False)
        batch_op.create_index('ix_files_uploaded_at', ['uploaded_at'], unique=False)

    op.create_table('thumbnails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_thumbnails_file_id_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thumbnails')),
    sa.UniqueConstraint('file_id', 'index', name=op.f('uq_thumbnails_file_id'))
    )


def downgrade() -> None:
    op.drop_table('thumbnails')
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index('ix_files_uploaded_at')
        batch_op.drop_index(batch_op.f('ix_files_slicer'))
        batch_op.drop_index(batch_op.f('ix_files_printer_model'))
        batch_op.drop_index(batch_op.f('ix_files_nozzle_diameter'))
        batch_op.drop_index('ix_files_name')
        batch_op.drop_index(batch_op.f('ix_files_layer_height'))
        batch_op.drop_index(batch_op.f('ix_files_last_printed_at'))
        batch_op.drop_index(batch_op.f('ix_files_filament_type'))
        batch_op.drop_index(batch_op.f('ix_files_filament_total'))
        batch_op.drop_index(batch_op.f('ix_files_estimated_time'))
        batch_op.drop_index(batch_op.f('ix_files_deleted_at'))

    op.drop_table('files')
