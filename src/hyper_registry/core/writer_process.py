"""One writer process for the group commits of several serving processes (SQLite).

``hyper-registry serve --workers N`` on SQLite: each worker process would otherwise group
only its own concurrent writes and take turns with the others on SQLite's single write
lock, so more workers made smaller groups, not more throughput. Instead ``serve`` starts
one writer process (``python -m hyper_registry.core.writer_worker``) listening on a Unix
socket, and every worker's group-commit thread hands it its validated writes
(:class:`RemoteWriter`). The writer merges what the workers sent into one transaction
(:meth:`WritePipeline.write`, the kinds' ``in_transaction`` hooks included) and answers
each worker with its own results; the after-commit hooks and change listeners then run in
the worker, which has them. Frames are length-prefixed pickles, as for the bulk prepare
worker; both ends are processes of the same installation.

If the writer cannot be reached or fails, the groups a worker had with it are refused
with ``Unavailable`` (their transaction may or may not have committed) and the worker
commits its later groups itself, as without a writer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hyper_registry.core.bulk import _recv, _send
from hyper_registry.core.errors import HyperRegistryError, ItemError, Unavailable
from hyper_registry.core.group import take_group
from hyper_registry.store.base import PreparedWrite, WriteResult
from hyper_registry.store.writer import EntryBuild

if TYPE_CHECKING:
    from hyper_registry.core.settings import Settings

log = logging.getLogger(__name__)

Results = list[WriteResult | ItemError]


def _lost() -> Unavailable:
    return Unavailable(
        "the writer process failed during this commit, which may or may not have been "
        "applied; read the entries before writing them again"
    )


class RemoteWriter:
    """A serving process's connection to the writer process."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._sock: socket.socket | None = None
        self._out: IO[bytes] | None = None
        self._in: IO[bytes] | None = None
        self._broken = False
        self._lock = threading.Lock()

    @property
    def broken(self) -> bool:
        return self._broken

    def send(self, items: Sequence[PreparedWrite], *, actor: str) -> bool:
        """Hand a group to the writer; False when it is out of use (commit here instead).
        Raises ``Unavailable`` when the connection failed while sending it."""
        if self._broken:
            return False
        with self._lock:
            if self._sock is None:
                try:
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    sock.connect(self._path)
                except OSError as exc:
                    log.warning("no writer process at %s (%s); committing here", self._path, exc)
                    self._broken = True
                    return False
                self._sock = sock
                self._out = sock.makefile("wb")
                self._in = sock.makefile("rb")
            out = self._out
        try:
            assert out is not None
            wire = [_item_to_wire(item) for item in items]
            _send(out, pickle.dumps((actor, wire), pickle.HIGHEST_PROTOCOL))
        except Exception as exc:
            self._fail()
            raise _lost() from exc
        return True

    def receive(self, items: Sequence[PreparedWrite]) -> Results:
        """The results of the oldest group sent and not yet answered (``items``, as sent).
        Raises the store's refusal of the whole group, or ``Unavailable`` when the
        connection failed."""
        try:
            assert self._in is not None
            answer = pickle.loads(_recv(self._in))
        except Exception as exc:
            self._fail()
            raise _lost() from exc
        if isinstance(answer, HyperRegistryError):
            raise answer
        return [_result_from_wire(r, items) for r in answer]

    def _fail(self) -> None:
        if not self._broken:
            log.exception("the writer process failed; committing in this process from now on")
        self._broken = True
        self.close()

    def close(self) -> None:
        with self._lock:
            for part in (self._out, self._in, self._sock):
                try:
                    if part is not None:
                        part.close()
                except OSError:
                    pass
            self._sock = self._out = self._in = None


# -- the writer process ---------------------------------------------------------------


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.wfile = sock.makefile("wb")
        self.lock = threading.Lock()

    def answer(self, payload: Any) -> None:
        data = pickle.dumps(payload, pickle.HIGHEST_PROTOCOL)
        # OSError: the worker went away; its groups' callers are gone too.
        with self.lock, contextlib.suppress(OSError):
            _send(self.wfile, data)


def serve_writer(settings: Settings, listener: socket.socket) -> None:
    """Accept serving processes on ``listener`` and commit what they send, merged, until
    the listener is closed."""
    from hyper_registry.core.registry import Registry

    registry = Registry(settings)  # the store was migrated by ``serve`` before
    pending: queue.Queue[tuple[_Client, str, list[PreparedWrite]] | None] = queue.Queue()

    def read(client: _Client) -> None:
        try:
            while True:
                actor, wire = pickle.loads(_recv(client.rfile))
                pending.put((client, actor, [_item_from_wire(w) for w in wire]))
        except (EOFError, OSError):
            return

    def accept() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:  # the listener was closed: stop once the queue is done
                pending.put(None)
                return
            threading.Thread(target=read, args=(_Client(sock),), daemon=True).start()

    threading.Thread(target=accept, name="writer-accept", daemon=True).start()
    try:
        stop = False
        while not stop:
            first = pending.get()
            if first is None:
                break
            groups, stop = take_group(pending, first, None, sys.maxsize)
            _commit_merged(registry, groups)  # type: ignore[arg-type]
    finally:
        registry.close()


def _commit_merged(registry: Any, groups: list[tuple[_Client, str, list[PreparedWrite]]]) -> None:
    items = [item for _, _, group in groups for item in group]
    try:
        results = registry.pipeline.write(items, actor=groups[0][1], atomic=False)
    except HyperRegistryError as exc:
        for client, _, _ in groups:
            client.answer(exc)
        return
    except Exception as exc:  # a bug (a kind's hook...): refuse these groups, keep serving
        log.exception("the writer process could not commit a group")
        failed = Unavailable(f"the commit failed in the writer process: {type(exc).__name__}")
        for client, _, _ in groups:
            client.answer(failed)
        return
    by_index: dict[int, WriteResult | ItemError] = {r.index: r for r in results}
    start = 0
    for client, _, group in groups:
        own: Results = []
        for i in range(start, start + len(group)):
            result = by_index.get(i)
            if result is not None:
                result.index = i - start
                own.append(result)
        start += len(group)
        client.answer([_result_to_wire(r) for r in own])


# The wire: what each side needs and nothing it has already. A write goes without its
# parsed body (the writer stores ``body_json``); a created or updated result comes back
# as the values its entry is built from, here, with the item this process still holds.


def _item_to_wire(item: PreparedWrite) -> tuple[Any, ...]:
    return (
        item.op, item.ref, item.body_json, item.content_hash, item.versioning, item.owner,
        item.title, item.relations, item.aliases, item.expected_revision, item.actor,
        item.status, item.records,
    )  # fmt: skip


def _item_from_wire(w: tuple[Any, ...]) -> PreparedWrite:
    op, ref, body_json, chash, versioning, owner, title, rels, aliases, expected, actor = w[:11]
    return PreparedWrite(
        op=op, ref=ref, body_json=body_json, content_hash=chash, versioning=versioning,
        owner=owner, title=title, relations=rels, aliases=aliases, expected_revision=expected,
        actor=actor, status=w[11], records=w[12],
    )  # fmt: skip


def _result_to_wire(r: WriteResult | ItemError) -> Any:
    build = r.pending_build if isinstance(r, WriteResult) else None
    if isinstance(r, WriteResult) and isinstance(build, EntryBuild):
        return ("lazy", r.index, r.outcome, r.uid, r.revision, r.seq, build.values)
    return r


def _result_from_wire(w: Any, items: Sequence[PreparedWrite]) -> WriteResult | ItemError:
    if isinstance(w, tuple) and w and w[0] == "lazy":
        _, index, outcome, uid, revision, seq, args = w
        item = items[index]
        return WriteResult(
            index, item.ref, outcome, uid, revision, seq, build=EntryBuild(item, *args)
        )
    result: WriteResult | ItemError = w
    return result


def writer_main() -> None:
    """``python -m hyper_registry.core.writer_worker``: settings and the socket path on
    stdin (one frame); runs until its stdin closes (``serve`` stopping)."""
    from hyper_registry.core.settings import Settings

    # Ctrl-C in a terminal, or a service manager stopping the whole group, signals this
    # process too; the workers then finish their requests in flight, whose writes come
    # here. So this process ends only when ``serve`` closes its stdin, or dies.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    settings_json, path = pickle.loads(_recv(stdin))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    os.chmod(path, 0o600)
    sys.stdout.write("ready\n")
    sys.stdout.flush()

    def watch() -> None:  # the parent closing our stdin (or dying) ends the process
        try:
            stdin.read()
        finally:
            os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    serve_writer(Settings.model_validate_json(settings_json), listener)


class WriterHandle:
    """The writer process ``serve`` started: its socket path and how to stop it."""

    def __init__(self, proc: subprocess.Popen[bytes], path: str, directory: str) -> None:
        self.proc = proc
        self.path = path
        self._dir = directory

    def stop(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


def start_writer(settings: Settings) -> WriterHandle:
    """Start the writer process for ``settings``' store; returns once it listens."""
    directory = tempfile.mkdtemp(prefix="hyper-registry-writer-")
    path = str(Path(directory) / "writer.sock")
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hyper_registry.core.writer_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    inner = settings.model_copy(update={"writer_socket": None})
    _send(proc.stdin, pickle.dumps((inner.model_dump_json(), path)))
    if proc.stdout.readline().strip() != b"ready":
        proc.kill()
        proc.wait()
        raise Unavailable("the writer process did not start")
    return WriterHandle(proc, path, directory)
