"""Catalog benchmark: import throughput and search latency on synthetic catalogs.

    .venv/bin/python bench/catalog/run.py --sizes 100000 1000000 [--backends sqlite postgres]

Builds synthetic catalogs (kb/catalog/synthetic.py) as CSV and MARC files under
bench/out/, imports them into a fresh database per backend with the real importers,
then times ``kb.catalog.search.search`` on a mixed query set (Chinese titles, English
keywords, authors, ISBNs) against a naive LIKE scan over the same records (the
baseline, at 100,000 records). Prints a table and writes bench/catalog/RESULTS.md.

    .venv/bin/python bench/catalog/run.py --imports-only --baseline-tree DIR --sizes ...

times the imports alone (no search, LIKE or alerts worker runs), each also with the
importer of checkout DIR on the same files. ``--jobs 2`` also imports each file with 2
processes (`refdesk catalog import --jobs 2`) in the same run, after the one-job import.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.machine import describe
from kb.catalog.identifiers import isbn10
from kb.catalog.search import search
from kb.catalog.synthetic import synthetic_records, write_csv, write_marc
from kb.db import engine_for, sessionmaker_for

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent.parent
OUT = ROOT.parent / "out"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARC_SIZE = 20_000
QUERIES_PER_KIND = 50


def database(backend: str, name: str) -> str:
    if backend == "sqlite":
        path = OUT / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def import_rate(
    url: str, path: Path, tree: Path = REPO, *, worker: bool = False, jobs: int = 1
) -> dict[str, float]:
    """Import ``path`` with the importer of checkout ``tree``, in a process of its own
    (import_cpu.py): records, rate, CPU µs per record (importer, PostgreSQL backend) and,
    with ``worker``, of the alerts worker's run over the new records; with ``jobs`` > 1,
    by that many processes (`refdesk catalog import --jobs`)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "import_cpu.py"), url, str(path)]
        + (["--worker"] if worker else [])
        + (["--jobs", str(jobs)] if jobs > 1 else []),
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"import with {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def query_set(size: int) -> list[tuple[str, str]]:
    """(kind, query) drawn from the generated records themselves."""
    rng = random.Random(7)
    wanted = set(rng.sample(range(1, size + 1), QUERIES_PER_KIND * 6))
    zh, en, authors, isbns = [], [], [], []
    for n, bib in enumerate(synthetic_records(size), start=1):
        if n not in wanted:
            continue
        if bib.language == "zh":
            start = rng.randint(0, max(0, len(bib.title) - 4))
            zh.append(bib.title[start : start + rng.randint(3, 6)])
            authors.append(f"作者 {bib.authors[0]}")
        else:
            words = [w for w in bib.title.replace(",", "").split() if len(w) > 3]
            en.append(" ".join(rng.sample(words, min(2, len(words)))))
            authors.append(f"by {bib.authors[0].split(',')[0]}")
        isbn = bib.isbns[0]
        isbns.append(isbn10(isbn) or isbn if len(isbns) % 2 else isbn)
    queries = [("zh title", q) for q in zh[:QUERIES_PER_KIND]]
    queries += [("en keywords", q) for q in en[:QUERIES_PER_KIND]]
    queries += [("author", q) for q in authors[:QUERIES_PER_KIND]]
    queries += [("isbn", q) for q in isbns[:QUERIES_PER_KIND]]
    return queries


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def search_latency(url: str, queries: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    session = sessionmaker_for(url)()
    for _, q in queries:  # warm caches once
        search(session, q)
    timings: dict[str, list[float]] = {}
    for kind, q in queries:
        started = time.perf_counter()
        search(session, q)
        timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        timings.setdefault("all", []).append(timings[kind][-1])
    session.close()
    return {kind: percentiles(values) for kind, values in timings.items()}


def like_latency(url: str, queries: list[tuple[str, str]]) -> tuple[float, float]:
    """The baseline: what a catalog without a search index does."""
    engine = engine_for(url)
    samples = []
    with engine.connect() as conn:
        for _, q in queries:
            term = q.removeprefix("作者 ").removeprefix("by ")
            pattern = f"%{term}%"
            started = time.perf_counter()
            conn.execute(
                text(
                    "SELECT id FROM records WHERE title LIKE :p OR CAST(authors AS TEXT) LIKE :p "
                    "OR CAST(subjects AS TEXT) LIKE :p OR CAST(isbns AS TEXT) LIKE :p LIMIT 5"
                ),
                {"p": pattern},
            ).all()
            samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def load_average() -> float:
    return round(float(Path("/proc/loadavg").read_text().split()[0]), 1)


def machine() -> list[str]:
    pg = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return [
        f"- {describe()} (shared with other work on this machine)",
        f"- SQLite {sqlite3.sqlite_version}, PostgreSQL {pg or '?'}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument(
        "--baseline-size", type=int, default=100_000, help="size at which LIKE and MARC are timed"
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="another checkout (e.g. `git archive main | tar -x -C DIR`) whose importer is "
        "timed on the same files in the same run, for CPU per record before/after",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        nargs="*",
        default=[],
        help="also import each file with this many processes (same run, fresh database)",
    )
    parser.add_argument(
        "--imports-only",
        action="store_true",
        help="time the imports alone: no search, LIKE or alerts worker runs",
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    rows: list[tuple] = []  # type: ignore[type-arg]
    marc = OUT / f"synthetic-{MARC_SIZE}.mrc"
    if not marc.exists():
        write_marc(marc, MARC_SIZE)
    for size in sorted(args.sizes):
        csv_path = OUT / f"synthetic-{size}.csv"
        if not csv_path.exists():
            print(f"generating {size:,} records ...", flush=True)
            write_csv(csv_path, size)
        queries = [] if args.imports_only else query_set(size)
        for backend in args.backends:
            url = database(backend, f"refdesk_bench_catalog_{size}")
            print(f"{backend} {size:,}: importing ...", flush=True)
            at_baseline = size == args.baseline_size
            worker = at_baseline and not args.imports_only
            imports = {"csv": import_rate(url, csv_path, worker=worker)}
            count = int(imports["csv"]["records"])
            latency = None if args.imports_only else search_latency(url, queries)
            baseline = like_latency(url, queries) if at_baseline and latency else None
            if at_baseline:
                marc_url = database(backend, "refdesk_bench_catalog_marc")
                imports["marc"] = import_rate(marc_url, marc, worker=worker)
            if args.baseline_tree:  # the same files into fresh databases, older code
                files = [("csv", csv_path)] + ([("marc", marc)] if at_baseline else [])
                for kind, path in files:
                    base_url = database(backend, "refdesk_bench_catalog_base")
                    imports[f"{kind} baseline"] = import_rate(
                        base_url, path, args.baseline_tree, worker=worker
                    )
            for jobs in args.jobs:  # the same files into fresh databases, N processes
                files = [("csv", csv_path)] + ([("marc", marc)] if at_baseline else [])
                for kind, path in files:
                    jobs_url = database(backend, "refdesk_bench_catalog_jobs")
                    imports[f"{kind} {jobs} jobs"] = import_rate(jobs_url, path, jobs=jobs)
            marc_rate = imports["marc"]["rate"] if "marc" in imports else None
            rate = imports["csv"]["rate"]
            rows.append(
                (backend, count, rate, marc_rate, latency, baseline, load_average(), imports)
            )
            print(rows[-1], flush=True)
            save(rows[-1])
    write_results()


RESULTS_JSON = OUT / "results.json"
NOTES = [
    "Notes:",
    "",
    "- Search goal (p95 ≤ 50 ms at 1M records): met on both backends (the 1,000,000 rows). "
    "Queries matching more than 500 records are ranked among their 500 newest matches "
    "(see kb/catalog/README.md). The import changes leave the search index byte-for-byte "
    "the same.",
    "- Topical alerts are no longer part of an import: the alerts worker's matching run "
    "(kb.alerts.items.collect_and_match, every REFDESK_ALERTS_POLL_SECONDS) tags and "
    "matches what imports committed, reading from durable cursors. 'alerts worker µs' is "
    "that run's CPU over the same records, timed right after the import with jieba's "
    "dictionary already loaded (as in the long-running worker). Baseline rows: main at "
    "980c757, whose imports ran that step inside the import (its worker run finds "
    "nothing), so its import µs compares with this code's import + worker µs. The step "
    "costs about what it did (a little less); it now runs in another process, on the other core, while "
    "the import goes on.",
    "- Tagging made cheaper instead (measured, CSV into SQLite, 20,000 records): the "
    "worker's run is ~170-260 µs a record (~330-400 on PostgreSQL), of which jieba's search-mode segmentation "
    "~36% (its output is the terms subscribers' keywords match: a cheaper segmenter or no "
    "HMM would change alerts), the vocabulary phrase search ~15%, decoding the records "
    "read back ~11%, matching ~12%. Subjects and class numbers are already tagged once "
    "each, titles are unique. Even with all but jieba free, the import would stay above "
    "200 µs on both backends, so the step moved; the worker's run got the import's rarer "
    "cyclic GC (~12% less CPU).",
    "- Where an import's CPU goes now (per record, 20,000 records, no profiler): CSV "
    "parsing ~21 µs, content digest ~14, index analysis ~28 (titles are unique, names and "
    "subjects cached), the PostgreSQL tsvector literal ~11 (was ~13: position labels made "
    "once), row values and identifiers ~8, spelling vocabulary ~6; on PostgreSQL the "
    "server's ~85-105 µs (holdings rows with their two foreign-key checks ~26-35, the "
    "GIN-indexed search documents ~18-24, records ~10, identifiers ~9, spelling words "
    "~8). CSV is parsed in the importing process: a second process cost ~40 µs a record "
    "more in all (pickling, start-up) to save ~9 µs in the first; MARC (~150-190 µs to "
    "parse) is still read ahead.",
    "- The import goal (5,000 records/s): on the machine at load ~1-2, 100,000 CSV "
    "records went in at ~6,300/s into SQLite and ~4,500/s into PostgreSQL; at 1,000,000, "
    "with the load at ~3, ~4,000/s and ~3,000/s. On one core (200 µs a record): met on "
    "SQLite (CSV ~155-175 µs), not quite on PostgreSQL (CSV ~205-255 µs, ~3,900-4,900 "
    "records/s), where the importer (~115-150 µs) and the server (~90-105 µs) are two "
    "processes that partly overlap on two cores. MARC is ~365-490 µs in all, its parsing "
    "in the second process.",
    "- A writer thread (each batch written and committed on a thread of its own while the importing thread read and prepared the next, batches committed in order, two queued at most) was measured and not kept: the GIL hand-offs cost more CPU than the overlap saved on this shared 2-core machine. Same files, run of 2026-11-21 23:36-23:51 UTC (AMD EPYC, 2 cores, Linux 6.18.44-fc-v595, Python 3.11.7, load 1.3-2.4; imports only): CSV 100,000 into PostgreSQL 3,797 rec/s, importer 164 µs + server 109 µs, against 3,403 rec/s, 145 + 119 µs for the code before (8dbbca8); into SQLite 5,630 rec/s, 186 µs against 5,649 rec/s, 173 µs; MARC 20,000 into PostgreSQL 1,801 against 2,801 rec/s, into SQLite 3,757 against 3,380; CSV 1,000,000 3,022 rec/s (159 + 108 µs) into PostgreSQL and 3,281 rec/s (232 µs) into SQLite, against 3,037 and 3,953 rec/s in the 20:59 run above. With 20,000 CSV records, threaded against the same code writing in the importing thread: 4,025 against 4,269 rec/s (importer 195 against 149 µs) on PostgreSQL, 5,297 against 6,724 rec/s (197 against 146 µs) on SQLite (load 1.9-2.1). Kept from that work: a batch the database refuses reported by position (SQLite's bulk rows as multi-row INSERTs, made for the thread, were taken out with it: not measured on their own). COPY was already the PostgreSQL bulk path for records, holdings, identifiers and search documents. The 5,000 records/s goal stays unmet on PostgreSQL and at 1,000,000 records on this shared machine: with the other core busy with other work there is no idle core for an overlap to use.",
    "- Two imports at once on PostgreSQL may commit their ids out of order; the alerts worker's run reads only up to the ids committed when it briefly held the advisory lock every import transaction holds shared while it takes ids (kb/catalog/ingestlock.py; tests/kb/alerts/test_concurrent_imports.py).",
    "- Kept as they were: SQLite's WAL journal with synchronous=NORMAL (an interrupted "
    "import never corrupts the database and loses only its uncommitted batch), the "
    "foreign keys, and the secondary indexes (dropping the unused ix_holdings_created_at "
    "and the redundant ix_record_identifiers_record_id saved ~1 µs a record on "
    "PostgreSQL).",
    "- Wall rates are those of a 2-core machine shared with other work (load averages "
    "above); CPU per record and same-run ratios are what compare. Three runs of the same "
    "code: both 1,000,000 rows in the first (the load ~3); SQLite 100,000 and then "
    "PostgreSQL 100,000 again each in a run of its own on a quieter machine (a test run "
    "had overlapped the first run's SQLite searches, and PostgreSQL's 100,000 had run at "
    "a load of ~4-7).",
    "",
]


def save(row: tuple) -> None:  # type: ignore[type-arg]
    """Runs for different sizes and backends add up (the 1M builds take long)."""
    saved = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    saved[f"{row[0]}-{row[1]}"] = row
    RESULTS_JSON.write_text(json.dumps(saved, indent=1))


def cpu_table(rows: list[list]) -> list[str]:  # type: ignore[type-arg]
    """Import CPU per record, this code and the baseline's, from the same run."""
    lines = [
        "",
        "Import CPU per record (importer process with its read-ahead child, plus the "
        "PostgreSQL backend; the load average at the end of each import). One core's rate "
        "is 1,000,000 ÷ import µs. Alerts worker: the CPU of the alerts worker's matching "
        "run over the imported records afterwards (tagging and matching, with its "
        "backend); the baseline tagged and matched inside the import, so its worker run "
        "finds nothing.",
        "",
        "| backend | file | records | code | wall rec/s | importer µs | PostgreSQL µs "
        "| import µs | one core rec/s | alerts worker µs | import + worker µs | load |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, *_, imports in (r for r in rows if len(r) > 7):
        for name, m in imports.items():
            kind, _, code = name.partition(" ")
            total = m["cpu_us"] + m["backend_us"]
            worker = m.get("alerts_us")
            after = f"{worker:.0f} | {total + worker:.0f}" if worker is not None else "– | –"
            lines.append(
                f"| {backend} | {kind.upper()} | {m['records']:,} | {code or 'this'} "
                f"| {m['rate']:,.0f} | {m['cpu_us']:.0f} | {m['backend_us']:.0f} | {total:.0f} "
                f"| {1e6 / total:,.0f} | {after} | {m['load']:.1f} |"
            )
    return lines


def jobs_table(rows: list[list]) -> list[str]:  # type: ignore[type-arg]
    """Imports by N processes against one, same files, same run."""
    lines = [
        "",
        "Import jobs (`refdesk catalog import --jobs N`): the same file by N processes "
        "against one, same run, fresh databases. CPU µs are per record, all processes "
        "(importers, PostgreSQL backends).",
        "",
        "| backend | file | records | jobs | wall rec/s | ÷ 1 job | importer µs | "
        "PostgreSQL µs | import µs | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, *_, imports in (r for r in rows if len(r) > 7):
        timed = []  # (kind, jobs, measurements) of the kinds imported with jobs too
        for name, m in imports.items():
            kind, _, code = name.partition(" ")
            if code and not code.endswith(" jobs"):
                continue
            if any(n.startswith(f"{kind} ") and n.endswith(" jobs") for n in imports):
                timed.append((kind, int(code.split()[0]) if code else 1, m))
        for kind, jobs, m in sorted(timed, key=lambda t: (t[0], t[1])):
            ratio = m["rate"] / imports[kind]["rate"]
            total = m["cpu_us"] + m["backend_us"]
            lines.append(
                f"| {backend} | {kind.upper()} | {m['records']:,} | {jobs} | {m['rate']:,.0f} "
                f"| {ratio:.2f}× | {m['cpu_us']:.0f} | {m['backend_us']:.0f} | {total:.0f} "
                f"| {m['load']:.1f} |"
            )
    return lines if len(lines) > 6 else []


def write_results() -> None:
    saved = json.loads(RESULTS_JSON.read_text())
    rows = sorted(saved.values(), key=lambda r: (r[1], r[0]))
    lines = [
        "# Catalog benchmark",
        "",
        "`.venv/bin/python bench/catalog/run.py` — synthetic catalogs (kb/catalog/synthetic.py), "
        "imported with the real CSV and MARC importers; search is `kb.catalog.search.search` "
        f"on {QUERIES_PER_KIND} queries of each kind drawn from the catalog (Chinese title "
        'fragments, English keyword pairs, authors as "作者 X" / "by X", ISBN-13 and ISBN-10). '
        "Baseline: `LIKE '%q%'` over title, authors, subjects and ISBNs (LIMIT 5) at "
        "100,000 records.",
        "",
        "| backend | records | import CSV rec/s | import MARC rec/s (20k) | search p50 ms | search p95 ms "
        "| zh p95 | en p95 | author p95 | isbn p95 | LIKE p50 / p95 ms | LIKE p95 ÷ search p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, count, rate, marc_rate, latency, baseline, *_ in rows:
        like = f"{baseline[0]:.1f} / {baseline[1]:.1f}" if baseline else "–"
        if latency:
            p50, p95 = latency["all"]
            ratio = f"{baseline[1] / p95:.1f}×" if baseline else "–"
            timed = f"{p50:.1f} | {p95:.1f} | " + " | ".join(
                f"{latency[kind][1]:.1f}" for kind in ("zh title", "en keywords", "author", "isbn")
            )
        else:  # an --imports-only run
            ratio, timed = "–", " | ".join(["–"] * 6)
        lines.append(
            f"| {backend} | {count:,} | {rate:,.0f} | {f'{marc_rate:,.0f}' if marc_rate else '–'} "
            f"| {timed} | {like} | {ratio} |"
        )
    lines += cpu_table(rows)
    lines += jobs_table(rows)
    loads = ", ".join(f"{r[0]} {r[1]:,}: {r[6]}" for r in rows)
    lines += ["", "Machine:", *machine(), f"- load average at the end of each run: {loads}", ""]
    lines += NOTES
    (ROOT / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
