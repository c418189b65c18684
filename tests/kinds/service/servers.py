"""Real HTTP and TCP servers on loopback for the health checker's tests.

One threaded server answers by path:

/ok 200 · /slow 200 after 0.2 s · /fail 500 · /busy 503 · /limited 429 · /flap 200 then
500 then 200 ... · /redirect 302 to the metadata address · /hang never answers ·
/drip headers then one body byte every 20 ms · /drip-headers the status line one byte
every 50 ms · /huge a 1 GB body sent as fast as the client reads it.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

HUGE = 1024**3
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@dataclass
class Stats:
    hits: Counter[str] = field(default_factory=Counter)
    hosts: list[str] = field(default_factory=list)
    huge_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(10)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                data += chunk
        except OSError:
            return
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
        host = next(
            (ln.split(":", 1)[1].strip() for ln in lines[1:] if ln.lower().startswith("host:")), ""
        )
        stats = self.server.stats
        with stats.lock:
            stats.hits[path] += 1
            count = stats.hits[path]
            stats.hosts.append(host)
        with contextlib.suppress(OSError):
            self.respond(sock, path, count)

    def respond(self, sock: socket.socket, path: str, count: int) -> None:
        stop = self.server.stopping
        if path.startswith("/ok") or path.startswith("/svc/"):
            sock.sendall(_reply(200, b"ok"))
        elif path == "/slow":
            time.sleep(0.2)
            sock.sendall(_reply(200, b"slow but fine"))
        elif path == "/fail":
            sock.sendall(_reply(500, b"boom"))
        elif path == "/busy":
            sock.sendall(_reply(503, b"busy"))
        elif path == "/limited":
            sock.sendall(_reply(429, b"slow down"))
        elif path == "/flap":
            sock.sendall(_reply(200 if count % 2 else 500, b"flap"))
        elif path == "/redirect":
            sock.sendall(_reply(302, b"", [("Location", METADATA_URL)]))
        elif path == "/hang":
            stop.wait(30)
        elif path == "/drip":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(100000):
                if stop.wait(0.02):
                    return
                sock.sendall(b"x")
        elif path == "/drip-headers":
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                if stop.wait(0.05):
                    return
                sock.sendall(bytes([byte]))
        elif path == "/huge":
            sock.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {HUGE}\r\n\r\n".encode())
            block = b"\0" * 65536
            sent = 0
            try:
                while sent < HUGE and not stop.is_set():
                    sock.sendall(block)
                    sent += len(block)
            finally:
                with self.server.stats.lock:
                    self.server.stats.huge_sent += sent
        else:
            sock.sendall(_reply(404, b"no such path"))


def _reply(code: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> bytes:
    reason = {
        200: "OK",
        302: "Found",
        404: "Not Found",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }[code]
    lines = [f"HTTP/1.1 {code} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stats = Stats()
        self.stopping = threading.Event()


class HealthServer:
    """A running server; ``url(path)`` gives an endpoint on it."""

    def __init__(self) -> None:
        self._server = _Server()
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def stats(self) -> Stats:
        return self._server.stats

    def endpoint(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
