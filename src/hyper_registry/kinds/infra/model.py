"""What parsing a template yields: resources, notes and the template type's own details.

Plain Pydantic models: they cross the parse worker's process boundary (pickled) and are
stored as JSON in the entry's status.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Level = Literal["error", "warning", "info"]


class Note(BaseModel):
    """Something found while parsing; ``error`` notes refuse the template."""

    level: Level
    message: str
    code: str = "note"
    file: str | None = None
    line: int | None = None

    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""

    def text(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class Resource(BaseModel):
    """One declared resource (a Terraform resource, a CloudFormation resource, a Kubernetes object)."""

    address: str
    type: str
    name: str
    provider: str
    count: int | None = 1
    """How many instances: a literal ``count``/``for_each``/replicas, else None (unknown: 1 is priced)."""
    countExpr: str | None = None
    file: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    """Literal attributes that pricing reads (instance type, storage size, requests, ...)."""


class Parsed(BaseModel):
    templateType: str
    files: list[str] = Field(default_factory=list)
    resources: list[Resource] = Field(default_factory=list)
    dataSources: list[dict[str, Any]] = Field(default_factory=list)
    modules: list[dict[str, Any]] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)
    outputs: list[str] = Field(default_factory=list)
    providers: list[str] = Field(default_factory=list)
    requiredVersion: str | None = None
    requiredProviders: dict[str, Any] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    """Type-specific facts: a chart's metadata, a playbook's plays, CloudFormation conditions."""
    notes: list[Note] = Field(default_factory=list)

    @property
    def errors(self) -> list[Note]:
        return [n for n in self.notes if n.level == "error"]

    def note(self, level: Level, message: str, code: str = "note", **where: Any) -> None:
        self.notes.append(Note(level=level, message=message, code=code, **where))

    def summary(self) -> dict[str, Any]:
        """What goes into the entry's status (everything but the long attribute lists)."""
        return self.model_dump(mode="json", exclude_none=True)
