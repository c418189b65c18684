"""Kafka: what can be checked without a broker (none runs on this machine).

The source is NOT verified against a real Kafka broker; these tests cover its offset
bookkeeping, its URL and that it reports an unreachable broker as Unavailable.
"""

from __future__ import annotations

import asyncio

import pytest

from hyper_registry.core.errors import Unavailable
from hyper_registry.ingest.messages import Raw
from hyper_registry.ingest.sources import open_source
from hyper_registry.ingest.sources.kafka import KafkaSource, next_offsets


def rec(topic: str, partition: int, offset: int) -> Raw:
    return Raw(b"{}", None, None, (topic, partition, offset))


def test_commits_the_offset_after_the_last_message_of_each_partition() -> None:
    batch = [rec("t", 0, 5), rec("t", 1, 9), rec("t", 0, 7), rec("t", 0, 6), rec("u", 0, 0)]
    assert next_offsets(batch) == {("t", 0): 8, ("t", 1): 10, ("u", 0): 1}
    assert next_offsets([]) == {}


def test_kafka_url() -> None:
    source = open_source("kafka://127.0.0.1:9092/registry-changes?group=g&dlq=registry-dlq")
    assert isinstance(source, KafkaSource)
    assert (source.topic, source.group, source.dlq) == ("registry-changes", "g", "registry-dlq")
    assert source.label == "kafka" and source.name == "kafka://127.0.0.1:9092/registry-changes"


def test_unreachable_kafka_is_unavailable() -> None:
    source = open_source("kafka://127.0.0.1:1/registry-changes")
    with pytest.raises(Unavailable):
        asyncio.run(asyncio.wait_for(source.open(), 60))
