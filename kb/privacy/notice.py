"""The privacy notice every patron sees once, on first contact, on any channel.

The text lives here and only here. Showing it is recorded as a ``processing`` event
of the consent history with the channel and :data:`VERSION`; raising the version
shows the new text once again to everyone.
"""

from __future__ import annotations

from sqlalchemy import Exists, exists, select
from sqlalchemy.orm import Session

from kb.language import pick
from kb.privacy import consent
from kb.privacy.models import ConsentEvent

VERSION = "2026-1"

ZH = (
    "【隐私提示】为回答您的咨询，图书馆会保存本对话及您留下的联系方式，"
    "对话记录保存一段时间后自动删除。"
    "发送“我的个人数据”可下载我们保存的关于您的全部数据；发送“删除我的数据”可要求删除。"
)
EN = (
    "Privacy notice: to answer you, the library keeps this conversation and any contact "
    "details you give us; transcripts are deleted automatically after a while. "
    'Send "export my data" to download everything we hold about you, or '
    '"delete my data" to have it erased.'
)


def text(language: str | None) -> str:
    """The notice in the patron's language, or both when it is not known yet."""
    return pick(language, ZH, EN)


def seen(patron_id: int) -> Exists:
    """Has this patron seen the current version of the notice? As SQL, so a caller can
    ask it in the same statement as other questions (the gateway does, every turn)."""
    return exists().where(
        ConsentEvent.patron_id == patron_id,
        ConsentEvent.purpose == consent.PROCESSING,
        ConsentEvent.version == VERSION,
    )


def due(session: Session, patron_id: int) -> bool:
    """Has this patron not yet seen the current version of the notice?"""
    return not session.scalar(select(seen(patron_id)))


def show_if_due(session: Session, patron_id: int, channel: str, language: str | None) -> str | None:
    """The notice text to show now (recording that it was shown), or None if already seen."""
    if not due(session, patron_id):
        return None
    return show(session, patron_id, channel, language)


def show(session: Session, patron_id: int, channel: str, language: str | None) -> str:
    """The notice text, recorded as shown (the caller knows it is due)."""
    shown = text(language)
    consent.record(
        session,
        patron_id,
        consent.PROCESSING,
        True,
        source=channel,
        wording=shown,
        version=VERSION,
    )
    return shown
