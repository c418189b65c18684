"""Time-ordered identifiers and timestamps."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> str:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a counter and random bits.

    Identifiers made in one process increase monotonically, so new rows append to
    the end of an index instead of landing at random places in it.
    """
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = 0
        else:
            _counter = 0
        _last_ms = ms
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= rand
    return str(uuid.UUID(int=value))


def uuid7_many(n: int) -> list[str]:
    """``n`` UUIDv7s at once (one lock and one read of random bytes), in increasing order."""
    global _last_ms, _counter
    if n <= 0:
        return []
    stamps: list[int] = []
    with _lock:
        ms = time.time_ns() // 1_000_000
        counter = _counter
        if ms <= _last_ms:
            ms = _last_ms
        else:
            counter = -1
        for _ in range(n):
            counter += 1
            if counter > 0xFFF:
                ms += 1
                counter = 0
            stamps.append(((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (counter << 64))
        _last_ms, _counter = ms, counter
    rand = os.urandom(8 * n)
    out = []
    mask = (1 << 62) - 1
    for i, stamp in enumerate(stamps):
        value = stamp | (0b10 << 62) | (int.from_bytes(rand[8 * i : 8 * i + 8], "big") & mask)
        h = f"{value:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC with microseconds; its text order is its time order."""
    moment = moment or utcnow()
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
