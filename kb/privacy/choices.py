"""What a patron has agreed to, purpose by purpose, and changing it themselves.

Used by the privacy page and the chat command that links to it. Each purpose's
state is its latest event in the one consent history (kb.privacy.consent); the
switchable ones are changed through their own module, so a withdrawal has the same
effect wherever it is made (clicks or searches kept are deleted at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kb.alerts import consent as engagement
from kb.personalisation import consent as personalisation
from kb.privacy import consent

# Purpose -> (zh, en) name and what it means. The notice is not a choice: it is shown,
# and only listed with when it was.
PURPOSES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    consent.PROCESSING: (
        ("隐私说明", "Privacy notice"),
        (
            "为了回答您的问题，我们保存对话内容。这一项不是可选的授权，只显示您何时看到了说明。",
            "We keep the conversation to answer you. This is not an option you choose; it only "
            "shows when you were shown the notice.",
        ),
    ),
    consent.ENGAGEMENT: (
        ("统计通报链接的点击", "Counting clicks on alert links"),
        (engagement.WORDING["zh"], engagement.WORDING["en"]),
    ),
    consent.PERSONALISATION: (
        ("个性化推荐", "Personalised reading suggestions"),
        (personalisation.WORDING["zh"], personalisation.WORDING["en"]),
    ),
}
SWITCHABLE = (consent.ENGAGEMENT, consent.PERSONALISATION)


@dataclass(frozen=True)
class Choice:
    purpose: str
    granted: bool  # for the notice: shown
    since: datetime | None  # when the latest event was recorded; None = never asked
    switchable: bool
    declined: bool = False  # personalisation: a "no" to the offer, not a withdrawal


def choices(session: Session, patron_id: int) -> list[Choice]:
    found = []
    for purpose in PURPOSES:
        event = consent.latest(session, patron_id, purpose)
        found.append(
            Choice(
                purpose,
                granted=event is not None and event.granted,
                since=event.recorded_at if event is not None else None,
                switchable=purpose in SWITCHABLE,
                declined=event is not None
                and purpose == consent.PERSONALISATION
                and personalisation.is_refusal(event),
            )
        )
    return found


def change(
    session: Session, patron_id: int, purpose: str, granted: bool, *, source: str, language: str
) -> bool:
    """Grant or withdraw a switchable purpose; False when it already was so (nothing
    recorded). Raises ValueError for the notice or an unknown purpose."""
    if purpose not in SWITCHABLE:
        raise ValueError(f"{purpose!r} cannot be switched")
    if consent.has_consent(session, patron_id, purpose) == granted:
        latest = consent.latest(session, patron_id, purpose)
        # Withdrawing after a mere "no" to the offer is still recorded: it stops the offer.
        if granted or latest is None or not personalisation.is_refusal(latest):
            return False
    module = engagement if purpose == consent.ENGAGEMENT else personalisation
    module.record(session, patron_id, granted, source=source, language=language)
    return True
