"""The engine environment (.venv-rasa) and the trained model.

The app env is created by the ``./refdesk`` wrapper (``uv sync``). The engine
env is created here from the committed lock ``nlu/engine.lock`` and rebuilt
when the lock changes. A model is trained when its inputs changed: its file
name carries a fingerprint of config.yml, the domain, the training data and the
custom components, so an unchanged project reuses the last model.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from kb.settings import REPO_ROOT

ENGINE_ENV = REPO_ROOT / ".venv-rasa"
ENGINE_LOCK = REPO_ROOT / "nlu" / "engine.lock"
_LOCK_STAMP = ENGINE_ENV / ".refdesk-lock-sha256"
MODEL_PREFIX = "refdesk-"
KEEP_MODELS = 3

# What a trained model depends on.
MODEL_INPUTS = ("config.yml", "nlu/domain", "nlu/data", "nlu/components", "nlu/engine.lock")


class EnvError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def uv_binary() -> str:
    out = subprocess.run(
        [str(REPO_ROOT / "scripts" / "ensure-uv")], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def engine_env_current() -> bool:
    return (
        (ENGINE_ENV / "bin" / "rasa").exists()
        and _LOCK_STAMP.exists()
        and _LOCK_STAMP.read_text().strip() == _sha256(ENGINE_LOCK)
    )


def ensure_engine_env(echo=print) -> None:  # type: ignore[no-untyped-def]
    """Create or update .venv-rasa from nlu/engine.lock (no-op when current)."""
    if engine_env_current():
        return
    echo("Setting up the Rasa engine environment (.venv-rasa) from nlu/engine.lock ...")
    uv = uv_binary()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": str(ENGINE_ENV)}
    env.pop("PYTHONHOME", None)
    python = os.environ.get("REFDESK_ENGINE_PYTHON") or sys.executable
    base = getattr(sys, "_base_executable", python)
    try:
        subprocess.run(
            [uv, "venv", "--allow-existing", "-q", "--python", base, str(ENGINE_ENV)],
            check=True,
            env=env,
        )
        subprocess.run(
            [uv, "pip", "install", "-q", "--no-deps", "-r", str(ENGINE_LOCK)], check=True, env=env
        )
    except subprocess.CalledProcessError as exc:
        raise EnvError(f"could not build the engine environment: {exc}") from exc
    _LOCK_STAMP.write_text(_sha256(ENGINE_LOCK))
    echo("Engine environment ready.")


def model_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        root = REPO_ROOT / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path(models_dir: Path) -> Path:
    return models_dir / f"{MODEL_PREFIX}{model_fingerprint()}.tar.gz"


def engine_process_env() -> dict[str, str]:
    """Environment for processes of the engine env (quiet TensorFlow, no telemetry)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("VIRTUAL_ENV", None)
    return env


def train(models_dir: Path, force: bool = False, echo=print) -> Path:  # type: ignore[no-untyped-def]
    """Train the model unless one for the current inputs exists; returns its path."""
    ensure_engine_env(echo)
    target = model_path(models_dir)
    if target.exists() and not force:
        echo(f"Model is up to date: {target.name}")
        return target
    echo(f"Training the dialogue model ({target.name}); this takes a few minutes ...")
    models_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(ENGINE_ENV / "bin" / "rasa"),
        "train",
        "--config",
        "config.yml",
        "--domain",
        "nlu/domain",
        "--data",
        "nlu/data",
        "--out",
        str(models_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=engine_process_env())
    if result.returncode != 0 or not target.exists():
        raise EnvError(f"training failed (exit {result.returncode}); see the output above")
    _prune_models(models_dir, keep=target)
    echo(f"Model trained: {target}")
    return target


def _prune_models(models_dir: Path, keep: Path) -> None:
    models = sorted(
        models_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in [m for m in models if m != keep][KEEP_MODELS - 1 :]:
        old.unlink(missing_ok=True)
