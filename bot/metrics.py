"""Prometheus metrics of the gateway (served at /metrics)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session


class ServiceCounts(Collector):
    """Counts kept in the database by the patron services (feedback, purchase suggestions),
    read at each scrape (:func:`read_service_counts`), since the action server writes them."""

    def __init__(self) -> None:
        self.feedback: dict[str, int] = {}
        self.suggestions: dict[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        feedback = CounterMetricFamily(
            "refdesk_feedback", "Feedback patrons left in chat, by kind", labels=["kind"]
        )
        for kind, n in sorted(self.feedback.items()):
            feedback.add_metric([kind], n)
        yield feedback
        suggestions = GaugeMetricFamily(
            "refdesk_purchase_suggestions", "Purchase suggestions by status", labels=["status"]
        )
        for status, n in sorted(self.suggestions.items()):
            suggestions.add_metric([status], n)
        yield suggestions


def read_service_counts(session: Session, counts: ServiceCounts) -> None:
    from sqlalchemy import func, select

    from kb.acquisitions import PurchaseSuggestion, SuggestionStatus
    from kb.feedback import counts_by_kind

    counts.feedback = counts_by_kind(session)
    found = dict(
        session.execute(
            select(PurchaseSuggestion.status, func.count()).group_by(PurchaseSuggestion.status)
        ).all()
    )
    counts.suggestions = {s.value: int(found.get(s, 0)) for s in SuggestionStatus}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "refdesk_turns_total",
            "Patron messages handled, by channel and outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.turn_latency = Histogram(
            "refdesk_turn_latency_seconds",
            "Time from a patron message to the assistant's reply",
            ["channel"],
            buckets=(0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 20),
            registry=self.registry,
        )
        # With turn_latency: how much of a turn is the engine's and how much the gateway's.
        self.engine_latency = Histogram(
            "refdesk_engine_latency_seconds",
            "Time the engine (with the action server) took to answer a turn",
            buckets=(0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 20),
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "refdesk_fallbacks_total",
            "Patron messages the model was not confident about",
            ["channel"],
            registry=self.registry,
        )
        self.errors = Counter(
            "refdesk_errors_total",
            "Errors by kind (engine_unavailable, actions_unavailable, bad_frame, ...)",
            ["kind"],
            registry=self.registry,
        )
        self.services = ServiceCounts()
        self.registry.register(self.services)
        self.connections = Gauge(
            "refdesk_websocket_connections",
            "Open web-chat WebSocket connections",
            registry=self.registry,
        )
