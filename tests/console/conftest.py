"""Two real gateway processes (uvicorn subprocesses) on one database and, when Redis
answers on 127.0.0.1:6379, one Redis: what a librarian does on one reaches a patron
connected to the other. No engine runs here (patrons are queued straight in the
database); the browser tests in this folder use the full stack instead."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.support.stack import free_port

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
STAFF = [
    ("li", "李老师", "librarian"),
    ("wang", "Wang Fang", "librarian"),
    ("zhao", "赵馆长", "admin"),
]


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Gateways:
    home: Path
    env: dict[str, str]
    urls: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @contextmanager
    def db(self) -> Iterator[Session]:
        from kb.crypto import reset_keyring
        from kb.db import session_scope
        from kb.settings import get_settings

        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        get_settings.cache_clear()
        reset_keyring()
        try:
            with session_scope(self.env["REFDESK_DATABASE_URL"]) as session:
                yield session
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            get_settings.cache_clear()
            reset_keyring()

    def start(self, port: int | None = None) -> str:
        port = port or free_port()
        log = self.home / f"gateway-{port}.log"
        cmd = [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory"]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        env = {**os.environ, **self.env, "REFDESK_GATEWAY_PORT": str(port)}
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=out)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90  # a loaded 2-core machine can take a while
        while True:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text())
            try:
                if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the gateway did not answer in 90 s:\n{log.read_text()}")
        self.urls.append(url)
        self.processes.append(proc)
        return url

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateways]:
    from kb.console.logins import set_password
    from kb.migrate import upgrade
    from kb.staff.service import add_staff

    home = tmp_path_factory.mktemp("console-home")
    env = {
        "REFDESK_HOME": str(home),
        "REFDESK_DATABASE_URL": f"sqlite:///{home / 'refdesk.db'}",
        "REFDESK_ENGINE_PORT": str(free_port()),  # nothing listens: no engine here
        "REFDESK_CONSOLE_SECURE_COOKIES": "false",
        "REFDESK_CONSOLE_GRACE_SECONDS": "3",
        "REFDESK_CONSOLE_PRESENCE_SECONDS": "30",
        "REFDESK_CONSOLE_MAX_FAILURES": "3",
        "REFDESK_REDIS_URL": "redis://127.0.0.1:6379/0" if redis_up() else "",
    }
    gw = Gateways(home, env)
    with gw.db() as session:
        upgrade(env["REFDESK_DATABASE_URL"])
    with gw.db() as session:
        for username, name, role in STAFF:
            add_staff(session, username, library_code=None, role=role, display_name=name)
            set_password(session, username, PASSWORD)
    try:
        gw.start()
        gw.start()
        yield gw
    finally:
        gw.stop()


_CSRF = re.compile(r'name="csrf(?:-token)?" (?:value|content)="([^"]+)"')


class Librarian:
    """A signed-in console over HTTP (cookies, CSRF header), like the desk page."""

    def __init__(self, url: str, username: str, password: str = PASSWORD) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
        page = self.http.get("/console/login")
        token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        resp = self.http.post(
            "/console/login", data={"username": username, "password": password, "csrf": token}
        )
        self.login_status = resp.status_code
        self.csrf = ""
        if resp.status_code == 303:
            desk = self.http.get("/console")
            self.csrf = _CSRF.search(desk.text).group(1)  # type: ignore[union-attr]

    def post(self, path: str, body: dict | None = None) -> httpx.Response:  # type: ignore[type-arg]
        return self.http.post(
            f"/console/api{path}", json=body or {}, headers={"X-CSRF-Token": self.csrf}
        )

    def get(self, path: str) -> httpx.Response:
        return self.http.get(f"/console/api{path}")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())


# --- document delivery: a gateway with member libraries and their staff -------------

# Console users of the delivery pages: a lender's staff each, and the centre.
DD_STAFF = [("li.pku", "李 (PKU)", "PKU"), ("wang.thu", "王 (THU)", "THU"), ("zhao.dc", "赵", None)]


@dataclass
class DeliveryDesk:
    """One gateway whose database holds libraries, a small union catalog and lenders' staff."""

    gw: Gateways

    @property
    def url(self) -> str:
        return self.gw.urls[0]

    def new_patron(self) -> int:
        from kb.patrons.models import Patron

        with self.gw.db() as session:
            patron = Patron(language="zh", home_library="RUC", email="reader@example.org")
            session.add(patron)
            session.flush()
            return patron.id

    def open(self, draft, patron_id: int | None = None) -> str:  # type: ignore[no-untyped-def]
        """Open a request through the patron service (it routes to the first lender)."""
        from kb.db import utcnow
        from kb.delivery import service
        from kb.patrons.models import Patron

        patron_id = patron_id or self.new_patron()
        with self.gw.db() as session:
            patron = session.get(Patron, patron_id)
            return service.open_request(session, patron, draft, now=utcnow()).request.ticket

    def status(self, ticket: str) -> str:
        from kb.delivery.desk import get_request

        with self.gw.db() as session:
            return get_request(session, ticket).status.value

    def audit(self, ticket: str) -> list[tuple[str, str, int, str | None]]:
        from sqlalchemy import select

        from kb.staff.audit import StaffAccess
        from kb.staff.models import StaffMember

        with self.gw.db() as session:
            rows = session.execute(
                select(StaffAccess, StaffMember.username)
                .join(StaffMember)
                .where(StaffAccess.ticket == ticket)
                .order_by(StaffAccess.id)
            ).all()
            return [(name, a.action, a.outcome, a.detail) for a, name in rows]

    def notices(self, ticket: str) -> list[dict]:  # type: ignore[type-arg]
        from sqlalchemy import select

        from kb.outbound.models import OutboundMessage
        from kb.outbound.service import body_of

        with self.gw.db() as session:
            rows = session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.dedupe_key.like(f"delivery:{ticket}:%"))
                .order_by(OutboundMessage.created_at)
            )
            return [{**body_of(m), "status": m.status} for m in rows]


@pytest.fixture(scope="module")
def delivery_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeliveryDesk]:
    from kb.catalog.models import Record, RecordFormat, RecordIdentifier
    from kb.console.logins import set_password
    from kb.migrate import upgrade
    from kb.staff.service import add_staff
    from tests.kb.delivery.conftest import add_libraries, hold

    home = tmp_path_factory.mktemp("delivery-console")
    port = free_port()
    env = {
        "REFDESK_HOME": str(home),
        "REFDESK_DATABASE_URL": f"sqlite:///{home / 'refdesk.db'}",
        "REFDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "REFDESK_ENGINE_PORT": str(free_port()),  # nothing listens: no engine here
        "REFDESK_CONSOLE_SECURE_COOKIES": "false",
        "REFDESK_REDIS_URL": "",
    }
    gw = Gateways(home, env)
    with gw.db():
        upgrade(env["REFDESK_DATABASE_URL"])
    with gw.db() as session:
        add_libraries(session)
        journal = Record(
            source="test", source_id="j1", title="图书情报工作", format=RecordFormat.JOURNAL
        )
        journal.identifiers = [RecordIdentifier(scheme="issn", value="0252-3116")]
        book = Record(source="test", source_id="b1", title="三体", format=RecordFormat.BOOK)
        book.identifiers = [RecordIdentifier(scheme="isbn", value="9787536692930")]
        session.add_all([journal, book])
        hold(journal, "PKU")  # articles: only PKU
        hold(book, "PKU")  # the book: PKU, then THU
        hold(book, "THU")
        session.flush()
        for username, name, library in DD_STAFF:
            add_staff(session, username, library_code=library, display_name=name)
            set_password(session, username, PASSWORD)
    try:
        gw.start(port)
        yield DeliveryDesk(gw)
    finally:
        gw.stop()


# --- the full stack for the browser tests ---------------------------------------


@pytest.fixture(scope="package")
def console_stack(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Engine + actions + gateway (`refdesk up`) with console users li, wang and zhao."""
    from kb.console.logins import set_password
    from kb.staff.service import add_staff
    from tests.support.stack import start_stack

    s = start_stack(
        tmp_path_factory.mktemp("console-stack"),
        extra_env={"REFDESK_CONSOLE_SECURE_COOKIES": "false"},
    )
    try:
        with s.db() as session:
            for username, name, role in STAFF:
                add_staff(session, username, library_code=None, role=role, display_name=name)
                set_password(session, username, PASSWORD)
        yield s
    finally:
        s.stop()
