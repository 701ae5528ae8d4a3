"""Intent evaluation metrics for the NLU model (pure: stdlib only).

A label is an intent name, except for retrieval intents: an example of
`faq/opening_hours` has that label, and a prediction of intent `faq` whose
response selector chose `faq/opening_hours` is labelled the same, so it counts
as correct only if both the intent and the selected answer are right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nlu.script import has_cjk

TOP_CONFUSIONS = 20


@dataclass(frozen=True)
class Prediction:
    text: str
    expected: str  # an intent, or "<retrieval intent>/<key>"
    predicted: str  # see predicted_label()


def predicted_label(intent: str | None, response_key: str | None) -> str:
    """The label of a prediction: the selector's full key when it answered the
    predicted retrieval intent ("faq/wifi"), else the intent name."""
    if intent and response_key and response_key.split("/", 1)[0] == intent:
        return response_key
    return intent or ""


def text_language(text: str) -> str:
    return "zh" if has_cjk(text) else "en"


def evaluate(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Accuracy overall and per language, per-label precision/recall/F1, and the
    most frequent confusions."""
    if not predictions:
        raise ValueError("no predictions to evaluate")

    by_language: dict[str, list[bool]] = {}
    for p in predictions:
        by_language.setdefault(text_language(p.text), []).append(p.expected == p.predicted)

    expected = Counter(p.expected for p in predictions)
    predicted = Counter(p.predicted for p in predictions)
    correct = Counter(p.expected for p in predictions if p.expected == p.predicted)
    confusions = Counter(
        (p.expected, p.predicted) for p in predictions if p.expected != p.predicted
    )

    return {
        "examples": len(predictions),
        "accuracy": _ratio(sum(correct.values()), len(predictions)),
        "accuracy_by_language": {
            language: _ratio(sum(hits), len(hits)) for language, hits in sorted(by_language.items())
        },
        "counts_by_language": {
            language: len(hits) for language, hits in sorted(by_language.items())
        },
        "labels": {
            label: _label_scores(correct[label], predicted[label], expected[label])
            for label in sorted(expected.keys() | predicted.keys())
        },
        "confusions": [
            {"expected": e, "predicted": p, "count": n}
            for (e, p), n in sorted(confusions.items(), key=lambda item: (-item[1], item[0]))[
                :TOP_CONFUSIONS
            ]
        ],
    }


def _label_scores(true_positives: int, predicted: int, support: int) -> dict[str, Any]:
    return {
        "precision": _ratio(true_positives, predicted),
        "recall": _ratio(true_positives, support),
        # the harmonic mean of precision and recall, without rounding twice
        "f1": _ratio(2 * true_positives, predicted + support),
        "support": support,
    }


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0
