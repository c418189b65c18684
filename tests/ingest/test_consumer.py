"""The consumer loop against real NATS JetStream and Redis Streams on loopback."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis as redis_lib

from hyper_registry import Registry
from hyper_registry.auth.tokens import Principal
from hyper_registry.core.errors import Invalid, Unavailable
from hyper_registry.ingest.applier import Applier, BatchReport
from hyper_registry.ingest.consumer import Consumer, Totals
from hyper_registry.ingest.messages import Raw
from hyper_registry.ingest.metrics import IngestMetrics
from hyper_registry.ingest.sources import open_source, parse_url

from .conftest import apply_msg, model_doc, nats_publish, redis_publish


def messages(n: int, prefix: str = "e") -> list[bytes]:
    return [apply_msg(f"{prefix}{i}", model_doc(f"m{i % 10}", seq=i)) for i in range(n)]


def consume(registry: Registry, url: str, **kw: object) -> Totals:
    source = open_source(url)
    applier = Applier(
        registry,
        source=source.name,
        label=source.label,
        metrics=registry.extension(IngestMetrics),
        **kw,  # type: ignore[arg-type]
    )
    consumer = Consumer(source, applier, batch_size=50, batch_wait=0.05, idle=0.5)
    return asyncio.run(consumer.run(until_idle=True))


def check_final(registry: Registry, n: int) -> None:
    for k in range(10):
        entry = registry.get(f"model:team-a/m{k}@1.0.0")
        count = len(range(k, n, 10))
        assert entry.revision == count
        assert entry.metadata.labels["seq"] == str(k + 10 * (count - 1))


def test_nats_durable_pull_consumer(
    registry: Registry, nats_hostport: str, nats_subject: str
) -> None:
    n = 300
    payloads = messages(n)
    asyncio.run(nats_publish(nats_hostport, nats_subject, [*payloads, b"{broken"]))
    url = f"nats://{nats_hostport}/{nats_subject}?dlq={nats_subject}.dlq"
    totals = consume(registry, url)
    assert totals.received == n + 1 and totals.applied == n and totals.counts["dead"] == 1
    assert totals.lag == 0
    check_final(registry, n)
    # The same durable again: everything was acknowledged, nothing comes back.
    assert consume(registry, url).received == 0
    # Published again (a producer retry): every event id is a duplicate.
    asyncio.run(nats_publish(nats_hostport, nats_subject, payloads[:100]))
    again = consume(registry, url)
    assert again.received == 100 and again.counts["duplicate"] == 100
    check_final(registry, n)
    text = registry.extension(IngestMetrics).render().decode()
    assert 'hyper_registry_ingest_received_total{source="nats"} 401.0' in text
    assert 'hyper_registry_ingest_consumer_lag{source="nats"} 0.0' in text


def test_nats_dead_letter_subject(
    registry: Registry, nats_hostport: str, nats_subject: str
) -> None:
    import nats

    asyncio.run(nats_publish(nats_hostport, nats_subject, [b"not json at all"]))
    dlq_subject = f"{nats_subject}.dlq"

    async def dlq_stream() -> None:
        nc = await nats.connect(f"nats://{nats_hostport}")
        await nc.jetstream().add_stream(
            name=f"DLQ_{nats_subject.replace('.', '_')}", subjects=[dlq_subject]
        )
        await nc.close()

    async def read_dlq() -> list[tuple[bytes, dict[str, str]]]:
        nc = await nats.connect(f"nats://{nats_hostport}")
        js = nc.jetstream()
        sub = await js.pull_subscribe(dlq_subject, durable="reader")
        msgs = await sub.fetch(10, timeout=2)
        out = [(m.data, dict(m.headers or {})) for m in msgs]
        await js.delete_stream(f"DLQ_{nats_subject.replace('.', '_')}")
        await nc.close()
        return out

    asyncio.run(dlq_stream())
    consume(registry, f"nats://{nats_hostport}/{nats_subject}?dlq={dlq_subject}")
    ((data, headers),) = asyncio.run(read_dlq())
    assert data == b"not json at all"
    assert headers["Hr-Code"] == "not-json" and "not JSON" in headers["Hr-Reason"]


def test_redis_consumer_group(registry: Registry, redis_hostport: str, redis_stream: str) -> None:
    n = 300
    redis_publish(redis_hostport, redis_stream, [*messages(n), b"[1]"])
    url = f"redis://{redis_hostport}/{redis_stream}?dlq={redis_stream}-dlq&consumer=c1"
    totals = consume(registry, url)
    assert totals.received == n + 1 and totals.applied == n and totals.counts["dead"] == 1
    check_final(registry, n)
    host, _, port = redis_hostport.partition(":")
    r = redis_lib.Redis(host=host, port=int(port))
    assert r.xpending(redis_stream, "hyper-registry")["pending"] == 0
    dead: Any = r.xrange(f"{redis_stream}-dlq")
    assert len(dead) == 1
    assert dead[0][1][b"data"] == b"[1]" and dead[0][1][b"code"] == b"bad-shape"
    r.close()


def test_redis_pending_entries_of_a_dead_consumer_are_taken_over(
    registry: Registry, redis_hostport: str, redis_stream: str
) -> None:
    """Entries read by a consumer that died (never acknowledged) are applied by the next."""
    n = 40
    redis_publish(redis_hostport, redis_stream, messages(n))
    host, _, port = redis_hostport.partition(":")
    r = redis_lib.Redis(host=host, port=int(port))
    r.xgroup_create(redis_stream, "hyper-registry", id="0")
    # "c-dead" reads 25 entries and dies before acknowledging them.
    r.xreadgroup("hyper-registry", "c-dead", {redis_stream: ">"}, count=25)
    # Its successor under the same name re-reads its own pending entries first.
    totals = consume(registry, f"redis://{redis_hostport}/{redis_stream}?consumer=c-dead")
    assert totals.applied == n
    check_final(registry, n)
    # Another replica's pending entries are claimed once idle long enough.
    redis_publish(redis_hostport, redis_stream, messages(20, prefix="x"))
    r.xreadgroup("hyper-registry", "c-other", {redis_stream: ">"}, count=20)
    url = f"redis://{redis_hostport}/{redis_stream}?consumer=c-new&claim_idle=0.001"
    totals = consume(registry, url)
    assert totals.received == 20 and totals.counts["updated"] == 20
    assert r.xpending(redis_stream, "hyper-registry")["pending"] == 0
    r.close()


def test_worker_token_scopes_namespaces(
    registry: Registry, redis_hostport: str, redis_stream: str
) -> None:
    redis_publish(
        redis_hostport,
        redis_stream,
        [apply_msg("a", model_doc("x")), apply_msg("b", model_doc("y", ns="team-b"))],
    )
    scoped = Principal("bot", "writer", frozenset({"team-a"}))
    totals = consume(registry, f"redis://{redis_hostport}/{redis_stream}", principal=scoped)
    assert totals.applied == 1 and totals.counts["dead"] == 1


class FlakyStore(Applier):
    """The store is down for the first ``down`` attempts (Unavailable, as the store raises)."""

    def __init__(self, *args: object, down: int, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.down = down
        self.attempts = 0

    def apply(self, batch: list[Raw], **kw: object) -> BatchReport:  # type: ignore[override]
        self.attempts += 1
        if self.attempts <= self.down:
            raise Unavailable("the database is unavailable: connection refused")
        return super().apply(batch, **kw)  # type: ignore[arg-type]


def test_store_down_stops_acknowledging_and_retries(
    registry: Registry, redis_hostport: str, redis_stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hyper_registry.ingest.consumer as consumer_mod

    monkeypatch.setattr(consumer_mod, "BACKOFF_START", 0.01)
    redis_publish(redis_hostport, redis_stream, messages(30))
    source = open_source(f"redis://{redis_hostport}/{redis_stream}?consumer=c1")
    applier = FlakyStore(registry, source="t", down=3)
    host, _, port = redis_hostport.partition(":")
    r = redis_lib.Redis(host=host, port=int(port))
    pending_seen: list[int] = []
    original = applier.apply

    def watch(batch: list[Raw], **kw: object) -> BatchReport:
        pending_seen.append(r.xpending(redis_stream, "hyper-registry")["pending"])
        return original(batch, **kw)

    applier.apply = watch  # type: ignore[method-assign]
    consumer = Consumer(source, applier, batch_size=100, batch_wait=0.05, idle=0.5)
    totals = asyncio.run(consumer.run(until_idle=True))
    assert totals.store_retries == 3 and totals.applied == 30
    # While the store was down the messages stayed unacknowledged at the broker.
    assert pending_seen[:4] == [30, 30, 30, 30]
    assert r.xpending(redis_stream, "hyper-registry")["pending"] == 0
    r.close()


def test_source_urls() -> None:
    u = parse_url("nats://127.0.0.1:4222/registry.changes?durable=w&ack_wait=5")
    assert (u.host, u.port, u.target, u.params["durable"]) == (
        "127.0.0.1",
        4222,
        "registry.changes",
        "w",
    )
    assert u.number("ack_wait", 30) == 5
    for bad in (
        "amqp://x/y",
        "nats://127.0.0.1:4222/",
        "nats://127.0.0.1:4222/a/b",
        "redis://127.0.0.1/s?bogus=1",
        "nats://127.0.0.1:99999/s",
    ):
        with pytest.raises(Invalid):
            parse_url(bad)
    with pytest.raises(Invalid):
        parse_url("nats://h/s?ack_wait=soon").number("ack_wait", 30)


def test_unreachable_broker_is_unavailable() -> None:
    source = open_source("redis://127.0.0.1:1/s")
    with pytest.raises(Unavailable):
        asyncio.run(source.open())


class SlowStore(Applier):
    """A store that takes its time: every batch waits before it commits."""

    def apply(self, batch: list[Raw], **kw: object) -> BatchReport:  # type: ignore[override]
        time.sleep(0.05)
        return super().apply(batch, **kw)  # type: ignore[arg-type]


def test_a_slow_store_bounds_what_is_in_flight(
    registry: Registry, redis_hostport: str, redis_stream: str
) -> None:
    """Backpressure: at most two batches are read from the broker and not yet acknowledged."""
    n, size = 400, 20
    redis_publish(redis_hostport, redis_stream, messages(n))
    source = open_source(f"redis://{redis_hostport}/{redis_stream}?consumer=c1")
    applier = SlowStore(registry, source="t")
    host, _, port = redis_hostport.partition(":")
    r = redis_lib.Redis(host=host, port=int(port))
    in_flight: list[int] = []
    consumer = Consumer(source, applier, batch_size=size, batch_wait=0.01, idle=0.5)

    def sample(_totals: Totals) -> None:
        in_flight.append(r.xpending(redis_stream, "hyper-registry")["pending"])

    consumer.on_batch = sample
    totals = asyncio.run(consumer.run(until_idle=True))
    assert totals.applied == n
    assert len(in_flight) >= n // size
    assert max(in_flight) <= 2 * size
    r.close()
