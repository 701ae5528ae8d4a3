"""The patron's library account in chat: verify once, then loans, holds, fines and renewals.

The PIN never comes here. The action asks for the card number (a form), then
leaves a PIN prompt for the gateway (:mod:`kb.ils.prompts`) and asks for the
PIN; the gateway checks the next message with the ILS itself and the engine
hears only ``/my_account{"ils_login": "verified"}`` (or ``wrong_pin``, ...). The
verified session lives in the gateway, which this module asks for the account
and renewals over its internal API (:mod:`bot.services.ils_api`).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog import first_entity
from actions.common import in_db, reply_language, say
from kb.ils.prompts import expect_pin
from kb.settings import get_settings

INTERNAL_HEADER = "X-Refdesk-Internal"
LIBRARIAN = ("联系馆员", "Talk to a librarian", "/human_handoff")
_BARCODE = re.compile(r"^[A-Za-z0-9-]{3,32}$")
NOT_A_BARCODE = "-"

REASONS = {
    "on_hold": ("其他读者预约了这本书", "another reader has a hold on it"),
    "limit_reached": ("已达到续借次数上限", "it has reached its renewal limit"),
    "patron_blocked": (
        "您的账户目前受限（例如有欠款或证件过期），请联系馆员",
        "your account is blocked (for example by fines or an expired card): please ask a librarian",
    ),
    "item_not_found": ("图书馆系统里查不到这笔借阅", "the library system does not show this loan"),
    "other": ("图书馆系统没有同意续借", "the library system did not allow it"),
}


def _pick(language: str, zh: str, en: str) -> str:
    return zh if language == "zh" else en


def connected() -> bool:
    return bool(get_settings().ils_sip2_host)


async def gateway_call(op: str, sender: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    """Ask the gateway (which holds the verified session) for ``op``; (status, body)."""
    s = get_settings()
    timeout = s.ils_sip2_timeout_seconds * 4 + 5
    try:
        async with httpx.AsyncClient(base_url=s.gateway_url, timeout=timeout) as client:
            resp = await client.post(
                f"/internal/ils/{op}",
                json={"sender": sender, **extra},
                headers={INTERNAL_HEADER: s.engine_token},
            )
    except httpx.HTTPError as exc:
        return 599, {"error": "gateway_unreachable", "message": str(exc)}
    try:
        body = resp.json()
    except ValueError:
        body = {"error": "bad_answer"}
    return resp.status_code, body if isinstance(body, dict) else {"value": body}


def mask(barcode: str) -> str:
    return barcode[:2] + "*" * max(len(barcode) - 3, 1) + barcode[-1:]


def local_date(text: str | None) -> str | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    zone = get_settings().ils_sip2_timezone
    return moment.astimezone(ZoneInfo(zone) if zone else None).date().isoformat()


def not_connected(dispatcher: CollectingDispatcher, language: str) -> list[dict[str, Any]]:
    say(
        dispatcher,
        language,
        "抱歉，借阅账户服务还没有接入本系统，我暂时查不了借阅、预约和欠款，也不能续借。"
        "馆员可以帮您处理。",
        "Sorry, account services are not connected here yet: I can't look up loans, holds or "
        "fines, or renew. A librarian can help you with that.",
        buttons=[LIBRARIAN],
    )
    return []


def ils_down(dispatcher: CollectingDispatcher, language: str) -> None:
    say(
        dispatcher,
        language,
        "抱歉，图书馆系统暂时连不上，请稍后再试，或者请馆员帮忙。",
        "Sorry, I can't reach the library system right now. Please try again shortly, "
        "or ask a librarian.",
        buttons=[LIBRARIAN],
    )


async def ask_pin(
    dispatcher: CollectingDispatcher, tracker: Tracker, barcode: str, purpose: str
) -> list[dict[str, Any]]:
    """Leave the PIN prompt for the gateway, then ask for the PIN (masked in the widget)."""
    language = reply_language(tracker)
    ttl = timedelta(minutes=get_settings().ils_session_idle_minutes)
    placed = await in_db(
        lambda session: expect_pin(session, tracker.sender_id, barcode, purpose, ttl=ttl)
    )
    if not placed:
        say(
            dispatcher,
            language,
            "抱歉，这个对话渠道不能安全地输入密码。请通过图书馆网站的在线咨询登录。",
            "Sorry, a PIN can't be typed safely in this channel. Please sign in through the "
            "chat on the library website.",
        )
        return [SlotSet("library_barcode", None)]
    cancel = _pick(language, "取消", "Cancel")
    dispatcher.utter_message(
        text=_pick(
            language,
            f"请输入借书证 {mask(barcode)} 的密码（PIN）。密码只用来向图书馆系统核对，"
            "不会显示、保存或记录。输入“取消”可以退出。",
            f"Please type the PIN of card {mask(barcode)}. It is only checked with the library "
            "system: it is not shown, stored or logged. Type 'cancel' to stop.",
        ),
        buttons=[{"title": cancel, "payload": f'/{purpose}{{"ils_login":"cancelled"}}'}],
        json_message={"secret_input": True},
    )
    return [SlotSet("ils_purpose", purpose)]


async def start_login(
    dispatcher: CollectingDispatcher, tracker: Tracker, purpose: str
) -> list[dict[str, Any]]:
    barcode = tracker.get_slot("library_barcode")
    if barcode and barcode != NOT_A_BARCODE:
        return await ask_pin(dispatcher, tracker, barcode, purpose)
    say(
        dispatcher,
        reply_language(tracker),
        "查看借阅账户之前，需要先验证您的身份（每次对话验证一次）。",
        "To open your library account I first need to check it's you (once per conversation).",
    )
    return [
        SlotSet("ils_purpose", purpose),
        SlotSet("library_barcode", None),
        FollowupAction("account_login_form"),
    ]


def login_problem(
    dispatcher: CollectingDispatcher, language: str, login: str, purpose: str
) -> list[dict[str, Any]]:
    """What the gateway's PIN check said, when it was not "verified"."""
    retry = ("重新输入", "Try again", f"/{purpose}")
    if login == "cancelled":
        say(dispatcher, language, "好的，已取消登录。", "OK, I've stopped signing you in.")
        return [SlotSet("library_barcode", None)]
    if login == "wrong_pin":
        say(
            dispatcher,
            language,
            "密码不正确。可以再试一次；连续输错多次后需要等一段时间才能再试。",
            "That PIN is not right. You can try again; after several wrong tries you'll have "
            "to wait a while.",
            buttons=[retry, LIBRARIAN],
        )
        return []
    if login == "unknown_patron":
        say(
            dispatcher,
            language,
            "图书馆系统里没有这个借书证号，请核对后重新输入。",
            "The library system doesn't know that card number. Please check it and try again.",
            buttons=[retry, LIBRARIAN],
        )
        return [SlotSet("library_barcode", None)]
    if login == "locked_out":
        minutes = int(get_settings().ils_pin_lockout_minutes)
        say(
            dispatcher,
            language,
            f"密码输错次数太多，为了保护您的账户，请 {minutes} 分钟后再试，或者请馆员帮忙。",
            f"Too many wrong PINs: to protect your account, please try again in {minutes} "
            "minutes, or ask a librarian.",
            buttons=[LIBRARIAN],
        )
        return [SlotSet("library_barcode", None)]
    ils_down(dispatcher, language)
    return []


def render_account(data: dict[str, Any], language: str) -> str:
    name = data.get("name") or ""
    lines = [
        _pick(language, f"{name} 您好，这是您的借阅账户：", f"Hello {name}, here is your account:")
    ]
    loans = data.get("loans") or []
    if loans:
        lines.append(_pick(language, f"在借 {len(loans)} 册：", f"{len(loans)} item(s) on loan:"))
        for i, loan in enumerate(loans, 1):
            title = loan.get("title") or loan.get("item_id")
            due = local_date(loan.get("due")) or loan.get("due_text") or "?"
            line = _pick(language, f"{i}. 《{title}》 应还 {due}", f"{i}. {title} — due {due}")
            if loan.get("overdue"):
                line += _pick(language, "（已逾期）", " (overdue)")
            lines.append(line)
    else:
        lines.append(_pick(language, "目前没有在借的书。", "You have nothing on loan."))
    holds = data.get("holds_ready") or []
    if holds:
        lines.append(
            _pick(language, f"预约到馆待取 {len(holds)} 册：", f"{len(holds)} hold(s) ready:")
        )
        for hold in holds:
            title = hold.get("title") or hold.get("item_id")
            where = hold.get("pickup_location") or _pick(language, "服务台", "the service desk")
            by = local_date(hold.get("pickup_by"))
            lines.append(
                _pick(
                    language,
                    f"· 《{title}》 在 {where} 取书" + (f"，请于 {by} 前取走" if by else ""),
                    f"· {title} at {where}" + (f", collect by {by}" if by else ""),
                )
            )
    fines = data.get("fines") or {}
    total = fines.get("total")
    if total and float(total) > 0:
        currency = fines.get("currency") or ""
        lines.append(_pick(language, f"欠款合计：{total} {currency}", f"Fines: {total} {currency}"))
        for item in fines.get("items") or []:
            lines.append(f"· {item.get('description')}")
    else:
        lines.append(_pick(language, "没有欠款。", "No fines."))
    if data.get("blocks"):
        lines.append(
            _pick(
                language,
                "注意：您的账户目前受限，借书或续借可能不成功，请联系馆员。",
                "Note: your account is blocked, so borrowing or renewing may fail. "
                "Please ask a librarian.",
            )
        )
    return "\n".join(lines)


def _renew_line(result: dict[str, Any], language: str) -> str:
    title = result.get("title") or result.get("item_id")
    if result.get("renewed"):
        due = local_date(result.get("due")) or result.get("due_text") or "?"
        return _pick(
            language,
            f"✓ 《{title}》已续借，新的应还日期 {due}",
            f"✓ {title}: renewed, now due {due}",
        )
    zh, en = REASONS.get(result.get("reason") or "other", REASONS["other"])
    return _pick(language, f"✗ 《{title}》没有续借：{zh}", f"✗ {title}: not renewed — {en}")


class _AccountAction(Action, ABC):
    purpose = "my_account"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        if not connected():
            return not_connected(dispatcher, language)
        login = first_entity(tracker, "ils_login")
        if login and login not in ("verified", "end"):
            return login_problem(dispatcher, language, login, self.purpose)
        events: list[dict[str, Any]] = []
        if login == "verified":
            events.append(SlotSet("library_barcode", None))
        return events + await self.verified(dispatcher, tracker, language, login)

    @abstractmethod
    async def verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str, login: str | None
    ) -> list[dict[str, Any]]: ...

    async def call(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        language: str,
        op: str,
        **extra: Any,
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """The gateway's answer, or (as a list) the events to return instead."""
        status, body = await gateway_call(op, tracker.sender_id, **extra)
        if status == 200:
            return body
        if status == 401:
            return await start_login(dispatcher, tracker, self.purpose)
        if status == 503:
            return not_connected(dispatcher, language)
        if status == 409:
            say(
                dispatcher,
                language,
                "与图书馆系统的连接中断了，无法确定续借是否成功。请稍后查看“我的账户”确认。",
                "The line to the library system dropped, so I can't tell whether the renewal "
                "went through. Please check 'my account' in a moment.",
                buttons=[("我的账户", "My account", "/my_account")],
            )
            return []
        ils_down(dispatcher, language)
        return []


class ActionMyAccount(_AccountAction):
    purpose = "my_account"

    def name(self) -> str:
        return "action_my_account"

    async def verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str, login: str | None
    ) -> list[dict[str, Any]]:
        if login == "end":
            await gateway_call("end", tracker.sender_id)
            say(dispatcher, language, "已退出借阅账户。", "You're signed out of your account.")
            return [SlotSet("library_barcode", None)]
        data = await self.call(dispatcher, tracker, language, "account")
        if isinstance(data, list):
            return data
        buttons = [("退出账户", "Sign out", '/my_account{"ils_login":"end"}')]
        if data.get("loans"):
            buttons.insert(0, ("续借", "Renew", "/renew_loan"))
        text = render_account(data, language)
        say(dispatcher, language, text, text, buttons=buttons)
        return []


class ActionRenewLoan(_AccountAction):
    purpose = "renew_loan"

    def name(self) -> str:
        return "action_renew_loan"

    async def verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str, login: str | None
    ) -> list[dict[str, Any]]:
        item = first_entity(tracker, "loan_item")
        if item == "all":
            data = await self.call(dispatcher, tracker, language, "renew_all")
            if isinstance(data, list):
                return data
            results = [*data.get("renewed", []), *data.get("refused", [])]
            if not results:
                say(dispatcher, language, "没有可以续借的书。", "There was nothing to renew.")
                return []
            head = _pick(language, "续借结果：", "Renewal results:")
            lines = [head, *(_renew_line(r, language) for r in results)]
            dispatcher.utter_message(text="\n".join(lines))
            return []
        if item:
            data = await self.call(dispatcher, tracker, language, "renew", item_id=item)
            if isinstance(data, list):
                return data
            dispatcher.utter_message(text=_renew_line(data, language))
            return []
        data = await self.call(dispatcher, tracker, language, "account")
        if isinstance(data, list):
            return data
        loans = data.get("loans") or []
        if not loans:
            say(dispatcher, language, "您目前没有在借的书。", "You have nothing on loan.")
            return []
        buttons = []
        for loan in loans[:10]:
            title = loan.get("title") or loan.get("item_id")
            short = title if len(title) <= 24 else title[:23] + "…"
            due = local_date(loan.get("due")) or "?"
            buttons.append(
                (
                    f"续借《{short}》（{due} 到期）",
                    f"Renew {short} (due {due})",
                    f'/renew_loan{{"loan_item":"{loan["item_id"]}"}}',
                )
            )
        buttons.append(("全部续借", "Renew all", '/renew_loan{"loan_item":"all"}'))
        say(
            dispatcher,
            language,
            "要续借哪一本？",
            "Which one would you like to renew?",
            buttons=buttons,
        )
        return []


class ActionIlsAskPin(Action):
    """After the card number form: ask for the PIN (which only the gateway will see)."""

    def name(self) -> str:
        return "action_ils_ask_pin"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        purpose = tracker.get_slot("ils_purpose") or "my_account"
        barcode = tracker.get_slot("library_barcode")
        if not barcode or barcode == NOT_A_BARCODE:
            say(
                dispatcher,
                language,
                "好的，先不登录。需要时说“我的账户”就可以。",
                "OK, not signing in. Just say 'my account' when you want to.",
                buttons=[("我的账户", "My account", f"/{purpose}")],
            )
            return [SlotSet("library_barcode", None)]
        return await ask_pin(dispatcher, tracker, barcode, purpose)


class ValidateAccountLoginForm(FormValidationAction):
    def name(self) -> str:
        return "validate_account_login_form"

    async def validate_library_barcode(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = re.sub(r"\s+", "", str(slot_value or ""))
        if _BARCODE.match(text) and any(c.isdigit() for c in text):
            return {"library_barcode": text}
        # Not a card number ("cancel", a question): leave the form without asking again.
        return {"library_barcode": NOT_A_BARCODE}
