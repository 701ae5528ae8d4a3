"""Dublin Core records (oai_dc, srw_dc) to catalog records."""

from __future__ import annotations

import re

from lxml import etree

from kb.catalog.bibdata import BibRecord
from kb.catalog.identifiers import isbns_in, issns_in
from kb.catalog.imports.marcxml import local_name
from kb.catalog.languages import iso639_1
from kb.catalog.models import RecordFormat

DC_NAMESPACE = "http://purl.org/dc/elements/1.1/"
_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)")
# fmt: off
_FORMATS = (
    ("thesis", RecordFormat.THESIS), ("dissertation", RecordFormat.THESIS),
    ("article", RecordFormat.ARTICLE), ("journal", RecordFormat.JOURNAL),
    ("periodical", RecordFormat.JOURNAL), ("electronic", RecordFormat.EBOOK),
)
# fmt: on


def is_dublin_core(element: etree._Element) -> bool:
    return any(etree.QName(c).namespace == DC_NAMESPACE for c in element if isinstance(c.tag, str))


def bib_from_dublin_core(element: etree._Element, source_id: str) -> BibRecord | None:
    values: dict[str, list[str]] = {}
    for child in element.iter():
        if isinstance(child.tag, str) and etree.QName(child).namespace == DC_NAMESPACE:
            text = " ".join((child.text or "").split())
            if text:
                values.setdefault(local_name(child), []).append(text)
    titles = values.get("title", [])
    if not titles:
        return None
    identifiers = " ".join(values.get("identifier", []))
    bib = BibRecord(
        source="",
        source_id=source_id,
        title=titles[0],
        variant_titles=titles[1:],
        authors=values.get("creator", []) + values.get("contributor", []),
        subjects=values.get("subject", []),
        isbns=isbns_in(identifiers),
        issns=issns_in(identifiers),
        publisher=next(iter(values.get("publisher", [])), None),
        summary=next(iter(values.get("description", [])), None),
    )
    bib.other_ids = [("doi", m.lower()) for m in _DOI.findall(identifiers)]
    bib.links = [{"url": v} for v in values.get("identifier", []) if v.startswith("http")]
    for language in values.get("language", []):
        if code := iso639_1(language):
            bib.language = code
            break
    for date in values.get("date", []):
        if match := _YEAR.search(date):
            bib.year = int(match.group(1))
            break
    kinds = " ".join(values.get("type", [])).lower()
    bib.format = next((f for word, f in _FORMATS if word in kinds), RecordFormat.BOOK)
    return bib
