"""The Rasa end-to-end test stories (nlu/tests/test_stories.yml) pass with the
trained model: patron text in both languages → intent → next action."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from bot import envs
from kb.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
STORIES = REPO / "nlu" / "tests" / "test_stories.yml"


def test_stories_cover_both_languages() -> None:
    stories = yaml.safe_load(STORIES.read_text(encoding="utf-8"))["stories"]
    names = [s["story"] for s in stories]
    assert sum("(zh)" in n for n in names) >= 4
    assert sum("(en)" in n for n in names) >= 4


def test_end_to_end_stories_pass_with_the_trained_model(tmp_path: Path) -> None:
    model = envs.model_path(get_settings().models_dir)
    assert model.exists(), f"{model} is missing: `refdesk train` first"
    result = subprocess.run(
        [
            str(envs.ENGINE_ENV / "bin" / "rasa"),
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            str(STORIES),
            "--out",
            str(tmp_path),
            "--no-plot",
        ],
        cwd=REPO,
        env=envs.engine_process_env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    failed = tmp_path / "failed_test_stories.yml"
    # Rasa writes the stories it got wrong, annotated with what it predicted.
    failures = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert "story:" not in failures, failures
