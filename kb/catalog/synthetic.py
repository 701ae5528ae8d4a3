"""Synthetic catalogs of any size, for benchmarks only.

Every record is marked as synthetic: source "synthetic", publisher "合成数据出版社 /
Synthetic Data Press". Titles, names and subjects are drawn from a vocabulary of common
real words followed by a long tail of made-up ones, with a Zipf distribution, so that
a few words are frequent and most are rare, as in a real catalog.
"""

from __future__ import annotations

import csv
import itertools
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pymarc
from stdnum import ean

from kb.catalog.bibdata import BibRecord, ItemData
from kb.catalog.libraries import SAMPLE_LIBRARIES
from kb.catalog.models import HoldingStatus, RecordFormat

SOURCE = "synthetic"
PUBLISHER = {"zh": "合成数据出版社", "en": "Synthetic Data Press"}
VOCABULARY_SIZE = 20_000
# Zipf with an offset: the commonest word is in a few percent of titles, not a third.
_ZIPF_OFFSET = 10

# fmt: off
_ZH_WORDS = ["中国", "历史", "文化", "社会", "经济", "发展", "研究", "理论", "实践", "方法", "教育", "科学", "技术", "管理", "政治", "法律", "文学", "艺术", "哲学", "思想", "城市", "农村", "环境", "生态", "能源", "信息", "数据", "网络", "计算", "智能", "系统", "设计", "工程", "材料", "化学", "物理", "生物", "医学", "健康", "心理", "语言", "传播", "媒体", "图书", "档案", "知识", "创新", "改革", "制度", "市场", "金融", "贸易", "产业", "企业", "组织", "战略", "国际", "全球", "区域", "地方", "古代", "近代", "现代", "当代", "传统", "民族", "宗教", "伦理", "美学", "诗歌", "小说", "戏剧", "音乐", "电影", "建筑", "考古", "地理", "气候", "海洋", "天文"]
_ZH_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
    "而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把"
    "性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质"
    "气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活"
)
_ZH_SUFFIX = ("研究", "导论", "概论", "史", "论", "十讲", "新编", "手册", "教程", "文集", "", "", "")
_EN_WORDS = ["history", "culture", "society", "economy", "development", "theory", "practice", "method", "education", "science", "technology", "management", "politics", "law", "literature", "art", "philosophy", "thought", "city", "rural", "environment", "ecology", "energy", "information", "data", "network", "computing", "intelligence", "system", "design", "engineering", "materials", "chemistry", "physics", "biology", "medicine", "health", "psychology", "language", "communication", "media", "library", "archive", "knowledge", "innovation", "reform", "institution", "market", "finance", "trade", "industry", "enterprise", "organization", "strategy", "international", "global", "regional", "ancient", "modern", "contemporary", "tradition", "nation", "religion", "ethics", "aesthetics", "poetry", "novel", "drama", "music", "film", "architecture", "archaeology", "geography", "climate", "ocean", "astronomy", "mathematics", "statistics", "algorithm", "model", "analysis", "evaluation", "policy", "governance", "public", "service", "security", "risk", "population", "family", "children", "youth", "ageing", "women", "labour", "employment", "transport", "tourism", "sport", "war", "diplomacy", "news", "publishing", "reading", "writing", "translation", "comparative", "empire", "river", "mountain", "island", "frontier", "silk", "road", "china", "europe", "america", "africa", "asia", "pacific", "atlantic"]
_EN_SYLLABLES = ["ka", "ro", "tel", "mon", "dri", "vas", "pel", "lun", "sor", "ben", "tak", "mir", "gol", "fen", "ar", "is", "on", "ul", "er", "an", "tra", "ple", "bri", "cor", "dan", "vel", "min", "sto", "har", "pin", "qua", "rel", "sen", "tor", "zan", "lo", "mi", "ne", "ri", "sa", "te", "vo"]
_EN_PATTERNS = ("{a} and {b}", "The {a} of {b}", "{a} in {b}", "{a} {b}", "A history of {a}",
                "Introduction to {a} {b}", "{a}, {b} and {c}", "Studies in {a} {b}")
_ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
_ZH_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅辉建国志文斌宇浩凯晨阳欣怡雪琳婷雨萱子涵博轩"
_EN_FIRST = ["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Margaret", "Paul", "Sandra", "Steven", "Ashley"]
_EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell"]
_CLASSES = ("B", "C", "D", "F", "G", "H", "I", "J", "K", "N", "O", "P", "Q", "R", "S", "T", "TP",
            "TU", "U", "X")
CSV_COLUMNS = ("id", "title", "authors", "subjects", "isbn", "language", "year", "publisher",
               "format", "clc", "library", "call_number", "status")
# fmt: on


class _Vocabulary:
    def __init__(self, real: list[str], invent: Callable[[random.Random], str]) -> None:
        rng = random.Random(len(real))
        words, seen = list(real), set(real)
        while len(words) < VOCABULARY_SIZE:
            word = invent(rng)
            if word not in seen:
                seen.add(word)
                words.append(word)
        self.words = words
        self.weights = list(
            itertools.accumulate(1 / (rank + _ZIPF_OFFSET) for rank in range(len(words)))
        )

    def draw(self, rng: random.Random, k: int = 1) -> list[str]:
        return rng.choices(self.words, cum_weights=self.weights, k=k)


_ZH_VOCABULARY = _Vocabulary(_ZH_WORDS, lambda rng: "".join(rng.sample(_ZH_CHARS, 2)))
_EN_VOCABULARY = _Vocabulary(
    _EN_WORDS, lambda rng: "".join(rng.choice(_EN_SYLLABLES) for _ in range(rng.randint(2, 3)))
)


def _isbn(prefix: str, number: int) -> str:
    body = f"{prefix}{number:0{12 - len(prefix)}d}"[:12]
    return body + ean.calc_check_digit(body)


def synthetic_records(count: int, *, seed: int = 1) -> Iterator[BibRecord]:
    rng = random.Random(seed)
    codes = [lib.code for lib in SAMPLE_LIBRARIES]
    for n in range(1, count + 1):
        language = "zh" if rng.random() < 0.5 else "en"
        if language == "zh":
            title = "".join(_ZH_VOCABULARY.draw(rng, rng.randint(2, 4))) + rng.choice(_ZH_SUFFIX)
            authors = [
                rng.choice(_ZH_SURNAMES) + "".join(rng.sample(_ZH_GIVEN, rng.randint(1, 2)))
                for _ in range(rng.randint(1, 2))
            ]
            subjects = _ZH_VOCABULARY.draw(rng, rng.randint(1, 3))
            isbn = _isbn("9787", n)
        else:
            a, b, c = _EN_VOCABULARY.draw(rng, 3)
            title = rng.choice(_EN_PATTERNS).format(a=a, b=b, c=c)
            title = title[0].upper() + title[1:]
            authors = [
                f"{rng.choice(_EN_LAST)}, {rng.choice(_EN_FIRST)}" for _ in range(rng.randint(1, 2))
            ]
            subjects = [w.capitalize() for w in _EN_VOCABULARY.draw(rng, rng.randint(1, 3))]
            isbn = _isbn("9780", n)
        items = [
            ItemData(
                library_code=code,
                call_number=f"{rng.choice(_CLASSES)}{rng.randint(0, 999)}/{rng.randint(1, 999)}",
                status=rng.choices(list(HoldingStatus), weights=(70, 20, 5, 5))[0],
            )
            for code in rng.sample(codes, rng.randint(1, 3))
        ]
        yield BibRecord(
            source=SOURCE,
            source_id=f"syn{n:08d}",
            title=title,
            authors=authors,
            subjects=subjects,
            clc=f"{rng.choice(_CLASSES)}{rng.randint(0, 99)}",
            isbns=[isbn],
            language=language,
            year=rng.randint(1950, 2025),
            publisher=PUBLISHER[language],
            format=RecordFormat.BOOK if rng.random() < 0.9 else RecordFormat.EBOOK,
            items=items,
        )


def write_csv(path: Path, count: int, *, seed: int = 1) -> int:
    """One row per copy, as the CSV importer reads it."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for bib in synthetic_records(count, seed=seed):
            first = [
                bib.source_id, bib.title, ";".join(bib.authors), ";".join(bib.subjects),
                bib.isbns[0], bib.language, bib.year, bib.publisher, bib.format.value, bib.clc,
            ]  # fmt: skip
            for index, item in enumerate(bib.items):
                cells = first if index == 0 else [bib.source_id] + [""] * (len(first) - 1)
                writer.writerow([*cells, item.library_code, item.call_number, item.status.value])
    return count


def _field(tag: str, indicators: str, *subfields: tuple[str, str]) -> pymarc.Field:
    return pymarc.Field(
        tag=tag,
        indicators=pymarc.Indicators(indicators[0], indicators[1]),
        subfields=[pymarc.Subfield(code, value) for code, value in subfields],
    )


def write_marc(path: Path, count: int, *, seed: int = 1) -> int:
    """MARC 21 (UTF-8) with 852 holdings."""
    with path.open("wb") as out:
        for bib in synthetic_records(count, seed=seed):
            record = pymarc.Record(force_utf8=True, leader="00000nam a2200000 a 4500")
            lang = "chi" if bib.language == "zh" else "eng"
            record.add_field(
                pymarc.Field(tag="001", data=bib.source_id),
                pymarc.Field(tag="008", data=f"000101s{bib.year}    xx            000 0 {lang} d"),
                _field("020", "  ", ("a", bib.isbns[0])),
                _field("084", "  ", ("a", bib.clc or ""), ("2", "clc")),
                _field("100", "1 ", ("a", bib.authors[0])),
                _field("245", "10", ("a", bib.title)),
                _field("264", " 1", ("b", bib.publisher or ""), ("c", str(bib.year))),
            )
            for subject in bib.subjects:
                record.add_field(_field("650", " 0", ("a", subject)))
            for item in bib.items:
                record.add_field(
                    _field(
                        "852", "  ", ("a", item.library_code or ""), ("h", item.call_number or "")
                    )
                )
            out.write(record.as_marc())
    return count
