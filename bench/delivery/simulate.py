"""Document-delivery routing: refdesk's measured rota against "send to the first holding library".

A deterministic, seeded simulation of a consortium modelled on BALIS: 26 lenders,
two popular ones that hold most items but answer slowly (the two libraries that
got 80% of cross-system requests in BALIS's 2015-2017 cooperation with the
Capital Library, while the fastest were others), 24 faster ones that hold less,
and a few hundred requests over four months. Both strategies run through the
real code -- kb.delivery.service.open_request, routing, desk actions, the
transition table, advance_overdue -- on their own SQLite database, with a
simulated clock, the same catalog, the same demand and the same lender luck
(each lender's answer to each request is drawn from a generator seeded by the
pair, so it does not depend on the strategy). Only the rota order differs.

Lenders work through a queue: each has a daily capacity, so a lender that gets
everything falls behind, lets response times pass, and the request moves on
(ISO 18626 / BALIS practice). Run from the repository root:

    .venv/bin/python bench/delivery/simulate.py [--seed N] [--requests N] [--also-seeds N]
        [--results bench/delivery/RESULTS.md]
"""

from __future__ import annotations

import argparse
import heapq
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import log
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from stdnum import ean, issn  # noqa: E402

from kb.catalog.models import (  # noqa: E402
    Holding,
    HoldingStatus,
    Library,
    Record,
    RecordFormat,
    RecordIdentifier,
)
from kb.crypto import reset_keyring  # noqa: E402
from kb.db import sessionmaker_for  # noqa: E402
from kb.delivery import desk, routing, service  # noqa: E402
from kb.delivery.citations import Citation  # noqa: E402
from kb.delivery.desk import Actor, NotYourRequest  # noqa: E402
from kb.delivery.models import DeliveryRequest  # noqa: E402
from kb.delivery.routing import Candidate, Ranked, Ranker, measured_ranking  # noqa: E402
from kb.delivery.service import RequestDraft  # noqa: E402
from kb.delivery.states import (  # noqa: E402
    DeliveryMethod,
    Genre,
    ReasonUnfilled,
    ServiceType,
    Status,
)
from kb.delivery.transitions import TransitionRefused  # noqa: E402
from kb.migrate import upgrade  # noqa: E402
from kb.patrons.models import Patron  # noqa: E402
from kb.settings import get_settings  # noqa: E402

POPULAR = ("L01", "L02")
SCENARIO = """\
## Scenario (see `build_world`)

- Lenders, response time 2 days each, supply time 5 days after accepting (settings default):
  - L01, L02 (popular): hold about 80% of the items each and are catalogued first; fill 82% of
    what is on their shelf, never answer 5% of requests, work through 2.5 requests a day,
    answer a median 1.0 day after taking a request up, supply 2.0 days (mean) after accepting.
  - L03-L26: 0-4 of them hold each item (1.9 on average), in random catalog order after the
    popular two; fill 80-92%, never answer 2-5%, work through 0.8-1.5 requests a day, answer in
    0.2-0.6 days (median), supply in 0.3-0.8 days (mean).
- 500 items (30% books, 70% journals); 10% of holdings are out on loan (a lender fills
  10% of those), 15% of book holdings are reference-only, and 6% of items are so hard to
  find (a wrong citation, lost copies) that any lender finds them only 5% of the time.
- Demand: 400 requests over 120 days (Poisson arrivals, Zipf-like item popularity, 60
  patrons); books are 80% loans, the rest chapter copies; journal requests are article copies.
- The scheduler runs `advance_overdue` every simulated hour; a lender answering after the
  request moved on is refused (counted as a late answer).
- The naive strategy asks holding libraries in catalog order; refdesk uses
  `kb.delivery.routing.measured_ranking` (availability, smoothed fill rate and days from the
  lender's answers so far, open load). Both move on after an unfilled answer or a lapsed
  response time through the same code.

What it does not show: real BALIS data (none is public at request level); the lender
behaviour above is an assumption shaped after the BALIS figures in the issue.
"""
DAY = timedelta(days=1)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TICK = timedelta(hours=1)  # how often the scheduler runs advance_overdue


@dataclass(frozen=True)
class LenderTruth:
    """How a lender really behaves (the router never sees this, only the outcomes)."""

    code: str
    fill: float  # chance it supplies an item it holds on the shelf
    silent: float  # chance it never answers a request
    per_day: float  # requests it works through per day (its queue)
    answer_days: float  # median days from taking a request up to its yes or no
    supply_days: float  # mean days from accepting to supplying


@dataclass(frozen=True)
class HoldingTruth:
    library: str
    on_shelf: bool
    loanable: bool


@dataclass(frozen=True)
class Item:
    key: str  # ISSN for journals (articles are copied from them), ISBN for books
    is_book: bool
    holdings: tuple[HoldingTruth, ...]  # in catalog order: the popular libraries catalogued first
    lost_everywhere: bool  # a bad citation or an item nobody can find


@dataclass(frozen=True)
class Demand:
    at: datetime
    patron: int
    item: int
    loan: bool


@dataclass(frozen=True)
class Step:
    """Something that happens at a moment of the simulated clock."""

    kind: str  # arrive / accept / supply / reject
    index: int = -1  # the demand that arrives
    ticket: str = ""
    lender: str = ""


@dataclass
class World:
    lenders: dict[str, LenderTruth]
    items: list[Item]
    demand: list[Demand]


def _issn(n: int) -> str:
    body = f"{2000 + n:07d}"
    return issn.format(body + issn.calc_check_digit(body))


def _isbn(n: int) -> str:
    body = f"978711{n:06d}"
    return body + ean.calc_check_digit(body)  # an ISBN-13 is an EAN-13


def build_world(seed: int, requests: int, days: int) -> World:
    rng = random.Random(seed)
    lenders = {}
    for i in range(1, 27):
        code = f"L{i:02d}"
        if code in POPULAR:
            truth = LenderTruth(
                code, fill=0.82, silent=0.05, per_day=2.5, answer_days=1.0, supply_days=2.0
            )
        else:
            truth = LenderTruth(
                code,
                fill=rng.uniform(0.80, 0.92),
                silent=rng.uniform(0.02, 0.05),
                per_day=rng.uniform(0.8, 1.5),
                answer_days=rng.uniform(0.2, 0.6),
                supply_days=rng.uniform(0.3, 0.8),
            )
        lenders[code] = truth
    others = [c for c in lenders if c not in POPULAR]
    items = []
    for n in range(500):
        is_book = rng.random() < 0.3
        holders = [c for c in POPULAR if rng.random() < 0.8]
        holders += sorted(
            rng.sample(others, rng.choice((0, 1, 1, 2, 2, 3, 4))), key=lambda _: rng.random()
        )
        holdings = tuple(
            HoldingTruth(
                c, on_shelf=rng.random() < 0.9, loanable=not is_book or rng.random() < 0.85
            )
            for c in holders
        )
        key = _isbn(n) if is_book else _issn(n)
        items.append(Item(key, is_book, holdings, lost_everywhere=rng.random() < 0.06))
    # Demand: a few items are asked for again and again (Zipf-like), arrivals are Poisson.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(items))]
    at, demand = START, []
    for _ in range(requests):
        at += timedelta(days=rng.expovariate(requests / days))
        item = rng.choices(range(len(items)), weights)[0]
        loan = items[item].is_book and rng.random() < 0.8
        demand.append(Demand(at, patron=rng.randrange(60), item=item, loan=loan))
    return World(lenders, items, demand)


# --- running one strategy through the real code ------------------------------------------


@dataclass
class Outcome:
    name: str
    requests: int = 0
    filled: int = 0
    days: list[float] = field(default_factory=list)
    first_lender: Counter[str] = field(default_factory=Counter)
    received: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    late_answers: int = 0
    duplicates: int = 0
    seconds: float = 0.0

    @property
    def fill_rate(self) -> float:
        return self.filled / self.requests

    @property
    def mean_days(self) -> float:
        return statistics.fmean(self.days)

    @property
    def median_days(self) -> float:
        return statistics.median(self.days)

    @property
    def p90_days(self) -> float:
        return statistics.quantiles(self.days, n=10)[-1]

    @property
    def popular_share(self) -> float:
        return sum(self.first_lender[c] for c in POPULAR) / sum(self.first_lender.values())


def _load_catalog(session: Session, world: World) -> None:
    session.add(Library(code="HOME", name_zh="读者所在馆", name_en="Patrons' library", lends=False))
    for code in world.lenders:
        session.add(
            Library(code=code, name_zh=f"成员馆{code}", name_en=f"Member {code}", response_days=2)
        )
    session.flush()
    for n, item in enumerate(world.items):
        scheme = "isbn" if item.is_book else "issn"
        record = Record(
            source="bench",
            source_id=str(n),
            title=f"Item {n}",
            format=RecordFormat.BOOK if item.is_book else RecordFormat.JOURNAL,
            clc="TP" if n % 2 else "G",
            identifiers=[RecordIdentifier(scheme=scheme, value=item.key)],
        )
        for h in item.holdings:
            status = HoldingStatus.AVAILABLE if h.on_shelf else HoldingStatus.ON_LOAN
            record.holdings.append(
                Holding(library_code=h.library, status=status, loanable=h.loanable)
            )
        session.add(record)
    for p in range(60):
        session.add(Patron(id=p + 1, home_library="HOME", email=f"reader{p}@example.org"))
    session.commit()


def _draft(world: World, demand: Demand, index: int) -> RequestDraft:
    item = world.items[demand.item]
    if item.is_book:
        citation = Citation(genre=Genre.BOOK, title=f"Item {demand.item}", isbn=item.key)
        if not demand.loan:  # a chapter copy: a distinct request each time
            citation = Citation(
                genre=Genre.CHAPTER,
                isbn=item.key,
                title=f"Item {demand.item}",
                pages=f"{index}-{index + 9}",
            )
    else:
        citation = Citation(
            genre=Genre.ARTICLE,
            issn=item.key,
            journal=f"Item {demand.item}",
            article_title=f"Article {index}",
        )
    return RequestDraft(
        citation=citation,
        service_type=ServiceType.LOAN if demand.loan else ServiceType.COPY,
        delivery_method=DeliveryMethod.PICKUP if demand.loan else DeliveryMethod.EMAIL,
        pickup_library="HOME" if demand.loan else None,
    )


class Simulation:
    def __init__(self, world: World, seed: int, name: str, ranker: Ranker, url: str) -> None:
        self.world, self.seed, self.ranker = world, seed, ranker
        # A session per event, as the gateway and the scheduler have.
        self.make_session = sessionmaker_for(url)
        self.events: list[tuple[datetime, int, Step]] = []
        self.seq = 0
        self.free_at: dict[str, datetime] = {code: START for code in world.lenders}
        self.asked: set[tuple[int, str]] = set()
        self.index_of: dict[str, int] = {}  # ticket -> demand index
        self.outcome = Outcome(name)

    def push(self, at: datetime, step: Step) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, step))

    def dispatch(self, request: DeliveryRequest, now: datetime) -> None:
        """The request just reached a lender: decide (by that lender's truth) what it will do."""
        lender = request.current_lender
        if (
            request.status is not Status.SENT
            or lender is None
            or (request.id, lender) in self.asked
        ):
            return
        self.asked.add((request.id, lender))
        self.outcome.received[lender] += 1
        index = self.index_of[request.ticket]
        luck = random.Random(f"{self.seed}:{index}:{lender}")  # same luck whatever the strategy
        truth = self.world.lenders[lender]
        item = self.world.items[self.world.demand[index].item]
        holding = next(h for h in item.holdings if h.library == lender)
        if luck.random() < truth.silent:
            return  # never answers: the response time will pass
        start = max(now, self.free_at[lender])
        self.free_at[lender] = start + DAY / truth.per_day
        answer_at = self.free_at[lender] + DAY * luck.lognormvariate(log(truth.answer_days), 0.5)
        fill = truth.fill if holding.on_shelf else 0.1
        if item.lost_everywhere:
            fill = 0.05
        if luck.random() < fill:
            supply_at = answer_at + DAY * luck.expovariate(1 / truth.supply_days)
            self.push(answer_at, Step("accept", ticket=request.ticket, lender=lender))
            self.push(supply_at, Step("supply", ticket=request.ticket, lender=lender))
        else:
            self.push(answer_at, Step("reject", ticket=request.ticket, lender=lender))

    def lender_action(
        self, session: Session, kind: str, ticket: str, lender: str, now: datetime
    ) -> None:
        actor = Actor.lender("staff", lender)
        try:
            if kind == "accept":
                request = desk.accept(session, ticket, actor, now=now)
            elif kind == "reject":
                request = desk.reject(
                    session, ticket, actor, reason=ReasonUnfilled.NOT_ON_SHELF, now=now
                )
            elif desk.get_request(session, ticket).service_type is ServiceType.LOAN:
                request = desk.ship_loan(session, ticket, actor, now=now)
            else:
                request = desk.supply_copy(
                    session, ticket, actor, now=now, link="https://example.org/copy"
                ).request
        except (NotYourRequest, TransitionRefused):
            session.rollback()  # the request moved on before this lender answered
            self.outcome.late_answers += 1
            return
        session.commit()
        self.dispatch(request, now)

    def run(self) -> Outcome:

        began = time.perf_counter()
        for index, demand in enumerate(self.world.demand):
            self.push(demand.at, Step("arrive", index=index))
        horizon = self.world.demand[-1].at + 60 * DAY
        clock = START
        while clock < horizon:
            clock += TICK
            while self.events and self.events[0][0] <= clock:
                at, _, step = heapq.heappop(self.events)
                with self.make_session() as session:
                    if step.kind == "arrive":
                        self.arrive(session, step.index, at)
                    else:
                        self.lender_action(session, step.kind, step.ticket, step.lender, at)
            with self.make_session() as session:
                moved = routing.advance_overdue(session, clock)
                self.outcome.timeouts += len(moved)
                session.commit()
                for request in moved:
                    self.dispatch(request, clock)
        with self.make_session() as session:
            self._tally(session)
        self.outcome.seconds = time.perf_counter() - began
        return self.outcome

    def arrive(self, session: Session, index: int, at: datetime) -> None:
        demand = self.world.demand[index]
        patron = session.get_one(Patron, demand.patron + 1)
        draft = _draft(self.world, demand, index)
        result = service.open_request(session, patron, draft, now=at, ranker=self.ranker)
        session.commit()
        if not isinstance(result, service.Opened):  # the same patron's open request
            self.outcome.duplicates += 1
            return
        request = result.request
        self.index_of[request.ticket] = index
        if request.current_lender:
            self.outcome.first_lender[request.current_lender] += 1
        self.dispatch(request, at)

    def _tally(self, session: Session) -> None:

        for request in session.scalars(select(DeliveryRequest)):
            self.outcome.requests += 1
            if request.completion_days is not None:
                self.outcome.filled += 1
                self.outcome.days.append(request.completion_days)


def first_holding_library(
    session: Session, candidates: Sequence[Candidate], now: datetime
) -> list[Ranked]:
    """The naive baseline: ask holding libraries in catalog order, nothing measured."""
    return [Ranked(c.library.code, {"order": "first holding library"}) for c in candidates]


def run_strategy(world: World, seed: int, name: str, ranker: Ranker, workdir: Path) -> Outcome:
    url = f"sqlite:///{workdir / (name + '.db')}"
    upgrade(url)
    with sessionmaker_for(url)() as session:
        _load_catalog(session, world)
    return Simulation(world, seed, name, ranker, url).run()


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores; {system}; Python {platform.python_version()}"


def table(results: tuple[Outcome, Outcome]) -> str:
    naive, ours = results
    rows = [
        "| strategy | requests | filled | fill rate | mean days | median days | p90 days "
        "| first lender is one of the two popular | lender timeouts | late answers "
        "| run time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r.name} | {r.requests} | {r.filled} | {r.fill_rate:.1%} | {r.mean_days:.2f} "
            f"| {r.median_days:.2f} | {r.p90_days:.2f} | {r.popular_share:.0%} | {r.timeouts} "
            f"| {r.late_answers} | {r.seconds:.1f} |"
        )
    ratio = ours.mean_days / naive.mean_days
    median_ratio = ours.median_days / naive.median_days
    rows += [
        "",
        f"- mean completion days, refdesk / naive: **{ratio:.2f}** "
        f"({1 - ratio:.0%} shorter; goal: at least 25% shorter)",
        f"- median completion days, refdesk / naive: **{median_ratio:.2f}**",
        f"- refdesk fill rate **{ours.fill_rate:.1%}** (goal: at least 82.6%, BALIS 2007-2017); "
        f"naive {naive.fill_rate:.1%}",
        f"- requests received, naive: {_spread(naive)}; refdesk: {_spread(ours)}",
    ]
    return "\n".join(rows)


def _spread(outcome: Outcome) -> str:
    popular = sum(outcome.received[c] for c in POPULAR) / sum(outcome.received.values())
    busiest = max(v for k, v in outcome.received.items() if k not in POPULAR)
    return f"{popular:.0%} by the two popular lenders, at most {busiest} by any other"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--days", type=int, default=120, help="days the demand is spread over")
    parser.add_argument("--also-seeds", type=int, default=0, help="repeat with N more seeds")
    parser.add_argument("--results", type=Path, help="write the tables to this Markdown file")
    args = parser.parse_args(argv)
    seeds = range(args.seed, args.seed + 1 + args.also_seeds)
    runs = [compare(seed, args.requests, args.days) for seed in seeds]
    report = table(runs[0])
    if len(runs) > 1:
        report += "\n\n" + seeds_table(runs, seeds)
    print(report)
    ok = all(o.fill_rate >= 0.826 and o.mean_days <= 0.75 * n.mean_days for n, o in runs)
    print(f"\ngoals {'met' if ok else 'NOT met'}")
    if args.results:
        command = (
            f"--seed {args.seed} --requests {args.requests} --days {args.days} "
            f"--also-seeds {args.also_seeds} --results {args.results}"
        )
        args.results.write_text(
            '# bench/delivery: routing against "first holding library"\n\n'
            f"{__doc__.split(chr(10) + chr(10))[1]}\n\n"
            f"Command: `.venv/bin/python bench/delivery/simulate.py {command}`\n\n"
            f"Machine: {machine()}\n\n## Results\n\n{report}\n\n{SCENARIO}"
        )
    return 0 if ok else 1


def compare(seed: int, requests: int, days: int) -> tuple[Outcome, Outcome]:
    """Both strategies on the same world, each in a fresh state directory and database."""
    world = build_world(seed, requests, days)
    results = []
    for name, ranker_name in (
        ("first holding library (naive)", "naive"),
        ("refdesk measured rota", "refdesk"),
    ):
        with tempfile.TemporaryDirectory(prefix="refdesk-bench-delivery-") as tmp:
            os.environ["REFDESK_HOME"] = tmp
            get_settings.cache_clear()
            reset_keyring()
            ranker = measured_ranking if ranker_name == "refdesk" else first_holding_library
            results.append(run_strategy(world, seed, name, ranker, Path(tmp)))
    naive, ours = results
    return naive, ours


def seeds_table(runs: Sequence[tuple[Outcome, Outcome]], seeds: Sequence[int]) -> str:
    rows = [
        "Other seeds (same scenario, different catalog, demand and luck):",
        "",
        "| seed | naive fill | refdesk fill | naive mean days | refdesk mean days "
        "| refdesk / naive mean |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for seed, (naive, ours) in zip(seeds, runs, strict=True):
        rows.append(
            f"| {seed} | {naive.fill_rate:.1%} | {ours.fill_rate:.1%} | {naive.mean_days:.2f} | "
            f"{ours.mean_days:.2f} | {ours.mean_days / naive.mean_days:.2f} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
