"""Apply one batch of messages through the write pipeline, exactly once per event id.

For a batch: decode every message (cheap: orjson and a few key checks), drop the
repeats of an event id inside the batch (the first wins), look the remaining ids up
in ``ingest_events`` (one indexed read per 2,000 ids) and skip those already taken in,
prepare the rest with ``WritePipeline.prepare``/``prepare_delete`` and commit them
with ``WritePipeline.commit(atomic=False, within=...)``. The ``within`` hook records
the batch's event ids and dead letters in the same transaction as the entries: they
commit or roll back together, so a crash can neither lose an event nor apply it twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hyper_registry.auth.tokens import LOCAL, Principal
from hyper_registry.core.errors import (
    Conflict,
    Forbidden,
    HyperRegistryError,
    ItemError,
)
from hyper_registry.core.ids import timestamp
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry
from hyper_registry.ingest.messages import Change, DeadLetter, Raw, decode
from hyper_registry.ingest.metrics import IngestMetrics
from hyper_registry.ingest.tables import dead_letters, events, positions
from hyper_registry.store.base import PreparedWrite, WriteResult

CHUNK = 2000  # ids per IN (...) lookup: well under SQLite's 32,766 variables
DEAD_PAYLOAD_MAX = 64 * 1024  # an oversized message's payload is kept up to this size
OUTCOMES = ("created", "updated", "unchanged", "deleted", "duplicate", "stale", "dead")


@dataclass
class BatchReport:
    """What one batch did: counts by outcome, and (on request) one line per message."""

    received: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    dead: list[tuple[DeadLetter, Raw]] = field(default_factory=list)
    items: list[dict[str, Any]] | None = None

    @property
    def applied(self) -> int:
        c = self.counts
        return c["created"] + c["updated"] + c["unchanged"] + c["deleted"]


def reason_of(exc: HyperRegistryError) -> str:
    text = str(exc)
    if len(exc.problems) > 1:
        text += "; " + "; ".join(
            f"{p.path}: {p.message}" if p.loc else p.message for p in exc.problems[1:20]
        )
    return text[:4000]


class Applier:
    """Applies batches for one principal (the worker's token) from one named source.

    ``record_dead=False`` (the HTTP bulk route, whose caller reads each refusal in the
    answer) writes neither dead letters nor the ids of refused events.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        source: str,
        label: str = "file",
        principal: Principal = LOCAL,
        record_dead: bool = True,
        metrics: IngestMetrics | None = None,
    ) -> None:
        principal.require("writer")
        self.registry = registry
        self.source = source[:255]
        self.label = label
        self.principal = principal
        self.record_dead = record_dead
        self.metrics = metrics
        self.max_bytes = registry.settings.ingest_max_message_bytes
        self._dialect = registry.store.engine.dialect.name

    # -- the batch -----------------------------------------------------------------

    def apply(
        self,
        batch: Sequence[Raw],
        *,
        detail: bool = False,
        replay: dict[int, int] | None = None,
        decoded: Sequence[Change | DeadLetter] | None = None,
        prepared: Sequence[PreparedWrite | HyperRegistryError | None] | None = None,
    ) -> BatchReport:
        """Apply ``batch``; raises Unavailable when the store is down (nothing written).

        ``replay`` (dead-letter replay): batch position -> dead-letter id; those events
        may have been recorded as dead before and are taken in again. ``decoded`` and
        ``prepared`` (by batch position): the batch's messages already decoded, and the
        documents of its ``apply`` changes already prepared with the kinds' batch rules
        run (``core.bulk.prepare_batches``, see ``sources.files.ingest_stream``).
        """
        started = time.perf_counter()
        for attempt in range(3):
            try:
                report = self._apply(batch, detail, replay or {}, decoded, prepared)
                break
            except Conflict:
                # Another replica took in one of these event ids between our lookup and
                # our commit; everything rolled back, so look again.
                if attempt == 2:
                    raise
        if self.metrics is not None:
            self.metrics.observe_batch(self.label, report, time.perf_counter() - started)
        return report

    def _apply(
        self,
        batch: Sequence[Raw],
        detail: bool,
        replay: dict[int, int],
        decoded: Sequence[Change | DeadLetter] | None = None,
        ready: Sequence[PreparedWrite | HyperRegistryError | None] | None = None,
    ) -> BatchReport:
        report = BatchReport(received=len(batch))
        counts = report.counts
        outcome: list[str | None] = [None] * len(batch) if detail else []
        refs: list[str | None] = [None] * len(batch) if detail else []
        errors: dict[int, DeadLetter] = {}

        if decoded is None:
            decoded = [decode(raw, i, self.max_bytes) for i, raw in enumerate(batch)]
        # Repeats inside the batch: the first occurrence wins.
        seen: set[str] = set()
        fresh: list[Change | DeadLetter] = []
        for d in decoded:
            eid = d.event_id
            if eid is not None:
                if eid in seen:
                    counts["duplicate"] += 1
                    if detail:
                        outcome[d.index] = "duplicate"
                    continue
                seen.add(eid)
            fresh.append(d)
        # Events taken in before (a redelivery after a crash, a producer's retry).
        known = self._known(seen, only_applied=bool(replay)) if seen else set()
        if known:
            kept = []
            for d in fresh:
                if d.event_id in known:
                    counts["duplicate"] += 1
                    if detail:
                        outcome[d.index] = "duplicate"
                else:
                    kept.append(d)
            fresh = kept

        dead: list[DeadLetter] = []
        prepared: list[PreparedWrite] = []
        changes: list[Change] = []
        pipeline = self.registry.pipeline
        principal = self.principal
        for d in fresh:
            if isinstance(d, DeadLetter):
                dead.append(d)
                continue
            if d.namespace is not None and not principal.sees(d.namespace):
                dead.append(
                    DeadLetter(
                        d.index,
                        "forbidden",
                        f"the token {principal.name!r} may not write namespace {d.namespace!r}",
                        d.event_id,
                        d.namespace,
                    )
                )
                continue
            try:
                if d.op == "apply":
                    assert d.document is not None
                    done = ready[d.index] if ready is not None else None
                    if isinstance(done, HyperRegistryError):
                        raise done
                    item = done or pipeline.prepare(d.document, "apply", batch_rules=False)
                else:
                    assert d.ref is not None
                    item = pipeline.prepare_delete(Ref.parse(d.ref))
                if not principal.sees(item.ref.namespace):
                    raise Forbidden(
                        f"the token {principal.name!r} may not write namespace "
                        f"{item.ref.namespace!r}"
                    )
            except HyperRegistryError as exc:
                where = batch[d.index].position
                why = reason_of(exc) + (f" ({where})" if where else "")
                dead.append(DeadLetter(d.index, exc.code, why, d.event_id, d.namespace))
                continue
            prepared.append(item)
            changes.append(d)

        # Rules that read the store, once for the batch (unless that was done already).
        checked = prepared if ready is not None else pipeline.check_batch(prepared)
        if any(isinstance(c, HyperRegistryError) for c in checked):
            kept_prepared: list[PreparedWrite] = []
            kept_changes: list[Change] = []
            for d, item, got in zip(changes, prepared, checked, strict=True):
                if isinstance(got, HyperRegistryError):
                    where = batch[d.index].position
                    why = reason_of(got) + (f" ({where})" if where else "")
                    dead.append(DeadLetter(d.index, got.code, why, d.event_id, d.namespace))
                else:
                    kept_prepared.append(item)
                    kept_changes.append(d)
            prepared, changes = kept_prepared, kept_changes

        # Changes from a broker carry their stream position: one older than the last
        # change applied to the same entry (redelivered late) is stale, not applied.
        stale: list[Change] = []
        moved: dict[tuple[str, str], str] = {}
        if any(batch[c.index].order is not None for c in changes):
            changes, prepared, stale, moved = self._in_order(batch, changes, prepared)
            counts["stale"] += len(stale)
            if detail:
                for c in stale:
                    outcome[c.index] = "stale"

        store_refused: list[DeadLetter] = []

        def within(conn: sa.Connection, results: Sequence[WriteResult | ItemError]) -> None:
            store_refused.clear()
            now = timestamp()
            rows: list[tuple[str, str, str]] = []
            for res in results:
                c = changes[res.index]
                if isinstance(res, ItemError):
                    store_refused.append(
                        DeadLetter(
                            c.index, res.error.code, reason_of(res.error), c.event_id, c.namespace
                        )
                    )
                    if c.event_id is not None and self.record_dead:
                        rows.append((c.event_id, "dead", now))
                elif c.event_id is not None:
                    rows.append((c.event_id, "applied", now))
            rows.extend((c.event_id, "stale", now) for c in stale if c.event_id is not None)
            if self.record_dead:
                rows.extend((d.event_id, "dead", now) for d in dead if d.event_id is not None)
            if moved:
                mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
                keys = list(moved)
                conn.exec_driver_sql(
                    f"DELETE FROM ingest_positions WHERE scope = {mark} AND ref_key = {mark}", keys
                )
                conn.exec_driver_sql(
                    "INSERT INTO ingest_positions (scope, ref_key, position) "
                    f"VALUES ({mark}, {mark}, {mark})",
                    [(scope, ref, pos) for (scope, ref), pos in moved.items()],
                )
            if replay:
                ids = [r[0] for r in rows]
                for i in range(0, len(ids), CHUNK):
                    conn.execute(events.delete().where(events.c.event_id.in_(ids[i : i + CHUNK])))
            if rows:
                mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
                conn.exec_driver_sql(
                    f"INSERT INTO ingest_events (event_id, outcome, at) "
                    f"VALUES ({mark}, {mark}, {mark})",
                    rows,
                )
            if self.record_dead:
                self._write_dead(conn, batch, [*dead, *store_refused], now, replay)
            if replay:
                failing = {d.index for d in dead} | {d.index for d in store_refused}
                done = [dl for pos, dl in replay.items() if pos not in failing]
                for i in range(0, len(done), CHUNK):
                    conn.execute(
                        dead_letters.update()
                        .where(dead_letters.c.id.in_(done[i : i + CHUNK]))
                        .values(replayed_at=now)
                    )

        results = pipeline.commit(prepared, actor=principal.name, atomic=False, within=within)
        for res in results:
            if isinstance(res, WriteResult):
                counts[res.outcome] += 1
                if detail:
                    i = changes[res.index].index
                    outcome[i] = res.outcome
                    refs[i] = str(res.ref)
        all_dead = [*dead, *store_refused]
        counts["dead"] += len(all_dead)
        report.dead = [(d, batch[d.index]) for d in all_dead]
        if detail:
            for d in all_dead:
                outcome[d.index] = "refused"
                errors[d.index] = d
            for c, item in zip(changes, prepared, strict=True):
                refs[c.index] = item.ref_key
            report.items = [
                _item(i, raw, d.event_id, outcome[i], refs[i], errors.get(i))
                for i, (raw, d) in enumerate(zip(batch, decoded, strict=True))
            ]
        return report

    # -- helpers -------------------------------------------------------------------

    def _in_order(
        self, batch: Sequence[Raw], changes: list[Change], prepared: list[PreparedWrite]
    ) -> tuple[list[Change], list[PreparedWrite], list[Change], dict[tuple[str, str], str]]:
        wanted = {
            (batch[c.index].scope or "", item.ref_key)
            for c, item in zip(changes, prepared, strict=True)
            if batch[c.index].order is not None
        }
        last = self._positions(wanted)
        moved: dict[tuple[str, str], str] = {}
        kept_c: list[Change] = []
        kept_p: list[PreparedWrite] = []
        stale: list[Change] = []
        for c, item in zip(changes, prepared, strict=True):
            raw = batch[c.index]
            if raw.order is not None:
                key = (raw.scope or "", item.ref_key)
                prev = last.get(key)
                if prev is not None and raw.order <= prev:
                    stale.append(c)
                    continue
                last[key] = moved[key] = raw.order
            kept_c.append(c)
            kept_p.append(item)
        return kept_c, kept_p, stale, moved

    def _positions(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        by_scope: dict[str, list[str]] = {}
        for scope, ref in keys:
            by_scope.setdefault(scope, []).append(ref)
        with self.registry.store.engine.connect() as conn:
            for scope, refs in by_scope.items():
                for i in range(0, len(refs), CHUNK):
                    stmt = sa.select(positions.c.ref_key, positions.c.position).where(
                        positions.c.scope == scope, positions.c.ref_key.in_(refs[i : i + CHUNK])
                    )
                    for ref, pos in conn.execute(stmt):
                        found[(scope, ref)] = pos
        return found

    def _known(self, ids: set[str], *, only_applied: bool) -> set[str]:
        found: set[str] = set()
        wanted = list(ids)
        with self.registry.store.engine.connect() as conn:
            for i in range(0, len(wanted), CHUNK):
                stmt = sa.select(events.c.event_id).where(
                    events.c.event_id.in_(wanted[i : i + CHUNK])
                )
                if only_applied:
                    stmt = stmt.where(events.c.outcome == "applied")
                found.update(conn.execute(stmt).scalars())
        return found

    def _write_dead(
        self,
        conn: sa.Connection,
        batch: Sequence[Raw],
        dead: Sequence[DeadLetter],
        now: str,
        replay: dict[int, int],
    ) -> None:
        rows = []
        for d in dead:
            if d.index in replay:
                continue  # still failing: its dead letter stays open, not duplicated
            raw = batch[d.index]
            rows.append(
                {
                    "at": now,
                    "source": self.source,
                    "position": (raw.position or "")[:128] or None,
                    "event_id": d.event_id,
                    "namespace": d.namespace,
                    "code": d.code[:32],
                    "reason": d.reason,
                    "payload": raw.data[:DEAD_PAYLOAD_MAX],
                    "truncated": len(raw.data) > DEAD_PAYLOAD_MAX or raw.oversize > 0,
                    "actor": self.principal.name,
                    "replayed_at": None,
                }
            )
        if rows:
            conn.execute(dead_letters.insert(), rows)


def _item(
    index: int,
    raw: Raw,
    event_id: str | None,
    outcome: str | None,
    ref: str | None,
    dead: DeadLetter | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"index": index, "outcome": outcome or "refused"}
    if event_id:
        out["id"] = event_id
    if raw.position:
        out["position"] = raw.position
    if ref:
        out["ref"] = ref
    if dead is not None:
        out["error"] = {"code": dead.code, "detail": dead.reason}
    return out
