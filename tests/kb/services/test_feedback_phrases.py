"""Feedback written in the message that asks to leave it is kept from that message."""

from __future__ import annotations

import pytest

from kb.feedback import FeedbackKind
from kb.feedback.phrases import feedback_in_message


@pytest.mark.parametrize(
    ("message", "text", "kind"),
    [
        ("投诉：三楼太吵了", "三楼太吵了", FeedbackKind.COMPLAINT),
        ("我要投诉：三楼自习室太吵了，没人管", "三楼自习室太吵了，没人管", FeedbackKind.COMPLAINT),
        ("complaint: the wifi keeps dropping", "the wifi keeps dropping", FeedbackKind.COMPLAINT),
        ("Complaint - the wifi keeps dropping", "the wifi keeps dropping", FeedbackKind.COMPLAINT),
        ("suggestion: more power outlets please", "more power outlets please", FeedbackKind.SUGGESTION),
        ("feedback: love the new reading room", "love the new reading room", FeedbackKind.PRAISE),
        ("表扬一下昨天的值班老师", "表扬一下昨天的值班老师", FeedbackKind.PRAISE),
        ("建议延长开放时间", "建议延长开放时间", FeedbackKind.SUGGESTION),
        ("三楼空调太冷了", "三楼空调太冷了", FeedbackKind.COMPLAINT),
        ("the library is way too noisy", "the library is way too noisy", FeedbackKind.COMPLAINT),
    ],
)  # fmt: skip
def test_feedback_in_the_first_message_is_kept(message: str, text: str, kind: FeedbackKind) -> None:
    assert feedback_in_message(message) == (text, kind)


@pytest.mark.parametrize(
    "message",
    [
        "投诉一下", "我要投诉", "我想提个建议", "给你们提点意见", "我要反馈问题", "有个建议",
        "怎么投诉", "在哪里提意见", "投诉电话是多少", "feedback", "complaint",
        "i want to leave feedback", "i have a complaint", "i'd like to make a complaint",
        "how do i file a complaint", "where can i give feedback", "can i make a suggestion?",
        "/feedback", "",
    ],
)  # fmt: skip
def test_a_message_that_only_asks_to_leave_feedback_carries_none(message: str) -> None:
    assert feedback_in_message(message) is None
