"""Patron feedback in the console and the staff API, against two real gateway processes:
list, filter, mark read / handled with a note, CSV export, CSRF, and the access log."""

from __future__ import annotations

import csv
import io

import httpx
from sqlalchemy import select

from tests.console.conftest import Gateways, Librarian


def _leave(gw: Gateways) -> dict[str, int]:
    from kb.feedback import FeedbackKind, leave_feedback

    with gw.db() as session:
        rows = {
            "noise": leave_feedback(session, "三楼自习室太吵了<script>alert(1)</script>", sender_id=None),
            "wifi": leave_feedback(
                session, "=HYPERLINK(\"http://evil\") the wifi keeps dropping",
                sender_id=None, kind=FeedbackKind.COMPLAINT,
            ),
            "thanks": leave_feedback(session, "Thank you, the staff were wonderful", sender_id=None),
        }  # fmt: skip
        return {k: r.id for k, r in rows.items()}


def _accesses(gw: Gateways, action: str) -> list[tuple[str, int, str | None]]:
    from kb.staff.audit import StaffAccess

    with gw.db() as session:
        rows = session.scalars(select(StaffAccess).where(StaffAccess.action == action))
        return [(r.staff.username, r.outcome, r.ticket) for r in rows]


def test_librarians_filter_read_handle_and_export_feedback_in_the_console(
    gateways: Gateways,
) -> None:
    ids = _leave(gateways)
    li = Librarian(gateways.urls[0], "li")

    page = li.http.get("/console/feedback", params={"kind": "complaint", "lang": "zh"})
    assert page.status_code == 200 and "读者反馈" in page.text
    assert f"FB-{ids['noise']:06d}" in page.text and f"FB-{ids['wifi']:06d}" in page.text
    assert f"FB-{ids['thanks']:06d}" not in page.text  # praise is filtered out
    assert "<script>alert(1)</script>" not in page.text  # patron text shown as text
    assert "&lt;script&gt;" in page.text
    assert ("li", 200, None) in _accesses(gateways, "console.feedback")

    # Without the CSRF token nothing changes.
    forged = li.http.post(f"/console/feedback/{ids['noise']}", data={"action": "handled"})
    assert forged.status_code == 403
    read = li.http.post(
        f"/console/feedback/{ids['noise']}",
        data={"csrf": li.csrf, "action": "read", "back": "?kind=complaint&status="},
    )
    assert read.status_code == 303 and read.headers["location"].startswith(
        "/console/feedback?kind=complaint"
    )
    done = li.http.post(
        f"/console/feedback/{ids['wifi']}",
        data={"csrf": li.csrf, "action": "handled", "note": "IT reset the access point"},
    )
    assert done.status_code == 303
    missing = li.http.post("/console/feedback/999999", data={"csrf": li.csrf, "action": "read"})
    assert missing.status_code == 404

    handled = li.http.get("/console/feedback", params={"status": "handled", "lang": "en"})
    assert f"FB-{ids['wifi']:06d}" in handled.text and "IT reset the access point" in handled.text
    assert f"FB-{ids['noise']:06d}" not in handled.text
    seen = li.http.get("/console/feedback", params={"status": "seen", "lang": "en"})
    assert f"FB-{ids['noise']:06d}" in seen.text
    assert ("li", 200, f"FB-{ids['wifi']:06d}") in _accesses(gateways, "console.feedback.handle")
    assert ("li", 200, f"FB-{ids['noise']:06d}") in _accesses(gateways, "console.feedback.read")

    # The export on the other gateway: every matching row, formulas defused.
    wang = Librarian(gateways.urls[1], "wang")
    export = wang.http.get("/console/feedback.csv", params={"kind": "complaint"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = {r["reference"]: r for r in csv.DictReader(io.StringIO(export.text))}
    wifi = rows[f"FB-{ids['wifi']:06d}"]
    assert wifi["status"] == "handled" and wifi["handled_by"] == "li"
    assert wifi["note"] == "IT reset the access point"
    assert wifi["text"].startswith("'=HYPERLINK")
    assert f"FB-{ids['thanks']:06d}" not in rows
    assert ("wang", 200, None) in _accesses(gateways, "console.feedback.export")

    # Signed out: the login page, not the feedback.
    anonymous = httpx.get(f"{gateways.urls[0]}/console/feedback", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"


def test_the_staff_api_reads_handles_and_exports_feedback_and_audits_it(
    gateways: Gateways,
) -> None:
    from kb.staff.service import add_staff

    ids = _leave(gateways)
    with gateways.db() as session:
        key = add_staff(session, "fb.api", library_code=None).token
    api = httpx.Client(
        base_url=gateways.urls[1], headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    new = api.get("/api/feedback", params={"status": "new", "kind": "praise"}).json()["feedback"]
    assert ids["thanks"] in [f["id"] for f in new]
    assert api.get("/api/feedback", params={"status": "lost"}).json()["error"] == "bad_status"

    read = api.post(f"/api/feedback/{ids['thanks']}/read")
    assert read.status_code == 200 and read.json()["status"] == "seen"
    assert read.json()["seen_by"] == "fb.api"
    handled = api.post(
        f"/api/feedback/{ids['thanks']}/handled", json={"note": "passed on to the desk team"}
    )
    assert handled.json()["status"] == "handled"
    assert handled.json()["note"] == "passed on to the desk team"
    # Reading it again later does not make handled feedback unhandled.
    assert api.post(f"/api/feedback/{ids['thanks']}/read").json()["status"] == "handled"
    assert api.post("/api/feedback/999999/read").status_code == 404
    too_long = api.post(f"/api/feedback/{ids['thanks']}/handled", json={"note": "x" * 5000})
    assert too_long.status_code == 422 and "note" in too_long.json()["message"]

    export = api.get("/api/feedback.csv", params={"status": "handled"})
    assert f"FB-{ids['thanks']:06d}" in export.text
    assert "passed on to the desk team" in export.text
    assert httpx.get(f"{gateways.urls[1]}/api/feedback.csv").status_code == 401

    audited = _accesses(gateways, "feedback.handle")
    assert ("fb.api", 200, f"FB-{ids['thanks']:06d}") in audited
    assert ("fb.api", 404, "FB-999999") in _accesses(gateways, "feedback.read")
    assert ("fb.api", 200, None) in _accesses(gateways, "feedback.export")
