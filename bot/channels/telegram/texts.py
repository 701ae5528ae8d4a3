"""What the Telegram channel itself says (commands, media), in Chinese and English."""

from __future__ import annotations

from kb.language import pick

TEXTS: dict[str, tuple[str, str]] = {
    "start": (
        "您好！我是图书馆的咨询助手。您可以直接提问，例如“开馆时间”或书名、作者、ISBN。\n"
        "发送 /help 查看全部命令。",
        "Hello! I'm the library's reference assistant. Ask me anything, e.g. opening hours, "
        "or send a title, an author or an ISBN.\nSend /help to see all commands.",
    ),
    "help": (
        "可用命令：\n"
        "/start 开始，并重新接收通知\n"
        "/help 显示本帮助\n"
        "/language 切换中文/英文\n"
        "/subscriptions 查看本聊天的通知设置\n"
        "/stop 不再在此聊天接收通知（仍可随时提问）\n"
        "/privacy 查看您的隐私授权，并获取更改它们的链接\n"
        "直接输入文字即可提问；在群组中请 @我 或回复我的消息。",
        "Commands:\n"
        "/start start, and receive notifications here again\n"
        "/help show this help\n"
        "/language switch between Chinese and English\n"
        "/subscriptions what notifications this chat gets\n"
        "/stop no more notifications in this chat (you can still ask questions)\n"
        "/privacy your consents, and a link to change them\n"
        "Just type to ask a question; in a group, mention me or reply to my message.",
    ),
    "language_set": (
        "好的，我会用中文回复您。再次发送 /language 可切换回英文。",
        "OK, I'll reply in English. Send /language again to switch back to Chinese.",
    ),
    "stopped": (
        "好的，此聊天将不再收到通知（例如文献传递进度）。您仍可随时提问；发送 /start 可重新开启。",
        "Done: this chat will get no more notifications (such as document delivery updates). "
        "You can still ask questions any time; send /start to turn them back on.",
    ),
    "subscriptions_on": (
        "此聊天的通知：开启。\n待发送的通知：{queued} 条。\n发送 /stop 可关闭。",
        "Notifications in this chat: on.\nWaiting to be sent: {queued}.\nSend /stop to turn them off.",
    ),
    "subscriptions_off": (
        "此聊天的通知：已关闭（/stop）。\n发送 /start 可重新开启。",
        "Notifications in this chat: off (/stop).\nSend /start to turn them back on.",
    ),
    "text_only": (
        "抱歉，我目前只能读懂文字消息，暂时无法处理图片、贴纸、语音或文件。请用文字描述您的问题。",
        "Sorry, I can only read text messages for now, not photos, stickers, voice or files. "
        "Please type your question.",
    ),
    "unknown_command": (
        "我不认识这个命令。发送 /help 查看可用命令，或直接输入您的问题。",
        "I don't know that command. Send /help to see the commands, or just type your question.",
    ),
    "button_expired": (
        "这个按钮已失效，请直接输入您的问题。",
        "That button has expired. Please type your question instead.",
    ),
}


def text(key: str, language: str | None, **values: object) -> str:
    zh, en = TEXTS[key]
    return pick(language, zh.format(**values), en.format(**values))
