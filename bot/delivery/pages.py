"""Bilingual pages for patrons: both languages always shown, the browser's first.

``Accept-Language`` decides the order only, so a patron whose browser is set to
English still sees the Chinese (and the other way round), as on the chat page.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from bot.state import AppState

Bilingual = dict[str, str]  # {"zh": ..., "en": ...}
LANGUAGES = ("zh", "en")


def language_order(header: str | None, default: str = "zh") -> list[str]:
    """["en", "zh"] when the browser prefers English to Chinese, else ["zh", "en"]."""
    best: dict[str, tuple[float, int]] = {}
    for position, part in enumerate((header or "").split(",")):
        tag, *params = part.strip().split(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0 and (primary not in best or best[primary][0] < q):
            best[primary] = (q, -position)
    if not best:
        first = default if default in LANGUAGES else "zh"
    else:
        first = max(best, key=lambda lang: best[lang])
    return [first, *(lang for lang in LANGUAGES if lang != first)]


def languages_of(request: Request) -> list[str]:
    state: AppState = request.app.state.refdesk
    return language_order(request.headers.get("accept-language"), state.settings.default_language)


def render(request: Request, template: str, status: int, context: dict[str, Any]) -> HTMLResponse:
    state: AppState = request.app.state.refdesk
    langs = languages_of(request)
    response = state.templates.TemplateResponse(
        request, template, {"langs": langs, **context}, status_code=status
    )
    response.headers["Content-Language"] = ", ".join(langs)
    response.headers["Vary"] = "Accept-Language"
    return response


def message_page(request: Request, status: int, title: Bilingual, body: Bilingual) -> HTMLResponse:
    """A short bilingual page: what happened and what to do now."""
    return render(request, "delivery_message.html", status, {"title": title, "body": body})
