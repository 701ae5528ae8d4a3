"""personalisation: catalog searches kept (with consent) for personalised suggestions

Revision ID: personalisation_0001
Revises:
Create Date: 2026-11-23 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'personalisation_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('personalisation',)
depends_on: str | Sequence[str] | None = ['core_0001', 'privacy_0001']


def upgrade() -> None:
    op.create_table('personalisation_searches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('searched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_personalisation_searches_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personalisation_searches'))
    )
    with op.batch_alter_table('personalisation_searches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personalisation_searches_patron_id'), ['patron_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_personalisation_searches_searched_at'), ['searched_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('personalisation_searches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personalisation_searches_searched_at'))
        batch_op.drop_index(batch_op.f('ix_personalisation_searches_patron_id'))
    op.drop_table('personalisation_searches')
