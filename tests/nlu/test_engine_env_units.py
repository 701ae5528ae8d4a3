"""The custom NLU components' unit tests, which need the engine env (Rasa, spaCy),
run from the app suite so that `pytest` covers them too."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENGINE_PYTHON = REPO / ".venv-rasa" / "bin" / "python"


def test_nlu_component_unit_tests_pass_in_the_engine_env() -> None:
    assert ENGINE_PYTHON.exists(), (
        f"{ENGINE_PYTHON} is missing: create the engine env as the README says"
    )
    # The app env's variables must not leak into the engine's interpreter.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(ENGINE_PYTHON), "-m", "pytest", "-q", "nlu/tests/unit"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
