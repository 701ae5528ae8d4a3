"""From a decoded MARC record to a catalog record: MARC 21 and UNIMARC/CNMARC.

Holdings come from 852 (institution $a, location $b, call number $h$i, barcode $p),
SirsiDynix-style 949 (call number $a, barcode $i, location $l, library $m, item type $t)
and CNMARC 905 (library $a, barcode $b, call number $d/$e). Chinese script in 880
fields (MARC 21 parallel fields) is preferred over its romanisation, which is kept as a
variant title so pinyin searches still find the record.
"""

from __future__ import annotations

import hashlib
import re

import pymarc

from kb.catalog.bibdata import BibRecord, ItemData
from kb.catalog.identifiers import normalize_isbn, normalize_issn
from kb.catalog.imports.report import Problem, Severity
from kb.catalog.languages import iso639_1
from kb.catalog.models import HoldingStatus, RecordFormat
from kb.catalog.search.analysis import close_cjk_gaps

# fmt: off
_NOT_BIBLIOGRAPHIC = {
    "u": "holdings", "v": "holdings", "x": "holdings", "y": "holdings",
    "z": "authority", "q": "community information",
}
# fmt: on
_TRAILING = re.compile(r"[\s/:;,.=]+$")
_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")
_OCLC = re.compile(r"\((?:OCoLC|OCLC)\)\D*(\d+)")


def clean(value: str | None) -> str:
    """Drop ISBD punctuation at the end ("Summerland /" → "Summerland")."""
    if not value:
        return ""
    # U+0098/U+009C bracket MARC non-sorting text ("\x98The\x9c"): not part of what is shown.
    value = value.replace("\x98", "").replace("\x9c", "")
    text = _TRAILING.sub("", close_cjk_gaps(" ".join(value.split())))
    return text.rstrip(" ,;:/=")


def bib_from_marc(record: pymarc.Record, position: str) -> tuple[BibRecord | None, list[Problem]]:
    kind = str(record.leader)[6:7]
    if kind in _NOT_BIBLIOGRAPHIC:
        reason = (
            f"a MARC {_NOT_BIBLIOGRAPHIC[kind]} record (leader/06 = {kind!r}), not a "
            "bibliographic one"
        )
        return None, [Problem(position, reason)]
    unimarc = bool(record.get_fields("200")) and not record.get_fields("245")
    bib = _from_unimarc(record) if unimarc else _from_marc21(record)
    problems: list[Problem] = []
    if not bib.title:
        tag = "200 $a" if unimarc else "245 $a"
        return None, [Problem(position, f"no title ({tag} is missing or empty)")]
    control = _first_control(record, "001")
    if control:
        org = _first_control(record, "003")
        bib.source_id = f"{org}:{control}" if org and not unimarc else control
    else:
        # No control number: the content identifies it, so re-importing still updates.
        key = f"{bib.title}|{'|'.join(bib.authors)}|{bib.year}|{'|'.join(bib.isbns)}"
        bib.source_id = "sha1:" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
        problems.append(
            Problem(
                position, "no control number (001); identified by its content", Severity.WARNING
            )
        )
    return bib, problems


def _first_control(record: pymarc.Record, tag: str) -> str | None:
    for field in record.get_fields(tag):
        if field.data and field.data.strip():
            return field.data.strip()
    return None


def _subs(field: pymarc.Field, *codes: str) -> list[str]:
    return [v for v in field.get_subfields(*codes) if v and v.strip()]


def _joined(field: pymarc.Field, codes: str, sep: str = " ") -> str:
    return clean(sep.join(_subs(field, *codes)))


def _vernacular(record: pymarc.Record, field: pymarc.Field) -> pymarc.Field | None:
    """The 880 field holding the original script of ``field`` (linked through $6)."""
    link = field.get("6")
    if not link or "-" not in link:
        return None
    occurrence = link.split("-", 1)[1][:2]
    for candidate in record.get_fields("880"):
        six = candidate.get("6") or ""
        if six.startswith(f"{field.tag}-{occurrence}"):
            return candidate
    return None


def _isbns(values: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in (normalize_isbn(v) for v in values) if i))


def _issns(values: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in (normalize_issn(v) for v in values) if i))


def _from_marc21(record: pymarc.Record) -> BibRecord:
    bib = BibRecord(source="", source_id="", title="")
    variants: list[str] = []
    for field in record.get_fields("245")[:1]:
        title = _joined(field, "anp")
        subtitle = clean(field.get("b")) or None
        original = _vernacular(record, field)
        if original is not None and _joined(original, "anp"):
            variants.append(" ".join(filter(None, [title, subtitle])))
            title, subtitle = _joined(original, "anp"), clean(original.get("b")) or None
        bib.title, bib.subtitle = title, subtitle
    for field in record.get_fields("130", "240", "246", "730"):
        if value := _joined(field, "anp"):
            variants.append(value)
    bib.variant_titles = list(dict.fromkeys(v for v in variants if v and v != bib.title))

    names: list[str] = []
    for field in record.get_fields("100", "110", "111", "700", "710", "711"):
        original = _vernacular(record, field)
        for source in (original, field):
            if source is not None and (
                name := _joined(source, "abq" if field.tag[1] == "0" else "ab")
            ):
                names.append(name)
    bib.authors = list(dict.fromkeys(names))

    subjects = []
    for field in record.get_fields("600", "610", "611", "630", "650", "651", "655"):
        if value := clean(" -- ".join(_subs(field, "a", "b", "t", "x", "y", "z", "v"))):
            subjects.append(value)
    bib.subjects = list(dict.fromkeys(subjects))

    for field in record.get_fields("084"):
        if (field.get("2") or "").strip().lower() in ("clc", "clcn", "ztf", "cclc") and field.get(
            "a"
        ):
            bib.clc = bib.clc or clean(field.get("a"))
    for field in record.get_fields("093"):  # Chinese practice: CLC in a local 093
        bib.clc = bib.clc or clean(field.get("a")) or None
    for field in record.get_fields("050", "090")[:1]:
        bib.lcc = _joined(field, "ab") or None
    for field in record.get_fields("082")[:1]:
        bib.ddc = clean(field.get("a")) or None

    bib.isbns = _isbns([v for f in record.get_fields("020") for v in _subs(f, "a")])
    bib.issns = _issns([v for f in record.get_fields("022") for v in _subs(f, "a")])
    for field in record.get_fields("035"):
        for value in _subs(field, "a"):
            if match := _OCLC.search(value):
                bib.other_ids.append(("oclc", match.group(1)))
    for field in record.get_fields("024"):
        doi = field.get("a")
        if (field.get("2") or "").lower() == "doi" and doi:
            bib.other_ids.append(("doi", doi.strip().lower()))

    fixed = _first_control(record, "008") or ""
    bib.language = iso639_1(fixed[35:38]) if len(fixed) >= 38 else None
    if not bib.language:
        for field in record.get_fields("041")[:1]:
            bib.language = iso639_1(field.get("a"))
    if len(fixed) >= 11 and fixed[7:11].isdecimal():
        bib.year = int(fixed[7:11])
    imprint = record.get_fields("264", "260")
    for field in imprint[:1]:
        bib.publisher = clean(field.get("b")) or None
        if bib.year is None and (match := _YEAR.search(field.get("c") or "")):
            bib.year = int(match.group(1))

    bib.format = _marc21_format(record, fixed)
    bib.links = _links(record)
    for field in record.get_fields("520")[:1]:
        bib.summary = clean(field.get("a")) or None
    bib.items = _items(record)
    return bib


def _marc21_format(record: pymarc.Record, fixed: str) -> RecordFormat:
    leader = str(record.leader)
    kind, level = leader[6:7], leader[7:8]
    if record.get_fields("502"):
        return RecordFormat.THESIS
    if level in ("a", "b"):
        return RecordFormat.ARTICLE
    if level == "s":
        return RecordFormat.JOURNAL
    electronic = kind == "m" or (len(fixed) > 23 and fixed[23] in "oqs")
    for field in record.get_fields("245"):
        electronic = electronic or "electronic resource" in (field.get("h") or "").lower()
    for field in record.get_fields("007"):
        electronic = electronic or (field.data or "").startswith("c")
    return RecordFormat.EBOOK if electronic else RecordFormat.BOOK


def _from_unimarc(record: pymarc.Record) -> BibRecord:
    bib = BibRecord(source="", source_id="", title="")
    for field in record.get_fields("200")[:1]:
        bib.title = _joined(field, "a")
        bib.subtitle = _joined(field, "e") or None
    bib.variant_titles = [
        v for f in record.get_fields("500", "510", "517") if (v := _joined(f, "a"))
    ]
    names = []
    for field in record.get_fields("700", "701", "702", "710", "711", "712"):
        name = ", ".join(v for v in (clean(field.get("a")), clean(field.get("b"))) if v)
        if name:
            names.append(name)
    bib.authors = list(dict.fromkeys(names))
    bib.subjects = list(
        dict.fromkeys(
            v
            for f in record.get_fields("600", "601", "605", "606", "607")
            if (v := clean(" -- ".join(_subs(f, "a", "x", "y", "z"))))
        )
    )
    for field in record.get_fields("690")[:1]:  # CNMARC: 中图法 class
        bib.clc = clean(field.get("a")) or None
    for field in record.get_fields("676")[:1]:
        bib.ddc = clean(field.get("a")) or None
    for field in record.get_fields("680")[:1]:
        bib.lcc = _joined(field, "ab") or None
    bib.isbns = _isbns([v for f in record.get_fields("010") for v in _subs(f, "a")])
    bib.issns = _issns([v for f in record.get_fields("011") for v in _subs(f, "a")])
    for field in record.get_fields("101")[:1]:
        bib.language = iso639_1(field.get("a"))
    for field in record.get_fields("100")[:1]:
        general = field.get("a") or ""
        if general[9:13].isdecimal():
            bib.year = int(general[9:13])
    for field in record.get_fields("210", "214")[:1]:
        bib.publisher = clean(field.get("c")) or None
        if bib.year is None and (match := _YEAR.search(field.get("d") or "")):
            bib.year = int(match.group(1))
    leader = str(record.leader)
    bib.format = {"s": RecordFormat.JOURNAL, "a": RecordFormat.ARTICLE}.get(
        leader[7:8], RecordFormat.EBOOK if leader[6:7] == "l" else RecordFormat.BOOK
    )
    if record.get_fields("328"):
        bib.format = RecordFormat.THESIS
    bib.links = _links(record)
    for field in record.get_fields("330")[:1]:
        bib.summary = clean(field.get("a")) or None
    bib.items = _items(record)
    return bib


def _links(record: pymarc.Record) -> list[dict[str, str]]:
    links = []
    for field in record.get_fields("856"):
        for url in _subs(field, "u"):
            label = clean(field.get("3") or field.get("y") or field.get("z")) or None
            links.append({"url": url.strip(), "label": label} if label else {"url": url.strip()})
    return links


# fmt: off
_STATUS_WORDS = (
    (("CHECKEDOUT", "CHECKED-OUT", "ON-LOAN", "ONLOAN", "LOANED", "借出"), HoldingStatus.ON_LOAN),
    (("MISSING", "LOST", "丢失", "遗失"), HoldingStatus.MISSING),
    (("ON-ORDER", "ONORDER", "INPROCESS", "IN-PROCESS", "CATALOGING", "加工"),
     HoldingStatus.IN_PROCESSING),
)
# fmt: on
_REFERENCE_WORDS = ("REFERENCE", "REF", "NONCIRC", "NON-CIRC", "工具书", "阅览", "不外借")


def _item_status(*values: str | None) -> tuple[HoldingStatus, bool]:
    text = " ".join(v for v in values if v).upper()
    status = next(
        (s for words, s in _STATUS_WORDS if any(w in text for w in words)),
        HoldingStatus.AVAILABLE,
    )
    return status, not any(w in text for w in _REFERENCE_WORDS)


def _items(record: pymarc.Record) -> list[ItemData]:
    items = []
    for field in record.get_fields("852"):
        status, loanable = _item_status(field.get("b"), field.get("z"))
        items.append(
            ItemData(
                library_code=clean(field.get("a")) or None,
                call_number=_joined(field, "khim") or None,
                location=clean(field.get("b") or field.get("c")) or None,
                status=status,
                loanable=loanable,
                barcode=clean(field.get("p")) or None,
            )
        )
    for field in record.get_fields("949"):
        status, loanable = _item_status(field.get("l"), field.get("t"))
        items.append(
            ItemData(
                library_code=clean(field.get("m")) or None,
                call_number=clean(field.get("a")) or None,
                location=clean(field.get("l")) or None,
                status=status,
                loanable=loanable,
                barcode=clean(field.get("i")) or None,
            )
        )
    for field in record.get_fields("905"):
        call_number = "/".join(v for v in (clean(field.get("d")), clean(field.get("e"))) if v)
        items.append(
            ItemData(
                library_code=clean(field.get("a")) or None,
                call_number=call_number or None,
                location=clean(field.get("c")) or None,
                barcode=clean(field.get("b")) or None,
            )
        )
    return items
