"""file kinds and plates: files.kind, one file_plates row per sliced plate, thumbnails.plate

Every file stored so far is plain G-code: kind 'gcode', one plate carrying the file's metadata.
Plain add/drop column (no batch rebuild of `files`), so 0005's FTS and 0007's triggers stay.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('file_plates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('metadata_json', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_file_plates_file_id_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_plates')),
    sa.UniqueConstraint('file_id', 'index', name=op.f('uq_file_plates_file_id'))
    )
    op.add_column('files', sa.Column('kind', sa.String(length=16), server_default='gcode', nullable=False))
    op.create_index(op.f('ix_files_kind'), 'files', ['kind'], unique=False)
    op.add_column('thumbnails', sa.Column('plate', sa.Integer(), server_default='1', nullable=False))
    files = sa.table('files', sa.column('id', sa.Integer()), sa.column('metadata_json', sa.JSON()))
    plates = sa.table('file_plates', sa.column('file_id', sa.Integer()), sa.column('index', sa.Integer()),
                      sa.column('metadata_json', sa.JSON()))
    op.execute(plates.insert().from_select(
        ['file_id', 'index', 'metadata_json'],
        sa.select(files.c.id, sa.literal(1, sa.Integer()), files.c.metadata_json)))


def downgrade() -> None:
    op.drop_column('thumbnails', 'plate')
    op.drop_index(op.f('ix_files_kind'), table_name='files')
    op.drop_column('files', 'kind')
    op.drop_table('file_plates')
