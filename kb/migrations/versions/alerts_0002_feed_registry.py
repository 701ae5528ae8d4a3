"""alerts: feeds added by staff (refdesk alerts feeds add) are kept in alert_feeds

Revision ID: alerts_0002
Revises: alerts_0001
Create Date: 2026-11-24 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'alerts_0002'
down_revision: str | Sequence[str] | None = 'alerts_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('alert_feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('added_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alert_feeds', schema=None) as batch_op:
        batch_op.drop_column('added_at')
        batch_op.drop_column('added_by')
