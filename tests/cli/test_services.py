"""``hyper-registry services``: topology, health, check, and the worker as a real process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from hyper_registry import Registry, Settings
from hyper_registry.cli.main import app
from hyper_registry.kinds.service import history
from kinds.service.servers import HealthServer

EXE = shutil.which("hyper-registry") or str(Path(sys.executable).with_name("hyper-registry"))
FIXTURES = Path(__file__).parent.parent / "fixtures" / "core"
LOOPBACK = {"HYPER_REGISTRY_CHECKER_ALLOW_LOOPBACK": "true", "COLUMNS": "200"}

Run = Callable[..., Result]


@pytest.fixture
def server() -> Iterator[HealthServer]:
    srv = HealthServer()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path) -> Run:
    runner = CliRunner(env=LOOPBACK)

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        if code and code != 1:
            assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.stderr
        return result

    return run


def write(tmp_path: Path, docs: list[dict[str, Any]]) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return path


def svc(name: str, endpoint: str, path: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "service",
        "metadata": {"namespace": "shop", "name": name, "version": "1.0.0"},
        "spec": {
            "endpoints": [endpoint],
            "healthCheck": {"path": path, "interval": "30s", "timeout": "2s"},
            "sla": {"availability": 99.0},
            **spec,
        },
    }


def test_topology_of_the_example(cli: Run) -> None:
    cli("apply", "-f", str(FIXTURES / "service.yaml"))
    topo = json.loads(cli("services", "topology", "-o", "json").stdout)
    assert topo == {
        "nodes": [
            {
                "name": "service:edge/api-gateway",
                "ref": "service:edge/api-gateway@5.2.0",
                "version": "5.2.0",
                "registered": True,
                "mesh": {"enabled": True, "provider": "istio", "mtls": True},
                "health": None,
            },
            {
                "name": "service:shop/orders",
                "ref": None,
                "version": None,
                "registered": False,
                "mesh": None,
                "health": None,
            },
        ],
        "edges": [
            {
                "from": "service:edge/api-gateway",
                "to": "service:shop/orders",
                "meshed": False,
                "mtls": False,
            }
        ],
        "meshes": {"istio": ["service:edge/api-gateway"]},
    }
    table = cli("services", "topology").stdout
    assert "service:edge/api-gateway" in table and "istio mtls" in table


def test_check_and_health(cli: Run, tmp_path: Path, server: HealthServer) -> None:
    docs = [
        svc("orders", server.endpoint(), "/ok"),
        svc("payments", server.endpoint(), "/fail", calls=["service:shop/orders"]),
    ]
    cli("apply", "-f", str(write(tmp_path, docs)))
    ok = json.loads(cli("services", "check", "shop/orders", "-o", "json").stdout)
    assert (ok["status"], ok["message"]) == ("passing", "HTTP 200")
    failed = cli("services", "check", "service:shop/payments@1.0.0", code=1)
    assert "critical (HTTP 500" in failed.stdout
    report = json.loads(cli("services", "health", "shop/orders", "-o", "json").stdout)
    assert report["current"]["status"] == "passing"
    assert report["availability"]["1h"]["sla"] == "met"
    assert report["dependents"] == ["service:shop/payments@1.0.0"]
    text = cli("services", "health", "shop/payments").stdout
    assert "service:shop/payments@1.0.0  critical since" in text
    assert "breached" in text


def test_bad_references(cli: Run) -> None:
    missing = cli("services", "health", "shop/nothing", code=1)
    assert missing.stderr.startswith("error: ")
    cli("services", "health", "model:shop/thing", code=2)
    cli("services", "health", "not a ref", code=2)

    runner = CliRunner(env=LOOPBACK)
    usage = runner.invoke(app, ["services", "worker", "--concurrency", "0"])
    assert usage.exit_code == 2 and "--concurrency" in usage.stderr
    remote = runner.invoke(app, ["--server", "http://127.0.0.1:9", "services", "worker"])
    assert remote.exit_code == 2
    assert remote.stderr.startswith("error: a checker worker works on the database")


def test_worker_process(tmp_path: Path, server: HealthServer) -> None:
    data = tmp_path / "data"
    with Registry.open(Settings(data_dir=data, database_url=None)) as reg:
        reg.register(svc("orders", server.endpoint(), "/ok"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env.update(
        HYPER_REGISTRY_CHECKER_ALLOW_LOOPBACK="true",
        HYPER_REGISTRY_CHECKER_TEST_INTERVAL="0.2",
        HYPER_REGISTRY_CHECKER_TICK_SECONDS="0.05",
    )
    proc = subprocess.Popen(
        [EXE, "--data-dir", str(data), "services", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while server.stats.hits["/ok"] < 3:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the worker checked nothing"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "health checker" in out and "stopped after" in out
    with Registry.open(Settings(data_dir=data, database_url=None)) as reg:
        state = history.current_state(reg.store.engine, "service:shop/orders@1.0.0")
    assert state is not None and state["status"] == "passing"
