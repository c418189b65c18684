"""The message format: one change (apply or delete) with an event id, one JSON object.

    {"id": "ci-4711-1", "op": "apply", "document": {"apiVersion": "hyper-registry/v1", ...}}
    {"id": "ci-4711-2", "op": "delete", "ref": "model:risk/fraud@2.0.0"}

``op`` defaults to ``apply``. A bare document (an object with ``apiVersion``/``kind``
and no ``document`` key) is an apply without an event id. Without ``id`` a broker
message takes the broker's own id (NATS stream sequence, Redis entry id, Kafka
partition offset), which a redelivery keeps; a file line has none and is not
deduplicated (an apply of the same content is "unchanged" anyway).

Decoding is deliberately cheap: one ``orjson.loads`` and a few key checks per message;
the document itself is validated by the write pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from hyper_registry.ingest.tables import EVENT_ID_MAX

Op = Literal["apply", "delete"]
ENVELOPE_KEYS = frozenset({"id", "op", "document", "ref"})


@dataclass(slots=True)
class Raw:
    """A message as it arrived: its bytes, where it came from, and the broker's handle."""

    data: bytes
    position: str | None = None  # "line 12", "stream seq 4711", "1700000000000-0"
    broker_id: str | None = None  # the fallback event id a redelivery keeps
    handle: Any = None  # what the source needs to acknowledge it
    oversize: int = 0  # the real size when ``data`` holds only the head of a huge message
    scope: str | None = None  # the broker stream (or partition) whose positions are ordered
    order: str | None = None  # the position in ``scope``, as text that sorts in stream order


@dataclass(slots=True)
class Change:
    index: int
    event_id: str | None
    op: Op
    document: dict[str, Any] | None
    ref: str | None
    namespace: str | None


@dataclass(slots=True)
class DeadLetter:
    index: int
    code: str
    reason: str
    event_id: str | None = None
    namespace: str | None = None


def _where(raw: Raw) -> str:
    return f" ({raw.position})" if raw.position else ""


def _namespace_of_doc(doc: dict[str, Any]) -> str | None:
    md = doc.get("metadata")
    ns = md.get("namespace") if isinstance(md, dict) else None
    return ns if isinstance(ns, str) and len(ns) <= 63 else None


def _namespace_of_ref(ref: str) -> str | None:
    _, colon, rest = ref.partition(":")
    if not colon:
        return None
    ns, slash, _ = rest.partition("/")
    return ns if slash and ns and len(ns) <= 63 else None


def decode_batch(
    batch: Sequence[Raw], max_bytes: int
) -> tuple[list[Change | DeadLetter], list[dict[str, Any]]]:
    """Every message decoded, and one document per message for the bulk prepare worker
    (an empty one for a message that is not an apply: refused there, never looked at), so
    the worker's answers line up with the batch's positions."""
    decoded = [decode(raw, i, max_bytes) for i, raw in enumerate(batch)]
    docs = [
        d.document if isinstance(d, Change) and isinstance(d.document, dict) else {}
        for d in decoded
    ]
    return decoded, docs


def decode(raw: Raw, index: int, max_bytes: int) -> Change | DeadLetter:
    """One message to a change, or to the reason it is a dead letter."""
    where = _where(raw)
    size = raw.oversize or len(raw.data)
    if size > max_bytes:
        return DeadLetter(
            index,
            "too-large",
            f"the message is {size} bytes; the limit is {max_bytes}{where}",
            raw.broker_id,
        )
    try:
        obj = orjson.loads(raw.data)
    except orjson.JSONDecodeError as exc:
        return DeadLetter(
            index, "not-json", f"not JSON{where}: {exc.msg} at column {exc.colno}", raw.broker_id
        )
    if not isinstance(obj, dict):
        return DeadLetter(
            index, "bad-shape", f"a message must be a JSON object{where}", raw.broker_id
        )
    if "document" not in obj and "op" not in obj and "ref" not in obj:
        # A bare document: an apply without an event id of its own.
        return Change(index, raw.broker_id, "apply", obj, None, _namespace_of_doc(obj))
    extra = [k for k in obj if k not in ENVELOPE_KEYS]
    event_id = obj.get("id", raw.broker_id)
    if event_id is not None and (
        not isinstance(event_id, str) or not 0 < len(event_id) <= EVENT_ID_MAX
    ):
        return DeadLetter(
            index,
            "bad-shape",
            f"id must be a string of 1 to {EVENT_ID_MAX} characters{where}",
            raw.broker_id,
        )
    if extra:
        return DeadLetter(
            index,
            "bad-shape",
            f"unknown key(s) {', '.join(sorted(extra))}; a message has id, op, "
            f"document (apply) or ref (delete){where}",
            event_id,
        )
    op = obj.get("op", "apply")
    if op == "apply":
        doc = obj.get("document")
        if not isinstance(doc, dict) or "ref" in obj:
            return DeadLetter(
                index,
                "bad-shape",
                f"an apply carries a document object and no ref{where}",
                event_id,
            )
        return Change(index, event_id, "apply", doc, None, _namespace_of_doc(doc))
    if op == "delete":
        ref = obj.get("ref")
        if not isinstance(ref, str) or "document" in obj:
            return DeadLetter(
                index,
                "bad-shape",
                f"a delete carries a ref string (kind:namespace/name@version) and no document{where}",
                event_id,
            )
        return Change(index, event_id, "delete", None, ref, _namespace_of_ref(ref))
    return DeadLetter(
        index, "bad-shape", f"op must be apply or delete, not {str(op)[:40]!r}{where}", event_id
    )


def encode_apply(event_id: str, document: dict[str, Any]) -> bytes:
    return orjson.dumps({"id": event_id, "op": "apply", "document": document})


def encode_delete(event_id: str, ref: str) -> bytes:
    return orjson.dumps({"id": event_id, "op": "delete", "ref": ref})
