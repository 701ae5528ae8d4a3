"""Shared helpers for the engine-env unit tests of the custom NLU components."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

# Import the engine's dependency trees once, quietly: their import-time deprecation
# notices (pkg_resources, click, TensorFlow, pyparsing, jieba) say nothing about our
# code.
with warnings.catch_warnings():
    # Rasa's imports install filters of their own, so drop the notices themselves.
    warnings.showwarning = lambda *args, **kwargs: None
    import jieba  # noqa: F401
    import rasa.core.agent  # noqa: F401
    import spacy  # noqa: F401
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource


@pytest.fixture
def make_component(tmp_path: Path):
    """Create a component the way the Rasa graph does (`create` with real storage)."""

    def make(component_class: type, config: dict[str, Any] | None = None, name: str = "c"):
        full_config = {**component_class.get_default_config(), **(config or {})}
        (tmp_path / "storage").mkdir(exist_ok=True)
        return component_class.create(
            full_config,
            LocalModelStorage(tmp_path / "storage"),
            Resource(name),
            ExecutionContext(GraphSchema({}), "test-model"),
        )

    return make
