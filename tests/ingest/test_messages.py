"""Decoding messages: the envelope, bare documents, and every way a message is refused."""

from __future__ import annotations

import orjson

from hyper_registry.ingest.messages import Change, DeadLetter, Raw, decode

from .conftest import apply_msg, delete_msg, model_doc


def dec(data: bytes, broker_id: str | None = None, max_bytes: int = 10_000) -> Change | DeadLetter:
    return decode(Raw(data, "line 7", broker_id), 0, max_bytes)


def test_apply_envelope() -> None:
    c = dec(apply_msg("e1", model_doc("m")))
    assert isinstance(c, Change)
    assert (c.event_id, c.op, c.namespace) == ("e1", "apply", "team-a")
    assert c.document is not None and c.document["metadata"]["name"] == "m"


def test_op_defaults_to_apply_and_delete_carries_a_ref() -> None:
    c = dec(orjson.dumps({"id": "e", "document": model_doc("m")}))
    assert isinstance(c, Change) and c.op == "apply"
    d = dec(delete_msg("e2", "model:team-b/m@1.0.0"))
    assert isinstance(d, Change)
    assert (d.op, d.ref, d.namespace) == ("delete", "model:team-b/m@1.0.0", "team-b")


def test_bare_document_takes_the_broker_id() -> None:
    c = dec(orjson.dumps(model_doc("m")), broker_id="nats:S:4")
    assert isinstance(c, Change) and c.event_id == "nats:S:4" and c.op == "apply"
    assert isinstance(dec(orjson.dumps(model_doc("m"))), Change)


def test_explicit_id_wins_over_the_broker_id() -> None:
    c = dec(apply_msg("mine", model_doc("m")), broker_id="redis:k:1-0")
    assert isinstance(c, Change) and c.event_id == "mine"


def test_not_json_names_the_line() -> None:
    d = dec(b'{"id": ')
    assert isinstance(d, DeadLetter)
    assert d.code == "not-json" and "line 7" in d.reason


def test_wrong_shapes() -> None:
    cases = [
        b"[1, 2]",
        orjson.dumps({"id": "e", "op": "upsert", "document": {}}),
        orjson.dumps({"id": "e", "op": "apply", "document": "x"}),
        orjson.dumps({"id": "e", "op": "delete", "ref": 5}),
        orjson.dumps({"id": "e", "op": "delete", "ref": "model:a/b@1.0.0", "document": {}}),
        orjson.dumps({"id": 5, "document": {}}),
        orjson.dumps({"id": "", "document": {}}),
        orjson.dumps({"id": "x" * 256, "document": {}}),
        orjson.dumps({"id": "e", "document": {}, "extra": 1}),
    ]
    for data in cases:
        d = dec(data)
        assert isinstance(d, DeadLetter), data
        assert d.code == "bad-shape", (data, d.reason)
        assert "line 7" in d.reason


def test_oversized_is_refused_before_parsing() -> None:
    d = dec(b"{" + b" " * 200 + b"}", max_bytes=100)
    assert isinstance(d, DeadLetter) and d.code == "too-large"
    assert "202 bytes" in d.reason and "100" in d.reason
    # A message of which only the head was kept reports its real size.
    d2 = decode(Raw(b"{", "line 1", oversize=5_000_000), 0, 100)
    assert isinstance(d2, DeadLetter) and "5000000 bytes" in d2.reason
