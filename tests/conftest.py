"""Shared fixtures.

``db_url`` gives each test a freshly migrated database: SQLite by default and,
for tests marked ``postgres`` or parametrised over ``backend``, a PostgreSQL
database created for this test session on 127.0.0.1:5432.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

PG_ADMIN_URL = os.environ.get(
    "REFDESK_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own state directory (keys, SQLite files)."""
    from kb.crypto import reset_keyring
    from kb.settings import get_settings

    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("REFDESK_HOME", str(home))
    get_settings.cache_clear()
    reset_keyring()
    yield home
    get_settings.cache_clear()
    reset_keyring()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kb.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    name = f"refdesk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    from kb.migrate import upgrade

    upgrade(url)
    yield url
    from kb.db import engine_for

    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    from kb.db import engine_for

    engine = engine_for(url)
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Tests that take ``backend`` run once on SQLite and once on PostgreSQL, unless they
    # name their backend themselves (@pytest.mark.parametrize("backend", ...)).
    named = any(m.args[:1] == ("backend",) for m in metafunc.definition.iter_markers("parametrize"))
    if "backend" in metafunc.fixturenames and not named:
        metafunc.parametrize(
            "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
        )


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def db_url(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if backend == "postgres" or request.node.get_closest_marker("postgres") and backend != "sqlite":
        url = request.getfixturevalue("pg_database")
        _truncate_all(url)
        yield url
        return
    path = tmp_path / "refdesk.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    yield url
    from kb.db import engine_for

    engine_for(url).dispose()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    from kb.db import sessionmaker_for

    s = sessionmaker_for(db_url)()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


# --- the running assistant ---------------------------------------------------


@pytest.fixture(scope="session")
def fake_telegram_api():  # type: ignore[no-untyped-def]
    """The fake Telegram Bot API the stack's gateway long-polls (tests/channels)."""
    from tests.fixtures.fake_telegram import FakeTelegram

    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, fake_telegram_api):  # type: ignore[no-untyped-def]
    """Engine + action server + gateway started by `refdesk up`, shared by the session.

    The gateway also runs the Telegram channel against a fake Bot API, and its library
    system is the SIP2 fixture server (``stack.sip2``), so one stack start serves the
    web-chat, Telegram and patron-account tests."""
    from tests.support.sip2 import Sip2Thread
    from tests.support.stack import start_stack

    sip2 = Sip2Thread().start()
    env = {
        **fake_telegram_api.env(),
        "REFDESK_TELEGRAM_POLL_TIMEOUT_SECONDS": "2",
        **sip2.env(),
    }
    try:
        s = start_stack(tmp_path_factory.mktemp("stack"), extra_env=env)
    except BaseException:
        sip2.stop()
        raise
    s.telegram = fake_telegram_api
    s.sip2 = sip2  # type: ignore[attr-defined]
    yield s
    s.stop()
    sip2.stop()


@pytest.fixture
async def chat(stack):  # type: ignore[no-untyped-def]
    """A fresh web-chat patron connected to the stack."""
    from tests.support.chat import ChatClient

    client = await ChatClient(stack.ws_url).connect()
    yield client
    await client.close()
