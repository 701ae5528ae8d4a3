"""`BlendedAnswerSelector`: logistic regression averaged with the ResponseSelector's
choice of FAQ answer (`faq/<key>`)."""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.blend import blend, regularised, weight_for

RESPONSE_SELECTOR = "response_selector"
RESPONSES_FILE = "responses.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedAnswerSelector(LogisticRegressionClassifier):
    """Placed after the ResponseSelector of `retrieval_intent`: a logistic regression
    over the same sparse features, trained on that intent's examples with their
    `faq/<key>` labels, whose probabilities are averaged with the selector's ranking
    (weight of the selector: `selector_weight`, one per language or one for both).

    The ResponseSelector is DIET's architecture over sparse features only; like the
    intent blend (`BlendedIntentClassifier`), the linear model errs differently and
    the average picks the right answer more often (README "Evaluation results").
    The selector's output keeps its shape, so `action_answer_faq` reads it unchanged.
    `C`: the logistic regression's inverse regularisation strength, as in
    `BlendedIntentClassifier`.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "retrieval_intent": "faq",
            "selector_weight": 0.5,
            "C": 1.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        regularised(self)
        # Domain responses per answer ("utter_faq/wifi" -> [...]), as the selector
        # reports them for the answer it picked.
        self.responses: dict[str, list[dict[str, Any]]] = {}

    def train(self, training_data: TrainingData) -> Resource:
        examples = [
            e
            for e in training_data.intent_examples
            if e.get(INTENT) == self.config["retrieval_intent"]
            and e.get(INTENT_RESPONSE_KEY)
            and e.get(TEXT)
        ]
        if not examples:
            return self._resource
        prefix = f"utter_{self.config['retrieval_intent']}/"
        self.responses = {
            key: value for key, value in training_data.responses.items() if key.startswith(prefix)
        }
        self.clf.fit(self._create_X(examples), [e.get(INTENT_RESPONSE_KEY) for e in examples])
        self.persist()
        return self._resource

    def persist(self) -> None:
        super().persist()
        with self._model_storage.write_to(self._resource) as directory:
            (directory / RESPONSES_FILE).write_text(
                json.dumps(self.responses, ensure_ascii=False), "utf-8"
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BlendedAnswerSelector:
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        try:
            with model_storage.read_from(resource) as directory:
                component.responses = json.loads((directory / RESPONSES_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):  # nothing was trained
            component.responses = {}
        return component

    def process(self, messages: list[Message]) -> list[Message]:
        intent = self.config["retrieval_intent"]
        chosen = [m for m in messages if (m.get(RESPONSE_SELECTOR) or {}).get(intent) is not None]
        if not chosen or not hasattr(self.clf, "classes_"):
            return messages
        probabilities = self.clf.predict_proba(self._create_X(chosen))
        for message, own in zip(chosen, probabilities, strict=True):
            selectors = message.get(RESPONSE_SELECTOR)
            selector_ranking = selectors[intent].get("ranking") or []
            ids = {e[INTENT_RESPONSE_KEY]: e.get("id") for e in selector_ranking}
            blended = blend(
                zip(self.clf.classes_, own, strict=True),
                ((e[INTENT_RESPONSE_KEY], e["confidence"]) for e in selector_ranking),
                weight_for(self.config["selector_weight"], message.get(TEXT)),
            )
            best, confidence = blended[0]
            utter_action = f"utter_{best}"
            selectors[intent] = {
                "response": {
                    "responses": self.responses.get(utter_action) or [{TEXT: best}],
                    "confidence": confidence,
                    INTENT_RESPONSE_KEY: best,
                    "utter_action": utter_action,
                },
                "ranking": [
                    {"id": ids.get(key), "confidence": p, INTENT_RESPONSE_KEY: key}
                    for key, p in blended[: max(self.config["ranking_length"], 1)]
                ],
            }
            message.set(RESPONSE_SELECTOR, selectors, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # The parent would overwrite each training example's intent with an answer key.
        return training_data
