"""SIP2 framing against frames published by other implementations, and the dates it carries."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kb.ils.sip2.codec import Message, checksum, decode, encode, message
from kb.ils.sip2.dates import format_sip_datetime, parse_sip_datetime
from kb.ils.sip2.errors import Sip2ChecksumError, Sip2EncodeError, Sip2ProtocolError
from kb.ils.sip2.redact import Secret, get_logger, redact_text
from kb.ils.sip2.spec import PatronFlag, Summary, patron_flags

SHANGHAI = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    "frame",
    [
        # Login response from sip2-ruby's test suite.
        b"941AY1AZFDFC\r",
        # A login from a PHP SIP2 client's test suite.
        b"9300CNuu|COpp|AY1AZF9E9\r",
        # A checkin from the SIP2 client for Python's comments.
        b"09N20160419    12200820160419    122008"
        b"APReading Room 1|AO830|AB830$28170815|AC|AY2AZEB80\r",
    ],
)
def test_checksums_agree_with_other_implementations(frame):
    body = frame[: frame.index(b"AY") + 3]
    digits = frame[-5:-1].decode()
    assert checksum(body + b"AZ") == digits


def test_login_is_framed_like_other_clients_frame_it():
    login = message(
        "93", {"uid_algorithm": "0", "pwd_algorithm": "0"}, [("CN", "uu"), ("CO", Secret("pp"))]
    )
    assert encode(login, sequence=1, encoding="utf-8") == b"9300CNuu|COpp|AY1AZF9E9\r"
    assert encode(login, sequence=None, encoding="utf-8") == b"9300CNuu|COpp|\r"


def test_resend_request_has_a_checksum_but_no_sequence_number():
    frame = encode(message("97", {}), sequence=4, encoding="utf-8")
    assert frame.startswith(b"97AZ") and b"AY" not in frame
    assert decode(frame, encoding="utf-8", require_checksum=True).message.command == "97"


def test_decoding_a_patron_information_response():
    raw = (
        "64              00020260301    101500000000010002000100000000"
        "AOMAIN|AA2900100|AE张三 Zhang San|BLY|CQY|BHCNY|BV3.50|AU39001|AU39002|AFHello|"
    ).encode()
    frame = encode(
        decode(raw + b"\r", encoding="utf-8", require_checksum=False).message,
        sequence=3,
        encoding="utf-8",
    )
    decoded = decode(frame, encoding="utf-8", require_checksum=True)
    msg = decoded.message
    assert decoded.sequence == 3 and decoded.checksummed
    assert msg.command == "64"
    assert msg.fixed["charged_items_count"] == "0002"
    assert msg.fixed["fine_items_count"] == "0001"
    assert msg.first("AE") == "张三 Zhang San"
    assert msg.all("AU") == ["39001", "39002"]
    assert msg.first("AO") == "MAIN" and msg.fixed["overdue_items_count"] == "0001"
    assert msg.first("ZZ") is None


def test_lenient_reading_keeps_good_fields():
    # No final '|', a stray empty field, CRLF line end, an unknown extension field.
    raw = b"\n36Y20260301    101500AOMAIN||AA2900100|XYvendor|AFBye\r"
    msg = decode(raw, encoding="utf-8", require_checksum=False).message
    assert msg.fixed["end_session"] == "Y"
    assert msg.fields == (("AO", "MAIN"), ("AA", "2900100"), ("XY", "vendor"), ("AF", "Bye"))


def test_a_corrupted_byte_fails_the_checksum():
    frame = bytearray(b"941AY1AZFDFC\r")
    frame[2] = ord("0")
    with pytest.raises(Sip2ChecksumError, match="does not match"):
        decode(bytes(frame), encoding="utf-8", require_checksum=True)


def test_missing_checksum_is_refused_when_error_detection_is_on():
    with pytest.raises(Sip2ChecksumError, match="no checksum"):
        decode(b"941\r", encoding="utf-8", require_checksum=True)
    assert decode(b"941\r", encoding="utf-8", require_checksum=False).message.fixed == {"ok": "1"}


def test_truncated_fixed_fields_are_named_with_their_position():
    with pytest.raises(
        Sip2ProtocolError, match=r"fixed field transaction_date \(characters 6-23\)"
    ):
        decode(b"30100N2026\r", encoding="utf-8", require_checksum=False)
    with pytest.raises(Sip2ProtocolError, match="unknown or unexpected message 'XX'"):
        decode(b"XX\r", encoding="utf-8", require_checksum=False)


def test_a_pin_that_would_break_the_frame_is_refused_without_being_echoed():
    bad = message(
        "23", {"language": "000", "transaction_date": " " * 18}, [("AD", Secret("12|34"))]
    )
    with pytest.raises(Sip2EncodeError) as info:
        encode(bad, sequence=0, encoding="utf-8")
    assert "AD" in str(info.value) and "12|34" not in str(info.value)


def test_message_repr_and_logs_never_show_secrets(caplog):
    pin = Secret("8841Xq")
    msg = message(
        "63",
        {"language": "000", "transaction_date": " " * 18, "summary": Summary.CHARGED_ITEMS.field()},
        [("AO", "MAIN"), ("AA", "2900100"), ("AD", pin)],
    )
    assert "8841Xq" not in repr(msg) and "AD***|" in repr(msg)
    assert "8841Xq" in msg.text(redact=False)
    log = get_logger("kb.ils.test")
    with caplog.at_level(logging.DEBUG, logger="kb.ils.test"):
        log.debug("raw %s", msg.text(redact=False))
        log.debug("free text mentioning %s", "8841Xq")
        try:
            raise ValueError("bad " + msg.text(redact=False))
        except ValueError:
            log.exception("failed")
    assert "8841Xq" not in caplog.text
    assert "AD***|" in caplog.text
    assert redact_text("|COsecretpw|CPx|") == "|CO***|CPx|"


def test_summary_asks_for_one_list():
    assert Summary.HOLD_ITEMS.field() == "Y         "
    assert Summary.CHARGED_ITEMS.field() == "  Y       "
    assert len(Summary.UNAVAILABLE_HOLDS.field()) == 10


def test_patron_status_flags():
    assert patron_flags(" Y        Y   ") == {
        PatronFlag.RENEWAL_PRIVILEGES_DENIED,
        PatronFlag.EXCESSIVE_OUTSTANDING_FINES,
    }
    assert patron_flags(" " * 14) == frozenset()


def test_sip_dates_local_utc_and_military_zones():
    assert parse_sip_datetime("20260301    235900", SHANGHAI) == datetime(
        2026, 3, 1, 23, 59, tzinfo=SHANGHAI
    )
    assert parse_sip_datetime("20260301   Z155900", SHANGHAI) == datetime(
        2026, 3, 1, 15, 59, tzinfo=UTC
    )
    # R = UTC-5 (US Eastern standard time).
    assert parse_sip_datetime("20260301   R105900", SHANGHAI) == datetime(
        2026, 3, 1, 15, 59, tzinfo=UTC
    )
    # Evergreen's optional ISO due dates.
    assert parse_sip_datetime("2026-03-01 23:59:00", SHANGHAI) == datetime(
        2026, 3, 1, 23, 59, tzinfo=SHANGHAI
    )
    assert parse_sip_datetime("next Tuesday", SHANGHAI) is None
    assert parse_sip_datetime("20261301    000000", SHANGHAI) is None
    moment = datetime(2026, 3, 1, 15, 59, 7, tzinfo=UTC)
    assert format_sip_datetime(moment, SHANGHAI) == "20260301    235907"


def test_message_equality_is_by_content():
    assert (
        Message("94", {"ok": "1"})
        == decode(b"941\r", encoding="utf-8", require_checksum=False).message
    )
