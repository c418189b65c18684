"""References ``kind:namespace/name@version`` and the name grammar.

This is the only place references are parsed and printed. A reference without a
version means the latest version; ``@alias`` names an alias (an alias is tried
after an exact version of the same text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic_core import core_schema

from hyper_registry.core.errors import Invalid

NAME_MAX = 253
NAMESPACE_MAX = 63
VERSION_MAX = 128
REF_PATTERN = (
    r"^[a-z][a-z0-9-]*:[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9][A-Za-z0-9._+-]*)?$"
)
"""A reference as a JSON Schema pattern (documentation; ``Ref.parse`` is the real check)."""

_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")
_KIND = re.compile(r"[a-z][a-z0-9-]{0,62}")
_BAD_CHARS = re.compile(r"[\s\x00]")
_VERSION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._+-]*[A-Za-z0-9_+])?")


def name_problem(value: object, what: str = "name", max_len: int = NAME_MAX) -> str | None:
    """Why ``value`` is not a valid name, or None when it is."""
    if not isinstance(value, str):
        return f"{what} must be a string"
    if len(value) > max_len:
        return f"{what} is longer than {max_len} characters"
    return _name_problem(value, what, max_len)


@lru_cache(maxsize=65536)
def _name_problem(value: str, what: str, max_len: int) -> str | None:
    # Names repeat (namespaces, relation targets): the answer is cached per (value, what).
    if not value:
        return f"{what} must not be empty"
    if len(value) > max_len:
        return f"{what} is longer than {max_len} characters"
    if ".." in value:
        return f"{what} {value!r} must not contain '..'"
    if not _NAME.fullmatch(value):
        return (
            f"{what} {value!r} must use lowercase letters, digits, '-', '_' and '.', "
            "and start and end with a letter or digit"
        )
    return None


def version_problem(value: object) -> str | None:
    """Why ``value`` is not a valid version text, or None when it is."""
    if not isinstance(value, str):
        return "version must be a string"
    if not value:
        return "version must not be empty"
    if len(value) > VERSION_MAX:
        return f"version is longer than {VERSION_MAX} characters"
    if ".." in value or not _VERSION.fullmatch(value):
        return (
            f"version {value!r} must use letters, digits, '.', '-', '_' and '+', "
            "and start with a letter or digit"
        )
    return None


def check_name(value: str, what: str = "name", max_len: int = NAME_MAX) -> str:
    problem = name_problem(value, what, max_len)
    if problem:
        raise Invalid.at((what,), problem, "bad-name")
    return value


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """A reference to an entry: ``kind:namespace/name`` with an optional version or alias."""

    kind: str
    namespace: str
    name: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str, *, default_kind: str | None = None) -> Ref:
        """Parse ``kind:namespace/name[@version]``; raises :class:`Invalid` with the reason."""
        if not isinstance(text, str):
            raise Invalid.at((), "a reference must be a string", "bad-ref")
        if cls is Ref and len(text) <= 600:
            return _parse_ref(text, default_kind)  # references repeat: parsed once each
        return cls._parse(text, default_kind)

    @classmethod
    def _parse(cls, text: str, default_kind: str | None) -> Ref:
        original = text
        if _BAD_CHARS.search(text):
            raise Invalid.at((), f"reference {original!r} contains whitespace or NUL", "bad-ref")
        if ":" in text:
            kind, _, text = text.partition(":")
        elif default_kind is not None:
            kind = default_kind
        else:
            raise Invalid.at(
                (),
                f"reference {original!r} must look like kind:namespace/name[@version]",
                "bad-ref",
            )
        version: str | None = None
        if "@" in text:
            text, _, version = text.partition("@")
            problem = version_problem(version)
            if problem:
                raise Invalid.at((), f"reference {original!r}: {problem}", "bad-ref")
        namespace, slash, name = text.partition("/")
        if not slash:
            raise Invalid.at(
                (),
                f"reference {original!r} must look like kind:namespace/name[@version]",
                "bad-ref",
            )
        if not _KIND.fullmatch(kind):
            raise Invalid.at((), f"reference {original!r}: kind {kind!r} is not valid", "bad-ref")
        for value, what, max_len in (
            (namespace, "namespace", NAMESPACE_MAX),
            (name, "name", NAME_MAX),
        ):
            problem = name_problem(value, what, max_len)
            if problem:
                raise Invalid.at((), f"reference {original!r}: {problem}", "bad-ref")
        return cls(kind, namespace, name, version)

    def __str__(self) -> str:
        return _format_ref(self.kind, self.namespace, self.name, self.version)

    @property
    def unversioned(self) -> Ref:
        return Ref(self.kind, self.namespace, self.name)

    def at(self, version: str | None) -> Ref:
        return Ref(self.kind, self.namespace, self.name, version)

    # Pydantic integration: a Ref field accepts the string form and serialises to it.
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        def validate(value: Any) -> Ref:
            if isinstance(value, Ref):
                return value
            if not isinstance(value, str):
                raise ValueError("a reference must be a string like kind:namespace/name@version")
            try:
                return cls.parse(value)
            except Invalid as exc:
                raise ValueError(exc.message) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": REF_PATTERN,
            "examples": ["model:risk/fraud@2.1.0"],
        }


@lru_cache(maxsize=65536)
def _parse_ref(text: str, default_kind: str | None) -> Ref:
    return Ref._parse(text, default_kind)


@lru_cache(maxsize=65536)
def _format_ref(kind: str, namespace: str, name: str, version: str | None) -> str:
    base = f"{kind}:{namespace}/{name}"
    return f"{base}@{version}" if version else base
