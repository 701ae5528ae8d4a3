"""The FAQ store the bot answers ``faq/<key>`` questions from (bilingual, editable)."""

from kb.faq.models import FaqAnswer
from kb.faq.service import FAQ_KEYS, answer_for, load_bundled, upsert_answer

__all__ = ["FAQ_KEYS", "FaqAnswer", "answer_for", "load_bundled", "upsert_answer"]
