"""alerts: e-mail opens (alert_opens) and the index queueing reads deliveries by

Revision ID: alerts_0003
Revises: alerts_0002
Create Date: 2026-11-25 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'alerts_0003'
down_revision: str | Sequence[str] | None = 'alerts_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alert_opens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('outbound_id', sa.String(length=36), nullable=False),
    sa.Column('local_hour', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['alert_subscribers.id'], name=op.f('fk_alert_opens_subscriber_id_alert_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_opens')),
    sa.UniqueConstraint('outbound_id', name=op.f('uq_alert_opens_outbound_id'))
    )
    with op.batch_alter_table('alert_opens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_opens_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_opens_subscriber_id'), ['subscriber_id'], unique=False)

    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_alert_deliveries_subscriber_status_due', ['subscriber_id', 'status', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_deliveries_subscriber_status_due')

    with op.batch_alter_table('alert_opens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_opens_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_alert_opens_opened_at'))

    op.drop_table('alert_opens')
