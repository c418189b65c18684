"""Several server processes on one port, each accepting on its own socket.

uvicorn's own supervisor binds one listening socket and shares it between its workers.
Whichever worker wakes first accepts every connection waiting (asyncio accepts in a
loop), so a client that opens its pool of keep-alive connections at once lands on one
worker, and that worker serves the pool alone while the others idle. Measured with
``bench/http_apply_workers.py`` (16 connections, two workers): one worker took 0.56 of
a core, the other 0.04.

On Linux each worker here binds its own socket with ``SO_REUSEPORT``, and the kernel
spreads new connections over the workers' sockets by their addresses, whichever worker
is awake. The supervisor:

* checks first that no other process listens on the port (a ``SO_REUSEPORT`` bind alone
  would share it with another server started the same way) and then holds a bound,
  never listening, socket on it, so the port stays the server's while workers restart;
* restarts a worker that dies, and stops (exit status 1) if a worker cannot start;
* on SIGINT or SIGTERM asks every worker to finish its requests (SIGTERM), waits for
  them, and kills those still running after ``graceful_seconds``.

Where ``SO_REUSEPORT`` does not spread connections (other systems), :func:`supported`
is false and the caller keeps uvicorn's supervisor.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from uvicorn.config import STARTUP_FAILURE  # the exit status of a worker that cannot start

from hyper_registry.core.errors import Unavailable

log = logging.getLogger("hyper_registry.api")
RESTARTS_PER_MINUTE = 10  # beyond this a crashing worker stops the server


def supported() -> bool:
    """Whether the kernel balances connections over ``SO_REUSEPORT`` sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not listening yet)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class Supervisor:
    """``workers`` processes serving ``app`` (an app factory's import path) on one port."""

    def __init__(
        self,
        app: str,
        host: str,
        port: int,
        workers: int,
        options: Mapping[str, Any],
        *,
        graceful_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.workers = workers
        self.options = dict(options)
        self.graceful_seconds = graceful_seconds
        self._context = multiprocessing.get_context("spawn")
        self._procs: list[BaseProcess] = []
        self._stop = threading.Event()
        self._restarts: list[float] = []

    def run(self) -> int:
        """Serve until SIGINT/SIGTERM; the exit status for the command (0: stopped).

        Raises :class:`Unavailable` when the port cannot be taken (another process has it).
        """
        try:
            bind(self.host, self.port, reuse_port=False).close()
        except OSError as exc:
            raise Unavailable(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from exc
        guard = bind(self.host, self.port, reuse_port=True)  # keeps the port while workers restart
        self.port = int(guard.getsockname()[1])
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        status = 0
        try:
            self._procs = [self._start() for _ in range(self.workers)]
            log.info(
                "serving on http://%s:%d with %d worker processes",
                self.host,
                self.port,
                self.workers,
            )
            while not self._stop.wait(0.25):
                failed = self._replace_dead()
                if failed is not None:
                    status = failed
                    break
        finally:
            self._shutdown()
            guard.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def _start(self) -> BaseProcess:
        proc = self._context.Process(
            target=serve_worker,
            args=(self.app, self.host, self.port, self.options),
            name="hyper-registry-worker",
        )
        proc.start()
        return proc

    def _replace_dead(self) -> int | None:
        """Restart workers that died; an exit status when the server must stop instead."""
        for i, proc in enumerate(self._procs):
            if proc.is_alive() or self._stop.is_set():
                continue
            code = proc.exitcode
            if code == STARTUP_FAILURE:
                log.error("a worker process could not start: stopping")
                return 1
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < 60] + [now]
            if len(self._restarts) > RESTARTS_PER_MINUTE:
                log.error(
                    "worker processes keep dying (%d restarts in a minute): stopping",
                    len(self._restarts),
                )
                return 1
            log.warning("worker process %s exited with status %s: starting another", proc.pid, code)
            self._procs[i] = self._start()
        return None

    def _shutdown(self) -> None:
        for proc in self._procs:
            if proc.is_alive() and proc.pid is not None:
                with contextlib.suppress(OSError):  # gone meanwhile
                    proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + self.graceful_seconds
        for proc in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                log.warning("worker process %s did not stop in time: killing it", proc.pid)
                proc.kill()
                proc.join()


def serve_worker(app: str, host: str, port: int, options: Mapping[str, Any]) -> None:
    """One worker process: its own ``SO_REUSEPORT`` socket on the shared port, uvicorn on it."""
    import uvicorn

    config = uvicorn.Config(app, factory=True, host=host, port=port, **options)
    server = uvicorn.Server(config)
    sock = bind(host, port, reuse_port=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn raises the SIGINT it handled again once stopped
        pass
    finally:
        sock.close()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


__all__ = ["Supervisor", "bind", "serve_worker", "supported"]
