"""The controlled vocabulary of alert topics: CLC classes with bilingual labels and the
words patrons use for them, loaded from ``kb/data/alerts/clc_topics.yml`` (editable;
``REFDESK_ALERTS_TOPICS_FILE`` points elsewhere)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kb.alerts.text import STOPWORDS, cjk_phrases, keyword_key
from kb.catalog.search.analysis import contains_cjk, fold

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
BUNDLED = Path(__file__).resolve().parent.parent / "data" / "alerts" / "clc_topics.yml"
# A CLC number: one or two letters, digits with dots, then optional auxiliary parts
# (TP18-09, I247.55=6, K25(2)); the class is the part before them.
_CLC_NUMBER = re.compile(r"([A-Z]{1,2}(?:\d[\d.]*)?)(?:[-=(:\"<].*)?")


@dataclass(frozen=True)
class Topic:
    code: str
    zh: str
    en: str
    words: tuple[str, ...]

    def label(self, language: str | None) -> str:
        if language == "en":
            return f"{self.en} ({self.code})"
        if language == "zh":
            return f"{self.zh}（{self.code}）"
        return f"{self.zh} / {self.en} ({self.code})"


@dataclass
class Understood:
    """What a patron's words were taken to mean: classes and free keywords."""

    topics: list[Topic] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.topics or self.keywords)


class Vocabulary:
    def __init__(self, topics: list[Topic]):
        self.topics = {t.code: t for t in topics}
        # (folded phrase, code), longest first: the longest phrase wins a span.
        phrases: dict[str, str] = {}
        for t in topics:
            for phrase in (t.zh, t.en, *t.words):
                for part in re.split(r"[、,，]\s*", phrase):
                    folded = fold(part).strip()
                    # A phrase that names several classes means the most specific one
                    # (法律 is in D's label "政治、法律" and is D9 itself).
                    if folded and (folded not in phrases or len(t.code) > len(phrases[folded])):
                        phrases[folded] = t.code
        self._phrases = sorted(phrases.items(), key=lambda p: -len(p[0]))
        # Each phrase with its pattern, compiled once (``find`` runs for every imported
        # record), and the phrases by their first two characters: a phrase can only be
        # in a text that has its first two characters, so most are never tried.
        self._patterns = [_pattern(phrase) for phrase, _ in self._phrases]
        self._by_start: dict[str, list[int]] = {}
        for index, (phrase, _) in enumerate(self._phrases):
            self._by_start.setdefault(phrase[:2], []).append(index)
        # Subjects and class numbers repeat across a catalog: each is tagged once.
        self._named: dict[str, frozenset[str]] = {}
        self._under: dict[str | None, frozenset[str]] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> Vocabulary:
        data = yaml.safe_load((path or BUNDLED).read_text("utf-8"))
        topics = []
        for i, entry in enumerate(data.get("topics") or []):
            try:
                code, zh, en = str(entry["code"]), str(entry["zh"]), str(entry["en"])
            except (KeyError, TypeError) as exc:
                raise ValueError(f"{path or BUNDLED}: topics[{i}] needs code, zh and en") from exc
            words = tuple(str(w) for w in entry.get("words") or ())
            topics.append(Topic(code, zh, en, words))
        return cls(topics)

    def get(self, code: str) -> Topic | None:
        return self.topics.get(code)

    def ancestors(self, clc: str | None) -> set[str]:
        """Vocabulary classes a CLC number falls under: TP181.2 → {T, TP18, TP181}."""
        found: set[str] = set()
        for number in re.split(r"[;,/\s]+", (clc or "").strip().upper()):
            match = _CLC_NUMBER.fullmatch(number)
            if not match:
                continue
            code = match.group(1).rstrip(".")
            for end in range(1, len(code) + 1):
                if code[:end] in self.topics:
                    found.add(code[:end])
        return found

    def classes_of(self, clc: str | None) -> frozenset[str]:
        """``ancestors``, remembered per class number."""
        found = self._under.get(clc)
        if found is None:
            found = _remember(self._under, clc, frozenset(self.ancestors(clc)))
        return found

    def classes_named(self, text: str) -> frozenset[str]:
        """The classes ``find`` sees in ``text`` with their broader classes, remembered
        per text."""
        found = self._named.get(text)
        if found is None:
            codes, _ = self.find(text)
            covered = frozenset(c for code in codes for c in self.covering(code))
            found = _remember(self._named, text, covered)
        return found

    def covering(self, code: str) -> set[str]:
        """The class and its broader classes in the vocabulary (a subscriber to TP18
        wants an item tagged TP181)."""
        return {c for c in self.topics if code.startswith(c)}

    def find(self, text: str) -> tuple[list[str], str]:
        """Classes named in ``text`` (longest phrase first) and the text left over."""
        rest = fold(text or "")
        codes: list[str] = []
        candidates = self._candidates(rest, after=-1)
        while candidates:
            index = candidates.pop()
            phrase, code = self._phrases[index]
            pattern = self._patterns[index]
            if phrase not in rest or (pattern is not None and pattern.search(rest) is None):
                continue
            rest = rest.replace(phrase, " ") if pattern is None else pattern.sub(" ", rest)
            if code not in codes:
                codes.append(code)
            # Taking a phrase out can bring two parts of the text together.
            candidates = self._candidates(rest, after=index)
        return codes, rest

    def _candidates(self, text: str, *, after: int) -> list[int]:
        """Indexes past ``after`` of the phrases that may occur in ``text``, the first
        to try last."""
        starts = {text[i : i + 2] for i in range(len(text))} | set(text)
        found = {
            index
            for start in starts & self._by_start.keys()
            for index in self._by_start[start]
            if index > after
        }
        return sorted(found, reverse=True)

    def understand(self, text: str) -> Understood:
        """Map a patron's words ("人工智能和考古", "climate change, AI") to classes and
        keep what matched no class as free keywords."""
        result = Understood()
        for chunk in re.split(r"[,，、;；/]|\s+(?:and|or|&)\s+", text or ""):
            codes, rest = self.find(chunk)
            for code in codes:
                topic = self.topics[code]
                if topic not in result.topics:
                    result.topics.append(topic)
            keys = [keyword_key(p) for p in cjk_phrases(rest)]
            latin = " ".join(
                w for w in re.split(r"\s+", re.sub(CJK_RUN, " ", rest)) if w and w not in STOPWORDS
            )
            if latin.strip():
                keys.append(keyword_key(latin))
            for key in keys:
                if key and key not in result.keywords:
                    result.keywords.append(key)
        return result


_REMEMBERED = 100_000


def _remember(cache: dict[Any, frozenset[str]], key: Any, value: frozenset[str]) -> frozenset[str]:
    if len(cache) >= _REMEMBERED:  # bounded: a long import must not grow it forever
        cache.clear()
    cache[key] = value
    return value


def _pattern(phrase: str) -> re.Pattern[str] | None:
    """None for a Chinese phrase (matched anywhere); a Latin phrase matches whole words,
    plural endings allowed, and word edges are any non-Latin-letter/digit ("python相关"
    names Python)."""
    if contains_cjk(phrase):
        return None
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?:s|es)?(?![a-z0-9])")


@lru_cache(maxsize=4)
def _load(path: str) -> Vocabulary:
    return Vocabulary.load(Path(path))


def vocabulary() -> Vocabulary:
    from kb.settings import get_settings

    configured = get_settings().alerts_topics_file
    return _load(str(configured or BUNDLED))
