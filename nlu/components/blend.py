"""`BlendedIntentClassifier`: logistic regression averaged with DIET's intent ranking."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.script import language_of

INTENT = "intent"
INTENT_RANKING = "intent_ranking"


def blend(
    own: Iterable[tuple[str, float]], other: Iterable[tuple[str, float]], other_weight: float
) -> list[tuple[str, float]]:
    """(label, probability) pairs of two models averaged with `other_weight` (0..1)
    for the second, best first; a label one model did not rank counts as 0 there."""
    blended: dict[str, float] = {}
    for label, p in own:
        blended[label] = blended.get(label, 0.0) + (1 - other_weight) * float(p)
    for label, p in other:
        blended[label] = blended.get(label, 0.0) + other_weight * float(p)
    return sorted(blended.items(), key=lambda item: -item[1])


def weight_for(weights: float | Mapping[str, float], text: Any) -> float:
    """The blend weight for a message: one number, or one per language of the text
    ("zh" if it has a Chinese character, else "en")."""
    if not isinstance(weights, Mapping):
        return float(weights)
    language = (language_of(text) if isinstance(text, str) else None) or "en"
    return float(weights[language])


def regularised(classifier: LogisticRegressionClassifier) -> None:
    """Applies the component's `C` (inverse regularisation strength) to its
    scikit-learn model: Rasa leaves it at scikit-learn's default of 1."""
    classifier.clf.set_params(C=float(classifier.config["C"]))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedIntentClassifier(LogisticRegressionClassifier):
    """Rasa's LogisticRegressionClassifier, placed after DIET, whose probabilities are
    averaged with DIET's instead of replacing them.

    Without pretrained vectors both models only see the words and character n-grams
    of the training data, but they err differently: logistic regression is the better
    of the two on Chinese, DIET on English (README "Evaluation results"). The weight
    of DIET is `diet_weight` (0..1), one per language (`{zh: .., en: ..}`) or one for
    both; intents missing from DIET's ranking count as 0. `C` is the logistic
    regression's inverse regularisation strength (1 as in Rasa unless configured).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "diet_weight": 0.5, "C": 1.0}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        regularised(self)

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages:
            return messages
        probabilities = self.clf.predict_proba(self._create_X(messages))
        for message, own in zip(messages, probabilities, strict=True):
            diet_ranking = message.get(INTENT_RANKING) or []
            # Without DIET's ranking (never in a complete pipeline) use this model alone.
            weight = weight_for(self.config["diet_weight"], message.get(TEXT))
            blended = blend(
                zip(self.clf.classes_, own, strict=True),
                ((entry["name"], entry["confidence"]) for entry in diet_ranking),
                weight if diet_ranking else 0.0,
            )
            ranking = [
                {"name": name, "confidence": p}
                for name, p in blended[: max(self.config["ranking_length"], 1)]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # The parent would overwrite each training example's intent label with its
        # own prediction, which later components (ResponseSelector) train on.
        return training_data
