"""NATS JetStream: a durable pull consumer, explicit acks after the batch's commit.

Replicas that name the same durable share the stream: each message goes to one of
them; one that is not acknowledged within ``ack_wait`` seconds (its consumer died) is
delivered again, and its event id makes the second delivery a no-op. The stream is
created (file storage, the subject alone) if no stream captures the subject yet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from hyper_registry.core.errors import Unavailable
from hyper_registry.ingest.messages import DeadLetter, Raw
from hyper_registry.ingest.sources import DEFAULT_GROUP, SourceUrl

log = logging.getLogger(__name__)


def _stream_name(subject: str) -> str:
    return "HR_" + "".join(ch if ch.isalnum() else "_" for ch in subject).upper()


class NatsSource:
    label = "nats"

    def __init__(self, url: SourceUrl) -> None:
        self.url = url
        self.name = url.public
        self.subject = url.target
        self.durable = url.param("durable", DEFAULT_GROUP)
        self.stream = url.params.get("stream")
        self.dlq = url.params.get("dlq")
        self.ack_wait = url.number("ack_wait", 30.0)
        self.max_ack_pending = int(url.number("max_ack_pending", 50_000))
        self._nc: Any = None
        self._js: Any = None
        self._sub: Any = None

    async def open(self) -> None:
        try:
            import nats
            from nats.js import api
            from nats.js.errors import NotFoundError
        except ImportError:  # pragma: no cover - the ingest extra installs it
            raise Unavailable(
                "NATS needs the 'ingest' extra: pip install 'hyper-registry[ingest]'"
            ) from None
        auth: dict[str, Any] = {}
        if self.url.username:
            auth = {"user": self.url.username, "password": self.url.password or ""}
        try:
            self._nc = await nats.connect(
                servers=[f"nats://{self.url.host}:{self.url.port or 4222}"],
                connect_timeout=5,
                reconnect_time_wait=1,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                **auth,
            )
            self._js = self._nc.jetstream()
            if self.stream is None:
                try:
                    self.stream = await self._js.find_stream_name_by_subject(self.subject)
                except NotFoundError:
                    self.stream = _stream_name(self.subject)
                    await self._js.add_stream(name=self.stream, subjects=[self.subject])
            config = api.ConsumerConfig(
                durable_name=self.durable,
                ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait,
                max_ack_pending=self.max_ack_pending,
                deliver_policy=api.DeliverPolicy.ALL,
            )
            self._sub = await self._js.pull_subscribe(
                self.subject, durable=self.durable, stream=self.stream, config=config
            )
        except Exception as exc:
            await self.close()
            raise Unavailable(f"cannot reach NATS at {self.name}: {exc!r}") from None

    async def fetch(self, max_count: int, timeout: float) -> list[Raw]:
        import nats.errors

        try:
            msgs = await self._sub.fetch(batch=max_count, timeout=timeout)
        except (nats.errors.TimeoutError, TimeoutError):
            return []
        out = []
        stream = self.stream
        scope = f"nats:{stream}"
        for m in msgs:
            seq = m.metadata.sequence.stream
            out.append(
                Raw(
                    m.data,
                    f"stream {stream} seq {seq}",
                    f"nats:{stream}:{seq}",
                    m,
                    scope=scope,
                    order=f"{seq:020d}",
                )
            )
        return out

    async def ack(self, batch: Sequence[Raw]) -> None:
        for raw in batch:
            await raw.handle.ack()
        await self._nc.flush(timeout=10)

    async def dead_letter(self, dead: Sequence[tuple[DeadLetter, Raw]]) -> None:
        if not self.dlq or not dead:
            return
        for d, raw in dead:
            headers = {"Hr-Reason": d.reason[:1000], "Hr-Code": d.code}
            if d.event_id:
                headers["Hr-Event-Id"] = d.event_id
            await self._js.publish(self.dlq, raw.data, headers=headers)

    async def lag(self) -> int | None:
        try:
            info = await self._sub.consumer_info()
        except Exception:
            return None
        return int(info.num_pending or 0)

    async def close(self) -> None:
        if self._nc is not None:
            try:
                await self._nc.close()
            except Exception:  # pragma: no cover - closing a broken connection
                log.debug("closing NATS failed", exc_info=True)
            self._nc = None
