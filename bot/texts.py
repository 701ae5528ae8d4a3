"""Gateway messages to patrons, in Chinese and English."""

from __future__ import annotations

from kb.language import pick

TEXTS: dict[str, tuple[str, str]] = {
    "empty": (
        "您的消息是空的，请输入文字后再发送。",
        "Your message was empty. Please type some text and send it again.",
    ),
    "truncated": (
        "您的消息很长（{length} 字），我只读取并保存了前 {limit} 字。如需发送更多内容，请分几条发送。",
        "Your message was long ({length} characters); I read and kept the first {limit}. "
        "Please send the rest in separate messages.",
    ),
    "engine_unavailable": (
        "抱歉，咨询助手暂时不可用。您的消息已保存为留言 {ref}，馆员会在这里回复您；"
        "您可以继续补充，也可以稍后再试。",
        "Sorry, the assistant is briefly unavailable. Your message is saved as question {ref} "
        "and a librarian will reply here. You can add more, or try again in a minute.",
    ),
    "no_answer": (
        "抱歉，我暂时没有答案。您可以换个说法，或者联系馆员。",
        "Sorry, I don't have an answer for that. You can rephrase, or talk to a librarian.",
    ),
    "bad_frame": (
        "消息格式不正确：{detail}",
        "That message was not in the expected format: {detail}",
    ),
    "not_utf8": (
        "消息不是有效的 UTF-8 文本，未能读取。",
        "That message was not valid UTF-8 text and could not be read.",
    ),
    "talk_to_librarian": ("联系馆员", "Talk to a librarian"),
    "rate_limited": (
        "您发送得太快了，请 {seconds} 秒后再试。刚才这条消息没有发出，内容已放回输入框。",
        "You are sending messages too fast; please try again in {seconds} s. That message was "
        "not sent and is back in the input box.",
    ),
    "too_many_sockets": (
        "来自您所在网络的对话窗口太多了，请关闭一些后再试。",
        "Too many chat windows are open from your network; please close some and try again.",
    ),
}


def text(key: str, language: str | None, **values: object) -> str:
    zh, en = TEXTS[key]
    return pick(language, zh.format(**values), en.format(**values))
