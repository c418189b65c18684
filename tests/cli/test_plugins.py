"""``hyper-registry plugin``: push, run and inspect, on a data dir, as a real process and
against a live server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from click.testing import Result
from typer.testing import CliRunner

from hyper_registry import Registry, Settings
from hyper_registry.api import create_app
from hyper_registry.cli.main import app

EXE = shutil.which("hyper-registry") or str(Path(sys.executable).with_name("hyper-registry"))
PLUGINS = Path(__file__).parent.parent / "fixtures" / "plugins"

Run = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def runner_for(prefix: list[str]) -> Run:
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, [*prefix, *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        if code and code != 7:
            assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.stderr
        return result

    return run


@pytest.fixture
def cli(data_dir: Path) -> Run:
    return runner_for(["--data-dir", str(data_dir)])


def fixture(name: str) -> str:
    return str(PLUGINS / name)


def test_push_refused_then_accepted_then_run(cli: Run) -> None:
    """The journey: a missing permission is refused with the imports listed; then it runs."""
    refused = cli(
        "plugin",
        "push",
        fixture("files.wat"),
        "--name",
        "edge/scrubber",
        "--version",
        "0.5.0",
        "--permissions",
        "env",
        code=2,
    )
    assert "wasi_snapshot_preview1.path_open" in refused.stderr
    assert "fs:read or fs:write" in refused.stderr
    pushed = cli(
        "plugin",
        "push",
        fixture("files.wat"),
        "--name",
        "edge/scrubber",
        "--version",
        "0.5.0",
        "--permissions",
        "env,fs:read",
    )
    assert pushed.stdout.startswith("pushed plugin:edge/scrubber@0.5.0 (526 bytes, sha256:")
    assert "capabilities: fs-read, stdio" in pushed.stdout
    cli("plugin", "push", fixture("add.wat"), "--name", "edge/add", "--version", "1.0.0")
    out = cli(
        "plugin", "run", "plugin:edge/add@1.0.0", "--export", "add", "--arg", "41", "--arg", "1"
    )
    assert out.stdout == "42\n"


def test_run_json_and_failures(cli: Run) -> None:
    cli("plugin", "push", fixture("loop.wat"), "--name", "lab/loop", "--version", "1.0.0")
    failed = cli("plugin", "run", "lab/loop", "--export", "spin", code=2)
    assert (
        failed.stderr == "error: the plugin used all its fuel (500000000 units) and was stopped\n"
    )
    cli("plugin", "push", fixture("add.wat"), "--name", "lab/add", "--version", "1.0.0")
    data = json.loads(
        cli("plugin", "run", "lab/add", "-e", "add", "-a", "1", "-a", "2", "-o", "json").stdout
    )
    assert data["results"] == [3]
    assert set(data) >= {"ref", "module", "export", "exitCode", "stdout", "stderr", "fuelConsumed"}
    cli("plugin", "run", "lab/add", "-e", "add", "-a", "1", code=2)
    cli("plugin", "run", "lab/none", "-e", "add", code=1)


def test_stdin_and_exit_code(cli: Run, tmp_path: Path) -> None:
    cli("plugin", "push", fixture("hello.wat"), "--name", "lab/hello", "--version", "1.0.0")
    (tmp_path / "in.txt").write_text("from a file\n")
    out = cli(
        "plugin", "run", "lab/hello", "--export", "_start", "--stdin", str(tmp_path / "in.txt")
    )
    assert out.stdout == "hello from a file\n"
    assert out.stderr == "a warning\n"
    ended = cli("plugin", "run", "lab/hello", "--export", "exit", code=7)
    assert "exit code 7" in ended.stderr


def test_inspect_file_and_ref(cli: Run) -> None:
    out = cli("plugin", "inspect", fixture("files.wat")).stdout
    assert "needs: fs:read or fs:write" in out
    data = json.loads(cli("plugin", "inspect", fixture("change.wasm"), "-o", "json").stdout)
    assert len(data["imports"]) == 22
    assert data["memories"][0]["imported"] is True
    assert "env.abort" in data["hostImports"]
    cli("plugin", "push", fixture("empty.wasm"), "--name", "lab/empty", "--version", "1.0.0")
    status = json.loads(cli("plugin", "inspect", "plugin:lab/empty", "-o", "json").stdout)
    assert (status["size"], status["runnable"]) == (8, True)


def test_bad_inputs(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "native.cwasm").write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 64)
    cut = tmp_path / "cut.wasm"
    cut.write_bytes((PLUGINS / "change.wasm").read_bytes()[:5000])
    for path, code in ((tmp_path / "native.cwasm", 2), (cut, 2), (tmp_path / "missing.wasm", 2)):
        cli("plugin", "push", str(path), "--name", "lab/x", "--version", "1.0.0", code=code)
    cli("plugin", "push", fixture("add.wat"), "--name", "lab", "--version", "1.0.0", code=2)
    cli("plugin", "push", fixture("add.wat"), "--name", "lab/x", "--version", "one", code=2)
    cli(
        "plugin",
        "push",
        fixture("add.wat"),
        "--name",
        "lab/x",
        "--version",
        "1.0.0",
        "--sandboxing",
        "off",
        code=2,
    )
    cli("plugin", "run", "service:lab/x", "--export", "f", code=2)


def test_real_process_exits_cleanly(data_dir: Path, tmp_path: Path) -> None:
    """Captured output and stdin go through file descriptors: the process never aborts at exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}
    base = [EXE, "--data-dir", str(data_dir), "plugin"]
    subprocess.run(
        [*base, "push", fixture("hello.wat"), "--name", "lab/hello", "--version", "1.0.0"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    (tmp_path / "in.txt").write_text("process\n")
    for _ in range(3):
        done = subprocess.run(
            [*base, "run", "lab/hello", "--export", "_start", "--stdin", str(tmp_path / "in.txt")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, "hello process\n", "a warning\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Run]:
    reg = Registry.open(Settings(data_dir=tmp_path / "server"))
    _, token = reg.tokens.create("cli", "writer", None, created_by="test")
    port = _free_port()
    config = uvicorn.Config(
        create_app(reg), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield runner_for(["--server", f"http://127.0.0.1:{port}", "--token", token])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        reg.close()


def test_against_a_server(remote: Run, tmp_path: Path) -> None:
    refused = remote(
        "plugin", "push", fixture("env.wat"), "--name", "lab/env", "--version", "1.0.0", code=2
    )
    assert "environ_get" in refused.stderr
    pushed = remote(
        "plugin",
        "push",
        fixture("hello.wat"),
        "--name",
        "lab/hello",
        "--version",
        "1.0.0",
        "-o",
        "json",
    )
    assert json.loads(pushed.stdout)["status"]["wasm"]["capabilities"] == ["stdio"]
    (tmp_path / "in.txt").write_bytes(b"remote\n")
    out = remote(
        "plugin", "run", "lab/hello@1.0.0", "-e", "_start", "--stdin", str(tmp_path / "in.txt")
    )
    assert out.stdout == "hello remote\n"
    remote("plugin", "push", fixture("recursion.wat"), "--name", "lab/deep", "--version", "1.0.0")
    failed = remote("plugin", "run", "lab/deep", "-e", "recurse", "-a", "0", code=2)
    assert "call stack" in failed.stderr
    binary = remote(
        "plugin", "push", fixture("simple.wasm"), "--name", "lab/simple", "--version", "1.0.0"
    )
    assert "not runnable here" in binary.stdout
    status = json.loads(remote("plugin", "inspect", "lab/simple", "-o", "json").stdout)
    assert status["hostImports"] == ["my_namespace.imported_func"]
