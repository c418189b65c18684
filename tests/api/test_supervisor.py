"""``serve --workers N`` on Linux: every worker accepts on its own socket (SO_REUSEPORT).

The real command runs in a child process; which worker holds a connection is read from
/proc (the socket inode of each accepted connection, found among the workers' file
descriptors).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hyper_registry.api import supervisor

from .serving import free_port, start_serve, stop, wait_ready

pytestmark = pytest.mark.skipif(not supervisor.supported(), reason="Linux only (SO_REUSEPORT)")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _workers(pid: int) -> list[int]:
    """The server processes among the children (not the writer, not multiprocessing's tracker)."""
    return [c for c in _children(pid) if "multiprocessing.spawn" in _cmdline(c)]


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _server_side_inodes(port: int, client_ports: set[int]) -> dict[int, int]:
    """client port -> inode of the server's end of that loopback connection (/proc/net/tcp)."""
    found: dict[int, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], int(fields[9])
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) in client_ports:
            found[int(remote.split(":")[1], 16)] = inode
    return found


def _listening(port: int) -> int:
    """How many sockets listen on ``port`` (one per worker once all have started)."""
    n = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        n += int(fields[1].split(":")[1], 16) == port and fields[3] == "0A"  # TCP_LISTEN
    return n


def _wait_listening(port: int, count: int) -> None:
    deadline = time.monotonic() + 60
    while _listening(port) != count:
        assert time.monotonic() < deadline, f"{_listening(port)} sockets listen, not {count}"
        time.sleep(0.1)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, int]]:
    port = free_port()
    proc = start_serve(tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url)
        _wait_listening(port, 2)  # the first worker may answer before the second listens
        yield proc, url, port
    finally:
        stop(proc)


def test_connections_spread_over_the_workers_whichever_is_awake(
    served: tuple[subprocess.Popen[str], str, int],
) -> None:
    proc, _, port = served
    workers = _workers(proc.pid)
    assert len(workers) == 2
    # A client pool opening its keep-alive connections while one worker is busy (here:
    # stopped). With one shared listening socket the other worker, awake, accepts them
    # all and serves the pool alone for as long as it lives. With a socket per worker the
    # kernel queues each connection on a worker's socket by its addresses, awake or not.
    os.kill(workers[0], signal.SIGSTOP)
    try:
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
        time.sleep(0.5)  # time for the awake worker to accept what it can
    finally:
        os.kill(workers[0], signal.SIGCONT)
    try:
        for c in conns:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        for c in conns:
            assert c.recv(65536).startswith(b"HTTP/1.1 200")
        client_ports = {c.getsockname()[1] for c in conns}
        by_port = _server_side_inodes(port, client_ports)
        assert len(by_port) == 16
        held = {w: len(_socket_inodes(w) & set(by_port.values())) for w in workers}
        assert sum(held.values()) == 16
        # Spread by the kernel's hash of the addresses: both workers hold some (the
        # chance that 16 connections all hash to one of two sockets is 2 in 65,536).
        assert all(n > 0 for n in held.values()), held
    finally:
        for c in conns:
            c.close()


def test_a_worker_that_dies_is_replaced_and_the_port_keeps_answering(
    served: tuple[subprocess.Popen[str], str, int],
) -> None:
    proc, url, port = served
    first = _workers(proc.pid)
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        now = _workers(proc.pid)
        if len(now) == 2 and first[0] not in now:
            break
        assert time.monotonic() < deadline, f"no replacement worker: {now}"
        time.sleep(0.2)
    _wait_listening(port, 2)
    for _ in range(20):  # every request is answered, whichever socket it lands on
        assert httpx.get(url + "/healthz", timeout=10).status_code == 200
    assert proc.poll() is None


def test_ctrl_c_stops_every_child_quietly(
    served: tuple[subprocess.Popen[str], str, int],
) -> None:
    proc, _, _ = served
    children = _children(proc.pid)
    assert len(children) >= 3  # two workers and the writer process
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    assert proc.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [c for c in children if Path(f"/proc/{c}").exists() and "zombie" not in _state(c)]
    assert left == []
    out = proc.stdout.read() if proc.stdout else ""
    # The writer process waits for serve to close its stdin: no traceback from anyone.
    assert "Traceback" not in out and "Fatal Python error" not in out, out


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


def test_a_port_another_process_listens_on_is_refused_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        proc = start_serve(tmp_path, port)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    lines = [line for line in out.splitlines() if "cannot listen" in line]
    assert lines == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"], out
