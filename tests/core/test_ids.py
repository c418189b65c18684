"""Time-ordered identifiers: one at a time or many at once, always increasing."""

from __future__ import annotations

import uuid

from hyper_registry.core.ids import uuid7, uuid7_many


def test_uuid7_many_are_valid_increasing_and_interleave_with_uuid7() -> None:
    ids = [uuid7(), *uuid7_many(5000), uuid7(), *uuid7_many(3), *uuid7_many(0)]
    assert len(ids) == 5005
    assert ids == sorted(ids)  # the text order is the time order
    assert len(set(ids)) == len(ids)
    for text in ids:
        value = uuid.UUID(text)
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert str(value) == text
