"""Kafka through aiokafka: a consumer group, offsets committed after the batch's commit.

NOT VERIFIED AGAINST A REAL BROKER: there is no Kafka broker on the machine this was
built on. It implements the same Source interface as NATS and Redis and its offset
bookkeeping is unit-tested without a broker; treat it as untested in production.

Auto-commit is off; after a batch commits, the next offset of every partition in the
batch is committed. A consumer that dies before that leaves the offsets behind, the
group rebalances and another member reads the messages again; their event ids (or
``kafka:<topic>:<partition>:<offset>`` when a message has no id) make that a no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from hyper_registry.core.errors import Unavailable
from hyper_registry.ingest.messages import DeadLetter, Raw
from hyper_registry.ingest.sources import DEFAULT_GROUP, SourceUrl


def next_offsets(batch: Sequence[Raw]) -> dict[tuple[str, int], int]:
    """For each (topic, partition) in ``batch``: the offset to commit (last offset + 1)."""
    out: dict[tuple[str, int], int] = {}
    for raw in batch:
        topic, partition, offset = raw.handle
        key = (topic, partition)
        if offset + 1 > out.get(key, -1):
            out[key] = offset + 1
    return out


class KafkaSource:
    label = "kafka"

    def __init__(self, url: SourceUrl) -> None:
        self.url = url
        self.name = url.public
        self.topic = url.target
        self.group = url.param("group", DEFAULT_GROUP)
        self.dlq = url.params.get("dlq")
        self._consumer: Any = None
        self._producer: Any = None

    async def open(self) -> None:
        try:
            from aiokafka import (  # type: ignore[import-untyped]
                AIOKafkaConsumer,
                AIOKafkaProducer,
            )
        except ImportError:  # pragma: no cover - the ingest extra installs it
            raise Unavailable(
                "Kafka needs the 'ingest' extra: pip install 'hyper-registry[ingest]'"
            ) from None
        servers = f"{self.url.host}:{self.url.port or 9092}"
        self._consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=servers,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        try:
            await self._consumer.start()
            if self.dlq:
                self._producer = AIOKafkaProducer(bootstrap_servers=servers)
                await self._producer.start()
        except Exception as exc:
            await self.close()
            raise Unavailable(f"cannot reach Kafka at {self.name}: {exc!r}") from None

    async def fetch(self, max_count: int, timeout: float) -> list[Raw]:
        got = await self._consumer.getmany(timeout_ms=int(timeout * 1000), max_records=max_count)
        out = []
        for tp, records in got.items():
            for rec in records:
                where = f"{tp.topic}:{tp.partition}:{rec.offset}"
                out.append(
                    Raw(
                        rec.value or b"",
                        f"offset {where}",
                        f"kafka:{where}",
                        (tp.topic, tp.partition, rec.offset),
                        scope=f"kafka:{tp.topic}:{tp.partition}",
                        order=f"{rec.offset:020d}",
                    )
                )
        return out

    async def ack(self, batch: Sequence[Raw]) -> None:
        if not batch:
            return
        from aiokafka.structs import (  # type: ignore[import-untyped]
            OffsetAndMetadata,
            TopicPartition,
        )

        offsets = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "")
            for (topic, partition), offset in next_offsets(batch).items()
        }
        await self._consumer.commit(offsets)

    async def dead_letter(self, dead: Sequence[tuple[DeadLetter, Raw]]) -> None:
        if self._producer is None or not dead:
            return
        for d, raw in dead:
            headers = [("hr-reason", d.reason[:1000].encode()), ("hr-code", d.code.encode())]
            await self._producer.send_and_wait(self.dlq, raw.data, headers=headers)

    async def lag(self) -> int | None:
        try:
            parts = self._consumer.assignment()
            if not parts:
                return 0
            ends = await self._consumer.end_offsets(list(parts))
            total = 0
            for tp in parts:
                total += max(0, ends[tp] - await self._consumer.position(tp))
            return total
        except Exception:
            return None

    async def close(self) -> None:
        for client in (self._producer, self._consumer):
            if client is not None:
                with contextlib.suppress(Exception):  # closing a broken connection
                    await client.stop()
        self._consumer = self._producer = None
