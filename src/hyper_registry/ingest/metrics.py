"""Prometheus metrics of ingestion, one set per registry (no process-global collectors).

``registry.extension(IngestMetrics)`` is the set the API's ``GET /metrics`` serves; a
worker process serves its own on ``--metrics-port``. The ``source`` label is the kind
of source (file, http, nats, redis, kafka), never a path, to keep cardinality bounded.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from hyper_registry.ingest.applier import BatchReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WINDOW = 10.0  # seconds over which throughput is measured


class IngestMetrics:
    def __init__(self, _registry: Any = None) -> None:
        self.collectors = CollectorRegistry(auto_describe=True)
        c = self.collectors
        self.received = Counter(
            "hyper_registry_ingest_received", "messages received", ["source"], registry=c
        )
        self.applied = Counter(
            "hyper_registry_ingest_applied",
            "messages applied, by outcome (created, updated, unchanged, deleted)",
            ["source", "outcome"],
            registry=c,
        )
        self.duplicates = Counter(
            "hyper_registry_ingest_duplicates",
            "messages skipped because their event id was taken in before",
            ["source"],
            registry=c,
        )
        self.dead = Counter(
            "hyper_registry_ingest_dead_lettered", "messages dead-lettered", ["source"], registry=c
        )
        self.batch_size = Histogram(
            "hyper_registry_ingest_batch_size",
            "messages per committed batch",
            ["source"],
            buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000, 20000, 50000),
            registry=c,
        )
        self.batch_seconds = Histogram(
            "hyper_registry_ingest_batch_seconds",
            "seconds to apply and commit one batch",
            ["source"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=c,
        )
        self.lag = Gauge(
            "hyper_registry_ingest_consumer_lag",
            "messages in the stream not yet delivered to this consumer group",
            ["source"],
            registry=c,
        )
        self.throughput = Gauge(
            "hyper_registry_ingest_throughput",
            f"messages per second over the last {WINDOW:.0f} s",
            ["source"],
            registry=c,
        )
        self._lock = threading.Lock()
        self._recent: dict[str, deque[tuple[float, int]]] = {}

    def observe_batch(self, source: str, report: BatchReport, seconds: float | None = None) -> None:
        c = report.counts
        self.received.labels(source).inc(report.received)
        for outcome in ("created", "updated", "unchanged", "deleted"):
            if c[outcome]:
                self.applied.labels(source, outcome).inc(c[outcome])
        if c["duplicate"]:
            self.duplicates.labels(source).inc(c["duplicate"])
        if c["dead"]:
            self.dead.labels(source).inc(c["dead"])
        self.batch_size.labels(source).observe(report.received)
        if seconds is not None:
            self.batch_seconds.labels(source).observe(seconds)
        now = time.monotonic()
        with self._lock:
            q = self._recent.setdefault(source, deque())
            q.append((now, report.received))
            while q and q[0][0] < now - WINDOW:
                q.popleft()
            span = max(now - q[0][0], 1.0) if len(q) > 1 else WINDOW
            self.throughput.labels(source).set(sum(n for _, n in q) / span)

    def set_lag(self, source: str, lag: int | None) -> None:
        if lag is not None:
            self.lag.labels(source).set(lag)

    def render(self) -> bytes:
        return generate_latest(self.collectors)
