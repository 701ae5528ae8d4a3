"""Member libraries of the consortium."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.catalog.models import Library


@dataclass(frozen=True)
class MemberLibrary:
    code: str
    name_zh: str
    name_en: str
    short_zh: str
    short_en: str
    address_zh: str | None = None
    address_en: str | None = None


# The member libraries of the bundled sample catalog (real libraries of BALIS, the
# Beijing academic library consortium; their holdings in the sample are simulated).
# fmt: off
SAMPLE_LIBRARIES = (
    MemberLibrary(
        "PKU", "北京大学图书馆", "Peking University Library", "北大", "PKU",
        "北京市海淀区颐和园路5号", "5 Yiheyuan Road, Haidian District, Beijing",
    ),
    MemberLibrary(
        "THU", "清华大学图书馆", "Tsinghua University Library", "清华", "THU",
        "北京市海淀区清华园1号", "1 Tsinghua Yuan, Haidian District, Beijing",
    ),
    MemberLibrary(
        "RUC", "中国人民大学图书馆", "Renmin University of China Library", "人大", "RUC",
        "北京市海淀区中关村大街59号", "59 Zhongguancun Street, Haidian District, Beijing",
    ),
    MemberLibrary(
        "BNU", "北京师范大学图书馆", "Beijing Normal University Library", "北师大", "BNU",
        "北京市海淀区新街口外大街19号", "19 Xinjiekou Outer Street, Haidian District, Beijing",
    ),
    MemberLibrary(
        "CAPLIB", "首都图书馆", "Capital Library of China", "首图", "CAPLIB",
        "北京市朝阳区东三环南路88号", "88 East Third Ring Road South, Chaoyang District, Beijing",
    ),
    MemberLibrary(
        "BUAA", "北京航空航天大学图书馆", "Beihang University Library", "北航", "BUAA",
        "北京市海淀区学院路37号", "37 Xueyuan Road, Haidian District, Beijing",
    ),
)
# fmt: on


def ensure_libraries(session: Session, libraries: Iterable[MemberLibrary]) -> int:
    """Add the libraries the catalog does not have yet; returns how many were added."""
    known = set(session.scalars(select(Library.code)))
    added = 0
    for lib in libraries:
        if lib.code in known:
            continue
        session.add(
            Library(
                code=lib.code,
                name_zh=lib.name_zh,
                name_en=lib.name_en,
                short_zh=lib.short_zh,
                short_en=lib.short_en,
                address_zh=lib.address_zh,
                address_en=lib.address_en,
            )
        )
        added += 1
    session.flush()
    return added
