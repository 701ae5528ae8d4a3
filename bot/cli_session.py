"""A database session for CLI commands, on a schema brought up to date first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from kb.settings import get_settings


@contextmanager
def migrated_session() -> Iterator[Session]:
    from kb.db import session_scope
    from kb.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    with session_scope(url) as session:
        yield session
