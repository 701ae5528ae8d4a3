"""`BlendedIntentClassifier`: logistic regression averaged with DIET's intent ranking."""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

INTENT = "intent"
INTENT_RANKING = "intent_ranking"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedIntentClassifier(LogisticRegressionClassifier):
    """Rasa's LogisticRegressionClassifier, placed after DIET, whose probabilities are
    averaged with DIET's instead of replacing them.

    Without pretrained vectors both models only see the words and character n-grams
    of the training data, but they err differently: logistic regression is the better
    of the two on Chinese, DIET on English (README "Evaluation results"). The blend
    weight is `diet_weight` (0..1); intents missing from DIET's ranking count as 0.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "diet_weight": 0.5}

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages:
            return messages
        probabilities = self.clf.predict_proba(self._create_X(messages))
        for message, own in zip(messages, probabilities, strict=True):
            diet_ranking = message.get(INTENT_RANKING) or []
            # Without DIET's ranking (never in a complete pipeline) use this model alone.
            weight = self.config["diet_weight"] if diet_ranking else 0.0
            blended = {
                name: (1 - weight) * p for name, p in zip(self.clf.classes_, own, strict=True)
            }
            for entry in diet_ranking:
                name, confidence = entry["name"], entry["confidence"]
                blended[name] = blended.get(name, 0.0) + weight * confidence
            ranking = sorted(
                ({"name": name, "confidence": float(p)} for name, p in blended.items()),
                key=lambda entry: -entry["confidence"],
            )[: max(self.config["ranking_length"], 1)]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # The parent would overwrite each training example's intent label with its
        # own prediction, which later components (ResponseSelector) train on.
        return training_data
