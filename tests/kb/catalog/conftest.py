"""Catalog test helpers: fixture files, member libraries, and real HTTP servers on
loopback that speak OAI-PMH and SRU from recorded responses."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session

from kb.catalog.libraries import SAMPLE_LIBRARIES, ensure_libraries

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures"

# (status, content type, body); None body = never answer (a hanging server).
Response = tuple[int, str, bytes | None]
Handler = Callable[[dict[str, str]], Response]


def fixture(kind: str, name: str) -> Path:
    return FIXTURES / kind / name


@pytest.fixture
def libraries(session: Session) -> Session:
    ensure_libraries(session, SAMPLE_LIBRARIES)
    session.commit()
    return session


@contextmanager
def refusing_records(session: Session, backend: str, condition: str) -> Iterator[None]:
    """While inside, the database refuses to insert records for which ``condition``
    (SQL on NEW) holds: a trigger, so the error comes from the database itself."""
    connection = session.connection()
    if backend == "sqlite":
        connection.exec_driver_sql(
            f"CREATE TRIGGER refuse BEFORE INSERT ON records WHEN {condition} "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
        )
    else:
        connection.exec_driver_sql(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF {condition} THEN RAISE EXCEPTION 'refused by the test trigger'; "
            "END IF; RETURN NEW; END $$"
        )
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    session.commit()
    try:
        yield
    finally:
        session.rollback()
        drop = "DROP TRIGGER refuse" if backend == "sqlite" else "DROP FUNCTION refuse() CASCADE"
        session.connection().exec_driver_sql(drop)
        session.commit()


class LocalServer:
    """A real HTTP server in a thread; ``handler`` maps query parameters to a response.
    ``requests`` records every query it was sent."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[dict[str, str]] = []
        self.release = threading.Event()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                outer.requests.append(query)
                status, content_type, body = outer.handler(query)
                if body is None:
                    outer.release.wait(10)  # hang until the test is over
                    return
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/endpoint"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_server() -> Iterator[Callable[[Handler], LocalServer]]:
    servers: list[LocalServer] = []

    def start(handler: Handler) -> LocalServer:
        server = LocalServer(handler).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture(scope="session")
def _sample_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One database per backend holding the sample catalog, built on first use and
    shared by the read-only search tests (loading it per test would dominate the run)."""
    import uuid

    from sqlalchemy import create_engine, text

    from tests.conftest import PG_ADMIN_URL

    urls: dict[str, str] = {}
    created: list[str] = []

    def build(backend: str) -> str:
        from kb.catalog.sample import load_sample
        from kb.db import session_scope
        from kb.migrate import upgrade

        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('sample') / 'sample.db'}"
        else:
            name = f"refdesk_test_sample_{uuid.uuid4().hex[:10]}"
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            created.append(name)
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        upgrade(url)
        with session_scope(url) as session:
            load_sample(session)
        return url

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, backend: str) -> str:
            self[backend] = build(backend)
            return self[backend]

    urls = Lazy()
    yield urls
    from kb.db import engine_for

    for url in urls.values():
        engine_for(url).dispose()
    if created:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sample(backend: str, _sample_databases: dict[str, str]) -> Iterator[Session]:
    """A session on the shared sample catalog; tests must leave it as they found it."""
    from kb.db import sessionmaker_for

    session = sessionmaker_for(_sample_databases[backend])()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
