"""Durations written as text with a unit: ``250ms``, ``30s``, ``5m``, ``1h``, ``1m30s``.

Specs keep the user's text; code that needs a number calls :func:`parse_duration`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hyper_registry.kinds.common import invalid

_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)m(?!s))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?"
    r"(?:(?P<ms>\d+(?:\.\d+)?)ms)?"
)
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}

UNITS_HINT = "a number and a unit (ms, s, m, h), like 250ms, 30s, 5m, 1h or 1m30s"


def parse_duration(text: str) -> float:
    """The number of seconds in ``text``; raises ``ValueError`` when it is not a duration."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) and len(text) <= 64 else None
    if not text or match is None:
        raise ValueError(f"{text!r} is not a duration: use {UNITS_HINT}")
    return sum(float(v) * _SECONDS[unit] for unit, v in match.groupdict().items() if v)


def format_seconds(seconds: float) -> str:
    """A short text for a number of seconds (for messages): ``30s``, ``250ms``, ``5m``."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def duration_check(what: str, minimum: float, maximum: float) -> Callable[[str], str]:
    """A validator for a duration field with bounds in seconds (the text is kept as written)."""

    def check(value: str) -> str:
        try:
            seconds = parse_duration(value)
        except ValueError:
            raise invalid(
                "bad-duration", f"{what} {value!r} is not a duration: use {UNITS_HINT}"
            ) from None
        if seconds < minimum:
            raise invalid(
                "bad-duration",
                f"{what} {value} is shorter than the minimum {format_seconds(minimum)}",
            )
        if seconds > maximum:
            raise invalid(
                "bad-duration",
                f"{what} {value} is longer than the maximum {format_seconds(maximum)}",
            )
        return value

    return check
