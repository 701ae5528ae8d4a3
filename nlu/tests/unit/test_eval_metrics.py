"""Evaluation metrics (hand-computed) and the evaluation CLI's input checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.eval_metrics import Prediction, evaluate, predicted_label, text_language
from nlu.evaluation import EXIT_BAD_INPUT, EXIT_BAD_MODEL, InputProblem, main, read_examples


def p(text: str, expected: str, intent: str, response_key: str | None = None) -> Prediction:
    return Prediction(text, expected, predicted_label(intent, response_key))


SIX = [
    p("你好", "greet", "greet"),
    p("hi", "greet", "greet"),
    p("bye", "goodbye", "greet"),
    p("开馆时间", "faq/opening_hours", "faq", "faq/opening_hours"),
    p("wifi password", "faq/wifi", "faq", "faq/opening_hours"),  # right intent, wrong answer
    p("几点关门", "faq/opening_hours", "greet"),
]


def test_accuracy_overall_and_by_language() -> None:
    report = evaluate(SIX)
    assert report["examples"] == 6
    assert report["accuracy"] == 0.5
    assert report["accuracy_by_language"] == {"en": 0.3333, "zh": 0.6667}
    assert report["counts_by_language"] == {"en": 3, "zh": 3}


def test_per_label_scores() -> None:
    labels = evaluate(SIX)["labels"]
    assert labels["greet"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 2}
    assert labels["goodbye"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert labels["faq/opening_hours"] == {
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "support": 2,
    }
    assert labels["faq/wifi"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert set(labels) == {"greet", "goodbye", "faq/opening_hours", "faq/wifi"}


def test_confusions_sorted_by_count() -> None:
    extra = [p("bye bye", "goodbye", "greet")]
    assert evaluate(SIX + extra)["confusions"] == [
        {"expected": "goodbye", "predicted": "greet", "count": 2},
        {"expected": "faq/opening_hours", "predicted": "greet", "count": 1},
        {"expected": "faq/wifi", "predicted": "faq/opening_hours", "count": 1},
    ]


def test_only_top_20_confusions() -> None:
    many = [p(f"text {i}", f"intent_{i}", "greet") for i in range(25)]
    assert len(evaluate(many)["confusions"]) == 20


def test_faq_counts_only_with_the_selected_answer() -> None:
    assert predicted_label("faq", "faq/wifi") == "faq/wifi"
    assert predicted_label("faq", None) == "faq"  # no answer selected: wrong for faq/wifi
    assert predicted_label("greet", "faq/wifi") == "greet"
    assert predicted_label(None, None) == ""


def test_labels_include_predicted_only_ones() -> None:
    labels = evaluate([p("hi", "greet", "nlu_fallback")])["labels"]
    assert labels["nlu_fallback"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


@pytest.mark.parametrize(
    ("text", "language"), [("三体有没有 ebook", "zh"), ("ebook", "en"), ("123", "en")]
)
def test_text_language(text: str, language: str) -> None:
    assert text_language(text) == language


def test_nothing_to_evaluate() -> None:
    with pytest.raises(ValueError):
        evaluate([])


# --- reading evaluation files ------------------------------------------------------


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


GOOD = (
    'version: "3.1"\n'
    "nlu:\n"
    "- intent: greet\n"
    "  examples: |\n"
    "    - hi\n"
    "    - 你好\n"
    "- intent: faq/wifi\n"
    "  examples: |\n"
    "    - wifi [password](topic)?\n"
)


def test_reads_files_and_folders(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    sub = tmp_path / "more"
    sub.mkdir()
    write(sub, "b.yaml", "nlu:\n- intent: goodbye\n  examples: |\n    - bye\n")
    write(sub, "notes.md", "not data")
    assert read_examples([str(tmp_path)]) == [
        ("hi", "greet"),
        ("你好", "greet"),
        ("wifi password?", "faq/wifi"),
        ("bye", "goodbye"),
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("nlu:\n- intent: greet\n  examples: |\n    - hi\n   bad: [\n", "not valid YAML"),
        (b"\xff\xfe\x00nlu", "not UTF-8"),
        ('version: "3.1"\nstories: []\n', "no 'nlu:' list"),
        ("- just\n- a list\n", "no 'nlu:' list"),
        ("nlu: {}\n", "'nlu:' must be a list"),
        ("nlu:\n- intent: greet\n  examples:\n    - hi\n    - hello\n", "'examples' must be"),
        ("nlu:\n- intent: greet\n  examples: |\n    hi\n    - hello\n", "doesn't start with"),
        ("nlu:\n- intent: greet\n  examples: |\n    - [Dune](title\n", "malformed entity"),
        ("nlu:\n- intent: greet\n  examples: |\n    - [Dune(title) ok\n", "malformed entity"),
        ('nlu:\n- intent: greet\n  examples: |\n    - [Dune]{"entity": x}\n', "malformed entity"),
        ("nlu:\n- synonym: x\n  examples: |\n    - y\n", "no intent examples"),
    ],
)
def test_bad_input_is_named_on_one_line(tmp_path: Path, content: str, problem: str) -> None:
    path = write(tmp_path, "bad.yml", content)
    with pytest.raises(InputProblem) as error:
        read_examples([str(path)])
    message = str(error.value)
    assert problem in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputProblem, match="no such file or folder"):
        read_examples([str(tmp_path / "nope.yml")])


def test_cli_exit_status_for_bad_input_and_missing_model(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path, "a.yml", GOOD)
    bad = write(tmp_path, "bad.yml", "nlu: 3\n")
    model = tmp_path / "m.tar.gz"

    assert main(["--model", str(model), str(bad)]) == EXIT_BAD_INPUT
    assert main(["--model", str(model), str(data)]) == EXIT_BAD_MODEL
    out, err = capfd.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"error: {bad}: 'nlu:' must be a list of intents with examples",
        f"error: {model}: no such model file",
    ]

    write(tmp_path, "m.tar.gz", b"not a tarball")
    assert main(["--model", str(model), str(data)]) == EXIT_BAD_MODEL
    out, err = capfd.readouterr()
    assert out == ""
    assert f"error: {model}: cannot load the model" in err
