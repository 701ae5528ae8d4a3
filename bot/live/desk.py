"""The live-chat desk of one gateway process: everything that happens around a
hand-over besides the database change itself.

- claim: pause the conversation in the engine, tell the patron who joined, update
  every console and every waiting patron's place in the queue;
- replies: to the patron's channel (web: through the fan-out to whichever gateway
  holds the socket; other channels: the outbound queue, written with the message);
- close: resume the engine, ask the patron for a rating;
- patron lines in human mode: to the owning librarian's console only.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import texts
from bot.db import Database
from bot.engine_client import EngineClient, EngineUnavailable
from bot.fanout import Fanout
from bot.live import steps
from bot.live.steps import Patron, Said
from bot.replies import Button, Reply
from kb.settings import Settings

log = logging.getLogger("refdesk.live")

CONSOLES = "console:all"


def staff_key(staff_id: int) -> str:
    return f"console:staff:{staff_id}"


class Desk:
    def __init__(
        self, settings: Settings, db: Database, engine: EngineClient, fanout: Fanout
    ) -> None:
        self.settings = settings
        self.db = db
        self.engine = engine
        self.fanout = fanout

    # --- patron side (called by the router) -------------------------------------

    async def intercepted(self, got: steps.Intercepted) -> list[Reply]:
        """The replies to a line :func:`steps.intercept` took (found in the router's own
        transaction, the one that keeps the line), and the queue news it causes."""
        if got.queue_changed:
            await self.announce_queue()
        return [
            Reply(
                text=t,
                buttons=[Button(b["title"], b["payload"]) for b in buttons],
                speaker="system",
            )
            for t, buttons in got.replies
        ]

    async def joined_queue(self, conversation_id: int) -> list[Reply]:
        """The patron just joined the queue: their place for them, news for everyone else."""
        state = await self.announce_queue(skip_conversation=conversation_id)
        for patron, position, minutes in state.waiting:
            if patron.conversation_id == conversation_id:
                return [self._place_reply(patron, position, minutes)]
        return []

    async def patron_said(self, to_librarian: tuple[int, dict[str, Any]] | None) -> None:
        """A patron line in human mode: to the owning librarian's console(s) only."""
        if to_librarian is not None:
            staff_id, frame = to_librarian
            await self.fanout.publish(staff_key(staff_id), frame)

    # --- librarian side (called by the console API) -----------------------------

    async def claim(self, chat_id: int, staff_id: int) -> Said:
        # QueueError if lost, or kept for a department the librarian is not in.
        said = await self.db.run(steps.claim, chat_id, staff_id, self.settings)
        await self._pause(said.patron, True)
        await self._to_patron(said)
        await self.announce_queue()
        return said

    async def reply(self, chat_id: int, staff_id: int, text: str) -> dict[str, Any]:
        said, line = await self.db.run(steps.reply, chat_id, staff_id, text)
        await self._to_patron(said)
        await self.fanout.publish(
            said.patron.hub_key, {"type": "typing", "on": False, "speaker": "librarian"}
        )
        await self.fanout.publish(staff_key(staff_id), line)
        return line

    async def typing(self, chat_id: int, staff_id: int, on: bool) -> None:
        owner = await self.db.run(_owned_patron, chat_id, staff_id)
        if owner is not None and owner.channel == "web":
            await self.fanout.publish(
                owner.hub_key, {"type": "typing", "on": on, "speaker": "librarian"}
            )

    async def transfer(self, chat_id: int, staff_id: int, to_username: str) -> int:
        said, new_owner, chat = await self.db.run(steps.transfer, chat_id, staff_id, to_username)
        await self._to_patron(said)
        await self.fanout.publish(staff_key(new_owner), {"type": "assigned", "chat": chat})
        await self.fanout.publish(staff_key(staff_id), {"type": "released", "chat": chat})
        return new_owner

    async def transfer_to_department(self, chat_id: int, staff_id: int, department: str) -> None:
        """Back to the queue for the department; the engine stays paused meanwhile."""
        said = await self.db.run(
            steps.transfer_to_department, chat_id, staff_id, department, self.settings
        )
        await self._to_patron(said)
        await self.fanout.publish(staff_key(staff_id), {"type": "released", "chat": chat_id})
        await self.announce_queue()

    async def close(self, chat_id: int, staff_id: int) -> None:
        said = await self.db.run(steps.close, chat_id, staff_id)
        await self._pause(said.patron, False)
        await self._to_patron(said)
        await self.announce_queue()

    async def sweep(self) -> int:
        """Return chats of librarians gone longer than the grace period to the queue, and
        give the bot back to patrons transferred to a department nobody is left in."""
        released = await self.db.run(steps.release_stranded, self.settings)
        for patron, said in released:
            await self._pause(patron, False)
            await self._to_patron(said)
        moved = await self.db.run(steps.requeue_abandoned, self.settings)
        if not moved:
            if released:
                await self.announce_queue()
            return len(released)
        for patron, chat_id, owner in moved:
            await self._pause(patron, False)  # the bot answers again while they wait
            await self.fanout.publish(staff_key(owner), {"type": "released", "chat": chat_id})
        state = await self.announce_queue(
            skip_conversation=None, moved={p.conversation_id for p, _, _ in moved}
        )
        del state
        return len(moved) + len(released)

    # --- both ------------------------------------------------------------------

    async def announce_queue(
        self, skip_conversation: int | None = None, moved: set[int] | None = None
    ) -> steps.QueueState:
        state = await self.db.run(steps.queue_state, self.settings)
        await self.fanout.publish(CONSOLES, state.console)
        await self.tell_places(answered=skip_conversation, moved=moved)
        for patron, position, minutes in state.waiting:
            if patron.conversation_id == skip_conversation or patron.channel != "web":
                continue
            if moved and patron.conversation_id in moved:
                reply = Reply(
                    text=texts.text("requeued", patron.language, position=position),
                    speaker="system",
                    kind="notice",
                    code="queue",
                )
            else:
                reply = self._place_reply(patron, position, minutes)
            frame = reply.to_json()
            frame["type"] = "notice"
            frame["position"], frame["minutes"] = position, minutes
            await self.fanout.publish(patron.hub_key, frame)
        return state

    async def tell_places(self, answered: int | None = None, moved: set[int] | None = None) -> int:
        """New places for patrons waiting on Telegram and WeChat, through the outbound
        queue (throttled: see ``steps.tell_places``). Never fails the caller."""
        try:
            return await self.db.run(
                lambda s: steps.tell_places(
                    s, self.settings, answered=answered, moved=frozenset(moved or ())
                )
            )
        except Exception:
            log.exception("could not queue places in the queue for push channels")
            return 0

    def _place_reply(self, patron: Patron, position: int, minutes: int) -> Reply:
        return Reply(
            text=texts.text("queue_position", patron.language, position=position, minutes=minutes),
            speaker="system",
            kind="notice",
            code="queue",
        )

    async def _to_patron(self, said: Said) -> None:
        if said.patron.channel == "web":
            await self.fanout.publish(said.patron.hub_key, said.frame)

    async def _pause(self, patron: Patron, paused: bool) -> None:
        try:
            await self.engine.set_paused(patron.sender_id, paused)
        except EngineUnavailable as exc:
            # The router never sends human-mode lines to the engine anyway.
            log.warning(
                "could not %s %s: %s", "pause" if paused else "resume", patron.sender_id, exc
            )


def _owned_patron(session: Any, chat_id: int, staff_id: int) -> Patron | None:
    from kb.console.models import ChatStatus, LiveChat

    chat = session.get(LiveChat, chat_id)
    if chat is None or chat.status != ChatStatus.ACTIVE or chat.staff_id != staff_id:
        return None
    conv = chat.conversation
    return Patron(conv.id, conv.sender_id, conv.channel, conv.language)
