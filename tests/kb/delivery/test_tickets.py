"""Ticket numbers: DD-<year>-<6 digits>, per-year sequence, unique under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from kb.db import sessionmaker_for
from kb.delivery.tickets import format_ticket, next_ticket, normalize_ticket


def test_ticket_numbers_count_up_per_year(session, backend):
    assert [next_ticket(session, 2026) for _ in range(3)] == [
        "DD-2026-000001",
        "DD-2026-000002",
        "DD-2026-000003",
    ]
    assert next_ticket(session, 2027) == "DD-2027-000001"
    assert next_ticket(session, 2026) == "DD-2026-000004"


def test_a_rolled_back_request_gives_its_number_back(session, backend):
    next_ticket(session, 2026)
    session.commit()
    next_ticket(session, 2026)
    session.rollback()
    assert next_ticket(session, 2026) == "DD-2026-000002"


def test_concurrent_requests_never_share_a_number(db_url, backend):
    make = sessionmaker_for(db_url)

    def take(_: int) -> list[str]:
        taken = []
        for _ in range(5):
            with make() as s:
                taken.append(next_ticket(s, 2026))
                s.commit()
        return taken

    with ThreadPoolExecutor(max_workers=6) as pool:
        tickets = [t for batch in pool.map(take, range(6)) for t in batch]
    assert sorted(tickets) == [format_ticket(2026, n) for n in range(1, 31)]


@pytest.mark.parametrize(
    ("text", "ticket"),
    [
        ("DD-2026-000123", "DD-2026-000123"),
        ("dd-2026-123", "DD-2026-000123"),
        ("DD 2026 000123", "DD-2026-000123"),
        ("ＤＤ－２０２６－０００１２３", "DD-2026-000123"),  # typed with a Chinese IME
        (" DD2026000123 ", "DD-2026-000123"),
        ("DD-2026-000000", None),
        ("DD-2026-1234567", None),
        ("ILL-2026-000123", None),
        ("2026-000123", None),
    ],
)
def test_ticket_numbers_are_read_as_patrons_type_them(text, ticket):
    assert normalize_ticket(text) == ticket
