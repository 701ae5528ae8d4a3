"""Librarian API for alerts (staff API keys, as for document delivery).

| method | path | what |
|---|---|---|
| GET | /api/alerts/topics | the topic vocabulary (CLC classes, bilingual labels) |
| POST | /api/alerts/announcements/preview | audience count and the text patrons will see |
| POST | /api/alerts/announcements | publish now, or at ``publish_at`` (admins; 403 otherwise) |
| GET | /api/alerts/stats?from=&to=&lang= | per topic: subscribers, alerts queued, consented clicks |
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.delivery.auth import current_staff
from bot.delivery.errors import ApiError, audited
from bot.state import AppState
from kb.alerts import engagement
from kb.alerts.announcements import (
    SEND_REFUSED,
    AnnouncementError,
    Draft,
    may_send,
    preview,
    publish,
)
from kb.alerts.vocabulary import vocabulary
from kb.staff.models import StaffMember

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
Staff = Annotated[StaffMember, Depends(current_staff)]


class AnnouncementIn(BaseModel):
    title_zh: str = Field(min_length=1, max_length=300)
    title_en: str = Field(min_length=1, max_length=300)
    text_zh: str = Field("", max_length=2000)
    text_en: str = Field("", max_length=2000)
    url: str | None = Field(None, max_length=1000)
    topics: list[str] = Field(default_factory=list, max_length=50)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    publish_at: datetime | None = None

    def draft(self) -> Draft:
        return Draft(**self.model_dump())


def _refusal(exc: AnnouncementError) -> ApiError:
    return ApiError(400, "bad_request", str(exc))


@router.get("/topics")
async def topics(staff: Staff) -> dict[str, Any]:  # noqa: ARG001
    vocab = vocabulary()
    return {"topics": [{"code": t.code, "zh": t.zh, "en": t.en} for t in vocab.topics.values()]}


@router.post("/announcements/preview")
async def announcement_preview(
    body: AnnouncementIn, request: Request, staff: Staff
) -> dict[str, Any]:
    state: AppState = request.app.state.refdesk
    try:
        return await state.db.run(preview, body.draft())
    except AnnouncementError as exc:
        raise _refusal(exc) from exc


@router.post("/announcements", status_code=201)
async def announce(body: AnnouncementIn, request: Request, staff: Staff) -> dict[str, Any]:
    state: AppState = request.app.state.refdesk
    draft = body.draft()

    def work(session: Session) -> dict[str, Any]:
        if not may_send(staff.role.value):
            raise ApiError(403, "admin_only", SEND_REFUSED)
        try:
            shown = preview(session, draft)
            item = publish(session, draft, staff=staff.username)
        except AnnouncementError as exc:
            raise _refusal(exc) from exc
        return {
            "id": item.id,
            "publish_at": item.publish_at.isoformat(),
            "audience": shown["audience"],
            "topics": shown["topics"],
            "keywords": shown["keywords"],
        }

    return await audited(state, staff, "alerts_announce", work, detail=draft.title_en[:100])


@router.get("/stats")
async def stats(
    request: Request,
    staff: Staff,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    lang: str = "zh",
) -> dict[str, Any]:
    state: AppState = request.app.state.refdesk
    for name, value in (("from", since), ("to", until)):
        if value is not None and value.tzinfo is None:
            raise ApiError(
                400, "bad_request", f"{name}: give a time zone, e.g. 2026-11-01T00:00:00+08:00"
            )
    if lang not in ("zh", "en"):
        raise ApiError(400, "bad_request", "lang: zh or en")
    return await state.db.run(
        lambda s: engagement.figures(s, since=since, until=until, language=lang)
    )
