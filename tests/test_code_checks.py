"""The code passes its linters and type checker (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)


def test_ruff_finds_nothing() -> None:
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout[-5000:]


def test_mypy_finds_nothing() -> None:
    result = _run(str(BIN / "mypy"), "bot", "kb", "actions")
    assert result.returncode == 0, result.stdout[-5000:]
