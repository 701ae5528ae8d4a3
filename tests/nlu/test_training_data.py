"""The Rasa project data is valid, and every intent of the contract is trained in both languages."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.envs import ENGINE_ENV, engine_process_env
from kb.language import detect_language

REPO = Path(__file__).resolve().parents[2]
# A copy of ../shared/nlu-contract.md travels with the project, so the test does not
# depend on where the checkout lives; test_contract_copy_is_current compares them.
CONTRACT = REPO / "nlu" / "contract.md"
SHARED_CONTRACT = REPO.parent / "shared" / "nlu-contract.md"

# Rasa 3.6 warns about every retrieval intent even when the project is right:
# declaring `faq` in the domain yields "duplicated intents ... faq", and the FAQ
# answers come from action_answer_faq (the FAQ store), so `utter_faq` is unused.
KNOWN_RETRIEVAL_WARNINGS = (
    "The following duplicated intents have been found across multiple domain files: faq",
    "The utterance 'utter_faq' is not used in any story or rule.",
)

TRANSACTIONAL = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope",
    "human_handoff", "search_catalog", "check_availability", "request_document",
    "ticket_status", "cancel_ticket", "subscribe_alerts", "unsubscribe_alerts",
    "list_subscriptions", "renew_loan", "my_account", "recommend_books",
    "suggest_purchase", "subject_librarian", "feedback",
}  # fmt: skip
FAQ_KEYS = {
    "opening_hours", "location", "borrowing_rules", "fines_policy", "library_card",
    "visitor_access", "remote_access", "printing", "wifi", "study_space", "holds",
    "document_delivery_policy", "research_data", "citation_tools", "events", "donations",
}  # fmt: skip


def _examples(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text("utf-8")).get("nlu", []):
            if "intent" in block:
                lines = [
                    re.sub(
                        r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}", r"\1\2", line[2:].strip()
                    )
                    for line in block["examples"].splitlines()
                    if line.strip().startswith("- ")
                ]
                found.setdefault(block["intent"], []).extend(lines)
    return found


def test_rasa_data_validate_is_clean() -> None:
    result = subprocess.run(
        [
            str(ENGINE_ENV / "bin" / "rasa"), "data", "validate",
            "--domain", "nlu/domain", "--data", "nlu/data", "--config", "config.yml",
        ],
        cwd=REPO, env=engine_process_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = [
        line.split("UserWarning: ", 1)[1].strip()
        for line in output.splitlines()
        if "UserWarning: " in line
    ]
    unexpected = [w for w in warnings if w not in KNOWN_RETRIEVAL_WARNINGS]
    assert not unexpected, unexpected


def test_contract_names_are_the_ones_we_train() -> None:
    contract = CONTRACT.read_text("utf-8")
    contract_intents = set(re.findall(r"^\| (\w+) \|", contract, re.M)) - {
        "intent",
        "entity",
        "key",
    }
    contract_faq = set(re.findall(r"^\| faq/(\w+) \|", contract, re.M))
    assert TRANSACTIONAL | {"faq"} <= contract_intents | {"faq"}
    assert contract_faq == FAQ_KEYS


def test_every_intent_is_trained_in_both_languages_as_the_brief_requires() -> None:
    examples = _examples(REPO / "nlu" / "data" / "nlu")
    for intent in TRANSACTIONAL:
        langs = [detect_language(t) for t in examples.get(intent, [])]
        assert langs.count("zh") >= 25 and langs.count("en") >= 25, (
            intent,
            langs.count("zh"),
            langs.count("en"),
        )
    for key in FAQ_KEYS:
        langs = [detect_language(t) for t in examples.get(f"faq/{key}", [])]
        assert langs.count("zh") >= 15 and langs.count("en") >= 15, (
            key,
            langs.count("zh"),
            langs.count("en"),
        )


def test_the_held_out_split_is_never_trained_on() -> None:
    def norm(text: str) -> str:
        return re.sub(r"[\s\W_]+", "", text.lower())

    trained = {
        norm(t) for lines in _examples(REPO / "nlu" / "data" / "nlu").values() for t in lines
    }
    held_out = _examples(REPO / "nlu" / "tests" / "holdout")
    leaked = [t for lines in held_out.values() for t in lines if norm(t) in trained]
    assert not leaked, leaked[:10]


def test_contract_copy_is_current() -> None:
    if not SHARED_CONTRACT.exists():
        pytest.skip(f"{SHARED_CONTRACT} is not next to this checkout")
    assert CONTRACT.read_text("utf-8") == SHARED_CONTRACT.read_text("utf-8")
