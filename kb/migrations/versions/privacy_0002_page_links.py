"""privacy: one-time links to the patron's privacy page

Revision ID: privacy_0002
Revises: privacy_0001
Create Date: 2026-11-23 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'privacy_0002'
down_revision: str | Sequence[str] | None = 'privacy_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('privacy_page_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_privacy_page_links_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_page_links'))
    )
    with op.batch_alter_table('privacy_page_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_page_links_patron_id'), ['patron_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('privacy_page_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_page_links_patron_id'))
    op.drop_table('privacy_page_links')
