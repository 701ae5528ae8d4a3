"""The README documents what a newcomer needs: every setting, and the two commands."""

from __future__ import annotations

from pathlib import Path

from kb.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [
        f"REFDESK_{name.upper()}"
        for name in Settings.model_fields
        if f"`REFDESK_{name.upper()}`" not in README
    ]
    assert not missing, f"settings missing from the README's table: {missing}"


def test_first_two_commands_are_up_and_test() -> None:
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands[:2] == ["./refdesk up", "./refdesk test"]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    last = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last.strip() == "./refdesk test"
