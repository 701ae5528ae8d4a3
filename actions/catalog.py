"""Catalog search and availability in chat: result cards, paging, holdings, suggestions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import in_db, reply_language, say
from actions.personalisation import remember_search
from kb.catalog.federated import configured_sources, federated_search
from kb.catalog.models import HoldingStatus, Record, RecordFormat
from kb.catalog.search import (
    LibraryHoldings,
    ParsedQuery,
    SearchPage,
    Suggestions,
    availability,
    parse_query,
    search,
    suggest,
)
from kb.db import sessionmaker_for
from kb.settings import get_settings

PAGE_SIZE = 5

FORMAT_LABELS = {
    RecordFormat.BOOK: ("图书", "print book"),
    RecordFormat.EBOOK: ("电子书", "ebook"),
    RecordFormat.JOURNAL: ("期刊", "journal"),
    RecordFormat.ARTICLE: ("文章", "article"),
    RecordFormat.THESIS: ("学位论文", "thesis"),
}
STATUS_LABELS = {
    HoldingStatus.AVAILABLE: ("在架可借", "on the shelf"),
    HoldingStatus.ON_LOAN: ("已借出", "on loan"),
    HoldingStatus.IN_PROCESSING: ("加工中", "in processing"),
    HoldingStatus.MISSING: ("丢失", "missing"),
}


def _pick(language: str, pair: tuple[str, str]) -> str:
    return pair[0] if language == "zh" else pair[1]


def entity_values(tracker: Tracker, name: str) -> list[str]:
    return [
        str(e["value"])
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == name and e.get("value")
    ]


def first_entity(tracker: Tracker, name: str) -> str | None:
    values = entity_values(tracker, name)
    return values[0] if values else None


def bad_identifiers(tracker: Tracker) -> list[str]:
    """Identifiers the patron typed whose check digit is wrong ("isbn:978...")."""
    return entity_values(tracker, "invalid_identifier")


def explain_bad_identifiers(
    dispatcher: CollectingDispatcher, language: str, bad: list[str]
) -> None:
    for item in bad:
        kind, _, typed = item.partition(":")
        label = kind.upper()
        say(
            dispatcher,
            language,
            f"{label} {typed} 的校验位不对，可能抄错了一位。请核对后再发给我。",
            f"The {label} {typed} has a wrong check digit, so one digit is probably mistyped. "
            "Please check it and send it again.",
        )


# --- what to search for -----------------------------------------------------------


@dataclass(frozen=True)
class SearchPlan:
    """The queries to try in order; the first one with hits wins."""

    text: str
    queries: tuple[ParsedQuery | str, ...]

    def label(self) -> str:
        return self.text

    def words(self) -> str:
        """What was searched for, without request filler ("有没有…的书", "find books on")."""
        first = self.queries[0]
        parsed = first if isinstance(first, ParsedQuery) else parse_query(first)
        if parsed.only_filler:
            return ""
        found = " ".join(filter(None, (parsed.title, parsed.author, parsed.keywords)))
        return found or self.text


def _meaningful(value: str | None) -> str | None:
    """An entity the model tagged inside a bare request ("search [the catalog](topic)")
    names nothing to search for."""
    return value if value and not parse_query(value).only_filler else None


def plan_search(tracker: Tracker) -> SearchPlan | None:
    """From the entities the model found and the words the patron typed."""
    typed = tracker.get_slot("search_query") or first_entity(tracker, "query")
    text = (typed or tracker.latest_message.get("text") or "").strip()
    if text.startswith("/"):  # a button click without words of its own
        text = ""
    queries: list[ParsedQuery | str] = []
    isbns = tuple(entity_values(tracker, "isbn"))
    issns = tuple(entity_values(tracker, "issn"))
    if isbns or issns:
        queries.append(ParsedQuery(text=text or " ".join(isbns + issns), isbns=isbns, issns=issns))
    title, author, topic = (
        _meaningful(first_entity(tracker, k)) for k in ("title", "author", "topic")
    )
    if not typed and (title or author or topic):
        queries.append(ParsedQuery(text=text, title=title, author=author, keywords=topic or ""))
    if text and not (parse_query(text).only_filler and not queries):
        queries.append(text)
    if not typed and (title or author) and topic:
        queries.append(
            ParsedQuery(text=text, keywords=" ".join(filter(None, (title, author, topic))))
        )
    if not queries:
        return None
    return SearchPlan(
        text=text or " ".join(filter(None, (title, author, topic))), queries=tuple(queries)
    )


def _run_plan(
    session: Session, plan: SearchPlan, page: int
) -> tuple[SearchPage, int, Suggestions | None]:
    """The first query of the plan that finds something, and which one it was."""
    first: SearchPage | None = None
    for index, query in enumerate(plan.queries):
        result = search(session, query, page=page, page_size=PAGE_SIZE)
        first = first or result
        if result.hits:
            return result, index, None
    assert first is not None
    suggestion_query = plan.text or first.query.text
    return first, 0, suggest(session, suggestion_query) if suggestion_query else None


# --- rendering ---------------------------------------------------------------------


def card(record: Record, availability_text: str, number: int, language: str) -> str:
    title = f"《{record.title}》" if language == "zh" else record.title
    if record.subtitle:
        title += f"：{record.subtitle}" if language == "zh" else f": {record.subtitle}"
    facts = [", ".join(record.authors[:2])] if record.authors else []
    if record.year:
        facts.append(str(record.year))
    facts.append(_pick(language, FORMAT_LABELS[record.format]))
    sep = "，" if language == "zh" else ", "
    lines = [f"{number}. {title}" + (f" — {sep.join(facts)}" if facts else "")]
    if availability_text:
        lines.append(f"   {availability_text}")
    elif record.links:
        lines.append("   " + _pick(language, ("在线阅读：", "Online: ")) + record.links[0]["url"])
    else:
        lines.append("   " + _pick(language, ("成员馆暂无馆藏", "No copies in member libraries")))
    return "\n".join(lines)


def holdings_text(record: Record, holdings: list[LibraryHoldings], language: str) -> str:
    title = f"《{record.title}》" if language == "zh" else record.title
    if not holdings:
        none = ("暂无成员馆馆藏。", "No member library holds a copy.")
        return f"{title}\n{_pick(language, none)}"
    lines = [title]
    for library in holdings:
        lines.append(f"{library.library.name(language)}:")
        for item in library.items:
            parts = [
                item.call_number or "—",
                item.location or "—",
                _pick(language, STATUS_LABELS[item.status]),
            ]
            if item.status == HoldingStatus.ON_LOAN and item.due_date:
                parts.append(_pick(language, ("应还 ", "due ")) + item.due_date.isoformat())
            if not item.loanable:
                parts.append(_pick(language, ("仅限馆内阅览", "reference only")))
            lines.append("  · " + " | ".join(parts))
    return "\n".join(lines)


# --- actions -------------------------------------------------------------------------


class ActionSearchCatalog(Action):
    def name(self) -> str:
        return "action_search_catalog"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        bad = bad_identifiers(tracker)
        if bad:
            explain_bad_identifiers(dispatcher, language, bad)
            return [SlotSet("search_query", None)]
        plan = plan_search(tracker)
        if plan is None:
            # Nothing to search for yet: the form asks what, then this action runs again.
            return [SlotSet("search_query", None), FollowupAction("search_form")]
        await remember_search(tracker.sender_id, plan.words())  # only with the patron's yes
        return await show_results(dispatcher, language, plan, page=1)


class ActionMoreResults(Action):
    def name(self) -> str:
        return "action_more_results"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        last = tracker.get_slot("last_query")
        if not last:
            say(
                dispatcher,
                language,
                "还没有可以翻页的检索结果。想找什么书？",
                "There is no search to page through yet. What are you looking for?",
            )
            return []
        page = int(tracker.get_slot("last_page") or 1) + 1
        return await show_results(dispatcher, language, SearchPlan(last, (last,)), page=page)


async def show_results(
    dispatcher: CollectingDispatcher, language: str, plan: SearchPlan, page: int
) -> list[dict[str, Any]]:
    result, used, suggestions = await in_db(_run_plan, plan, page)
    if not result.hits:
        if page > 1:
            say(dispatcher, language, "没有更多结果了。", "There are no more results.")
            return []
        await no_hits(dispatcher, language, plan, suggestions)
        return [SlotSet("search_query", None), SlotSet("last_query", None)]
    chosen = plan.queries[used]
    query_text = chosen if isinstance(chosen, str) else plan.text
    total = f"{result.total}+" if result.total_is_lower_bound else str(result.total)
    first = (page - 1) * PAGE_SIZE + 1
    last = first + len(result.hits) - 1
    header = say_text(
        language,
        f"找到 {total} 条结果，这是第 {first}–{last} 条：",
        f"Found {total} results; here are {first}–{last}:",
    )
    cards = [
        card(hit.record, hit.availability_text(language), first + i, language)
        for i, hit in enumerate(result.hits)
    ]
    if result.ignored_formats:
        labels = "、".join(_pick("zh", FORMAT_LABELS[f]) for f in result.ignored_formats)
        labels_en = ", ".join(_pick("en", FORMAT_LABELS[f]) for f in result.ignored_formats)
        cards.append(
            say_text(
                language,
                f"（没有找到{labels}版本，以上是其他版本）",
                f"(No {labels_en} found; other formats shown.)",
            )
        )
    buttons = [
        {
            "title": say_text(language, f"馆藏 {first + i}", f"Holdings {first + i}"),
            "payload": f'/check_availability{{"record_id":"{hit.record.id}"}}',
        }
        for i, hit in enumerate(result.hits)
    ]
    if result.has_more:
        buttons.append(
            {"title": say_text(language, "更多结果", "More results"), "payload": "/more_results"}
        )
    dispatcher.utter_message(text=header + "\n" + "\n".join(cards), buttons=buttons)
    if page == 1:
        await remote_results(dispatcher, language, query_text)
    return [
        SlotSet("search_query", None),
        SlotSet("last_query", query_text if isinstance(chosen, str) else plan.text),
        SlotSet("last_page", float(page)),
    ]


def search_payload(query: str) -> str:
    """A button that searches the catalog for ``query``."""
    return "/search_catalog" + json.dumps({"query": query}, ensure_ascii=False)


def count_hits(session: Session, text: str) -> int:
    return search(session, text, page_size=1).total


def say_text(language: str, zh: str, en: str) -> str:
    return zh if language == "zh" else en


async def no_hits(
    dispatcher: CollectingDispatcher,
    language: str,
    plan: SearchPlan,
    suggestions: Suggestions | None,
) -> None:
    buttons: list[dict[str, str]] = []
    if suggestions is not None:
        offered = (
            suggestions.spelling[:2] + suggestions.broader[:2] + suggestions.other_language[:2]
        )
        for s in offered:
            query = s.query.replace('"', "")
            buttons.append(
                {
                    "title": f"{s.query} ({s.hits})",
                    "payload": f'/search_catalog{{"query":"{query}"}}',
                }
            )
    buttons += [
        {
            "title": say_text(language, "申请文献传递", "Request it from another library"),
            "payload": "/request_document",
        },
        {
            "title": say_text(language, "建议图书馆购买", "Suggest a purchase"),
            "payload": "/suggest_purchase",
        },
    ]
    hint = say_text(
        language,
        "可以试试下面的检索词，" if suggestions and not suggestions.empty else "",
        "You could try the searches below, " if suggestions and not suggestions.empty else "",
    )
    dispatcher.utter_message(
        text=say_text(
            language,
            f"馆藏里没有找到“{plan.label()}”。{hint}也可以申请文献传递，或建议图书馆购买。",
            f"Nothing in the catalog matches “{plan.label()}”. {hint}or request it from "
            "another library, or suggest that we buy it.",
        ),
        buttons=buttons,
    )


async def remote_results(dispatcher: CollectingDispatcher, language: str, query: str) -> None:
    """Results from remote SRU catalogs that the union catalog does not have."""
    sources = configured_sources()
    if not sources:
        return
    factory = sessionmaker_for(get_settings().database_url)
    result = await federated_search(factory, query, sources=sources, limit=8)
    remote = [h for h in result.hits if h.record_id is None][:3]
    lines = []
    for hit in remote:
        who = ", ".join(hit.authors[:2])
        year = f" {hit.year}" if hit.year else ""
        lines.append(
            f"· {hit.title}" + (f" — {who}" if who else "") + year + f" [{', '.join(hit.sources)}]"
        )
    slow = [o.name for o in result.outcomes if not o.ok]
    if slow:
        lines.append(
            say_text(
                language,
                f"（{'、'.join(slow)} 未及时响应，结果可能不全）",
                f"({', '.join(slow)} did not answer in time; results may be incomplete)",
            )
        )
    if lines:
        header = say_text(language, "其他图书馆目录中还有：", "Also in other library catalogs:")
        dispatcher.utter_message(
            text=header + "\n" + "\n".join(lines),
            buttons=[
                {
                    "title": say_text(language, "申请文献传递", "Request it"),
                    "payload": "/request_document",
                }
            ]
            if remote
            else [],
        )


def _find_record(
    session: Session, record_id: int | None, plan: SearchPlan | None
) -> tuple[Record | None, list[LibraryHoldings]]:
    record = session.get(Record, record_id) if record_id else None
    if record is None and plan is not None:
        result, _, _ = _run_plan(session, plan, 1)
        record = result.hits[0].record if result.hits else None
    if record is None:
        return None, []
    return record, availability(session, record.id)


class ActionCheckAvailability(Action):
    def name(self) -> str:
        return "action_check_availability"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        bad = bad_identifiers(tracker)
        if bad:
            explain_bad_identifiers(dispatcher, language, bad)
            return []
        raw_id = first_entity(tracker, "record_id")
        record_id = int(raw_id) if raw_id and raw_id.isdigit() else None
        plan = None if record_id else plan_search(tracker)
        if record_id is None and plan is None:
            say(
                dispatcher,
                language,
                "您想查哪本书的馆藏？请告诉我书名、作者或 ISBN。",
                "Which item should I check? Tell me its title, author or ISBN.",
            )
            return []
        record, holdings = await in_db(_find_record, record_id, plan)
        if record is None:
            label = plan.label() if plan else ""
            say(
                dispatcher,
                language,
                f"馆藏里没有找到“{label}”。",
                f"I couldn't find “{label}” in the catalog.",
                buttons=[
                    ("申请文献传递", "Request it from another library", "/request_document"),
                    ("建议图书馆购买", "Suggest a purchase", "/suggest_purchase"),
                ],
            )
            return []
        dispatcher.utter_message(text=holdings_text(record, holdings, language))
        return [SlotSet("record_id", None)]
