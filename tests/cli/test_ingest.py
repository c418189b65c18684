"""``hyper-registry ingest``, ``worker`` and ``dlq``: local, over HTTP, and as processes."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner, Result

from hyper_registry import Registry, Settings
from hyper_registry.cli.main import app

Run = Callable[..., Result]
EXE = [sys.executable, "-m", "hyper_registry"]


def doc(name: str, version: str = "1.0.0", ns: str = "team-a") -> dict[str, Any]:
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "model",
        "metadata": {"namespace": ns, "name": name, "version": version},
        "spec": {"framework": "onnx"},
    }


def jsonl(path: Path, n: int, *extra: bytes) -> Path:
    with path.open("wb") as fh:
        for i in range(n):
            fh.write(orjson.dumps({"id": f"e{i}", "document": doc(f"m{i}")}) + b"\n")
        for line in extra:
            fh.write(line + b"\n")
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path) -> Run:
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str, code: int = 0, input: bytes | None = None) -> Result:
        result = runner.invoke(app, ["--data-dir", str(data_dir), *args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        if code:
            assert "Traceback" not in result.stderr
        return result

    return run


def test_ingest_file_summary_and_dead_letters(cli: Run, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "in.jsonl", 30, b"{not json", orjson.dumps({"id": "x", "op": "nope"}))
    out = json.loads(cli("ingest", str(path), "-o", "json").stdout)
    assert {k: out[k] for k in ("received", "applied", "created", "duplicate", "dead")} == {
        "received": 32,
        "applied": 30,
        "created": 30,
        "duplicate": 0,
        "dead": 2,
    }
    assert out["batches"] == 1 and out["perSecond"] > 0
    again = cli("ingest", str(path)).stdout
    # Event ids taken in (applied or dead-lettered) are skipped; the line without an id
    # is dead-lettered again.
    assert "32 received, 0 applied" in again and "31 duplicate" in again
    assert "1 dead-lettered" in again
    listed = json.loads(cli("dlq", "list", "-o", "json").stdout)["items"]
    assert [(d["position"], d["code"]) for d in listed] == [
        ("line 31", "not-json"),
        ("line 32", "bad-shape"),
        ("line 31", "not-json"),
    ]
    assert listed[0]["payload"] == "{not json"
    table = cli("dlq", "list").stdout
    assert "line 31" in table and "not-json" in table
    replay = cli("dlq", "replay", str(listed[1]["id"]), "-o", "json", code=0).stdout
    assert json.loads(replay)["results"][0]["outcome"] == "refused"
    cli("dlq", "replay", str(listed[1]["id"]), code=2)


def test_ingest_stdin_in_batches(cli: Run, tmp_path: Path, data_dir: Path) -> None:
    data = jsonl(tmp_path / "in.jsonl", 25).read_bytes()
    out = json.loads(cli("ingest", "-", "--batch-size", "10", "-o", "json", input=data).stdout)
    assert out["created"] == 25 and out["batches"] == 3
    with Registry.open(Settings(data_dir=data_dir)) as reg:
        assert reg.count(kinds=["model"]) == 25


def test_ingest_refusals(cli: Run, tmp_path: Path) -> None:
    r = cli("ingest", str(tmp_path / "missing.jsonl"), code=2)
    assert r.stderr.startswith("error: cannot read")
    r = cli("ingest", "--from", "amqp://127.0.0.1/x", code=2)
    assert "nats://, redis:// or kafka://" in r.stderr
    cli("ingest", code=2)
    cli("ingest", str(tmp_path / "x"), "--from", "nats://127.0.0.1/s", code=2)


def test_ingest_with_a_scoped_token_dead_letters_other_namespaces(
    cli: Run, tmp_path: Path, data_dir: Path
) -> None:
    with Registry.open(Settings(data_dir=data_dir)) as reg:
        _, token = reg.tokens.create("bot", "writer", ["team-a"], created_by="test")
        _, reader = reg.tokens.create("r", "reader", None, created_by="test")
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        orjson.dumps({"id": "a", "document": doc("x")})
        + b"\n"
        + orjson.dumps({"id": "b", "document": doc("x", ns="team-b")})
        + b"\n"
    )
    out = json.loads(cli("--token", token, "ingest", str(path), "-o", "json").stdout)
    assert out["created"] == 1 and out["dead"] == 1
    listed = json.loads(cli("dlq", "list", "-o", "json").stdout)["items"]
    assert listed[0]["code"] == "forbidden" and listed[0]["actor"] == "bot"
    r = cli("--token", reader, "ingest", str(path), code=4)
    assert "writer role" in r.stderr


# -- against a server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    data = tmp_path / "server-data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    proc = subprocess.Popen(
        [*EXE, "--data-dir", str(data), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield url, (data / "admin-token").read_text().strip(), data
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def remote(
    server: tuple[str, str, Path], *args: str, code: int = 0
) -> subprocess.CompletedProcess[str]:
    url, token, _ = server
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    result = subprocess.run(
        [*EXE, "--server", url, "--token", token, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    return result


def test_ingest_and_dlq_over_http(server: tuple[str, str, Path], tmp_path: Path) -> None:
    path = jsonl(tmp_path / "in.jsonl", 40, b"[]")
    out = json.loads(remote(server, "ingest", str(path), "--batch-size", "15", "-o", "json").stdout)
    assert out["received"] == 41 and out["created"] == 40 and out["dead"] == 1
    again = json.loads(remote(server, "ingest", str(path), "-o", "json").stdout)
    assert again["duplicate"] == 40
    listed = json.loads(remote(server, "dlq", "list", "-o", "json").stdout)
    assert listed["items"] == []  # HTTP callers get their refusals in the answer
    r = remote(server, "ingest", "--from", "redis://127.0.0.1:6379/x", code=2)
    assert "drop --server" in r.stderr


# -- worker replicas ----------------------------------------------------------------------


def test_worker_replicas_share_a_redis_stream(tmp_path: Path, data_dir: Path) -> None:
    redis = pytest.importorskip("redis")
    r = redis.Redis()
    try:
        r.ping()
    except redis.ConnectionError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Redis is required in CI")
        pytest.skip("Redis on 127.0.0.1:6379 is unreachable")
    key = f"hrtest-{secrets.token_hex(4)}"
    n = 600
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.xadd(key, {"data": orjson.dumps({"id": f"w{i}", "document": doc(f"m{i}")})})
    pipe.execute()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env["HYPER_REGISTRY_INGEST_BATCH_SIZE"] = "20"
    proc = subprocess.Popen(
        [
            *EXE,
            "--data-dir",
            str(data_dir),
            "worker",
            "--from",
            f"redis://127.0.0.1:6379/{key}",
            "--replicas",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        count = 0
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                with Registry(Settings(data_dir=data_dir)) as reg:
                    count = reg.count(kinds=["model"])
            except Exception:
                continue
            if count == n and r.xpending(key, "hyper-registry")["pending"] == 0:
                break
        assert count == n
        consumers: set[bytes] = set()
        while time.monotonic() < deadline and len(consumers) < 2:
            consumers = {c["name"] for c in r.xinfo_consumers(key, "hyper-registry")}
            time.sleep(0.2)
        assert consumers == {b"worker-0", b"worker-1"}  # two processes in one group
        assert all(c["pending"] == 0 for c in r.xinfo_consumers(key, "hyper-registry"))
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        r.delete(key)
    assert rc == 0
    with Registry.open(Settings(data_dir=data_dir)) as reg:
        assert reg.count(kinds=["model"]) == n
        assert all(c.op == "create" for c in reg.changes(0, 10_000) if c.kind == "model")
