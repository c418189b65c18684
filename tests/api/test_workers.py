"""``serve --workers 2``: two server processes on one SQLite store, writes from both land."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from hyper_registry.api.server import settings_environment
from hyper_registry.core.settings import Settings

EXE = shutil.which("hyper-registry") or str(Path(sys.executable).with_name("hyper-registry"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_settings_travel_to_worker_processes_unchanged(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_page_size=77, group_commit=False)
    env = settings_environment(settings)
    assert env["HYPER_REGISTRY_MAX_PAGE_SIZE"] == "77"
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        rebuilt = Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert rebuilt.model_dump() == settings.model_dump()


def test_two_workers_share_one_store(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    env["HYPER_REGISTRY_CHECKER_ENABLED"] = "false"
    proc = subprocess.Popen(
        [EXE, "--data-dir", str(tmp_path), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    writers: list[str] = []
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
        token = (tmp_path / "admin-token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}

        def create(i: int) -> int:
            doc = {
                "kind": "model",
                "metadata": {"namespace": "w", "name": f"m{i}", "version": "1.0.0"},
                "spec": {"framework": "xgboost"},
            }
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                return client.post("/v1/entries", json=doc).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(create, range(120)))
        assert statuses == [201] * 120
        listed = httpx.get(
            url + "/v1/entries", params={"namespace": "w", "limit": 500}, headers=headers
        ).json()
        assert sorted(e["metadata"]["name"] for e in listed["items"]) == sorted(
            f"m{i}" for i in range(120)
        )
        # Every worker process answers: the supervisor's children are the servers.
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(children) >= 3  # two servers and the writer process
        # On SQLite one writer process commits the groups of both workers.
        writers = [pid for pid in children if b"writer_worker" in _cmdline(pid)]
        assert len(writers) == 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    deadline = time.monotonic() + 10
    while writers and Path(f"/proc/{writers[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not writers or not Path(f"/proc/{writers[0]}").exists()  # stopped with serve


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
