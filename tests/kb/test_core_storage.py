"""Patron identities, transcripts and the encryption under them, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kb.conversations import Speaker, conversation_for, recent_messages, record_message
from kb.crypto import DecryptionError, keyring
from kb.faq import FAQ_KEYS, answer_for, load_bundled


def test_same_channel_user_is_the_same_patron(session, backend):
    a = conversation_for(session, "web", "session-1")
    b = conversation_for(session, "web", "session-1")
    c = conversation_for(session, "telegram", "session-1")
    assert a.id == b.id
    assert c.patron_id != a.patron_id
    # The engine never learns the channel's own user id.
    assert "session-1" not in a.sender_id


def test_transcript_text_is_encrypted_in_the_database(session, backend):
    conv = conversation_for(session, "web", "s-42")
    record_message(session, conv, Speaker.PATRON, "我想借《三体》 patron@example.org")
    session.commit()
    raw = session.execute(text("SELECT text FROM messages")).scalar_one()
    assert "三体" not in raw and "patron@example.org" not in raw
    assert raw.startswith("enc1:")
    assert [m.text for m in recent_messages(session, conv)] == ["我想借《三体》 patron@example.org"]


def test_tampered_ciphertext_is_refused():
    stored = keyring().encrypt("hello")
    prefix, kid, payload = stored.split(":", 2)
    flipped = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    with pytest.raises(DecryptionError):
        keyring().decrypt(f"{prefix}:{kid}:{flipped}")


def test_bundled_faq_covers_every_contract_key_in_both_languages(session, backend):
    assert load_bundled(session) == len(FAQ_KEYS)
    assert load_bundled(session) == 0  # loads only into an empty store
    for key in FAQ_KEYS:
        zh, en = answer_for(session, key, "zh"), answer_for(session, key, "en")
        assert zh and en and zh != en, key
