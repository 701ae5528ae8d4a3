"""Evaluate a trained model's intents (and FAQ answers) on NLU YAML files.

    .venv-rasa/bin/python -m nlu.evaluation --model models/nlu.tar.gz PATH [PATH ...]

PATH is a Rasa 3 NLU YAML file or a folder of them. Prints one JSON object on
stdout (see `nlu.eval_metrics.evaluate`, plus "model"); everything else the engine
prints goes to stderr. Exit status 2: bad input (one line on stderr naming the file
and the problem); 3: the model cannot be loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from nlu.eval_metrics import Prediction, evaluate, predicted_label

EXIT_BAD_INPUT = 2
EXIT_BAD_MODEL = 3

# Annotation syntax left in an example after Rasa parsed it: Rasa keeps
# "[Dune](title" or "[Dune(title)" as plain text, which would then be evaluated.
_LEFTOVER_ANNOTATION = re.compile(r"\]\s*[({\[]|\[[^\]]*\([^)]*\)[^\]]*$")
_VALIDATION_ERROR_AT = re.compile(r"\s*in (?P<file>.+):(?P<line>\d+):\s*$")


class InputProblem(Exception):
    """Evaluation data that cannot be used; the message is one line for the user."""


class ModelProblem(Exception):
    """A model that cannot be loaded; the message is one line for the user."""


Example = tuple[str, str]  # (text, expected label)


def main(argv: list[str] | None = None) -> int:
    args = _arguments().parse_args(argv)
    # TensorFlow reads this when it is first imported (by Rasa, below).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    _quiet_engine()
    with _stdout_to_stderr():
        try:
            examples = read_examples(args.paths)
            agent = load_model(args.model)
        except InputProblem as problem:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except ModelProblem as problem:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_BAD_MODEL
        predictions = asyncio.run(predict(agent, examples, keep_fallback=args.keep_fallback))
    report = evaluate(predictions) | {"model": Path(args.model).name}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _quiet_engine() -> None:
    """Keep Rasa's own warnings on stderr, but not the notices its dependencies print
    while being imported (their warning filters override ours), nor Jieba's
    dictionary-loading chatter."""
    import jieba
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parsed message (text included) at debug level otherwise.
    configure_structlog(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    show = warnings.showwarning
    rasa_package = f"{os.sep}rasa{os.sep}"

    def show_rasa_warnings(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if rasa_package in filename:
            show(message, category, filename, lineno, file, line)

    warnings.showwarning = show_rasa_warnings


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nlu.evaluation",
        description="Intent and FAQ-answer accuracy of a trained Rasa model, as JSON.",
    )
    parser.add_argument("--model", required=True, help="trained model (.tar.gz)")
    parser.add_argument(
        "--keep-fallback",
        action="store_true",
        help="count FallbackClassifier's nlu_fallback as the prediction, as the bot "
        "sees it (default: the intent it overrode, as `rasa test nlu` does)",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="NLU YAML file or folder")
    return parser


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send file descriptor 1 to stderr, so that nothing TensorFlow or Rasa prints
    (from Python or from C++) can mix with the JSON report."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# --- input -------------------------------------------------------------------------


def read_examples(paths: list[str]) -> list[Example]:
    files = [file for path in paths for file in _yaml_files(Path(path))]
    examples = [example for file in files for example in _read_file(file)]
    if not examples:
        raise InputProblem(f"no intent examples in {', '.join(paths)}")
    return examples


def _yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        if not files:
            raise InputProblem(f"{path}: folder has no .yml or .yaml files")
        return files
    if not path.exists():
        raise InputProblem(f"{path}: no such file or folder")
    return [path]


def _read_file(path: Path) -> list[Example]:
    from rasa.shared.exceptions import InvalidEntityFormatException, RasaException
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
    from rasa.shared.utils.validation import YamlValidationException

    _check_nlu_list(path, _parse_yaml(path, _read_text(path)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            data = RasaYAMLReader().read(str(path))
        except YamlValidationException as error:
            raise InputProblem(_validation_problem(path, str(error))) from error
        except InvalidEntityFormatException as error:
            raise InputProblem(
                f"{path}: malformed entity annotation {error.doc!r}: not valid JSON "
                f"at character {error.pos + 1}"
            ) from error
        except RasaException as error:
            raise InputProblem(f"{path}: {_one_line(str(error))}") from error
    # Rasa only warns about examples it skips (a line without "- ", an intent
    # without examples); an evaluation that silently loses examples is wrong.
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            message = str(warning.message).replace(f"Issue found while processing '{path}': ", "")
            raise InputProblem(f"{path}: {_one_line(message)}")

    examples = []
    for message in data.intent_examples:
        text, intent = message.get("text"), message.get("intent")
        if _LEFTOVER_ANNOTATION.search(text):
            raise InputProblem(f"{path}: malformed entity annotation in {intent} example {text!r}")
        examples.append((text, message.get("intent_response_key") or intent))
    return examples


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputProblem(f"{path}: not UTF-8 text (byte {error.start})") from error
    except OSError as error:
        raise InputProblem(f"{path}: cannot read ({error.strerror})") from error


def _parse_yaml(path: Path, text: str) -> Any:
    from rasa.shared.utils.io import read_yaml
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return read_yaml(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputProblem(f"{path}: not valid YAML: {error.problem}{where}") from error
    except YAMLError as error:
        raise InputProblem(f"{path}: not valid YAML: {_one_line(str(error))}") from error


def _check_nlu_list(path: Path, content: Any) -> None:
    if not isinstance(content, dict) or "nlu" not in content:
        raise InputProblem(f"{path}: no 'nlu:' list, not an NLU training data file")
    if not isinstance(content["nlu"], list):
        raise InputProblem(f"{path}: 'nlu:' must be a list of intents with examples")


def _validation_problem(path: Path, message: str) -> str:
    """The first of the schema errors Rasa lists, on one line."""
    lines = message.splitlines()
    for index, line in enumerate(lines[:-1]):
        found = _VALIDATION_ERROR_AT.match(line)
        if found:
            problem = lines[index + 1].strip()
            if "Path: '/nlu/" in problem and problem.split("Path: ")[-1].endswith("/examples'"):
                problem = (
                    "'examples' must be a block of '- example' lines (examples: |), "
                    f"not a YAML list ({problem})"
                )
            return f"{path}:{found['line']}: {problem}"
    return f"{path}: {_one_line(message)}"


def _one_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines()]
    return " ".join(line for line in lines if line and not line.startswith("More info"))


# --- model -------------------------------------------------------------------------


def load_model(model: str) -> Any:
    path = Path(model)
    if not path.is_file():
        raise ModelProblem(f"{model}: no such model file")
    from rasa.core.agent import Agent

    try:
        agent = Agent.load(str(path))
    except Exception as error:  # Rasa raises many kinds for a broken archive
        raise ModelProblem(f"{model}: cannot load the model ({_one_line(str(error))})") from error
    if agent.processor is None or agent.processor.model_metadata.nlu_target is None:
        raise ModelProblem(f"{model}: the model has no NLU pipeline")
    return agent


async def predict(agent: Any, examples: list[Example], keep_fallback: bool) -> list[Prediction]:
    from rasa.nlu.classifiers import fallback_classifier

    predictions = []
    for text, expected in examples:
        result = await agent.parse_message(text)
        if not keep_fallback and fallback_classifier.is_fallback_classifier_prediction(result):
            result = fallback_classifier.undo_fallback_prediction(result)
        intent = (result.get("intent") or {}).get("name")
        predictions.append(Prediction(text, expected, predicted_label(intent, _answer(result))))
    return predictions


def _answer(result: dict[str, Any]) -> str | None:
    """The response key the selector chose for the predicted retrieval intent."""
    intent = (result.get("intent") or {}).get("name")
    selectors = result.get("response_selector") or {}
    selector = selectors.get(intent) or selectors.get("default") or {}
    return (selector.get("response") or {}).get("intent_response_key")


if __name__ == "__main__":
    sys.exit(main())
