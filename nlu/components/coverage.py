"""`VocabularyCoverage`: no confident intent for words the model never saw.

A classifier always picks some intent, often confidently, even for keyboard
mashing ("qwzx plmk vbnq" came out as `thank` at 0.69). When almost none of a
message's words occurred in the training data the model has no evidence, so
this component caps the intent confidence below the FallbackClassifier
threshold and the bot asks the patron to rephrase instead of guessing.

It runs after the intent classifier and before the FallbackClassifier.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

VOCABULARY_FILE = "vocabulary.json"


def word_key(token_text: str) -> str | None:
    """The form a token is compared in; None for tokens that carry no word (digits,
    punctuation, emoji), which neither count for nor against coverage."""
    folded = unicodedata.normalize("NFKC", token_text).lower()
    if not any(ch.isalpha() for ch in folded):
        return None
    return folded


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class VocabularyCoverage(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Below this share of known words the model is considered to be guessing.
            "min_known_ratio": 0.25,
            # The confidence a guess is capped to (below the FallbackClassifier threshold).
            "capped_confidence": 0.2,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: set[str] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VocabularyCoverage:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> VocabularyCoverage:
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((directory / VOCABULARY_FILE).read_text("utf-8"))
        except ValueError:  # no resource persisted: nothing was trained
            words = []
        return cls(config, model_storage, resource, set(words))

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary: set[str] = set()
        for example in training_data.intent_examples:
            for token in example.get(TOKENS_NAMES[TEXT]) or []:
                key = word_key(token.text)
                if key:
                    vocabulary.add(key)
        self.vocabulary = vocabulary
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(sorted(vocabulary), ensure_ascii=False), "utf-8"
            )
        return self._resource

    def known_ratio(self, message: Message) -> float | None:
        """Share of the message's words seen in training; None if it has no words."""
        keys = [word_key(t.text) for t in message.get(TOKENS_NAMES[TEXT]) or []]
        words = [k for k in keys if k]
        if not words:
            return None
        return sum(1 for w in words if w in self.vocabulary) / len(words)

    def process(self, messages: list[Message]) -> list[Message]:
        cap = float(self._config["capped_confidence"])
        for message in messages:
            intent = message.get(INTENT)
            ratio = self.known_ratio(message)
            if not intent or ratio is None or ratio >= self._config["min_known_ratio"]:
                continue
            if intent.get(PREDICTED_CONFIDENCE_KEY, 0.0) > cap:
                intent[PREDICTED_CONFIDENCE_KEY] = cap
                ranking = message.get(INTENT_RANKING_KEY) or []
                for entry in ranking:
                    entry[PREDICTED_CONFIDENCE_KEY] = min(entry[PREDICTED_CONFIDENCE_KEY], cap)
                message.set(INTENT, intent, add_to_output=True)
        return messages
