"""Crash safety: SIGKILL the consumer and the broker server mid-stream (and the API server
during a bulk request), restart, and check that every message is stored exactly once
(none lost, none doubled).

Each test runs its own broker server (nats-server with JetStream on a file store, or
redis-server with an fsync-always append-only file) on a free loopback port, so it can
be killed without disturbing anyone, and runs the consumer as a separate process
(``python -m hyper_registry ingest --from ...``), killed with SIGKILL as well.

The messages are 20 successive changes to each of 40 entries, so a message applied
twice shows in the entries' revision counters and change log, one applied out of order
in their final contents, and one lost in the event ids taken in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hyper_registry import Registry, Settings
from hyper_registry.ingest.tables import events

from .conftest import apply_msg, in_ci, model_doc, nats_publish, redis_publish

ENTRIES = 40
ROUNDS = 20
N = ENTRIES * ROUNDS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"port {port} did not open")


def need(binary: str) -> str:
    path = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if path is None:
        if in_ci():
            pytest.fail(f"{binary} is required in CI", pytrace=False)
        pytest.skip(f"{binary} is not installed")
    return path


class Server:
    """A broker server process we own, restartable on the same port and data."""

    def __init__(self, cmd: list[str], port: int) -> None:
        self.cmd = cmd
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    server = Server(
        [
            need("nats-server"),
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "-js",
            "-sd",
            str(tmp_path / "js"),
        ],
        port,
    )
    server.start()
    yield server
    server.kill()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    (tmp_path / "redis").mkdir()
    server = Server(
        [
            need("redis-server"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp_path / "redis"),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ],
        port,
    )
    server.start()
    yield server
    server.kill()


def payloads() -> list[bytes]:
    return [apply_msg(f"evt-{i}", model_doc(f"m{i % ENTRIES}", seq=i)) for i in range(N)]


def start_consumer(settings: Settings, url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env["HYPER_REGISTRY_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["HYPER_REGISTRY_DATABASE_URL"] = settings.database_url
    env["HYPER_REGISTRY_INGEST_BATCH_SIZE"] = "25"
    env["HYPER_REGISTRY_INGEST_BATCH_WAIT"] = "0.02"
    return subprocess.Popen(
        [sys.executable, "-m", "hyper_registry", "ingest", "--from", url, "-q", "--consumer", "c1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def taken_in(registry: Registry) -> int:
    try:
        with registry.store.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())
    except sa.exc.OperationalError:
        return 0


def wait_for(
    registry: Registry, at_least: int, proc: subprocess.Popen[bytes], timeout: float = 120
) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = taken_in(registry)
        if n >= at_least:
            return n
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"the consumer exited with {proc.returncode}: {err[-2000:]}")
        time.sleep(0.02)
    raise AssertionError(f"only {taken_in(registry)} of {at_least} events after {timeout} s")


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def check_exactly_once(registry: Registry) -> None:
    """Every event taken in once; no change applied twice; each entry ends at its last change.

    A change redelivered after a newer change to the same entry was applied (JetStream
    redelivers a dead consumer's messages after ``ack_wait``, behind newer ones) is taken
    in as ``stale``, not applied: applying it would undo the newer one.
    """
    with registry.store.engine.connect() as conn:
        outcomes = dict(conn.execute(sa.select(events.c.event_id, events.c.outcome)).all())
    assert len(outcomes) == N  # none lost
    assert set(outcomes) == {f"evt-{i}" for i in range(N)}
    assert set(outcomes.values()) <= {"applied", "stale"}
    applied = {f"model:team-a/m{k}@1.0.0": 0 for k in range(ENTRIES)}
    for i in range(N):
        if outcomes[f"evt-{i}"] == "applied":
            applied[f"model:team-a/m{i % ENTRIES}@1.0.0"] += 1
    for k in range(ENTRIES):
        ref = f"model:team-a/m{k}@1.0.0"
        entry = registry.get(ref)
        # Each applied change is one revision: none applied twice.
        assert entry.revision == applied[ref], ref
        # The last change of each entry always wins.
        assert entry.metadata.labels["seq"] == str(k + ENTRIES * (ROUNDS - 1))
        assert outcomes[f"evt-{k + ENTRIES * (ROUNDS - 1)}"] == "applied"
    per_ref: dict[str, int] = {}
    since = 0
    while True:
        page = registry.changes(since, 1000)
        if not page:
            break
        for c in page:
            if c.kind == "model":
                per_ref[c.ref] = per_ref.get(c.ref, 0) + 1
        since = page[-1].seq
    assert per_ref == applied


def wait_drained(pending: Callable[[], int], timeout: float = 60) -> None:
    """Wait until the broker holds no unacknowledged message for us.

    Acks sent to a broker that is then killed are lost: those messages come back after
    the ack wait (or claim idle time), are seen to be taken in already, and are
    acknowledged then. So "all stored" comes before "all acknowledged".
    """
    deadline = time.monotonic() + timeout
    left = pending()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = pending()
    assert left == 0, f"{left} messages still unacknowledged after {timeout} s"


def crash_run(
    registry: Registry,
    settings: Settings,
    url: str,
    server: Server,
    pending: Callable[[], int],
) -> None:
    consumer = start_consumer(settings, url)
    try:
        # 1. Kill the consumer mid-stream.
        wait_for(registry, N // 5, consumer)
        kill(consumer)
        consumer = start_consumer(settings, url)
        # 2. Kill the broker server mid-stream, then the consumer, restart both.
        wait_for(registry, taken_in(registry) + N // 5, consumer)
        server.kill()
        time.sleep(0.5)
        kill(consumer)
        server.start()
        consumer = start_consumer(settings, url)
        # 3. Kill the broker server alone: the consumer reconnects with backoff.
        wait_for(registry, taken_in(registry) + N // 10, consumer)
        server.kill()
        time.sleep(1.0)
        server.start()
        wait_for(registry, N, consumer)
        wait_drained(pending)
        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(timeout=60) == 0
    finally:
        if consumer.poll() is None:
            kill(consumer)
    check_exactly_once(registry)


def test_nats_consumer_and_server_killed(
    registry: Registry, settings: Settings, nats_server: Server
) -> None:
    subject = "crash.changes"
    asyncio.run(nats_publish(f"127.0.0.1:{nats_server.port}", subject, payloads()))
    url = f"nats://127.0.0.1:{nats_server.port}/{subject}?ack_wait=2"

    async def unacked() -> int:
        import nats

        nc = await nats.connect(f"nats://127.0.0.1:{nats_server.port}")
        try:
            info = await nc.jetstream().consumer_info("HR_CRASH_CHANGES", "hyper-registry")
        finally:
            await nc.close()
        return int(info.num_pending + info.num_ack_pending)

    crash_run(registry, settings, url, nats_server, lambda: asyncio.run(unacked()))
    assert asyncio.run(unacked()) == 0  # every message acknowledged


def test_redis_consumer_and_server_killed(
    registry: Registry, settings: Settings, redis_server: Server
) -> None:
    import redis

    key = "crash-changes"
    redis_publish(f"127.0.0.1:{redis_server.port}", key, payloads())
    url = f"redis://127.0.0.1:{redis_server.port}/{key}?claim_idle=2"
    r = redis.Redis(port=redis_server.port)
    try:
        crash_run(
            registry,
            settings,
            url,
            redis_server,
            lambda: int(r.xpending(key, "hyper-registry")["pending"]),
        )
        assert r.xpending(key, "hyper-registry")["pending"] == 0  # every message acknowledged
    finally:
        r.close()


def test_api_server_killed_during_a_bulk_stream(tmp_path: Path) -> None:
    """SIGKILL the API server while it reads a POST /v1/bulk body; resend it after restart."""
    import threading

    import httpx

    data = tmp_path / "server"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env["HYPER_REGISTRY_INGEST_BATCH_SIZE"] = "20"
    cmd = [
        sys.executable,
        "-m",
        "hyper_registry",
        "--data-dir",
        str(data),
        "serve",
        "--port",
        str(port),
    ]
    server = Server(cmd, port)
    server.proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_port(port, 60)
    token = (data / "admin-token").read_text().strip()
    url = f"http://127.0.0.1:{port}/v1/bulk"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    body = [p + b"\n" for p in payloads()]
    progress = {"sent": 0}

    def slow() -> Any:
        for i, chunk in enumerate(body):
            progress["sent"] = i
            if i % 20 == 0:
                time.sleep(0.01)
            yield chunk

    def post() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(url, content=slow(), headers=headers, timeout=120)

    try:
        sender = threading.Thread(target=post)
        sender.start()
        registry = Registry(Settings(data_dir=data))
        deadline = time.monotonic() + 120
        while taken_in(registry) < N // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert taken_in(registry) >= N // 3
        server.kill()  # mid-stream: some batches committed, the rest never read
        sender.join(60)
        partial = taken_in(registry)
        assert N // 3 <= partial < N
        server.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(port, 60)
        # The client never got an answer: it sends the whole body again.
        out = httpx.post(url, content=b"".join(body), headers=headers, timeout=300).json()
        assert out["counts"]["duplicate"] == partial
        assert out["counts"]["created"] + out["counts"]["updated"] == N - partial
        check_exactly_once(registry)
        registry.close()
    finally:
        server.kill()
