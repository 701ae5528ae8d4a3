"""Messaging channels other than the web chat (WeChat official account, Telegram)."""
