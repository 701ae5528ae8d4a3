"""The `language` entity: which language the patron wrote in."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.data import TrainingType
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.utils.io import read_yaml_file

from nlu.components.language import LanguageDetector

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("你好", "zh"),
        ("三体有没有 ebook", "zh"),
        ("isbn9787536692930有吗", "zh"),
        ("hi", "en"),
        ("is Dune on the shelf?", "en"),
        ("Ｈｅｌｌｏ", "en"),  # full-width Latin letters
        ("café ouvert?", "en"),
        ("注音ㄅㄆㄇ", "zh"),
    ],
)
def test_language_entity(make_component, text: str, language: str) -> None:
    [processed] = make_component(LanguageDetector).process([Message(data={"text": text})])
    assert processed.get("entities") == [
        {
            "entity": "language",
            "start": 0,
            "end": len(text),
            "value": language,
            "extractor": "LanguageDetector",
        }
    ]


@pytest.mark.parametrize("text", ["👍", "12345", "9787536692930", "?!", "  ", "😀😀 123"])
def test_no_language_entity_without_letters(make_component, text: str) -> None:
    """Nothing to go on: the `language` slot keeps what the patron wrote before."""
    [processed] = make_component(LanguageDetector).process([Message(data={"text": text})])
    assert processed.get("entities", []) == []


def test_existing_entities_are_kept(make_component) -> None:
    earlier = {"entity": "title", "start": 0, "end": 4, "value": "Dune", "extractor": "x"}
    [processed] = make_component(LanguageDetector).process(
        [Message(data={"text": "Dune", "entities": [earlier]})]
    )
    assert [e["entity"] for e in processed.get("entities")] == ["title", "language"]
    assert "entities" in processed.as_dict(only_output_properties=True)


def _graphs() -> tuple[set[type], set[type]]:
    """The classes the real config.yml puts in the training and prediction graphs."""
    config = read_yaml_file(REPO / "config.yml")
    graphs = DefaultV1Recipe().graph_config_for_recipe(
        config, cli_parameters={}, training_type=TrainingType.NLU
    )
    train = {node.uses for node in graphs.train_schema.nodes.values()}
    predict = {node.uses for node in graphs.predict_schema.nodes.values()}
    return train, predict


def test_language_and_identifiers_never_touch_training_annotations() -> None:
    """Training runs neither component, so DIET never learns `language`,
    `invalid_identifier` or `pmid` as annotations; parsing runs both."""
    from nlu.components.identifiers import IdentifierExtractor
    from nlu.components.tokenizer import MixedScriptTokenizer

    train, predict = _graphs()
    assert LanguageDetector not in train
    assert IdentifierExtractor not in train
    assert MixedScriptTokenizer in train
    assert {LanguageDetector, IdentifierExtractor, MixedScriptTokenizer} <= predict
