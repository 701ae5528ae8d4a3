"""Reading suggestions from the union catalog for the topic the patron names.

Candidates are the catalog's best matches for the topic (or, for "books like
《X》", for X's subjects); among them items on the shelf now and items in the
patron's language come first, and each pick says briefly why. Refdesk has no
consent setting for using a patron's past searches yet, so only the topic is
used, and the reply says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.catalog import first_entity, search_payload
from actions.common import in_db, reply_language, say
from kb.catalog.search import ParsedQuery, parse_query, search
from kb.catalog.search.results import SearchHit

CANDIDATES = 20
PICKS = 4
LIBRARIAN = ("联系馆员", "Talk to a librarian", "/human_handoff")


@dataclass(frozen=True)
class Pick:
    title: str
    authors: list[str]
    year: int | None
    why: list[tuple[str, str]]  # (zh, en) reasons


@dataclass(frozen=True)
class Recommendation:
    topic: str
    like: str | None  # the title the patron compared with, when found
    picks: list[Pick]


def _subject_match(hit: SearchHit, topic: str) -> str | None:
    folded = topic.casefold()
    for subject in hit.record.subjects:
        if folded and (folded in subject.casefold() or subject.casefold() in folded):
            return subject
    return None


def _why(hit: SearchHit, topic: str, language: str) -> list[tuple[str, str]]:
    reasons: list[tuple[str, str]] = []
    subject = _subject_match(hit, topic)
    if subject:
        reasons.append((f"主题是“{subject}”", f"its subject is “{subject}”"))
    elif topic.casefold() in hit.record.title.casefold():
        reasons.append(("书名就是这个主题", "the topic is in its title"))
    else:
        reasons.append((f"与“{topic}”高度相关", f"a close match for “{topic}”"))
    on_shelf = [a for a in hit.availability if a.available]
    if on_shelf:
        where = on_shelf[0].library
        reasons.append((f"{where.short_zh} 现在有书可借", f"on the shelf now at {where.short_en}"))
    elif hit.record.links:
        reasons.append(("可以在线阅读", "readable online"))
    if hit.record.language == language:
        reasons.append(("中文书", "in English"))  # said in the patron's language
    return reasons


def _candidates(
    session: Session, queries: list[ParsedQuery | str], exclude: set[int]
) -> list[SearchHit]:
    """The hits of the first query that finds something besides the excluded records."""
    for query in queries:
        hits = [
            h
            for h in search(session, query, page_size=CANDIDATES).hits
            if h.record.id not in exclude
        ]
        if hits:
            return hits
    return []


def recommend(session: Session, topic: str, like: str | None, language: str) -> Recommendation:
    queries: list[ParsedQuery | str] = [topic] if topic else []
    exclude: set[int] = set()
    found_like = None
    if like:
        base = search(session, ParsedQuery(text=like, title=like), page_size=1)
        if base.hits:
            record = base.hits[0].record
            found_like = record.title
            exclude.add(record.id)
            # Its subjects together, then one by one, then its author.
            words = [*record.subjects[:3], *record.authors[:1]]
            similar: list[ParsedQuery | str] = [
                ParsedQuery(text=w, keywords=w)
                for w in [" ".join(record.subjects[:3]), *words]
                if w
            ]
            queries = similar + queries
            topic = topic or (record.subjects[0] if record.subjects else "")
    hits = _candidates(session, queries, exclude)
    scored = []
    for rank, hit in enumerate(hits):
        score = CANDIDATES - rank
        if any(a.available for a in hit.availability) or hit.record.links:
            score += 8
        if hit.record.language == language:
            score += 6
        scored.append((score, -rank, hit))
    scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
    picks = [
        Pick(
            h.record.title, h.record.authors, h.record.year, _why(h, topic or like or "", language)
        )
        for _, _, h in scored[:PICKS]
    ]
    return Recommendation(topic, found_like, picks)


def _topic(tracker: Tracker) -> tuple[str, str | None]:
    asked = tracker.get_slot("recommend_topic")
    if asked:
        return str(asked).strip(), None
    topic = first_entity(tracker, "topic") or first_entity(tracker, "author") or ""
    like = first_entity(tracker, "title")
    if topic and parse_query(topic).only_filler:
        topic = ""  # "recommend [a book](topic)" names no topic
    return topic.strip(), like


class ActionRecommendBooks(Action):
    def name(self) -> str:
        return "action_recommend_books"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = reply_language(tracker)
        topic, like = _topic(tracker)
        if not topic and not like:
            return [SlotSet("recommend_topic", None), FollowupAction("recommend_form")]
        result = await in_db(recommend, topic, like, language)
        label = topic or like or ""
        if not result.picks:
            say(
                dispatcher,
                language,
                f"馆藏里没找到关于“{label}”的书。可以换个说法，或者请馆员帮您找。",
                f"I found nothing on “{label}” in the catalog. Try other words, or ask a "
                "librarian to help.",
                buttons=[LIBRARIAN],
            )
            return [SlotSet("recommend_topic", None)]
        if language == "zh":
            head = (
                f"和《{result.like}》相近的书，推荐这几本："
                if result.like
                else f"关于“{label}”，推荐这几本："
            )
        else:
            head = (
                f"If you liked {result.like}, you might try:"
                if result.like
                else f"Some good reads on “{label}”:"
            )
        lines = [head]
        for i, pick in enumerate(result.picks, 1):
            by = ", ".join(pick.authors[:2])
            year = f" ({pick.year})" if pick.year else ""
            title = f"《{pick.title}》" if language == "zh" else pick.title
            lines.append(f"{i}. {title}{' — ' + by if by else ''}{year}")
            sep = "；" if language == "zh" else "; "
            why = sep.join(zh if language == "zh" else en for zh, en in pick.why)
            lines.append(("   推荐理由：" if language == "zh" else "   Why: ") + why)
        lines.append(
            "（只根据您说的主题挑选，没有使用您过去的检索记录。）"
            if language == "zh"
            else "(Picked from the topic you named only; your past searches were not used.)"
        )
        say(
            dispatcher,
            language,
            "\n".join(lines),
            "\n".join(lines),
            buttons=[("在馆藏中查看更多", "See more in the catalog", search_payload(label))],
        )
        return [SlotSet("recommend_topic", None)]
