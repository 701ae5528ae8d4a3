"""staff departments; service hours set in the console (weekdays, holidays)

Revision ID: console_0003
Revises: console_0002
Create Date: 2026-11-21 16:55:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'console_0003'
down_revision: str | Sequence[str] | None = 'console_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))
    op.create_table('service_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('spans', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_hours')),
    sa.UniqueConstraint('weekday', name=op.f('uq_service_hours_weekday')),
    sa.UniqueConstraint('day', name=op.f('uq_service_hours_day'))
    )


def downgrade() -> None:
    op.drop_table('service_hours')
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_column('department')
