"""Telegram updates -> the Router -> Telegram messages.

Everything a patron types goes through ``Router.handle_text`` and button clicks
through ``Router.handle_button``, exactly as in the web chat, so transcripts,
fallbacks, hand-offs and outages behave the same on both channels.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session
from telegram import Message, MessageEntity, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import linking, texts
from bot.channels.telegram import CHANNEL, MAX_TEXT, identities
from bot.channels.telegram import texts as tg_texts
from bot.channels.telegram.flood import GATE
from bot.channels.telegram.keyboards import keyboard, resolve, title_of
from bot.channels.telegram.sender import classify
from bot.db import RETRY_AFTER_SECONDS, Database, StorageUnavailable
from bot.metrics import Metrics
from bot.outbound import SendRetry
from bot.outbound.render import split_text
from bot.replies import Reply
from bot.router import Router
from kb.language import detect_language
from kb.outbound import enqueue
from kb.patrons import identity_for
from kb.settings import Settings

log = logging.getLogger("refdesk.telegram")

DEPS = "refdesk"
MEDIA = (
    filters.PHOTO
    | filters.Sticker.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
)
# New and edited messages; never channel posts (a channel has no patron to answer).
MESSAGES = filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE


@dataclass
class Deps:
    settings: Settings
    db: Database
    router: Router
    metrics: Metrics


_chat_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def chat_lock(chat_id: str) -> asyncio.Lock:
    """Updates are processed concurrently across chats, but one at a time per chat:
    in order, and a first contact creates the patron once."""
    lock = _chat_locks.get(chat_id)
    if lock is None:
        lock = asyncio.Lock()
        _chat_locks[chat_id] = lock
    return lock


def per_chat(callback):  # type: ignore[no-untyped-def]
    @functools.wraps(callback)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        async with chat_lock(str(chat.id)):
            try:
                await callback(update, context)
            except StorageUnavailable:
                # Nothing was kept: say so, so the patron sends it again (never silence),
                # in the language of what they wrote, quoting it: that is the message to
                # send again, and the patron still has its text (Telegram does not resend).
                message, user = update.effective_message, update.effective_user
                written = (message.text or message.caption or "") if message else ""
                language = detect_language(written) or (user.language_code if user else None)
                text = texts.text("storage_unavailable", language, seconds=RETRY_AFTER_SECONDS)
                await send_replies(
                    context,
                    str(chat.id),
                    [Reply(text=text, speaker="system")],
                    quote=message.message_id if message and written else None,
                )

    return wrapper


def _deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    deps: Deps = context.application.bot_data[DEPS]
    return deps


def install(application: Application, deps: Deps) -> None:  # type: ignore[type-arg]
    application.bot_data[DEPS] = deps
    for name, callback in (
        ("start", on_start),
        ("help", on_help),
        ("language", on_language),
        ("subscriptions", on_subscriptions),
        ("stop", on_stop),
        ("privacy", on_privacy),
    ):
        application.add_handler(CommandHandler(name, callback, filters=MESSAGES))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(MESSAGES & filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(MessageHandler(MESSAGES & MEDIA, on_media))
    # Registered commands matched above; any other /word gets a pointer to /help.
    application.add_handler(MessageHandler(MESSAGES & filters.COMMAND, on_unknown_command))
    application.add_error_handler(on_error)


# --- who is spoken to -----------------------------------------------------------


def addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """The text meant for us, or None: in groups only mentions and replies to us count.

    The mention itself is removed so the model sees the question alone."""
    text = message.text or message.caption or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    entities = (
        message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        if message.text
        else message.parse_caption_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    )
    handle = "@" + username.lower()
    for entity, value in entities.items():
        if (entity.type == MessageEntity.MENTION and value.lower() == handle) or (
            entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot_id
        ):
            return (text[: entity.offset] + text[entity.offset + entity.length :]).strip() or text
    return None


def _chat_id(update: Update) -> str:
    assert update.effective_chat is not None
    return str(update.effective_chat.id)


# --- sending --------------------------------------------------------------------


async def send_replies(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: str,
    replies: Sequence[Reply],
    quote: int | None = None,
) -> None:
    """Send the replies; ``quote``: the patron's message the first one answers."""
    reply_to = ReplyParameters(quote, allow_sending_without_reply=True) if quote else None
    for r, reply in enumerate(replies):
        if not reply.text and not reply.buttons:
            continue
        pieces = split_text(reply.text or "…", MAX_TEXT)
        for i, piece in enumerate(pieces):
            markup = keyboard(reply.buttons) if i == len(pieces) - 1 else None
            try:
                await GATE.call(
                    functools.partial(
                        context.bot.send_message,
                        int(chat_id),
                        piece,
                        reply_markup=markup,
                        reply_parameters=reply_to if r == 0 and i == 0 else None,
                    ),
                    retries=3,
                )
            except Forbidden as exc:
                # Blocked or removed from the group: pushes stop until they write again.
                await _deps(context).db.run(identities.mark_unreachable, chat_id, exc.message)
                return
            except TelegramError as exc:
                if not isinstance(classify(exc), SendRetry):
                    raise
                # Not delivered (5xx, a long 429, refused connection): the outbound worker
                # sends the rest with backoff, exactly once; the answer arrives late.
                rest = [Reply(text="\n".join(pieces[i:]), buttons=reply.buttons)]
                rest += [x for x in replies[r + 1 :] if x.text or x.buttons]
                log.warning("Telegram reply not delivered (%s); queued for retry", exc)
                await _deps(context).db.run(_queue_replies, chat_id, rest)
                return


def _queue_replies(session: Session, chat_id: str, replies: Sequence[Reply]) -> None:
    patron_id = identity_for(session, CHANNEL, chat_id).patron_id
    for reply in replies:
        buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
        enqueue(session, patron_id, reply.text or "…", kind="reply", buttons=buttons,
                channel=CHANNEL)  # fmt: skip


async def _say(
    context: ContextTypes.DEFAULT_TYPE, chat_id: str, key: str, lang: str | None
) -> None:
    await send_replies(context, chat_id, [Reply(text=tg_texts.text(key, lang), speaker="system")])


# --- patron text and clicks ---------------------------------------------------------


@per_chat
async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    bot = context.bot
    text = addressed_text(message, bot.username, bot.id)
    if text is None:
        return  # group chatter not meant for us
    deps = _deps(context)
    chat_id = _chat_id(update)
    await deps.db.run(identities.seen, chat_id)
    # An edited message is answered like a new one: the patron corrected their question.
    turn = await deps.router.handle_text(CHANNEL, chat_id, text)
    await send_replies(context, chat_id, turn.replies)


@per_chat
async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    # Answer first so the patron's button stops spinning, whatever happens next.
    try:
        await query.answer()
    except TelegramError as exc:
        log.info("answerCallbackQuery failed: %s", exc)
    if query.message is None or not query.data:
        return
    deps = _deps(context)
    chat_id = str(query.message.chat.id)
    await deps.db.run(identities.seen, chat_id)
    offered = await deps.db.run(identities.offered_payloads, chat_id)
    payload = resolve(query.data, offered)
    markup = getattr(query.message, "reply_markup", None)
    title = title_of(markup, query.data) or (payload or "")
    if payload is None:
        lang = await deps.db.run(identities.language_of, chat_id)
        await _say(context, chat_id, "button_expired", lang)
        return
    # The Router checks again that this payload was offered; if not, the title counts as text.
    turn = await deps.router.handle_button(CHANNEL, chat_id, title, payload)
    await send_replies(context, chat_id, turn.replies)


@per_chat
async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or addressed_text(message, context.bot.username, context.bot.id) is None:
        return
    deps = _deps(context)
    chat_id = _chat_id(update)
    deps.metrics.turns.labels(CHANNEL, "media").inc()
    lang = await deps.db.run(identities.language_of, chat_id)
    await _say(context, chat_id, "text_only", lang)


# --- commands ---------------------------------------------------------------------


@per_chat
async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or addressed_text(message, context.bot.username, context.bot.id) is None:
        return
    deps, chat_id = _deps(context), _chat_id(update)
    lang = await deps.db.run(identities.language_of, chat_id)
    await _say(context, chat_id, "unknown_command", lang)


@per_chat
async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps, chat_id = _deps(context), _chat_id(update)
    lang = await deps.db.run(identities.set_pushes, chat_id, True)
    # t.me/<bot>?start=link123456 from the web chat: link this chat in one tap.
    command = linking.parse_deep_link(context.args[0]) if context.args else None
    if command is not None:
        turn = await deps.router.handle_link(CHANNEL, chat_id, command, "/start link")
        await send_replies(context, chat_id, turn.replies)
        return
    await _say(context, chat_id, "start", lang)


@per_chat
async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps, chat_id = _deps(context), _chat_id(update)
    lang = await deps.db.run(identities.language_of, chat_id)
    await _say(context, chat_id, "help", lang)


@per_chat
async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps, chat_id = _deps(context), _chat_id(update)
    lang = await deps.db.run(identities.toggle_language, chat_id, deps.settings.default_language)
    await _say(context, chat_id, "language_set", lang)


@per_chat
async def on_subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps, chat_id = _deps(context), _chat_id(update)
    on, queued, lang = await deps.db.run(identities.subscriptions, chat_id)
    key = "subscriptions_on" if on else "subscriptions_off"
    await send_replies(
        context, chat_id, [Reply(text=tg_texts.text(key, lang, queued=queued), speaker="system")]
    )


@per_chat
async def on_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    deps, chat_id = _deps(context), _chat_id(update)
    lang = await deps.db.run(identities.set_pushes, chat_id, False)
    await _say(context, chat_id, "stopped", lang)


@per_chat
async def on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: the patron's consents and a one-time link to their privacy page."""
    deps, chat_id = _deps(context), _chat_id(update)
    turn = await deps.router.handle_text(CHANNEL, chat_id, "/privacy")
    await send_replies(context, chat_id, turn.replies)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("telegram update failed: %r", context.error, exc_info=context.error)
    _deps(context).metrics.errors.labels("telegram_update").inc()
