"""Preparing large bulk writes: in batches, with the garbage collector paused per batch,
and (for large inputs) in a worker process beside the committing one.

Validation (``WritePipeline.prepare``: Pydantic models, kind rules, canonical JSON,
hashes) costs about as much CPU as the commit itself. For a large ``apply_many`` a
worker process prepares the next batches while this process commits the current
one, so the two halves of the write pipeline run on two cores. Nothing else changes:
the same ``prepare`` runs there, results and refusals come back per document in input
order, and every commit (one transaction per batch, after-commit hooks) happens here.
Documents whose rules read the store (kinds with ``needs_previous``, documents
``reads_registry`` names: a plugin whose module is an uploaded digest) are prepared
here; rules that read the store for a whole batch (``batch_rules``) run here too.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from functools import lru_cache
from pathlib import Path
from types import CodeType
from typing import IO, TYPE_CHECKING, Any

import orjson

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import HyperRegistryError
from hyper_registry.core.ref import Ref
from hyper_registry.store.base import PreparedWrite, RelationRow

if TYPE_CHECKING:
    from hyper_registry.core.kind import KindSpec
    from hyper_registry.core.pipeline import WritePipeline
    from hyper_registry.core.registry import Registry

log = logging.getLogger(__name__)

Prepared = PreparedWrite | HyperRegistryError
Batch = tuple[int, list[Any], list[Prepared]]  # first index, the documents, each prepared
AHEAD = 2  # batches in flight in the worker: bounds the memory a stream can take


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for one batch (reference counting still frees).

    A batch allocates hundreds of thousands of short-lived containers; the collector
    would run hundreds of times per batch, each time scanning every object the caller
    holds (a 100,000-document input). One collection per batch is enough.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def prepare_batches(
    registry: Registry, documents: Iterable[Any], size: int, *, share: bool = False
) -> Generator[Batch, None, None]:
    """The documents in batches of ``size``, each prepared, in input order.

    ``share``: the caller does not commit between batches (an atomic bulk write validates
    everything first), so this process prepares every other batch itself.
    """
    pipeline = registry.pipeline
    it = iter(documents)
    threshold = registry.settings.parallel_prepare_min
    head = list(itertools.islice(it, threshold)) if threshold > 0 else []
    parallel = (
        threshold > 0
        and len(head) >= threshold
        and registry.settings.prepare_workers > 0
        and BulkPreparer.usable(registry)
    )
    source = itertools.chain(head, it)
    inner = (
        registry.extension(BulkPreparer).batches(source, size, share=share)
        if parallel
        else _local_batches(pipeline, _chunks(source, size))
    )
    # Rules that read the store run here, per batch, on what is committed by now.
    with closing(inner):
        for start, chunk, prepared in inner:
            yield start, chunk, pipeline.check_batch(prepared)


def _local_batches(
    pipeline: WritePipeline, chunks: Iterator[tuple[int, list[Any]]]
) -> Generator[Batch, None, None]:
    for start, chunk in chunks:
        with paused_gc():
            prepared = [_prepare_here(pipeline, d) for d in chunk]
        yield start, chunk, prepared


def _prepare_here(pipeline: WritePipeline, doc: Any) -> Prepared:
    try:
        return pipeline.prepare(doc, "apply", batch_rules=False)
    except HyperRegistryError as exc:
        return exc


class BulkPreparer:
    """A worker process preparing bulk batches; one per registry, started on first use.

    The worker is a plain ``python -m hyper_registry.core.bulk_worker`` child talking over its
    stdin/stdout (length-prefixed pickles), not ``multiprocessing``: that would re-run
    the caller's main module in the child. If the worker fails, the batches it had are
    prepared here (preparing has no side effects), and it is not used again.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._proc: subprocess.Popen[bytes] | None = None
        self._broken = False
        self._busy = threading.Lock()  # one bulk write at a time talks to the worker

    @staticmethod
    def usable(registry: Registry) -> bool:
        """Workers rebuild the built-in kinds; a registry with other kinds prepares here."""
        from hyper_registry.kinds import builtin_kinds

        builtin = {k.name: k for k in builtin_kinds()}
        return all(builtin.get(k.name) is k for k in registry.kinds)

    def _worker(self) -> subprocess.Popen[bytes] | None:
        if self._broken:
            return None
        if self._proc is None or self._proc.poll() is not None:
            package_root = str(Path(__file__).resolve().parents[2])
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (package_root, env.get("PYTHONPATH")) if p
            )
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "hyper_registry.core.bulk_worker"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=env,
                )
                assert self._proc.stdin is not None
                _send(self._proc.stdin, self._registry.settings.model_dump_json().encode())
            except (OSError, ValueError):
                log.warning("bulk prepare worker could not start; preparing in process")
                self._broken = True
                return None
        return self._proc

    def batches(
        self, source: Iterator[Any], size: int, *, share: bool = False
    ) -> Generator[Batch, None, None]:
        if not self._busy.acquire(blocking=False):  # another thread's bulk write has it
            yield from _local_batches(self._registry.pipeline, _chunks(source, size))
            return
        try:
            yield from self._batches(source, size, share)
        finally:
            self._busy.release()

    def _batches(
        self, source: Iterator[Any], size: int, share: bool
    ) -> Generator[Batch, None, None]:
        pipeline = self._registry.pipeline
        proc = self._worker()
        chunks = _chunks(source, size)
        if proc is None:
            yield from _local_batches(pipeline, chunks)
            return
        assert proc.stdin is not None and proc.stdout is not None
        # A feeder thread writes requests, so a full pipe one way never blocks the other.
        requests: queue.Queue[bytes | None] = queue.Queue()
        feeder = threading.Thread(
            target=_feed, args=(proc.stdin, requests), name="bulk-feeder", daemon=True
        )
        feeder.start()
        inflight: deque[tuple[int, list[Any], bool]] = deque()  # sent to the worker?

        def submit() -> None:
            nxt = next(chunks, None)
            if nxt is None:
                return
            start, chunk = nxt
            here = self._broken or (share and (start // size) % 2 == 0)
            payload = _payload(chunk) if not here else None
            if payload is not None:
                requests.put(payload)
            inflight.append((start, chunk, payload is not None))

        finished = False
        try:
            # This process prepares the first batch itself while the worker starts.
            first = next(chunks, None)
            for _ in range(AHEAD):
                submit()
            if first is not None:
                with paused_gc():
                    prepared = [_prepare_here(pipeline, d) for d in first[1]]
                yield first[0], first[1], prepared
            while inflight:
                start, chunk, sent = inflight.popleft()
                submit()
                yield start, chunk, self._answered(proc, chunk, sent)
            finished = True
        finally:
            requests.put(None)
            if not finished and not self._broken:
                # Abandoned mid-way (the caller failed): the worker's answers would be
                # out of step with the next call's requests. Start afresh next time.
                self._stop()
            feeder.join(timeout=5)

    def _answered(
        self, proc: subprocess.Popen[bytes], documents: Sequence[Any], sent: bool
    ) -> list[Prepared]:
        """The worker's answer for a batch it was sent, and what it left prepared here.

        None from the worker (a kind whose rules read the registry), a batch not sent (not
        JSON data: Document objects...) or a failed worker: prepared in this process.
        """
        answers: list[Any] = [None] * len(documents)
        if sent and not self._broken:
            try:
                assert proc.stdout is not None
                stamp, got = pickle.loads(_recv(proc.stdout))
                if stamp != wire_stamp():  # another version of this code there
                    raise ValueError("the worker runs another version of the code")
                if len(got) != len(documents):
                    raise ValueError("the worker answered for another batch")
                answers = got
            except Exception:
                log.exception("bulk prepare worker failed; preparing in process")
                self._broken = True
                self._stop()
        pipeline = self._registry.pipeline
        with paused_gc():
            return [
                _prepare_here(pipeline, doc) if ans is None else _from_wire(ans)
                for doc, ans in zip(documents, answers, strict=True)
            ]

    @contextmanager
    def session(self) -> Iterator[PrepareSession | None]:
        """A session for a caller whose batches arrive one by one (a broker consumer):
        None when the worker is in use by another caller or cannot run."""
        if not self._busy.acquire(blocking=False):
            yield None
            return
        try:
            proc = self._worker()
            if proc is None:
                yield None
                return
            session = PrepareSession(self, proc)
            try:
                yield session
            finally:
                session.close()
        finally:
            self._busy.release()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        self._stop()


class PrepareSession:
    """Batches handed to the worker as they arrive, their answers taken in the same order.

    ``submit`` sends a batch off at once (from any thread); ``collect`` waits for its
    answer, prepares here what the worker left (kinds that read the registry, values JSON
    cannot carry, a failed worker) and runs the kinds' batch rules. A consumer submits
    the batch it just fetched, then collects the one before: the worker validates batch
    N+1 while this process commits batch N.
    """

    def __init__(self, preparer: BulkPreparer, proc: subprocess.Popen[bytes]) -> None:
        self._preparer = preparer
        self._proc = proc
        self._lock = threading.Lock()
        self._next = 0
        self._inflight: deque[tuple[int, bool]] = deque()  # (ticket, sent to the worker?)
        self._requests: queue.Queue[bytes | None] = queue.Queue()
        assert proc.stdin is not None
        self._feeder = threading.Thread(
            target=_feed, args=(proc.stdin, self._requests), name="bulk-feeder", daemon=True
        )
        self._feeder.start()

    def submit(self, documents: Sequence[Any]) -> int:
        payload = None if self._preparer._broken else _payload(documents)
        with self._lock:
            ticket = self._next
            self._next += 1
            if payload is not None:
                self._requests.put(payload)
            self._inflight.append((ticket, payload is not None))
        return ticket

    def collect(self, ticket: int, documents: Sequence[Any]) -> list[Prepared]:
        with self._lock:
            first, sent = self._inflight.popleft()
        if first != ticket:
            raise AssertionError("prepared batches are collected in the order submitted")
        prepared = self._preparer._answered(self._proc, documents, sent)
        return self._preparer._registry.pipeline.check_batch(prepared)

    def close(self) -> None:
        self._requests.put(None)
        if self._inflight and not self._preparer._broken:
            # Answers never collected would be read by the next caller: start afresh.
            self._preparer._stop()
        self._feeder.join(timeout=5)


def _feed(stream: IO[bytes], requests: queue.Queue[bytes | None]) -> None:
    while (payload := requests.get()) is not None:
        try:
            _send(stream, payload)
        except (OSError, ValueError):  # the worker is gone: the reader notices
            return


def _send(stream: IO[bytes], data: bytes) -> None:
    stream.write(len(data).to_bytes(8, "little"))
    stream.write(data)
    stream.flush()


def _recv(stream: IO[bytes]) -> bytes:
    head = stream.read(8)
    if len(head) != 8:
        raise EOFError("the worker closed its output")
    n = int.from_bytes(head, "little")
    data = stream.read(n)
    if len(data) != n:
        raise EOFError("the worker's answer was cut short")
    return data


def _chunks(source: Iterator[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    start = 0
    while chunk := list(itertools.islice(source, size)):
        yield start, chunk
        start += len(chunk)


def _payload(chunk: Sequence[Any]) -> bytes | None:
    if not all(isinstance(d, Mapping) and not isinstance(d, Document) for d in chunk):
        return None
    try:
        return orjson.dumps(list(chunk))
    except TypeError:  # values JSON cannot carry as they are (dates from YAML...)
        return None


# -- the worker side ------------------------------------------------------------------

_PIPELINE: WritePipeline | None = None
_LOCAL: dict[str, KindSpec] = {}  # kinds some of whose documents are prepared by the caller


class _NoStore:
    """Workers never read the store: kinds whose rules do are prepared by the caller."""

    def latest(self, ref: Ref) -> None:  # pragma: no cover - never reached
        raise AssertionError("a bulk worker does not read the store")


@lru_cache(maxsize=1)
def wire_stamp() -> str:
    """What both ends must agree on: the package version and the loaded wire code.

    A worker started after the package was upgraded in place runs other code; its
    answers are then not used (the caller prepares in process).
    """
    from hyper_registry import __version__

    digest = hashlib.sha256(__version__.encode())
    codes = [fn.__code__ for fn in (_to_wire, _from_wire, _prepare_chunk)]
    while codes:
        code = codes.pop()
        digest.update(code.co_code)
        for const in code.co_consts:
            if isinstance(const, CodeType):
                codes.append(const)
            else:
                digest.update(repr(const).encode())
    return digest.hexdigest()


def _worker_init(settings_json: str) -> None:
    global _PIPELINE, _LOCAL
    from hyper_registry.core.kinds import KindCatalog
    from hyper_registry.core.pipeline import WritePipeline
    from hyper_registry.core.settings import Settings
    from hyper_registry.kinds import builtin_kinds

    settings: Settings = Settings.model_validate_json(settings_json)
    kinds = KindCatalog(builtin_kinds())
    _PIPELINE = WritePipeline(kinds, _NoStore(), settings)  # type: ignore[arg-type]
    _LOCAL = {k.name: k for k in kinds if k.needs_previous or k.reads_registry}
    gc.freeze()  # what the worker imported is never garbage


def worker_main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers goes to the parent's pipe
    try:
        _worker_init(_recv(stdin).decode())
        while True:
            payload = _recv(stdin)
            answer = (wire_stamp(), _prepare_chunk(payload))
            _send(stdout, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    except EOFError:
        return


def _prepare_chunk(payload: bytes) -> list[Any]:
    """Prepare a batch; per document a compact tuple, an error, or None (do it there)."""
    pipeline = _PIPELINE
    assert pipeline is not None
    out: list[Any] = []
    with paused_gc():
        for doc in orjson.loads(payload):
            local = _LOCAL.get(str(doc.get("kind"))) if isinstance(doc, dict) else None
            if local is not None and local.prepared_in_registry(doc):
                out.append(None)
                continue
            try:
                out.append(_to_wire(pipeline.prepare(doc, "apply", batch_rules=False)))
            except HyperRegistryError as exc:
                out.append(exc)
    gc.collect(0)
    return out


def _to_wire(p: PreparedWrite) -> tuple[Any, ...]:
    # The body itself stays behind: the store keeps body_json, and an entry built
    # after the commit (for hooks) is read back from body_json.
    return (
        p.ref.kind, p.ref.namespace, p.ref.name, p.ref.version, p.body_json, p.content_hash,
        p.versioning, p.owner, p.title,
        [
            (r.declared, r.target.kind, r.target.namespace, r.target.name, r.target.version,
             r.origin)
            for r in p.relations
        ],
        p.aliases,
        p.status,
    )  # fmt: skip


def _from_wire(ans: Any) -> Prepared:
    if isinstance(ans, HyperRegistryError):
        return ans
    kind, ns, name, version, body_json, chash, versioning, owner, title, rels, aliases, status = ans
    return PreparedWrite(
        op="apply",
        ref=Ref(kind, ns, name, version),
        body_json=body_json,
        content_hash=chash,
        versioning=versioning,
        owner=owner,
        title=title,
        relations=[RelationRow(d, Ref(k, ns, n, v), o) for d, k, ns, n, v, o in rels],
        aliases=aliases,
        status=status,
    )


__all__ = ["BulkPreparer", "PrepareSession", "paused_gc", "prepare_batches"]
