"""Leases in the database: each service is checked by exactly one worker at a time.

A lease row per service names its owner and when the lease expires. A worker renews
all its leases in one statement every tick (``expires_at = now + ttl``), claims
expired or free ones (the claim re-checks expiry in its UPDATE, so on PostgreSQL two
workers racing for a row serialise on the row lock and only one wins; on SQLite the
writers are serialised), and gives back what exceeds its fair share so a new worker
gets work. A worker that dies stops renewing: its leases expire after ``ttl`` (the
service's interval, at least a few ticks) and the others take them over at their next
tick, well within two intervals.

Workers also check, before each probe, that their own view of the lease is still
valid (``valid_until`` = the start of the last renewal + ttl), so a stalled worker does
not probe a service another worker may already own. Workers must have synchronised
clocks (NTP), as with any lease scheme on wall-clock time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from hyper_registry.kinds.service.tables import leases, workers

CHUNK = 500


class Leases:
    """One worker's side of the lease table."""

    def __init__(self, engine: sa.Engine, worker: str, *, live_horizon: float) -> None:
        self.engine = engine
        self.worker = worker
        self.live_horizon = live_horizon

    def _tx(self) -> sa.Connection:
        return self.engine.connect().execution_options(sqlite_begin="IMMEDIATE")

    def heartbeat(self, now: float) -> int:
        """Mark this worker alive; return how many workers are alive (this one included)."""
        with self._tx() as conn, conn.begin():
            updated = conn.execute(
                workers.update().where(workers.c.id == self.worker).values(seen_at=now)
            ).rowcount
            if not updated:
                conn.execute(
                    workers.insert(), {"id": self.worker, "started_at": now, "seen_at": now}
                )
            conn.execute(workers.delete().where(workers.c.seen_at < now - 86400))
            live = conn.execute(
                sa.select(sa.func.count()).where(workers.c.seen_at >= now - self.live_horizon)
            ).scalar_one()
        return max(1, int(live))

    def ensure(self, ttls: Mapping[str, float]) -> None:
        """Create free lease rows for services that have none; keep each ttl current."""
        refs = sorted(ttls)
        if not refs:
            return
        with self._tx() as conn, conn.begin():
            have: dict[str, float] = {}
            for start in range(0, len(refs), CHUNK):
                chunk = refs[start : start + CHUNK]
                for row in conn.execute(
                    sa.select(leases.c.ref, leases.c.ttl).where(leases.c.ref.in_(chunk))
                ):
                    have[row.ref] = row.ttl
            new = [
                {"ref": r, "owner": None, "expires_at": 0.0, "ttl": ttls[r]}
                for r in refs
                if r not in have
            ]
            if new:
                conn.execute(leases.insert(), new)
            changed = [
                {"b_ref": r, "ttl": ttls[r]} for r in refs if r in have and have[r] != ttls[r]
            ]
            if changed:
                conn.execute(
                    leases.update()
                    .where(leases.c.ref == sa.bindparam("b_ref"))
                    .values(ttl=sa.bindparam("ttl")),
                    changed,
                )

    def renew(self, now: float) -> dict[str, float]:
        """Extend every lease this worker holds; return them with their ttl."""
        with self._tx() as conn, conn.begin():
            conn.execute(
                leases.update()
                .where(leases.c.owner == self.worker)
                .values(expires_at=now + leases.c.ttl)
            )
            rows = conn.execute(
                sa.select(leases.c.ref, leases.c.ttl).where(leases.c.owner == self.worker)
            ).all()
        return {r.ref: r.ttl for r in rows}

    def claim(self, now: float, held: int, live: int) -> dict[str, float]:
        """Take free or expired leases up to this worker's fair share; return those taken.

        Leases whose owner stopped renewing more than ``live_horizon`` ago are taken
        whatever the share: that worker is gone, and a service must not go unchecked
        while the count of live workers catches up.
        """
        room = max(0, self.fair_share(live) - held)
        expired = leases.c.expires_at < now
        with self._tx() as conn, conn.begin():
            wanted: set[str] = set()
            if room:
                wanted.update(
                    conn.execute(
                        sa.select(leases.c.ref)
                        .where(expired)
                        .order_by(leases.c.expires_at, leases.c.ref)
                        .limit(room)
                    ).scalars()
                )
            wanted.update(
                conn.execute(
                    sa.select(leases.c.ref)
                    .where(leases.c.expires_at < now - self.live_horizon)
                    .where(leases.c.owner.is_not(None) & (leases.c.owner != self.worker))
                    .limit(10_000)
                ).scalars()
            )
            chosen = sorted(wanted)
            taken: dict[str, float] = {}
            for start in range(0, len(chosen), CHUNK):
                chunk = chosen[start : start + CHUNK]
                conn.execute(
                    leases.update()
                    .where(leases.c.ref.in_(chunk) & expired)
                    .values(owner=self.worker, expires_at=now + leases.c.ttl)
                )
                for row in conn.execute(
                    sa.select(leases.c.ref, leases.c.ttl).where(
                        leases.c.ref.in_(chunk) & (leases.c.owner == self.worker)
                    )
                ):
                    taken[row.ref] = row.ttl
        return taken

    def fair_share(self, live: int) -> int:
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(leases)).scalar_one()
        return math.ceil(total / max(1, live))

    def release(self, refs: Iterable[str]) -> None:
        """Give leases back (free at once for another worker)."""
        chosen = sorted(refs)
        with self._tx() as conn, conn.begin():
            for start in range(0, len(chosen), CHUNK):
                chunk = chosen[start : start + CHUNK]
                conn.execute(
                    leases.update()
                    .where(leases.c.ref.in_(chunk) & (leases.c.owner == self.worker))
                    .values(owner=None, expires_at=0.0)
                )

    def release_all(self) -> None:
        with self._tx() as conn, conn.begin():
            conn.execute(
                leases.update()
                .where(leases.c.owner == self.worker)
                .values(owner=None, expires_at=0.0)
            )
            conn.execute(workers.delete().where(workers.c.id == self.worker))

    def drop(self, refs: Iterable[str]) -> None:
        """Delete the lease rows of services that are gone."""
        chosen = sorted(refs)
        with self._tx() as conn, conn.begin():
            for start in range(0, len(chosen), CHUNK):
                conn.execute(leases.delete().where(leases.c.ref.in_(chosen[start : start + CHUNK])))
