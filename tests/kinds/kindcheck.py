"""Helpers for the kind tests: validate a spec the way the registry does and list the problems."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import KindSpec, RuleContext
from hyper_registry.kinds import builtin_kinds

KINDS: dict[str, KindSpec] = {k.name: k for k in builtin_kinds()}


def document(
    kind: str, spec: dict[str, Any], version: str = "1.0.0", name: str = "thing"
) -> Document:
    return Document.model_validate(
        {
            "kind": kind,
            "metadata": {"namespace": "team", "name": name, "version": version},
            "spec": spec,
        }
    )


def validate(data: dict[str, Any]) -> tuple[BaseModel, list[Problem]]:
    """The spec model and the rules' problems for a whole document (the model must accept it)."""
    doc = Document.model_validate(data)
    kind = KINDS[doc.kind]
    spec = kind.spec_model.model_validate(doc.spec)
    return spec, [p for r in kind.rules for p in r(spec, doc, RuleContext())]


def check(
    kind: str, spec: dict[str, Any], version: str = "1.0.0", name: str = "thing"
) -> list[Problem]:
    """Every problem with ``spec``: the model's errors (under ``spec``) or else the rules'."""
    doc = document(kind, spec, version, name)
    k = KINDS[kind]
    try:
        model = k.spec_model.model_validate(doc.spec)
    except ValidationError as exc:
        return [
            Problem(("spec", *e["loc"]), e["msg"], e["type"])
            for e in exc.errors(include_url=False, include_input=False)
        ]
    return [p for r in k.rules for p in r(model, doc, RuleContext())]


def only(problems: list[Problem]) -> tuple[str, str]:
    """The path and message of the one problem expected."""
    assert len(problems) == 1, [p.to_dict() for p in problems]
    return problems[0].path, problems[0].message
