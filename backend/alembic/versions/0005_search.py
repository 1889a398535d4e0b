"""search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import printstash.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64, collation='NOCASE'), nullable=False),
    sa.Column('created_at', printstash.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_tags_name'))
    )
    op.create_table('file_tags',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_file_tags_file_id_files'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_file_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'tag_id', name=op.f('pk_file_tags'))
    )
    with op.batch_alter_table('file_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_tags_tag_id'), ['tag_id'], unique=False)

    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('favourite', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_files_favourite'), ['favourite'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_files_favourite'))
        batch_op.drop_column('favourite')

    with op.batch_alter_table('file_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_tags_tag_id'))

    op.drop_table('file_tags')
    op.drop_table('tags')
