"""`MixedScriptTokenizer`: Rasa's JiebaTokenizer, fit for mixed Chinese/English text."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from nlu.script import fold_width


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class MixedScriptTokenizer(JiebaTokenizer):
    """Jieba segmentation without the blank tokens Jieba emits between words.

    Jieba returns every space of "三体有没有 ebook" as a token of its own; those
    tokens end up inside entity spans and in the featurizers' vocabularies. They are
    dropped here, and every other token keeps its exact offsets in the text.

    Latin letters glued to digits are split apart ("isbn9787536692930" -> "isbn",
    "9787536692930"), as patrons glue prefixes to numbers and annotators mark the
    number alone; Jieba keeps such runs as one word.

    Full-width Latin letters and digits typed with a Chinese input method
    ("ｅｂｏｏｋ") are segmented as their ASCII forms; the token text stays as typed
    (entity values are cut from the text) and the lemma is the folded, lowercased
    form, which CountVectorsFeaturizer uses by default (`use_lemma`), so "Ebook",
    "ebook" and "ｅｂｏｏｋ" share one feature while LexicalSyntacticFeaturizer still
    sees the case.

    English words are stemmed in the lemma ("renewing", "renewed", "renews" ->
    "renew"; Snowball's English stemmer), so the featurizers see one feature for
    every form of a word, including forms the training data never had. Chinese
    tokens are not changed. Off by default (`stem_english: true` in config.yml), so
    a model trained before stemming existed keeps the lemmas it was trained on.
    Otherwise the
    same configuration keys as JiebaTokenizer (`dictionary_path`,
    `intent_tokenization_flag`, `intent_split_symbol`, `token_pattern`,
    `prefix_separator_symbol`).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**JiebaTokenizer.get_default_config(), "stem_english": False}

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["zh", "en"]

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        import jieba

        text: str = message.get(attribute)
        lemma = _english_stem if self._config["stem_english"] else str.lower
        tokens = [
            Token(text[start:end], start, end, lemma=lemma(piece))
            for word, word_start, _ in jieba.tokenize(fold_width(text))
            if not _is_blank(word)
            for piece, start, end in _letters_apart_from_digits(word, word_start)
        ]
        if not tokens and text:
            # Like Rasa's WhitespaceTokenizer: featurizers need at least one token.
            tokens = [Token(text, 0)]
        return self._apply_token_pattern(tokens)


_ENGLISH_WORD = re.compile(r"[A-Za-z]+")


@functools.cache
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def _english_stem(piece: str) -> str:
    """Lowercase stem of an English word (ASCII letters, as folded); anything
    else (Chinese, digits, accented words) only lowercased."""
    word = piece.lower()
    if not _ENGLISH_WORD.fullmatch(word):
        return word
    stem: str = _stemmer().stemWord(word)
    return stem


_LETTER_DIGIT_BOUNDARY = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def _letters_apart_from_digits(word: str, offset: int) -> list[tuple[str, int, int]]:
    pieces = []
    start = 0
    for piece in _LETTER_DIGIT_BOUNDARY.split(word):
        pieces.append((piece, offset + start, offset + start + len(piece)))
        start += len(piece)
    return pieces


def _is_blank(word: str) -> bool:
    """Whitespace, control and zero-width characters only (or nothing at all)."""
    return all(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in word)
