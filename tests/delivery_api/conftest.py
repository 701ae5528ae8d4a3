"""A real gateway (uvicorn in a subprocess) on a free port, with its own state directory.

One server per test module (starting one costs a couple of seconds); each test
opens its own requests for its own patron, so tests do not see each other's
tickets. The test process reaches the server's database with the server's key
ring (same ``REFDESK_HOME``), to seed requests and to check what was written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.kb.delivery.conftest import LIBRARIES, add_libraries, hold
from tests.support.stack import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    home: Path
    url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log: Path
    keys: dict[str, str] = field(default_factory=dict)  # staff username -> API key

    def env(self) -> dict[str, str]:
        return {
            "REFDESK_HOME": str(self.home),
            "REFDESK_DATABASE_URL": self.database_url,
            "REFDESK_PUBLIC_URL": self.url,
        }


def _wait_until_up(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the gateway exited:\n{server.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/livez", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the gateway did not answer in {timeout}s:\n{server.log.read_text()}")


@contextmanager
def _as_server(server: Server) -> Iterator[None]:
    """Settings and key ring of the server in this process (to seed and inspect its DB)."""
    from kb.crypto import reset_keyring
    from kb.settings import get_settings

    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    get_settings.cache_clear()
    reset_keyring()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        reset_keyring()


def _seed(session: Session, server: Server) -> None:
    """Member libraries, a small union catalog and staff (one per library, the centre, a leaver)."""
    from kb.catalog.models import Record, RecordFormat, RecordIdentifier
    from kb.staff.service import add_staff, revoke

    add_libraries(session)
    journal = Record(
        source="test", source_id="j1", title="图书情报工作", format=RecordFormat.JOURNAL, clc="G25"
    )
    journal.identifiers = [RecordIdentifier(scheme="issn", value="0252-3116")]
    book = Record(source="test", source_id="b1", title="三体", format=RecordFormat.BOOK, clc="I247")
    book.identifiers = [RecordIdentifier(scheme="isbn", value="9787536692930")]
    session.add_all([journal, book])
    hold(journal, "PKU")  # articles: only PKU
    hold(book, "PKU")  # the book: PKU, then THU
    hold(book, "THU")
    session.flush()
    for username, library in [("li.pku", "PKU"), ("wang.thu", "THU"), ("zhao.centre", None)]:
        server.keys[username] = add_staff(session, username, library_code=library).token
    server.keys["gone.pku"] = add_staff(session, "gone.pku", library_code="PKU").token
    revoke(session, "gone.pku")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from kb.db import session_scope
    from kb.migrate import upgrade

    home = tmp_path_factory.mktemp("gateway-home")
    port = free_port()
    log = home / "gateway.log"
    srv = Server(
        home=home,
        url=f"http://127.0.0.1:{port}",
        database_url=f"sqlite:///{home / 'refdesk.db'}",
        process=None,  # type: ignore[arg-type]
        log=log,
    )
    with _as_server(srv):
        upgrade(srv.database_url)
        with session_scope(srv.database_url) as session:
            _seed(session, srv)
    env = {**os.environ, **srv.env(), "REFDESK_GATEWAY_PORT": str(port)}
    command = [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        srv.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        _wait_until_up(srv)
        yield srv
    finally:
        srv.process.terminate()
        try:
            srv.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.process.kill()


@dataclass
class Desk:
    """What a test uses: HTTP clients per staff member, and the server's database."""

    server: Server

    def client(self, username: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.server.keys[username]}"} if username else {}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30.0)

    @contextmanager
    def db(self) -> Iterator[Session]:
        from kb.db import session_scope

        with _as_server(self.server), session_scope(self.server.database_url) as session:
            yield session

    def new_patron(self, language: str = "zh", home: str = "RUC") -> int:
        from kb.patrons.models import Patron

        with self.db() as session:
            patron = Patron(
                language=language, home_library=home, email="reader@example.org", name="王小明"
            )
            session.add(patron)
            session.flush()
            return patron.id

    def open(self, draft, language: str = "zh") -> str:  # type: ignore[no-untyped-def]
        """Open a request for a new patron through the patron service; its ticket."""
        from kb.db import utcnow
        from kb.delivery import service
        from kb.patrons.models import Patron

        patron_id = self.new_patron(language)
        with self.db() as session:
            patron = session.get(Patron, patron_id)
            outcome = service.open_request(session, patron, draft, now=utcnow())
            return outcome.request.ticket

    def audit(self, ticket: str | None = None, username: str | None = None) -> list:  # type: ignore[type-arg]
        from kb.staff.audit import StaffAccess
        from kb.staff.models import StaffMember

        with self.db() as session:
            query = select(StaffAccess, StaffMember.username).join(StaffMember)
            if ticket:
                query = query.where(StaffAccess.ticket == ticket)
            if username:
                query = query.where(StaffMember.username == username)
            rows = session.execute(query.order_by(StaffAccess.id)).all()
            return [(name, a.action, a.ticket, a.outcome, a.detail) for a, name in rows]


@pytest.fixture
def desk(server: Server) -> Desk:
    return Desk(server)


__all__ = ["LIBRARIES"]
