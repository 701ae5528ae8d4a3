"""The conversation router: every patron message from every channel passes here.

It cleans the text, keeps it in the transcript, and decides who answers:
the dialogue model (bot mode) or a librarian (human mode, the bot is silent).
When the engine or the action server is down, the patron is told so and the
message is kept as a question for a librarian, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot import linking, patron_text, privacy_command, texts
from bot.db import Database, StorageUnavailable
from bot.engine_client import EngineClient, EngineReply, EngineUnavailable
from bot.live.steps import Intercepted, intercept, patron_line
from bot.metrics import Metrics
from bot.replies import Button, Reply
from bot.services.ils import CANCELLED, UNAVAILABLE, IlsDesk
from kb import engine_tracker
from kb.console.queue import feedback_asked as feedback_asked_after_chat
from kb.conversations import (
    Conversation,
    ConversationMode,
    Message,
    Speaker,
    conversation_for,
    find_conversation,
    record_message,
)
from kb.db import utcnow
from kb.ils.prompts import (
    PIN_HIDDEN,
    PendingPin,
    drop_pin_prompt,
    pin_expected,
    prompt_waiting,
    take_pin_prompt,
)
from kb.language import detect_language
from kb.patrons import Patron
from kb.privacy import notice as privacy_notice
from kb.questions import leave_question
from kb.settings import Settings

if TYPE_CHECKING:
    from bot.live.desk import Desk

log = logging.getLogger("refdesk.router")

UNAVAILABLE_REASON = "assistant_unavailable"
# The shape of a delivery draft token (kb.delivery.drafts.token_for): id.expiry.signature.
DRAFT_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}\.\d{1,12}\.[0-9a-f]{16,64}$")
# Button payloads must be ones the assistant actually offered in this many recent lines.
OFFERED_BUTTON_WINDOW = 20
# Typed instead of a PIN, these leave the PIN prompt (anything else is taken as the PIN).
_CANCEL_WORDS = {"取消", "算了", "不要了", "不用了", "退出", "不登录了", "cancel", "stop", "quit",
                 "nevermind", "nvm", "exit", "no"}  # fmt: skip


@dataclass
class Follower:
    """How a channel with a live connection (the web chat) follows a turn as it happens."""

    # Once the patron's line is kept, before anyone answers it (the web chat echoes it to
    # the conversation's other tabs): with the line as kept when that hides what was
    # typed (a PIN, a link code), else None.
    received: Callable[[str | None], Awaitable[None]]
    # The assistant's answer as soon as the engine gives it, before the gateway writes it
    # to the transcript: the patron reads it meanwhile. What comes after the write (a
    # place in the queue) is in the Turn's replies as usual; the turn ends after both.
    answered: Callable[[list[Reply]], Awaitable[None]] | None = None


async def _no_echo(_: str | None) -> None:
    """What channels that show the patron nothing of their own line do with it."""


_NOBODY = Follower(received=_no_echo)


@dataclass
class Turn:
    """What one patron message produced."""

    conversation_id: int
    sender_id: str
    language: str | None
    replies: list[Reply] = field(default_factory=list)
    # The privacy notice of a first contact: sent after the turn's answer, so the answer
    # to what the patron asked still comes first.
    notice: Reply | None = None


@dataclass
class _Received:
    conversation_id: int
    sender_id: str
    mode: ConversationMode
    language: str | None
    message_id: int | None
    payload: str | None  # a button payload we offered, else None
    # What the patron's line was stored with (its payload column), kept with the parse.
    message_payload: dict[str, Any] | None = None
    # Set when this message answered a PIN prompt: it is the PIN (or "cancel").
    pin_prompt: PendingPin | None = None
    pin_cancelled: bool = False
    # In human mode: the owning librarian and the line for their console.
    to_librarian: tuple[int, dict[str, Any]] | None = None
    # The privacy notice, on the patron's first contact (and once per new version).
    notice: str | None = None
    # The live-chat desk took the line (leaving the queue, a rating after a chat).
    intercepted: Intercepted | None = None

    @property
    def pin_hidden(self) -> bool:
        """Kept as PIN_HIDDEN: the line answered a PIN prompt and was not "cancel"."""
        return self.pin_prompt is not None and not self.pin_cancelled


class Router:
    def __init__(
        self, settings: Settings, db: Database, engine: EngineClient, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.db = db
        self.engine = engine
        self.metrics = metrics
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._actions_http = httpx.AsyncClient(base_url=settings.actions_url, timeout=2.0)
        self.ils: IlsDesk | None = None  # set by bot.state: verifies PINs
        # The live-chat desk (set by build_state): queue, human mode, ratings.
        self.desk: Desk | None = None

    async def close(self) -> None:
        await self._actions_http.aclose()

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def expects_pin(self, channel: str, external_id: str) -> bool:
        """Is the next typed message of this conversation a PIN? (Then nobody may echo it.)"""

        def check(session: Session) -> bool:
            conv = find_conversation(session, channel, external_id)
            return conv is not None and pin_expected(session, conv.id)

        return await self.db.run(check)

    async def _verify_pin(self, received: _Received, pin: str) -> str:
        if received.pin_cancelled:
            return CANCELLED
        if self.ils is None:
            return UNAVAILABLE
        assert received.pin_prompt is not None
        return await self.ils.verify(received.sender_id, received.pin_prompt.barcode, pin)

    async def handle_text(
        self, channel: str, external_id: str, raw: str, follower: Follower | None = None
    ) -> Turn:
        return await self._handle(channel, external_id, raw, None, follower=follower)

    async def handle_link(
        self, channel: str, external_id: str, command: linking.Command, typed: str
    ) -> Turn:
        """A link command a channel found itself (Telegram's /start deep-link parameter)."""
        async with self._lock(f"{channel}:{external_id}"):
            done = await self.db.run(linking.run, channel, external_id, command, typed)
        self.metrics.turns.labels(channel, "link").inc()
        replies, language = done or ([], None)
        return Turn(0, "", language, replies)

    async def handle_button(
        self,
        channel: str,
        external_id: str,
        title: str,
        payload: str,
        follower: Follower | None = None,
    ) -> Turn:
        """A button click: the payload goes to the engine only if we offered it."""
        return await self._handle(channel, external_id, title, payload, follower=follower)

    async def handle_menu(self, channel: str, external_id: str, title: str, payload: str) -> Turn:
        """A channel's own menu (WeChat custom menu): the channel verified the request and
        the library configured the payload, so it goes to the engine as it is."""
        return await self._handle(channel, external_id, title, payload=payload, trusted=True)

    async def handle_draft(
        self,
        channel: str,
        external_id: str,
        title: str,
        token: str,
        follower: Follower | None = None,
    ) -> Turn:
        """The web chat opened from an OpenURL page (``/chat?draft=<token>``): start the
        delivery form pre-filled from that draft, through the same path as any message.

        The payload is built here, never taken from the client, and the token is checked
        for shape so it cannot carry JSON of its own; the action verifies its signature.
        """
        if not DRAFT_TOKEN.match(token):
            return await self._handle(channel, external_id, title, None, follower=follower)
        payload = '/request_document{"draft":"' + token + '"}'
        return await self._handle(
            channel, external_id, title, payload, trusted=True, follower=follower
        )

    async def _handle(
        self,
        channel: str,
        external_id: str,
        raw: str,
        payload: str | None,
        trusted: bool = False,
        follower: Follower | None = None,
    ) -> Turn:
        turn = await self._turn(channel, external_id, raw, payload, trusted, follower or _NOBODY)
        if turn.notice is not None:
            turn.replies.append(turn.notice)
        return turn

    async def _turn(
        self,
        channel: str,
        external_id: str,
        raw: str,
        payload: str | None,
        trusted: bool,
        follower: Follower,
    ) -> Turn:
        started = time.perf_counter()
        cleaned = patron_text.clean(raw, self.settings.max_message_chars)
        if cleaned.empty and payload is None:
            await follower.received(None)
            self.metrics.turns.labels(channel, "rejected").inc()
            language = detect_language(raw)
            return Turn(0, "", language, [_notice("empty", language)])

        async with self._lock(f"{channel}:{external_id}"):
            command = linking.parse(cleaned.text) if payload is None else None
            if command is not None:
                done = await self.db.run(linking.run, channel, external_id, command, cleaned.text)
                if done is not None:
                    kept = linking.redacted(cleaned.text, command)
                    await follower.received(kept if kept != cleaned.text else None)
                    self.metrics.turns.labels(channel, "link").inc()
                    replies, language = done
                    return Turn(0, "", language, replies)
            if payload is None and privacy_command.matches(cleaned.text):
                answer, language = await self.db.run(
                    privacy_command.run, channel, external_id, cleaned.text
                )
                await follower.received(None)
                self.metrics.turns.labels(channel, "privacy").inc()
                return Turn(0, "", language, [answer])
            # One transaction keeps the line and finds who answers it (the live-chat desk
            # may take it): the patron waits for one database round trip, not several.
            received = await self.db.run(
                _receive, channel, external_id, cleaned, payload, trusted, self.desk is not None
            )
            await follower.received(PIN_HIDDEN if received.pin_hidden else None)
            turn = Turn(received.conversation_id, received.sender_id, received.language)
            if received.notice is not None:
                turn.notice = Reply(
                    text=received.notice, speaker="system", kind="notice", code="privacy_notice"
                )
            if not cleaned.text and received.payload is None:
                turn.replies.append(_notice("empty", received.language))
                return turn
            if cleaned.truncated:
                turn.replies.append(
                    _notice(
                        "truncated",
                        received.language,
                        length=cleaned.original_length,
                        limit=self.settings.max_message_chars,
                    )
                )
            if received.mode == ConversationMode.HUMAN:
                # A librarian owns the chat: the bot stays silent, the line goes to their console.
                self.metrics.turns.labels(channel, "to_librarian").inc()
                if self.desk is not None:
                    await self.desk.patron_said(received.to_librarian)
                return turn
            if self.desk is not None and received.intercepted is not None:
                # "bot" while queued, or a rating / comment after a librarian closed.
                self.metrics.turns.labels(channel, "live_chat").inc()
                turn.replies.extend(await self.desk.intercepted(received.intercepted))
                return turn

            engine_text = received.payload or _no_intent_injection(cleaned.text)
            kept_text = cleaned.text
            if received.pin_prompt is not None:
                # The PIN goes to the ILS and nowhere else: the engine hears the outcome.
                login = await self._verify_pin(received, cleaned.text)
                engine_text = "/" + received.pin_prompt.purpose + json.dumps({"ils_login": login})
                kept_text = PIN_HIDDEN
            del cleaned
            try:
                reply = await self.engine.send(
                    received.sender_id,
                    engine_text,
                    {
                        "channel": channel,
                        "language": received.language,
                        "button": received.payload is not None,
                    },
                )
                if not reply.messages and not reply.paused and not await self._actions_up():
                    raise EngineUnavailable("action server is not answering")
            except EngineUnavailable as exc:
                log.warning("assistant unavailable for %s: %s", received.sender_id, exc)
                kind = (
                    "actions_unavailable" if "action server" in str(exc) else "engine_unavailable"
                )
                self.metrics.errors.labels(kind).inc()
                self.metrics.turns.labels(channel, "unavailable").inc()
                ref = await self.db.run(_keep_for_librarian, received.conversation_id, kept_text)
                turn.replies.append(_unavailable(received.language, ref))
                return turn

            outcome = "fallback" if reply.intent == "nlu_fallback" else "answered"
            if outcome == "fallback":
                self.metrics.fallbacks.labels(channel).inc()
            bot_replies = _replies(reply.messages)
            if not bot_replies and not reply.paused:
                bot_replies = [
                    Reply(
                        text=texts.text("no_answer", received.language),
                        buttons=[_librarian_button(received.language)],
                    )
                ]
            if follower.answered is not None:
                # The patron reads the answer while the gateway writes it down; the
                # conversation's lock is still held, so their next line waits for it.
                first = [*turn.replies, *bot_replies]
                if turn.notice is not None:
                    first.append(turn.notice)
                    turn.notice = None
                turn.replies = []
                self.metrics.turn_latency.labels(channel).observe(time.perf_counter() - started)
                await follower.answered(first)
            else:
                turn.replies.extend(bot_replies)
            try:
                turn.language, mode = await self.db.run(_after_engine, received, reply, bot_replies)
            except StorageUnavailable:
                if follower.answered is None:
                    raise
                # The patron has the answer; only its copy in the transcript is missing.
                self.metrics.errors.labels("transcript_not_kept").inc()
                log.warning("answer to %s not kept in the transcript", received.sender_id)
                return turn
            if mode is None:
                # The patron was forgotten in this turn. The engine saved this conversation
                # again as the turn ended; now that it has, its copy goes too.
                await asyncio.to_thread(
                    engine_tracker.delete_conversations,
                    self.settings.tracker_store_url,
                    [received.sender_id],
                )
                self.metrics.turns.labels(channel, "forgotten").inc()
                return turn
            if (
                self.desk is not None
                and mode == ConversationMode.WAITING
                and received.mode == ConversationMode.BOT
            ):
                # The bot just put the patron in the queue for a librarian.
                turn.replies.extend(await self.desk.joined_queue(received.conversation_id))
            self.metrics.turns.labels(channel, outcome).inc()
            if follower.answered is None:
                self.metrics.turn_latency.labels(channel).observe(time.perf_counter() - started)
            return turn

    async def _actions_up(self) -> bool:
        try:
            resp = await self._actions_http.get("/health")
        except httpx.HTTPError:
            return False
        return resp.status_code == 200


def _replies(messages: list[dict[str, Any]]) -> list[Reply]:
    """The engine's messages as replies; a custom-only message (Rasa sends the custom part
    of a message on its own) belongs to the message before it."""
    replies: list[Reply] = []
    for m in messages:
        reply = Reply.from_engine(m)
        if replies and not reply.text and not reply.buttons and reply.custom:
            replies[-1].custom = {**(replies[-1].custom or {}), **reply.custom}
            continue
        replies.append(reply)
    return replies


def _is_cancel(text: str) -> bool:
    return re.sub(r"[\s\W_]+", "", text.casefold()) in _CANCEL_WORDS


def _no_intent_injection(text: str) -> str:
    # Rasa reads text starting with "/" as an intent with entities; typed text must
    # go through NLU like any other message.
    return " " + text if text.startswith("/") else text


def _notice(key: str, language: str | None, **values: object) -> Reply:
    return Reply(
        text=texts.text(key, language, **values), speaker="system", kind="notice", code=key
    )


def _librarian_button(language: str | None) -> Button:
    return Button(title=texts.text("talk_to_librarian", language), payload="/human_handoff")


def _unavailable(language: str | None, ref: str) -> Reply:
    return Reply(
        text=texts.text("engine_unavailable", language, ref=ref),
        speaker="system",
        kind="notice",
        code="assistant_unavailable",
    )


# --- database steps (run in a worker thread) --------------------------------


def _receive(
    session: Session,
    channel: str,
    external_id: str,
    cleaned: patron_text.PatronText,
    payload: str | None,
    trusted: bool = False,
    live_desk: bool = False,
) -> _Received:
    conv = conversation_for(session, channel, external_id)
    # What else this line may be about, asked in one statement: every turn pays for it.
    notice_seen, pin_waiting, feedback_asked = session.execute(
        select(
            privacy_notice.seen(conv.patron_id),
            prompt_waiting(conv.id),
            feedback_asked_after_chat(conv.id),
        )
    ).one()
    if payload is not None and not trusted and not _was_offered(session, conv, payload):
        # Unknown payload (a stale page or a forged frame): treat the click as typed text.
        payload = None
    prompt, cancelled = None, False
    if payload is None and cleaned.text:
        prompt = take_pin_prompt(session, conv.id) if pin_waiting else None
        cancelled = prompt is not None and _is_cancel(cleaned.text)
    elif pin_waiting:
        drop_pin_prompt(session, conv.id)  # a button click leaves the PIN prompt
    language = conv.language
    # A menu click (trusted) or a PIN says nothing about the patron's language; words do.
    if not trusted and (prompt is None or cancelled):
        language = detect_language(cleaned.text) or conv.language
    if language and language != conv.language:
        conv.language = language
        # A statement, not conv.patron (a load of the patron row just to set one column).
        session.execute(update(Patron).where(Patron.id == conv.patron_id).values(language=language))
    notice = (
        None if notice_seen else privacy_notice.show(session, conv.patron_id, channel, language)
    )
    msg = None
    message_payload = {"button": True} if payload is not None else None
    if cleaned.text:
        msg = record_message(
            session,
            conv,
            Speaker.PATRON,
            PIN_HIDDEN if prompt is not None and not cancelled else cleaned.text,
            original_length=cleaned.original_length if cleaned.truncated else None,
            payload=message_payload,
        )
    to_librarian = None
    if conv.mode == ConversationMode.HUMAN and msg is not None:
        # Found in this same transaction: one round trip per line in human mode.
        to_librarian = patron_line(session, conv.id, msg)
    mode, intercepted = conv.mode, None
    if (
        live_desk
        and mode != ConversationMode.HUMAN
        and payload is None
        and cleaned.text
        and prompt is None  # a PIN (or cancelling one) is never a rating or a comment
    ):
        intercepted = intercept(session, conv.id, cleaned.text, feedback_asked=bool(feedback_asked))
    return _Received(
        conv.id,
        conv.sender_id,
        mode,
        language,
        msg.id if msg else None,
        payload,
        message_payload=message_payload,
        to_librarian=to_librarian,
        pin_prompt=prompt,
        pin_cancelled=cancelled,
        notice=notice,
        intercepted=intercepted,
    )


def _was_offered(session: Session, conv: Conversation, payload: str) -> bool:
    recent = session.scalars(
        select(Message.payload)
        .where(Message.conversation_id == conv.id, Message.speaker == Speaker.BOT)
        .order_by(Message.id.desc())
        .limit(OFFERED_BUTTON_WINDOW)
    ).all()
    return any(payload in (p or {}).get("payloads", []) for p in recent)


def _keep_for_librarian(session: Session, conversation_id: int, text: str) -> str:
    conv = session.get(Conversation, conversation_id)
    assert conv is not None
    return leave_question(session, conv, text, UNAVAILABLE_REASON).reference


def _after_engine(
    session: Session, received: _Received, reply: EngineReply, bot_replies: list[Reply]
) -> tuple[str | None, ConversationMode | None]:
    """Keep what the engine understood and said; mode None: the patron was just forgotten.

    Statements, not ORM loads: this runs every turn, and loading the conversation and the
    patron's line to change a few columns cost more than the writes themselves."""
    language = reply.entities.get("language") or received.language
    # Read in this transaction, after the engine's turn: if the action server queued the
    # patron for a librarian, this mode says so.
    conv = session.execute(
        select(Conversation.mode, Conversation.language, Conversation.patron_id).where(
            Conversation.id == received.conversation_id
        )
    ).one_or_none()
    if conv is None:  # erased by the action (privacy_forget): nothing of it is kept
        return language, None
    changes: dict[str, Any] = {}
    if language and language != conv.language:
        changes["language"] = language
        session.execute(update(Patron).where(Patron.id == conv.patron_id).values(language=language))
    if received.message_id is not None and reply.parse:
        session.execute(
            update(Message)
            .where(Message.id == received.message_id)
            .values(
                intent=reply.intent,
                confidence=reply.confidence,
                payload={**(received.message_payload or {}), "parse": reply.parse},
            )
        )
    if bot_replies:
        session.execute(
            insert(Message),
            [
                {
                    "conversation_id": received.conversation_id,
                    "speaker": Speaker.BOT,
                    "text": r.text,
                    "payload": _transcript_payload(r),
                }
                for r in bot_replies
            ],
        )
        changes["last_activity_at"] = utcnow()
    if changes:
        session.execute(
            update(Conversation).where(Conversation.id == received.conversation_id).values(changes)
        )
    return language, conv.mode


def _transcript_payload(reply: Reply) -> dict[str, Any] | None:
    """What the transcript keeps of a reply besides its text: buttons (and the payloads
    a later click may send back, see _was_offered) and custom parts."""
    extra: dict[str, Any] = {}
    if reply.buttons:
        extra["buttons"] = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
        extra["payloads"] = [b.payload for b in reply.buttons]
    if reply.custom:
        extra["custom"] = reply.custom
    return extra or None
