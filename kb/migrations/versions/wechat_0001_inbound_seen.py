"""webhook deliveries seen (WeChat retries handled once)

Revision ID: wechat_0001
Revises: 
Create Date: 2026-11-21 14:06:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'wechat_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('wechat',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbound_seen',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_inbound_seen'))
    )
    with op.batch_alter_table('inbound_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_seen_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_seen_expires_at'))
    op.drop_table('inbound_seen')
