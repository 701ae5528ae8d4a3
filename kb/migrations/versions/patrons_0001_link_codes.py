"""patron link codes and failed guesses

Revision ID: patrons_0001
Revises: 
Create Date: 2026-11-21 14:05:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'patrons_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('patrons',)
depends_on: str | Sequence[str] | None = 'core_0001'


def upgrade() -> None:
    op.create_table('patron_link_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_guesses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_patron_link_codes_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patron_link_codes'))
    )
    with op.batch_alter_table('patron_link_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patron_link_codes_code_hash'), ['code_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_patron_link_codes_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patron_link_codes_patron_id'), ['patron_id'], unique=False)

    op.create_table('patron_link_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['channel_identities.id'], name=op.f('fk_patron_link_failures_identity_id_channel_identities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patron_link_failures'))
    )
    with op.batch_alter_table('patron_link_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patron_link_failures_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patron_link_failures_identity_id'), ['identity_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('patron_link_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patron_link_failures_identity_id'))
        batch_op.drop_index(batch_op.f('ix_patron_link_failures_at'))
    op.drop_table('patron_link_failures')
    with op.batch_alter_table('patron_link_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patron_link_codes_patron_id'))
        batch_op.drop_index(batch_op.f('ix_patron_link_codes_expires_at'))
        batch_op.drop_index(batch_op.f('ix_patron_link_codes_code_hash'))
    op.drop_table('patron_link_codes')
