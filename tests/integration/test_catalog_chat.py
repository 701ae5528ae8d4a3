"""Catalog conversations through the real engine: search, paging, holdings, no hits,
identifiers, in Chinese and English, answered from the bundled sample catalog."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.catalog.models import Record
from tests.support.chat import ChatClient, language_of, texts

pytestmark = pytest.mark.stack


def buttons(replies):  # type: ignore[no-untyped-def]
    return [b for r in replies for b in r.get("buttons", [])]


async def test_a_chinese_title_search_shows_cards_with_availability(chat: ChatClient) -> None:
    replies = await chat.say("有没有《三体》")
    text = texts(replies)
    assert "《三体》" in text and "刘慈欣" in text
    assert "册可借" in text  # e.g. "北师大：3 册中 2 册可借"
    assert language_of(replies) == "zh"


async def test_an_english_search_by_author(chat: ChatClient) -> None:
    replies = await chat.say("do you have dune by frank herbert")
    text = texts(replies)
    assert "Dune" in text and "Herbert" in text
    assert "available at" in text


async def test_holdings_of_a_result_list_each_library_with_call_numbers(stack, chat) -> None:
    replies = await chat.say("有没有《三体》")
    holdings = next(b for b in buttons(replies) if b["title"].startswith("馆藏 1"))
    detail = await chat.click(holdings)
    with stack.db() as session:
        record = session.scalar(select(Record).where(Record.title == "三体"))
        libraries = {h.library.name_zh for h in record.holdings}
        call_numbers = {h.call_number for h in record.holdings if h.call_number}
    text = texts(detail)
    assert all(name in text for name in libraries)
    assert any(number in text for number in call_numbers)


async def test_more_results_pages_through(chat: ChatClient) -> None:
    first = await chat.say("books about machine learning")
    assert "1–5" in texts(first)
    more = next(b for b in buttons(first) if b["payload"] == "/more_results")
    second = await chat.click(more)
    assert "6–" in texts(second)
    typed = await chat.say("next page")
    assert "11–" in texts(typed) or "no more results" in texts(typed).lower()


async def test_an_isbn_finds_the_record_and_a_bad_check_digit_is_explained(chat) -> None:
    found = await chat.say("isbn 9787536692930")
    assert "三体" in texts(found)
    bad = await chat.say("isbn 9787536692931 有吗")
    assert "校验位" in texts(bad) and "9787536692931" in texts(bad)


async def test_no_hits_offer_suggestions_and_delivery(chat: ChatClient) -> None:
    replies = await chat.say("books about machne lerning")
    payloads = [b["payload"] for b in buttons(replies)]
    assert any("machine learning" in p for p in payloads)  # spelling suggestion
    assert "/request_document" in payloads and "/suggest_purchase" in payloads
    suggestion = next(b for b in buttons(replies) if "machine learning" in b["payload"])
    followed = await chat.click(suggestion)
    assert "Machine learning" in texts(followed)


async def test_asking_to_search_without_saying_what(chat: ChatClient) -> None:
    asked = await chat.say("I want to search the catalog")
    assert "What are you looking for" in texts(asked)
    replies = await chat.say("pattern recognition and machine learning")
    assert "Bishop" in texts(replies)


async def test_availability_of_a_named_title(chat: ChatClient) -> None:
    replies = await chat.say("《活着》还有没有可以借的")
    text = texts(replies)
    assert "活着" in text and ("在架可借" in text or "已借出" in text)
