"""catalog: short library labels, content digests, harvest state, search index

Revision ID: catalog_0002
Revises: catalog_0001
Create Date: 2026-11-21 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'catalog_0002'
down_revision: str | Sequence[str] | None = 'catalog_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('libraries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_zh', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('short_en', sa.String(length=32), nullable=True))
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('variant_titles', sa.JSON(), nullable=False, server_default='[]'))

    op.create_table('catalog_harvests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=500), nullable=False),
    sa.Column('set_spec', sa.String(length=200), nullable=False),
    sa.Column('metadata_prefix', sa.String(length=64), nullable=False),
    sa.Column('next_from', sa.String(length=32), nullable=True),
    sa.Column('resumption_token', sa.Text(), nullable=True),
    sa.Column('run_from', sa.String(length=32), nullable=True),
    sa.Column('run_started_at', sa.String(length=32), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_harvests')),
    sa.UniqueConstraint('endpoint', 'set_spec', 'metadata_prefix', name=op.f('uq_catalog_harvests_endpoint'))
    )
    op.create_table('catalog_words',
    sa.Column('word', sa.String(length=100), nullable=False),
    sa.Column('frequency', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_catalog_words'))
    )

    # The search index is backend-specific; kb/catalog/search/index.py writes it.
    if op.get_bind().dialect.name == 'sqlite':
        # Text arrives pre-analysed (CJK bigrams, stems), so unicode61 only splits on spaces.
        op.execute(
            "CREATE VIRTUAL TABLE catalog_search_fts USING fts5("
            "title, author, subject, other, tokenize = 'unicode61 remove_diacritics 0')"
        )
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE TABLE catalog_search_doc ("
            " record_id integer PRIMARY KEY REFERENCES records(id) ON DELETE CASCADE,"
            " document tsvector NOT NULL)"
        )
        op.execute("CREATE INDEX catalog_search_doc_gin ON catalog_search_doc USING gin (document)")
        op.execute(
            "CREATE INDEX catalog_search_words_trgm ON catalog_words USING gin (word gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TABLE IF EXISTS catalog_search_fts")
    else:
        op.execute("DROP TABLE IF EXISTS catalog_search_doc")
        op.execute("DROP INDEX IF EXISTS catalog_search_words_trgm")
    op.drop_table('catalog_words')
    op.drop_table('catalog_harvests')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('variant_titles')
        batch_op.drop_column('content_hash')
    with op.batch_alter_table('libraries', schema=None) as batch_op:
        batch_op.drop_column('short_en')
        batch_op.drop_column('short_zh')
