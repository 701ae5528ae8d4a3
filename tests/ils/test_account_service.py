"""The account service chat actions will call: verify once, then account and renewals."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from kb.db import session_scope
from kb.ils import (
    AccountService,
    RefusalReason,
    SessionExpired,
    Sip2Error,
    VerifyOutcome,
)
from kb.ils.models import AccountAction, AccountOutcome, IlsAccountEvent
from kb.ils.sip2.client import Sip2Client
from kb.settings import get_settings
from tests.fixtures.sip2_server import Sip2Server

PIN = "7Q3z9K"  # patron 29001's PIN in the fixture library
CHAT = "web-3f2a9c"
OTHER_CHAT = "telegram-77b1e0"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(
    sip2_client: Sip2Client, db_url: str, clock: Clock
) -> AsyncIterator[AccountService]:
    yield AccountService(sip2_client, db_url, settings=get_settings(), clock=clock)


def events(db_url: str) -> list[IlsAccountEvent]:
    with session_scope(db_url) as db:
        return list(db.scalars(select(IlsAccountEvent).order_by(IlsAccountEvent.id)))


async def test_verify_then_use_the_account_without_the_pin(service, sip2_server):
    verification = await service.verify(" 29001 ", PIN, owner=CHAT)
    assert verification.verified and verification.patron_name == "李华 Li Hua"
    assert verification.token and PIN not in verification.token
    account = await service.account(verification.token, owner=CHAT)
    assert len(account.loans) == 4 and len(account.holds_ready) == 1
    result = await service.renew(verification.token, "B1001", owner=CHAT)
    assert result.renewed
    # The PIN crossed the wire exactly once: in the Patron Status check.
    with_pin = [frame for frame in sip2_server.received if PIN in frame]
    assert len(with_pin) == 1 and with_pin[0].startswith("23")


async def test_wrong_pin_and_unknown_card(service, db_url):
    assert (await service.verify("29001", "000000", owner=CHAT)).outcome is VerifyOutcome.WRONG_PIN
    assert (await service.verify("88888", PIN, owner=CHAT)).outcome is VerifyOutcome.UNKNOWN_PATRON
    unframeable = await service.verify("29001", "12|34", owner=CHAT)
    assert unframeable.outcome is VerifyOutcome.WRONG_PIN and unframeable.token is None
    assert [e.outcome for e in events(db_url)] == [
        AccountOutcome.WRONG_PIN,
        AccountOutcome.UNKNOWN_PATRON,
        AccountOutcome.WRONG_PIN,
    ]


async def test_token_only_works_in_its_own_conversation(service):
    token = (await service.verify("29001", PIN, owner=CHAT)).token
    with pytest.raises(SessionExpired):
        await service.account(token, owner=OTHER_CHAT)
    with pytest.raises(SessionExpired):
        await service.account("made-up-token", owner=CHAT)
    assert (await service.account(token, owner=CHAT)).name == "李华 Li Hua"


async def test_session_ends_after_idle_time_and_at_its_maximum_age(service, clock):
    token = (await service.verify("29001", PIN, owner=CHAT)).token
    # Used every 14 minutes, it stays alive...
    for _ in range(4):
        clock.advance(minutes=14)
        await service.account(token, owner=CHAT)
    # ...until its 60-minute maximum.
    clock.advance(minutes=5)
    with pytest.raises(SessionExpired):
        await service.account(token, owner=CHAT)
    token = (await service.verify("29001", PIN, owner=CHAT)).token
    clock.advance(minutes=15, seconds=1)
    with pytest.raises(SessionExpired):
        await service.renew(token, "B1001", owner=CHAT)


async def test_wrong_pins_pause_verification_for_the_card(service, sip2_server, clock):
    for _ in range(5):
        assert (await service.verify("29001", "111111", owner=f"chat-{_}")).outcome is (
            VerifyOutcome.WRONG_PIN
        )
    checks_before = len([f for f in sip2_server.received if f.startswith("23")])
    locked = await service.verify("29001", PIN, owner=CHAT)
    assert locked.outcome is VerifyOutcome.LOCKED_OUT
    assert locked.retry_after == clock.now + timedelta(minutes=15)
    # While paused, nothing is even asked of the ILS.
    assert len([f for f in sip2_server.received if f.startswith("23")]) == checks_before
    clock.advance(minutes=15, seconds=1)
    assert (await service.verify("29001", PIN, owner=CHAT)).verified


async def test_one_chat_trying_many_cards_is_paused(service):
    for n in range(5):
        await service.verify(f"7000{n}", "1234", owner=CHAT)
    assert (await service.verify("29001", PIN, owner=CHAT)).outcome is VerifyOutcome.LOCKED_OUT
    assert (await service.verify("29001", PIN, owner=OTHER_CHAT)).verified


async def test_success_resets_the_count(service):
    for _ in range(4):
        await service.verify("29001", "111111", owner=CHAT)
    assert (await service.verify("29001", PIN, owner=CHAT)).verified
    for _ in range(4):
        await service.verify("29001", "111111", owner=CHAT)
    assert (await service.verify("29001", PIN, owner=CHAT)).verified


async def test_blocked_patron_verifies_but_cannot_renew(service):
    verification = await service.verify("29002", "Bk9x2m", owner=CHAT)
    assert verification.verified
    account = await service.account(verification.token, owner=CHAT)
    assert account.blocked
    result = await service.renew(verification.token, "B1005", owner=CHAT)
    assert not result.renewed and result.reason is RefusalReason.PATRON_BLOCKED


async def test_renewals_are_audited_without_personal_data_in_clear(service, db_url, backend):
    token = (await service.verify("29001", PIN, owner=CHAT)).token
    await service.renew(token, "B1002", owner=CHAT)
    await service.renew_all(token, owner=CHAT)
    await service.end(token, owner=CHAT)
    rows = events(db_url)
    assert [(e.action, e.outcome, e.item_id, e.reason) for e in rows] == [
        (AccountAction.VERIFY, AccountOutcome.OK, None, None),
        (AccountAction.RENEW, AccountOutcome.REFUSED, "B1002", "on_hold"),
        (AccountAction.RENEW_ALL, AccountOutcome.OK, "B1001", None),
        (AccountAction.RENEW_ALL, AccountOutcome.OK, "B1004", None),
        (AccountAction.RENEW_ALL, AccountOutcome.REFUSED, "B1002", "on_hold"),
        (AccountAction.RENEW_ALL, AccountOutcome.REFUSED, "B1003", "other"),
        (AccountAction.END, AccountOutcome.OK, None, None),
    ]
    assert all("29001" not in e.barcode_index and CHAT not in e.owner_index for e in rows)
    with pytest.raises(SessionExpired):
        await service.account(token, owner=CHAT)


async def test_old_events_are_purged(service, db_url, clock):
    await service.verify("29001", "000000", owner=CHAT)
    clock.advance(days=91)
    await service.verify("29001", PIN, owner=CHAT)
    assert await service.purge() == 1
    assert [e.outcome for e in events(db_url)] == [AccountOutcome.OK]


def _database_bytes(db_url: str) -> bytes:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    dump = subprocess.run(
        ["pg_dump", "--data-only", url.set(drivername="postgresql").render_as_string(False)],
        check=True,
        capture_output=True,
    )
    return dump.stdout


async def test_pin_never_reaches_logs_exceptions_or_the_database(
    service, sip2_server: Sip2Server, db_url, backend, caplog
):
    caplog.set_level(logging.DEBUG)
    failures: list[str] = []
    await service.verify("29001", "9Zt4Wq", owner=CHAT)  # a wrong PIN
    sip2_server.faults.corrupt_responses = 1  # a resend, with frames logged
    verification = await service.verify("29001", PIN, owner=CHAT)
    assert verification.verified
    await service.account(verification.token, owner=CHAT)
    await service.renew(verification.token, "B1003", owner=CHAT)
    await service.renew_all(verification.token, owner=CHAT)
    # Failures while the PIN is in flight: a silent ILS, then one that drops the line.
    sip2_server.faults.silent_on = {"23"}
    with pytest.raises(Sip2Error) as timeout:
        await service.verify("29001", PIN, owner=OTHER_CHAT)
    logging.getLogger("kb.ils.account").exception("verify failed", exc_info=timeout.value)
    failures.append(str(timeout.value))
    sip2_server.faults.silent_on = set()
    sip2_server.faults.drop_on = {"23"}
    sip2_server.faults.corrupt_responses = -1
    with pytest.raises(Sip2Error) as garbled:
        await service.verify("29001", PIN, owner=OTHER_CHAT)
    failures.append(str(garbled.value))
    await service.end(verification.token, owner=CHAT)

    assert any("sip2 ->" in r.getMessage() for r in caplog.records)  # frames were logged
    for secret in (PIN, "9Zt4Wq", "sip-secret-pw"):
        assert secret not in caplog.text
        assert all(secret not in text for text in failures)
        assert all(secret not in repr(r.__dict__) for r in caplog.records)
        assert secret.encode() not in _database_bytes(db_url)
    assert PIN in "".join(sip2_server.received)  # it did go to the ILS, and only there
