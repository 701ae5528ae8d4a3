"""Reference questions: what a patron left for a librarian to answer later."""

from kb.questions.models import QuestionStatus, ReferenceQuestion
from kb.questions.service import leave_question, open_question_for

__all__ = ["QuestionStatus", "ReferenceQuestion", "leave_question", "open_question_for"]
