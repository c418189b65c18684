"""``serve --workers 2``: two server processes on one SQLite store, writes from both land."""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from hyper_registry.api.server import settings_environment
from hyper_registry.core.settings import Settings

from .serving import free_port, start_serve, stop, wait_ready


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
    port = free_port()
    proc = start_serve(tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    writers: list[str] = []
    try:
        wait_ready(proc, url)
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
        stop(proc)
    deadline = time.monotonic() + 10
    while writers and Path(f"/proc/{writers[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not writers or not Path(f"/proc/{writers[0]}").exists()  # stopped with serve


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
