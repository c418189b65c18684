"""Batches bounded by size and by time: at most ``size`` messages, at most ``wait``
seconds after the first one arrived. Memory in flight is bounded by construction:
the consumer holds at most two batches (one committing, one being collected)."""

from __future__ import annotations

import time

from hyper_registry.ingest.messages import Raw
from hyper_registry.ingest.sources import Source

IDLE_POLL = 1.0  # seconds an empty fetch waits before the loop looks around again


async def collect(source: Source, size: int, wait: float, idle: float = IDLE_POLL) -> list[Raw]:
    """The next batch: empty after ``idle`` seconds without a message."""
    batch = await source.fetch(size, idle)
    if not batch or len(batch) >= size:
        return batch
    deadline = time.monotonic() + wait
    while len(batch) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        more = await source.fetch(size - len(batch), left)
        if not more:
            break
        batch.extend(more)
    return batch
