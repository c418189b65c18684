"""Models that document the API's bodies in OpenAPI.

Handlers return pre-serialised bytes (``responses.json``), so these models describe
the wire format without validating every response on the hot path; the API tests
check real responses against the published schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hyper_registry.api.patterns import NAME_PATTERN
from hyper_registry.core.envelope import Entry

_NAMESPACE_OR_ALL = r"^(\*|" + NAME_PATTERN[1:-1] + r")$"


class ProblemItem(BaseModel):
    path: str = Field(description="where, as a dotted path with [index] for list items")
    message: str
    code: str


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(examples=["https://hyper-registry.dev/problems/not-found"])
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemItem] = Field(default_factory=list)
    instance: str | None = None
    line: int | None = Field(default=None, description="malformed bodies: line of the fault")
    column: int | None = Field(default=None, description="malformed bodies: column of the fault")


class EntryPage(BaseModel):
    items: list[Entry]
    nextCursor: str | None = Field(
        description="pass as ?cursor= for the next page; null at the end"
    )


class VersionList(BaseModel):
    items: list[Entry] = Field(description="every version, newest first")
    versions: list[str] = Field(description="the version names, newest first")
    aliases: dict[str, str] = Field(description="alias -> version")
    nextCursor: str | None = None


class RelationOut(BaseModel):
    type: str = Field(description="the relation's name read from this entry")
    target: str = Field(description="the other end, as declared")
    resolved: str | None = Field(description="the registered version the other end resolves to")
    origin: str
    direction: Literal["outgoing", "incoming"]


class RelationList(BaseModel):
    root: str
    items: list[RelationOut]


class HopOut(BaseModel):
    relation: str
    ref: str


class GraphHitOut(BaseModel):
    ref: str
    depth: int
    path: list[HopOut]


class GraphResult(BaseModel):
    """``root`` and one list, named ``dependencies``, ``dependents`` or ``affected`` (impact)."""

    model_config = ConfigDict(extra="allow")

    root: str
    dependencies: list[GraphHitOut] | None = None
    dependents: list[GraphHitOut] | None = None
    affected: list[GraphHitOut] | None = None


class ChangeOut(BaseModel):
    seq: int
    at: str
    actor: str
    op: str
    ref: str
    kind: str
    namespace: str
    uid: str | None
    revision: int | None
    detail: dict[str, Any] | None = None


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next: int = Field(description="the last sequence number returned; pass as ?since= to continue")


class ApplyItem(BaseModel):
    index: int
    ref: str | None
    outcome: Literal["created", "updated", "unchanged", "deleted", "refused"]
    uid: str | None = None
    revision: int | None = None
    seq: int | None = None
    error: ProblemDocument | None = None


class ApplyReportOut(BaseModel):
    results: list[ApplyItem] = Field(description="one per document, in input order")
    counts: dict[str, int]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=253)]
    role: Literal["reader", "writer", "admin"]
    namespaces: (
        list[Annotated[str, StringConstraints(pattern=_NAMESPACE_OR_ALL, max_length=63)]] | None
    ) = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="null or ['*'] for every namespace",
    )


class TokenOut(BaseModel):
    id: str
    name: str
    role: Literal["reader", "writer", "admin"]
    namespaces: list[str]
    createdAt: str
    createdBy: str
    revokedAt: str | None


class TokenCreated(TokenOut):
    token: str = Field(description="the token itself; shown once, never stored")


class TokenList(BaseModel):
    items: list[TokenOut]
    nextCursor: str | None = None


class Health(BaseModel):
    status: str
