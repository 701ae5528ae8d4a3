"""The console's JSON API (the desk page calls it): status, queue, claim, transcript,
reply, typing, notes, transfer (to a colleague or a department), close, colleagues,
departments, canned replies.

Every POST needs the session's CSRF token in ``X-CSRF-Token``. Every transcript a
librarian opens is written to the staff access log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.auth import Librarian, api_librarian
from bot.live import steps
from bot.state import AppState
from kb.alerts.subscriptions import subscriber_of, topic_label
from kb.console.availability import same_department
from kb.console.departments import departments as list_departments
from kb.console.models import ChatNote, ChatStatus, LiveChat
from kb.console.queue import QueueError
from kb.conversations import Message
from kb.delivery.service import own_requests
from kb.staff import audit
from kb.staff.models import StaffMember

router = APIRouter(prefix="/console/api")
STATUSES = ("online", "away", "offline")


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.refdesk
    return state


def _refused(exc: QueueError) -> JSONResponse:
    return JSONResponse({"ok": False, "code": exc.code, "message": str(exc)}, status_code=409)


class StatusIn(BaseModel):
    status: str


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class TypingIn(BaseModel):
    on: bool


class TransferIn(BaseModel):
    """To a colleague (``to``, a username) or to a department's queue (``department``)."""

    to: str | None = Field(default=None, min_length=1, max_length=64)
    department: str | None = Field(default=None, min_length=1, max_length=100)


@router.post("/status")
async def set_status(
    who: Annotated[Librarian, Depends(api_librarian)], body: StatusIn, request: Request
) -> dict[str, Any]:
    if body.status not in STATUSES:
        raise HTTPException(422, f"status must be one of {', '.join(STATUSES)}")
    state = _state(request)
    await state.db.run(steps.touch, who.id, body.status)
    await state.desk.announce_queue()
    return {"ok": True, "status": body.status}


def _mine(session: Session, staff_id: int) -> list[dict[str, Any]]:
    chats = session.scalars(
        select(LiveChat)
        .where(LiveChat.status == ChatStatus.ACTIVE, LiveChat.staff_id == staff_id)
        .order_by(LiveChat.claimed_at)
    ).all()
    return [
        {
            "id": c.id,
            "channel": c.conversation.channel,
            "language": c.conversation.language,
            "claimed_at": c.claimed_at.isoformat() if c.claimed_at else None,
        }
        for c in chats
    ]


def _me(session: Session, staff_id: int) -> dict[str, Any]:
    m = session.get(StaffMember, staff_id)
    assert m is not None
    return {
        "status": m.console_status,
        "department": m.department,
        "chats": _mine(session, staff_id),
    }


def for_librarian(
    chats: list[dict[str, Any]], department: str | None, only_mine: bool
) -> list[dict[str, Any]]:
    """The queue as one librarian sees it: their department's chats first (in queue
    order), and with ``only_mine`` nothing else."""
    ours = [c for c in chats if same_department(c["department"], department)]
    if only_mine:
        return ours
    return ours + [c for c in chats if c not in ours]


@router.get("/queue")
async def queue_view(
    who: Annotated[Librarian, Depends(api_librarian)],
    request: Request,
    department: str = "all",
) -> dict[str, Any]:
    """``?department=mine``: only the chats waiting for my department."""
    if department not in ("all", "mine"):
        raise HTTPException(422, "department must be all or mine")
    state = _state(request)
    snapshot = await state.db.run(steps.queue_state, state.settings)
    me = await state.db.run(_me, who.id)
    chats = for_librarian(snapshot.console["chats"], me["department"], department == "mine")
    return {
        **snapshot.console,
        "chats": chats,
        "mine": me["chats"],
        "status": me["status"],
        "my_department": me["department"],
    }


@router.post("/chats/{chat_id}/claim")
async def claim(
    who: Annotated[Librarian, Depends(api_librarian)], chat_id: int, request: Request
) -> Any:
    try:
        await _state(request).desk.claim(chat_id, who.id)
    except QueueError as exc:
        return _refused(exc)
    return {"ok": True, "chat": chat_id}


def _transcript(session: Session, chat_id: int, who: Librarian) -> dict[str, Any] | None:
    chat = session.get(LiveChat, chat_id)
    staff = session.get(StaffMember, who.id)
    assert staff is not None
    if chat is None:
        audit.record(session, staff, "console.transcript", outcome=404, ticket=f"CHAT-{chat_id}")
        return None
    conv = chat.conversation
    lines = session.scalars(
        select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)
    ).all()
    notes = session.scalars(
        select(ChatNote).where(ChatNote.live_chat_id == chat.id).order_by(ChatNote.id)
    ).all()
    tickets = own_requests(session, conv.patron_id)
    subscriber = subscriber_of(session, conv.patron_id) if conv.patron_id else None
    alerts = subscriber if subscriber is not None and subscriber.active else None
    audit.record(session, staff, "console.transcript", outcome=200, ticket=f"CHAT-{chat_id}")
    return {
        "id": chat.id,
        "status": chat.status.value,
        "owner": chat.staff.display_name if chat.staff else None,
        "mine": chat.staff_id == who.id,
        "channel": conv.channel,
        "language": conv.language,
        "trigger": chat.trigger,
        "department": chat.department,
        "requested_at": chat.requested_at.isoformat(),
        "rating": chat.rating,
        "comment": chat.comment,
        "lines": [steps.line_frame(m, chat.id) for m in lines],
        "notes": [
            {"by": n.staff.display_name, "text": n.text, "at": n.created_at.isoformat()}
            for n in notes
        ],
        "tickets": [
            {"ticket": t.ticket, "status": t.status.value, "title": (t.title or "")[:200]}
            for t in tickets
        ],
        # What the patron asked to be alerted about, so the librarian need not ask.
        "subscriptions": [
            {"topic": topic_label(t, conv.language), "frequency": alerts.frequency.value}
            for t in alerts.topics
        ]
        if alerts
        else [],
    }


@router.get("/chats/{chat_id}")
async def transcript(
    who: Annotated[Librarian, Depends(api_librarian)], chat_id: int, request: Request
) -> Any:
    found = await _state(request).db.run(_transcript, chat_id, who)
    if found is None:
        raise HTTPException(404, f"there is no chat {chat_id}")
    return found


@router.post("/chats/{chat_id}/reply")
async def reply(
    who: Annotated[Librarian, Depends(api_librarian)], chat_id: int, body: TextIn, request: Request
) -> Any:
    text = body.text.strip()
    if not text:
        raise HTTPException(422, "the reply is empty")
    try:
        line = await _state(request).desk.reply(chat_id, who.id, text)
    except QueueError as exc:
        return _refused(exc)
    return {"ok": True, "line": line}


@router.post("/chats/{chat_id}/typing")
async def typing(
    who: Annotated[Librarian, Depends(api_librarian)],
    chat_id: int,
    body: TypingIn,
    request: Request,
) -> Any:
    await _state(request).desk.typing(chat_id, who.id, body.on)
    return {"ok": True}


def _add_note(session: Session, chat_id: int, staff_id: int, text: str) -> dict[str, Any] | None:
    chat = session.get(LiveChat, chat_id)
    if chat is None:
        return None
    note = ChatNote(live_chat_id=chat_id, staff_id=staff_id, text=text)
    session.add(note)
    session.flush()
    return {"by": note.staff.display_name, "text": note.text, "at": note.created_at.isoformat()}


@router.post("/chats/{chat_id}/notes")
async def add_note(
    who: Annotated[Librarian, Depends(api_librarian)], chat_id: int, body: TextIn, request: Request
) -> Any:
    note = await _state(request).db.run(_add_note, chat_id, who.id, body.text.strip())
    if note is None:
        raise HTTPException(404, f"there is no chat {chat_id}")
    return {"ok": True, "note": note}


@router.post("/chats/{chat_id}/transfer")
async def transfer(
    who: Annotated[Librarian, Depends(api_librarian)],
    chat_id: int,
    body: TransferIn,
    request: Request,
) -> Any:
    if (body.to is None) == (body.department is None):
        raise HTTPException(422, "give either to (a colleague) or department")
    desk = _state(request).desk
    try:
        if body.department is not None:
            await desk.transfer_to_department(chat_id, who.id, body.department)
        else:
            await desk.transfer(chat_id, who.id, body.to or "")
    except QueueError as exc:
        return _refused(exc)
    return {"ok": True}


@router.post("/chats/{chat_id}/close")
async def close(
    who: Annotated[Librarian, Depends(api_librarian)], chat_id: int, request: Request
) -> Any:
    try:
        await _state(request).desk.close(chat_id, who.id)
    except QueueError as exc:
        return _refused(exc)
    return {"ok": True}


def _colleagues(session: Session, staff_id: int) -> list[dict[str, str]]:
    rows = session.scalars(
        select(StaffMember)
        .where(
            StaffMember.active.is_(True),
            StaffMember.password_hash.is_not(None),
            StaffMember.id != staff_id,
        )
        .order_by(StaffMember.username)
    ).all()
    return [
        {"username": m.username, "name": m.display_name, "status": m.console_status} for m in rows
    ]


@router.get("/colleagues")
async def colleagues(who: Annotated[Librarian, Depends(api_librarian)], request: Request) -> Any:
    return await _state(request).db.run(_colleagues, who.id)


@router.get("/departments")
async def departments(who: Annotated[Librarian, Depends(api_librarian)], request: Request) -> Any:
    """For the transfer dialog: each department with its members and how many are online."""
    state = _state(request)
    rows = await state.db.run(list_departments, state.settings)
    return [{"name": d.name, "members": d.members, "online": d.online} for d in rows]


@router.get("/canned")
async def canned(who: Annotated[Librarian, Depends(api_librarian)], request: Request) -> Any:
    from kb.console.canned import list_canned

    rows = await _state(request).db.run(
        lambda s: [
            {"id": c.id, "title": c.title, "zh": c.text_zh, "en": c.text_en} for c in list_canned(s)
        ]
    )
    return rows
