"""The blends of logistic regression with DIET (intents) and with the ResponseSelector
(FAQ answers): per-language weights, and the selector's output kept in shape."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.answer_blend import BlendedAnswerSelector
from nlu.components.blend import BlendedIntentClassifier, blend, weight_for
from nlu.components.tokenizer import MixedScriptTokenizer

FAQ = [
    ("图书馆几点开门", "faq/opening_hours"),
    ("周末开放时间", "faq/opening_hours"),
    ("what time do you open", "faq/opening_hours"),
    ("opening hours on sunday", "faq/opening_hours"),
    ("无线网络怎么连", "faq/wifi"),
    ("wifi密码是多少", "faq/wifi"),
    ("how do i get on the wifi", "faq/wifi"),
    ("wireless password please", "faq/wifi"),
]
INTENTS = [
    ("谢谢你", "thank"),
    ("多谢", "thank"),
    ("thanks a lot", "thank"),
    ("thank you so much", "thank"),
    ("你好", "greet"),
    ("您好啊", "greet"),
    ("hello there", "greet"),
    ("hi hi", "greet"),
]
RESPONSES = {
    "utter_faq/opening_hours": [{"text": "开放时间 / Opening hours"}],
    "utter_faq/wifi": [{"text": "无线网络 / Wi-Fi"}],
}


def test_blend_averages_with_the_weight_of_the_second_model() -> None:
    assert blend([("a", 0.8), ("b", 0.2)], [("b", 1.0)], 0.5) == [("b", 0.6), ("a", 0.4)]
    assert blend([("a", 0.8), ("b", 0.2)], [("b", 1.0)], 0.0)[0] == ("a", 0.8)


def test_weight_follows_the_language_of_the_text() -> None:
    weights = {"zh": 0.2, "en": 0.7}
    assert weight_for(weights, "三体有没有 ebook") == 0.2
    assert weight_for(weights, "is Dune on the shelf") == 0.7
    assert weight_for(weights, "👍") == 0.7  # no letters: counted as English
    assert weight_for(0.4, "你好") == 0.4


@pytest.fixture
def featurize(make_component):
    tokenizer = make_component(MixedScriptTokenizer, name="tok")
    featurizer = make_component(CountVectorsFeaturizer, {"analyzer": "char_wb"}, name="cv")

    def train(examples: list[tuple[str, str]]) -> TrainingData:
        messages = []
        for text, label in examples:
            intent, _, key = label.partition("/")
            data = {"text": text, "intent": intent}
            if key:
                data["intent_response_key"] = label
            messages.append(Message(data=data))
        training_data = TrainingData(training_examples=messages, responses=RESPONSES)
        tokenizer.process_training_data(training_data)
        featurizer.train(training_data)
        featurizer.process_training_data(training_data)
        return training_data

    def message(text: str) -> Message:
        message = Message(data={"text": text})
        tokenizer.process([message])
        featurizer.process([message])
        return message

    return train, message


def test_intent_blend_weighs_diet_by_language(make_component, featurize) -> None:
    train, message = featurize
    classifier = make_component(
        BlendedIntentClassifier, {"diet_weight": {"zh": 1.0, "en": 0.0}}, name="blend"
    )
    classifier.train(train(INTENTS))
    # DIET's (made-up) ranking says greet for both; it decides only for Chinese.
    diet = [{"name": "greet", "confidence": 0.9}, {"name": "thank", "confidence": 0.1}]
    zh, en = message("谢谢你"), message("thanks a lot")
    for m in (zh, en):
        m.set("intent_ranking", [dict(entry) for entry in diet])
    classifier.process([zh, en])
    assert zh.get("intent")["name"] == "greet"
    assert en.get("intent")["name"] == "thank"


def test_weaker_regularisation_fits_the_training_examples_more_closely(
    make_component, featurize
) -> None:
    train, message = featurize
    data = train(INTENTS)
    confidences = {}
    for c in (0.01, 100.0):
        classifier = make_component(
            BlendedIntentClassifier, {"C": c, "diet_weight": 0.0}, name=f"blend-{c}"
        )
        classifier.train(data)
        thanks = message("thanks a lot")
        classifier.process([thanks])
        assert thanks.get("intent")["name"] == "thank"
        confidences[c] = thanks.get("intent")["confidence"]
    # Nearly uniform under heavy regularisation, nearly certain under light.
    assert confidences[0.01] < 0.6 < 0.9 < confidences[100.0]


def _selector_output(key: str, confidence: float) -> dict:
    other = "faq/wifi" if key == "faq/opening_hours" else "faq/opening_hours"
    return {
        "faq": {
            "response": {"intent_response_key": key, "confidence": confidence},
            "ranking": [
                {"id": 1, "confidence": confidence, "intent_response_key": key},
                {"id": 2, "confidence": 1 - confidence, "intent_response_key": other},
            ],
        }
    }


def test_answer_blend_corrects_an_unsure_selector(make_component, featurize) -> None:
    train, message = featurize
    selector = make_component(BlendedAnswerSelector, {"selector_weight": 0.5}, name="answers")
    selector.train(train(FAQ + INTENTS))
    asked = message("wifi password?")
    asked.set("response_selector", _selector_output("faq/opening_hours", 0.55))
    selector.process([asked])
    answer = asked.get("response_selector")["faq"]["response"]
    assert answer["intent_response_key"] == "faq/wifi"
    assert answer["utter_action"] == "utter_faq/wifi"
    assert answer["responses"] == RESPONSES["utter_faq/wifi"]
    ranking = asked.get("response_selector")["faq"]["ranking"]
    assert [r["intent_response_key"] for r in ranking] == ["faq/wifi", "faq/opening_hours"]
    assert ranking[0]["id"] == 2


def test_answer_blend_leaves_messages_without_a_selector_answer(make_component, featurize) -> None:
    train, message = featurize
    selector = make_component(BlendedAnswerSelector, name="answers")
    selector.train(train(FAQ))
    greeting = message("hello")
    selector.process([greeting])
    assert greeting.get("response_selector") is None


def test_answer_blend_survives_persist_and_load(tmp_path, make_component, featurize) -> None:
    train, message = featurize
    selector = make_component(BlendedAnswerSelector, {"selector_weight": 0.0}, name="answers")
    selector.train(train(FAQ))
    loaded = BlendedAnswerSelector.load(
        {**BlendedAnswerSelector.get_default_config(), "selector_weight": 0.0},
        LocalModelStorage(tmp_path / "storage"),
        Resource("answers"),
        ExecutionContext(GraphSchema({}), "test-model"),
    )
    asked = message("几点开门")
    asked.set("response_selector", _selector_output("faq/wifi", 0.9))
    loaded.process([asked])
    answer = asked.get("response_selector")["faq"]["response"]
    assert answer["intent_response_key"] == "faq/opening_hours"
    assert answer["responses"] == RESPONSES["utter_faq/opening_hours"]
