"""A fast stand-in for the blended logistic regressions, to try settings in a minute
instead of a 10-15 minute Rasa training.

    .venv-rasa/bin/python -m nlu.dev_standin OUT_DIR [--C 1 3] [--extra FILE.yml]

OUT_DIR is a dev split (`python -m nlu.dev_split split` and `score`, which leaves
dev-outputs.json with DIET's and the ResponseSelector's outputs). The stand-in builds
the pipeline's sentence features in scikit-learn (word lemmas with English stems, and
character n-grams 1-4 inside word boundaries over the words as typed), fits the two
logistic regressions (intents with `faq` as one class, and `faq/<key>` answers), and
prints the dev accuracy per language alone and blended with the saved DIET and
selector outputs at the configured weights. `--extra` adds training examples (a
draft data file) without retraining DIET, so it measures their effect on the linear
model only. With C 1 it reproduces the trained model's logistic regression alone on
the dev split exactly (zh 0.872, en 0.786) and the blend within 0.005 (zh 0.878, en
0.806); the regex features are left out.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from nlu.dev_split import plain
from nlu.eval_metrics import text_language

DIET_WEIGHT = {"zh": 0.3, "en": 0.4}
SELECTOR_WEIGHT = 0.5
_NUMBER = re.compile(r"\b[0-9]+\b")


def read(path: Path) -> list[tuple[str, str]]:
    """(text, label) pairs of a Rasa NLU file, annotations removed."""
    pairs = []
    for block in yaml.safe_load(path.read_text("utf-8")).get("nlu", []):
        for line in (block.get("examples") or "").splitlines() if "intent" in block else []:
            if line.strip().startswith("- "):
                pairs.append((plain(line.strip()[2:]), block["intent"]))
    return pairs


def words_and_surface(text: str) -> tuple[str, str]:
    """The text as CountVectorsFeaturizer sees it: lemmas (word features) and the
    tokens as typed (character n-grams), numbers replaced as Rasa does."""
    import jieba

    from nlu.components.tokenizer import _english_stem, _is_blank, _letters_apart_from_digits
    from nlu.script import fold_width

    tokens = [
        (text[start:end], _english_stem(piece))
        for word, word_start, _ in jieba.tokenize(fold_width(text))
        if not _is_blank(word)
        for piece, start, end in _letters_apart_from_digits(word, word_start)
    ] or [(text, text.lower())]

    def number(token: str) -> str:
        return _NUMBER.sub("__NUMBER__", token).lower()

    return " ".join(number(lemma) for _, lemma in tokens), " ".join(
        number(surface) for surface, _ in tokens
    )


def features(train: list[str], dev: list[str]):  # type: ignore[no-untyped-def]
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    words = CountVectorizer(token_pattern=r"(?u)\b\w+\b")
    chars = CountVectorizer(analyzer="char_wb", ngram_range=(1, 4))
    tr = [words_and_surface(t) for t in train]
    dv = [words_and_surface(t) for t in dev]
    words.fit([w for w, _ in tr])
    chars.fit([c for _, c in tr])

    def matrix(rows: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
        return sp.hstack(
            [words.transform([w for w, _ in rows]), chars.transform([c for _, c in rows])]
        ).tocsr()

    return matrix(tr), matrix(dv)


def _best(scores: dict[str, float]) -> str:
    return max(scores, key=lambda label: scores[label])


def _mix(a: dict[str, float], b: dict[str, float], weight_of_b: float) -> dict[str, float]:
    return {x: (1 - weight_of_b) * a.get(x, 0.0) + weight_of_b * b.get(x, 0.0) for x in a | b}


def accuracy(
    train: list[tuple[str, str]], dev: list[tuple[str, str]], outputs: dict[str, dict], c: float
) -> dict[str, dict[str, float]]:
    from sklearn.linear_model import LogisticRegression

    x_train, x_dev = features([t for t, _ in train], [t for t, _ in dev])

    def model(rows: list[int], labels: list[str]) -> LogisticRegression:
        # As Rasa's LogisticRegressionClassifier, with max_iter as in config.yml.
        lr = LogisticRegression(C=c, class_weight="balanced", max_iter=300, random_state=42)
        return lr.fit(x_train[rows], labels)

    intents = model(list(range(len(train))), [label.split("/")[0] for _, label in train])
    faq = [i for i, (_, label) in enumerate(train) if label.startswith("faq/")]
    answers = model(faq, [train[i][1] for i in faq])
    p_intent, p_answer = intents.predict_proba(x_dev), answers.predict_proba(x_dev)
    hits: dict[str, dict[str, list[bool]]] = {}
    for k, (text, expected) in enumerate(dev):
        lr = dict(zip(intents.classes_, p_intent[k], strict=True))
        lr_faq = dict(zip(answers.classes_, p_answer[k], strict=True))
        language = text_language(text)
        row = outputs[text]
        for name, intent_scores, answer_scores in (
            ("logistic_regression_only", lr, lr_faq),
            (
                "blended",
                _mix(lr, row["diet"], DIET_WEIGHT[language]),
                _mix(lr_faq, row["rs"], SELECTOR_WEIGHT),
            ),
        ):
            intent, answer = _best(intent_scores), _best(answer_scores)
            label = answer if intent == "faq" else intent
            hits.setdefault(name, {}).setdefault(language, []).append(label == expected)
    return {
        name: {lang: round(sum(h) / len(h), 4) for lang, h in sorted(by_language.items())}
        for name, by_language in hits.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu.dev_standin")
    parser.add_argument("out", type=Path, help="a dev split with dev-outputs.json")
    parser.add_argument("--C", type=float, nargs="+", default=[1.0], dest="c")
    parser.add_argument("--extra", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    train = read(args.out / "train.yml") + [p for f in args.extra for p in read(f)]
    dev = read(args.out / "dev.yml")
    outputs = {r["text"]: r for r in json.loads((args.out / "dev-outputs.json").read_text())}
    report = {str(c): accuracy(train, dev, outputs, c) for c in args.c}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
