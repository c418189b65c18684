"""What the ingest benchmarks share: the messages, the plain-driver ceiling, peak memory.

Messages: N changes as ``{"id", "op": "apply", "document"}`` lines (≈ 600 bytes), 60 %
models and 40 % datasets across 20 namespaces, each with two relations (model:
``trainedOn`` a dataset and ``derivedFrom`` a model; dataset: ``derivedFrom`` two
datasets), one version per name, generated as a stream (never all in memory).

Ceiling: the least any implementation must do with the same input: parse each line
(orjson), build its entry row (time-ordered uid, key columns, version key, the
document as JSON text, its hash) and its relation rows, and insert them with a plain
driver ``executemany``, one transaction per batch of the same size, same PRAGMAs
(SQLite: WAL, ``synchronous=FULL``) into the registry's own tables.
"""

from __future__ import annotations

import hashlib
import resource
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from _common import SQLITE_PRAGMAS
from hyper_registry.core import relations as vocab
from hyper_registry.core.ids import timestamp, uuid7
from hyper_registry.core.versioning import Versioning, version_key
from hyper_registry.store.checkpoint import Checkpointer

NAMESPACES = [f"team-{i:02d}" for i in range(20)]
ENTRY_COLS = (
    "uid", "ref_key", "kind", "namespace", "name", "version", "version_key", "owner",
    "title", "body", "status", "revision", "content_hash", "created_at", "updated_at",
)  # fmt: skip
RELATION_COLS = (
    "owner_id", "declared", "type", "impact_fwd", "origin",
    "src_kind", "src_ns", "src_name", "src_ver", "src_id",
    "dst_kind", "dst_ns", "dst_name", "dst_ver", "dst_id",
    "src_pinned", "dst_pinned",
)  # fmt: skip


def document(i: int) -> dict[str, Any]:
    ns = NAMESPACES[i % len(NAMESPACES)]
    other = NAMESPACES[(i * 7) % len(NAMESPACES)]
    if i % 5 < 3:
        return {
            "apiVersion": "hyper-registry/v1",
            "kind": "model",
            "metadata": {
                "namespace": ns,
                "name": f"model-{i}",
                "version": "1.0.0",
                "title": f"Model {i}",
                "description": "Gradient-boosted classifier scoring card transactions.",
                "owner": f"owner-{i % 97}",
                "labels": {"tier": "gold" if i % 2 else "silver", "team": ns},
                "tags": ["xgboost", "pci"],
            },
            "spec": {"framework": "xgboost"},
            "relations": [
                {"type": "trainedOn", "target": f"dataset:{other}/dataset-{(i * 31) % 100_003}"},
                {"type": "derivedFrom", "target": f"model:{other}/model-{(i * 17) % 99_991}@1.0.0"},
            ],
        }
    return {
        "apiVersion": "hyper-registry/v1",
        "kind": "dataset",
        "metadata": {
            "namespace": ns,
            "name": f"dataset-{i}",
            "version": "2024-06",
            "title": f"Dataset {i}",
            "description": "Card transactions, one row per authorisation, PII removed.",
            "owner": f"owner-{i % 97}",
            "labels": {"domain": "payments", "team": ns},
            "tags": ["parquet"],
        },
        "spec": {},
        "relations": [
            {"type": "derivedFrom", "target": f"dataset:{other}/dataset-{(i * 13) % 100_003}"},
            {"type": "derivedFrom", "target": f"dataset:{ns}/dataset-{(i * 29) % 100_019}"},
        ],
    }


def line(i: int) -> bytes:
    return orjson.dumps({"id": f"evt-{i:012d}", "op": "apply", "document": document(i)})


def lines(n: int) -> Iterator[bytes]:
    for i in range(n):
        yield line(i)


def _split(ref: str) -> tuple[str, str, str, str]:
    kind, rest = ref.split(":", 1)
    ns, rest = rest.split("/", 1)
    name, _, ver = rest.partition("@")
    return kind, ns, name, ver


class CeilingRows:
    """Per line: parse, then the entry row and relation rows the registry would store."""

    def __init__(self, first_id: int = 1) -> None:
        self.next_id = first_id
        self.now = datetime.now(UTC)
        self.now_s = timestamp(self.now)
        self.stored: set[tuple[str, str, str, str]] = set()

    def rows(self, raw: bytes) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        doc = orjson.loads(raw)["document"]
        md = doc["metadata"]
        kind = doc["kind"]
        ref_key = f"{kind}:{md['namespace']}/{md['name']}@{md['version']}"
        body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
        entry_id = self.next_id
        self.next_id += 1
        versioning: Versioning = "semver" if kind == "model" else "time"
        entry = (
            entry_id, uuid7(), ref_key, kind, md["namespace"], md["name"], md["version"],
            version_key(versioning, md["version"], self.now), md.get("owner"), md.get("title"),
            body.decode(), "{}", 1, "sha256:" + hashlib.sha256(body).hexdigest(),
            self.now_s, self.now_s,
        )  # fmt: skip
        me = (kind, md["namespace"], md["name"], md["version"])
        stored = self.stored

        def pinned(ref: tuple[str, str, str, str]) -> bool:
            return bool(ref[3]) and ref in stored

        rels = []
        for r in doc.get("relations", ()):
            looked = vocab.lookup(r["type"])
            assert looked is not None
            rtype, canonical = looked
            dst = _split(r["target"])
            src, dst = (me, dst) if canonical else (dst, me)
            rels.append(
                (
                    entry_id, r["type"], rtype.name, rtype.impact == "forward", "declared",
                    *src, entry_id if canonical else None,
                    *dst, None if canonical else entry_id,
                    # Pinned (out of the name indexes), as the registry stores it: the
                    # owner's end, and an exact version stored already.
                    canonical or pinned(src), not canonical or pinned(dst),
                )
            )  # fmt: skip
        stored.add(me)
        return entry, rels


def insert_sql(mark: str) -> tuple[str, str]:
    cols_e = ("id", *ENTRY_COLS)
    ins_e = f"INSERT INTO entries ({', '.join(cols_e)}) VALUES ({', '.join([mark] * len(cols_e))})"
    ins_r = (
        f"INSERT INTO relations ({', '.join(RELATION_COLS)}) "
        f"VALUES ({', '.join([mark] * len(RELATION_COLS))})"
    )
    return ins_e, ins_r


class SqliteCeiling:
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in SQLITE_PRAGMAS:
            self.conn.execute(pragma)
        self.ins_e, self.ins_r = insert_sql("?")
        self.checkpointer = Checkpointer(path)  # as the registry's store does

    def write(self, entries: Sequence[tuple[Any, ...]], rels: Sequence[tuple[Any, ...]]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(self.ins_e, entries)
        self.conn.executemany(self.ins_r, rels)
        self.conn.execute("COMMIT")
        self.checkpointer.nudge()

    def close(self) -> None:
        self.checkpointer.close()
        self.conn.close()


class PgCeiling:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url)
        self.ins_e, self.ins_r = insert_sql("%s")

    def write(self, entries: Sequence[tuple[Any, ...]], rels: Sequence[tuple[Any, ...]]) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(self.ins_e, entries)
            cur.executemany(self.ins_r, rels)

    def close(self) -> None:
        self.conn.close()


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB (Linux reports KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
