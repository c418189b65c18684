"""CloudFormation templates (JSON or YAML with the short intrinsic tags).

Structural validation: the template is a mapping of the known top-level sections;
``Resources`` is present and non-empty; each resource has a ``Type`` of the form
``Vendor::Service::Resource`` (or ``Custom::Name``) and mapping ``Properties``;
``Ref``/``DependsOn``/``Condition`` name a parameter, resource, condition or pseudo
parameter that exists. Problems name their path (``Resources.Bucket.Type``) and, in YAML,
their line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from hyper_registry.kinds.infra.model import Parsed, Resource
from hyper_registry.kinds.infra.safeyaml import YamlProblem, load

SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion",
        "Description",
        "Metadata",
        "Parameters",
        "Rules",
        "Mappings",
        "Conditions",
        "Transform",
        "Resources",
        "Outputs",
        "Hooks",
    }
)
PSEUDO = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
_TYPE = re.compile(
    r"^(?:[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+(?:::[A-Za-z0-9]+)?|Custom::[A-Za-z0-9_@-]+)$"
)
_RESOURCE_ATTRS = frozenset(
    {
        "Type",
        "Properties",
        "DependsOn",
        "Condition",
        "DeletionPolicy",
        "UpdateReplacePolicy",
        "Metadata",
        "CreationPolicy",
        "UpdatePolicy",
    }
)


def looks_like(data: Any) -> bool:
    return isinstance(data, dict) and (
        "AWSTemplateFormatVersion" in data
        or (
            isinstance(data.get("Resources"), dict)
            and any(
                isinstance(r, dict) and isinstance(r.get("Type"), str) and "::" in r["Type"]
                for r in data["Resources"].values()
            )
        )
    )


def load_template(path: str, text: str, parsed: Parsed) -> Any:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            parsed.note("error", f"invalid JSON: {exc.msg}", "syntax", file=path, line=exc.lineno)
            return None
        except RecursionError:
            parsed.note("error", "JSON nested too deeply", "too-deep", file=path)
            return None
    try:
        return load(text, cloudformation=True)
    except YamlProblem as exc:
        parsed.note("error", exc.message, exc.code, file=path, line=exc.line)
        return None


def _walk_refs(node: Any, loc: str) -> Iterator[tuple[str, str, str]]:
    """(kind, name, where) for every Ref / Fn::GetAtt / Condition reference."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{loc}.{key}"
            if key == "Ref" and isinstance(value, str):
                yield "Ref", value, here
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) and value else value
                if isinstance(target, str):
                    yield "GetAtt", target.split(".", 1)[0], here
            elif key == "Condition" and isinstance(value, str):
                yield "Condition", value, here
            else:
                yield from _walk_refs(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_refs(value, f"{loc}[{i}]")


def _resolve(value: Any, values: dict[str, Any], depth: int) -> Any:
    """``{"Ref": param}`` replaced by the parameter's value or default (two levels deep)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str) and value["Ref"] in values:
            return values[value["Ref"]]
        if depth > 0:
            return {k: _resolve(v, values, depth - 1) for k, v in value.items()}
    return value


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def provider_of(rtype: str) -> str:
    vendor = rtype.split("::", 1)[0].lower()
    return "aws" if vendor == "custom" else vendor


def _literal_props(props: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in props.items():
        if isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 200):
            out[key] = value
        elif isinstance(value, dict) and len(out) < 60:
            for sub, v in value.items():  # one level: ProvisionedThroughput.ReadCapacityUnits
                if isinstance(v, bool | int | float) or (isinstance(v, str) and len(v) <= 200):
                    out[f"{key}.{sub}"] = v
    return out


def parse(files: dict[str, str], parameters: dict[str, Any]) -> Parsed:
    parsed = Parsed(templateType="cloudformation", files=sorted(files))
    candidates = [p for p in sorted(files) if p.endswith((".yaml", ".yml", ".json", ".template"))]
    if not candidates:
        parsed.note("error", "no CloudFormation template (.yaml, .yml or .json)", "empty")
        return parsed
    for path in candidates:
        data = load_template(path, files[path], parsed)
        if data is None:
            continue
        if len(candidates) > 1 and not looks_like(data):
            continue  # a parameters file or other YAML beside the template
        _template(path, data, parameters, parsed)
    if not parsed.resources and not parsed.errors:
        parsed.note("error", "no CloudFormation template with Resources found", "no-resources")
    parsed.providers = sorted({r.provider for r in parsed.resources})
    return parsed


def _template(path: str, data: Any, parameters: dict[str, Any], parsed: Parsed) -> None:
    def err(message: str, code: str = "structure") -> None:
        parsed.note("error", message, code, file=path)

    if not isinstance(data, dict):
        err("a CloudFormation template must be a mapping")
        return
    for key in data:
        if key not in SECTIONS:
            err(f"{key}: not a CloudFormation template section", "unknown-section")
    resources = data.get("Resources")
    if not isinstance(resources, dict) or not resources:
        err("Resources: a template needs at least one resource", "no-resources")
        return
    params: dict[str, Any] = _section(data, "Parameters")
    conditions: dict[str, Any] = _section(data, "Conditions")
    outputs: dict[str, Any] = _section(data, "Outputs")
    known = set(params) | set(resources) | PSEUDO
    for name, body in params.items():
        body = body if isinstance(body, dict) else {}
        if "Type" not in body:
            err(f"Parameters.{name}.Type: a parameter needs a Type")
        parsed.variables[name] = {
            k: body[k] for k in ("Type", "Default", "Description") if k in body
        }
    values = {k: v.get("Default") for k, v in parsed.variables.items()} | parameters
    for name, body in resources.items():
        loc = f"Resources.{name}"
        if not isinstance(body, dict):
            err(f"{loc}: a resource must be a mapping")
            continue
        rtype = body.get("Type")
        if not isinstance(rtype, str) or not _TYPE.match(rtype):
            err(f"{loc}.Type: {rtype!r} is not a resource type (Vendor::Service::Resource)")
            continue
        for attr in body:
            if attr not in _RESOURCE_ATTRS:
                err(f"{loc}.{attr}: not a resource attribute", "unknown-attribute")
        props = body.get("Properties", {})
        if not isinstance(props, dict):
            err(f"{loc}.Properties: must be a mapping")
            props = {}
        depends = body.get("DependsOn", [])
        for dep in (
            [depends] if isinstance(depends, str) else depends if isinstance(depends, list) else []
        ):
            if dep not in resources:
                err(f"{loc}.DependsOn: {dep!r} is not a resource of this template", "bad-reference")
        cond = body.get("Condition")
        if isinstance(cond, str) and cond not in conditions:
            err(f"{loc}.Condition: {cond!r} is not a condition of this template", "bad-reference")
        resolved = {k: _resolve(v, values, 2) for k, v in props.items()}
        parsed.resources.append(
            Resource(
                address=name,
                type=rtype,
                name=name,
                provider=provider_of(rtype),
                file=path,
                attributes=_literal_props(resolved),
            )
        )
    for kind, target, where in _walk_refs({"Resources": resources, "Outputs": outputs}, ""):
        where = where.lstrip(".")
        if kind == "Condition":
            if target not in conditions:
                err(f"{where}: condition {target!r} is not defined", "bad-reference")
        elif kind == "GetAtt":
            if target not in resources:
                err(f"{where}: {target!r} is not a resource of this template", "bad-reference")
        elif target not in known:
            err(
                f"{where}: Ref {target!r} names no parameter, resource or pseudo parameter",
                "bad-reference",
            )
    parsed.outputs.extend(outputs)
    details = parsed.details
    details.setdefault("conditions", []).extend(conditions)
    if isinstance(data.get("Description"), str):
        details["description"] = data["Description"][:1000]
    if "Transform" in data:
        details["transform"] = data["Transform"]
