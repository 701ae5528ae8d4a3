"""OpenURL drafts for the chat: saved, fetched by signed token, refused when changed or old."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kb.delivery import drafts
from kb.delivery.openurl import parse_openurl

from .conftest import NOW

LINK = "?genre=article&atitle=Deep%20learning&title=Nature&issn=0028-0836&volume=521&spage=436&date=2015"


def test_a_draft_round_trips_through_its_token(session, backend):
    draft = drafts.save_draft(session, parse_openurl(LINK), LINK, language="en", now=NOW)
    loaded = drafts.load_draft(session, drafts.token_for(draft), NOW + timedelta(minutes=5))
    assert loaded.raw == LINK
    citation = drafts.citation_of(loaded)
    assert (
        citation.journal == "Nature"
        and citation.pages == "436"
        and citation.genre.value == "article"
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda t: t.replace(".", "x", 1), "malformed"),
        (lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"), "bad_signature"),
    ],
)
def test_changed_tokens_are_refused(session, change, code):
    draft = drafts.save_draft(session, parse_openurl(LINK), LINK, language="zh", now=NOW)
    with pytest.raises(drafts.DraftRefused) as refused:
        drafts.load_draft(session, change(drafts.token_for(draft)), NOW)
    assert refused.value.code == code


def test_old_drafts_expire_and_are_purged(session, backend):
    draft = drafts.save_draft(session, parse_openurl(LINK), LINK, language="zh", now=NOW)
    later = NOW + timedelta(hours=3)
    with pytest.raises(drafts.DraftRefused, match="expired"):
        drafts.load_draft(session, drafts.token_for(draft), later)
    assert drafts.purge_expired(session, later) == 1
    assert session.get(drafts.RequestDraftRecord, draft.id) is None
