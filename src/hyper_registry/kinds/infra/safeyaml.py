"""Safe YAML for templates: no language tags, bounded size, depth and alias expansion.

PyYAML's ``SafeLoader`` already refuses language-specific tags (``!!python/object``).
On top of it this loader

* refuses input over ``max_bytes`` before reading it;
* stops composing below ``max_depth`` levels of nesting (a deep ``[[[[...]]]]`` would
  otherwise exhaust the interpreter's stack);
* counts aliases and, more to the point, the *expanded* size of every document (the
  "billion laughs": ten aliases of ten aliases ... are cheap to load because PyYAML shares
  the nodes, but anything that walks or serialises the result expands them);
* keeps dates as strings (templates are stored as JSON);
* knows CloudFormation's short intrinsic tags only when asked (``cloudformation=True``):
  ``!Ref x`` becomes ``{"Ref": "x"}``, ``!GetAtt a.b`` ``{"Fn::GetAtt": ["a", "b"]}``,
  ``!Sub``/``!If``/... ``{"Fn::Sub": ...}``. Any other ``!tag`` is refused with its line.

Errors are :class:`YamlProblem` with the file's line (1-based), never a Python traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 256
MAX_EXPANDED_NODES = 200_000

_TIMESTAMP = "tag:yaml.org,2002:timestamp"

CFN_FUNCTIONS = (
    "And",
    "Base64",
    "Cidr",
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "Equals",
    "FindInMap",
    "ForEach",
    "GetAZs",
    "ImportValue",
    "If",
    "Join",
    "Length",
    "Not",
    "Or",
    "RefAll",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
    "ValueOf",
    "ValueOfAll",
)


@dataclass
class YamlProblem(Exception):
    """A template's YAML is malformed or over a limit; ``line`` is 1-based when known."""

    message: str
    line: int | None = None
    code: str = "bad-yaml"

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class _Loader(yaml.SafeLoader):
    max_depth = MAX_DEPTH
    max_aliases = MAX_ALIASES

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self.max_aliases:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise YamlProblem(
                    f"more than {self.max_aliases} YAML aliases; refused",
                    event.start_mark.line + 1,
                    "alias-limit",
                )
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise YamlProblem(
                    f"YAML nested deeper than {self.max_depth} levels; refused",
                    event.start_mark.line + 1,
                    "too-deep",
                )
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


class _CfnLoader(_Loader):
    """The same loader with CloudFormation's short-form intrinsic functions."""


def _cfn_value(loader: yaml.SafeLoader, node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise YamlProblem("unexpected YAML node", node.start_mark.line + 1)  # pragma: no cover


def _cfn_ref(loader: yaml.SafeLoader, node: Node) -> Any:
    return {"Ref": _cfn_value(loader, node)}


def _cfn_condition(loader: yaml.SafeLoader, node: Node) -> Any:
    return {"Condition": _cfn_value(loader, node)}


def _cfn_getatt(loader: yaml.SafeLoader, node: Node) -> Any:
    value = _cfn_value(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": value}


def _cfn_function(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: Node) -> Any:
        return {f"Fn::{name}": _cfn_value(loader, node)}

    return construct


_CfnLoader.add_constructor("!Ref", _cfn_ref)
_CfnLoader.add_constructor("!Condition", _cfn_condition)
_CfnLoader.add_constructor("!GetAtt", _cfn_getatt)
for _name in CFN_FUNCTIONS:
    _CfnLoader.add_constructor(f"!{_name}", _cfn_function(_name))


def _refuse_tag(loader: yaml.SafeLoader, suffix: str, node: Node) -> Any:
    raise YamlProblem(f"the YAML tag {node.tag!r} is not allowed", node.start_mark.line + 1, "tag")


def _refuse_plain(loader: yaml.SafeLoader, node: Node) -> Any:
    raise YamlProblem(f"the YAML tag {node.tag!r} is not allowed", node.start_mark.line + 1, "tag")


for _loader in (_Loader, _CfnLoader):
    _loader.add_multi_constructor("!", _refuse_tag)
    _loader.add_multi_constructor("tag:yaml.org,2002:python/", _refuse_tag)
    for _tag in ("binary", "set", "omap", "pairs"):
        _loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_plain)
# The explicit constructors above win over the "!" multi-constructor for CloudFormation.


def _expanded_size(node: Node, memo: dict[int, int], limit: int) -> int:
    """How many nodes the document has once every alias is expanded (memoised per node)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = limit + 1  # a cycle (a recursive alias) counts as over the limit
    size = 1
    if isinstance(node, SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, limit)
            if size > limit:
                break
    elif isinstance(node, MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, limit) + _expanded_size(v, memo, limit)
            if size > limit:
                break
    memo[key] = size
    return size


def load_all(
    text: str,
    *,
    cloudformation: bool = False,
    max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_EXPANDED_NODES,
) -> list[Any]:
    """Every document of ``text``, loaded safely within the limits."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise YamlProblem(f"YAML is {size} bytes; the limit is {max_bytes}", None, "too-large")
    loader = (_CfnLoader if cloudformation else _Loader)(text)
    out: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node said there is one
                break
            if _expanded_size(node, {}, max_nodes) > max_nodes:
                raise YamlProblem(
                    f"YAML expands to more than {max_nodes} nodes (alias bomb?); refused",
                    node.start_mark.line + 1,
                    "alias-bomb",
                )
            out.append(loader.construct_document(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlProblem(str(exc.problem or exc.context or "invalid YAML"), line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem("YAML nested too deeply; refused", None, "too-deep") from None
    finally:
        loader.dispose()
    return out


def load(text: str, *, cloudformation: bool = False, max_bytes: int = MAX_BYTES) -> Any:
    """The single document of ``text`` (None when empty)."""
    docs = load_all(text, cloudformation=cloudformation, max_bytes=max_bytes)
    if len(docs) > 1:
        raise YamlProblem(f"expected one YAML document, found {len(docs)}", None, "many-documents")
    return docs[0] if docs else None
