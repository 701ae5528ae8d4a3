"""Matching new catalog records to subscribers: by class (and broader class), by free
keyword; exactly once however often it runs; the inverted index agrees with the naive
nested loop."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kb.alerts.items import collect_and_match, collect_catalog, item_count
from kb.alerts.matching import TopicIndex, build_index, match_pending
from kb.alerts.models import AlertDelivery, AlertItem, ItemKind, TopicKind
from kb.alerts.text import keyword_parts
from kb.catalog.imports.report import ReadResult
from kb.catalog.imports.runner import run_import
from kb.catalog.models import Record
from kb.db import utcnow
from tests.kb.alerts.conftest import bib, import_records, subscribe


def deliveries(session: Session, subscriber_id: int) -> list[AlertDelivery]:
    return list(
        session.scalars(select(AlertDelivery).where(AlertDelivery.subscriber_id == subscriber_id))
    )


def test_an_import_matches_subscribers_by_class_broader_class_and_keyword(
    session: Session, libraries: None
) -> None:
    ai = subscribe(session, "人工智能")
    tech = subscribe(session, "engineering", language="en")
    bees = subscribe(session, "urban beekeeping", language="en")
    history = subscribe(session, "宋史")
    import_records(
        session,
        [
            bib("r1", "深度学习入门", clc="TP181", subjects=["机器学习"]),
            bib("r2", "Urban Beekeeping: A Practical Guide", clc="S89"),
        ],
    )
    assert [d.topic for d in deliveries(session, ai.id)] == ["TP18"]
    assert [d.topic for d in deliveries(session, tech.id)] == ["T"]
    assert [d.topic for d in deliveries(session, bees.id)] == ["urban beekeep"]
    assert deliveries(session, history.id) == []


def test_rerunning_collection_and_matching_adds_nothing(session: Session, libraries: None) -> None:
    ai = subscribe(session, "machine learning", language="en")
    import_records(session, [bib("r1", "Pattern Recognition and Machine Learning", clc="TP181")])
    assert len(deliveries(session, ai.id)) == 1
    # A crashed run left items unmarked: the rerun matches them again, adding nothing.
    session.execute(update(AlertItem).values(matched_at=None))
    session.commit()
    assert collect_catalog(session) == 0
    assert match_pending(session) == 0
    assert len(deliveries(session, ai.id)) == 1
    # Re-importing the same record (unchanged, then changed) announces nothing new.
    import_records(session, [bib("r1", "Pattern Recognition and Machine Learning", clc="TP181")])
    import_records(
        session, [bib("r1", "Pattern Recognition and Machine Learning (2nd ed.)", clc="TP181")]
    )
    assert len(deliveries(session, ai.id)) == 1


def test_new_copies_in_another_library_are_news_the_old_ones_are_not(
    session: Session, libraries: None
) -> None:
    import_records(session, [bib("r1", "人工智能简史", clc="TP18-09")])
    session.execute(update(Record).values(created_at=utcnow() - timedelta(days=30)))
    session.commit()
    ai = subscribe(session, "人工智能")
    record = bib("r1", "人工智能简史", clc="TP18-09")
    record.items.append(type(record.items[0])(library_code="BNU"))
    import_records(session, [record])
    items = session.scalars(select(AlertItem).where(AlertItem.kind == ItemKind.HOLDING)).all()
    assert [(i.library_code, i.source_key.split(":")[0]) for i in items] == [("BNU", "holding")]
    assert [d.item_id for d in deliveries(session, ai.id)] == [items[0].id]


def test_an_import_leaves_tagging_to_the_worker_and_a_crash_loses_nothing(
    session: Session, libraries: None
) -> None:
    ai = subscribe(session, "人工智能")

    def killed_after_five() -> Iterator[ReadResult]:
        for n in range(5):
            record = bib(f"r{n}", f"人工智能第{n}讲", clc="TP18")
            yield ReadResult(position=str(n), offset=n, record=record)
        raise RuntimeError("the importer died")

    with pytest.raises(RuntimeError):
        run_import(session, killed_after_five(), source="test", batch_size=2)
    session.rollback()
    # The import itself tagged nothing; its two committed batches are past the cursor.
    assert item_count(session) == 0
    assert collect_and_match(session) == (4, 4)
    assert {i.source_key for i in session.scalars(select(AlertItem))} == {
        f"record:{r}" for r in session.scalars(select(Record.id))
    }
    assert len(deliveries(session, ai.id)) == 4
    assert collect_and_match(session) == (0, 0)


def test_items_not_yet_published_wait(session: Session, libraries: None) -> None:
    ai = subscribe(session, "人工智能")
    import_records(session, [bib("r1", "人工智能", clc="TP18")])
    session.execute(
        update(AlertItem).values(matched_at=None, publish_at=utcnow() + timedelta(hours=1))
    )
    session.execute(AlertDelivery.__table__.delete())
    session.commit()
    assert match_pending(session) == 0
    assert match_pending(session, now=utcnow() + timedelta(hours=2)) == 1
    assert len(deliveries(session, ai.id)) == 1


def naive(subscriptions: list[tuple[int, str, str]], topics: set[str], words: set[str]) -> set[int]:
    hits = set()
    for subscriber, kind, value in subscriptions:
        if kind == TopicKind.CLASS and value in topics:
            hits.add(subscriber)
        if kind == TopicKind.KEYWORD and all(p in words for p in keyword_parts(value)):
            hits.add(subscriber)
    return hits


def test_the_inverted_index_finds_exactly_what_the_nested_loop_finds() -> None:
    rng = random.Random(7)
    codes = ["T", "TP18", "TP181", "K", "K85", "I", "I247", "P467", "G4"]
    keywords = ["考研", "urban beekeep", "python", "climat chang", "三体"]
    subscriptions = []
    index = TopicIndex()
    for subscriber in range(2000):
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.7:
                kind, value = TopicKind.CLASS, rng.choice(codes)
            else:
                kind, value = TopicKind.KEYWORD, rng.choice(keywords)
            subscriptions.append((subscriber, kind, value))
            index.add(subscriber, kind, value)
    vocab_words = [
        "urban",
        "beekeep",
        "urban beekeep",
        "python",
        "climat",
        "climat chang",
        "考研",
        "三体",
        "数学",
    ]
    for _ in range(300):
        topics = set(rng.sample(codes, rng.randint(0, 3)))
        words = set(rng.sample(vocab_words, rng.randint(0, 4)))
        assert set(index.match(topics, words)) == naive(subscriptions, topics, words)


def test_the_index_is_built_from_active_subscribers_only(session: Session) -> None:
    a = subscribe(session, "人工智能")
    b = subscribe(session, "人工智能")
    b.active = False
    session.commit()
    index = build_index(session)
    assert index.classes["TP18"] == [a.id]
    assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 0


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>图书馆新闻</title>
  <id>urn:lib:news</id>
  <updated>2026-11-20T08:00:00Z</updated>
  <entry>
    <title>讲座：人工智能与数字人文</title>
    <id>urn:lib:news:1</id>
    <link href="https://lib.example.org/news/1"/>
    <updated>2026-11-20T08:00:00Z</updated>
    <summary>&lt;p&gt;周五下午，总馆报告厅。&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>Exhibition: Song dynasty ceramics</title>
    <id>urn:lib:news:2</id>
    <link href="https://lib.example.org/news/2"/>
    <updated>2026-11-19T08:00:00Z</updated>
    <category term="Archaeology"/>
  </entry>
</feed>"""


def test_feed_entries_become_tagged_items_once(session: Session) -> None:
    from kb.alerts.feeds import read_feed

    ai = subscribe(session, "人工智能")
    digs = subscribe(session, "archaeology", language="en")
    assert (
        read_feed(session, "https://lib.example.org/news.atom", content=ATOM.encode()).new_items
        == 2
    )
    again = read_feed(session, "https://lib.example.org/news.atom", content=ATOM.encode())
    assert again.new_items == 0
    news = {
        i.title: i
        for i in session.scalars(select(AlertItem).where(AlertItem.kind == ItemKind.NEWS))
    }
    assert news["讲座：人工智能与数字人文"].summary == "周五下午，总馆报告厅。"
    assert "K85" in news["Exhibition: Song dynasty ceramics"].topics
    match_pending(session)
    assert [d.topic for d in deliveries(session, ai.id)] == ["TP18"]
    assert [d.topic for d in deliveries(session, digs.id)] == ["K85"]
