"""What a patron typed, taken apart: 《title》, "by author" / "作者 X", ISBN/ISSN,
and the remaining keywords without the filler of a request ("do you have", "有没有")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.catalog.identifiers import isbns_in, issns_in
from kb.catalog.models import RecordFormat
from kb.catalog.search.analysis import contains_cjk, fold, words

_TITLE_MARKS = re.compile(r"《([^》]+)》|「([^」]+)」|『([^』]+)』|〈([^〉]+)〉")
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’")
_ISBN_TEXT = re.compile(r"(?i)\b(?:isbn|issn)(?:-1[03])?\s*[:：]?\s*")
_ISBN_LIKE = re.compile(r"(?<![\w-])(?:97[89][-\s]?)?(?:\d[-\s]?){9}[\dXx](?![\w-])")
_ISSN_LIKE = re.compile(r"(?<![\w-])\d{4}-\d{3}[\dXx](?![\w-])")
# "by Christopher M. Bishop", up to a comma/semicolon or the end.
_BY_AUTHOR = re.compile(r"(?i)\b(?:by|author[:：]?|written by)\s+([^,;，；。?？!！]+)")
# 作者 X / 作者是X / 作者：X, and "X著" / "X 著".
_ZH_AUTHOR = re.compile(r"作者\s*(?:是|为|[:：])?\s*([^\s,;，；。?？!！的]+)")
_ZH_AUTHOR_SUFFIX = re.compile(r"([\u4e00-\u9fff·]{2,10})\s*(?:著|编著|主编|所著|写的)")

_ZH_FILLER_START = re.compile(
    r"^(?:请问|你好|您好|麻烦)?[，,\s]*"
    # "图书馆" only counts as filler before a request verb: 图书馆学 is a subject.
    r"(?:(?:图书馆|馆里|你们|这里)?(?:我想|我要|想要)?(?:有没有|有无|还有没有|能不能找到|能否找到|我想借|我想找|我想看|"
    r"我要借|我要找|帮我找|帮我查|帮忙找|查一下|找一下|搜一下|查找|搜索|检索))?"
    r"(?:一本|一些|几本|关于|有关)?"
)
_ZH_FILLER_END = re.compile(
    r"(?:有没有|还有吗|还有没有|可以借的|可以借吗|能借的|能借吗|可借的|可以借|可借|在架上吗|在架吗|在架|"
    r"这本书|这本|方面的书|相关的书|之类的书|有关的书|的书籍|的书|的图书|书籍|的资料|的文献|"
    r"可以借吗|能借吗|在哪里|在哪|在架吗|有吗|吗|呢|嘛|么|吧|馆藏)+$"
)
_FORMAT_WORDS = (
    (re.compile(r"(?i)\be-?books?\b|电子书|电子版"), RecordFormat.EBOOK),
    (re.compile(r"(?i)\b(?:journals?|periodicals?|magazines?)\b|期刊|杂志"), RecordFormat.JOURNAL),
    (
        re.compile(r"(?i)\b(?:theses|thesis|dissertations?)\b|学位论文|博士论文|硕士论文"),
        RecordFormat.THESIS,
    ),
)
# Words of a request, not of what is requested.
_EN_FILLER_WORDS = (
    "a an the and or of in on at to for with about from into any some all is are was were be "
    "do does did you your we i me my have has had there here please can could would will "
    "find search looking look want need get borrow books book titles title copy copies "
    "something anything available where hi catalog catalogue opac "
    "hello hey"
)
_EN_FILLER = frozenset(_EN_FILLER_WORDS.split())
# Requests that mention the library without asking about it ("does the library have").
_EN_REQUEST = re.compile(
    r"(?i)\b(?:(?:in|at|from|does|do|can) (?:the |your |this )?(?:library|catalog(?:ue)?)"
    r"(?: have)?|on (?:the )?shel(?:f|ves))\b"
)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    title: str | None = None
    author: str | None = None
    isbns: tuple[str, ...] = ()
    issns: tuple[str, ...] = ()
    keywords: str = ""
    quoted: tuple[str, ...] = field(default=())
    # Formats the patron named ("ebook", "电子书", "期刊"): a filter unless one is set.
    formats: tuple[RecordFormat, ...] = ()
    # Every word was request filler ("I want to search the catalog", "查一下馆藏"): the
    # keywords are the raw words, searched only because there was nothing else.
    only_filler: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.title or self.author or self.isbns or self.issns or self.keywords)

    @property
    def language(self) -> str:
        """The script the patron wrote in: "zh" when there is any Chinese."""
        return "zh" if contains_cjk(self.text) else "en"


def parse_query(text: str) -> ParsedQuery:
    raw = (text or "").strip()
    rest = raw
    titles = [next(g for g in m.groups() if g) for m in _TITLE_MARKS.finditer(rest)]
    rest = _TITLE_MARKS.sub(" ", rest)
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(rest)]
    rest = _QUOTED.sub(" ", rest)

    isbns = tuple(isbns_in(" ".join(_ISBN_LIKE.findall(rest))))
    issns = tuple(issns_in(" ".join(_ISSN_LIKE.findall(rest))))
    if isbns:
        rest = _ISBN_LIKE.sub(" ", rest)
    if issns:
        rest = _ISSN_LIKE.sub(" ", rest)
    rest = _ISBN_TEXT.sub(" ", rest)

    author = None
    for pattern in (_ZH_AUTHOR, _BY_AUTHOR, _ZH_AUTHOR_SUFFIX):
        match = pattern.search(rest)
        if match and match.group(1).strip():
            author = match.group(1).strip()
            rest = rest[: match.start()] + " " + rest[match.end() :]
            break

    formats = tuple(dict.fromkeys(f for word, f in _FORMAT_WORDS if word.search(rest)))
    for word, _ in _FORMAT_WORDS:
        rest = word.sub(" ", rest)
    title = " ".join(titles) if titles else None
    keywords = _strip_filler(rest)
    if not title and not keywords and len(quoted) == 1 and not author:
        # "is "Dune" on the shelf": a lone quoted phrase is the title asked about.
        title, quoted = quoted[0], []
    keywords = " ".join([*quoted, keywords]).strip()
    only_filler = not (title or author or isbns or issns or keywords)
    if only_filler:
        # Everything looked like filler ("The The", "有没有"): search what was written.
        keywords = " ".join(words(raw))
        formats = ()
    return ParsedQuery(
        text=raw,
        title=title,
        author=author,
        isbns=isbns,
        issns=issns,
        keywords=keywords,
        quoted=tuple(quoted),
        formats=formats,
        only_filler=only_filler,
    )


def _strip_filler(text: str) -> str:
    text = _EN_REQUEST.sub(" ", text)
    parts: list[str] = []
    for chunk in re.split(r"[\s,，;；。.!！?？:：()（）\[\]【】]+", text):
        if not chunk:
            continue
        if contains_cjk(chunk):
            chunk = _ZH_FILLER_END.sub("", _ZH_FILLER_START.sub("", chunk))
            if chunk:
                parts.append(chunk)
        elif fold(chunk) not in _EN_FILLER:
            parts.append(chunk)
    return " ".join(parts)
