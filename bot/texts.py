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
    "storage_unavailable": (
        "抱歉，系统的数据库暂时不可用，这条消息还没有保存。请在 {seconds} 秒后重新发送"
        "（网页聊天会自动重发）。",
        "Sorry, our database is briefly unavailable and this message was not saved yet. "
        "Please send it again in {seconds} s (the web chat resends it for you).",
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
    # --- live chat with a librarian ---
    "queue_position": (
        "您在等候馆员的队列中排第 {position} 位，预计等待约 {minutes} 分钟。输入“机器人”可取消排队。",
        "You are number {position} in the queue for a librarian; estimated wait about "
        '{minutes} min. Type "bot" to leave the queue.',
    ),
    "left_queue": (
        "好的，已取消排队，咨询助手继续为您服务。",
        "OK, you have left the queue; the assistant is back.",
    ),
    "librarian_joined": ("馆员 {name} 已接入对话。", "Librarian {name} has joined the chat."),
    "transferred": (
        "您的对话已转给馆员 {name}。",
        "Your chat has been passed to librarian {name}.",
    ),
    "transferred_department": (
        "馆员已将您的对话转给{department}，该部门的馆员会尽快接入，请稍候。",
        "The librarian is transferring your chat to {department}; a librarian there will "
        "join you shortly.",
    ),
    "transfer_unstaffed": (
        "现在没有馆员在线。您仍在队列中（第 {position} 位），咨询助手也可以继续回答您；"
        "输入“机器人”可离开队列。",
        "No librarian is online at the moment. You are still in the queue (number "
        '{position}) and the assistant can answer you meanwhile; type "bot" to leave the queue.',
    ),
    "requeued": (
        "馆员的连接中断了，您已回到队列（第 {position} 位），请稍候。",
        "Your librarian was disconnected; you are back in the queue (number {position}).",
    ),
    "ask_rating": (
        "馆员已结束本次对话，咨询助手继续为您服务。请为本次服务打分（1–5，5 为最满意）：",
        "The librarian has closed the chat and the assistant is back. Please rate the chat "
        "from 1 to 5 (5 is best):",
    ),
    "ask_comment": (
        "谢谢！还有什么意见或建议吗？请直接输入，或点“跳过”。",
        "Thank you! Any comment? Type it, or tap Skip.",
    ),
    "skip": ("跳过", "Skip"),
    "feedback_thanks": ("感谢您的反馈！", "Thank you for your feedback!"),
}


def text(key: str, language: str | None, **values: object) -> str:
    zh, en = TEXTS[key]
    return pick(language, zh.format(**values), en.format(**values))
