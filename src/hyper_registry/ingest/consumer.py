"""The consumer loop: fetch a batch, apply it in one transaction, then acknowledge.

- The next batch is fetched while the current one commits (on a worker thread), so
  the broker and the store work at the same time; at most two batches are in memory.
  A fetched batch goes to the bulk prepare worker process at once (``core.bulk``), so
  its documents are validated on the other core meanwhile.
- A batch is acknowledged only after its commit. If the store is down the batch is
  retried with exponential backoff and nothing is acknowledged (the broker keeps the
  messages); a consumer that dies leaves them unacknowledged and they come back.
- If the broker goes away, fetches and acks fail: the loop reconnects with backoff.
  An ack lost that way means a redelivery, which the event ids turn into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

from hyper_registry.core.bulk import BulkPreparer, PrepareSession
from hyper_registry.core.errors import Unavailable
from hyper_registry.ingest.applier import Applier, BatchReport
from hyper_registry.ingest.batcher import collect
from hyper_registry.ingest.messages import Change, DeadLetter, Raw, decode_batch
from hyper_registry.ingest.sources import Source

log = logging.getLogger(__name__)

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0


@dataclass(frozen=True)
class Ahead:
    """A fetched batch handed to the prepare worker: what to collect its answer with."""

    session: PrepareSession
    ticket: int
    docs: list[Any]
    decoded: list[Change | DeadLetter]


@dataclass
class Totals:
    """Running totals of one consumer, for the progress display and the final summary."""

    received: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("created", "updated", "unchanged", "deleted", "duplicate", "stale", "dead"), 0
        )
    )
    batches: int = 0
    lag: int | None = None
    store_retries: int = 0
    broker_retries: int = 0
    started: float = field(default_factory=time.monotonic)

    def add(self, report: BatchReport) -> None:
        self.received += report.received
        self.batches += 1
        for k, v in report.counts.items():
            self.counts[k] += v

    @property
    def applied(self) -> int:
        c = self.counts
        return c["created"] + c["updated"] + c["unchanged"] + c["deleted"]

    @property
    def rate(self) -> float:
        return self.received / max(time.monotonic() - self.started, 1e-9)

    def to_dict(self) -> dict[str, object]:
        return {
            "received": self.received,
            "applied": self.applied,
            **self.counts,
            "batches": self.batches,
            "lag": self.lag,
            "seconds": round(time.monotonic() - self.started, 3),
            "perSecond": round(self.rate, 1),
        }


class Backoff:
    def __init__(self) -> None:
        self.delay = BACKOFF_START

    def reset(self) -> None:
        self.delay = BACKOFF_START

    async def sleep(self, stop: asyncio.Event) -> None:
        delay = self.delay * (0.75 + random.random() / 2)
        self.delay = min(self.delay * 2, BACKOFF_MAX)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)


class Consumer:
    """Runs one source into the registry until ``stop`` is set (or ``until`` says so)."""

    def __init__(
        self,
        source: Source,
        applier: Applier,
        *,
        batch_size: int,
        batch_wait: float,
        on_batch: Callable[[Totals], None] | None = None,
        idle: float = 1.0,
    ) -> None:
        self.source = source
        self.applier = applier
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.on_batch = on_batch
        self.idle = idle
        self.totals = Totals()
        self.stop = asyncio.Event()
        self._connected = False

    async def _connect(self) -> None:
        backoff = Backoff()
        while not self.stop.is_set():
            try:
                await self.source.open()
                self._connected = True
                return
            except Unavailable as exc:
                log.warning("%s; retrying", exc)
                self.totals.broker_retries += 1
                await backoff.sleep(self.stop)

    async def _reconnect(self, exc: BaseException) -> None:
        log.warning("broker %s failed (%r); reconnecting", self.source.name, exc)
        self.totals.broker_retries += 1
        self._connected = False
        await self.source.close()
        reset = getattr(self.source, "reset", None)
        if callable(reset):
            reset()
        await self._connect()

    async def _fetch(self) -> list[Raw]:
        backoff = Backoff()
        while not self.stop.is_set():
            try:
                return await collect(self.source, self.batch_size, self.batch_wait, self.idle)
            except Exception as exc:  # the broker went away
                await backoff.sleep(self.stop)
                await self._reconnect(exc)
        return []

    async def _apply(self, batch: list[Raw], ahead: Ahead | None = None) -> BatchReport | None:
        """Apply with retries while the store is down; None if stopped before it worked."""
        backoff = Backoff()
        decoded = prepared = None
        if ahead is not None:  # validated by the prepare worker meanwhile: take its answer
            decoded = ahead.decoded
            prepared = await asyncio.to_thread(ahead.session.collect, ahead.ticket, ahead.docs)
        while True:
            try:
                return await asyncio.to_thread(
                    self.applier.apply, batch, decoded=decoded, prepared=prepared
                )
            except (Unavailable, DBAPIError) as exc:
                self.totals.store_retries += 1
                log.warning("the store is unavailable (%s); not acknowledging, retrying", exc)
                if self.stop.is_set():
                    return None
                await backoff.sleep(self.stop)

    async def _finish(self, batch: list[Raw], report: BatchReport | None) -> None:
        if report is None:
            return
        try:
            await self.source.dead_letter(report.dead)
            await self.source.ack(batch)
        except Exception as exc:
            # Committed but not acknowledged: the broker delivers these again and their
            # event ids make that a no-op.
            log.warning("acknowledging to %s failed (%r)", self.source.name, exc)
        self.totals.add(report)
        if self.on_batch is not None:
            self.on_batch(self.totals)

    async def _lag(self) -> None:
        try:
            self.totals.lag = await self.source.lag()
        except Exception:
            self.totals.lag = None
        metrics = self.applier.metrics
        if metrics is not None:
            metrics.set_lag(self.source.label, self.totals.lag)

    def _ahead(self, session: PrepareSession | None, batch: list[Raw]) -> Ahead | None:
        """Hand the batch's documents to the prepare worker now (None: prepared later here)."""
        if session is None:
            return None
        decoded, docs = decode_batch(batch, self.applier.max_bytes)
        return Ahead(session, session.submit(docs), docs, decoded)

    def _session(self) -> contextlib.AbstractContextManager[PrepareSession | None]:
        registry = self.applier.registry
        settings = registry.settings
        if (
            settings.prepare_workers > 0
            and settings.parallel_prepare_min > 0
            and BulkPreparer.usable(registry)
        ):
            return registry.extension(BulkPreparer).session()
        return contextlib.nullcontext()

    async def run(self, *, until_idle: bool = False) -> Totals:
        """Consume until stopped; ``until_idle``: also stop at the first empty fetch.

        Each batch's documents go to the bulk prepare worker when it is fetched, so they
        are validated on the other core while the batch before commits.
        """
        with self._session() as session:
            return await self._run(session, until_idle)

    async def _run(self, session: PrepareSession | None, until_idle: bool) -> Totals:
        await self._connect()
        pending: tuple[list[Raw], asyncio.Task[BatchReport | None]] | None = None
        last_lag = 0.0
        try:
            while not self.stop.is_set():
                batch = await self._fetch()
                if pending is not None:
                    done_batch, task = pending
                    pending = None
                    await self._finish(done_batch, await task)
                if time.monotonic() - last_lag > 2.0 or not batch:
                    last_lag = time.monotonic()
                    await self._lag()
                    if self.on_batch is not None and not batch:
                        self.on_batch(self.totals)
                if not batch:
                    if until_idle:
                        break
                    continue
                ahead = self._ahead(session, batch)
                pending = (batch, asyncio.create_task(self._apply(batch, ahead)))
            if pending is not None:
                done_batch, task = pending
                await self._finish(done_batch, await task)
        finally:
            await self.source.close()
        return self.totals
