from typing import Any, Literal

from alembic import context

import kb.models  # noqa: F401  (registers every table on Base.metadata)
from kb.db import Base, make_engine

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write app column types as the plain SQL types they store, so migrations never
    import app code: encrypted text is TEXT, UTC datetimes are timestamptz."""
    if type_ == "type":
        name = type(obj).__name__
        if name == "EncryptedText":
            return "sa.Text()"
        if name == "UTCDateTime":
            return "sa.DateTime(timezone=True)"
    return False


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """The catalog search index lives in backend-specific tables (an SQLite FTS5 table
    and its shadow tables, a PostgreSQL tsvector table, a pg_trgm index) that the
    migrations create by hand; autogenerate must not offer to drop them. Nor the
    alerts worker's APScheduler job store."""
    # APScheduler's job store table (the alerts worker) is created by APScheduler.
    return not (name or "").startswith(("catalog_search_", "alert_scheduler_jobs"))


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic: sqlalchemy.url is not set (kb.migrate sets it)")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_item=render_item,
            include_name=include_name,
            # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
