"""Reading suggestions from the union catalog for the topic the patron names.

Candidates are the catalog's best matches for the topic (or, for "books like
《X》", for X's subjects); among them items on the shelf now and items in the
patron's language come first, and each pick says briefly why. Only with the
patron's personalisation consent (kb.personalisation) are candidates that match
their alert topics or recent catalog searches ranked higher, saying so; without it
nothing about the patron is used, and the reply says the picks are by topic only.
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
from actions.personalisation import offer_personalisation
from kb.catalog.search import ParsedQuery, parse_query, search
from kb.catalog.search.results import SearchHit
from kb.patrons.service import patron_for_sender
from kb.personalisation import consent as personalisation
from kb.personalisation.history import PatronHistory, patron_history
from kb.settings import get_settings

CANDIDATES = 20
PICKS = 4
HISTORY_MATCHES = 50  # how deep each history term is looked up among the catalog
HISTORY_BONUS = CANDIDATES  # a match with their history outranks any non-match of their language
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
    personalised: bool = False  # the patron's history was used (with consent)


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


def _history_reasons(
    session: Session, history: PatronHistory, topic: str, hits: list[SearchHit]
) -> dict[int, tuple[str, str]]:
    """For candidates matching a subscribed topic or a recent search: why, in zh and en.

    Each term is looked up with the catalog's own search so Chinese and English match
    as they do for the patron; the topic asked for itself says nothing new."""
    wanted = {h.record.id for h in hits}
    terms = [(t, "topic") for t in history.topics] + [(q, "search") for q in history.searches]
    reasons: dict[int, tuple[str, str]] = {}
    for term, kind in terms:
        if term.casefold() == topic.casefold() or not wanted - reasons.keys():
            continue
        for hit in search(session, term, page_size=HISTORY_MATCHES).hits:
            if hit.record.id in wanted and hit.record.id not in reasons:
                reasons[hit.record.id] = (
                    (f"因为您订阅了“{term}”", f"because you subscribed to “{term}”")
                    if kind == "topic"
                    else (f"因为您检索过“{term}”", f"because you searched for “{term}”")
                )
    return reasons


def recommend(
    session: Session,
    topic: str,
    like: str | None,
    language: str,
    history: PatronHistory | None = None,
) -> Recommendation:
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
    personal = _history_reasons(session, history, topic, hits) if history else {}
    scored = []
    for rank, hit in enumerate(hits):
        score = CANDIDATES - rank
        if any(a.available for a in hit.availability) or hit.record.links:
            score += 8
        if hit.record.language == language:
            score += 6
        if hit.record.id in personal:
            score += HISTORY_BONUS
        scored.append((score, -rank, hit))
    scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
    picks = []
    for _, _, h in scored[:PICKS]:
        why = _why(h, topic or like or "", language)
        if h.record.id in personal:
            why.insert(0, personal[h.record.id])
        picks.append(Pick(h.record.title, h.record.authors, h.record.year, why))
    return Recommendation(topic, found_like, picks, personalised=history is not None)


@dataclass(frozen=True)
class PatronState:
    # Offer personalisation: never asked, or declined longer ago than the pause
    # (decided per patron, so every linked channel and new conversation agrees).
    offer: bool
    history: PatronHistory | None  # only with their consent


def patron_state(session: Session, sender: str) -> PatronState:
    patron = patron_for_sender(session, sender)
    if patron is None:
        return PatronState(offer=False, history=None)
    pause = get_settings().privacy_reoffer_days
    return PatronState(
        offer=personalisation.offer_due(session, patron.id, pause_days=pause),
        history=patron_history(session, patron.id),
    )


def _recommend_for(
    session: Session, sender: str, topic: str, like: str | None, language: str
) -> tuple[Recommendation, PatronState]:
    state = patron_state(session, sender)
    return recommend(session, topic, like, language, state.history), state


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
        result, state = await in_db(_recommend_for, tracker.sender_id, topic, like, language)
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
        if result.personalised:
            lines.append(
                "（结合了您订阅的主题和检索记录。说“别用我的记录推荐”即可停止并删除检索记录。）"
                if language == "zh"
                else "(Blended with your alert topics and past searches. Say “stop using my "
                "history” to stop and delete the searches kept.)"
            )
        else:
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
        events: list[dict[str, Any]] = [SlotSet("recommend_topic", None)]
        # The slot: an offer left unanswered is not repeated in the same conversation.
        if state.offer and not tracker.get_slot("personalisation_offered"):
            offer_personalisation(dispatcher, language)
            events.append(SlotSet("personalisation_offered", True))
        return events
