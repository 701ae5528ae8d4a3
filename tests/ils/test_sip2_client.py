"""The SIP2 client against a local SIP2 server over TCP: accounts, renewals and failures."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from kb.ils.sip2.client import Sip2Client
from kb.ils.sip2.connection import Sip2Config
from kb.ils.sip2.errors import (
    Sip2ChecksumError,
    Sip2ConnectionError,
    Sip2LoginRefused,
    Sip2OutcomeUnknown,
    Sip2ProtocolError,
    Sip2Timeout,
    Sip2Unsupported,
)
from kb.ils.sip2.redact import Secret
from kb.ils.sip2.results import RefusalReason
from kb.ils.sip2.spec import PatronFlag
from tests.fixtures.sip2_server import Sip2Server, sip_checksum
from tests.fixtures.tls import make_tls


def sent(server: Sip2Server, command: str) -> list[str]:
    return [frame for frame in server.received if frame.startswith(command)]


async def test_first_request_logs_in_with_error_detection(sip2_client, sip2_server):
    status = await sip2_client.patron_status("29001", None)
    assert status.valid_patron and status.name == "李华 Li Hua"
    login, sc_status, request = sip2_server.received[:3]
    assert login.startswith("9300CNrefdesk|COsip-secret-pw|CPREFDESK|AY0AZ")
    assert sc_status.startswith("990040") and request.startswith("23000")
    # Every frame carries a sequence number and a checksum the server's own arithmetic accepts.
    for number, frame in enumerate((login, sc_status, request)):
        body, digits = frame[:-4], frame[-4:]
        assert body.endswith(f"AY{number}AZ") and sip_checksum(body) == digits


async def test_login_refused_names_the_user_not_the_password(sip2_client, sip2_server):
    sip2_server.faults.refuse_login = True
    with pytest.raises(Sip2LoginRefused) as info:
        await sip2_client.patron_status("29001", None)
    assert "'refdesk'" in str(info.value) and "sip-secret-pw" not in str(info.value)


async def test_pin_check(sip2_client):
    right = await sip2_client.patron_status("29001", Secret("7Q3z9K"))
    wrong = await sip2_client.patron_status("29001", Secret("000000"))
    unknown = await sip2_client.patron_status("99999", Secret("7Q3z9K"))
    assert right.valid_patron and right.valid_pin is True
    assert wrong.valid_patron and wrong.valid_pin is False
    assert not unknown.valid_patron and unknown.valid_pin is False


async def test_patron_account_lists_loans_holds_and_fines(sip2_client, sip2_server):
    account = await sip2_client.patron_account("29001")
    library = sip2_server.patrons["29001"]
    assert account.name == "李华 Li Hua" and account.valid_patron and not account.blocked
    by_id = {loan.item_id: loan for loan in account.loans}
    assert list(by_id) == ["B1001", "B1002", "B1003", "B1004"]
    for fixture_loan in library.loans:
        loan = by_id[fixture_loan.item_id]
        assert loan.title == fixture_loan.title
        # SIP2 dates carry whole seconds.
        assert abs(loan.due - fixture_loan.due) < timedelta(seconds=1)
    assert [loan.item_id for loan in account.overdue] == ["B1004"]
    (hold,) = account.holds_ready
    assert hold.item_id == "H2001" and hold.title == "Norwegian Wood 挪威的森林"
    assert hold.pickup_location == "Main Library 总馆"
    assert abs(hold.pickup_by - library.holds_ready[0].pickup_by) < timedelta(seconds=1)
    assert account.fines.total == Decimal("6.50") and account.fines.currency == "CNY"
    assert [(f.amount, f.description) for f in account.fines.items] == [
        (Decimal("1.50"), "1.50 Overdue fine: Overdue Atlas"),
        (Decimal("5.00"), "5.00 Replacement card"),
    ]
    # The PIN is never sent again after verification: refdesk acts as a trusted terminal.
    assert not any("|AD" in frame for frame in sent(sip2_server, "63"))


async def test_blocked_patron_shows_its_blocks(sip2_client):
    account = await sip2_client.patron_account("29002")
    assert account.blocked
    assert {
        PatronFlag.CHARGE_PRIVILEGES_DENIED,
        PatronFlag.RENEWAL_PRIVILEGES_DENIED,
        PatronFlag.EXCESSIVE_OUTSTANDING_FINES,
    } == account.blocks
    assert account.fines.total == Decimal("120.00")


async def test_renew_one_gives_the_new_due_date(sip2_client, sip2_server):
    loan = sip2_server.patrons["29001"].loans[0]
    old_due = loan.due
    result = await sip2_client.renew("29001", "B1001")
    assert result.renewed and result.reason is None
    assert result.title == "三体 The Three-Body Problem"
    assert abs(result.due - (old_due + timedelta(days=14))) < timedelta(seconds=1)
    assert loan.renewals == 1


@pytest.mark.parametrize(
    ("patron", "item", "reason", "words"),
    [
        ("29001", "B1002", RefusalReason.ON_HOLD, "outstanding holds"),
        ("29001", "B1003", RefusalReason.LIMIT_REACHED, "maximum renewals"),
        ("29002", "B1005", RefusalReason.PATRON_BLOCKED, "blocked"),
        ("29001", "NOPE-1", RefusalReason.ITEM_NOT_FOUND, "not checked out"),
    ],
)
async def test_refused_renewal_says_why(sip2_client, sip2_server, patron, item, reason, words):
    result = await sip2_client.renew(patron, item)
    assert not result.renewed and result.due is None
    assert result.reason is reason and not result.reason_inferred
    assert words in result.screen_message


async def test_renew_all(sip2_client, sip2_server):
    loans = {loan.item_id: loan for loan in sip2_server.patrons["29001"].loans}
    result = await sip2_client.renew_all("29001")
    assert [r.item_id for r in result.renewed] == ["B1001", "B1004"]
    for renewed in result.renewed:
        assert abs(renewed.due - loans[renewed.item_id].due) < timedelta(seconds=1)
    refused = {r.item_id: r for r in result.refused}
    assert set(refused) == {"B1002", "B1003"}
    # Renew All gives no reasons; a hold queue on the item explains B1002.
    assert refused["B1002"].reason is RefusalReason.ON_HOLD and refused["B1002"].reason_inferred
    assert refused["B1003"].reason is RefusalReason.OTHER
    assert len(sent(sip2_server, "65")) == 1


async def test_bad_checksum_once_is_resent_on_request(sip2_client, sip2_server):
    await sip2_client.patron_status("29001", None)  # logged in
    sip2_server.faults.corrupt_responses = 1
    status = await sip2_client.patron_status("29001", None)
    assert status.valid_patron
    assert len(sent(sip2_server, "97")) == 1
    assert sent(sip2_server, "97")[0].startswith("97AZ")  # checksum, no sequence number


async def test_permanently_bad_checksum_is_a_clear_error(sip2_client, sip2_server):
    await sip2_client.patron_status("29001", None)
    sip2_server.faults.corrupt_responses = -1
    with pytest.raises(Sip2ChecksumError, match="gave up after 3 resend requests"):
        await sip2_client.patron_status("29001", None)
    assert len(sent(sip2_server, "97")) == 3


async def test_ils_that_could_not_read_us_gets_the_frame_again(sip2_client, sip2_server):
    await sip2_client.patron_status("29001", None)
    sip2_server.faults.demand_resend = 1
    result = await sip2_client.renew("29001", "B1001")
    assert result.renewed
    first, again = sent(sip2_server, "29")
    assert first == again  # the very same frame, same sequence number
    assert sip2_server.patrons["29001"].loans[0].renewals == 1


async def test_server_answers_a_bad_client_checksum_with_96(sip2_server):
    reader, writer = await asyncio.open_connection(*sip2_server.address)
    body = "9300CNrefdesk|COsip-secret-pw|AY0AZ"
    good = sip_checksum(body)
    bad = format((int(good, 16) + 1) & 0xFFFF, "04X")
    writer.write(f"{body}{bad}\r".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"\r"), 2)
    assert answer.startswith(b"96AZ")
    writer.write(f"{body}{good}\r".encode())
    await writer.drain()
    assert (await asyncio.wait_for(reader.readuntil(b"\r"), 2)).startswith(b"941AY0AZ")
    writer.close()


async def test_answer_with_the_wrong_sequence_number_is_not_trusted(sip2_client, sip2_server):
    await sip2_client.patron_status("29001", None)
    sip2_server.faults.wrong_sequence = 1
    with pytest.raises(Sip2ProtocolError, match=r"answered sequence number 4, expected 3"):
        await sip2_client.patron_status("29001", None)
    # That connection is closed; the next request gets a new one and works.
    assert (await sip2_client.patron_status("29001", None)).valid_patron
    assert sip2_server.connections == 2


async def test_dropped_connection_mid_lookup_reconnects(sip2_client, sip2_server):
    await sip2_client.patron_status("29001", None)
    sip2_server.faults.drop_on = {"63"}
    account = await sip2_client.patron_account("29001")
    assert len(account.loans) == 4
    assert sip2_server.connections == 2
    assert len(sent(sip2_server, "93")) == 2  # logged in again on the new connection


async def test_connection_closed_while_idle_is_replaced_before_a_renewal(sip2_client, sip2_server):
    await sip2_client.patron_status("29001", None)
    sip2_server.drop_all()  # the ILS times out idle terminals
    await asyncio.sleep(0.2)  # let the close reach the client, as it would while idle
    result = await sip2_client.renew("29001", "B1001")
    assert result.renewed and sip2_server.patrons["29001"].loans[0].renewals == 1
    assert len(sent(sip2_server, "29")) == 1


async def test_drop_after_a_renewal_was_sent_is_not_retried(sip2_client, sip2_server):
    await sip2_client.patron_status("29001", None)
    sip2_server.faults.drop_on = {"29"}
    with pytest.raises(Sip2OutcomeUnknown, match="may or may not have been made"):
        await sip2_client.renew("29001", "B1001")
    assert len(sent(sip2_server, "29")) == 1


async def test_silent_ils_times_out_with_a_clear_error(sip2_client, sip2_server):
    await sip2_client.patron_status("29001", None)
    sip2_server.faults.silent_on = {"63"}
    started = time.monotonic()
    with pytest.raises(Sip2Timeout, match=r"did not answer message 63 within 1\.5 s"):
        await sip2_client.patron_account("29001")
    assert time.monotonic() - started < 3
    sip2_server.faults.silent_on = set()
    assert (await sip2_client.patron_status("29001", None)).valid_patron  # a fresh connection


async def test_unreachable_ils(sip2_config):
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = Sip2Client(dataclasses.replace(sip2_config, port=port))
    with pytest.raises(Sip2ConnectionError, match=f"cannot connect to the ILS at 127.0.0.1:{port}"):
        await client.patron_status("29001", None)
    await client.aclose()


async def test_connections_are_pooled_and_logged_in_once(sip2_client, sip2_server):
    await asyncio.gather(*(sip2_client.patron_status("29001", None) for _ in range(6)))
    await sip2_client.patron_account("29001")
    assert sip2_server.connections <= 2  # the pool size
    assert len(sent(sip2_server, "93")) == sip2_server.connections


async def test_terminal_without_renewal_rights_is_told_so(sip2_client, sip2_server):
    sip2_server.renewals_allowed = False
    with pytest.raises(Sip2Unsupported, match="message 29"):
        await sip2_client.renew("29001", "B1001")
    assert not sent(sip2_server, "29")


async def test_tls(tmp_path, sip2_config):
    context, ca_file = make_tls(tmp_path)
    server = Sip2Server(ssl_context=context)
    host, port = await server.start()
    try:
        trusted = Sip2Client(dataclasses.replace(sip2_config, port=port, tls=True, ca_file=ca_file))
        assert (await trusted.patron_status("29001", None)).valid_patron
        await trusted.aclose()
        untrusted = Sip2Client(dataclasses.replace(sip2_config, port=port, tls=True))
        with pytest.raises(Sip2ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusted.patron_status("29001", None)
        await untrusted.aclose()
    finally:
        await server.stop()


def test_settings_build_the_config(sip2_config: Sip2Config):
    assert sip2_config.institution_id == "MAIN" and sip2_config.login_user == "refdesk"
    assert "sip-secret-pw" not in repr(sip2_config)
    assert sip2_config.login_password.reveal() == "sip-secret-pw"
