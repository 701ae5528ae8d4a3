"""subject librarians: the staff department that takes the field's live chats

Revision ID: services_0003
Revises: services_0002
Create Date: 2026-11-21 19:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'services_0003'
down_revision: str | Sequence[str] | None = 'services_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('subject_librarians', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subject_librarians', schema=None) as batch_op:
        batch_op.drop_column('department')
