"""Fixtures of the ingest tests: messages, and the real brokers on loopback.

NATS JetStream (127.0.0.1:4222) and Redis (127.0.0.1:6379) are used for real. An
unreachable broker skips its tests, except under ``CI=true``, where it fails them.
Every test gets its own subject / stream key, so tests never see each other's messages.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from typing import Any

import orjson
import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


NATS_HOST = os.environ.get("HYPER_REGISTRY_TEST_NATS", "127.0.0.1:4222")
REDIS_HOST = os.environ.get("HYPER_REGISTRY_TEST_REDIS", "127.0.0.1:6379")


def model_doc(
    name: str, version: str = "1.0.0", ns: str = "team-a", **labels: Any
) -> dict[str, Any]:
    """A valid model document; keyword arguments become labels (to vary the content)."""
    md: dict[str, Any] = {"namespace": ns, "name": name, "version": version}
    if labels:
        md["labels"] = {k: str(v) for k, v in labels.items()}
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "model",
        "metadata": md,
        "spec": {"framework": "xgboost"},
    }


def apply_msg(event_id: str | None, doc: dict[str, Any]) -> bytes:
    body: dict[str, Any] = {"op": "apply", "document": doc}
    if event_id is not None:
        body["id"] = event_id
    return orjson.dumps(body)


def delete_msg(event_id: str, ref: str) -> bytes:
    return orjson.dumps({"id": event_id, "op": "delete", "ref": ref})


def _reachable(hostport: str, what: str) -> str:
    host, _, port = hostport.partition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return hostport
    except OSError as exc:
        reason = f"{what} at {hostport} is unreachable: {exc}"
    if in_ci():
        pytest.fail(f"{reason}. CI=true: the {what} service is required in CI", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def nats_hostport() -> str:
    return _reachable(NATS_HOST, "NATS")


@pytest.fixture(scope="session")
def redis_hostport() -> str:
    return _reachable(REDIS_HOST, "Redis")


@pytest.fixture
def nats_subject(nats_hostport: str) -> Iterator[str]:
    """A fresh subject; its stream (HR_<SUBJECT>) is deleted afterwards."""
    subject = f"hrtest.{secrets.token_hex(4)}"
    yield subject
    import asyncio

    import nats

    async def cleanup() -> None:
        nc = await nats.connect(f"nats://{nats_hostport}")
        js = nc.jetstream()
        try:
            name = await js.find_stream_name_by_subject(subject)
            await js.delete_stream(name)
        except Exception:
            pass
        await nc.close()

    asyncio.run(cleanup())


@pytest.fixture
def redis_stream(redis_hostport: str) -> Iterator[str]:
    """A fresh stream key (and its -dlq), deleted afterwards."""
    import redis

    key = f"hrtest-{secrets.token_hex(4)}"
    yield key
    host, _, port = redis_hostport.partition(":")
    r = redis.Redis(host=host, port=int(port))
    r.delete(key, f"{key}-dlq")
    r.close()


async def nats_publish(hostport: str, subject: str, payloads: list[bytes]) -> None:
    """Publish to JetStream (creating the subject's stream as the consumer would)."""
    import nats
    from nats.js.errors import NotFoundError

    from hyper_registry.ingest.sources.nats import _stream_name

    nc = await nats.connect(f"nats://{hostport}")
    js = nc.jetstream()
    try:
        await js.find_stream_name_by_subject(subject)
    except NotFoundError:
        await js.add_stream(name=_stream_name(subject), subjects=[subject])
    for p in payloads:
        await nc.publish(subject, p)
    await nc.flush()
    await js.stream_info(_stream_name(subject))
    await nc.close()


def redis_publish(hostport: str, key: str, payloads: list[bytes]) -> None:
    import redis

    host, _, port = hostport.partition(":")
    r = redis.Redis(host=host, port=int(port))
    pipe = r.pipeline(transaction=False)
    for p in payloads:
        pipe.xadd(key, {"data": p})
    pipe.execute()
    r.close()
