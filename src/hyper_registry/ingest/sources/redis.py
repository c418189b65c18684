"""Redis Streams: a consumer group, XACK after the batch's commit.

Each replica is one consumer of the group (``consumer=`` in the URL, or the name the
worker gives it). On start a consumer first re-reads its own pending entries (those
it read before a crash and never acknowledged), then new ones; entries pending for
longer than ``claim_idle`` seconds at another consumer (a replica that died) are
claimed with XAUTOCLAIM. The message is the entry's ``data`` field.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from hyper_registry.core.errors import Unavailable
from hyper_registry.ingest.messages import DeadLetter, Raw
from hyper_registry.ingest.sources import DEFAULT_GROUP, SourceUrl

FIELD = b"data"


class RedisSource:
    label = "redis"

    def __init__(self, url: SourceUrl, *, consumer: str | None = None) -> None:
        self.url = url
        self.name = url.public
        self.stream = url.target
        self.group = url.param("group", DEFAULT_GROUP)
        self.consumer = (
            url.params.get("consumer") or consumer or f"{socket.gethostname()}-{os.getpid()}"
        )
        self.dlq = url.params.get("dlq")
        self.claim_idle_ms = int(url.number("claim_idle", 60.0) * 1000)
        self._r: Any = None
        self._own_pending = True  # first drain what this consumer read and never acknowledged
        self._pending_cursor = "0"
        self._claim_cursor = "0-0"
        self._next_claim = 0.0

    async def open(self) -> None:
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import RedisError, ResponseError
        except ImportError:  # pragma: no cover - the ingest extra installs it
            raise Unavailable(
                "Redis needs the 'ingest' extra: pip install 'hyper-registry[ingest]'"
            ) from None
        db = int(self.url.param("db", "0"))
        self._r = aioredis.Redis(
            host=self.url.host,
            port=self.url.port or 6379,
            db=db,
            username=self.url.username,
            password=self.url.password,
            socket_connect_timeout=5,
            socket_timeout=30,
            # No silent retries: a XREADGROUP retried after its reply was lost would
            # leave the first delivery pending and unseen, to be claimed later, out of
            # order. A failure surfaces, and the consumer re-reads its pending entries.
            retry=Retry(NoBackoff(), 0),
        )
        try:
            try:
                await self._r.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        except RedisError as exc:
            await self.close()
            raise Unavailable(f"cannot reach Redis at {self.name}: {exc}") from None

    def _raws(self, entries: Sequence[Any]) -> list[Raw]:
        out = []
        scope = f"redis:{self.stream}"
        for entry_id, fields in entries:
            if fields is None:  # deleted from the stream while pending
                continue
            eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            data = fields.get(FIELD)
            if data is None:
                data = fields.get("data", b"")
            ms, _, seq = eid.partition("-")
            out.append(
                Raw(
                    data,
                    f"entry {eid}",
                    f"redis:{self.stream}:{eid}",
                    eid,
                    scope=scope,
                    order=f"{int(ms):020d}-{int(seq or 0):020d}",
                )
            )
        return out

    async def fetch(self, max_count: int, timeout: float) -> list[Raw]:
        if self._own_pending:
            resp = await self._r.xreadgroup(
                self.group, self.consumer, {self.stream: self._pending_cursor}, count=max_count
            )
            entries = resp[0][1] if resp else []
            if entries:
                last = entries[-1][0]
                self._pending_cursor = last.decode() if isinstance(last, bytes) else str(last)
                return self._raws(entries)
            self._own_pending = False
        now = time.monotonic()
        if now < self._next_claim:
            claimed = None
        else:
            claimed = await self._claim(max_count)
            if self._claim_cursor == "0-0":
                # Scanned to the end: look again after a while, not on every fetch (our
                # own batch in flight would look idle to a short claim_idle).
                self._next_claim = now + max(self.claim_idle_ms / 2000, 1.0)
        if claimed and claimed[1]:
            return self._raws(claimed[1])
        resp = await self._r.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: ">"},
            count=max_count,
            block=max(1, int(timeout * 1000)),
        )
        return self._raws(resp[0][1]) if resp else []

    async def _claim(self, max_count: int) -> Any:
        claimed = await self._r.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id=self._claim_cursor,
            count=max_count,
        )
        cursor = claimed[0] if claimed else None
        if isinstance(cursor, bytes):
            cursor = cursor.decode()
        self._claim_cursor = cursor or "0-0"
        return claimed

    async def ack(self, batch: Sequence[Raw]) -> None:
        if batch:
            await self._r.xack(self.stream, self.group, *[raw.handle for raw in batch])

    async def dead_letter(self, dead: Sequence[tuple[DeadLetter, Raw]]) -> None:
        if not self.dlq or not dead:
            return
        pipe = self._r.pipeline(transaction=False)
        for d, raw in dead:
            pipe.xadd(
                self.dlq,
                {
                    "data": raw.data,
                    "reason": d.reason[:1000],
                    "code": d.code,
                    "event_id": d.event_id or "",
                },
            )
        await pipe.execute()

    async def lag(self) -> int | None:
        try:
            groups = await self._r.xinfo_groups(self.stream)
        except Exception:
            return None
        for g in groups:
            name = g.get("name")
            if (name.decode() if isinstance(name, bytes) else name) == self.group:
                lag = g.get("lag")
                return int(lag) if lag is not None else None
        return None

    async def close(self) -> None:
        if self._r is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                await self._r.aclose()
            self._r = None

    def reset(self) -> None:
        """After a reconnect: read this consumer's own pending entries again first."""
        self._own_pending = True
        self._pending_cursor = "0"
