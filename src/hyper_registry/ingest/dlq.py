"""Dead letters: list them (namespace-scoped like everything else) and replay them.

A replay feeds the stored payload through the same ``Applier`` as the first try,
under the same event id. One that applies now is marked replayed; one that still
fails stays open with its first reason (no second dead letter is written).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hyper_registry.auth.tokens import LOCAL, Principal
from hyper_registry.core.errors import Invalid
from hyper_registry.core.registry import Registry
from hyper_registry.ingest.applier import Applier, BatchReport
from hyper_registry.ingest.messages import Raw
from hyper_registry.ingest.tables import dead_letters

MAX_LIMIT = 1000


def _visible(stmt: sa.Select[Any], principal: Principal) -> sa.Select[Any]:
    if principal.namespaces is None:
        return stmt
    return stmt.where(dead_letters.c.namespace.in_(sorted(principal.namespaces)))


def to_dict(row: Any) -> dict[str, Any]:
    payload = bytes(row.payload)
    return {
        "id": row.id,
        "at": row.at,
        "source": row.source,
        "position": row.position,
        "eventId": row.event_id,
        "namespace": row.namespace,
        "code": row.code,
        "reason": row.reason,
        "payload": payload.decode("utf-8", errors="replace"),
        "truncated": bool(row.truncated),
        "actor": row.actor,
        "replayedAt": row.replayed_at,
    }


def list_dead(
    registry: Registry,
    *,
    principal: Principal = LOCAL,
    include_replayed: bool = False,
    limit: int = 100,
    after: int | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """Open dead letters (oldest first), ``limit`` per page; ``after`` is the page cursor."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid.at(("limit",), f"limit must be between 1 and {MAX_LIMIT}")
    stmt = sa.select(dead_letters).order_by(dead_letters.c.id).limit(limit + 1)
    if not include_replayed:
        stmt = stmt.where(dead_letters.c.replayed_at.is_(None))
    if after is not None:
        stmt = stmt.where(dead_letters.c.id > after)
    if code:
        stmt = stmt.where(dead_letters.c.code == code)
    stmt = _visible(stmt, principal)
    with registry.store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [to_dict(r) for r in rows],
        "nextCursor": rows[-1].id if more and rows else None,
    }


def count_open(registry: Registry, principal: Principal = LOCAL) -> int:
    stmt = _visible(
        sa.select(sa.func.count())
        .select_from(dead_letters)
        .where(dead_letters.c.replayed_at.is_(None)),
        principal,
    )
    with registry.store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def replay(
    registry: Registry,
    *,
    ids: Sequence[int] | None = None,
    principal: Principal = LOCAL,
    batch_size: int = 1000,
) -> dict[str, Any]:
    """Replay the given open dead letters (all open ones the principal sees if None)."""
    applier = Applier(registry, source="dlq-replay", principal=principal)
    base = (
        sa.select(
            dead_letters.c.id,
            dead_letters.c.payload,
            dead_letters.c.position,
            dead_letters.c.event_id,
        )
        .where(dead_letters.c.replayed_at.is_(None))
        .order_by(dead_letters.c.id)
    )
    base = _visible(base, principal)
    wanted = list(ids) if ids is not None else None
    results: list[dict[str, Any]] = []
    totals: dict[str, int] = {}
    after = 0
    while True:
        stmt = base.where(dead_letters.c.id > after).limit(batch_size)
        if wanted is not None:
            if not wanted:
                break
            stmt = base.where(dead_letters.c.id.in_(wanted[:batch_size]))
            wanted = wanted[batch_size:]
        with registry.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if not rows:
            if wanted is None:
                break
            continue
        batch = [Raw(bytes(r.payload), r.position, r.event_id) for r in rows]
        report: BatchReport = applier.apply(
            batch, detail=True, replay={i: r.id for i, r in enumerate(rows)}
        )
        for k, v in report.counts.items():
            totals[k] = totals.get(k, 0) + v
        assert report.items is not None
        for r, item in zip(rows, report.items, strict=True):
            results.append({"deadLetter": r.id, **item})
        after = rows[-1].id
    if ids is not None:
        found = {r["deadLetter"] for r in results}
        for missing in ids:
            if missing not in found:
                results.append(
                    {
                        "deadLetter": missing,
                        "outcome": "not-found",
                        "error": {
                            "code": "not-found",
                            "detail": "no open dead letter with this id",
                        },
                    }
                )
    return {"results": results, "counts": totals}
