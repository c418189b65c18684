"""JSON-lines files and stdin: one message per line, line numbers in dead letters.

A line longer than the message limit is not read into memory whole: its first
``DEAD_PAYLOAD_MAX`` bytes are kept for the dead letter and the rest is skipped.
Blank lines are skipped. Files have no acknowledgement: re-running a file is safe
(event ids already taken in are skipped; an apply of the same content is unchanged).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any, BinaryIO

from hyper_registry.core.bulk import prepare_batches
from hyper_registry.ingest.applier import DEAD_PAYLOAD_MAX, Applier
from hyper_registry.ingest.consumer import Totals
from hyper_registry.ingest.messages import Change, DeadLetter, Raw, decode_batch

READ_CHUNK = 1 << 16


def read_lines(stream: BinaryIO, max_bytes: int) -> Iterator[Raw]:
    """The non-blank lines of ``stream`` as messages, each with its line number."""
    lineno = 0
    readline = stream.readline
    limit = max_bytes + 1
    while True:
        line = readline(limit)
        if not line:
            return
        lineno += 1
        if len(line) == limit and not line.endswith(b"\n"):
            # Oversized: keep the head for the dead letter, skip to the end of the line.
            head = line[:DEAD_PAYLOAD_MAX]
            size = len(line)
            while not line.endswith(b"\n"):
                line = readline(READ_CHUNK)
                if not line:
                    break
                size += len(line)
            yield Raw(head, f"line {lineno}", oversize=size)
            continue
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield Raw(line, f"line {lineno}")


def ingest_stream(
    applier: Applier,
    stream: BinaryIO,
    *,
    batch_size: int,
    on_batch: Callable[[Totals, int], None] | None = None,
) -> Totals:
    """Apply every line of ``stream`` in batches; ``on_batch(totals, bytes_read)``.

    The documents are prepared by ``core.bulk.prepare_batches``: past
    ``HYPER_REGISTRY_PARALLEL_PREPARE_MIN`` lines, a worker process validates the next
    batches while this one commits the current batch (as ``apply_many`` does).
    """
    totals = Totals()
    tell = _teller(stream)
    batches: deque[tuple[list[Raw], list[Change | DeadLetter]]] = deque()

    def documents() -> Iterator[Any]:
        # One document per line (see decode_batch), so the prepared batches line up
        # with the batches of lines.
        batch: list[Raw] = []
        for raw in read_lines(stream, applier.max_bytes):
            batch.append(raw)
            if len(batch) >= batch_size:
                yield from _decoded(batch)
                batch = []
        if batch:
            yield from _decoded(batch)

    def _decoded(batch: list[Raw]) -> list[dict[str, Any]]:
        decoded, docs = decode_batch(batch, applier.max_bytes)
        batches.append((batch, decoded))
        return docs

    with closing(prepare_batches(applier.registry, documents(), batch_size)) as prepared:
        for _start, _docs, answers in prepared:
            batch, decoded = batches.popleft()
            report = applier.apply(batch, decoded=decoded, prepared=answers)
            totals.add(report)
            if on_batch is not None:
                on_batch(totals, tell())
    return totals


def _teller(stream: BinaryIO) -> Callable[[], int]:
    try:
        stream.tell()
    except (OSError, ValueError):
        return lambda: 0
    return stream.tell
