"""OpenURL links from resolvers and databases land on a bilingual page with a chat draft."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "openurl"


def _links(name: str) -> list[str]:
    lines = (FIXTURES / name).read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _query(link: str) -> str:
    return link.split("?", 1)[1] if "?" in link else link


def _draft_token(page: str) -> str:
    return re.search(r'href="/chat\?draft=([^"]+)"', page).group(1)


def test_a_complete_openurl_10_page_and_its_draft(desk):
    query = (
        "url_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.genre=article"
        "&rft.atitle="
        + quote("基于深度学习的图书推荐研究")
        + "&rft.jtitle="
        + quote("图书情报工作")
        + "&rft.issn=0252-3116&rft.volume=63&rft.issue=3&rft.spage=12&rft.epage=20&rft.date=2019"
        "&rfr_id=info:sid/cnki.net"
    )
    with desk.client() as browser:
        page = browser.get(
            f"/openurl?{query}", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
        )
        assert page.status_code == 200, page.text
        assert "基于深度学习的图书推荐研究" in page.text and "12-20" in page.text
        assert page.text.index("文献传递申请") < page.text.index("Document delivery request")
        draft = browser.get(f"/api/delivery/drafts/{_draft_token(page.text)}")
    assert draft.status_code == 200
    body = draft.json()
    assert body["citation"]["journal"] == "图书情报工作" and body["citation"]["pages"] == "12-20"
    assert body["missing"] == [] and body["openurl_version"] == "1.0"
    assert body["referrer"] == "info:sid/cnki.net" and body["language"] == "zh"
    assert body["openurl"] == query


@pytest.mark.parametrize("link", _links("targeted-getit-test-OpenURLs.txt"))
def test_real_resolver_links_show_a_page_and_keep_what_was_sent(desk, link):
    with desk.client() as browser:
        page = browser.get(f"/openurl?{_query(link)}", headers={"Accept-Language": "en-US,en"})
    assert page.status_code in (200, 400)
    assert page.text.index("Document delivery request") < page.text.index("文献传递申请")
    assert '<pre class="sent">' in page.text
    if page.status_code == 200:
        assert 'href="/chat?draft=' in page.text


def test_most_real_links_from_a_resolver_log_name_an_item(desk):
    links = _links("100-random-nyu-getit-resolve-openurls.txt")[:25]
    statuses = []
    with desk.client() as browser:
        for link in links:
            statuses.append(browser.get(f"/openurl?{_query(link)}").status_code)
    assert set(statuses) <= {200, 400}
    assert statuses.count(200) >= 15


def test_a_partial_link_is_400_listing_what_is_missing_but_still_offers_the_chat(desk):
    # A 0.1 link naming only the journal: which article?
    query = "sid=EBSCO:aph&genre=article&title=Journal%20of%20Design%20History&issn=17417279"
    with desk.client() as browser:
        page = browser.get(f"/openurl?{query}", headers={"Accept-Language": "en"})
        assert page.status_code == 400
        assert "article title" in page.text and "文章题名" in page.text
        assert "Journal of Design History" in page.text  # what was sent, echoed back
        draft = browser.get(f"/api/delivery/drafts/{_draft_token(page.text)}").json()
    assert draft["missing"] == ["article_title"]
    assert draft["missing_names"][0] == {"zh": "文章题名", "en": "article title"}


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "it has no query"),
        ("sid=foo&rft.date=2020&rft.volume=3", "names no item"),
        ("genre=article&title={{control/provider}}", "unfilled template"),
    ],
)
def test_malformed_links_are_400_with_the_problem_and_the_input(desk, query, says):
    with desk.client() as browser:
        page = browser.get(f"/openurl?{query}" if query else "/openurl")
    assert page.status_code == 400
    assert says in page.text
    assert 'href="/chat"' in page.text  # no draft, but the patron can still ask
    if query:
        assert query.split("&")[0] in page.text


def test_html_in_a_link_is_shown_not_run(desk):
    query = "genre=book&title=" + quote("<script>alert(1)</script>") + "&isbn=9787536692930"
    with desk.client() as browser:
        page = browser.get(f"/openurl?{query}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_tampered_and_expired_draft_tokens(desk):
    from kb.db import utcnow
    from kb.delivery import drafts

    with desk.client() as browser:
        page = browser.get("/openurl?genre=book&isbn=9787536692930&title=%E4%B8%89%E4%BD%93")
        token = _draft_token(page.text)
        tampered = browser.get(
            f"/api/delivery/drafts/{token[:-1]}{'0' if token[-1] != '0' else '1'}"
        )
        assert tampered.status_code == 404 and tampered.json()["error"] == "bad_signature"
        with desk.db() as session:
            draft = session.get(drafts.RequestDraftRecord, token.split(".")[0])
            draft.expires_at = utcnow() - timedelta(seconds=1)
            old = drafts.token_for(draft)
        expired = browser.get(f"/api/delivery/drafts/{old}")
    assert expired.status_code == 410
    assert set(expired.json()["message"]) == {"zh", "en"}


def test_the_root_keeps_the_draft_when_it_sends_the_patron_to_the_chat(desk):
    with desk.client() as browser:
        response = browser.get("/?draft=abc", follow_redirects=False)
    assert response.headers["location"] == "/chat?draft=abc"
