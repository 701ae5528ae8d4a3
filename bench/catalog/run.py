"""Catalog benchmark: import throughput and search latency on synthetic catalogs.

    .venv/bin/python bench/catalog/run.py --sizes 100000 1000000 [--backends sqlite postgres]

Builds synthetic catalogs (kb/catalog/synthetic.py) as CSV and MARC files under
bench/out/, imports them into a fresh database per backend with the real importers,
then times ``kb.catalog.search.search`` on a mixed query set (Chinese titles, English
keywords, authors, ISBNs) against a naive LIKE scan over the same records (the
baseline, at 100,000 records). Prints a table and writes bench/catalog/RESULTS.md.
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
    url: str, path: Path, tree: Path = REPO, *, worker: bool = False
) -> dict[str, float]:
    """Import ``path`` with the importer of checkout ``tree``, in a process of its own
    (import_cpu.py): records, rate, CPU µs per record (importer, PostgreSQL backend) and,
    with ``worker``, of the alerts worker's run over the new records."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "import_cpu.py"), url, str(path)]
        + (["--worker"] if worker else []),
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
        queries = query_set(size)
        for backend in args.backends:
            url = database(backend, f"refdesk_bench_catalog_{size}")
            print(f"{backend} {size:,}: importing ...", flush=True)
            at_baseline = size == args.baseline_size
            imports = {"csv": import_rate(url, csv_path, worker=at_baseline)}
            count = int(imports["csv"]["records"])
            latency = search_latency(url, queries)
            baseline = like_latency(url, queries) if at_baseline else None
            if at_baseline:
                marc_url = database(backend, "refdesk_bench_catalog_marc")
                imports["marc"] = import_rate(marc_url, marc, worker=True)
                if args.baseline_tree:  # the same files into fresh databases, older code
                    for kind, path in (("csv", csv_path), ("marc", marc)):
                        base_url = database(backend, "refdesk_bench_catalog_base")
                        imports[f"{kind} baseline"] = import_rate(
                            base_url, path, args.baseline_tree, worker=True
                        )
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
    "- Search goal (p95 ≤ 50 ms at 1M records) was met on both backends in an earlier run "
    "(1M: p95 15.9 ms SQLite, 41.9 ms PostgreSQL); the import changes leave the search index "
    "and the alert items byte-for-byte the same. Queries matching more than 500 records are "
    "ranked among their 500 newest matches (see kb/catalog/README.md).",
    "- Every import now ends with the topical-alerts step (kb/alerts: each new record tagged "
    "with vocabulary classes and jieba-segmented terms, then matched). Baseline rows: main "
    "at 76deda6, before this work; most of their ~1,700 µs per record was that step (the "
    "topic finder compiled ~400 regular expressions per field). This code: the topic "
    "finder compiles each phrase once and tries only phrases whose first two characters "
    "occur, alert rows are read as plain rows, Python's cyclic GC runs every 50,000 "
    "allocations instead of 700 during an import (it cost ~20% of the CPU), and index "
    "analysis reuses its cached token tuples.",
    "- Where the CPU goes now (CSV into SQLite, per record, measured at 20,000 records): "
    "reading ~40 µs, storing ~85 µs (index analysis, digest, row encoding, SQLite/FTS5), "
    "alerts ~170 µs (jieba segmentation of new text ~50-60, topic finding ~20, reading the "
    "new records back, writing and matching items). MARC parsing adds ~150 µs, in a second "
    "process for files of 4 MiB or more. The one-core goal of 5,000 records/s (200 µs) is "
    "not met while the alerts step runs inside the import; reading and storing alone are "
    "~125 µs (estimated from the parts).",
    "- Kept as they were: SQLite's WAL journal with synchronous=NORMAL (an interrupted "
    "import never corrupts the database and loses only its uncommitted batch; turning "
    "journaling or syncing off for a load would risk both), and the secondary indexes "
    "(dropping and rebuilding them during a load would leave concurrent searches without "
    "them).",
    "- 1M rows were not rerun for this table (the shared machine did not leave time).",
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
        p50, p95 = latency["all"]
        like = f"{baseline[0]:.1f} / {baseline[1]:.1f}" if baseline else "–"
        ratio = f"{baseline[1] / p95:.1f}×" if baseline else "–"
        lines.append(
            f"| {backend} | {count:,} | {rate:,.0f} | {f'{marc_rate:,.0f}' if marc_rate else '–'} "
            f"| {p50:.1f} | {p95:.1f} | {latency['zh title'][1]:.1f} | {latency['en keywords'][1]:.1f} "
            f"| {latency['author'][1]:.1f} | {latency['isbn'][1]:.1f} | {like} | {ratio} |"
        )
    lines += cpu_table(rows)
    loads = ", ".join(f"{r[0]} {r[1]:,}: {r[6]}" for r in rows)
    lines += ["", "Machine:", *machine(), f"- load average at the end of each run: {loads}", ""]
    lines += NOTES
    (ROOT / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
