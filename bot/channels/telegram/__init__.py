"""The Telegram channel (python-telegram-bot 22).

- ``channel``: builds the PTB Application against ``REFDESK_TELEGRAM_API_BASE`` with
  AIORateLimiter; long polling for development, a webhook in production.
- ``handlers``: text, edits, commands, button clicks, media and groups; patron text
  goes through the same Router as the web chat.
- ``keyboards``: Rasa buttons <-> inline keyboards and their 64-byte callback data.
- ``identities``: the database steps behind /language, /stop, /subscriptions.
- ``webhook``: ``POST /webhooks/telegram`` with the secret-token header check.
- ``sender``: the outbound queue's Telegram sender (see ``bot.outbound``).

A Telegram chat id is the channel's external id: a private chat is one patron, a
group chat is one shared conversation.
"""

import os

# Durations from PTB as datetime.timedelta (its next major version's behaviour) now.
os.environ.setdefault("PTB_TIMEDELTA", "1")

CHANNEL = "telegram"
# Telegram's limit for one message's text.
MAX_TEXT = 4096
