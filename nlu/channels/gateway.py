"""The channel the refdesk gateway talks to.

Rasa's REST channel answers with the bot's messages only. The gateway also
needs what the model understood (intent, confidence, entities, the FAQ key)
for transcripts, the librarian console and fallback metrics, and whether the
conversation is paused for a librarian. This channel returns both in one
round trip:

    POST /webhooks/refdesk/webhook  {"sender": ..., "message": ..., "metadata": {...}}
    -> {"messages": [...], "parse": {...} | null, "paused": bool}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


def summarise_parse(parse_data: dict[str, Any]) -> dict[str, Any]:
    intent = parse_data.get("intent") or {}
    summary: dict[str, Any] = {
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "entities": [
            {"entity": e.get("entity"), "value": e.get("value")}
            for e in parse_data.get("entities") or []
        ],
    }
    selected = ((parse_data.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    if selected.get("intent_response_key"):
        summary["retrieval"] = selected["intent_response_key"]
        summary["retrieval_confidence"] = selected.get("confidence")
    return summary


class GatewayInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "refdesk"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("refdesk_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else None
            if body is None:
                return response.json({"error": "body must be a JSON object"}, status=400)
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender:
                return response.json({"error": "'sender' must be a non-empty string"}, status=400)
            if not isinstance(text, str):
                return response.json({"error": "'message' must be a string"}, status=400)
            metadata: dict[str, Any] | None = body.get("metadata")
            collector = CollectingOutputChannel()
            message = UserMessage(
                text, collector, sender, input_channel=self.name(), metadata=metadata
            )
            agent = request.app.ctx.agent
            # Parse here and hand the result to the processor, which then does not parse
            # again: the gateway gets what the model understood without a second look-up.
            message.parse_data = await agent.processor.parse_message(message)
            await on_new_message(message)
            paused = False
            if not collector.messages:
                # Silence is either a paused conversation or a failure; only the tracker knows.
                tracker = await agent.tracker_store.retrieve(sender)
                paused = tracker is not None and tracker.is_paused()
            return response.json(
                {
                    "messages": collector.messages,
                    "parse": summarise_parse(message.parse_data),
                    "paused": paused,
                }
            )

        return webhook
