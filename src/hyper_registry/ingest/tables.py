"""The ingest domain's tables (created by migration 0008_ingest).

- ``ingest_events``: every event id the registry has taken in (applied, or dead-lettered),
  so a redelivered event is recognised and applied once.
- ``ingest_positions``: per broker stream and entry, the position of the last change
  applied, so a change redelivered after a newer one (a replica died, a reply was
  lost) is skipped as stale instead of undoing the newer one.
- ``ingest_dead_letters``: messages that could not be applied, with the reason, where
  they came from (source, line or broker id) and the original payload.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

EVENT_ID_MAX = 255

events = sa.Table(
    "ingest_events",
    metadata,
    sa.Column("event_id", sa.String(EVENT_ID_MAX), primary_key=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)

dead_letters = sa.Table(
    "ingest_dead_letters",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("source", sa.String(255), nullable=False),
    sa.Column("position", sa.String(128), nullable=True),
    sa.Column("event_id", sa.String(EVENT_ID_MAX), nullable=True),
    sa.Column("namespace", sa.String(63), nullable=True),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Column("truncated", sa.Boolean(), nullable=False),
    sa.Column("actor", sa.String(253), nullable=False),
    sa.Column("replayed_at", sa.String(32), nullable=True),
    sa.Index("ix_ingest_dead_letters_open", "replayed_at", "id"),
    sa.Index("ix_ingest_dead_letters_event", "event_id"),
)

positions = sa.Table(
    "ingest_positions",
    metadata,
    sa.Column("scope", sa.String(255), primary_key=True),
    sa.Column("ref_key", sa.String(600), primary_key=True),
    sa.Column("position", sa.String(64), nullable=False),
)
