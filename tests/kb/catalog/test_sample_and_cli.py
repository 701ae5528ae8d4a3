"""The bundled sample catalog and the ``refdesk catalog`` commands."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli_catalog import catalog_app
from kb.catalog.models import Holding, Library, Record
from kb.catalog.sample import load_sample, sample_records, simulated_items

from .conftest import fixture


def test_sample_loads_once_into_an_empty_catalog(session, backend):
    summary = load_sample(session)
    assert summary.loaded and summary.records > 900 and summary.libraries == 6
    assert session.scalar(select(func.count()).select_from(Holding)) == summary.holdings
    again = load_sample(session)
    assert not again.loaded and again.reason == "the catalog already has records"
    pku = session.get(Library, "PKU")
    assert (pku.name_zh, pku.short_zh, pku.short_en) == ("北京大学图书馆", "北大", "PKU")
    titles = set(session.scalars(select(Record.title)))
    assert {"三体", "活着", "平凡的世界", "围城", "红楼梦", "乡土中国", "人类简史", "Deep learning",
            "Pattern recognition and machine learning", "Dune", "Nineteen eighty-four"} <= titles  # fmt: skip


def test_sample_holdings_are_the_same_on_every_load():
    bib = next(r for r in sample_records() if r.title == "三体")
    first = simulated_items(bib, date(2026, 1, 1))
    assert first == simulated_items(bib, date(2026, 1, 1))
    assert 2 <= len({i.library_code for i in first}) <= 5


def test_every_sample_isbn_is_valid_and_records_are_real_books():
    records = list(sample_records())
    assert len({(r.source, r.source_id) for r in records}) == len(records)
    for record in records:
        assert record.title.strip()
        for isbn in record.isbns:
            assert len(isbn) == 13 and isbn.isdigit()


def test_cli_import_prints_the_summary_and_problems(tmp_path, monkeypatch):
    from kb.settings import get_settings

    monkeypatch.setenv("REFDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    runner = CliRunner()
    report = tmp_path / "problems.tsv"
    result = runner.invoke(
        catalog_app,
        ["import", str(fixture("marc", "bad_records.mrc")), str(fixture("marc", "chabon.mrc")),
         "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "record 2 (byte 127)" in result.output
    assert "marc" in result.output
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "source\tseverity\tposition\trecord\treason"
    assert any("\terror\trecord 7 (byte 764)\t" in line for line in lines)

    searched = runner.invoke(catalog_app, ["search", "kavalier clay", "--language", "en"])
    assert "The amazing adventures of Kavalier and Clay" in searched.output

    broken = runner.invoke(
        catalog_app, ["import", str(fixture("marcxml", "three-records-second-bad.xml"))]
    )
    assert broken.exit_code == 1
    assert "line 72, column 29" in broken.output


def test_cli_generate_writes_a_synthetic_catalog_that_imports(tmp_path, monkeypatch):
    from kb.settings import get_settings

    monkeypatch.setenv("REFDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'gen.db'}")
    get_settings.cache_clear()
    runner = CliRunner()
    out = tmp_path / "synthetic.csv"
    assert runner.invoke(catalog_app, ["generate", str(out), "--count", "300"]).exit_code == 0
    runner.invoke(catalog_app, ["sample"])  # the member libraries the copies belong to
    result = runner.invoke(catalog_app, ["import", str(out), "--source", "synthetic"])
    assert result.exit_code == 0, result.output
    assert "300" in result.output
