"""Admin pages of the console against two real gateway processes: staff accounts
(create, role, department, password reset, deactivate) and service hours (weekdays,
holidays) that decide whether a librarian is available; only admins, CSRF, both
languages, the access log; and one run of the pages in headless Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from tests.console.conftest import Gateways, Librarian

NEW_PASSWORD = "a long new password"


def _audit(gw: Gateways, action: str) -> list[str]:
    from kb.staff.audit import StaffAccess

    with gw.db() as session:
        rows = session.scalars(select(StaffAccess).where(StaffAccess.action == action))
        return [f"{r.staff.username}: {r.detail}" for r in rows]


def test_admins_create_change_reset_and_deactivate_librarians(gateways: Gateways) -> None:
    zhao = Librarian(gateways.urls[0], "zhao")  # admin
    li = Librarian(gateways.urls[1], "li")  # librarian
    assert li.http.get("/console/staff").status_code == 403
    refused = li.http.post(
        "/console/staff",
        data={"csrf": li.csrf, "username": "sneaky", "password": NEW_PASSWORD},
    )
    assert refused.status_code == 403
    page = zhao.http.get("/console/staff", params={"lang": "zh"})
    assert page.status_code == 200 and "新建馆员账号" in page.text and "馆员账号" in page.text
    assert "New librarian" in zhao.http.get("/console/staff", params={"lang": "en"}).text

    form = {
        "username": "Chen.Jing",
        "display_name": "陈静",
        "role": "librarian",
        "department": "参考咨询部",
        "password": NEW_PASSWORD,
    }
    assert zhao.http.post("/console/staff", data=form).status_code == 403  # no CSRF token
    created = zhao.http.post("/console/staff", data={**form, "csrf": zhao.csrf})
    assert created.status_code == 303
    listing = zhao.http.get("/console/staff").text
    assert "chen.jing" in listing and "参考咨询部" in listing
    chen = Librarian(gateways.urls[1], "chen.jing", NEW_PASSWORD)
    assert chen.login_status == 303  # the new librarian signs in on the other gateway

    # Mistakes get the page again with the reason, naming the field; nothing is written.
    again = zhao.http.post("/console/staff", data={**form, "csrf": zhao.csrf})
    assert again.status_code == 422 and "already a staff member" in again.text
    short = zhao.http.post(
        "/console/staff",
        data={**form, "username": "wu", "password": "short", "csrf": zhao.csrf},
    )
    assert short.status_code == 422 and "password" in short.text
    assert "wu</td>" not in zhao.http.get("/console/staff").text

    promoted = zhao.http.post(
        "/console/staff/chen.jing",
        data={"csrf": zhao.csrf, "role": "admin", "department": "Reference"},
    )
    assert promoted.status_code == 303
    assert chen.http.get("/console/staff").status_code == 200  # now an admin
    demote_self = zhao.http.post(
        "/console/staff/zhao", data={"csrf": zhao.csrf, "role": "librarian"}
    )
    assert demote_self.status_code == 422

    reset = zhao.http.post(
        "/console/staff/chen.jing/password",
        data={"csrf": zhao.csrf, "password": "another long password"},
    )
    assert reset.status_code == 303
    # The reset signed chen's consoles out; the new password works, the old does not.
    assert chen.http.get("/console/staff", follow_redirects=False).status_code == 303
    assert Librarian(gateways.urls[0], "chen.jing", NEW_PASSWORD).login_status == 401
    chen = Librarian(gateways.urls[0], "chen.jing", "another long password")
    assert chen.login_status == 303

    gone = zhao.http.post("/console/staff/chen.jing/deactivate", data={"csrf": zhao.csrf})
    assert gone.status_code == 303
    assert chen.http.get("/console", follow_redirects=False).status_code == 303
    assert Librarian(gateways.urls[1], "chen.jing", "another long password").login_status == 401
    assert zhao.http.post(
        "/console/staff/zhao/deactivate", data={"csrf": zhao.csrf}
    ).status_code == 422  # fmt: skip

    actions = _audit(gateways, "console.staff.create") + _audit(
        gateways, "console.staff.deactivate"
    )
    assert "zhao: created chen.jing (librarian)" in actions
    assert "zhao: chen.jing deactivated" in actions
    assert _audit(gateways, "console.staff.password") == ["zhao: password of chen.jing reset"]


def test_service_hours_and_holidays_set_in_the_console_decide_availability(
    gateways: Gateways,
) -> None:
    from kb.console.availability import librarian_available
    from kb.console.service_hours import open_now
    from kb.settings import get_settings

    zhao = Librarian(gateways.urls[1], "zhao")
    wang = Librarian(gateways.urls[0], "wang")
    assert wang.http.get("/console/hours").status_code == 403
    page = zhao.http.get("/console/hours", params={"lang": "en"})
    assert page.status_code == 200 and "Monday" in page.text and "default (setting)" in page.text
    assert "星期一" in zhao.http.get("/console/hours", params={"lang": "zh"}).text

    tz = ZoneInfo("Asia/Shanghai")  # REFDESK_CONSOLE_TIMEZONE's default
    monday_10 = datetime(2026, 11, 23, 10, 0, tzinfo=tz)  # a Monday
    wang.post("/status", {"status": "online"})

    def available(at: datetime) -> bool:
        with gateways.db() as session:
            return open_now(session, get_settings(), at.astimezone(UTC))

    def librarian_on_duty_now() -> bool:
        with gateways.db() as session:
            return librarian_available(session, get_settings())

    assert available(monday_10)  # the setting: every day, all day
    # A holiday today: nobody is available, although wang is online.
    today = datetime.now(tz).date().isoformat()
    assert librarian_on_duty_now()
    zhao.http.post("/console/hours/holidays", data={"csrf": zhao.csrf, "day": today})
    assert not librarian_on_duty_now()
    zhao.http.post(f"/console/hours/holidays/{today}/delete", data={"csrf": zhao.csrf})
    assert librarian_on_duty_now()

    bad = zhao.http.post("/console/hours/weekday/0", data={"csrf": zhao.csrf, "hours": "9-5"})
    assert bad.status_code == 422 and "expected e.g." in bad.text
    set_monday = zhao.http.post(
        "/console/hours/weekday/0", data={"csrf": zhao.csrf, "hours": "13:00-21:00"}
    )
    assert set_monday.status_code == 303
    assert not available(monday_10) and available(monday_10 + timedelta(hours=4))
    closed_sunday = zhao.http.post(
        "/console/hours/weekday/6", data={"csrf": zhao.csrf, "hours": "closed"}
    )
    assert closed_sunday.status_code == 303
    assert not available(monday_10 - timedelta(days=1))

    holiday = zhao.http.post(
        "/console/hours/holidays", data={"csrf": zhao.csrf, "day": "2026-11-24", "note": "校庆"}
    )
    assert holiday.status_code == 303
    assert not available(monday_10 + timedelta(days=1, hours=4))  # Tuesday, a holiday
    assert available(monday_10 + timedelta(days=2))  # Wednesday: the setting still
    hours = zhao.http.get("/console/hours").text
    assert "2026-11-24" in hours and "校庆" in hours and "13:00-21:00" in hours

    zhao.http.post("/console/hours/holidays/2026-11-24/delete", data={"csrf": zhao.csrf})
    zhao.http.post("/console/hours/weekday/0", data={"csrf": zhao.csrf, "reset": "1"})
    assert available(monday_10) and available(monday_10 + timedelta(days=1))
    assert "zhao: holiday 2026-11-24 closed" in _audit(gateways, "console.hours.holiday")
    assert "zhao: weekday 0: 13:00-21:00" in _audit(gateways, "console.hours.weekday")
    anonymous = httpx.get(f"{gateways.urls[0]}/console/hours", follow_redirects=False)
    assert anonymous.status_code == 303


@pytest.mark.browser
def test_an_admin_adds_a_librarian_and_a_holiday_in_the_browser(gateways: Gateways) -> None:
    from tests.browser.test_webchat_page import CHROMIUM, CHROMIUM_ARGS
    from tests.console.conftest import PASSWORD

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(f"{gateways.urls[0]}/console/login")
        page.get_by_label("用户名").fill("zhao")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("link", name="馆员账号").click()
        new = page.locator("#new-librarian")
        new.get_by_label("用户名").fill("sun.li")
        new.get_by_label("姓名").fill("孙莉")
        new.get_by_label("部门").fill("学科服务部")
        new.get_by_label("新密码").fill(NEW_PASSWORD)
        new.get_by_role("button", name="创建").click()
        row = page.locator("#staff-sun\\.li")
        expect(row).to_contain_text("孙莉")
        expect(row.get_by_label("部门")).to_have_value("学科服务部")

        page.get_by_role("link", name="服务时间").click()
        holiday = page.locator("#new-holiday")
        holiday.get_by_label("日期").fill("2027-01-01")
        holiday.get_by_label("备注").fill("元旦")
        holiday.get_by_role("button", name="添加闭馆日").click()
        expect(page.locator("#holiday-2027-01-01")).to_contain_text("元旦")
        page.get_by_label("星期六").fill("09:00-17:00")
        page.locator("#day-sat").get_by_role("button", name="保存").click()
        expect(page.locator("#day-sat .source")).to_contain_text("已在工作台设置")
        browser.close()


def test_admins_read_the_access_log_and_librarians_cannot(gateways: Gateways) -> None:
    zhao = Librarian(gateways.urls[0], "zhao")  # admin
    li = Librarian(gateways.urls[1], "li")  # librarian
    assert li.http.get("/console/audit").status_code == 403
    li.http.get("/console/feedback")  # an audited view by the librarian
    page = zhao.http.get("/console/audit", params={"username": "li", "lang": "en"})
    assert page.status_code == 200 and "Staff access log" in page.text
    assert "console.feedback" in page.text and "<td>li</td>" in page.text
    assert "<td>zhao</td>" not in page.text  # filtered to li
    none = zhao.http.get("/console/audit", params={"action": "no.such.action"}).text
    assert "No entries match." in none
    assert any("username=li" in row for row in _audit(gateways, "console.audit"))
    assert "员工访问日志" in zhao.http.get("/console/audit", params={"lang": "zh"}).text
