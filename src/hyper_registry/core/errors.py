"""The domain error tree.

Every failure the registry reports to a caller is one of these. The API maps them
once to RFC 9457 problem documents and the CLI maps them once to exit codes; no
other layer translates errors.

    HyperRegistryError
     +-- NotFound          the entry, version or alias does not exist (or is not visible)
     +-- AlreadyExists     a create named a kind:namespace/name@version that exists
     +-- Conflict          a stale revision, or an idempotency key reused with another body
     +-- Invalid           the input breaks the grammar, the schema or a kind rule
     +-- Forbidden         the actor may not do this
     +-- TooLarge          the input is over a configured limit
     +-- Unavailable       the store or another dependency cannot be reached
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a field path) and why."""

    loc: tuple[str | int, ...]
    message: str
    code: str = "invalid"

    @property
    def path(self) -> str:
        """The location as a dotted path, with list indexes in brackets."""
        out = ""
        for part in self.loc:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else str(part)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "code": self.code}


class HyperRegistryError(Exception):
    """Base of every error the registry raises on purpose."""

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Registry error"

    def __init__(self, message: str, *, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        first = self.problems[0]
        where = f"{first.path}: " if first.loc else ""
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        if self.message and self.message != first.message:
            return f"{self.message}: {where}{first.message}{more}"
        return f"{where}{first.message}{more}"


class NotFound(HyperRegistryError):
    code = "not-found"
    title = "Not found"


class AlreadyExists(HyperRegistryError):
    code = "already-exists"
    title = "Already exists"


class Conflict(HyperRegistryError):
    code = "conflict"
    title = "Conflict"


class Invalid(HyperRegistryError):
    code = "invalid"
    title = "Invalid input"

    @classmethod
    def at(cls, loc: Sequence[str | int], message: str, code: str = "invalid") -> Invalid:
        """An error about one field."""
        return cls(message, problems=[Problem(tuple(loc), message, code)])


class Forbidden(HyperRegistryError):
    code = "forbidden"
    title = "Forbidden"


class TooLarge(HyperRegistryError):
    code = "too-large"
    title = "Too large"


class Unavailable(HyperRegistryError):
    code = "unavailable"
    title = "Unavailable"


@dataclass
class ItemError:
    """The refusal of one item of a batch, by its position in the batch."""

    index: int
    error: HyperRegistryError
    ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class BatchRefused(Invalid):
    """A batch applied atomically had items that were refused; nothing was written."""

    code = "batch-refused"
    title = "Batch refused"

    def __init__(self, items: Sequence[ItemError]) -> None:
        problems = []
        for item in items:
            for p in item.error.problems or [Problem((), item.error.message, item.error.code)]:
                problems.append(Problem((item.index, *p.loc), p.message, p.code))
        n = len(items)
        super().__init__(
            f"{n} document{'s' if n != 1 else ''} of the batch refused; nothing was written",
            problems=problems,
        )
        self.items = list(items)
