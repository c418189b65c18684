"""The CLI against a live server: the same commands, the same output as on a local data dir.

A real ``hyper-registry serve`` runs in a subprocess on a free loopback port; the CLI
runs as subprocesses with ``--server`` and ``--token`` (and once in process).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from hyper_registry.cli.main import app

EXE = shutil.which("hyper-registry") or str(Path(sys.executable).with_name("hyper-registry"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data = tmp_path_factory.mktemp("server-data")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    proc = subprocess.Popen(
        [EXE, "--data-dir", str(data), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"the server did not start:\n{out}")
            time.sleep(0.2)
        token_file = data / "admin-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        yield url, token_file.read_text().strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def cli(server: tuple[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    url, token = server
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env["COLUMNS"] = "200"
    result = subprocess.run(
        [EXE, "--server", url, "--token", token, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    if code:
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    return result


def local(data_dir: Path, *args: str, code: int = 0) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def test_apply_get_and_graph_match_a_local_registry(
    server: tuple[str, str], fixtures_dir: Path, tmp_path: Path
) -> None:
    applied = json.loads(cli(server, "apply", "-f", str(fixtures_dir), "-o", "json").stdout)
    assert applied["counts"]["created"] == 7
    local_dir = tmp_path / "local"
    local(local_dir, "apply", "-f", str(fixtures_dir))

    for args in (
        ("impact", "security:edge/api-gateway-sbom", "-o", "json"),
        ("deps", "service:edge/api-gateway", "-o", "json"),
        ("dependents", "infra:platform/edge-stack@1.3.0", "-o", "json"),
        ("impact", "plugin:edge/header-scrubber"),
    ):
        assert cli(server, *args).stdout == local(local_dir, *args), args

    remote_entry = json.loads(
        cli(server, "get", "model:shop/bot-detector@champion", "-o", "json").stdout
    )
    local_entry = json.loads(
        local(local_dir, "get", "model:shop/bot-detector@champion", "-o", "json")
    )
    for entry in (remote_entry, local_entry):
        for key in ("uid", "createdAt", "updatedAt"):
            entry["metadata"].pop(key)
    assert remote_entry == local_entry

    listed = json.loads(
        cli(server, "list", "--kind", "service", "--label", "tier=gold", "-o", "json").stdout
    )
    assert [e["metadata"]["name"] for e in listed] == ["api-gateway"]
    described = json.loads(cli(server, "describe", "service:edge/api-gateway", "-o", "json").stdout)
    assert described["versions"] == ["5.2.0"]
    assert {r["type"] for r in described["relations"]} >= {
        "calls",
        "uses",
        "deployedBy",
        "describedBy",
    }


def test_errors_and_exit_codes_over_http(server: tuple[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: hyper-registry/v1\nkind: model\n"
        "metadata: {namespace: risk, name: fraud, version: 2.2.0}\n"
        "spec: {framework: xgboost, metrics: {precision: 0.94, recall: 0.88, f1: 0.5}}\n"
    )
    out = cli(server, "apply", "-f", str(bad), code=2)
    assert f"{bad}:1 (document 1): spec.metrics.f1: f1 0.5 does not agree" in out.stderr
    assert cli(server, "get", "model:risk/nothing-here", code=1).stderr.startswith("error: ")
    url, _ = server
    denied = subprocess.run(
        [EXE, "--server", url, "--token", "hr_0000000000000000_wrong", "get", "model:risk/fraud"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")},
    )
    assert denied.returncode == 4, denied.stderr


def test_tokens_scope_what_the_cli_sees(server: tuple[str, str], fixtures_dir: Path) -> None:
    cli(server, "apply", "-f", str(fixtures_dir))
    created = json.loads(
        cli(
            server, "token", "create", "shop-reader", "--role", "reader", "-n", "shop", "-o", "json"
        ).stdout
    )
    scoped = (server[0], created["token"])
    names = {
        e["metadata"]["namespace"] for e in json.loads(cli(scoped, "list", "-o", "json").stdout)
    }
    assert names == {"shop"}
    cli(scoped, "get", "service:edge/api-gateway", code=1)  # another namespace: not found
    cli(scoped, "delete", "model:shop/bot-detector@2.0.0", code=4)  # a reader cannot write
    assert created["id"] in cli(server, "token", "list").stdout
    cli(server, "token", "revoke", created["id"])
    cli(scoped, "list", code=4)
