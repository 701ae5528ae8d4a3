"""Prometheus metrics of the gateway (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
        self.connections = Gauge(
            "refdesk_websocket_connections",
            "Open web-chat WebSocket connections",
            registry=self.registry,
        )
