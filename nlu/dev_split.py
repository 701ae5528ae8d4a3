"""A dev split of the training data, for tuning the blend weights without the holdout.

    .venv-rasa/bin/python -m nlu.dev_split split OUT_DIR     # train.yml + dev.yml
    .venv-rasa/bin/rasa train nlu --config config.yml --domain nlu/domain \\
        --nlu OUT_DIR/train.yml --out OUT_DIR --fixed-model-name dev
    .venv-rasa/bin/python -m nlu.dev_split score OUT_DIR/dev.tar.gz OUT_DIR/dev.yml

`split` keeps a fixed fifth of every label's examples in each language apart (seed 7).
`score` runs the dev model once per example, keeps what each of the four models said
(DIET and logistic regression on the intent, the ResponseSelector and logistic
regression on the FAQ answer), and prints the dev accuracy per language for a grid
of blend weights, and what FallbackClassifier thresholds would throw away, as JSON.
The holdout (nlu/tests/holdout) is not used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from nlu.eval_metrics import predicted_label, text_language

DATA = Path(__file__).resolve().parent / "data" / "nlu"
DEV_SHARE = 0.2
WEIGHTS = [round(w * 0.1, 1) for w in range(11)]
FALLBACK_THRESHOLDS = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55]
AMBIGUITY_THRESHOLD = 0.05
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


def plain(example: str) -> str:
    return _ANNOTATION.sub(r"\1\2", example)


def split(out: Path) -> None:
    rng = random.Random(7)
    train: list[str] = ['version: "3.1"', "nlu:"]
    dev: list[str] = ['version: "3.1"', "nlu:"]
    for path in sorted(DATA.glob("*.yml")):
        for block in yaml.safe_load(path.read_text("utf-8")).get("nlu", []):
            if "intent" not in block:
                train.append(yaml.safe_dump([block], allow_unicode=True).rstrip())
                continue
            lines = [
                line.strip()[2:]
                for line in block["examples"].splitlines()
                if line.strip().startswith("- ")
            ]
            kept, held = [], []
            for language in ("zh", "en"):
                same = [x for x in lines if text_language(plain(x)) == language]
                rng.shuffle(same)
                cut = round(len(same) * DEV_SHARE)
                held += same[:cut]
                kept += same[cut:]
            for target, examples in ((train, kept), (dev, held)):
                if examples:
                    target.append(f"- intent: {block['intent']}\n  examples: |")
                    target.extend(f"    - {x}" for x in examples)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.yml").write_text("\n".join(train) + "\n", "utf-8")
    (out / "dev.yml").write_text("\n".join(dev) + "\n", "utf-8")


async def _outputs(model: str, examples: list[tuple[str, str]]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent
    from rasa.core.channels import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE

    agent = Agent.load(model)
    runner = agent.processor.graph_runner
    nodes = {
        type(node._component).__name__: name
        for name, node in runner._instantiated_nodes.items()
        if name.startswith("run_")
    }

    def component(class_name: str) -> Any:
        return runner._instantiated_nodes[nodes[class_name]]._component

    lr_intent = component("BlendedIntentClassifier").clf
    lr_answer = component("BlendedAnswerSelector")
    selector = component("ResponseSelector")
    rows = []
    for text, expected in examples:
        results = runner.run(
            inputs={PLACEHOLDER_MESSAGE: [UserMessage(text)]}, targets=[nodes["DIETClassifier"]]
        )
        [message] = results[nodes["DIETClassifier"]]
        diet = {e["name"]: e["confidence"] for e in message.get("intent_ranking")}
        features = component("BlendedIntentClassifier")._create_X([message])
        lr = dict(zip(lr_intent.classes_, lr_intent.predict_proba(features)[0], strict=True))
        selector.process([message])
        ranking = message.get("response_selector")["faq"]["ranking"]
        rs = {e["intent_response_key"]: e["confidence"] for e in ranking}
        answer_features = lr_answer._create_X([message])
        lr_faq = dict(
            zip(
                lr_answer.clf.classes_, lr_answer.clf.predict_proba(answer_features)[0], strict=True
            )
        )
        rows.append(
            {"text": text, "expected": expected, "diet": diet, "lr": lr, "rs": rs, "lr_faq": lr_faq}
        )
    return rows


def _blend(a: dict[str, float], b: dict[str, float], weight_of_b: float) -> list[tuple[str, float]]:
    scores = {x: (1 - weight_of_b) * a.get(x, 0.0) + weight_of_b * b.get(x, 0.0) for x in a | b}
    return sorted(scores.items(), key=lambda item: -item[1])


def _label(row: dict[str, Any], diet_weight: float, selector_weight: float) -> str:
    intent = _blend(row["lr"], row["diet"], diet_weight)[0][0]
    answer = _blend(row["lr_faq"], row["rs"], selector_weight)[0][0]
    return predicted_label(intent, answer)


def _accuracy(rows: list[dict[str, Any]], diet_weight: float, selector_weight: float) -> float:
    hits = sum(_label(r, diet_weight, selector_weight) == r["expected"] for r in rows)
    return round(hits / len(rows), 4)


def _fallbacks(rows: list[dict[str, Any]], diet_weight: float) -> dict[str, Any]:
    """For FallbackClassifier thresholds: the share of right intents it would throw
    away and of wrong ones it would catch (ambiguity threshold 0.05 as configured)."""
    table = {}
    for threshold in FALLBACK_THRESHOLDS:
        lost = caught = right = wrong = 0
        for r in rows:
            ranking = _blend(r["lr"], r["diet"], diet_weight)
            (top, p), second = ranking[0], (ranking[1][1] if len(ranking) > 1 else 0.0)
            falls_back = p < threshold or p - second < AMBIGUITY_THRESHOLD
            if top == r["expected"].split("/", 1)[0]:
                right += 1
                lost += falls_back
            else:
                wrong += 1
                caught += falls_back
        table[threshold] = {
            "right_thrown_away": round(lost / max(right, 1), 4),
            "wrong_caught": round(caught / max(wrong, 1), 4),
        }
    return table


def grid(rows: list[dict[str, Any]]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for language in ("zh", "en"):
        mine = [r for r in rows if text_language(r["text"]) == language]
        table = {(d, s): _accuracy(mine, d, s) for d in WEIGHTS for s in WEIGHTS}
        (diet, selector), best = max(table.items(), key=lambda item: item[1])
        report[language] = {
            "examples": len(mine),
            "best": {"diet_weight": diet, "selector_weight": selector, "accuracy": best},
            "diet_and_selector_only": table[1.0, 1.0],
            "logistic_regression_only": table[0.0, 0.0],
            "even_blend": table[0.5, 0.5],
            "by_diet_weight": {d: table[d, selector] for d in WEIGHTS},
            "by_selector_weight": {s: table[diet, s] for s in WEIGHTS},
            "fallback_at_best_diet_weight": _fallbacks(mine, diet),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu.dev_split")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("split").add_argument("out", type=Path)
    score = commands.add_parser("score")
    score.add_argument("model")
    score.add_argument("dev", type=Path)
    args = parser.parse_args(argv)
    if args.command == "split":
        split(args.out)
        return 0
    from nlu.evaluation import read_examples

    rows = asyncio.run(_outputs(args.model, read_examples([str(args.dev)])))
    (args.dev.parent / "dev-outputs.json").write_text(json.dumps(rows, ensure_ascii=False))
    print(json.dumps(grid(rows), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
