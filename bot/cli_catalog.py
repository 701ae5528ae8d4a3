"""``refdesk catalog ...``: import, harvest, search and generate catalog records."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from bot.cli_session import migrated_session
from kb.settings import get_settings

catalog_app = typer.Typer(help="Union catalog: imports, harvesting, search.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
_SHOWN_PROBLEMS = 20


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[records]} records"),
        TimeElapsedColumn(),
        console=err,
    )


def _print_summary(title: str, summaries: list) -> None:  # type: ignore[type-arg]
    table = Table(title=title)
    for column in (
        "source",
        "read",
        "added",
        "updated",
        "unchanged",
        "deleted",
        "skipped",
        "warnings",
    ):
        table.add_column(column, justify="left" if column == "source" else "right")
    for s in summaries:
        table.add_row(
            s.source,
            *(
                str(v)
                for v in (
                    s.read,
                    s.added,
                    s.updated,
                    s.unchanged,
                    s.deleted,
                    s.skipped,
                    len(s.warnings),
                )
            ),
        )
    console.print(table)
    for s in summaries:
        for problem in s.problems[:_SHOWN_PROBLEMS]:
            style = "red" if problem.severity == "error" else "yellow"
            console.print(f"[{style}]{problem}[/]", highlight=False)
        if len(s.problems) > _SHOWN_PROBLEMS:
            console.print(f"... and {len(s.problems) - _SHOWN_PROBLEMS} more (see --report)")
        if s.aborted:
            console.print(f"[bold red]stopped: {s.aborted}[/]", highlight=False)


def _write_report(path: Path, summaries: list) -> None:  # type: ignore[type-arg]
    with path.open("w", encoding="utf-8") as out:
        out.write("source\tseverity\tposition\trecord\treason\n")
        for s in summaries:
            for p in s.problems:
                out.write(
                    f"{s.source}\t{p.severity}\t{p.position}\t{p.record_id or ''}\t{p.reason}\n"
                )
            if s.aborted:
                out.write(f"{s.source}\tfatal\t\t\t{s.aborted}\n")


@catalog_app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="MARC (.mrc), MARCXML (.xml) or CSV files")],
    source: Annotated[
        str | None, typer.Option(help="Name of where the records come from (default: the format)")
    ] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="marc, marcxml or csv (default: detected)")
    ] = None,
    library: Annotated[
        str | None, typer.Option(help="Member library code for holdings that name none")
    ] = None,
    encoding: Annotated[str, typer.Option(help="CSV text encoding, e.g. gb18030")] = "utf-8-sig",
    report: Annotated[
        Path | None, typer.Option(help="Write every problem to this TSV file")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes importing at once; a large CSV or MARC file is split into "
            "parts (default: the number of cores on PostgreSQL, 1 on SQLite)",
        ),
    ] = None,
) -> None:
    """Import catalog records; importing the same records again updates them."""
    from kb.catalog.imports import FileFormat
    from kb.catalog.imports.jobs import import_files
    from kb.migrate import upgrade

    for path in files:
        if not path.is_file():
            err.print(f"[red]{path}: no such file[/]")
            raise typer.Exit(2)
    url = get_settings().database_url
    upgrade(url)
    with _progress() as progress:
        tasks = {
            path: progress.add_task(path.name, total=path.stat().st_size, records=0)
            for path in files
        }

        def advance_for(path: Path) -> Callable[[int | None, int], None]:
            def advance(offset: int | None, records: int) -> None:
                if offset is not None:
                    progress.update(tasks[path], completed=offset, records=records)
                else:
                    progress.update(tasks[path], records=records)

            return advance

        summaries = import_files(
            url,
            files,
            jobs=jobs,
            source=source,
            file_format=FileFormat(file_format) if file_format else None,
            default_library=library,
            encoding=encoding,
            progress=advance_for,
        )
        for path, summary in zip(files, summaries, strict=True):
            progress.update(tasks[path], completed=path.stat().st_size, records=summary.read)
    _print_summary("Import", summaries)
    if report:
        _write_report(report, summaries)
    if any(s.aborted for s in summaries):
        raise typer.Exit(1)


@catalog_app.command("harvest")
def harvest_command(
    url: Annotated[str, typer.Argument(help="OAI-PMH base URL")],
    set_spec: Annotated[str | None, typer.Option("--set", help="setSpec to harvest")] = None,
    from_date: Annotated[
        str | None, typer.Option("--from", help="Harvest changes since (default: last run)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Harvest changes up to")] = None,
    prefix: Annotated[str, typer.Option(help="metadataPrefix: marc21, marcxml, oai_dc")] = "marc21",
    library: Annotated[
        str | None, typer.Option(help="Member library code for holdings that name none")
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Ignore a saved resumption token and start the run again")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="Write every problem to this TSV file")
    ] = None,
) -> None:
    """Harvest an OAI-PMH repository: new, changed and deleted records since the last run;
    an interrupted harvest goes on from its last stored page."""
    from kb.catalog.imports.oaipmh import harvest

    with migrated_session() as session, _progress() as progress:
        task = progress.add_task(url, total=None, records=0)
        summary = harvest(
            session,
            url,
            metadata_prefix=prefix,
            set_spec=set_spec,
            from_date=from_date,
            until=until,
            default_library=library,
            restart=restart,
            progress=lambda _offset, records: progress.update(task, records=records),
        )
    _print_summary("Harvest", [summary])
    if summary.resumed_from_token:
        console.print(f"resumed from token {summary.resumed_from_token!r}")
    console.print(f"pages: {summary.pages}; next harvest from: {summary.next_from or '-'}")
    if report:
        _write_report(report, [summary])
    if summary.aborted:
        raise typer.Exit(1)


@catalog_app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="What a patron would type")],
    language: Annotated[str, typer.Option(help="Reply language: zh or en")] = "zh",
    page: int = 1,
    remote: Annotated[bool, typer.Option(help="Also search the configured SRU catalogs")] = False,
) -> None:
    """Search the catalog as the chatbot does."""
    from kb.catalog.search import search, suggest

    if remote:
        _federated(query)
        return
    with migrated_session() as session:
        result = search(session, query, page=page)
        console.print(
            f"{result.total}{'+' if result.total_is_lower_bound else ''} hits", highlight=False
        )
        for hit in result.hits:
            r = hit.record
            console.print(
                f"[bold]{r.title}[/] {' / '.join(r.authors[:2])} {r.year or ''} ({r.format})",
                highlight=False,
            )
            console.print(f"    {hit.availability_text(language)}", highlight=False)
        if not result.hits:
            hints = suggest(session, query)
            for kind in ("spelling", "broader", "other_language"):
                for s in getattr(hints, kind):
                    console.print(f"try ({kind}): {s.query}  [{s.hits}]", highlight=False)


def _federated(query: str) -> None:
    from kb.catalog.federated import federated_search
    from kb.db import sessionmaker_for

    url = get_settings().database_url
    result = asyncio.run(federated_search(sessionmaker_for(url), query))
    for outcome in result.outcomes:
        state = "ok" if outcome.ok else f"failed: {outcome.error}"
        console.print(
            f"{outcome.name}: {outcome.hits} hits, {outcome.elapsed_ms:.0f} ms, {state}",
            highlight=False,
        )
    for hit in result.hits:
        console.print(
            f"[bold]{hit.title}[/] {' / '.join(hit.authors[:2])} {hit.year or ''} "
            f"<{', '.join(hit.sources)}>",
            highlight=False,
        )
    if result.partial:
        console.print("[yellow]partial results: a source did not answer[/]")


@catalog_app.command("sample")
def sample_command() -> None:
    """Load the bundled sample catalog into an empty catalog."""
    from kb.catalog.sample import load_sample

    with migrated_session() as session:
        summary = load_sample(session)
    if summary.loaded:
        console.print(f"{summary.records} records, {summary.holdings} copies (simulated holdings)")
    else:
        console.print(f"not loaded: {summary.reason}")


@catalog_app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Argument(help="File to write (.csv or .mrc)")],
    count: Annotated[int, typer.Option(help="How many records")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same catalog)")] = 1,
) -> None:
    """Write a synthetic catalog for benchmarks (clearly marked synthetic)."""
    from kb.catalog.synthetic import write_csv, write_marc

    writer = write_marc if out.suffix.lower() in (".mrc", ".marc") else write_csv
    written = writer(out, count, seed=seed)
    console.print(f"{written} synthetic records written to {out}")
