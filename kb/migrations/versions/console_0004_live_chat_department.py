"""live chats: the department queue a chat waits in

Revision ID: console_0004
Revises: console_0003
Create Date: 2026-11-21 19:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'console_0004'
down_revision: str | Sequence[str] | None = 'console_0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('live_chats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('live_chats', schema=None) as batch_op:
        batch_op.drop_column('department')
