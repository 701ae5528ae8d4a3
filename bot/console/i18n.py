"""The console's words in Chinese and English. The language comes from ``?lang=``
(remembered in a cookie), else the browser's Accept-Language."""

from __future__ import annotations

from fastapi import Request

LANG_COOKIE = "rd_console_lang"

WORDS: dict[str, tuple[str, str]] = {
    "console": ("馆员工作台", "Librarian console"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "wrong_login": ("用户名或密码错误。", "Wrong username or password."),
    "locked": (
        "登录失败次数过多，账号已暂时锁定，请 {minutes} 分钟后再试。",
        "Too many failed sign-ins: this login is locked. Try again in {minutes} minutes.",
    ),
    "bad_csrf": (
        "表单已过期，请刷新页面后重试。",
        "The form expired. Reload the page and try again.",
    ),
    "status": ("状态", "Status"),
    "online": ("在线", "Online"),
    "away": ("离开", "Away"),
    "offline": ("离线", "Offline"),
    "queue": ("排队", "Queue"),
    "queue_empty": ("没有排队的读者。", "Nobody is waiting."),
    "waiting": ("已等待", "waiting"),
    "estimate": ("预计", "estimate"),
    "claim": ("接入", "Claim"),
    "my_chats": ("我的对话", "My chats"),
    "no_chat": (
        "从队列接入一个对话，或选择您的对话。",
        "Claim a chat from the queue, or pick one of yours.",
    ),
    "transcript": ("对话记录", "Transcript"),
    "reply": ("回复", "Reply"),
    "send": ("发送", "Send"),
    "canned": ("常用回复", "Canned replies"),
    "insert": ("插入", "Insert"),
    "notes": ("内部备注", "Internal notes"),
    "add_note": ("添加备注", "Add note"),
    "transfer": ("转给同事", "Transfer"),
    "transfer_to": ("转给", "Transfer to"),
    "close_chat": ("结束对话", "Close chat"),
    "tickets": ("读者的文献传递请求", "Patron's delivery requests"),
    "no_tickets": ("没有进行中的请求。", "No open requests."),
    "patron_typing": ("读者", "Patron"),
    "faq": ("常见问题", "FAQ"),
    "save": ("保存", "Save"),
    "saved": ("已保存。", "Saved."),
    "delete": ("删除", "Delete"),
    "title": ("标题", "Title"),
    "text_zh": ("中文", "Chinese"),
    "text_en": ("英文", "English"),
    "new_canned": ("新建常用回复", "New canned reply"),
    "metrics": ("统计", "Metrics"),
    "search": ("搜索记录", "Search transcripts"),
    "search_button": ("搜索", "Search"),
    "no_results": ("没有找到。", "Nothing found."),
    "desk": ("工作台", "Desk"),
    "period_days": ("天数", "Days"),
    "chats": ("对话数", "Chats"),
    "wait_avg": ("平均等待", "Average wait"),
    "wait_p90": ("等待 P90", "Wait P90"),
    "first_reply": ("首次回复", "First reply"),
    "duration": ("时长", "Duration"),
    "rating": ("评分", "Rating"),
    "handoff_rate": ("转人工率", "Handoff rate"),
    "per_librarian": ("按馆员", "Per librarian"),
    "per_day": ("按日期", "Per day"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "librarian": ("馆员", "Librarian"),
    "day": ("日期", "Day"),
    "admin_only": ("仅管理员可以进行此操作。", "Only an admin can do this."),
    "taken": ("已被其他馆员接入。", "Another librarian has taken this chat."),
    "intent": ("意图", "intent"),
    "requeued": ("重新排队", "requeued"),
    "rated": ("读者评分", "Patron rating"),
    "comment": ("评论", "Comment"),
    "speaker_patron": ("读者", "Patron"),
    "speaker_bot": ("助手", "Assistant"),
    "speaker_librarian": ("馆员", "Librarian"),
    "speaker_system": ("系统", "System"),
    "minutes_short": ("分钟", "min"),
    "seconds_short": ("秒", "s"),
    "feedback": ("读者反馈", "Feedback"),
    "kind": ("类型", "Kind"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "kind_complaint": ("投诉", "Complaint"),
    "kind_praise": ("表扬", "Praise"),
    "kind_suggestion": ("建议", "Suggestion"),
    "kind_other": ("其他", "Other"),
    "status_new": ("未读", "New"),
    "status_seen": ("已读", "Read"),
    "status_handled": ("已处理", "Handled"),
    "received": ("收到时间", "Received"),
    "channel": ("渠道", "Channel"),
    "text": ("内容", "Text"),
    "note": ("处理说明", "Note"),
    "mark_read": ("标为已读", "Mark read"),
    "mark_handled": ("标为已处理", "Mark handled"),
    "no_feedback": ("没有符合条件的反馈。", "No feedback matches."),
    "by": ("处理人", "by"),
    "open_chat": ("查看对话", "Conversation"),
}


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in ("zh", "en"):
        return asked
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


def words(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {k: v[i] for k, v in WORDS.items()}
