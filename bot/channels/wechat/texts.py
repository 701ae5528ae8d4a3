"""What the WeChat channel itself says to patrons, in Chinese and English."""

from __future__ import annotations

from kb.language import pick

TEXTS: dict[str, tuple[str, str]] = {
    "welcome": (
        "欢迎关注！我是图书馆的咨询助手，可以帮您查找馆藏、解答借阅和服务问题，也可以为您联系馆员。"
        "请直接输入您的问题，中文或英文都可以。已在网页咨询里和我们聊过？发送“绑定账号”可以把两边连起来。",
        "Welcome! I'm the library's reference assistant: I can search the catalog, answer "
        "questions about borrowing and services, and put you in touch with a librarian. Just "
        "type your question, in Chinese or English. Chatted with us on the website before? "
        "Send “link my account” to connect the two.",
    ),
    "not_text": (
        "抱歉，我目前只能阅读文字消息（{kind}暂时无法处理）。请用文字描述您的问题。",
        "Sorry, I can only read text messages for now (I can't open {kind_en}). Please type "
        "your question.",
    ),
    "menu_unknown": (
        "这个菜单项暂时不可用，请直接输入您的问题。",
        "That menu item isn't available right now. Please type your question.",
    ),
    "failed": (
        "抱歉，处理您的消息时出了问题。请稍后再试，或者输入“联系馆员”。",
        "Sorry, something went wrong with your message. Please try again in a moment, or "
        "type “talk to a librarian”.",
    ),
}

KINDS: dict[str, tuple[str, str]] = {
    "image": ("图片", "images"),
    "voice": ("语音", "voice messages"),
    "video": ("视频", "videos"),
    "shortvideo": ("小视频", "videos"),
    "location": ("位置", "locations"),
    "link": ("链接", "links"),
    "file": ("文件", "files"),
}


def text(key: str, language: str | None, **values: object) -> str:
    zh, en = TEXTS[key]
    return pick(language, zh.format(**values), en.format(**values))


def not_text(kind: str, language: str | None) -> str:
    zh_kind, en_kind = KINDS.get(kind, ("这类消息", "this kind of message"))
    return text("not_text", language, kind=zh_kind, kind_en=en_kind)
