"""push preferences, reachability reasons and outbound claims

Revision ID: channels_0001
Revises:
Create Date: 2026-11-21 14:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'channels_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('channels',)
depends_on: str | Sequence[str] | None = ('core_0001', 'outbound_0001')


def upgrade() -> None:
    with op.batch_alter_table('patrons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_channel', sa.String(length=16), nullable=True))

    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unreachable_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('unreachable_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('push_enabled', sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_outbound_messages_identity_id_channel_identities'),
            'channel_identities', ['identity_id'], ['id'], ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_outbound_messages_identity_id_channel_identities'), type_='foreignkey'
        )
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('identity_id')

    with op.batch_alter_table('channel_identities', schema=None) as batch_op:
        batch_op.drop_column('push_enabled')
        batch_op.drop_column('unreachable_at')
        batch_op.drop_column('unreachable_reason')

    with op.batch_alter_table('patrons', schema=None) as batch_op:
        batch_op.drop_column('preferred_channel')
