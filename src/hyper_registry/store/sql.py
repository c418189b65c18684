"""The SQL store: one implementation for SQLite and PostgreSQL on SQLAlchemy Core."""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from hyper_registry.core import relations as vocab
from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import (
    BatchRefused,
    Conflict,
    ItemError,
    NotFound,
    Unavailable,
)
from hyper_registry.core.ids import timestamp
from hyper_registry.core.ref import Ref
from hyper_registry.core.settings import Settings
from hyper_registry.store import resolve
from hyper_registry.store.base import (
    ChangeRecord,
    GraphHit,
    Idempotency,
    Page,
    PreparedWrite,
    Query,
    RelationView,
    StoreHealth,
    TraversalMode,
    TxHook,
    WriteResult,
)
from hyper_registry.store.checkpoint import Checkpointer
from hyper_registry.store.engine import make_engine, normalise_url
from hyper_registry.store.filters import build_filters
from hyper_registry.store.rows import CHUNK, ENTRY_COLS, dumps, row_to_entry
from hyper_registry.store.schema import aliases, changes, entries, relations
from hyper_registry.store.schema import idempotency as idempotency_keys
from hyper_registry.store.writer import move_alias, replayable, write_segments

_SAME_NAME = (
    (entries.c.kind == sa.bindparam("kind"))
    & (entries.c.namespace == sa.bindparam("namespace"))
    & (entries.c.name == sa.bindparam("name"))
)
_GET_BY_KEY = sa.select(*ENTRY_COLS).where(entries.c.ref_key == sa.bindparam("ref_key"))
_GET_BY_ALIAS = (
    sa.select(*ENTRY_COLS)
    .select_from(
        entries.join(
            aliases,
            (aliases.c.kind == entries.c.kind)
            & (aliases.c.namespace == entries.c.namespace)
            & (aliases.c.name == entries.c.name)
            & (aliases.c.version == entries.c.version),
        )
    )
    .where(_SAME_NAME & (aliases.c.alias == sa.bindparam("alias")))
)
_GET_LATEST = (
    sa.select(*ENTRY_COLS).where(_SAME_NAME).order_by(entries.c.version_key.desc()).limit(1)
)

# The same three reads as plain SQLite SQL, for ``SqlStore._sqlite_get``.
_RawEntry = namedtuple(
    "_RawEntry", "id uid kind body status revision content_hash created_at updated_at"
)
_RAW_COLS = ", ".join(f"e.{c.name}" for c in ENTRY_COLS)
_SQLITE_BY_KEY = f"SELECT {_RAW_COLS} FROM entries e WHERE e.ref_key = ?"
_SQLITE_LATEST = (
    f"SELECT {_RAW_COLS} FROM entries e WHERE e.kind = ? AND e.namespace = ? AND e.name = ? "
    "ORDER BY e.version_key DESC LIMIT 1"
)
_SQLITE_BY_ALIAS = (
    f"SELECT {_RAW_COLS} FROM entries e JOIN aliases a ON a.kind = e.kind "
    "AND a.namespace = e.namespace AND a.name = e.name AND a.version = e.version "
    "WHERE e.kind = ? AND e.namespace = ? AND e.name = ? AND a.alias = ?"
)


class SqlStore:
    """The store on SQLAlchemy Core. SQLite by default; PostgreSQL when the URL says so."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._is_sqlite = settings.is_sqlite
        self._engine: sa.Engine | None = None
        self._checkpointer: Checkpointer | None = None

    # -- lifecycle -----------------------------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            if self._settings.is_sqlite and not self._settings.database_url:
                Path(self._settings.data_dir).mkdir(parents=True, exist_ok=True)
            url = sa.make_url(normalise_url(self._settings.effective_database_url))
            path = url.database if url.get_backend_name() == "sqlite" else None
            background = bool(path) and path != ":memory:" and "mode=memory" not in str(url)
            if background:
                assert path is not None
                self._checkpointer = Checkpointer(path)
            self._engine = make_engine(self._settings, background_checkpoint=background)
            if self._checkpointer is not None:
                # Every commit on this engine (the store's and the domains' own tables).
                sa.event.listen(self._engine, "commit", self._checkpointer.on_commit)
        return self._engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _alembic_config(self, conn: sa.Connection) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option(
            "script_location", str(resources.files("hyper_registry.store") / "migrations")
        )
        cfg.attributes["connection"] = conn
        return cfg

    def migrate(self) -> None:
        """Bring the schema to the newest migration (the only way the schema is made)."""
        from alembic import command

        try:
            with self.engine.connect() as conn:
                command.upgrade(self._alembic_config(conn), "head")
                conn.commit()
        except OperationalError as exc:
            raise Unavailable(f"cannot migrate the database: {_reason(exc)}") from None

    def _revisions(self, conn: sa.Connection) -> tuple[str | None, str | None]:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(self._alembic_config(conn)).get_current_head()
        return current, head

    def health(self) -> StoreHealth:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
                current, head = self._revisions(conn)
        except (OperationalError, DBAPIError) as exc:
            return StoreHealth(False, False, None, None, _reason(exc))
        return StoreHealth(True, current == head, current, head)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise Unavailable(f"the database is unavailable: {_reason(exc)}") from None

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        try:
            with (
                self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
                conn.begin(),
            ):
                yield conn
        except OperationalError as exc:
            raise Unavailable(f"the database is unavailable: {_reason(exc)}") from None

    # -- writes --------------------------------------------------------------------

    def write(
        self,
        items: Sequence[PreparedWrite],
        *,
        actor: str,
        atomic: bool = True,
        idempotency: Idempotency | None = None,
        within: TxHook | None = None,
    ) -> list[WriteResult | ItemError]:
        """Apply a batch in one transaction. Atomic: any refusal refuses all, nothing written.

        ``within(conn, results)`` runs inside the same transaction after the entries are
        written (ingestion records event ids and dead letters this way, so they commit or
        roll back together with the batch).
        """
        for attempt in range(3):
            try:
                with self._tx() as conn:
                    if idempotency is not None:
                        replay = self._idempotent_replay(conn, idempotency)
                        if replay is not None:
                            return replay
                        # Claim the key before touching any entry: a concurrent request
                        # with the same key waits on this row, then fails and, retried,
                        # replays this request's answer.
                        conn.execute(
                            idempotency_keys.insert(),
                            {
                                "key": idempotency.key,
                                "request_hash": idempotency.request_hash,
                                "response": "[]",
                                "created_at": timestamp(),
                            },
                        )
                    results = write_segments(conn, items, actor)
                    errors = [r for r in results if isinstance(r, ItemError)]
                    if errors and atomic:
                        raise BatchRefused(errors) if len(items) > 1 else errors[0].error
                    if within is not None:
                        within(conn, results)
                    if idempotency is not None:
                        conn.execute(
                            idempotency_keys.update()
                            .where(idempotency_keys.c.key == idempotency.key)
                            .values(response=dumps([replayable(r) for r in results])),
                        )
                    return results
            except IntegrityError:
                # Another writer created the same entry or key between our read and our
                # insert (possible on PostgreSQL); the retry sees its row and decides again.
                if attempt == 2:
                    raise Conflict(
                        "the entry was written concurrently; retry the request"
                    ) from None
        raise AssertionError("unreachable")

    def _idempotent_replay(
        self, conn: sa.Connection, idem: Idempotency
    ) -> list[WriteResult | ItemError] | None:
        row = conn.execute(
            sa.select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
                idempotency_keys.c.key == idem.key
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != idem.request_hash:
            raise Conflict(
                f"idempotency key {idem.key!r} was already used with a different request"
            )
        return [
            WriteResult(
                index=d["index"],
                ref=Ref.parse(d["ref"]),
                outcome=d["outcome"],
                uid=d["uid"],
                revision=d["revision"],
                seq=d["seq"],
                entry=Entry.model_validate(d["entry"]) if d.get("entry") else None,
            )
            for d in orjson.loads(row.response)
        ]

    def set_alias(self, ref: Ref, alias: str, *, actor: str) -> int:
        with self._tx() as conn:
            target = self._get(conn, ref)
            exact = target.ref
            now_s = timestamp()
            moved = move_alias(conn, exact, alias, actor, now_s)
            if moved is None:
                seq = conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar() or 0
                return int(seq)
            resolve.resolve_names(conn, [exact.name])  # its alias ends move with the name
            return int(
                conn.execute(
                    changes.insert().returning(changes.c.seq),
                    {
                        "at": now_s,
                        "actor": actor,
                        "op": "alias",
                        "ref": str(exact.at(alias)),
                        "kind": exact.kind,
                        "namespace": exact.namespace,
                        "uid": None,
                        "revision": None,
                        "detail": dumps(
                            {"alias": alias, "to": exact.version, "from": moved or None}
                        ),
                    },
                ).scalar_one()
            )

    def set_status(self, ref: Ref, status: dict[str, Any], *, actor: str) -> Entry:
        with self._tx() as conn:
            current = self._get(conn, ref)
            now_s = timestamp()
            conn.execute(
                entries.update()
                .where(entries.c.uid == current.uid)
                .values(status=dumps(status), updated_at=now_s)
            )
            conn.execute(
                changes.insert(),
                {
                    "at": now_s,
                    "actor": actor,
                    "op": "status",
                    "ref": str(current.ref),
                    "kind": current.kind,
                    "namespace": current.metadata.namespace,
                    "uid": current.uid,
                    "revision": current.revision,
                    "detail": None,
                },
            )
            return self._get(conn, current.ref)

    # -- reads ---------------------------------------------------------------------

    def _get(self, conn: sa.Connection, ref: Ref) -> Entry:
        # Prebuilt statements (module level): building a select per call costs more
        # than the SQLite lookup itself.
        if ref.version:
            row = conn.execute(_GET_BY_KEY, {"ref_key": str(ref)}).first()
            if row is None:
                row = conn.execute(
                    _GET_BY_ALIAS,
                    {
                        "kind": ref.kind,
                        "namespace": ref.namespace,
                        "name": ref.name,
                        "alias": ref.version,
                    },
                ).first()
        else:
            row = conn.execute(
                _GET_LATEST, {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}
            ).first()
        if row is None:
            raise NotFound(f"{ref} not found")
        return row_to_entry(row)

    def get(self, ref: Ref) -> Entry:
        if self._is_sqlite:
            return self._sqlite_get(ref)
        with self._read() as conn:
            return self._get(conn, ref)

    def _sqlite_get(self, ref: Ref) -> Entry:
        """``_get`` on SQLite through a raw pooled connection: the API's hot read.

        Same queries and answers as ``_get``. Pooled SQLite connections run in autocommit
        (see engine.py), so each statement reads one consistent snapshot; SQLAlchemy's
        per-statement machinery (connection, BEGIN, cache lookup, ROLLBACK) would cost
        several times the lookup itself.
        """
        try:
            raw = self.engine.raw_connection()
            try:
                cur = raw.cursor()
                if ref.version:
                    row = cur.execute(_SQLITE_BY_KEY, (str(ref),)).fetchone()
                    if row is None:
                        row = cur.execute(
                            _SQLITE_BY_ALIAS, (ref.kind, ref.namespace, ref.name, ref.version)
                        ).fetchone()
                else:
                    row = cur.execute(
                        _SQLITE_LATEST, (ref.kind, ref.namespace, ref.name)
                    ).fetchone()
                cur.close()
            finally:
                raw.close()
        except sqlite3.OperationalError as exc:
            raise Unavailable(f"the database is unavailable: {_reason(exc)}") from None
        if row is None:
            raise NotFound(f"{ref} not found")
        return row_to_entry(_RawEntry(*row))

    def latest(self, ref: Ref) -> Entry | None:
        try:
            return self.get(ref.unversioned)
        except NotFound:
            return None

    def versions(self, ref: Ref) -> list[Entry]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(*ENTRY_COLS)
                .where(entries.c.kind == ref.kind)
                .where(entries.c.namespace == ref.namespace)
                .where(entries.c.name == ref.name)
                .order_by(entries.c.version_key.desc())
            ).all()
        return [row_to_entry(r) for r in rows]

    def specs_of(
        self, kind: str, names: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]:
        wanted = set(names)
        out: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        just_names = sorted({name for _, name in wanted})
        namespaces = sorted({ns for ns, _ in wanted})
        with self._read() as conn:
            # kind = ? AND namespace IN (...) AND name IN (...): one statement per chunk,
            # searched on the (kind, namespace, name) index; other pairs are dropped here.
            for i in range(0, len(just_names), CHUNK):
                rows = conn.execute(
                    sa.select(
                        entries.c.namespace, entries.c.name, entries.c.version, entries.c.body
                    )
                    .where(entries.c.kind == kind)
                    .where(entries.c.namespace.in_(namespaces))
                    .where(entries.c.name.in_(just_names[i : i + CHUNK]))
                    .order_by(entries.c.namespace, entries.c.name, entries.c.version_key.desc())
                ).all()
                for ns, name, version, body in rows:
                    if (ns, name) in wanted:
                        spec = orjson.loads(body).get("spec") or {}
                        out.setdefault((ns, name), []).append((version, spec))
        return out

    def aliases(self, ref: Ref) -> dict[str, str]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(aliases.c.alias, aliases.c.version)
                .where(aliases.c.kind == ref.kind)
                .where(aliases.c.namespace == ref.namespace)
                .where(aliases.c.name == ref.name)
                .order_by(aliases.c.alias)
            ).all()
        return {r.alias: r.version for r in rows}

    def query(self, query: Query) -> Page:
        limit = max(1, min(query.limit, self._settings.max_page_size))
        with self._read() as conn:
            stmt = (
                sa.select(*ENTRY_COLS)
                .where(*build_filters(conn.dialect.name, query))
                .order_by(entries.c.id)
                .limit(limit + 1)
            )
            if query.after is not None:
                stmt = stmt.where(entries.c.id > query.after)
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([row_to_entry(r) for r in rows], rows[-1].id if more and rows else None)

    def count(self, query: Query) -> int:
        with self._read() as conn:
            stmt = (
                sa.select(sa.func.count())
                .select_from(entries)
                .where(*build_filters(conn.dialect.name, query))
            )
            return int(conn.execute(stmt).scalar_one())

    def changes(
        self,
        since: int = 0,
        limit: int = 1000,
        namespaces: Sequence[str] | None = None,
        *,
        audit: bool = True,
    ) -> list[ChangeRecord]:
        """Change-log rows after ``since``; ``audit=False`` leaves out registry-level rows
        (token management), which belong to no namespace."""
        with self._read() as conn:
            stmt = (
                sa.select(changes).where(changes.c.seq > since).order_by(changes.c.seq).limit(limit)
            )
            if namespaces is not None:
                stmt = stmt.where(changes.c.namespace.in_(list(namespaces)))
            if not audit:
                stmt = stmt.where(changes.c.namespace != "")
            rows = conn.execute(stmt).all()
        return [
            ChangeRecord(
                seq=r.seq,
                at=r.at,
                actor=r.actor,
                op=r.op,
                ref=r.ref,
                kind=r.kind,
                namespace=r.namespace,
                uid=r.uid,
                revision=r.revision,
                detail=orjson.loads(r.detail) if r.detail else None,
            )
            for r in rows
        ]

    def record(
        self,
        *,
        actor: str,
        op: str,
        ref: str,
        kind: str,
        namespace: str,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append an audit row that is not the result of a write (a refusal, for example)."""
        with self._tx() as conn:
            return int(
                conn.execute(
                    changes.insert().returning(changes.c.seq),
                    {
                        "at": timestamp(),
                        "actor": actor,
                        "op": op,
                        "ref": ref,
                        "kind": kind,
                        "namespace": namespace,
                        "uid": None,
                        "revision": None,
                        "detail": dumps(detail) if detail else None,
                    },
                ).scalar_one()
            )

    # -- graph ---------------------------------------------------------------------

    def traverse(
        self,
        start: Ref,
        mode: TraversalMode,
        *,
        depth: int,
        kinds: Sequence[str] | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> list[GraphHit]:
        from hyper_registry.graph.sql import walk

        with self._read() as conn:
            root = self._get(conn, start)
            root_id = conn.execute(
                sa.select(entries.c.id).where(entries.c.uid == root.uid)
            ).scalar_one()
            return walk(conn, root_id, mode, depth=depth, kinds=kinds, namespaces=namespaces)

    def relations_of(self, ref: Ref) -> list[RelationView]:
        with self._read() as conn:
            root = self._get(conn, ref)
            root_id = conn.execute(
                sa.select(entries.c.id).where(entries.c.uid == root.uid)
            ).scalar_one()
            rows = conn.execute(
                sa.select(relations)
                .where(
                    (relations.c.src_id == root_id)
                    | (relations.c.dst_id == root_id)
                    | (relations.c.owner_id == root_id)
                )
                .order_by(relations.c.id)
            ).all()
            ids = {r.src_id for r in rows} | {r.dst_id for r in rows}
            refs = _refs_by_id(conn, [i for i in ids if i is not None])
        views: list[RelationView] = []
        seen: set[int] = set()
        for r in rows:
            if r.id in seen:
                continue
            seen.add(r.id)
            src = Ref(r.src_kind, r.src_ns, r.src_name, r.src_ver or None)
            dst = Ref(r.dst_kind, r.dst_ns, r.dst_name, r.dst_ver or None)
            if r.src_id == root_id or (
                r.src_id is None and r.owner_id == root_id and r.declared == r.type
            ):
                views.append(RelationView(r.type, dst, refs.get(r.dst_id), r.origin, "outgoing"))
            else:
                inv = vocab.inverse_name(r.type)
                views.append(RelationView(inv, src, refs.get(r.src_id), r.origin, "incoming"))
        return views


def _refs_by_id(conn: sa.Connection, ids: Sequence[int]) -> dict[int, Ref]:
    out: dict[int, Ref] = {}
    for i in range(0, len(ids), CHUNK):
        for row in conn.execute(
            sa.select(
                entries.c.id, entries.c.kind, entries.c.namespace, entries.c.name, entries.c.version
            ).where(entries.c.id.in_(ids[i : i + CHUNK]))
        ):
            out[row.id] = Ref(row.kind, row.namespace, row.name, row.version)
    return out


def _reason(exc: Exception) -> str:
    """A one-line reason for a database failure, without SQL or parameters."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return text[:200]
