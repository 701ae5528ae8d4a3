"""live chats: the last place in the queue told to a patron on a push channel

Revision ID: console_0002
Revises: console_0001
Create Date: 2026-11-21 16:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'console_0002'
down_revision: str | Sequence[str] | None = 'console_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('live_chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('told_position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('told_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('live_chats', schema=None) as batch_op:
        batch_op.drop_column('told_at')
        batch_op.drop_column('told_position')
