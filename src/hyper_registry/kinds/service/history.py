"""Health history: every result stored, the current state per service, availability vs SLA.

Availability over a window is the share of checks in it that were not critical
(passing and warning both count as up: the service answered). It is compared with
the SLA target: ``met`` when the error budget (100 - target) is less than 75% used,
``at risk`` when 75% or more is used but the target still holds, ``breached`` below
the target, ``unknown`` when the window holds no check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hyper_registry.kinds.service.probes import Result, Target
from hyper_registry.kinds.service.tables import checks, leases, results

WINDOWS: tuple[tuple[str, float], ...] = (
    ("1h", 3600.0),
    ("24h", 86400.0),
    ("7d", 7 * 86400.0),
    ("30d", 30 * 86400.0),
)
AT_RISK_BUDGET = 0.75


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Observation:
    """One probe result, ready to store."""

    target: Target
    result: Result
    at: float


@dataclass(frozen=True)
class Transition:
    """A service whose status changed with this result."""

    ref: str
    namespace: str
    previous: str | None
    status: str
    at: float
    message: str


def store_results(
    engine: sa.Engine, batch: Sequence[Observation], worker: str, *, leased: bool = True
) -> list[Transition]:
    """Store a batch of results in one transaction; return the status changes.

    With ``leased``, results for services whose lease this worker no longer holds
    (another worker took it over, or the service was unregistered) are dropped.
    """
    if not batch:
        return []
    refs = sorted({o.target.ref for o in batch})
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        if leased:
            held: set[str] = set()
            for start in range(0, len(refs), 500):
                chunk = refs[start : start + 500]
                held.update(
                    conn.execute(
                        sa.select(leases.c.ref).where(
                            leases.c.ref.in_(chunk) & (leases.c.owner == worker)
                        )
                    ).scalars()
                )
            batch = [o for o in batch if o.target.ref in held]
            if not batch:
                return []
        current: dict[str, tuple[str, float]] = {}
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            for row in conn.execute(
                sa.select(checks.c.ref, checks.c.status, checks.c.since).where(
                    checks.c.ref.in_(chunk)
                )
            ):
                current[row.ref] = (row.status, row.since)
        conn.execute(
            results.insert(),
            [
                {
                    "ref": o.target.ref,
                    "at": o.at,
                    "status": o.result.status,
                    "latency_ms": o.result.latency_ms,
                    "message": o.result.message,
                    "worker": worker,
                }
                for o in batch
            ],
        )
        in_db = set(current)
        transitions: list[Transition] = []
        updates: list[dict[str, Any]] = []
        inserts: dict[str, dict[str, Any]] = {}
        for o in sorted(batch, key=lambda o: o.at):
            ref = o.target.ref
            previous = current.get(ref)
            since = previous[1] if previous and previous[0] == o.result.status else o.at
            if previous is None or previous[0] != o.result.status:
                transitions.append(
                    Transition(
                        ref,
                        o.target.namespace,
                        previous[0] if previous else None,
                        o.result.status,
                        o.at,
                        o.result.message,
                    )
                )
            state_row = {
                "ref": ref,
                "namespace": o.target.namespace,
                "status": o.result.status,
                "since": since,
                "checked_at": o.at,
                "latency_ms": o.result.latency_ms,
                "message": o.result.message,
                "worker": worker,
            }
            if ref in in_db:
                updates.append(state_row)
            else:
                inserts[ref] = state_row  # the last result of a new service in this batch wins
            current[ref] = (o.result.status, since)
        if inserts:
            conn.execute(checks.insert(), list(inserts.values()))
        if updates:
            conn.execute(
                checks.update()
                .where(checks.c.ref == sa.bindparam("b_ref"))
                .values(
                    status=sa.bindparam("status"),
                    since=sa.bindparam("since"),
                    checked_at=sa.bindparam("checked_at"),
                    latency_ms=sa.bindparam("latency_ms"),
                    message=sa.bindparam("message"),
                    worker=sa.bindparam("worker"),
                ),
                [
                    {**{k: v for k, v in u.items() if k != "ref"}, "b_ref": u["ref"]}
                    for u in updates
                ],
            )
    return transitions


def current_state(engine: sa.Engine, ref: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(checks).where(checks.c.ref == ref)).first()
    if row is None:
        return None
    return {
        "status": row.status,
        "since": iso(row.since),
        "checkedAt": iso(row.checked_at),
        "latencyMs": row.latency_ms,
        "message": row.message,
        "worker": row.worker,
    }


def recent(
    engine: sa.Engine, ref: str, *, limit: int = 50, since: float | None = None
) -> list[dict[str, Any]]:
    """The newest results of ``ref``, newest first."""
    stmt = sa.select(results).where(results.c.ref == ref)
    if since is not None:
        stmt = stmt.where(results.c.at >= since)
    stmt = stmt.order_by(results.c.at.desc(), results.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        {
            "at": iso(r.at),
            "status": r.status,
            "latencyMs": r.latency_ms,
            "message": r.message,
            "worker": r.worker,
        }
        for r in rows
    ]


def sla_verdict(availability: float | None, target: float | None) -> str | None:
    """``met``, ``at risk``, ``breached`` or ``unknown`` (None without a target)."""
    if target is None:
        return None
    if availability is None:
        return "unknown"
    if availability < target:
        return "breached"
    budget = 100.0 - target
    used = 100.0 - availability
    return "at risk" if budget > 0 and used >= AT_RISK_BUDGET * budget else "met"


def availability(
    engine: sa.Engine, ref: str, target: float | None, now: float
) -> dict[str, dict[str, Any]]:
    """Availability over 1 h, 24 h, 7 d and 30 d, each with its SLA verdict."""
    up = sa.func.sum(sa.case((results.c.status != "critical", 1), else_=0))
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for name, seconds in WINDOWS:
            row = conn.execute(
                sa.select(sa.func.count(), up).where(
                    (results.c.ref == ref) & (results.c.at >= now - seconds)
                )
            ).one()
            total, ups = int(row[0] or 0), int(row[1] or 0)
            value = round(100.0 * ups / total, 4) if total else None
            out[name] = {
                "checks": total,
                "up": ups,
                "availability": value,
                "sla": sla_verdict(value, target),
            }
    return out


def purge(engine: sa.Engine, before: float, *, batch: int = 10_000) -> int:
    """Delete results older than ``before`` (in batches, so no transaction grows large)."""
    deleted = 0
    while True:
        with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
            ids = (
                sa.select(results.c.id).where(results.c.at < before).limit(batch).scalar_subquery()
            )
            count = conn.execute(results.delete().where(results.c.id.in_(ids))).rowcount
        deleted += count
        if count < batch:
            return deleted


def forget(engine: sa.Engine, ref: str) -> None:
    """Drop a service's check state and lease (its results age out with retention)."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        conn.execute(leases.delete().where(leases.c.ref == ref))
        conn.execute(checks.delete().where(checks.c.ref == ref))
