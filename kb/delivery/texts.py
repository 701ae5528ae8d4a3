"""Patron- and librarian-facing wording of the delivery room, in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from kb.delivery.states import Genre, ReasonUnfilled, ServiceType, Status

LANGUAGES = ("zh", "en")

# Names of the request fields, as a patron reads them.
FIELD_NAMES: dict[str, dict[str, str]] = {
    "title": {"zh": "题名（书名）", "en": "title"},
    "article_title": {"zh": "文章题名", "en": "article title"},
    "journal": {"zh": "刊名（或 ISSN）", "en": "journal name (or ISSN)"},
    "chapter": {"zh": "章节题名或页码", "en": "chapter title or pages"},
    "authors": {"zh": "作者", "en": "authors"},
    "year": {"zh": "年份", "en": "year"},
    "volume": {"zh": "卷", "en": "volume"},
    "issue": {"zh": "期", "en": "issue"},
    "pages": {"zh": "页码", "en": "pages"},
    "publisher": {"zh": "出版者", "en": "publisher"},
    "place": {"zh": "出版地", "en": "place of publication"},
    "edition": {"zh": "版本", "en": "edition"},
    "isbn": {"zh": "ISBN", "en": "ISBN"},
    "issn": {"zh": "ISSN", "en": "ISSN"},
    "doi": {"zh": "DOI", "en": "DOI"},
    "pmid": {"zh": "PMID", "en": "PMID"},
    "genre": {"zh": "文献类型", "en": "type of item"},
    "service_type": {"zh": "服务方式（复制或借阅）", "en": "service (copy or loan)"},
    "delivery_method": {
        "zh": "送达方式（电子邮件或到馆自取）",
        "en": "delivery (e-mail or pickup)",
    },
    "contact_email": {"zh": "电子邮箱", "en": "e-mail address"},
    "pickup_library": {"zh": "取书的图书馆", "en": "library to pick it up at"},
    "need_before": {"zh": "最晚需要日期", "en": "need-before date"},
    "max_cost": {"zh": "最高费用", "en": "maximum cost"},
}

_PROBLEMS: dict[str, dict[str, str]] = {
    "isbn_checksum": {
        "zh": "ISBN {value} 的校验位不对，请核对",
        "en": "ISBN {value} has a wrong check digit; please check it",
    },
    "isbn_length": {
        "zh": "ISBN {value} 应为 10 位或 13 位",
        "en": "ISBN {value} should have 10 or 13 digits",
    },
    "issn_invalid": {
        "zh": "{field}“{value}”不是有效的 ISSN",
        "en": "{field} '{value}' is not a valid ISSN",
    },
    "doi_invalid": {
        "zh": "“{value}”不是有效的 DOI（应以 10. 开头）",
        "en": "'{value}' is not a valid DOI (it should start with 10.)",
    },
    "pmid_invalid": {
        "zh": "“{value}”不是有效的 PMID（应为数字）",
        "en": "'{value}' is not a valid PMID (it should be a number)",
    },
    "date_invalid": {
        "zh": "{field}“{value}”里找不到年份",
        "en": "{field} '{value}' holds no year",
    },
    "template_value": {
        "zh": "{field} 是未填写的模板“{value}”，已忽略",
        "en": "{field} holds an unfilled template '{value}' and was ignored",
    },
    "openurl_no_query": {
        "zh": "这不是 OpenURL 链接：没有查询参数",
        "en": "this is not an OpenURL link: it has no query",
    },
    "openurl_no_item": {
        "zh": "链接里没有题名，也没有 DOI、PMID、ISBN 或 ISSN，无法确定是哪一篇文献",
        "en": "the link has no title and no DOI, PMID, ISBN or ISSN, so it names no item",
    },
    "openurl_whole_journal": {
        "zh": "链接指向整本期刊“{value}”，请说明需要其中哪一篇文章",
        "en": "the link names the whole journal '{value}'; which article is needed?",
    },
    "text_empty": {"zh": "没有收到文献信息", "en": "no citation was given"},
    "email_invalid": {
        "zh": "电子邮箱“{value}”格式不对",
        "en": "the e-mail address '{value}' is not valid",
    },
    "need_before_past": {
        "zh": "最晚需要日期 {value} 已经过去",
        "en": "the need-before date {value} has already passed",
    },
    "max_cost_negative": {"zh": "最高费用不能为负数", "en": "the maximum cost cannot be negative"},
    "loan_needs_pickup": {
        "zh": "借阅原书只能到馆自取，不能通过电子邮件送达",
        "en": "a loan has to be picked up at a library; it cannot be sent by e-mail",
    },
    "pickup_library_unknown": {
        "zh": "没有代码为“{value}”的成员馆",
        "en": "there is no member library with the code '{value}'",
    },
}

STATUS_NAMES: dict[Status, dict[str, str]] = {
    Status.SUBMITTED: {"zh": "已提交", "en": "submitted"},
    Status.SENT: {"zh": "已发送至提供馆", "en": "sent to a lending library"},
    Status.EXPECT_TO_SUPPLY: {
        "zh": "提供馆正在查找",
        "en": "the lending library is looking for it",
    },
    Status.WILL_SUPPLY: {"zh": "提供馆已接受", "en": "accepted by the lending library"},
    Status.CONDITIONAL: {
        "zh": "有附加条件，等您确认",
        "en": "offered on conditions you need to accept",
    },
    Status.COPY_COMPLETED: {"zh": "复制件已送达", "en": "copy delivered"},
    Status.LOANED: {"zh": "图书已借出，可取书", "en": "lent, ready for pickup"},
    Status.UNFILLED: {"zh": "未能满足", "en": "could not be supplied"},
    Status.CANCELLED: {"zh": "已取消", "en": "cancelled"},
    Status.COMPLETED: {"zh": "已完成", "en": "completed"},
}

REASON_NAMES: dict[ReasonUnfilled, dict[str, str]] = {
    ReasonUnfilled.NON_CIRCULATING: {"zh": "该馆藏不外借", "en": "not lent out (non-circulating)"},
    ReasonUnfilled.NOT_AVAILABLE_FOR_ILL: {
        "zh": "该馆藏不参加馆际互借",
        "en": "not available for interlibrary loan",
    },
    ReasonUnfilled.NOT_HELD: {"zh": "该馆没有收藏", "en": "not held"},
    ReasonUnfilled.NOT_ON_SHELF: {"zh": "不在架上", "en": "not on the shelf"},
    ReasonUnfilled.POLICY_PROBLEM: {
        "zh": "受该馆规定限制",
        "en": "the library's policy does not allow it",
    },
    ReasonUnfilled.POOR_CONDITION: {"zh": "文献破损，无法提供", "en": "in too poor a condition"},
    ReasonUnfilled.COST_EXCEEDS_MAX_COST: {
        "zh": "费用超过您设定的上限",
        "en": "the cost is above your maximum",
    },
    ReasonUnfilled.NO_ANSWER: {"zh": "提供馆未在期限内答复", "en": "no answer in time"},
    ReasonUnfilled.CONDITIONS_REJECTED: {
        "zh": "您未接受附加条件",
        "en": "you declined the conditions",
    },
}

SERVICE_NAMES: dict[ServiceType, dict[str, str]] = {
    ServiceType.COPY: {"zh": "复制（电子或纸质复印件）", "en": "a copy"},
    ServiceType.LOAN: {"zh": "借阅原书", "en": "a loan of the item"},
    ServiceType.COPY_OR_LOAN: {"zh": "复制或借阅均可", "en": "a copy or a loan"},
}


def lang_of(language: str | None) -> str:
    return language if language in LANGUAGES else "zh"


def field_name(name: str, language: str) -> str:
    return FIELD_NAMES.get(name, {}).get(lang_of(language), name)


@dataclass(frozen=True)
class Problem:
    """Something wrong in what was given: which field, what value, which message."""

    code: str
    field: str
    value: str = ""
    params: dict[str, str] = dataclass_field(default_factory=dict)

    def text(self, language: str) -> str:
        lang = lang_of(language)
        template = _PROBLEMS[self.code][lang]
        return template.format(field=field_name(self.field, lang), value=self.value, **self.params)


# Top-level classes of the Chinese Library Classification (中国图书馆分类法, 5th ed.).
CLC_CLASSES: dict[str, dict[str, str]] = {
    "A": {
        "zh": "马克思主义、列宁主义、毛泽东思想、邓小平理论",
        "en": "Marxism-Leninism, Mao Zedong Thought",
    },
    "B": {"zh": "哲学、宗教", "en": "Philosophy and religion"},
    "C": {"zh": "社会科学总论", "en": "Social sciences (general)"},
    "D": {"zh": "政治、法律", "en": "Politics and law"},
    "E": {"zh": "军事", "en": "Military science"},
    "F": {"zh": "经济", "en": "Economics"},
    "G": {"zh": "文化、科学、教育、体育", "en": "Culture, science, education, sports"},
    "H": {"zh": "语言、文字", "en": "Languages and linguistics"},
    "I": {"zh": "文学", "en": "Literature"},
    "J": {"zh": "艺术", "en": "Arts"},
    "K": {"zh": "历史、地理", "en": "History and geography"},
    "N": {"zh": "自然科学总论", "en": "Natural sciences (general)"},
    "O": {"zh": "数理科学和化学", "en": "Mathematics, physics and chemistry"},
    "P": {"zh": "天文学、地球科学", "en": "Astronomy and earth sciences"},
    "Q": {"zh": "生物科学", "en": "Biological sciences"},
    "R": {"zh": "医药、卫生", "en": "Medicine and health"},
    "S": {"zh": "农业科学", "en": "Agricultural sciences"},
    "T": {"zh": "工业技术", "en": "Industrial technology"},
    "U": {"zh": "交通运输", "en": "Transportation"},
    "V": {"zh": "航空、航天", "en": "Aviation and aerospace"},
    "X": {"zh": "环境科学、安全科学", "en": "Environmental and safety science"},
    "Z": {"zh": "综合性图书", "en": "General works"},
}

GENRE_NAMES: dict[Genre, dict[str, str]] = {
    Genre.ARTICLE: {"zh": "期刊文章", "en": "journal article"},
    Genre.BOOK: {"zh": "图书", "en": "book"},
    Genre.CHAPTER: {"zh": "图书章节", "en": "book chapter"},
    Genre.THESIS: {"zh": "学位论文", "en": "thesis"},
    Genre.UNKNOWN: {"zh": "未知类型", "en": "unknown type"},
}
