"""MARC import (kb/catalog/imports): ISO 2709 (MARC 21, UNIMARC, MARC-8 CJK) and
MARCXML. Any bytes are read without an exception; a record that is not stored is
named with its position and a reason; the good records around a broken one are all
read (and, in the importer, all stored)."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kb.catalog.imports import FileFormat, import_file
from kb.catalog.imports.marc import RECORD_TERMINATOR, read_marc_stream
from kb.catalog.imports.marcxml import read_marcxml
from kb.catalog.imports.runner import InputError
from tests.fuzz.mutations import FIXTURES, examples, mutated_bytes

MARC_FILES = [
    "chabon.mrc", "summerland.mrc", "amstransactions.mrc", "marc8.dat", "marc12.marc",
    "chinese_mangled_multibyte.mrc", "cp866_unimarc.marc", "testunimarc.dat", "error.mrc",
    "bad_leaders_10_11.mrc", "bad_records.mrc", "utf8_with_bad_bytes.marc", "test.dat",
]  # fmt: skip
MARC_SAMPLES = [(FIXTURES / "marc" / name).read_bytes() for name in MARC_FILES]
# Single records that read cleanly on their own: the neighbours of a broken one.
GOOD_RECORDS = [
    chunk + RECORD_TERMINATOR
    for name in ("chabon.mrc", "summerland.mrc", "amstransactions.mrc", "marc12.marc")
    for chunk in (FIXTURES / "marc" / name).read_bytes().split(RECORD_TERMINATOR)
    if chunk.strip()
]
XML_SAMPLES = [
    (FIXTURES / "marcxml" / name).read_bytes()
    for name in ("chabon.xml", "marc12.xml", "chabon-missing-subfield-code.xml")
]


def read_all(data: bytes) -> list:  # type: ignore[type-arg]
    return list(read_marc_stream(io.BytesIO(data)))


def assert_every_unstored_record_is_named(results) -> None:  # type: ignore[no-untyped-def]
    for result in results:
        if result.record is None and result.deleted_id is None:
            assert result.problems, f"{result.position}: not stored and no reason given"
        for problem in result.problems:
            assert problem.position.startswith("record ") and problem.reason.strip()


@given(st.one_of(mutated_bytes(MARC_SAMPLES), st.binary(max_size=2000)))
@example(b"00026     2200025   4500\x1e\x1d")
@example(b"99999nam a2200000 a 4500" + b"\x1d")
def test_any_bytes_are_read_and_every_unread_record_is_named(data: bytes) -> None:
    results = read_all(data)
    assert_every_unstored_record_is_named(results)


@st.composite
def broken_between_good(draw: st.DrawFn) -> tuple[list[bytes], bytes, list[bytes]]:
    before = draw(st.lists(st.sampled_from(GOOD_RECORDS), min_size=1, max_size=3))
    after = draw(st.lists(st.sampled_from(GOOD_RECORDS), min_size=1, max_size=3))
    # The broken record keeps its terminator: a record boundary that is itself lost
    # merges two records, which no reader can undo.
    broken = draw(mutated_bytes(MARC_SAMPLES)).replace(RECORD_TERMINATOR, b"")
    return before, broken + RECORD_TERMINATOR, after


def _titles(results) -> list:  # type: ignore[no-untyped-def, type-arg]
    return [(r.record.source_id, r.record.title) if r.record else None for r in results]


@settings(max_examples=examples(100))
@given(broken_between_good())
def test_good_records_around_a_broken_one_are_all_read(parts) -> None:  # type: ignore[no-untyped-def]
    before, broken, after = parts
    results = read_all(b"".join(before) + broken + b"".join(after))
    expected_before = _titles(read_all(b"".join(before)))
    expected_after = _titles(read_all(b"".join(after)))
    assert _titles(results[: len(before)]) == expected_before
    assert _titles(results[-len(after) :]) == expected_after
    middle = results[len(before) : len(results) - len(after)]
    assert len(middle) <= 1  # a broken record is never taken for more than one
    assert_every_unstored_record_is_named(results)
    for result in middle:
        if result.record is None:
            assert f"record {len(before) + 1} " in result.problems[0].position


@given(st.one_of(mutated_bytes(XML_SAMPLES), st.binary(max_size=500)))
@example(b'<record xmlns="http://www.loc.gov/MARC21/slim"><datafield tag="245">'
         b'<subfield code="a">x</subfield></datafield></record>')  # fmt: skip
@example(
    '<record xmlns="http://www.loc.gov/MARC21/slim"><controlfield tag="008">'
    "850101s²²²²</controlfield></record>".encode()
)  # was a ValueError: "²".isdigit()
def test_marcxml_is_read_or_refused_as_a_whole_with_a_reason(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.xml"
        path.write_bytes(data)
        try:
            results = list(read_marcxml(path))
        except InputError as refused:
            assert "not well-formed XML" in str(refused)  # names where and why
            return
    for result in results:
        assert result.record is not None or result.problems


@settings(max_examples=examples(10), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=broken_between_good())
def test_the_importer_stores_every_good_record_and_names_the_broken_one(
    parts, sqlite_template: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from kb.catalog.libraries import SAMPLE_LIBRARIES, ensure_libraries
    from kb.db import engine_for, sessionmaker_for

    before, broken, after = parts
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        db = Path(tmp) / "catalog.db"
        shutil.copy(sqlite_template, db)
        url = f"sqlite:///{db}"
        data = Path(tmp) / "upload.mrc"
        data.write_bytes(b"".join(before) + broken + b"".join(after))
        session = sessionmaker_for(url)()
        try:
            ensure_libraries(session, SAMPLE_LIBRARIES)
            session.commit()
            summary = import_file(session, data, file_format=FileFormat.MARC)
        finally:
            session.close()
            engine_for(url).dispose()
    good_ids = {t[0] for t in _titles(read_all(b"".join(before + after))) if t}
    stored = summary.added + summary.updated + summary.unchanged
    assert summary.aborted is None
    assert stored >= len(good_ids)
    if summary.skipped:
        assert any(f"record {len(before) + 1} " in p.position for p in summary.errors)
