"""Infra rules beyond the spec model: the template must really parse.

``template_parses`` parses the inline source in a bounded child process (see
:mod:`~hyper_registry.kinds.infra.parse`); every ``error`` note (a syntax error with its
file and line, an invalid chart, a broken CloudFormation reference, a parse stopped
after its time limit) refuses the document at ``spec.source``, so ``apply -f``, the API
and ``infra push`` are all checked the same way. Warnings (a missing module or vars
file, an unvendored dependency) do not refuse; they are kept in the entry's status.

The last few parse results are remembered (keyed by a hash of type, source and
parameters) so the after-commit hook that records them does not parse the same text a
second time. It is a memo of a pure function, bounded to a handful of results.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import orjson

from hyper_registry.core.envelope import Document
from hyper_registry.core.errors import Problem
from hyper_registry.core.kind import RuleContext
from hyper_registry.kinds.common import duplicates
from hyper_registry.kinds.infra.model import Parsed
from hyper_registry.kinds.infra.parse import parse_bounded, parse_source
from hyper_registry.kinds.infra.spec import InfraSpec

_MEMO_SIZE = 8
_memo: OrderedDict[str, Parsed] = OrderedDict()
_memo_lock = threading.Lock()


def no_repeats(spec: InfraSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """A provider is listed once."""
    yield from duplicates(spec.providers, ("spec", "providers"), "provider")


def _key(template_type: str, source: str, parameters: dict[str, Any]) -> str:
    h = hashlib.sha256(template_type.encode())
    h.update(b"\x00" + source.encode("utf-8", "surrogatepass") + b"\x00")
    h.update(orjson.dumps(parameters, option=orjson.OPT_SORT_KEYS, default=str))
    return h.hexdigest()


def parsed_for(
    template_type: str, source: str, parameters: dict[str, Any], *, bounded: bool = True
) -> Parsed:
    """The parse of a source: remembered if it was just parsed, else parsed now."""
    key = _key(template_type, source, parameters)
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
            return hit.model_copy(deep=True)
    parsed = (
        parse_bounded(template_type, source, parameters)
        if bounded
        else parse_source(template_type, source, parameters)
    )
    with _memo_lock:
        _memo[key] = parsed.model_copy(deep=True)
        while len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return parsed


def template_parses(spec: InfraSpec, doc: Document, ctx: RuleContext) -> Iterator[Problem]:
    """The inline template parses, within its time and size limits."""
    if spec.source is None:
        return
    parsed = parsed_for(spec.templateType, spec.source, spec.parameters)
    for note in parsed.errors:
        yield Problem(("spec", "source"), note.text(), note.code)
