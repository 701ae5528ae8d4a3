"""Schema migrations with Alembic.

Each room keeps its own branch of revisions (``branch_labels``) so features can
add tables independently; ``upgrade`` applies every branch head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kb.db import engine_for

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "heads")


def is_current(url: str) -> bool:
    """True when every branch head is applied (Alembic may record a head only through
    a revision that depends on it, so compare against everything the applied heads reach)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    with engine_for(url).connect() as conn:
        applied = MigrationContext.configure(conn).get_current_heads()
    reached = {rev.revision for rev in script.iterate_revisions(applied, "base")}
    return set(script.get_heads()) <= reached
