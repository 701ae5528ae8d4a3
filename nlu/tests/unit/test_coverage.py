"""VocabularyCoverage: a message of words the model never saw gets no confident intent."""

from __future__ import annotations

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.coverage import VocabularyCoverage
from nlu.components.tokenizer import MixedScriptTokenizer


def _message(tokenizer, text: str, intent: str = "thank", confidence: float = 0.69) -> Message:
    message = Message(data={"text": text})
    tokenizer.process([message])
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set(
        "intent_ranking",
        [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.2}],
    )
    return message


def _trained(make_component) -> tuple[VocabularyCoverage, MixedScriptTokenizer]:
    tokenizer = make_component(MixedScriptTokenizer, name="tok")
    examples = [
        Message(data={"text": text, "intent": intent})
        for text, intent in [
            ("thanks a lot", "thank"),
            ("do you have dune by frank herbert", "search_catalog"),
            ("图书馆几点开门", "faq"),
            ("谢谢你", "thank"),
        ]
    ]
    data = TrainingData(training_examples=examples)
    tokenizer.process_training_data(data)
    coverage = make_component(VocabularyCoverage, name="cov")
    coverage.train(data)
    return coverage, tokenizer


def test_keyboard_mashing_gets_its_confidence_capped(make_component) -> None:
    coverage, tokenizer = _trained(make_component)
    message = coverage.process([_message(tokenizer, "qwzx plmk vbnq")])[0]
    assert message.get("intent")["confidence"] == 0.2
    assert all(r["confidence"] <= 0.2 for r in message.get("intent_ranking"))


def test_known_words_keep_the_models_confidence(make_component) -> None:
    coverage, tokenizer = _trained(make_component)
    for text in ("thanks!!", "Do you have Dune", "图书馆几点关门", "谢谢 qwzx"):
        message = coverage.process([_message(tokenizer, text, confidence=0.9)])[0]
        assert message.get("intent")["confidence"] == 0.9, text


def test_messages_without_words_are_left_alone(make_component) -> None:
    coverage, tokenizer = _trained(make_component)
    for text in ("9787536692930", "👍🙂", "???"):
        message = coverage.process([_message(tokenizer, text, confidence=0.8)])[0]
        assert message.get("intent")["confidence"] == 0.8, text


def test_the_vocabulary_survives_persisting_and_loading(make_component, tmp_path) -> None:
    coverage, tokenizer = _trained(make_component)
    loaded = VocabularyCoverage.load(
        VocabularyCoverage.get_default_config(),
        coverage._model_storage,
        Resource("cov"),
        ExecutionContext(GraphSchema({}), "m"),
    )
    assert loaded.vocabulary == coverage.vocabulary and "herbert" in loaded.vocabulary
