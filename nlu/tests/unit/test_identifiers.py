"""Identifiers in patron text: found, validated by check digit, normalised."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu.components.identifiers import IdentifierExtractor
from nlu.identifiers import find_identifiers, tokens


def found(text: str) -> list[tuple[str, str, str]]:
    """(entity, value, the text the entity covers) for each identifier in `text`."""
    return [(i.entity, i.value, text[i.start : i.end]) for i in find_identifiers(text)]


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("有没有isbn9787536692930", "9787536692930"),
        ("isbn9787536692930有吗", "9787536692930"),
        ("有没有978-7-5366-9293-0", "978-7-5366-9293-0"),
        ("ISBN-13: 978-7-5366-9293-0", "978-7-5366-9293-0"),
        ("ISBN-13:978-7-5366-9293-0有吗", "978-7-5366-9293-0"),
        ("isbn:9787536692930", "9787536692930"),
        ("ISBN 978 7 5366 9293 0 please", "978 7 5366 9293 0"),
        ("9787536692930", "9787536692930"),
        ("书号9787536692930的书在哪", "9787536692930"),
        # full-width digits and letters typed with a Chinese input method
        ("ＩＳＢＮ９７８７５３６６９２９３０", "９７８７５３６６９２９３０"),
        ("(ISBN 9787536692930).", "9787536692930"),
    ],
)
def test_isbn13_in_any_form_is_found_and_normalised(text: str, typed: str) -> None:
    assert found(text) == [("isbn", "9787536692930", typed)]


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("do you have 080442957X", "080442957X"),
        ("0-8044-2957-x 有吗", "0-8044-2957-x"),
        ("ISBN 0-8044-2957-X.", "0-8044-2957-X"),
    ],
)
def test_isbn10_with_check_digit_x_becomes_isbn13(text: str, typed: str) -> None:
    assert found(text) == [("isbn", "9780804429573", typed)]


def test_isbn10_without_x() -> None:
    assert found("isbn 0306406152") == [("isbn", "9780306406157", "0306406152")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("isbn9787536692931", "isbn:9787536692931"),
        ("有没有9787536692931", "isbn:9787536692931"),
        ("ISBN 0-8044-2957-2", "isbn:0-8044-2957-2"),
        ("978-7-5366-9293-1", "isbn:978-7-5366-9293-1"),
        ("ISBN 978753669293", "isbn:978753669293"),  # a digit short
    ],
)
def test_isbn_with_wrong_check_digit_is_reported_not_emitted(text: str, value: str) -> None:
    entities = found(text)
    assert [(e, v) for e, v, _ in entities] == [("invalid_identifier", value)]


@pytest.mark.parametrize(
    "text",
    [
        "call me at 0123456780",  # ten digits, not a valid ISBN-10, no "ISBN" before
        "my card number is 1234567890123",  # 13 digits without a book prefix
        "12345678",
        "借了3本书",
    ],
)
def test_numbers_that_are_not_meant_as_identifiers_are_left_alone(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "value", "typed"),
    [
        ("ISSN 2049-369X", "2049-369X", "2049-369X"),
        ("issn 2049-369x", "2049-369X", "2049-369x"),
        ("issn:2049369X", "2049-369X", "2049369X"),
        ("Nature的刊号是0028-0836", "0028-0836", "0028-0836"),
        ("0028-0836 这本期刊", "0028-0836", "0028-0836"),
    ],
)
def test_valid_issn(text: str, value: str, typed: str) -> None:
    assert found(text) == [("issn", value, typed)]


@pytest.mark.parametrize(
    ("text", "value"),
    [("ISSN 0028-0837", "issn:0028-0837"), ("期刊0028-0837", "issn:0028-0837")],
)
def test_issn_with_wrong_check_digit_is_reported(text: str, value: str) -> None:
    assert [(e, v) for e, v, _ in found(text)] == [("invalid_identifier", value)]


@pytest.mark.parametrize("text", ["1990-2020年的期刊", "1234-5678-9012", "tel 5555-12345"])
def test_year_ranges_and_longer_codes_are_not_issns(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "value", "typed"),
    [
        ("doi:10.1038/nature14539", "10.1038/nature14539", "10.1038/nature14539"),
        (
            "can you get me this article doi:10.1038/nature14539.",
            "10.1038/nature14539",
            "10.1038/nature14539",
        ),
        ("DOI: 10.1038/NATURE14539", "10.1038/nature14539", "10.1038/NATURE14539"),
        ("https://doi.org/10.1038/nature14539", "10.1038/nature14539", "10.1038/nature14539"),
        ("http://dx.doi.org/10.1000/182)", "10.1000/182", "10.1000/182"),
        ("https://doi.org/10.1000%2F182", "10.1000/182", "10.1000%2F182"),
        ("请帮我找10.1038/nature14539这篇", "10.1038/nature14539", "10.1038/nature14539"),
        ("10.1038/nature14539。", "10.1038/nature14539", "10.1038/nature14539"),
        ("doi：10.1038/nature14539，谢谢", "10.1038/nature14539", "10.1038/nature14539"),
        (
            "(see 10.1016/S0140-6736(20)30183-5)",
            "10.1016/s0140-6736(20)30183-5",
            "10.1016/S0140-6736(20)30183-5",
        ),
        (
            "https://onlinelibrary.wiley.com/doi/full/10.1002/sim.4780?af=R",
            "10.1002/sim.4780",
            "10.1002/sim.4780",
        ),
    ],
)
def test_doi_forms_and_trailing_punctuation(text: str, value: str, typed: str) -> None:
    assert found(text) == [("doi", value, typed)]


@pytest.mark.parametrize("text", ["version 10.1/abc", "10.12/x", "see 10.1038 page"])
def test_not_dois(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("status of request DD-2026-000123", "DD-2026-000123"),
        ("dd2026000123到哪一步了", "dd2026000123"),
        ("我的申请dd-2026-000123.", "dd-2026-000123"),
        ("cancel DD-2026-123", "DD-2026-123"),
    ],
)
def test_ticket_ids_are_canonical(text: str, typed: str) -> None:
    value = "DD-2026-000123"
    assert found(text) == [("ticket_id", value, typed)]


@pytest.mark.parametrize("text", ["ADD-2026-000123", "DD-2026-000123-7", "dd 2026"])
def test_not_ticket_ids(text: str) -> None:
    assert [e for e, _, _ in found(text)] == []


@pytest.mark.parametrize(
    ("text", "typed"),
    [("PMID: 12345678", "12345678"), ("pmid12345678全文", "12345678"), ("PMID 123", "123")],
)
def test_pmid(text: str, typed: str) -> None:
    assert found(text) == [("pmid", typed, typed)]


def test_several_identifiers_in_one_message() -> None:
    text = "ISBN 9787536692930、9787020002207 and doi:10.1038/nature14539, PMID:26017442"
    assert [(e, v) for e, v, _ in found(text)] == [
        ("isbn", "9787536692930"),
        ("isbn", "9787020002207"),
        ("doi", "10.1038/nature14539"),
        ("pmid", "26017442"),
    ]


def test_tokenizer_splits_digits_and_latin_off_chinese() -> None:
    assert tokens("有没有isbn9787536692930有吗") == ["有没有", "isbn", "9787536692930", "有吗"]


# --- the Rasa component --------------------------------------------------------------


def extracted(entity: str, text: str, part: str, extractor: str = "DIETClassifier") -> dict:
    """An entity as a trained extractor (DIET, CRF) reports it."""
    start = text.index(part)
    return {
        "entity": entity,
        "start": start,
        "end": start + len(part),
        "value": part,
        "extractor": extractor,
        "confidence_entity": 0.9,
    }


def run(make_component, text: str, entities: list[dict]) -> list[dict]:
    component = make_component(IdentifierExtractor)
    [processed] = component.process([Message(data={"text": text, "entities": entities})])
    return processed.get("entities")


@pytest.mark.parametrize("extractor", ["DIETClassifier", "CRFEntityExtractor"])
def test_component_replaces_the_models_isbn_with_the_validated_one(
    make_component, extractor: str
) -> None:
    text = "有没有isbn9787536692930"
    entities = run(make_component, text, [extracted("isbn", text, "isbn9787536692930", extractor)])
    assert entities == [
        {
            "entity": "isbn",
            "start": 7,
            "end": 20,
            "value": "9787536692930",
            "extractor": "IdentifierExtractor",
        }
    ]


def test_component_drops_diets_guess_when_the_check_digit_is_wrong(make_component) -> None:
    text = "isbn 9787536692931 有吗"
    entities = run(make_component, text, [extracted("isbn", text, "9787536692931")])
    assert [(e["entity"], e["value"], e["extractor"]) for e in entities] == [
        ("invalid_identifier", "isbn:9787536692931", "IdentifierExtractor")
    ]


def test_component_removes_identifier_entities_diet_invented(make_component) -> None:
    text = "我借了12345678号书"
    entities = run(
        make_component,
        text,
        [extracted("issn", text, "12345678"), extracted("ticket_id", text, "12345678")],
    )
    assert entities == []


def test_component_keeps_other_entities_and_drops_overlapping_titles(make_component) -> None:
    text = "《三体》 ISBN 9787536692930 by 刘慈欣 about sf"
    language = {
        "entity": "language",
        "start": 0,
        "end": len(text),
        "value": "zh",
        "extractor": "LanguageDetector",
    }
    entities = run(
        make_component,
        text,
        [
            language,
            extracted("title", text, "三体"),
            extracted("title", text, "ISBN 9787536692930"),
            extracted("author", text, "刘慈欣"),
            extracted("topic", text, "sf"),
        ],
    )
    assert [(e["entity"], e["value"]) for e in entities] == [
        ("language", "zh"),
        ("title", "三体"),
        ("author", "刘慈欣"),
        ("topic", "sf"),
        ("isbn", "9787536692930"),
    ]


def test_component_drop_list_is_configurable(make_component) -> None:
    text = "ISBN 9787536692930"
    component = make_component(IdentifierExtractor, {"drop_overlapping": []})
    [processed] = component.process(
        [Message(data={"text": text, "entities": [extracted("title", text, text)]})]
    )
    assert [e["entity"] for e in processed.get("entities")] == ["title", "isbn"]


def test_component_adds_entities_to_messages_without_any(make_component) -> None:
    component = make_component(IdentifierExtractor)
    [processed] = component.process([Message(data={"text": "status of DD-2026-000123"})])
    assert processed.get("entities")[0]["value"] == "DD-2026-000123"
    assert "entities" in processed.as_dict(only_output_properties=True)
