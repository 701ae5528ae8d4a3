"""What the delivery form says: its questions and the summary before submitting."""

from __future__ import annotations

from kb.delivery.citations import Citation
from kb.delivery.texts import FIELD_NAMES, GENRE_NAMES, field_name

Button = tuple[str, str, str]  # title zh, title en, payload (see actions.common.say)


def answer(value: str) -> str:
    """A button payload that answers the form's question."""
    return '/inform{"dd_answer":"' + value + '"}'


CITATION = (
    "请把需要的文献发给我：可以粘贴 DOI、ISBN、PMID、OpenURL 链接，或一条参考文献（题名、作者、刊名、年份）。",
    "What do you need? Paste a DOI, ISBN, PMID, an OpenURL link, or a reference "
    "(title, authors, journal, year).",
)

# What to ask for each piece a librarian still needs (kb Citation.missing()).
DETAIL = {
    "title": ("请告诉我书名（或文献题名）。", "What is the title of the book (or document)?"),
    "article_title": (
        "请告诉我文章的题名。",
        "What is the title of the article?",
    ),
    "journal": (
        "这篇文章发表在哪本期刊上？请告诉我刊名（或 ISSN）。",
        "Which journal is the article in? Tell me its name (or ISSN).",
    ),
    "chapter": (
        "需要书中哪一章？请告诉我章节题名或页码。",
        "Which chapter do you need? Tell me its title or the pages.",
    ),
}

SERVICE = (
    "您需要复制件（扫描/复印）还是借阅原书？",
    "Do you need a copy (scan) or a loan of the item itself?",
)
SERVICE_BUTTONS: list[Button] = [
    ("复制件", "A copy", answer("copy")),
    ("借阅原书", "A loan", answer("loan")),
    ("都可以", "Either", answer("copy_or_loan")),
]
DELIVERY = (
    "文献怎么送给您？发到电子邮箱，还是到馆自取？",
    "How should it reach you: by e-mail or pickup at a library?",
)
DELIVERY_BUTTONS: list[Button] = [
    ("电子邮件", "E-mail", answer("email")),
    ("到馆自取", "Pickup", answer("pickup")),
]
LOAN_PICKUP = (
    "借阅原书只能到馆自取。",
    "A loan has to be picked up at a library.",
)
PICKUP = ("请选择到哪个图书馆取：", "Which library will you pick it up at?")
EMAIL = (
    "请告诉我接收文献的电子邮箱地址（会加密保存，只用于这次及以后的文献传递）。",
    "Which e-mail address should it go to? (It is stored encrypted and used only for "
    "document delivery.)",
)
NOT_UNDERSTOOD = ("抱歉，我没看懂。", "Sorry, I didn't get that.")
CONFIRM_BUTTONS: list[Button] = [
    ("确认提交", "Submit", answer("yes")),
    ("修改文献信息", "Change the item", answer("change_citation")),
    ("修改服务/送达方式", "Change how", answer("change_options")),
    ("取消", "Cancel", answer("cancel")),
]
STOPPED = ("好的，这次的文献传递申请不提交了。", "OK, the request was not submitted.")

_SERVICE = {
    "copy": ("复制件", "a copy"),
    "loan": ("借阅原书", "a loan"),
    "copy_or_loan": ("复制或借阅均可", "a copy or a loan"),
}
_DELIVERY = {"email": ("电子邮件", "e-mail"), "pickup": ("到馆自取", "pickup")}


def _pick(language: str, pair: tuple[str, str]) -> str:
    return pair[0] if language == "zh" else pair[1]


def citation_lines(citation: Citation, language: str) -> list[str]:
    """The fields the citation gives, one "label: value" line each."""
    sep = "：" if language == "zh" else ": "
    lines = []
    if citation.genre.value != "unknown":
        genre = GENRE_NAMES[citation.genre][language]
        lines.append(f"{field_name('genre', language)}{sep}{genre}")
    for name in ("article_title", "title", "journal", "authors", "year", "volume", "issue",
                 "pages", "publisher", "isbn", "issn", "doi", "pmid"):  # fmt: skip
        value = getattr(citation, name)
        if value:
            shown = "; ".join(value[:3]) if isinstance(value, list) else str(value)
            lines.append(f"{FIELD_NAMES[name][language]}{sep}{shown}")
    return lines


def summary(
    citation: Citation,
    service: str,
    delivery: str,
    pickup_name: str | None,
    email_on_file: bool,
    language: str,
) -> str:
    zh = language == "zh"
    head = "请确认您的文献传递申请：" if zh else "Please check your request:"
    lines = [head, *("· " + line for line in citation_lines(citation, language))]
    sep = "：" if zh else ": "
    lines.append(
        f"· {field_name('service_type', language)}{sep}{_pick(language, _SERVICE[service])}"
    )
    how = _pick(language, _DELIVERY[delivery])
    if delivery == "pickup" and pickup_name:
        how += f"（{pickup_name}）" if zh else f" ({pickup_name})"
    if delivery == "email" and email_on_file:
        how += "（发到您留的邮箱）" if zh else " (to the address you gave)"
    lines.append(f"· {field_name('delivery_method', language)}{sep}{how}")
    return "\n".join(lines)
