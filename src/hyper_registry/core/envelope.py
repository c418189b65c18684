"""The envelope every entry shares, whatever its kind.

``Document`` is what a client writes; ``Entry`` is what the registry stores and
returns: the document plus the fields only the registry sets (``uid``,
``revision``, ``createdAt``, ``updatedAt``, ``contentHash``) and ``status``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Annotated, Any, Final, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from hyper_registry.core import relations as vocab
from hyper_registry.core.ref import NAMESPACE_MAX, Ref, name_problem, version_problem

API_VERSION: Final = "hyper-registry/v1"

_LABEL_KEY = re.compile(
    r"([a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"
)
LABEL_KEY_MAX = 63
LABEL_VALUE_MAX = 253
ANNOTATION_VALUE_MAX = 4096
MAX_LABELS = 64
MAX_TAGS = 64
MAX_RELATIONS = 1000


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _namespace(value: str) -> str:
    problem = name_problem(value, "namespace", NAMESPACE_MAX)
    if problem:
        raise ValueError(problem)
    return value


def _version(value: str) -> str:
    problem = version_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _label_key(value: str) -> str:
    if len(value) > LABEL_KEY_MAX + 254 or not _LABEL_KEY.fullmatch(value):
        raise ValueError(f"label or annotation key {value!r} is not valid")
    return value


Name = Annotated[str, AfterValidator(_name)]
Namespace = Annotated[str, AfterValidator(_namespace)]
Version = Annotated[str, AfterValidator(_version)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
Tag = Annotated[str, AfterValidator(_name)]


class Strict(BaseModel):
    """Base of every input model: unknown fields are refused, never ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=False)


class Metadata(Strict):
    namespace: Namespace
    name: Name
    version: Version = Field(
        description="semver for plugin, service, model and infra; free-form otherwise"
    )
    title: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=8192)
    owner: Name | None = None
    labels: dict[LabelKey, Annotated[str, Field(max_length=LABEL_VALUE_MAX)]] = Field(
        default_factory=dict, max_length=MAX_LABELS
    )
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    annotations: dict[LabelKey, Annotated[str, Field(max_length=ANNOTATION_VALUE_MAX)]] = Field(
        default_factory=dict, max_length=MAX_LABELS
    )


class Relation(Strict):
    type: str = Field(description="a relation name from the vocabulary, either of a pair")
    target: Ref

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if vocab.lookup(value) is None:
            known = ", ".join(vocab.RELATION_NAMES)
            raise ValueError(f"unknown relation type {value!r}; known types: {known}")
        return value


class Document(Strict):
    """What a client writes: the envelope without registry-assigned fields."""

    apiVersion: Literal["hyper-registry/v1"] = API_VERSION
    kind: str
    metadata: Metadata
    spec: dict[str, Any] = Field(default_factory=dict)
    relations: list[Relation] = Field(default_factory=list, max_length=MAX_RELATIONS)

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.metadata.namespace, self.metadata.name, self.metadata.version)

    def canonical(self) -> dict[str, Any]:
        """The document as plain JSON data, without empty optional fields."""
        md = self.metadata.model_dump(exclude_none=True)
        for key in ("labels", "tags", "annotations"):
            if not md.get(key):
                md.pop(key, None)
        body: dict[str, Any] = {
            "apiVersion": self.apiVersion,
            "kind": self.kind,
            "metadata": md,
            "spec": self.spec,
        }
        if self.relations:
            body["relations"] = [{"type": r.type, "target": str(r.target)} for r in self.relations]
        return body


def canonical_json(body: Any) -> bytes:
    """The canonical JSON form of a document body (or any JSON data): sorted keys, no spaces."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def content_hash(body: dict[str, Any] | bytes) -> str:
    """sha256 of a body's canonical JSON (pass the bytes when already serialised)."""
    data = body if isinstance(body, bytes) else canonical_json(body)
    return "sha256:" + hashlib.sha256(data).hexdigest()


class EntryMetadata(BaseModel):
    """Metadata of a stored entry: the client's fields plus the registry's own."""

    model_config = ConfigDict(extra="allow")

    namespace: str
    name: str
    version: str
    title: str | None = None
    description: str | None = None
    owner: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    annotations: dict[str, str] = Field(default_factory=dict)
    uid: str
    revision: int
    createdAt: datetime
    updatedAt: datetime
    contentHash: str


class Entry(BaseModel):
    """A stored entry as the registry returns it."""

    apiVersion: str = API_VERSION
    kind: str
    metadata: EntryMetadata
    spec: dict[str, Any] = Field(default_factory=dict)
    relations: list[dict[str, str]] = Field(default_factory=list)
    status: dict[str, Any] = Field(default_factory=dict)

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.metadata.namespace, self.metadata.name, self.metadata.version)

    @property
    def revision(self) -> int:
        return self.metadata.revision

    @property
    def uid(self) -> str:
        return self.metadata.uid

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        md = data["metadata"]
        for key in ("labels", "tags", "annotations"):
            if not md.get(key):
                md.pop(key, None)
        if not data.get("relations"):
            data.pop("relations", None)
        return data
