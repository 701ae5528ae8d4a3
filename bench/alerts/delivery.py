"""The delivery half of bench/alerts: the alerts of a subset of the synthetic
subscribers, matched against all the items and queued by the real path
(``match_pending`` → ``queue_due`` → outbound queue), then pushed by the real outbound
worker to the fake Bot API at the configured rates (bench/outbound's harness).

The items arrive in rounds (match, queue, next round), so a subscriber gets one message
per round; after the last round every item's matched mark is cleared and matching and
queueing run again, which must add nothing. Each round is also queued, for comparison,
by the queueing as it was before it was made fast (``bench/alerts/queue_before.py``)
on a copy of the same database with the indexes it had: same input, same run, and the
messages it makes must be the same ones (their dedupe keys name subscriber and items). Checked end to end against the in-memory
index: every subscriber's messages together carry exactly the items the index matched
for them, no item twice, and every queued message reached the fake API exactly once.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.outbound.harness import (
    OutboundWorker,
    achieved_rate,
    max_in_window,
    measure_table,
    min_private_gap,
    per_chat_times,
)
from kb.alerts.matching import TopicIndex

CHAT_BASE = 200_000  # Telegram chat id of synthetic subscriber s is CHAT_BASE + s
_SHOWN_ITEM = re.compile(r"^\d+\. item (\d+)$", re.MULTILINE)
_MORE = re.compile(r"(?:另有 (\d+) 条|and (\d+) more)")


@dataclass
class DeliveryResult:
    population: int
    subscribers: int
    with_alerts: int
    rounds: int
    items: int
    overall_rate: float
    chat_interval: float
    seed_seconds: float = 0.0
    match_seconds: float = 0.0
    queue_seconds: float = 0.0
    before_seconds: float = 0.0  # the previous queue_due on copies of the same rounds
    before_queued: int = 0
    before_same: bool = True  # it made exactly the messages queue_due made
    deliveries: int = 0
    queued: int = 0
    rerun_deliveries: int = 0
    rerun_queued: int = 0
    sent: int = 0
    span: float = 0.0
    achieved: float = 0.0
    peak_1s: int = 0
    min_chat_gap: float = float("inf")
    chat_peak_1s: int = 0
    final_states: dict[str, int] = field(default_factory=dict)
    duplicate_messages: int = 0
    duplicate_pairs: int = 0
    lost_messages: int = 0
    lost_pairs: int = 0
    extra_pairs: int = 0
    count_mismatches: int = 0
    with_more: int = 0  # messages listing 10 items and counting the rest
    finished: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.finished
            and self.duplicate_messages == 0
            and self.duplicate_pairs == 0
            and self.lost_messages == 0
            and self.lost_pairs == 0
            and self.extra_pairs == 0
            and self.count_mismatches == 0
            and self.rerun_deliveries == 0
            and self.rerun_queued == 0
            and self.before_same
        )


def expected_pairs(
    subscriptions: list[tuple[int, str, str]],
    items: list[tuple[set[str], set[str]]],
    chosen: set[int],
) -> dict[int, set[int]]:
    """subscriber → indices of the items the in-memory index matches for them."""
    index = TopicIndex()
    for s, kind, value in subscriptions:
        if s in chosen:
            index.add(s, kind, value)
    wanted: dict[int, set[int]] = defaultdict(set)
    for i, (tags, words) in enumerate(items):
        for s in index.match(tags, words):
            wanted[s].add(i)
    return wanted


def _seed(url: str, subscriptions: list[tuple[int, str, str]], chosen: list[int]) -> None:
    """Patrons with a linked Telegram identity (as a first chat message makes them), each
    an instant subscriber without quiet hours, half in Chinese and half in English."""
    from sqlalchemy import insert

    from kb.alerts.models import Frequency, Subscriber, SubscriptionTopic
    from kb.conversations import conversation_for
    from kb.db import session_scope, utcnow

    now = utcnow()
    with session_scope(url) as session:
        patrons = {
            s: conversation_for(session, "telegram", str(CHAT_BASE + s)).patron_id for s in chosen
        }
        session.execute(
            insert(Subscriber),
            [
                {
                    "id": s + 1,
                    "patron_id": patrons[s],
                    "active": True,
                    "frequency": Frequency.INSTANT,
                    "language": "zh" if s % 2 == 0 else "en",
                    "timezone": "Asia/Shanghai",
                    "created_at": now,
                    "updated_at": now,
                }
                for s in chosen
            ],
        )
        wanted = set(chosen)
        rows = {
            (s, kind, value): {
                "subscriber_id": s + 1,
                "kind": kind,
                "value": value,
                "created_at": now,
            }
            for s, kind, value in subscriptions
            if s in wanted
        }
        session.execute(insert(SubscriptionTopic), list(rows.values()))


def _add_items(url: str, items: list[tuple[set[str], set[str]]], start: int) -> None:
    from sqlalchemy import insert

    from kb.alerts.models import AlertItem, ItemKind
    from kb.db import session_scope, utcnow

    now = utcnow()
    with session_scope(url) as session:
        session.execute(
            insert(AlertItem),
            [
                {
                    "id": start + i + 1,
                    "kind": ItemKind.RECORD,
                    "source_key": f"bench:{start + i}",
                    "title": f"item {start + i}",
                    "topics": sorted(t),
                    "terms": sorted(w),
                    "publish_at": now,
                    "created_at": now,
                }
                for i, (t, w) in enumerate(items)
            ],
        )


def _dedupe_keys(url: str) -> list[str]:
    from sqlalchemy import select

    from kb.db import session_scope
    from kb.outbound import OutboundMessage

    with session_scope(url) as session:
        return sorted(session.scalars(select(OutboundMessage.dedupe_key)))


def _queue_before(url: str, home: Path, r: int) -> tuple[float, int, list[str]]:
    """The previous queueing on a copy of the database as it is now (matched, not yet
    queued), without the index this change added: (seconds, messages, dedupe keys)."""
    import sqlite3

    from bench.alerts.queue_before import queue_due as queue_due_before
    from kb.db import engine_for, session_scope

    copy = home / f"before-{r}.db"
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.execute("DROP INDEX ix_alert_deliveries_subscriber_status_due")
    target.commit()
    target.close()
    copy_url = f"sqlite:///{copy}"
    with session_scope(copy_url) as session:
        started = time.perf_counter()
        queued = queue_due_before(session)
        seconds = time.perf_counter() - started
    keys = _dedupe_keys(copy_url)
    engine_for(copy_url).dispose()
    copy.unlink()
    return seconds, queued, keys


def run(
    subscriptions: list[tuple[int, str, str]],
    items: list[tuple[set[str], set[str]]],
    *,
    subscribers: int,
    rounds: int,
    timeout: float,
) -> DeliveryResult:
    home = Path(tempfile.mkdtemp(prefix="alerts-delivery-bench-"))
    os.environ["REFDESK_HOME"] = str(home)
    url = f"sqlite:///{home / 'refdesk.db'}"
    os.environ["REFDESK_DATABASE_URL"] = url

    from sqlalchemy import select

    from kb.alerts.dispatch import queue_due
    from kb.alerts.matching import match_pending
    from kb.alerts.models import AlertDelivery, AlertItem
    from kb.crypto import reset_keyring
    from kb.db import session_scope
    from kb.migrate import upgrade
    from kb.outbound import OutboundMessage, OutboundStatus
    from kb.settings import get_settings
    from tests.fixtures.fake_telegram import FakeTelegram

    # The matching run before this one had its own home: the worker must read what this
    # process encrypts, so settings and key ring are taken from the new home.
    get_settings.cache_clear()
    reset_keyring()
    settings = get_settings()
    chosen = sorted({s for s, _, _ in subscriptions})[:subscribers]
    wanted = expected_pairs(subscriptions, items, set(chosen))
    result = DeliveryResult(
        population=len({s for s, _, _ in subscriptions}),
        subscribers=len(chosen),
        with_alerts=len(wanted),
        rounds=rounds,
        items=len(items),
        overall_rate=settings.telegram_overall_per_second,
        chat_interval=settings.telegram_chat_interval_seconds,
    )

    upgrade(url)
    started = time.perf_counter()
    _seed(url, subscriptions, chosen)
    result.seed_seconds = time.perf_counter() - started
    size = -(-len(items) // rounds)
    for r in range(rounds):
        _add_items(url, items[r * size : (r + 1) * size], r * size)
        with session_scope(url) as session:
            started = time.perf_counter()
            result.deliveries += match_pending(session)
            result.match_seconds += time.perf_counter() - started
        seconds, queued, before_keys = _queue_before(url, home, r)
        result.before_seconds += seconds
        result.before_queued += queued
        with session_scope(url) as session:
            started = time.perf_counter()
            result.queued += queue_due(session)
            result.queue_seconds += time.perf_counter() - started
        result.before_same &= before_keys == _dedupe_keys(url)
        print(
            f"  round {r + 1}/{rounds}: {result.deliveries} deliveries, {result.queued} messages "
            f"queued ({result.queue_seconds:.1f} s; before this change {result.before_seconds:.1f} s)",
            flush=True,
        )
    # A crash before the matched marks were kept: everything is matched and queued again.
    with session_scope(url) as session:
        session.execute(AlertItem.__table__.update().values(matched_at=None))
        session.commit()
        result.rerun_deliveries = match_pending(session)
        result.rerun_queued = queue_due(session)

    fake = FakeTelegram().start()
    # No groups here, so the group limit does not apply.
    worker = OutboundWorker(fake, home, url, result.overall_rate, result.chat_interval).start()
    try:
        result.finished = worker.drained("delivery", timeout, every=10)
    finally:
        worker.stop()
        fake.stop()

    sent = fake.sent()
    result.sent = len(sent)
    result.achieved, result.span = achieved_rate(sent)
    result.peak_1s = max_in_window(sorted(c.at for c in sent), 1.0)
    result.min_chat_gap = min_private_gap(sent)
    result.chat_peak_1s = max(
        (max_in_window(ts, 1.0) for ts in per_chat_times(sent).values()), default=0
    )
    texts = Counter(c.params["text"] for c in sent)
    result.duplicate_messages = sum(n - 1 for n in texts.values() if n > 1)

    # What the patrons have: the items shown in each chat (no item twice), and the
    # shown plus "… and N more" adding up to what the index matched for them.
    shown: dict[int, Counter[int]] = defaultdict(Counter)
    carried: Counter[int] = Counter()
    for c in sent:
        s = int(c.params["chat_id"]) - CHAT_BASE
        listed = [int(i) for i in _SHOWN_ITEM.findall(c.params["text"])]
        shown[s].update(listed)
        more = _MORE.search(c.params["text"])
        result.with_more += more is not None
        carried[s] += len(listed) + (int(more.group(1) or more.group(2)) if more else 0)
    result.duplicate_pairs = sum(n - 1 for per in shown.values() for n in per.values() if n > 1)
    result.count_mismatches = sum(
        1 for s in set(wanted) | set(carried) if carried[s] != len(wanted.get(s, ()))
    )

    # What the database says went out: each queued message SENT and seen by the fake,
    # and its deliveries the index's (subscriber, item) pairs exactly.
    with session_scope(url) as session:
        messages = session.execute(
            select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.body)
        ).all()
        result.final_states = dict(Counter(str(m.status.value) for m in messages))
        seen = set(texts)
        result.lost_messages = sum(
            1
            for m in messages
            if m.status != OutboundStatus.SENT or json.loads(m.body)["text"] not in seen
        )
        sent_ids = {m.id for m in messages if m.status == OutboundStatus.SENT}
        pairs = Counter(
            (sub - 1, item - 1)
            for sub, item, outbound in session.execute(
                select(
                    AlertDelivery.subscriber_id, AlertDelivery.item_id, AlertDelivery.outbound_id
                )
            )
            if outbound in sent_ids
        )
    result.duplicate_pairs += sum(n - 1 for n in pairs.values() if n > 1)
    expected = {(s, i) for s, found in wanted.items() for i in found}
    result.lost_pairs = len(expected - set(pairs))
    result.extra_pairs = len(set(pairs) - expected)
    return result


def table_rows(r: DeliveryResult) -> list[tuple[str, str]]:
    return [
        (
            "subscribers delivered to (of the population)",
            f"{r.subscribers:,} (the first {r.subscribers:,}; {r.with_alerts:,} with a match)",
        ),
        ("items, arriving in rounds", f"{r.items:,} in {r.rounds} rounds"),
        ("seed patrons with Telegram identities + subscriptions", f"{r.seed_seconds:.1f} s"),
        ("match_pending, all rounds", f"{r.match_seconds:.1f} s ({r.deliveries:,} delivery rows)"),
        ("queue_due, all rounds", f"{r.queue_seconds:.1f} s ({r.queued:,} messages)"),
        (
            "queue_due before it was made fast, same rounds (copies)",
            f"{r.before_seconds:.1f} s ({r.before_queued:,} messages)",
        ),
        (
            "per message: now / before",
            f"{r.queue_seconds / max(r.queued, 1) * 1000:.1f} ms / "
            f"{r.before_seconds / max(r.before_queued, 1) * 1000:.1f} ms "
            f"(**{r.before_seconds / max(r.queue_seconds, 1e-9):.1f}× faster**)",
        ),
        ("the same messages as before (dedupe keys)", "yes" if r.before_same else "NO"),
        (
            "rerun after clearing the matched marks",
            f"{r.rerun_deliveries} delivery rows, {r.rerun_queued} messages",
        ),
        ("delivered (accepted sendMessage)", f"{r.sent:,}"),
        ("messages listing 10 items and counting the rest", f"{r.with_more:,}"),
        ("(subscriber, item) pairs carried by the messages", f"{r.deliveries:,}"),
        (
            "final outbound states",
            ", ".join(f"{k} {v:,}" for k, v in sorted(r.final_states.items())),
        ),
        ("wall time, first to last send", f"{r.span:.1f} s"),
        ("achieved overall rate", f"{r.achieved:.2f} msg/s"),
        ("configured overall limit (the baseline)", f"{r.overall_rate:g} msg/s"),
        ("ratio achieved / limit", f"**{r.achieved / r.overall_rate:.3f}**"),
        ("peak sends in any 1 s window", f"{r.peak_1s}"),
        (
            "max per-chat rate observed (smallest gap)",
            f"{1 / r.min_chat_gap:.3f} msg/s ({r.min_chat_gap:.1f} s; limit {1 / r.chat_interval:g} msg/s)",
        ),
        ("max sends to one chat in any 1 s", f"{r.chat_peak_1s}"),
        ("duplicates: one outbound message sent twice", f"{r.duplicate_messages}"),
        ("duplicates: one subscriber + item twice", f"{r.duplicate_pairs}"),
        ("losses: queued messages never sent", f"{r.lost_messages}"),
        ("losses: matched (subscriber, item) never delivered", f"{r.lost_pairs}"),
        ("delivered (subscriber, item) the index did not match", f"{r.extra_pairs}"),
        ("subscribers whose item count differs from the index", f"{r.count_mismatches}"),
        ("finished within the timeout", "yes" if r.finished else "NO"),
    ]


def section(r: DeliveryResult) -> str:
    """The RESULTS.md part for the delivery run."""
    return f"""
## End to end: matched alerts through the outbound worker to the fake Bot API

**A subset, not all {r.population:,} subscribers:** the first {r.subscribers:,} subscribers of the
same population (their own subscriptions, unchanged), against all {r.items:,} items,
which arrive in {r.rounds} rounds (match, queue, next round), so each subscriber gets up
to {r.rounds} messages. At the configured {r.overall_rate:g} msg/s every subscriber's
messages (about {r.subscribers * r.rounds:,}) would take some {r.subscribers * r.rounds / r.overall_rate / 60:.0f} min;
all {r.population:,} would take about {r.population * r.rounds / r.overall_rate / 3600:.1f} h at that rate, which
is the Telegram limit and not something a faster machine changes. Each subscriber is a patron with a linked Telegram
identity (`conversation_for`, as a first chat message makes it), instant frequency, no
quiet hours, half in Chinese and half in English. The path is the real one:
`match_pending` writes delivery rows, `kb.alerts.dispatch.queue_due` claims them and
queues one outbound message per subscriber and round (with its unsubscribe links and
buttons), and the outbound worker (`python -m bot.outbound`, its own process, real
python-telegram-bot and AIORateLimiter; `bench/outbound/harness.py`) sends them to the
fake Bot API, which timestamps every call. SQLite. The baseline is the configured limit.

{measure_table(table_rows(r))}

- Duplicates are counted twice over: the same text accepted twice by the fake API, and
  the same (subscriber, item) either listed twice in one chat or linked to two sent
  messages in the database. Losses: a queued message not SENT or never seen by the fake,
  and a (subscriber, item) pair the in-memory index matched that no sent message
  carries. Each subscriber's shown items plus "… and N more" must add up to the index's
  count for them.
- Queueing: `queue_due` made {r.queued / r.queue_seconds:.1f} messages/s here
  ({r.queue_seconds / r.queued * 1000:.1f} ms per message of about {r.deliveries / max(r.queued, 1):.0f} items), against
  {r.before_queued / max(r.before_seconds, 1e-9):.1f} messages/s for the queueing before this change on copies of the same
  rounds (`bench/alerts/queue_before.py`, without the index the change added), which
  made the same messages: {"yes" if r.before_same else "NO"}. Before, each subscriber's deliveries
  were read, and claimed, through the `(status, due_at)` index — every pending delivery
  of everyone, so one message cost more the larger the backlog — as whole ORM rows
  with every item's JSON terms. Now a batch of subscribers is read in a few queries,
  the claim names the subscriber (index `(subscriber_id, status, due_at)`), and only
  the items a message lists are loaded. The worker starts only once everything is
  queued, so the ratio above is the sending side alone.
- The per-chat limit does not bind here: the worker rotates fairly over
  {r.with_alerts:,} chats, so a chat's second message waits behind every other chat's
  first (bench/outbound's phase two measures the per-chat pacing where it binds).
"""
