"""The engine's tracker store shares the app's key ring and format: a value encrypted
on one side decrypts on the other, `refdesk keys status` counts the tracker's events
per key, and `refdesk keys reencrypt` moves them, old plaintext rows included, to the
current key, on SQLite and on PostgreSQL, after which the engine still reads them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bot.cli import app
from bot.supervisor import tracker_store_config
from kb import key_rotation
from kb.crypto import ensure_key_file, keyring
from kb.settings import get_settings
from kb.tracker_keys import LABEL
from tests.conftest import PG_ADMIN_URL
from tests.support.engine_tracker import run_in_engine_env

SECRET = "I am researching rare medical manuscripts 我在研究医药古籍"


@pytest.fixture
def tracker_url(backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{get_settings().home / 'tracker.db'}"
        yield url
        return
    name = f"refdesk_tracker_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    monkeypatch.setenv("REFDESK_TRACKER_STORE_URL", url)
    get_settings.cache_clear()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_value_encrypted_by_either_side_decrypts_on_the_other() -> None:
    key_file = str(ensure_key_file(get_settings().home))
    from_engine = run_in_engine_env({"op": "encrypt", "key_file": key_file, "text": SECRET})
    assert from_engine.startswith(f"enc1:{keyring().current_id}:")
    assert keyring().decrypt(from_engine) == SECRET
    from_app = keyring().encrypt(SECRET)
    assert run_in_engine_env({"op": "decrypt", "key_file": key_file, "value": from_app}) == SECRET


def test_tracker_events_are_counted_and_reencrypted_plaintext_included(
    session, backend: str, tracker_url: str
) -> None:
    config = tracker_store_config(tracker_url, ensure_key_file(get_settings().home))
    old_key = keyring().current_id
    # A conversation from before encryption (Rasa's own store), continued encrypted.
    run_in_engine_env(
        {"op": "save", "store": config, "sender": "s1", "texts": [SECRET], "plain": True}
    )
    run_in_engine_env({"op": "save", "store": config, "sender": "s1", "texts": ["second"]})
    usage = key_rotation.key_usage(session)[LABEL]
    assert usage["plain"] == 1 and usage[old_key] == 1

    new_key = key_rotation.add_key()
    result = CliRunner().invoke(app, ["keys", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert f"{LABEL}: 2 re-encrypted" in result.output
    assert key_rotation.key_usage(session)[LABEL] == {new_key: 2}
    assert key_rotation.reencrypt_all(session)[LABEL] == 0  # idempotent

    key_rotation.retire_key(old_key)
    read = run_in_engine_env({"op": "read", "store": config, "sender": "s1"})
    assert read == [SECRET, "second"]


def test_no_tracker_store_yet_is_not_an_error(session) -> None:
    assert LABEL not in key_rotation.key_usage(session)
    assert LABEL not in key_rotation.reencrypt_all(session)
    assert not (get_settings().home / "tracker.db").exists()  # and none was created
