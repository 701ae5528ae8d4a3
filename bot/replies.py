"""What the assistant sends back, independent of the channel that renders it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass
class Reply:
    text: str
    buttons: list[Button] = field(default_factory=list)
    speaker: str = "bot"  # bot / librarian / system
    # "message" for normal lines; "notice" for gateway notes (text cut, engine down).
    kind: str = "message"
    code: str | None = None
    custom: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v not in (None, [], {})}

    @classmethod
    def from_engine(cls, message: dict[str, Any]) -> Reply:
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in message.get("buttons") or []
        ]
        return cls(text=message.get("text") or "", buttons=buttons, custom=message.get("custom"))
