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
    AlreadyExists,
    BatchRefused,
    Conflict,
    HyperRegistryError,
    ItemError,
    NotFound,
    Unavailable,
)
from hyper_registry.core.ids import timestamp, utcnow, uuid7
from hyper_registry.core.ref import Ref
from hyper_registry.core.settings import Settings
from hyper_registry.core.versioning import version_key
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
    WriteResult,
)
from hyper_registry.store.engine import make_engine
from hyper_registry.store.filters import build_filters
from hyper_registry.store.schema import aliases, changes, entries, relations
from hyper_registry.store.schema import idempotency as idempotency_keys

CHUNK = 500
_ENTRY_COLS = (
    entries.c.id,
    entries.c.uid,
    entries.c.kind,
    entries.c.body,
    entries.c.status,
    entries.c.revision,
    entries.c.content_hash,
    entries.c.created_at,
    entries.c.updated_at,
)

_SAME_NAME = (
    (entries.c.kind == sa.bindparam("kind"))
    & (entries.c.namespace == sa.bindparam("namespace"))
    & (entries.c.name == sa.bindparam("name"))
)
_GET_BY_KEY = sa.select(*_ENTRY_COLS).where(entries.c.ref_key == sa.bindparam("ref_key"))
_GET_BY_ALIAS = (
    sa.select(*_ENTRY_COLS)
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
    sa.select(*_ENTRY_COLS).where(_SAME_NAME).order_by(entries.c.version_key.desc()).limit(1)
)

# The same three reads as plain SQLite SQL, for ``SqlStore._sqlite_get``.
_RawEntry = namedtuple(
    "_RawEntry", "id uid kind body status revision content_hash created_at updated_at"
)
_RAW_COLS = ", ".join(f"e.{c.name}" for c in _ENTRY_COLS)
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


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def row_to_entry(row: Any) -> Entry:
    body = orjson.loads(row.body)
    md = body["metadata"]
    md["uid"] = row.uid
    md["revision"] = row.revision
    md["createdAt"] = row.created_at
    md["updatedAt"] = row.updated_at
    md["contentHash"] = row.content_hash
    body["status"] = orjson.loads(row.status) if row.status else {}
    body.pop("apiVersion", None)
    return Entry.model_validate(body)


class SqlStore:
    """The store on SQLAlchemy Core. SQLite by default; PostgreSQL when the URL says so."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: sa.Engine | None = None

    # -- lifecycle -----------------------------------------------------------------

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            if self._settings.is_sqlite and not self._settings.database_url:
                Path(self._settings.data_dir).mkdir(parents=True, exist_ok=True)
            self._engine = make_engine(self._settings)
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
    ) -> list[WriteResult | ItemError]:
        """Apply a batch in one transaction. Atomic: any refusal refuses all, nothing written."""
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
                    results = self._write_segments(conn, items, actor)
                    errors = [r for r in results if isinstance(r, ItemError)]
                    if errors and atomic:
                        raise BatchRefused(errors) if len(items) > 1 else errors[0].error
                    if idempotency is not None:
                        conn.execute(
                            idempotency_keys.update()
                            .where(idempotency_keys.c.key == idempotency.key)
                            .values(response=_dumps([_replayable(r) for r in results])),
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

    def _write_segments(
        self, conn: sa.Connection, items: Sequence[PreparedWrite], actor: str
    ) -> list[WriteResult | ItemError]:
        # Changes to one entry apply in order: a batch that names an entry twice is cut
        # into segments in which every entry appears once, applied one after the other.
        out: list[WriteResult | ItemError] = []
        start = 0
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.ref_key in seen:
                out.extend(self._write_segment(conn, items[start:i], start, actor))
                start, seen = i, set()
            seen.add(item.ref_key)
        out.extend(self._write_segment(conn, items[start:], start, actor))
        return out

    def _existing(self, conn: sa.Connection, keys: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for i in range(0, len(keys), CHUNK):
            stmt = sa.select(
                entries.c.id,
                entries.c.uid,
                entries.c.ref_key,
                entries.c.kind,
                entries.c.namespace,
                entries.c.name,
                entries.c.version,
                entries.c.revision,
                entries.c.content_hash,
                entries.c.created_at,
                entries.c.body,
                entries.c.status,
                entries.c.updated_at,
            ).where(entries.c.ref_key.in_(keys[i : i + CHUNK]))
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            for row in conn.execute(stmt):
                found[row.ref_key] = row
        return found

    def _write_segment(
        self, conn: sa.Connection, items: Sequence[PreparedWrite], offset: int, actor: str
    ) -> list[WriteResult | ItemError]:
        if not items:
            return []
        now = utcnow()
        now_s = timestamp(now)
        existing = self._existing(conn, [it.ref_key for it in items])
        results: list[WriteResult | ItemError] = []
        inserts: list[dict[str, Any]] = []
        insert_items: list[tuple[int, PreparedWrite, str]] = []
        updates: list[dict[str, Any]] = []
        update_items: list[tuple[int, PreparedWrite, Any]] = []
        deletes: list[tuple[int, PreparedWrite, Any]] = []

        for pos, item in enumerate(items):
            index = offset + pos
            row = existing.get(item.ref_key)
            error = _decide_error(item, row)
            if error is not None:
                results.append(ItemError(index, error, item.ref_key))
                continue
            if item.op == "delete":
                deletes.append((index, item, row))
            elif row is None:
                uid = uuid7()
                inserts.append(
                    {
                        "uid": uid,
                        "ref_key": item.ref_key,
                        "kind": item.ref.kind,
                        "namespace": item.ref.namespace,
                        "name": item.ref.name,
                        "version": item.ref.version,
                        "version_key": version_key(
                            item.versioning, item.ref.version or "", now, pos
                        ),
                        "owner": item.owner,
                        "title": item.title,
                        "body": item.body_json,
                        "status": "{}",
                        "revision": 1,
                        "content_hash": item.content_hash,
                        "created_at": now_s,
                        "updated_at": now_s,
                    }
                )
                insert_items.append((index, item, uid))
            elif row.content_hash == item.content_hash and not item.aliases:
                results.append(WriteResult(index, item.ref, "unchanged", row.uid, row.revision))
            elif row.content_hash == item.content_hash:
                # Same content; only the aliases it claims may move.
                results.append(WriteResult(index, item.ref, "unchanged", row.uid, row.revision))
                update_items.append((index, item, row))
            else:
                updates.append(
                    {
                        "b_id": row.id,
                        "b_revision": row.revision,
                        "owner": item.owner,
                        "title": item.title,
                        "body": item.body_json,
                        "content_hash": item.content_hash,
                        "updated_at": now_s,
                    }
                )
                update_items.append((index, item, row))

        change_rows: list[dict[str, Any]] = []
        change_targets: list[WriteResult] = []
        relation_rows: list[dict[str, Any]] = []
        touched_names: set[str] = set()
        gone_ids: list[int] = []
        moved_aliases: list[str] = []

        # Inserts, with their new ids.
        if inserts:
            ids = [
                r[0]
                for r in conn.execute(
                    entries.insert().returning(entries.c.id, sort_by_parameter_order=True),
                    inserts,
                )
            ]
            for (index, item, uid), entry_id, params in zip(
                insert_items, ids, inserts, strict=True
            ):
                res = WriteResult(index, item.ref, "created", uid, 1)
                res.entry = _entry_from(item, uid, 1, params["created_at"], now_s, "{}")
                results.append(res)
                change_rows.append(_change(now_s, actor, "create", item, uid, 1))
                change_targets.append(res)
                relation_rows.extend(_relation_rows(entry_id, item))
                touched_names.add(item.ref.name)

        # Updates of existing versions.
        if updates:
            upd = (
                entries.update()
                .where(entries.c.id == sa.bindparam("b_id"))
                .where(entries.c.revision == sa.bindparam("b_revision"))
                .values(
                    owner=sa.bindparam("owner"),
                    title=sa.bindparam("title"),
                    body=sa.bindparam("body"),
                    content_hash=sa.bindparam("content_hash"),
                    updated_at=sa.bindparam("updated_at"),
                    revision=entries.c.revision + 1,
                )
            )
            conn.execute(upd, updates)
            changed_ids = [p["b_id"] for p in updates]
            for i in range(0, len(changed_ids), CHUNK):
                conn.execute(
                    relations.delete().where(relations.c.owner_id.in_(changed_ids[i : i + CHUNK]))
                )
            by_id = {p["b_id"]: p for p in updates}
            for index, item, row in update_items:
                if row.id not in by_id:
                    continue
                rev = row.revision + 1
                res = WriteResult(index, item.ref, "updated", row.uid, rev)
                res.entry = _entry_from(item, row.uid, rev, row.created_at, now_s, row.status)
                results.append(res)
                change_rows.append(_change(now_s, actor, "update", item, row.uid, rev))
                change_targets.append(res)
                relation_rows.extend(_relation_rows(row.id, item))

        # Deletes: the entry, the relations it declared, the aliases that pointed at it.
        if deletes:
            del_ids = [row.id for _, _, row in deletes]
            for i in range(0, len(del_ids), CHUNK):
                chunk = del_ids[i : i + CHUNK]
                conn.execute(relations.delete().where(relations.c.owner_id.in_(chunk)))
                conn.execute(entries.delete().where(entries.c.id.in_(chunk)))
            for index, item, row in deletes:
                dropped = (
                    conn.execute(
                        aliases.delete()
                        .where(aliases.c.kind == row.kind)
                        .where(aliases.c.namespace == row.namespace)
                        .where(aliases.c.name == row.name)
                        .where(aliases.c.version == row.version)
                        .returning(aliases.c.alias)
                    )
                    .scalars()
                    .all()
                )
                moved_aliases.extend(dropped)
                old = row_to_entry(row)
                res = WriteResult(index, item.ref, "deleted", row.uid, row.revision)
                res.entry = old
                results.append(res)
                detail = {"aliasesRemoved": sorted(dropped)} if dropped else None
                change_rows.append(
                    _change(now_s, actor, "delete", item, row.uid, row.revision, detail)
                )
                change_targets.append(res)
                touched_names.add(row.name)
                gone_ids.append(row.id)

        # Aliases claimed by the written documents move to their versions.
        for index, item, _uid_or_row in [*insert_items, *update_items]:
            for alias in item.aliases:
                moved = self._move_alias(conn, item.ref, alias, item.actor or actor, now_s)
                if moved is not None:
                    moved_aliases.append(alias)
                    touched_names.add(item.ref.name)
                    change_rows.append(
                        {
                            "at": now_s,
                            "actor": item.actor or actor,
                            "op": "alias",
                            "ref": str(item.ref.at(alias)),
                            "kind": item.ref.kind,
                            "namespace": item.ref.namespace,
                            "uid": None,
                            "revision": None,
                            "detail": _dumps(
                                {"alias": alias, "to": item.ref.version, "from": moved or None}
                            ),
                        }
                    )
                    change_targets.append(WriteResult(index, item.ref, "updated", "", 0))

        # Relations, then their ends resolved to ids.
        if relation_rows:
            first = conn.execute(
                relations.insert().returning(relations.c.id, sort_by_parameter_order=True),
                relation_rows,
            ).first()
            assert first is not None
            resolve.resolve_new_rows(conn, first[0])
        if touched_names:
            resolve.resolve_names(
                conn, touched_names, gone_ids=gone_ids, moved_aliases=moved_aliases
            )

        # The change log, in the same transaction.
        if change_rows:
            seqs = [
                r[0]
                for r in conn.execute(
                    changes.insert().returning(changes.c.seq, sort_by_parameter_order=True),
                    change_rows,
                )
            ]
            for target, seq in zip(change_targets, seqs, strict=True):
                if target.seq is None and target.uid:
                    target.seq = seq

        results.sort(key=lambda r: r.index)
        return results

    def _move_alias(
        self, conn: sa.Connection, ref: Ref, alias: str, actor: str, now_s: str
    ) -> str | None:
        """Point ``alias`` at ``ref``'s version; returns the old version ('' if new), None if unmoved."""
        key = (
            (aliases.c.kind == ref.kind)
            & (aliases.c.namespace == ref.namespace)
            & (aliases.c.name == ref.name)
            & (aliases.c.alias == alias)
        )
        current = conn.execute(sa.select(aliases.c.version).where(key)).scalar()
        if current == ref.version:
            return None
        if current is None:
            conn.execute(
                aliases.insert().values(
                    kind=ref.kind,
                    namespace=ref.namespace,
                    name=ref.name,
                    alias=alias,
                    version=ref.version,
                    updated_at=now_s,
                    actor=actor,
                )
            )
            return ""
        conn.execute(
            aliases.update().where(key).values(version=ref.version, updated_at=now_s, actor=actor)
        )
        return str(current)

    def set_alias(self, ref: Ref, alias: str, *, actor: str) -> int:
        with self._tx() as conn:
            target = self._get(conn, ref)
            exact = target.ref
            now_s = timestamp()
            moved = self._move_alias(conn, exact, alias, actor, now_s)
            if moved is None:
                seq = conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar() or 0
                return int(seq)
            resolve.resolve_names(conn, [exact.name], moved_aliases=[alias])
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
                        "detail": _dumps(
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
                .values(status=_dumps(status), updated_at=now_s)
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
        if self._settings.is_sqlite:
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
                sa.select(*_ENTRY_COLS)
                .where(entries.c.kind == ref.kind)
                .where(entries.c.namespace == ref.namespace)
                .where(entries.c.name == ref.name)
                .order_by(entries.c.version_key.desc())
            ).all()
        return [row_to_entry(r) for r in rows]

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
                sa.select(*_ENTRY_COLS)
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
                        "detail": _dumps(detail) if detail else None,
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


def _replayable(result: WriteResult | ItemError) -> dict[str, Any]:
    assert isinstance(result, WriteResult)
    data = result.to_dict()
    data["entry"] = result.entry.to_dict() if result.entry is not None else None
    return data


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


def _decide_error(item: PreparedWrite, row: Any) -> HyperRegistryError | None:
    ref = item.ref_key
    if item.op == "create" and row is not None:
        return AlreadyExists(f"{ref} already exists")
    if item.op in ("update", "delete") and row is None:
        return NotFound(f"{ref} not found")
    if item.op == "apply" and row is None and item.expected_revision is not None:
        return NotFound(f"{ref} not found; a revision was given, so it was expected to exist")
    if (
        row is not None
        and item.expected_revision is not None
        and item.expected_revision != row.revision
    ):
        return Conflict(
            f"{ref} is at revision {row.revision}, not {item.expected_revision}; "
            "read it again and reapply your change"
        )
    return None


def _relation_rows(owner_id: int, item: PreparedWrite) -> list[dict[str, Any]]:
    rows = []
    me = item.ref
    for rel in item.relations:
        looked = vocab.lookup(rel.declared)
        assert looked is not None
        rtype, canonical = looked
        src, dst = (me, rel.target) if canonical else (rel.target, me)
        rows.append(
            {
                "owner_id": owner_id,
                "declared": rel.declared,
                "type": rtype.name,
                "impact_fwd": rtype.impact == "forward",
                "origin": rel.origin,
                "src_kind": src.kind,
                "src_ns": src.namespace,
                "src_name": src.name,
                "src_ver": src.version or "",
                "src_id": owner_id if canonical else None,
                "dst_kind": dst.kind,
                "dst_ns": dst.namespace,
                "dst_name": dst.name,
                "dst_ver": dst.version or "",
                "dst_id": None if canonical else owner_id,
            }
        )
    return rows


def _change(
    now_s: str,
    actor: str,
    op: str,
    item: PreparedWrite,
    uid: str,
    revision: int,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "at": now_s,
        "actor": item.actor or actor,
        "op": op,
        "ref": item.ref_key,
        "kind": item.ref.kind,
        "namespace": item.ref.namespace,
        "uid": uid,
        "revision": revision,
        "detail": _dumps(detail) if detail else None,
    }


def _entry_from(
    item: PreparedWrite, uid: str, revision: int, created: str, updated: str, status: str
) -> Entry:
    assert item.body is not None
    body = dict(item.body)
    md = dict(body["metadata"])
    md.update(
        uid=uid,
        revision=revision,
        createdAt=created,
        updatedAt=updated,
        contentHash=item.content_hash,
    )
    body["metadata"] = md
    body["status"] = orjson.loads(status) if status else {}
    body.pop("apiVersion", None)
    return Entry.model_validate(body)


def _reason(exc: Exception) -> str:
    """A one-line reason for a database failure, without SQL or parameters."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return text[:200]
