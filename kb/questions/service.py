from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.conversations.models import Conversation
from kb.questions.models import QuestionStatus, ReferenceQuestion


def open_question_for(
    session: Session, conv: Conversation, reason: str
) -> ReferenceQuestion | None:
    return session.scalar(
        select(ReferenceQuestion)
        .where(
            ReferenceQuestion.conversation_id == conv.id,
            ReferenceQuestion.status == QuestionStatus.OPEN,
            ReferenceQuestion.reason == reason,
        )
        .order_by(ReferenceQuestion.id.desc())
    )


def leave_question(
    session: Session, conv: Conversation, text: str, reason: str
) -> ReferenceQuestion:
    """Keep what the patron wrote for a librarian; later lines join the same open question."""
    question = open_question_for(session, conv, reason)
    if question is None:
        question = ReferenceQuestion(
            patron_id=conv.patron_id,
            conversation_id=conv.id,
            channel=conv.channel,
            language=conv.language,
            reason=reason,
            text=text,
        )
        session.add(question)
    else:
        question.text = f"{question.text}\n{text}"
    session.flush()
    return question
