"""Staff members, their API keys and the access log, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kb.catalog.models import Library
from kb.staff import audit, keys
from kb.staff.models import StaffMember, StaffRole
from kb.staff.service import StaffError, add_staff, authenticate, list_staff, revoke


@pytest.fixture
def pku(session):
    session.add(Library(code="PKU", name_zh="北京大学图书馆", name_en="Peking University Library"))
    session.flush()


def test_the_key_is_shown_once_and_stored_only_as_a_hash(session, pku, backend):
    added = add_staff(session, "Li.Wei", library_code="PKU", display_name="李伟")
    member = session.scalar(select(StaffMember))
    assert member.username == "li.wei" and member.display_name == "李伟"
    assert member.role is StaffRole.LIBRARIAN and member.active
    assert added.token.startswith(f"rdk_{member.key_id}_")
    secret = added.token.split("_", 2)[2]
    assert secret not in member.key_hash and member.key_hash.startswith("scrypt$")
    assert authenticate(session, added.token).member is member


def test_wrong_malformed_and_revoked_keys(session, pku, backend):
    added = add_staff(session, "li", library_code="PKU")
    key_id, secret = keys.split_token(added.token)
    assert authenticate(session, "hello").problem == "malformed"
    assert authenticate(session, f"rdk_{key_id}_{'x' * 43}").problem == "unknown"
    revoke(session, "li")
    result = authenticate(session, added.token)
    assert result.problem == "revoked" and result.member.revoked_at is not None
    assert list_staff(session, include_revoked=False) == []


def test_refused_staff_changes_say_why(session, pku):
    add_staff(session, "li", library_code="PKU")
    with pytest.raises(StaffError, match="already a staff member 'li'"):
        add_staff(session, "li", library_code="PKU")
    with pytest.raises(StaffError, match="no member library with the code 'XYZ'"):
        add_staff(session, "zhang", library_code="XYZ")
    with pytest.raises(StaffError, match="username"):
        add_staff(session, "has space", library_code=None)
    with pytest.raises(StaffError, match="no staff member 'nobody'"):
        revoke(session, "nobody")


def test_access_rows_record_who_what_which_ticket_and_outcome(session, pku, backend):
    member = add_staff(session, "zhao", library_code=None, role=StaffRole.ADMIN).member
    audit.record(
        session,
        member,
        "delivery.view",
        outcome=200,
        ticket="DD-2026-000001",
        detail="contact_viewed",
    )
    audit.record(session, member, "delivery.accept", outcome=403, ticket="DD-2026-000002")
    rows = audit.accesses(session, staff_id=member.id)
    assert [(r.action, r.ticket, r.outcome) for r in rows] == [
        ("delivery.view", "DD-2026-000001", 200),
        ("delivery.accept", "DD-2026-000002", 403),
    ]
    assert rows[0].at.tzinfo is not None
    assert audit.accesses(session, ticket="DD-2026-000002")[0].staff.username == "zhao"


def test_cli_adds_lists_and_revokes(db_url, monkeypatch):
    from bot.cli import app
    from kb.db import session_scope
    from kb.settings import get_settings

    monkeypatch.setenv("REFDESK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    with session_scope(db_url) as s:
        s.add(Library(code="THU", name_zh="清华大学图书馆", name_en="Tsinghua University Library"))
    runner = CliRunner()
    added = runner.invoke(app, ["staff", "add", "wang", "--library", "THU", "--role", "admin"])
    assert added.exit_code == 0, added.output
    token = added.output.splitlines()[1]
    assert token.startswith("rdk_")
    listed = runner.invoke(app, ["staff", "list"])
    assert "wang" in listed.output and "THU" in listed.output and token not in listed.output
    assert runner.invoke(app, ["staff", "revoke", "wang"]).exit_code == 0
    with session_scope(db_url) as s:
        assert authenticate(s, token).problem == "revoked"
    unknown = runner.invoke(app, ["staff", "add", "li", "--library", "NOPE"])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output


def test_cli_moves_a_librarian_to_another_library_or_the_centre(db_url, monkeypatch):
    from bot.cli import app
    from kb.db import session_scope
    from kb.settings import get_settings

    monkeypatch.setenv("REFDESK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    with session_scope(db_url) as s:
        s.add(Library(code="THU", name_zh="清华大学图书馆", name_en="Tsinghua University Library"))
        s.add(Library(code="PKU", name_zh="北京大学图书馆", name_en="Peking University Library"))
    runner = CliRunner()
    assert runner.invoke(app, ["staff", "add", "chen", "--library", "THU"]).exit_code == 0

    def library() -> str | None:
        with session_scope(db_url) as s:
            return s.scalar(select(StaffMember.library_code).where(StaffMember.username == "chen"))

    moved = runner.invoke(app, ["staff", "library", "chen", "--library", "PKU"])
    assert moved.exit_code == 0 and "now works for PKU" in moved.output
    assert library() == "PKU"
    assert runner.invoke(app, ["staff", "library", "chen", "--centre"]).exit_code == 0
    assert library() is None
    unknown = runner.invoke(app, ["staff", "library", "chen", "--library", "NOPE"])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output and library() is None
    both = runner.invoke(app, ["staff", "library", "chen", "--library", "PKU", "--centre"])
    neither = runner.invoke(app, ["staff", "library", "chen"])
    assert both.exit_code == neither.exit_code == 1 and "either" in neither.output
    nobody = runner.invoke(app, ["staff", "library", "ghost", "--centre"])
    assert nobody.exit_code == 1 and "ghost" in nobody.output


def test_the_access_log_cannot_be_changed_or_deleted(session, pku, backend) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DatabaseError

    staff = add_staff(session, "auditee", library_code="PKU").member
    row = audit.record(session, staff, "delivery.view", outcome=200, ticket="DD-2026-000001")
    session.commit()
    for change in (
        update(audit.StaffAccess).where(audit.StaffAccess.id == row.id).values(outcome=404),
        delete(audit.StaffAccess).where(audit.StaffAccess.id == row.id),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(change)
            session.flush()
        session.rollback()
    assert [(r.action, r.outcome) for r in audit.accesses(session)] == [("delivery.view", 200)]
    found = audit.search(session, action="delivery.", ticket="DD-2026-000001")
    assert [r.staff.username for r in found] == ["auditee"]
    assert audit.search(session, action="console.") == []
