"""The write half of the SQL store: one batch of prepared changes in one transaction.

For each segment of a batch (a segment names every entry at most once): look up the
existing rows, decide each item (create, update, unchanged, delete or a refusal),
then insert and update entries in bulk, replace the relations of written entries,
move aliases, re-resolve the relation ends that may have moved, and append the
change-log rows, all on the caller's connection and inside its transaction.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import Any

import orjson
import sqlalchemy as sa

from hyper_registry.core import relations as vocab
from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import (
    AlreadyExists,
    Conflict,
    HyperRegistryError,
    ItemError,
    NotFound,
)
from hyper_registry.core.ids import timestamp, utcnow, uuid7, uuid7_many
from hyper_registry.core.ref import Ref
from hyper_registry.core.versioning import time_key, version_key_at
from hyper_registry.store import resolve
from hyper_registry.store.base import PreparedWrite, WriteResult
from hyper_registry.store.rows import CHUNK, dumps, row_to_entry
from hyper_registry.store.schema import aliases, changes, entries, relations


def write_segments(
    conn: sa.Connection, items: Sequence[PreparedWrite], actor: str
) -> list[WriteResult | ItemError]:
    # Changes to one entry apply in order: a batch that names an entry twice is cut
    # into segments in which every entry appears once, applied one after the other.
    out: list[WriteResult | ItemError] = []
    start = 0
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.ref_key in seen:
            out.extend(_write_segment(conn, items[start:i], start, actor))
            start, seen = i, set()
        seen.add(item.ref_key)
    out.extend(_write_segment(conn, items[start:], start, actor))
    return out


_EXISTING_COLS = (
    "id", "uid", "ref_key", "kind", "namespace", "name", "version", "revision", "content_hash",
    "created_at", "body", "status", "updated_at",
)  # fmt: skip
_ExistingRow: Any = namedtuple("_ExistingRow", _EXISTING_COLS)  # type: ignore[misc]


def raw_cursor(conn: sa.Connection) -> Any:
    """A DBAPI cursor on ``conn``'s connection, inside its transaction (SQLite only).

    On SQLite the writer's statements run through it: SQLAlchemy's per-statement
    machinery costs several times what SQLite takes to run a small statement.
    """
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _existing(conn: sa.Connection, keys: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if conn.dialect.name == "sqlite":
        cur = raw_cursor(conn)
        cols = ", ".join(_EXISTING_COLS)
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i : i + CHUNK]
            sql = f"SELECT {cols} FROM entries WHERE ref_key IN ({', '.join('?' * len(chunk))})"
            for raw in cur.execute(sql, chunk):
                existing: Any = _ExistingRow(*raw)
                found[existing.ref_key] = existing
        return found
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
    conn: sa.Connection, items: Sequence[PreparedWrite], offset: int, actor: str
) -> list[WriteResult | ItemError]:
    if not items:
        return []
    now = utcnow()
    now_s = timestamp(now)
    existing = _existing(conn, [it.ref_key for it in items])
    # SQLite: the writer holds the only write lock (BEGIN IMMEDIATE), so the keys this
    # segment assigns follow the current maxima, read once (one statement, not three).
    tops = _sqlite_tops(conn) if conn.dialect.name == "sqlite" else None
    time_prefix = time_key(now)[:-6]
    uids = iter(uuid7_many(sum(1 for it in items if it.ref_key not in existing)))
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
            uid = next(uids, None) or uuid7()
            inserts.append(
                {
                    "uid": uid,
                    "ref_key": item.ref_key,
                    "kind": item.ref.kind,
                    "namespace": item.ref.namespace,
                    "name": item.ref.name,
                    "version": item.ref.version,
                    "version_key": version_key_at(
                        item.versioning, item.ref.version or "", time_prefix, pos
                    ),
                    "owner": item.owner,
                    "title": item.title,
                    "body": item.body_json,
                    "status": dumps(item.status) if item.status else "{}",
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
                    "status": _merged_status(row.status, item.status),
                    "content_hash": item.content_hash,
                    "updated_at": now_s,
                }
            )
            update_items.append((index, item, row))

    change_rows: list[dict[str, Any]] = []
    change_targets: list[
        WriteResult | None
    ] = []  # None: a row that reports no result (alias moves)
    relation_rows: list[dict[str, Any]] = []
    touched_names: set[str] = set()
    gone_ids: list[int] = []

    # Inserts, with their new ids.
    if inserts:
        ids = _insert_keyed(conn, entries, entries.c.id, inserts, tops[0] if tops else None)
        for (index, item, uid), entry_id, params in zip(insert_items, ids, inserts, strict=True):
            res = WriteResult(
                index, item.ref, "created", uid, 1,
                build=EntryBuild(item, uid, 1, params["created_at"], now_s, params["status"]),
            )  # fmt: skip
            results.append(res)
            change_rows.append(_change(now_s, actor, "create", item, uid, 1))
            change_targets.append(res)
            for op, extra in item.records:
                change_rows.append(_change(now_s, actor, op, item, uid, 1, extra))
                change_targets.append(None)
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
                status=sa.bindparam("status"),
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
            status = by_id[row.id]["status"]
            res = WriteResult(
                index, item.ref, "updated", row.uid, rev,
                build=EntryBuild(item, row.uid, rev, row.created_at, now_s, status),
            )  # fmt: skip
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
            res = WriteResult(
                index, item.ref, "deleted", row.uid, row.revision, build=partial(row_to_entry, row)
            )
            results.append(res)
            detail = {"aliasesRemoved": sorted(dropped)} if dropped else None
            change_rows.append(_change(now_s, actor, "delete", item, row.uid, row.revision, detail))
            change_targets.append(res)
            touched_names.add(row.name)
            gone_ids.append(row.id)

    # Aliases claimed by the written documents move to their versions.
    for _index, item, _uid_or_row in [*insert_items, *update_items]:
        for alias in item.aliases:
            moved = move_alias(conn, item.ref, alias, item.actor or actor, now_s)
            if moved is not None:
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
                        "detail": dumps(
                            {"alias": alias, "to": item.ref.version, "from": moved or None}
                        ),
                    }
                )
                change_targets.append(None)

    # Relations, then their ends resolved to ids.
    # New rows are resolved before they are inserted (every entry, alias and deletion of
    # this segment is in place by now); stored rows naming a touched name afterwards.
    below_id: int | None = None
    if relation_rows:
        _resolve_new(conn, relation_rows)
        if tops is not None:
            # The writer holds SQLite's only write lock: our rows get ids above this one,
            # and re-resolving stored rows can leave them out.
            below_id = tops[1] + 1
        _insert_plain(conn, relations, relation_rows)
    if touched_names:
        resolve.resolve_names(conn, touched_names, gone_ids=gone_ids, below_id=below_id)

    # The change log, in the same transaction.
    if change_rows:
        seqs = _insert_keyed(conn, changes, changes.c.seq, change_rows, tops[2] if tops else None)
        for target, seq in zip(change_targets, seqs, strict=True):
            if target is not None and target.seq is None:
                target.seq = seq

    results.sort(key=lambda r: r.index)
    return results


def _insert_plain(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert positional rows with the driver itself, without SQLAlchemy's per-row
    parameter processing (the values are already plain str/int/bool/None): one
    ``executemany`` on SQLite, ``COPY`` for many rows on PostgreSQL."""
    cols = list(rows[0])
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    head = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
    one = f"({', '.join([mark] * len(cols))})"
    sql = head + one
    values = list(map(itemgetter(*cols), rows)) if len(cols) > 1 else [(r[cols[0]],) for r in rows]
    if conn.dialect.name == "sqlite":
        # Many rows per statement rather than one executemany step per row: each step
        # releases and takes back the GIL, and a commit thread that must take it back
        # from a busy event loop waits for it every time (measured: 33 statements per
        # group commit of 8 creates before, 12 now).
        cur = raw_cursor(conn)
        per = SQLITE_MAX_PARAMS // len(cols)
        for i in range(0, len(values), per):
            chunk = values[i : i + per]
            cur.execute(head + ", ".join([one] * len(chunk)), list(chain.from_iterable(chunk)))
    elif len(values) >= COPY_MIN and conn.dialect.driver == "psycopg":
        # PostgreSQL takes many rows fastest through COPY (measured: 81-88K rows/s against
        # 50-60K for executemany), inside the same transaction.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(sql, values)


COPY_MIN = 50
"""Rows from which an insert on PostgreSQL goes through ``COPY``."""

SQLITE_MAX_PARAMS = 999
"""Parameters per multi-row INSERT on SQLite: the limit of SQLite builds before 3.32
(58 rows of the widest table, ``relations``; measured on 100,000 rows of 16 columns:
60-100 rows per statement about 15 % faster than executemany)."""


_TOPS = (
    "SELECT (SELECT COALESCE(MAX(id), 0) FROM entries), "
    "(SELECT COALESCE(MAX(id), 0) FROM relations), (SELECT COALESCE(MAX(seq), 0) FROM changes)"
)


def _sqlite_tops(conn: sa.Connection) -> tuple[int, int, int]:
    """The largest entry id, relation id and change sequence number (SQLite)."""
    e, r, c = raw_cursor(conn).execute(_TOPS).fetchone()
    return int(e), int(r), int(c)


def _insert_keyed(
    conn: sa.Connection,
    table: sa.Table,
    key: sa.Column[Any],
    rows: list[dict[str, Any]],
    top: int | None = None,
) -> list[int]:
    """Insert ``rows`` and return their generated keys, in order.

    SQLite cannot return keys of a multi-row insert in order (SQLAlchemy falls back to
    one INSERT ... RETURNING per row). The writer holds the database's write lock
    (BEGIN IMMEDIATE), so the keys are assigned here: ``top`` (the largest key, read by
    the caller under that lock) + 1, + 2, ...
    """
    if conn.dialect.name == "sqlite":
        assert top is not None
        keys = list(range(top + 1, top + 1 + len(rows)))
        _insert_plain(conn, table, [{key.name: k, **r} for r, k in zip(rows, keys, strict=True)])
        return keys
    # PostgreSQL: the keys are drawn from the column's sequence in one statement, then
    # the rows inserted with them (through COPY when there are many).
    keys = sorted(
        int(k)
        for k in conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', '{key.name}')) "
            f"FROM generate_series(1, {len(rows)})"
        ).scalars()
    )
    _insert_plain(conn, table, [{key.name: k, **r} for r, k in zip(rows, keys, strict=True)])
    return keys


def move_alias(conn: sa.Connection, ref: Ref, alias: str, actor: str, now_s: str) -> str | None:
    """Point ``alias`` at ``ref``'s version; returns the old version ('' if new), None if unmoved."""
    if conn.dialect.name == "sqlite":
        return _move_alias_sqlite(raw_cursor(conn), ref, alias, actor, now_s)
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


def _move_alias_sqlite(cur: Any, ref: Ref, alias: str, actor: str, now_s: str) -> str | None:
    # The same statements as below, without SQLAlchemy building them for every alias.
    key = (ref.kind, ref.namespace, ref.name, alias)
    row = cur.execute(
        "SELECT version FROM aliases WHERE kind = ? AND namespace = ? AND name = ? AND alias = ?",
        key,
    ).fetchone()
    current = row[0] if row is not None else None
    if current == ref.version:
        return None
    if current is None:
        cur.execute(
            "INSERT INTO aliases (kind, namespace, name, alias, version, updated_at, actor) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*key, ref.version, now_s, actor),
        )
        return ""
    cur.execute(
        "UPDATE aliases SET version = ?, updated_at = ?, actor = ? "
        "WHERE kind = ? AND namespace = ? AND name = ? AND alias = ?",
        (ref.version, now_s, actor, *key),
    )
    return str(current)


def replayable(result: WriteResult | ItemError) -> dict[str, Any]:
    assert isinstance(result, WriteResult)
    data = result.to_dict()
    data["entry"] = result.entry.to_dict() if result.entry is not None else None
    return data


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


def _resolve_new(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Fill in the unresolved ends of new relation rows (see resolve.resolve_refs)."""
    wanted: list[resolve.RefKey] = []
    for r in rows:
        if r["src_id"] is None:
            wanted.append((r["src_kind"], r["src_ns"], r["src_name"], r["src_ver"]))
        if r["dst_id"] is None:
            wanted.append((r["dst_kind"], r["dst_ns"], r["dst_name"], r["dst_ver"]))
    found = resolve.resolve_refs(conn, wanted)
    for r in rows:
        if r["src_id"] is None:
            key = (r["src_kind"], r["src_ns"], r["src_name"], r["src_ver"])
            r["src_id"], r["src_pinned"] = found[key]
        if r["dst_id"] is None:
            key = (r["dst_kind"], r["dst_ns"], r["dst_name"], r["dst_ver"])
            r["dst_id"], r["dst_pinned"] = found[key]


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
                # The owner's own end names its exact version: pinned.
                "src_pinned": canonical,
                "dst_pinned": not canonical,
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
        "detail": dumps(detail) if detail else None,
    }


@dataclass(frozen=True)
class EntryBuild:
    """How a written entry is built when someone asks for it (``WriteResult.entry``): from
    the prepared write and what the store assigned. ``values`` is everything but the item
    (a writer process sends only these back; the caller holds the item)."""

    item: PreparedWrite
    uid: str
    revision: int
    created: str
    updated: str
    status: str

    def __call__(self) -> Entry:
        item = self.item
        assert item.body_json is not None
        body = dict(item.body) if item.body is not None else orjson.loads(item.body_json)
        md = dict(body["metadata"])
        md.update(
            uid=self.uid,
            revision=self.revision,
            createdAt=self.created,
            updatedAt=self.updated,
            contentHash=item.content_hash,
        )
        body["metadata"] = md
        body["status"] = orjson.loads(self.status) if self.status else {}
        body.pop("apiVersion", None)
        return Entry.model_validate(body)

    @property
    def values(self) -> tuple[str, int, str, str, str]:
        return self.uid, self.revision, self.created, self.updated, self.status


def _merged_status(stored: str | None, derived: dict[str, Any] | None) -> str | None:
    """The stored status with the derived keys of a new content replacing theirs."""
    if not derived:
        return stored
    status = orjson.loads(stored) if stored else {}
    status.update(derived)
    return dumps(status)


def set_status_key(conn: sa.Connection, uid: str, key: str, value: Any) -> None:
    """Set ``status[key]`` of the entry ``uid`` on ``conn`` (inside the caller's transaction).

    For kinds' ``in_transaction`` hooks whose status depends on more than the document
    (status from the document alone belongs in ``KindSpec.status_of``): it lands with the
    write itself, with no change-log row of its own (the write's row covers it).
    """
    current = conn.execute(sa.select(entries.c.status).where(entries.c.uid == uid)).scalar()
    status = orjson.loads(current) if current else {}
    if status.get(key) == value:
        return
    status[key] = value
    conn.execute(entries.update().where(entries.c.uid == uid).values(status=dumps(status)))
