"""Imports run as several jobs (``refdesk catalog import --jobs N``): a file split into
parts imported at once must store the same records and report the same problems at the
same positions as one job; ids repeated across parts and re-imports must stay safe."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli_catalog import catalog_app
from kb.catalog.imports import FileFormat, read_file
from kb.catalog.imports.filepart import FilePart
from kb.catalog.imports.jobs import import_files
from kb.catalog.imports.parts import split_file
from kb.catalog.models import Holding, Record

from .conftest import fixture

HEADER = b"id,title,authors,summary,year,library,call_number,status\n"


def catalog_csv(count: int) -> bytes:
    """Records of two copies each, most of their bytes inside quoted summaries that hold
    newlines (so a part's planned start often falls inside one), with bad rows."""
    rows = [HEADER]
    for n in range(1, count + 1):
        summary = f'"Summary of {n},\nsecond line with ""quotes""\n{"lorem ipsum " * 12}"'
        year = "MMXX" if n % 7 == 0 else str(1950 + n % 70)
        title = "" if n % 11 == 0 else f'"Book {n}, volume\n{n % 3}"'
        rows.append(f"r{n},{title},Author {n},{summary},{year},PKU,A{n}/1,available\n".encode())
        rows.append(f"r{n},,,,,THU,A{n}/2,on_loan\n".encode())
        if n % 13 == 0:
            rows.append(b",No id here,,,,,,\n")
        if n % 17 == 0:
            rows.append(f"r{n}x,Caf\xe9 {n},,,1999,,,\n".encode("latin-1"))
    return b"".join(rows)


def problems(summary) -> list[tuple[str, str, str, str | None]]:  # type: ignore[no-untyped-def]
    return sorted((p.position, p.severity, p.reason, p.record_id) for p in summary.problems)


def stored(session, source: str) -> dict[str, tuple]:  # type: ignore[no-untyped-def,type-arg]
    copies = dict(
        session.execute(
            select(Record.source_id, func.count(Holding.id))
            .join(Holding, Holding.record_id == Record.id, isouter=True)
            .where(Record.source == source)
            .group_by(Record.source_id)
        ).all()
    )
    return {
        r.source_id: (r.title, r.summary, r.year, r.authors, copies[r.source_id])
        for r in session.scalars(select(Record).where(Record.source == source))
    }


def test_csv_parts_store_and_report_what_one_job_does(libraries, db_url, backend, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_bytes(catalog_csv(120))
    parts = split_file(path, FileFormat.CSV, 4, min_part_bytes=1)
    assert len(parts) == 4
    # Every part starts at a record's first row (its line starts with an id).
    lines = path.read_bytes()
    assert all(lines[p.start : p.start + 1] == b"r" for p in parts[1:])

    [one] = import_files(db_url, [path], jobs=1, source="one")
    [four] = import_files(db_url, [path], jobs=4, source="four", min_part_bytes=1)

    assert (four.read, four.added, four.skipped) == (one.read, one.added, one.skipped)
    assert one.added == 120 - 120 // 11 + 120 // 17
    assert not one.aborted and not four.aborted
    assert problems(four) == problems(one)
    assert sum(p.reason == "column 'title' is empty" for p in four.errors) == 2 * (120 // 11)
    assert sum("not utf-8" in p.reason for p in four.warnings) == 120 // 17
    libraries.expire_all()
    assert stored(libraries, "four") == stored(libraries, "one")


def test_marc_parts_store_and_report_what_one_job_does(libraries, db_url, backend, tmp_path):
    path = tmp_path / "many.mrc"
    names = ("bad_records.mrc", "chabon.mrc", "zdblokutf8.mrc", "summerland.mrc", "marc8.dat")
    path.write_bytes(b"".join(fixture("marc", name).read_bytes() for name in names))
    parts = split_file(path, FileFormat.MARC, 3, min_part_bytes=1)
    assert len(parts) == 3 and parts[1].first_number > 1

    [one] = import_files(db_url, [path], jobs=1, source="one", default_library="PKU")
    [three] = import_files(
        db_url, [path], jobs=3, source="three", default_library="PKU", min_part_bytes=1
    )

    assert (three.read, three.added, three.skipped) == (one.read, one.added, one.skipped)
    assert one.skipped > 0 and one.errors
    assert problems(three) == problems(one)
    # Positions are those of the whole file: a record of the last part by number and byte.
    whole = list(read_file(path, FileFormat.MARC))
    last = whole[-1].position
    assert last.startswith(f"record {len(whole)} (byte ")
    assert any(p.position == last for p in three.problems) == any(
        p.position == last for p in one.problems
    )
    libraries.expire_all()
    assert stored(libraries, "three") == stored(libraries, "one")


def test_an_id_in_two_parts_is_stored_once_and_reported(libraries, db_url, backend, tmp_path):
    path = tmp_path / "repeated.csv"
    body = catalog_csv(80)
    # The same record at the top and at the bottom, in two versions.
    first = b"dup,First version,,,2001,PKU,D/1,available\n"
    last = b"dup,Last version,,,2002,THU,D/2,available\n"
    path.write_bytes(HEADER + first + body[len(HEADER) :] + last)
    last_line = f"line {len(path.read_bytes().splitlines())}"

    [summary] = import_files(db_url, [path], jobs=2, source="rep", min_part_bytes=1)

    assert not summary.aborted
    records = stored(libraries, "rep")
    assert len(records) == summary.added
    kept = records["dup"]
    assert kept[0] in ("First version", "Last version") and kept[4] == 1
    # The version stored last replaced the other and says so, at its own line.
    replaced = [p for p in summary.warnings if "another job of this import" in p.reason]
    assert [p.record_id for p in replaced] == ["dup"]
    assert replaced[0].position == ("line 2" if kept[0] == "First version" else last_line)


def test_reimporting_with_jobs_updates_and_never_duplicates(libraries, db_url, backend, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_bytes(catalog_csv(60))
    [first] = import_files(db_url, [path], jobs=3, source="s", min_part_bytes=1)
    [again] = import_files(db_url, [path], jobs=3, source="s", min_part_bytes=1)
    assert first.added > 0 and not first.aborted
    assert (again.added, again.updated, again.unchanged) == (0, 0, first.added)
    assert not [p for p in again.warnings if "another job" in p.reason]

    edited = tmp_path / "edited.csv"
    edited.write_bytes(path.read_bytes().replace(b"Author 5,", b"Author Five,"))
    [third] = import_files(db_url, [edited], jobs=3, source="s", min_part_bytes=1)
    assert (third.added, third.updated) == (0, 1)
    count = libraries.scalar(select(func.count()).select_from(Record).where(Record.source == "s"))
    assert count == first.added


def test_cli_import_with_jobs_merges_the_parts_and_exits_1_on_a_refused_batch(
    tmp_path: Path, monkeypatch
):  # type: ignore[no-untyped-def]
    from kb.catalog.imports import parts
    from kb.settings import get_settings

    monkeypatch.setenv("REFDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    monkeypatch.setattr(parts, "MIN_PART_BYTES", 1)
    runner = CliRunner()
    runner.invoke(catalog_app, ["sample"])  # the member libraries
    path = tmp_path / "catalog.csv"
    path.write_bytes(catalog_csv(40))
    result = runner.invoke(catalog_app, ["import", str(path), "--jobs", "2", "--source", "cli"])
    assert result.exit_code == 0, result.output
    # 48 rows read as records: 40, 2 latin-1 ones, 3 without id, 3 again without title;
    # 39 stored: 40 and the 2 latin-1 ones but the 3 without a title
    assert "│ cli    │   48 │    39 │" in result.output

    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON records WHEN NEW.source_id = 'r39' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
        )
    engine.dispose()
    refused = runner.invoke(catalog_app, ["import", str(path), "--jobs", "2", "--source", "x"])
    assert refused.exit_code == 1
    said = " ".join(refused.output.split())
    assert "refused by the test trigger" in said
    assert "in part 2 of 2 of the file" in said


def test_a_csv_with_a_quote_inside_an_unquoted_field_stays_one_part(tmp_path):
    """The reader takes such a quote as a character; counting quotes to find where
    quoted fields end would then split inside one."""
    path = tmp_path / "inches.csv"
    body = catalog_csv(40)
    path.write_bytes(body + b'r999,A 12" floppy disk,,,1990,,,\n' + body[len(HEADER) :])
    assert split_file(path, FileFormat.CSV, 4, min_part_bytes=1) == [FilePart()]
    clean = tmp_path / "clean.csv"
    clean.write_bytes(body + b'r999,"A 12"" floppy disk",,,1990,,,\n')
    assert len(split_file(clean, FileFormat.CSV, 4, min_part_bytes=1)) == 4
