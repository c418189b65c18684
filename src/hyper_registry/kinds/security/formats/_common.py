"""Shared helpers of the format layer: limits, locations, purl splitting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hyper_registry.core.errors import Invalid, Problem, TooLarge
from hyper_registry.kinds.security.parsed import Component, Note

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_PROBLEMS = 50
"""At most this many schema problems are reported for one document."""


def check_size(data: bytes, max_bytes: int, what: str = "document") -> None:
    if len(data) > max_bytes:
        raise TooLarge(f"the {what} is {len(data)} bytes, over the limit of {max_bytes} bytes")


def pointer(parts: Iterable[str | int]) -> str:
    """An RFC 6901 JSON pointer for a path of keys and indexes."""
    out = ""
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out


def pointer_loc(parts: Sequence[str | int]) -> tuple[str | int, ...]:
    """A Problem location holding one JSON pointer (empty pointer is the document root)."""
    return (pointer(parts) or "/",)


def invalid(message: str, problems: Sequence[Problem]) -> Invalid:
    return Invalid(message, problems=list(problems)[:MAX_PROBLEMS])


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), or UTF-16 with a BOM; anything else is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise Invalid.at(("encoding",), f"not valid UTF-16: {exc.reason}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid.at(
            (f"byte {exc.start}",), f"not valid UTF-8 text ({exc.reason})", "encoding"
        ) from None


def split_purl(component: Component, where: str, notes: list[Note]) -> Component:
    """Fill purl_type/namespace/name from ``component.purl``; a bad purl makes it unmatchable."""
    if not component.purl:
        return component
    from packageurl import PackageURL

    try:
        parsed = PackageURL.from_string(component.purl)
    except ValueError as exc:
        notes.append(
            Note(where=where, message=f"malformed purl {component.purl!r}: {exc}", code="bad-purl")
        )
        return component.model_copy(update={"matchable": False})
    return component.model_copy(
        update={
            "purl_type": parsed.type,
            "purl_namespace": parsed.namespace or None,
            "purl_name": parsed.name,
        }
    )


def dedupe(components: list[Component], notes: list[Note], where: str) -> list[Component]:
    """Keep each component key once; report the duplicates."""
    seen: dict[str, Component] = {}
    purls: dict[str, str] = {}
    for comp in components:
        if comp.purl and comp.key != purls.setdefault(comp.purl, comp.key):
            notes.append(
                Note(
                    where=where,
                    message=f"components {purls[comp.purl]!r} and {comp.key!r} share the purl "
                    f"{comp.purl} (both kept: they are different entries of the graph)",
                    code="duplicate-purl",
                )
            )
        first = seen.get(comp.key)
        if first is None:
            seen[comp.key] = comp
            continue
        same = first.model_dump() == comp.model_dump()
        notes.append(
            Note(
                where=where,
                message=(
                    f"duplicate component {comp.key!r}"
                    + (" (identical, kept once)" if same else " (differs; the first is kept)")
                ),
                code="duplicate-component",
            )
        )
    return list(seen.values())
