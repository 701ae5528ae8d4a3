"""A database dump reveals no contact data or message text, and keys rotate without
a flag day: new writes use the new key, old data stays readable, re-encryption moves
everything to the new key, and an old key can then be retired."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from kb import key_rotation
from kb.conversations import Speaker, conversation_for, recent_messages, record_message
from kb.crypto import keyring
from kb.patrons.models import Patron

EMAIL = "li.ming.private@example.org"
SECRET_TEXT = "我在研究《红楼梦》里的医药描写 medical history of Dream of the Red Chamber"


def _patron_with_a_conversation(session) -> Patron:  # type: ignore[no-untyped-def]
    conv = conversation_for(session, "web", "dump-test")
    record_message(session, conv, Speaker.PATRON, SECRET_TEXT)
    patron = session.get(Patron, conv.patron_id)
    patron.name = "李明"
    patron.email = EMAIL
    session.commit()
    return patron


def _dump(db_url: str, backend: str) -> bytes:
    url = make_url(db_url)
    if backend == "sqlite":
        return b"".join(p.read_bytes() for p in Path(url.database).parent.glob("refdesk.db*"))
    result = subprocess.run(
        ["pg_dump", "-h", url.host or "127.0.0.1", "-U", url.username or "postgres", url.database],
        capture_output=True,
        check=True,
    )
    return result.stdout


def test_a_database_dump_reveals_no_contact_data_or_message_text(session, db_url, backend):
    _patron_with_a_conversation(session)
    dump = _dump(db_url, backend)
    assert len(dump) > 10_000  # it is a real dump
    for secret in (EMAIL, "李明", "红楼梦", "medical history"):
        assert secret.encode() not in dump, secret
    # ...while the application reads them back.
    patron = session.scalar(select(Patron).where(Patron.email.is_not(None)))
    assert patron.email == EMAIL


def test_keys_rotate_and_data_is_reencrypted(session, backend):
    patron = _patron_with_a_conversation(session)
    conv = conversation_for(session, "web", "dump-test")
    old_key = keyring().current_id

    new_key = key_rotation.add_key()
    assert new_key != old_key and keyring().current_id == new_key
    record_message(session, conv, Speaker.BOT, "written after the rotation")
    session.commit()

    raw = session.execute(text("SELECT text FROM messages ORDER BY id")).scalars().all()
    assert raw[0].startswith(f"enc1:{old_key}:") and raw[1].startswith(f"enc1:{new_key}:")
    session.expire_all()
    assert [m.text for m in recent_messages(session, conv)] == [
        SECRET_TEXT,
        "written after the rotation",
    ]
    usage = key_rotation.key_usage(session)
    assert usage["messages.text"] == {old_key: 1, new_key: 1}

    rewritten = key_rotation.reencrypt_all(session)
    assert rewritten["messages.text"] == 1 and rewritten["patrons.email"] == 1
    assert key_rotation.reencrypt_all(session)["messages.text"] == 0  # idempotent
    assert all(old_key not in counts for counts in key_rotation.key_usage(session).values())

    with pytest.raises(ValueError):
        key_rotation.retire_key(new_key)  # the encrypting key cannot go
    key_rotation.retire_key(old_key)
    assert old_key not in keyring().keys
    session.expire_all()
    assert session.get(Patron, patron.id).email == EMAIL
    assert [m.text for m in recent_messages(session, conv)][0] == SECRET_TEXT
