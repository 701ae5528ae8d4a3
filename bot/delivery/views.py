"""Delivery requests as JSON for staff: a queue line, and the full record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kb.delivery import transitions
from kb.delivery.citations import BIBLIOGRAPHIC_FIELDS
from kb.delivery.models import DeliveryEvent, DeliveryRequest, RotaEntry, SuppliedFile
from kb.delivery.states import Role
from kb.delivery.texts import REASON_NAMES, STATUS_NAMES


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def summary(request: DeliveryRequest, role: Role) -> dict[str, Any]:
    """What a queue shows: enough to pick the request, nothing personal."""
    return {
        "ticket": request.ticket,
        "status": request.status.value,
        "status_name": STATUS_NAMES[request.status],
        "genre": request.genre.value,
        "title": request.title,
        "article_title": request.article_title,
        "journal": request.journal,
        "service_type": request.service_type.value,
        "delivery_method": request.delivery_method.value,
        "current_lender": request.current_lender,
        "requesting_library": request.requesting_library,
        "answer_due_at": _iso(request.answer_due_at),
        "need_before": _iso(request.need_before),
        "created_at": _iso(request.created_at),
        "allowed_events": [e.value for e in transitions.allowed_events(request.status, role)],
    }


def _rota(entry: RotaEntry) -> dict[str, Any]:
    return {
        "position": entry.position,
        "library_code": entry.library_code,
        "state": entry.state.value,
        "reason": entry.reason.value if entry.reason else None,
        "sent_at": _iso(entry.sent_at),
        "answered_at": _iso(entry.answered_at),
        "answer_days": entry.answer_days,
        "ranking": entry.ranking,
    }


def _event(event: DeliveryEvent) -> dict[str, Any]:
    return {
        "at": _iso(event.at),
        "event": event.event.value,
        "actor": event.actor,
        "role": event.role.value,
        "from_status": event.from_status.value,
        "to_status": event.to_status.value,
        "lender": event.lender,
        "routed_to": event.routed_to,
        "reason": event.reason.value if event.reason else None,
        "reason_name": REASON_NAMES[event.reason] if event.reason else None,
        "note": event.note,
    }


def _file(file: SuppliedFile) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "uploaded_by": file.uploaded_by,
        "uploaded_at": _iso(file.uploaded_at),
        "expires_at": _iso(file.expires_at),
        "purged": file.purged_at is not None,
    }


def detail(request: DeliveryRequest, role: Role) -> dict[str, Any]:
    """Everything about a request, the patron's contact decrypted (the caller audits it)."""
    citation = {name: getattr(request, name) for name in BIBLIOGRAPHIC_FIELDS}
    return {
        **summary(request, role),
        "citation": {"genre": request.genre.value, **citation},
        "pickup_library": request.pickup_library,
        "max_cost": str(request.max_cost) if request.max_cost is not None else None,
        "language": request.language,
        "source": request.source,
        "supplied_link": request.supplied_link,
        "supplied_at": _iso(request.supplied_at),
        "closed_at": _iso(request.closed_at),
        "contact": {
            "name": request.contact_name,
            "email": request.contact_email,
            "phone": request.contact_phone,
        },
        "notes": request.notes,
        "rota": [_rota(e) for e in request.rota],
        "events": [_event(e) for e in request.events],
        "files": [_file(f) for f in request.files],
    }
