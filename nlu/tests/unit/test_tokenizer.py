"""MixedScriptTokenizer: Jieba segmentation without blank tokens, exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message

from nlu.components.tokenizer import MixedScriptTokenizer


def tokenize(make_component, text: str, config: dict | None = None) -> list:
    tokenizer = make_component(MixedScriptTokenizer, config)
    return tokenizer.tokenize(Message(data={"text": text}), "text")


@pytest.mark.parametrize(
    "text",
    [
        "三体有没有 ebook",
        "I want  Deep   Learning by Goodfellow",
        "请问\t图书馆 几点 开门 ？",
        "hello\n世界",
        "有没有isbn 9787536692930 的书",
        "三体\u200b有没有\u3000电子书",
    ],
)
def test_no_blank_tokens_and_offsets_point_into_the_text(make_component, text: str) -> None:
    tokens = tokenize(make_component, text)
    assert tokens
    for token in tokens:
        assert token.text.strip(), f"blank token {token!r}"
        assert "\u200b" not in token.text
        assert text[token.start : token.end] == token.text
    starts = [token.start for token in tokens]
    assert starts == sorted(starts)


def test_mixed_text_segments_as_expected(make_component) -> None:
    tokens = tokenize(make_component, "三体有没有 ebook")
    assert [(t.text, t.start, t.end) for t in tokens] == [
        ("三体", 0, 2),
        ("有没有", 2, 5),
        ("ebook", 6, 11),
    ]


def test_latin_letters_glued_to_digits_are_split(make_component) -> None:
    tokens = tokenize(make_component, "有没有isbn9787536692930 或 ISBN978-7-5447-6650-0")
    texts = [t.text for t in tokens]
    assert texts[:3] == ["有没有", "isbn", "9787536692930"]
    assert "ISBN" in texts
    assert "978" in texts


def test_jieba_tokenizer_has_the_blank_token_this_one_drops(make_component) -> None:
    jieba_tokens = make_component(JiebaTokenizer).tokenize(
        Message(data={"text": "三体有没有 ebook"}), "text"
    )
    assert " " in [t.text for t in jieba_tokens]


def test_full_width_latin_is_one_token_with_an_ascii_lemma(make_component) -> None:
    tokens = tokenize(make_component, "三体有没有ＥＢＯＯＫ")
    assert [(t.text, t.lemma) for t in tokens][-1] == ("ＥＢＯＯＫ", "ebook")


def test_latin_text_keeps_its_case_and_lemma_is_lowercase(make_component) -> None:
    [token] = tokenize(make_component, "Dune")
    assert (token.text, token.lemma) == ("Dune", "dune")


def test_whitespace_only_text_still_has_one_token(make_component) -> None:
    # Featurizers need at least one token, as with Rasa's WhitespaceTokenizer.
    assert len(tokenize(make_component, "   ")) == 1


def test_entity_annotations_align_with_whole_tokens(make_component) -> None:
    data = RasaYAMLReader().reads(
        "nlu:\n"
        "- intent: search_catalog\n"
        "  examples: |\n"
        "    - 三体有没有 [Deep Learning](title) 这本书\n"
        "    - 有没有 [刘慈欣](author) 的 [科幻](topic) 小说\n"
        "    - isbn[9787536692930](isbn)有吗\n"
        "    - 你们有Lancet吗 issn[0140-6736](issn)\n"
    )
    tokenizer = make_component(MixedScriptTokenizer)
    tokenizer.process_training_data(data)
    for example in data.training_examples:
        tokens = example.get("text_tokens")
        for entity in example.get("entities"):
            start, end = EntityExtractorMixin.find_entity(entity, example.get("text"), tokens)
            covered = tokens[start:end]
            assert "".join(t.text for t in covered).replace(" ", "") == entity["value"].replace(
                " ", ""
            )
            assert all(t.text.strip() for t in covered)


def test_custom_dictionary_from_config(make_component, tmp_path: Path) -> None:
    dictionary = tmp_path / "dictionary"
    dictionary.mkdir()
    (dictionary / "library.txt").write_text("馆际互借服务台 1000 n\n", encoding="utf-8")
    tokens = tokenize(make_component, "馆际互借服务台在哪", {"dictionary_path": str(dictionary)})
    assert tokens[0].text == "馆际互借服务台"


def test_token_pattern_from_config(make_component) -> None:
    tokens = tokenize(make_component, "有没有ebook", {"token_pattern": r"e(?=book)|book"})
    assert [(t.text, t.start, t.end) for t in tokens] == [
        ("有没有", 0, 3),
        ("e", 3, 4),
        ("book", 4, 8),
    ]


STEMMED = {"stem_english": True}


def test_english_word_forms_share_one_stemmed_lemma(make_component) -> None:
    tokens = tokenize(make_component, "renewing renewed Renews RENEW", STEMMED)
    assert {t.lemma for t in tokens} == {"renew"}
    # The token text (what entities are cut from) stays as typed.
    assert [t.text for t in tokens] == ["renewing", "renewed", "Renews", "RENEW"]


def test_chinese_and_mixed_tokens_are_not_stemmed(make_component) -> None:
    tokens = tokenize(make_component, "续借books 三体", STEMMED)
    assert [(t.text, t.lemma) for t in tokens] == [
        ("续借", "续借"),
        ("books", "book"),
        ("三体", "三体"),
    ]


def test_no_stemming_unless_configured(make_component) -> None:
    # A model trained without stems must keep getting the lemmas it was trained on.
    assert tokenize(make_component, "renewing")[0].lemma == "renewing"
    assert tokenize(make_component, "renewing", {"stem_english": False})[0].lemma == "renewing"
