"""Field types and helpers the kinds share.

Validation errors raised here are ``PydanticCustomError``: the error ``type`` is a
short code (``bad-choice``, ``bad-ref-kind``, ...) and the message is plain text
without Pydantic's "Value error, " prefix, so a caller can turn each error into a
:class:`~hyper_registry.core.errors.Problem` as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Annotated, Any, TypeVar, get_args

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import ImpliedRelation
from hyper_registry.core.ref import Ref, name_problem

T = TypeVar("T")

Loc = tuple[str | int, ...]

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def invalid(code: str, message: str) -> PydanticCustomError:
    """A validation error with a plain message (no "Value error, " prefix)."""
    # Without a context Pydantic does not format the template, so user text shows as written.
    return PydanticCustomError(code, message)


def choice(what: str, literal: Any) -> BeforeValidator:
    """Refuse a value outside ``literal``'s values with a message that names them all."""
    allowed: tuple[Any, ...] = get_args(literal)

    def check(value: Any) -> Any:
        if not isinstance(value, str) or value not in allowed:
            listed = ", ".join(str(a) for a in allowed)
            raise invalid("bad-choice", f"{what} {value!r} is not one of: {listed}")
        return value

    return BeforeValidator(check)


def named(what: str, max_len: int = 253) -> AfterValidator:
    """A string following the registry's name grammar (lowercase, digits, '-', '_', '.')."""

    def check(value: str) -> str:
        problem = name_problem(value, what, max_len)
        if problem:
            raise invalid("bad-name", problem)
        return value

    return AfterValidator(check)


def a(word: str) -> str:
    """``word`` with its indefinite article: "a model", "an infra"."""
    return f"{'an' if word[:1] in ('a', 'e', 'i', 'o', 'u') else 'a'} {word}"


def ref_to(*kinds: str) -> AfterValidator:
    """A reference that must point at one of ``kinds``."""

    def check(value: Ref) -> Ref:
        if value.kind not in kinds:
            wanted = " or ".join(kinds)
            raise invalid(
                "bad-ref-kind",
                f"reference {str(value)!r} must point at {a(wanted)}, not {a(value.kind)}",
            )
        return value

    return AfterValidator(check)


def _digest(value: str) -> str:
    if not _DIGEST.fullmatch(value):
        raise invalid(
            "bad-digest", f"digest {value!r} must be 'sha256:' followed by 64 lowercase hex digits"
        )
    return value


def max_bytes(what: str, limit: int) -> AfterValidator:
    """A string whose UTF-8 encoding is at most ``limit`` bytes."""

    def check(value: str) -> str:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise invalid("too-large", f"{what} is {size} bytes; the limit is {limit} bytes")
        return value

    return AfterValidator(check)


Digest = Annotated[str, AfterValidator(_digest)]
"""A content digest: ``sha256:`` and 64 lowercase hex digits."""

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite JSON number (integers accepted); strings and booleans are refused."""

Ratio = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
"""A finite number in 0..1."""

Text = Annotated[str, Field(min_length=1, max_length=1024)]
"""A short non-empty free text."""

LongText = Annotated[str, Field(max_length=65536)]
"""A long free text (descriptions, details)."""


def duplicates(
    items: Sequence[T], loc: Loc, what: str, key: Callable[[T], Hashable] = lambda x: x
) -> Iterator[Problem]:
    """A problem for every item whose key already appeared earlier in ``items``."""
    first: dict[Hashable, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in first:
            where = Problem((*loc, first[k]), "").path
            yield Problem(
                (*loc, i), f"{what} {str(k)!r} is listed twice (first at {where})", "duplicate"
            )
        else:
            first[k] = i


def unique_relations(relations: Iterable[ImpliedRelation]) -> Iterator[ImpliedRelation]:
    """Relations with repeats of the same (type, target) dropped; the first one's loc is kept."""
    seen: set[tuple[str, Ref]] = set()
    for rel in relations:
        key = (rel.type, rel.target)
        if key not in seen:
            seen.add(key)
            yield rel


def is_self(ref: Ref, kind: str, namespace: str, name: str, version: str) -> bool:
    """Whether ``ref`` names exactly this document (same kind, name and version)."""
    return (ref.kind, ref.namespace, ref.name, ref.version) == (kind, namespace, name, version)
