"""Document delivery conversations through the real engine over the web-chat WebSocket:
the request form (pasted reference, missing pieces, duplicates, interruptions, giving
up, the OpenURL hand-over), ticket status and cancelling, in Chinese and English."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kb.catalog.models import Holding, Record, RecordFormat
from kb.delivery.models import DeliveryRequest
from kb.delivery.states import Status
from tests.support.chat import ChatClient, texts

pytestmark = pytest.mark.stack

TICKET = re.compile(r"DD-\d{4}-\d{6}")
NATURE_REF = (
    "LeCun Y, Bengio Y, Hinton G. Deep learning. Nature. 2015;521(7553):436-44. "
    "doi:10.1038/nature14539"
)


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in r.get("buttons", [])]


def button(replies: list[dict[str, Any]], title: str) -> dict[str, str]:
    found = [b for b in buttons(replies) if b["title"] == title]
    assert found, (title, texts(replies))
    return found[0]


def ticket_in(replies: list[dict[str, Any]]) -> str:
    match = TICKET.search(texts(replies))
    assert match, texts(replies)
    return match.group(0)


def request_row(stack, ticket: str) -> DeliveryRequest:  # type: ignore[no-untyped-def]
    with stack.db() as session:
        row = session.scalar(select(DeliveryRequest).where(DeliveryRequest.ticket == ticket))
        assert row is not None
        session.expunge(row)
        return row


def holders(stack, journal: str) -> set[str]:  # type: ignore[no-untyped-def]
    with stack.db() as session:
        ids = select(Record.id).where(
            Record.title == journal, Record.format == RecordFormat.JOURNAL
        )
        return set(session.scalars(select(Holding.library_code).where(Holding.record_id.in_(ids))))


async def open_by_email(
    chat: ChatClient, first: str, reference: str, address: str
) -> list[dict[str, Any]]:
    """Start a request, paste the reference, choose e-mail, give the address; returns the summary."""
    asked = await chat.say(first)
    assert "DOI" in texts(asked)  # "paste a DOI, ISBN, PMID, ..."
    how = await chat.say(reference)
    email = await chat.click(buttons(how)[0])  # the first button: e-mail
    assert "邮箱" in texts(email)
    return await chat.say(address)


async def test_a_pasted_reference_with_a_doi_is_routed_to_a_member_library(stack, chat) -> None:
    summary = await open_by_email(
        chat, "我要申请文献传递", "这篇：" + NATURE_REF, "我的邮箱是 zhang.san@pku.edu.cn"
    )
    text = texts(summary)
    assert "请确认" in text and "Deep learning" in text and "10.1038/nature14539" in text
    assert "复制件" in text  # an article only comes as a copy: not asked
    done = await chat.click(button(summary, "确认提交"))
    ticket = ticket_in(done)
    assert "已发送给" in texts(done)
    row = request_row(stack, ticket)
    assert (row.doi, row.journal, row.article_title) == (
        "10.1038/nature14539",
        "Nature",
        "Deep learning",
    )
    assert row.current_lender in holders(stack, "Nature") and row.status is Status.SENT
    assert row.contact_email == "zhang.san@pku.edu.cn"  # kept encrypted, read back here

    # The same article again: the open ticket, not a second one.
    again = await chat.say("再帮我传递这篇：" + NATURE_REF)
    assert "电子邮件" in texts(again) or "电子邮件" in str(buttons(again))
    again = await chat.click(button(again, "电子邮件"))  # the address given before is used
    duplicate = await chat.click(button(again, "确认提交"))
    assert "不用重复提交" in texts(duplicate) and ticket in texts(duplicate)
    with stack.db() as session:
        count = session.scalars(
            select(DeliveryRequest).where(DeliveryRequest.doi == "10.1038/nature14539")
        ).all()
        assert len(count) == 1


async def test_a_journal_alone_makes_the_form_ask_for_the_article(stack, chat) -> None:
    asked = await chat.say("I'd like to request an article through interlibrary loan")
    assert "Paste a DOI" in texts(asked)
    missing = await chat.say("The Lancet")
    assert "title of the article" in texts(missing)
    how = await chat.say("Social determinants of health in urban China")
    pickup = await chat.click(button(how, "Pickup"))
    where = await chat.click(button(pickup, "Tsinghua University Library"))
    assert "Please check your request" in texts(where) and "The Lancet" in texts(where)
    done = await chat.click(button(where, "Submit"))
    row = request_row(stack, ticket_in(done))
    assert (row.journal, row.article_title) == (
        "The Lancet",
        "Social determinants of health in urban China",
    )
    assert row.pickup_library == "THU" and row.current_lender in holders(stack, "The Lancet")
    assert "sent to" in texts(done)


async def test_a_bare_doi_opens_an_unrouted_request_and_a_bad_one_is_explained(stack, chat) -> None:
    bad = await chat.say("please get me doi:nature14539")
    assert "not a valid DOI" in texts(bad)
    how = await chat.say("10.1016/j.cell.2021.04.015")
    email = await chat.click(button(how, "E-mail"))
    summary = await chat.say("my address is li.lei@example.edu")
    done = await chat.click(button(summary, "Submit"))
    assert "librarian at the delivery centre" in texts(done)
    row = request_row(stack, ticket_in(done))
    assert row.doi == "10.1016/j.cell.2021.04.015" and row.status is Status.SUBMITTED
    assert email


async def test_a_faq_in_the_middle_then_back_and_never_mind(stack, chat) -> None:
    await chat.say("can you get me an article from another library")
    how = await chat.say("10.1126/science.abc1234")
    assert "e-mail or pickup" in texts(how)
    faq = await chat.say("what time does the library close on sunday?")
    assert "e-mail or pickup" in texts(faq)  # answered, then the same question again
    assert len(faq) >= 2
    stopped = await chat.say("never mind")
    assert "not submitted" in texts(stopped)
    with stack.db() as session:
        assert (
            session.scalar(
                select(DeliveryRequest).where(DeliveryRequest.doi == "10.1126/science.abc1234")
            )
            is None
        )


async def test_giving_up_in_chinese(chat) -> None:
    asked = await chat.say("帮我申请一下文献传递")
    assert "DOI" in texts(asked)
    stopped = await chat.say("算了不要了")
    assert "不提交了" in texts(stopped)
    after = await chat.say("你好")
    assert "DOI" not in texts(after)  # the form is over


async def test_status_of_own_and_someone_elses_ticket_and_cancelling(stack, chat) -> None:
    summary = await open_by_email(
        chat, "我要申请文献传递", "这篇 10.1093/nar/gkab1112", "邮箱 wang@ruc.edu.cn"
    )
    mine = ticket_in(await chat.click(button(summary, "确认提交")))

    status = await chat.say(f"查一下 {mine} 的进度")
    assert mine in texts(status) and "已提交" in texts(status)
    listed = await chat.say("我的文献传递到哪一步了")
    assert mine in texts(listed)

    other = ChatClient(stack.ws_url)
    await other.connect()
    try:
        theirs = await other.say(f"status of {mine}")
        missing = await other.say("status of DD-2026-999999")
        assert mine not in texts(theirs) or "can't find" in texts(theirs)
        assert texts(theirs).replace(mine, "X") == texts(missing).replace("DD-2026-999999", "X")
        refused = await other.say(f"cancel {mine}")
        assert texts(refused).replace(mine, "X") == texts(missing).replace("DD-2026-999999", "X")
    finally:
        await other.close()

    confirm = await chat.say(f"取消 {mine}")
    assert "确定要取消" in texts(confirm)
    cancelled = await chat.click(button(confirm, "确定取消"))
    assert "已取消" in texts(cancelled)
    assert request_row(stack, mine).status is Status.CANCELLED
    again = await chat.say(f"取消 {mine}")
    assert "不能取消" in texts(again)


async def test_the_openurl_page_hands_its_draft_to_the_chat(stack, chat) -> None:
    query = "url_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.jtitle=Nature&rft.atitle=Deep+learning&rft.date=2015&rft_id=info:doi/10.1038/nature14539"
    page = httpx.get(f"{stack.gateway_url}/openurl?{query}", timeout=30)
    token = re.search(r"/chat\?draft=([^\"&]+)", page.text)
    assert token, page.text[:500]
    replies = await chat._turn(
        {"type": "draft", "token": token.group(1), "title": "Continue my request from the link"}, 30
    )
    assert "read the item from your link" in texts(replies)
    assert "e-mail or pickup" in texts(replies)
    forged = await chat._turn(
        {
            "type": "draft",
            "token": token.group(1)[:-2] + "00",
            "title": "Continue my request from the link",
        },
        30,
    )
    assert "expired or is not valid" in texts(forged)
