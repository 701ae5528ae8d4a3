"""What a patron is told: a request's status line, a push at each step that matters, and
the answers instead of a ticket (the patron's own library has it; it was asked for already).

Texts follow the request's language (the patron's when they opened it). The
outbound queue sends :func:`notice_for` to the patron's channel after each
event it returns text for; lender-to-lender moves and the lender's own
bookkeeping are not news to the patron and return None.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kb.catalog.models import HoldingStatus, Library
from kb.delivery.files import download_url
from kb.delivery.models import DeliveryEvent, DeliveryRequest
from kb.delivery.routing import unfilled_reasons
from kb.delivery.service import HeldLocally
from kb.delivery.states import Event, Role, Status
from kb.delivery.texts import REASON_NAMES, STATUS_NAMES, lang_of


def _library_name(session: Session, code: str | None, lang: str) -> str:
    library = session.get(Library, code) if code else None
    return library.name(lang) if library is not None else (code or "")


def _item(request: DeliveryRequest, lang: str) -> str:
    title = request.article_title or request.title or request.journal or request.doi or ""
    if not title:
        return ""
    return f"《{title}》" if lang == "zh" else f'"{title}"'


def _detail(
    session: Session, request: DeliveryRequest, status: Status, lender: str | None, lang: str
) -> str:
    zh = lang == "zh"
    if status in (Status.SENT, Status.EXPECT_TO_SUPPLY, Status.WILL_SUPPLY):
        name = _library_name(session, lender, lang)
        due = ""
        if request.answer_due_at and status is request.status and lender == request.current_lender:
            due = request.answer_due_at.date().isoformat()
        if zh:
            return f"（{name}）" + (f"，预计 {due} 前有答复" if due else "")
        return f" ({name})" + (f"; next answer due by {due}" if due else "")
    if status is Status.CONDITIONAL:
        note = next((e.note for e in reversed(request.events) if e.event is Event.CONDITIONAL), "")
        if zh:
            return f"：{note}。请回复“接受”或“不接受”"
        return f": {note}. Reply 'accept' or 'decline'"
    if status is Status.COPY_COMPLETED:
        live = [f for f in request.files if f.purged_at is None]
        if live:
            until = live[-1].expires_at.date().isoformat()
            url = download_url(live[-1])
            return f"，请在 {until} 前下载：{url}" if zh else f"; download it by {until}: {url}"
        if request.supplied_link:
            link = request.supplied_link
            return f"：{link}" if zh else f": {link}"
        return ""
    if status is Status.LOANED:
        where = _library_name(session, request.pickup_library, lang)
        if not where:
            return ""
        return f"，请到{where}取书" if zh else f"; pick it up at {where}"
    if status is Status.UNFILLED:
        reasons = [
            f"{_library_name(session, code, lang)}（{REASON_NAMES[r][lang]}）"
            if zh
            else f"{_library_name(session, code, lang)} ({REASON_NAMES[r][lang]})"
            for code, r in unfilled_reasons(request)
        ]
        if not reasons:
            return (
                "：联合目录中没有可以提供的图书馆"
                if zh
                else ": no library in the union catalog has it"
            )
        return ("：" + "；".join(reasons)) if zh else (": " + "; ".join(reasons))
    return ""


def _line(
    session: Session, request: DeliveryRequest, status: Status, lender: str | None, lang: str
) -> str:
    head = f"{request.ticket} {_item(request, lang)}".strip()
    sep, end = ("：", "。") if lang == "zh" else (": ", ".")
    detail = _detail(session, request, status, lender, lang)
    return f"{head}{sep}{STATUS_NAMES[status][lang]}{detail}{end}"


def status_line(session: Session, request: DeliveryRequest, language: str | None = None) -> str:
    """One line a patron can read: ticket, item, status and what happens next."""
    lang = lang_of(language or request.language)
    return _line(session, request, request.status, request.current_lender, lang)


def notice_for(session: Session, request: DeliveryRequest, event: DeliveryEvent) -> str | None:
    """The push message for ``event`` in the patron's language, or None if it is not news.

    The text describes the step itself, so a message sent late still says what happened then.
    """
    if event.role is Role.PATRON or event.from_status == event.to_status:
        return None  # the patron did it themselves, or the request only changed lender
    if event.to_status not in (
        Status.WILL_SUPPLY,
        Status.CONDITIONAL,
        Status.COPY_COMPLETED,
        Status.LOANED,
        Status.UNFILLED,
        Status.CANCELLED,
    ):
        return None
    lender = event.lender or event.routed_to
    return _line(session, request, event.to_status, lender, lang_of(request.language))


def held_locally_text(session: Session, outcome: HeldLocally, language: str) -> str:
    """The answer instead of a ticket: the patron's own library has it."""
    lang = lang_of(language)
    name = _library_name(session, outcome.library_code, lang)
    shelved = [h for h in outcome.holdings if h.status is HoldingStatus.AVAILABLE]
    if shelved:
        call = next((h.call_number for h in shelved if h.call_number), None)
        if lang == "zh":
            where = f"，索书号 {call}" if call else ""
            return f"您所在的{name}有这份文献，目前在架{where}，可以直接借阅，不需要文献传递。"
        where = f" (call number {call})" if call else ""
        return (
            f"Your library, {name}, has it on the shelf{where}: "
            "borrow it there, no delivery needed."
        )
    dues = sorted(h.due_date for h in outcome.holdings if h.due_date)
    if lang == "zh":
        back = f"（预计 {dues[0].isoformat()} 归还）" if dues else ""
        return (
            f"您所在的{name}有这份文献，目前已借出{back}，可以在本馆预约。"
            "如仍需文献传递，请告诉我。"
        )
    back = f" (due back {dues[0].isoformat()})" if dues else ""
    return (
        f"Your library, {name}, has it but it is out on loan{back}; you can place a hold there. "
        "Tell me if you still want it delivered from another library."
    )


def duplicate_text(session: Session, request: DeliveryRequest, language: str) -> str:
    """The answer to a second request for an item the patron already asked for."""
    lang = lang_of(language)
    line = _line(session, request, request.status, request.current_lender, lang)
    if lang == "zh":
        return f"您已经申请过这份文献，不用重复提交：{line}"
    return f"You already asked for this, no need to ask again: {line}"
