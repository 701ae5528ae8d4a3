"""`IdentifierExtractor`: check-digit-validated identifiers replace the guesses of
the trained entity extractors."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlu.identifiers import IDENTIFIER_ENTITIES, Identifier, find_identifiers


# Not trainable: runs only when parsing messages, never on training data.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class IdentifierExtractor(GraphComponent, EntityExtractorMixin):
    """Finds ISBNs, ISSNs, DOIs, ticket ids and PMIDs (see `nlu.identifiers`).

    It is the only source of the entities isbn, issn, doi, ticket_id, pmid and
    invalid_identifier: those from other extractors (DIET or CRF tag any digit
    string) are removed, and so are entities of the types in `drop_overlapping`
    (title, author, topic) that overlap an identifier with its prefix.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"drop_overlapping": ["title", "author", "topic"]}

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy", "stdnum"]

    def __init__(self, config: dict[str, Any]) -> None:
        self._drop_overlapping = frozenset(config["drop_overlapping"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IdentifierExtractor:
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            found = find_identifiers(text)
            kept = [e for e in message.get(ENTITIES, []) if self._keeps(e, found)]
            added = [self._entity(identifier) for identifier in found]
            message.set(ENTITIES, kept + added, add_to_output=True)
        return messages

    def _keeps(self, entity: dict[str, Any], found: list[Identifier]) -> bool:
        kind = entity.get(ENTITY_ATTRIBUTE_TYPE)
        if kind in IDENTIFIER_ENTITIES:
            return False
        if kind not in self._drop_overlapping:
            return True
        start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
        if start is None or end is None:
            return True
        return not any(start < i.span_end and i.span_start < end for i in found)

    def _entity(self, identifier: Identifier) -> dict[str, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: identifier.entity,
            ENTITY_ATTRIBUTE_START: identifier.start,
            ENTITY_ATTRIBUTE_END: identifier.end,
            ENTITY_ATTRIBUTE_VALUE: identifier.value,
            EXTRACTOR: self.name,
        }
