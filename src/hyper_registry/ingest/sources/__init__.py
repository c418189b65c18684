"""Broker sources behind one interface, chosen by the URL's scheme.

    nats://HOST:4222/SUBJECT[?stream=S&durable=D&dlq=SUBJECT&ack_wait=30]
    redis://HOST:6379/STREAM[?group=G&consumer=C&db=0&dlq=STREAM&claim_idle=60]
    kafka://HOST:9092/TOPIC[?group=G&dlq=TOPIC]

A source fetches raw messages, acknowledges them after their batch committed,
publishes dead letters to an optional dead-letter subject/stream/topic, and reports
its lag. Broker clients are imported only when a source of that kind is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from hyper_registry.core.errors import Invalid
from hyper_registry.ingest.messages import DeadLetter, Raw

DEFAULT_GROUP = "hyper-registry"


class Source(Protocol):
    label: str  # nats | redis | kafka
    name: str  # the URL without credentials, for dead letters and logs

    async def open(self) -> None: ...

    async def fetch(self, max_count: int, timeout: float) -> list[Raw]: ...

    async def ack(self, batch: Sequence[Raw]) -> None: ...

    async def dead_letter(self, dead: Sequence[tuple[DeadLetter, Raw]]) -> None: ...

    async def lag(self) -> int | None: ...

    async def close(self) -> None: ...


@dataclass
class SourceUrl:
    scheme: str
    host: str
    port: int | None
    target: str  # subject, stream key or topic
    params: dict[str, str] = field(default_factory=dict)
    username: str | None = None
    password: str | None = None

    @property
    def public(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{self.host}{port}/{self.target}"

    def param(self, key: str, default: str) -> str:
        return self.params.get(key, default)

    def number(self, key: str, default: float) -> float:
        raw = self.params.get(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise Invalid.at(("from", key), f"{key} must be a number, got {raw!r}") from None
        if value <= 0:
            raise Invalid.at(("from", key), f"{key} must be positive")
        return value


KNOWN_PARAMS = {
    "nats": {"stream", "durable", "dlq", "ack_wait", "max_ack_pending"},
    "redis": {"group", "consumer", "db", "dlq", "claim_idle"},
    "kafka": {"group", "dlq"},
}


def parse_url(url: str) -> SourceUrl:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in KNOWN_PARAMS:
        raise Invalid.at(
            ("from",), f"{scheme or url!r}: a source is nats://, redis:// or kafka://", "bad-url"
        )
    target = parts.path.lstrip("/")
    if not target or "/" in target:
        what = {"nats": "subject", "redis": "stream key", "kafka": "topic"}[scheme]
        raise Invalid.at(("from",), f"{scheme}://HOST:PORT/<{what}>: name one {what}", "bad-url")
    params = dict(parse_qsl(parts.query))
    unknown = set(params) - KNOWN_PARAMS[scheme]
    if unknown:
        raise Invalid.at(
            ("from",),
            f"unknown option(s) {', '.join(sorted(unknown))}; {scheme} takes "
            + ", ".join(sorted(KNOWN_PARAMS[scheme])),
            "bad-url",
        )
    try:
        port = parts.port
    except ValueError:
        raise Invalid.at(("from",), "the port is not a number", "bad-url") from None
    return SourceUrl(
        scheme, parts.hostname or "127.0.0.1", port, target, params, parts.username, parts.password
    )


def open_source(url: str, *, consumer: str | None = None) -> Source:
    """The source for ``url`` (not connected yet: call ``await source.open()``)."""
    u = parse_url(url)
    if u.scheme == "nats":
        from hyper_registry.ingest.sources.nats import NatsSource

        return NatsSource(u)
    if u.scheme == "redis":
        from hyper_registry.ingest.sources.redis import RedisSource

        return RedisSource(u, consumer=consumer)
    from hyper_registry.ingest.sources.kafka import KafkaSource

    return KafkaSource(u)
