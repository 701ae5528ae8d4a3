"""Patrons' words → CLC classes (with bilingual labels) and free keywords."""

from __future__ import annotations

import pytest

from kb.alerts.text import keyword_key, terms
from kb.alerts.vocabulary import vocabulary
from kb.catalog.search.analysis import contains_cjk


@pytest.mark.parametrize(
    ("words", "codes", "keywords"),
    [
        ("有新的人工智能的书通知我", ["TP18"], []),
        ("订阅宋史和考古", ["K244", "K85"], []),
        ("机器学习有新书的话提醒我", ["TP181"], []),
        ("有东野圭吾的新书就提醒我", [], ["东野圭吾"]),
        ("人工智能、气候变化", ["TP18", "P467"], []),
        ("subscribe me to climate change alerts", ["P467"], []),
        ("machine learning and archaeology", ["TP181", "K85"], []),
        ("new books on Quantum Computing", ["O413"], []),
        ("AI ethics", ["TP18"], []),
        ("urban beekeeping", [], ["urban beekeep"]),
        ("Robots", ["TP24"], []),
    ],
)
def test_words_map_to_classes_and_keywords(
    words: str, codes: list[str], keywords: list[str]
) -> None:
    understood = vocabulary().understand(words)
    assert [t.code for t in understood.topics] == codes
    assert understood.keywords == keywords


def test_labels_are_bilingual_and_name_the_class() -> None:
    topic = vocabulary().get("TP18")
    assert topic is not None
    assert topic.label("zh") == "人工智能（TP18）"
    assert topic.label("en") == "Artificial intelligence (TP18)"
    for t in vocabulary().topics.values():
        assert contains_cjk(t.zh) and t.en.isascii() or "–" in t.en, t.code


def test_a_clc_number_falls_under_every_broader_class_in_the_vocabulary() -> None:
    v = vocabulary()
    assert v.ancestors("TP181.2") == {"T", "TP18", "TP181"}
    assert v.ancestors("I247.55") == {"I", "I2", "I247", "I247.55"}
    assert v.ancestors("K244.07; D9") == {"K", "K2", "K244", "D", "D9"}
    assert (
        v.ancestors(None) == set()
        and v.ancestors("123.4") == set()
        and v.ancestors("NOTACLASS") == set()
    )


def test_nothing_is_understood_from_filler_words() -> None:
    assert not vocabulary().understand("订阅新书通知")
    assert not vocabulary().understand("subscribe me to new arrivals please")


def test_item_terms_and_keywords_normalise_the_same_way() -> None:
    found = terms("Urban Beekeeping: a Handbook 城市养蜂手册")
    assert keyword_key("urban beekeeping") in found
    assert keyword_key("Beekeeping") in found
    assert keyword_key("养蜂") in found


def test_the_vocabulary_file_is_editable(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kb.settings import get_settings

    custom = tmp_path / "topics.yml"
    custom.write_text(
        "topics:\n  - {code: G258, zh: 公共图书馆, en: Public libraries, words: [public libraries, 公共图书馆]}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("REFDESK_ALERTS_TOPICS_FILE", str(custom))
    get_settings.cache_clear()
    assert [t.code for t in vocabulary().understand("public libraries").topics] == ["G258"]
