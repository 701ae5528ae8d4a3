"""MARC, MARCXML and CSV imports on real files: round trips, idempotent re-imports, and
bad input reported with its position while the good records are kept."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kb.catalog.imports import FileFormat, Severity, import_file
from kb.catalog.models import Holding, HoldingStatus, Record, RecordFormat
from kb.catalog.search import search

from .conftest import fixture, refusing_records


def count(session, model=Record) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_marc_round_trip_and_reimport_updates_never_duplicates(libraries, backend, tmp_path):
    session = libraries
    path = fixture("marc", "chabon.mrc")
    first = import_file(session, path, source="loc")
    assert (first.read, first.added, first.skipped) == (2, 2, 0)
    record = session.scalar(select(Record).where(Record.title.like("The amazing adventures%")))
    assert record.authors[0] == "Chabon, Michael"
    assert record.year == 2000 and record.language == "en" and record.format == RecordFormat.BOOK
    assert "Heroes in mass media -- Fiction" in record.subjects
    assert record.publisher == "Random House"
    assert record.isbns == ["9780679450047"]

    again = import_file(session, path, source="loc")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert count(session) == 2

    # The same record exported again with a change: updated in place.
    changed = path.read_bytes().replace(b"Kavalier and Clay", b"Kavalier & Clay")
    edited = tmp_path / "chabon-edited.mrc"
    edited.write_bytes(changed)
    third = import_file(session, edited, source="loc")
    assert (third.added, third.updated, third.unchanged) == (0, 1, 1)
    assert count(session) == 2
    assert search(session, "Kavalier & Clay").hits[0].record.id == record.id


def test_broken_marc_records_are_reported_by_position_and_the_rest_kept(libraries, backend):
    summary = import_file(libraries, fixture("marc", "bad_records.mrc"))
    assert summary.read == 8
    assert summary.skipped == 6
    errors = {p.position: p.reason for p in summary.errors}
    assert errors["record 2 (byte 127)"].startswith("leader positions 12-16 (base address")
    assert "not a number" in errors["record 6 (byte 637)"]
    assert errors["record 7 (byte 764)"] == "the record has no fields"
    # The good records on either side of the broken ones were stored.
    assert count(libraries) >= 1
    assert search(libraries, "pragmatic programmer").total >= 1


def test_wrong_record_length_is_a_warning_and_the_next_record_still_reads(
    libraries, backend, tmp_path
):
    records = fixture("marc", "chabon.mrc").read_bytes().split(b"\x1d")[:2]
    lying = b"99999" + records[0][5:]  # leader says 99,999 bytes
    corrupt = b"00100nam  22000611a 4500" + b"garbage"  # leader/12-16 not a number
    path = tmp_path / "mixed.mrc"
    path.write_bytes(lying + b"\x1d" + corrupt + b"\x1d" + records[1] + b"\x1d")
    summary = import_file(libraries, path)
    assert (summary.read, summary.added, summary.skipped) == (3, 2, 1)
    warning = summary.warnings[0]
    assert warning.position == "record 1 (byte 0)"
    assert "leader/00-04 says 99999 bytes" in warning.reason
    assert summary.errors[0].position.startswith("record 2 (byte ")
    assert "base address" in summary.errors[0].reason


def test_invalid_utf8_is_reported_with_its_field_and_the_record_kept(libraries, backend):
    summary = import_file(libraries, fixture("marc", "utf8_with_bad_bytes.marc"))
    assert summary.added == 1
    assert any("field 245 $a: invalid UTF-8" in p.reason for p in summary.warnings)
    assert "\ufffd" in libraries.scalar(select(Record.title))


def test_marc8_text_is_decoded(libraries, backend):
    import_file(libraries, fixture("marc", "marc8.dat"))
    title = libraries.scalar(select(Record.title))
    assert title and title.isprintable()
    assert search(libraries, title.split()[0]).total == 1


def test_chinese_parallel_fields_make_the_title_searchable_in_chinese_and_pinyin(
    libraries, backend
):
    import_file(libraries, fixture("marc", "amstransactions.mrc"))
    record = libraries.scalar(select(Record))
    assert record.title == "百万国民党军起义投诚纪实续集"
    assert record.language == "zh"
    assert record.variant_titles == ["Bai wan guo min dang jun qi yi tou cheng ji shi xu ji"]
    assert search(libraries, "国民党军起义").hits[0].record.id == record.id
    assert search(libraries, "qi yi tou cheng").hits[0].record.id == record.id


def test_unimarc_records_with_chinese_titles(libraries, backend):
    summary = import_file(libraries, fixture("marc", "pride-and-prejudice-fixed.mrc"))
    assert summary.skipped == 0 and summary.added > 300
    hits = search(libraries, "傲慢與偏見").hits
    assert hits and all("傲慢與偏見" in h.record.title for h in hits)
    assert any(h.record.authors for h in hits)


def test_marc_holdings_records_are_refused_with_the_reason(libraries, backend):
    summary = import_file(libraries, fixture("marc", "zdblokutf8.mrc"))
    assert summary.added == 0
    assert summary.skipped == summary.read
    assert "holdings record (leader/06 = 'y')" in summary.errors[0].reason


def test_852_holdings_go_to_the_member_library_named_or_the_default(libraries, backend, tmp_path):
    import pymarc

    record = pymarc.Record(force_utf8=True, leader="00000nam a2200000 a 4500")
    record.add_field(
        pymarc.Field(tag="001", data="h-1"),
        pymarc.Field(tag="245", indicators=pymarc.Indicators("0", "0"),
                     subfields=[pymarc.Subfield("a", "图书馆学基础")]),
        pymarc.Field(tag="852", indicators=pymarc.Indicators(" ", " "),
                     subfields=[pymarc.Subfield("a", "PKU"), pymarc.Subfield("b", "中文书库"),
                                pymarc.Subfield("h", "G250"), pymarc.Subfield("i", "/12")]),
        pymarc.Field(tag="852", indicators=pymarc.Indicators(" ", " "),
                     subfields=[pymarc.Subfield("a", "NOWHERE"), pymarc.Subfield("h", "G250")]),
        pymarc.Field(tag="949", indicators=pymarc.Indicators(" ", " "),
                     subfields=[pymarc.Subfield("a", "G250/12"), pymarc.Subfield("i", "3001"),
                                pymarc.Subfield("l", "CHECKEDOUT")]),
    )  # fmt: skip
    path = tmp_path / "holdings.mrc"
    path.write_bytes(record.as_marc())
    summary = import_file(libraries, path, default_library="THU")
    holdings = libraries.scalars(select(Holding).order_by(Holding.id)).all()
    assert [(h.library_code, h.call_number, h.location) for h in holdings] == [
        ("PKU", "G250 /12", "中文书库"),
        ("THU", "G250/12", "CHECKEDOUT"),
    ]
    assert holdings[1].status == HoldingStatus.ON_LOAN
    assert "unknown member library 'NOWHERE'" in summary.warnings[0].reason


def test_marcxml_round_trip_and_a_broken_file_keeps_what_came_before(libraries, backend):
    summary = import_file(libraries, fixture("marcxml", "chabon.xml"))
    assert (summary.read, summary.added) == (2, 2)
    assert import_file(libraries, fixture("marcxml", "chabon.xml")).unchanged == 2

    broken = import_file(libraries, fixture("marcxml", "three-records-second-bad.xml"))
    assert broken.added == 1
    assert "line 72, column 29" in broken.aborted


def test_marcxml_field_without_code_is_dropped_with_its_line(libraries, backend):
    summary = import_file(libraries, fixture("marcxml", "chabon-missing-subfield-code.xml"))
    assert summary.added == 1
    assert summary.warnings[0].reason == "line 8: subfield of 020 without a code attribute dropped"


CSV_HEADER = "id,title,authors,isbn,language,year,format,clc,library,call_number,status,due_date\n"


def test_csv_rows_make_records_with_copies_and_reimport_is_idempotent(libraries, backend, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(
        CSV_HEADER
        + "1,三体,刘慈欣,978-7-5366-9293-0,chi,2008,book,I247.55,PKU,I247.55/8,available,\n"
        + "1,,,,,,,,THU,I247.55/8,on_loan,2030-01-15\n"
        + '2,"Deep learning","Goodfellow, Ian;Bengio, Yoshua",0262035618,en,2016,book,TP181,,,,\n',
        encoding="utf-8",
    )
    summary = import_file(libraries, path)
    assert (summary.read, summary.added, summary.skipped) == (2, 2, 0)
    hit = search(libraries, "9787536692930").hits[0]
    assert hit.record.language == "zh"
    assert {(a.library.code, a.total, a.available) for a in hit.availability} == {
        ("PKU", 1, 1),
        ("THU", 1, 0),
    }
    assert search(libraries, "《Deep learning》").hits[0].record.authors == [
        "Goodfellow, Ian",
        "Bengio, Yoshua",
    ]
    assert import_file(libraries, path).unchanged == 2
    assert count(libraries) == 2 and count(libraries, Holding) == 2


def test_csv_bad_rows_are_reported_by_line(libraries, backend, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        CSV_HEADER.encode()
        + b"1,Good book,,,en,2001,book,,,,,\n"
        + b",No id,,,,,,,,,,\n"
        + b"3,,Nobody,,,,,,,,,\n"
        + b"4,Bad year and isbn,,12345,en,MMXX,scroll,,,,,\n"
        + b"5,Caf\xe9 latin-1,,,fr,1999,book,,,,,\n"
    )
    summary = import_file(libraries, path)
    assert summary.added == 3
    reasons = {(p.position, p.severity, p.reason) for p in summary.problems}
    assert ("line 3", Severity.ERROR, "column 'id' is empty") in reasons
    assert ("line 4", Severity.ERROR, "column 'title' is empty") in reasons
    assert ("line 5", Severity.WARNING, "isbn '12345' is not a valid ISBN; dropped") in reasons
    assert ("line 5", Severity.WARNING, "year 'MMXX' is not a year; left empty") in reasons
    assert any(p.position == "line 6" and "not utf-8" in p.reason for p in summary.warnings)


def test_csv_without_required_columns_says_which(libraries, backend, tmp_path):
    path = tmp_path / "nocols.csv"
    path.write_text("isbn,author\n9787536692930,刘慈欣\n", encoding="utf-8")
    summary = import_file(libraries, path)
    assert summary.added == 0
    assert "missing column(s) id, title" in summary.aborted


def test_reading_in_a_second_process_reports_the_same_as_reading_inline(
    libraries, backend, tmp_path
):
    """Large files are parsed in a second process; positions, reasons, what was stored
    and where a broken file stopped must not depend on that."""
    marc = fixture("marc", "bad_records.mrc")
    inline = import_file(libraries, marc, source="inline", read_ahead=False)
    ahead = import_file(libraries, marc, source="ahead", read_ahead=True)
    assert (ahead.read, ahead.added, ahead.skipped) == (inline.read, inline.added, inline.skipped)
    assert [(p.position, p.reason) for p in ahead.problems] == [
        (p.position, p.reason) for p in inline.problems
    ]

    broken = import_file(
        libraries, fixture("marcxml", "three-records-second-bad.xml"), read_ahead=True
    )
    assert broken.added == 1
    assert "line 72, column 29" in broken.aborted

    nocols = tmp_path / "nocols.csv"
    nocols.write_text("isbn,author\n9787536692930,刘慈欣\n", encoding="utf-8")
    assert "missing column(s) id, title" in import_file(libraries, nocols, read_ahead=True).aborted
    gone = import_file(
        libraries, tmp_path / "gone.csv", file_format=FileFormat.CSV, read_ahead=True
    )
    assert "No such file" in gone.aborted


def test_collections_are_rarer_during_an_import_and_as_before_after_it(libraries):
    import gc

    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    summary = import_file(
        libraries,
        fixture("marc", "chabon.mrc"),
        source="gc",
        progress=lambda _offset, _read: during.append(gc.get_threshold()),
    )
    assert summary.added > 0
    assert during and all(t[0] >= 50_000 for t in during)
    assert gc.get_threshold() == before


@pytest.fixture
def refusing_title(libraries, backend):
    with refusing_records(libraries, backend, "NEW.title = 'Refused'"):
        yield libraries


def test_a_batch_the_database_refuses_is_reported_and_the_batches_before_it_stay(
    refusing_title, tmp_path
):
    session = refusing_title
    path = tmp_path / "big.csv"
    rows = [f"{n},Book {n},,,en,2001,book,,PKU,,available,\n" for n in range(1, 2501)]
    rows[1499] = "1500,Refused,,,en,2001,book,,PKU,,available,\n"  # line 1,501: batch 2
    path.write_text(CSV_HEADER + "".join(rows), encoding="utf-8")

    summary = import_file(session, path)
    # Batches of 1,000: the first is committed, the second refused, the third never written.
    assert summary.added == 1000
    assert "the records from line 1002 to line 2001" in summary.aborted
    assert "refused by the test trigger" in summary.aborted
    assert set(session.scalars(select(Record.source_id))) == {str(n) for n in range(1, 1001)}

    # Once the database takes it, importing the file again stores the rest.
    rows[1499] = "1500,Accepted,,,en,2001,book,,PKU,,available,\n"
    path.write_text(CSV_HEADER + "".join(rows), encoding="utf-8")
    again = import_file(session, path)
    assert (again.added, again.unchanged, again.aborted) == (1500, 1000, None)
    assert count(session) == 2500
