"""Turning Pydantic validation errors into domain problems with field paths."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from hyper_registry.core.errors import Problem


def problems_from(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        kind = err["type"]
        msg = str(err["msg"])
        if kind == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}" if loc else "unknown field"
            code = "unknown-field"
        elif kind == "missing":
            msg = "this field is required"
            code = "missing"
        else:
            code = kind.replace("_", "-")
            for noise in ("Value error, ", "Assertion failed, "):
                if msg.startswith(noise):
                    msg = msg[len(noise) :]
        out.append(Problem((*prefix, *loc), msg, code))
    return out
