"""privacy: one consent history (from alert_consents), exports, erasures, retention runs;
delivery tickets can outlive their patron (anonymised)

Revision ID: privacy_0001
Revises:
Create Date: 2026-11-22 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'privacy_0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('privacy',)
depends_on: str | Sequence[str] | None = ['core_0001', 'alerts_0001', 'delivery_0001']


def upgrade() -> None:
    op.create_table('privacy_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('wording', sa.Text(), nullable=True),
    sa.Column('version', sa.String(length=16), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_privacy_consents_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_consents'))
    )
    with op.batch_alter_table('privacy_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_consents_patron_id'), ['patron_id'], unique=False)
    # The engagement consents given so far move over unchanged: one history for all purposes.
    op.execute(
        "INSERT INTO privacy_consents (id, patron_id, purpose, granted, source, wording, recorded_at) "
        "SELECT id, patron_id, purpose, granted, source, wording, recorded_at FROM alert_consents"
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "SELECT setval(pg_get_serial_sequence('privacy_consents', 'id'), "
            "COALESCE((SELECT MAX(id) FROM privacy_consents), 0) + 1, false)"
        )
    with op.batch_alter_table('alert_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_consents_patron_id'))
    op.drop_table('alert_consents')

    op.create_table('privacy_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('downloaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_privacy_exports_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_exports'))
    )
    with op.batch_alter_table('privacy_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_exports_patron_id'), ['patron_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_exports_expires_at'), ['expires_at'], unique=False)

    op.create_table('privacy_erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_erasures'))
    )
    with op.batch_alter_table('privacy_erasures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_erasures_erased_at'), ['erased_at'], unique=False)

    op.create_table('retention_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('limits', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_runs'))
    )
    with op.batch_alter_table('retention_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_runs_started_at'), ['started_at'], unique=False)

    # A forgotten patron's closed tickets stay for the delivery statistics, without them.
    with op.batch_alter_table('delivery_requests', schema=None) as batch_op:
        batch_op.alter_column('patron_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM delivery_requests WHERE patron_id IS NULL")
    with op.batch_alter_table('delivery_requests', schema=None) as batch_op:
        batch_op.alter_column('patron_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('retention_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_runs_started_at'))
    op.drop_table('retention_runs')
    with op.batch_alter_table('privacy_erasures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_erasures_erased_at'))
    op.drop_table('privacy_erasures')
    with op.batch_alter_table('privacy_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_exports_expires_at'))
        batch_op.drop_index(batch_op.f('ix_privacy_exports_patron_id'))
    op.drop_table('privacy_exports')
    op.create_table('alert_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patron_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('wording', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patron_id'], ['patrons.id'], name=op.f('fk_alert_consents_patron_id_patrons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_consents'))
    )
    with op.batch_alter_table('alert_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_consents_patron_id'), ['patron_id'], unique=False)
    op.execute(
        "INSERT INTO alert_consents (id, patron_id, purpose, granted, source, wording, recorded_at) "
        "SELECT id, patron_id, purpose, granted, source, wording, recorded_at FROM privacy_consents "
        "WHERE purpose = 'engagement'"
    )
    with op.batch_alter_table('privacy_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_consents_patron_id'))
    op.drop_table('privacy_consents')
