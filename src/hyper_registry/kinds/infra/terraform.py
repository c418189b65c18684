"""Terraform (HCL2 via python-hcl2, and the ``.tf.json`` syntax).

The root module is the bundle's top-level ``.tf`` files (or every file, when there is
only one directory). Local child modules (``source = "./modules/x"``) are followed inside
the bundle, their resources addressed ``module.<name>.<type>.<name>``; a local source
missing from the bundle is a warning, a registry or git source is recorded, not fetched.
Only literal values are read; ``${var.x}`` and ``${local.x}`` are resolved from variable
defaults, the entry's ``parameters`` and literal locals, and anything else stays unknown.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from hyper_registry.kinds.infra.model import Parsed, Resource

MAX_MODULE_DEPTH = 8
MAX_ATTRIBUTES = 60
_REF = re.compile(r"^\$\{(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)\}$")
_TOSET = re.compile(r'^\$\{toset\(\[((?:\s*"[^"]*"\s*,?)*)\]\)\}$')


def provider_of(resource_type: str, explicit: Any = None) -> str:
    """``aws_instance`` -> ``aws``; an explicit ``provider = google.west`` wins."""
    if isinstance(explicit, str):
        text = explicit.removeprefix("${").removesuffix("}")
        return text.split(".", 1)[0]
    return resource_type.split("_", 1)[0]


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _literal(value: Any) -> bool:
    if isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and "${" not in value and len(value) <= 200


class _Scope:
    def __init__(self, values: dict[str, Any], locals_: dict[str, Any]) -> None:
        self.values = values
        self.locals = locals_

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            m = _REF.match(value)
            if m:
                table = self.values if m.group(1) == "var" else self.locals
                if m.group(2) in table and _literal(table[m.group(2)]):
                    return table[m.group(2)]
        return value


def _attributes(body: dict[str, Any], scope: _Scope) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in body.items():
        if key.startswith("__") or len(out) >= MAX_ATTRIBUTES:
            continue
        value = scope.resolve(raw)
        if _literal(value):
            out[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for sub_key, sub in value[0].items():  # a nested block: root_block_device { ... }
                sub = scope.resolve(sub)
                if _literal(sub) and not sub_key.startswith("__"):
                    out[f"{key}.{sub_key}"] = sub
    return out


def _count(body: dict[str, Any], scope: _Scope) -> tuple[int | None, str | None]:
    if "count" in body:
        value = scope.resolve(body["count"])
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        return None, str(value)
    if "for_each" in body:
        value = scope.resolve(body["for_each"])
        if isinstance(value, list | dict):
            return len(value), None
        if isinstance(value, str):
            m = _TOSET.match(value)
            if m:
                return len(set(re.findall(r'"([^"]*)"', m.group(1)))), None
        return None, str(value)
    return 1, None


def _load_file(path: str, text: str, parsed: Parsed) -> dict[str, Any] | None:
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            parsed.note("error", f"invalid JSON: {exc.msg}", "syntax", file=path, line=exc.lineno)
            return None
        return _from_json_syntax(data) if isinstance(data, dict) else {}
    import hcl2
    from hcl2.utils import SerializationOptions
    from lark.exceptions import LarkError, UnexpectedInput

    options = SerializationOptions(
        with_comments=False, strip_string_quotes=True, explicit_blocks=False
    )
    try:
        result: dict[str, Any] = hcl2.loads(text, serialization_options=options)
        return result
    except UnexpectedInput as exc:
        line = getattr(exc, "line", None)
        col = getattr(exc, "column", None)
        token = getattr(exc, "token", None)
        what = f"unexpected {str(token)[:40]!r}" if token is not None else "unexpected input"
        where = f" (column {col})" if isinstance(col, int) and col > 0 else ""
        parsed.note(
            "error",
            f"HCL syntax error: {what}{where}",
            "syntax",
            file=path,
            line=line if isinstance(line, int) and line > 0 else None,
        )
    except (LarkError, ValueError, TypeError, KeyError, IndexError) as exc:
        parsed.note("error", f"HCL error: {str(exc)[:200]}", "syntax", file=path)
    except RecursionError:
        parsed.note("error", "HCL nested too deeply", "too-deep", file=path)
    return None


def _from_json_syntax(data: dict[str, Any]) -> dict[str, Any]:
    """Terraform's JSON syntax, reshaped like python-hcl2's output."""
    out: dict[str, Any] = {}
    for block in ("resource", "data"):
        items = data.get(block)
        if isinstance(items, dict):
            out[block] = [
                {rtype: {name: body}}
                for rtype, named in items.items()
                if isinstance(named, dict)
                for name, body in named.items()
                if isinstance(body, dict)
            ]
    for block in ("module", "variable", "output", "provider", "locals"):
        items = data.get(block)
        if isinstance(items, dict):
            out[block] = [{k: v} for k, v in items.items()] if block != "locals" else [items]
    if isinstance(data.get("terraform"), dict):
        out["terraform"] = [data["terraform"]]
    return out


def _modules_in(files: dict[str, str]) -> dict[str, list[str]]:
    dirs: dict[str, list[str]] = {}
    for path in sorted(files):
        if path.endswith((".tf", ".tf.json")):
            dirs.setdefault(posixpath.dirname(path), []).append(path)
    return dirs


def parse(files: dict[str, str], parameters: dict[str, Any]) -> Parsed:
    parsed = Parsed(templateType="terraform", files=sorted(files))
    dirs = _modules_in(files)
    if not dirs:
        parsed.note("error", "no Terraform (.tf) files in the template", "empty")
        return parsed
    root = "" if "" in dirs else min(dirs, key=lambda d: (d.count("/"), d))
    _module(files, dirs, root, "", parameters, parsed, depth=0, stack=(root,))
    parsed.providers = sorted({r.provider for r in parsed.resources} | set(parsed.providers))
    return parsed


def _module(
    files: dict[str, str],
    dirs: dict[str, list[str]],
    directory: str,
    prefix: str,
    inputs: dict[str, Any],
    parsed: Parsed,
    *,
    depth: int,
    stack: tuple[str, ...],
) -> None:
    docs = [d for d in (_load_file(p, files[p], parsed) for p in dirs[directory]) if d is not None]
    paths = dirs[directory]
    variables: dict[str, Any] = {}
    for doc in docs:
        for block in _blocks(doc.get("variable")):
            for name, body in block.items():
                body = body if isinstance(body, dict) else {}
                variables[name] = body.get("default")
                if not prefix:
                    parsed.variables[name] = {
                        k: body[k] for k in ("default", "type", "description") if k in body
                    }
    values = {**variables, **inputs}
    locals_: dict[str, Any] = {}
    for doc in docs:
        for block in _blocks(doc.get("locals")):
            locals_.update({k: v for k, v in block.items() if not k.startswith("__")})
    scope = _Scope(values, locals_)
    file_of = dict(zip(range(len(docs)), paths, strict=False))
    for i, doc in enumerate(docs):
        where = file_of.get(i)
        for block in _blocks(doc.get("resource")):
            for rtype, named in block.items():
                for name, body in (named or {}).items():
                    body = body if isinstance(body, dict) else {}
                    count, expr = _count(body, scope)
                    parsed.resources.append(
                        Resource(
                            address=f"{prefix}{rtype}.{name}",
                            type=rtype,
                            name=name,
                            provider=provider_of(rtype, body.get("provider")),
                            count=count,
                            countExpr=expr,
                            file=where,
                            attributes=_attributes(body, scope),
                        )
                    )
        for block in _blocks(doc.get("data")):
            for dtype, named in block.items():
                for name in named or {}:
                    parsed.dataSources.append(
                        {
                            "address": f"{prefix}data.{dtype}.{name}",
                            "type": dtype,
                            "provider": provider_of(dtype),
                        }
                    )
        if not prefix:
            for block in _blocks(doc.get("output")):
                parsed.outputs.extend(block)
            for block in _blocks(doc.get("provider")):
                parsed.providers.extend(k for k in block if k not in parsed.providers)
            for block in _blocks(doc.get("terraform")):
                if isinstance(block.get("required_version"), str):
                    parsed.requiredVersion = block["required_version"]
                for req in _blocks(block.get("required_providers")):
                    for name, spec in req.items():
                        if not name.startswith("__"):
                            parsed.requiredProviders[name] = spec
                            if name not in parsed.providers:
                                parsed.providers.append(name)
        for block in _blocks(doc.get("module")):
            for name, body in block.items():
                body = body if isinstance(body, dict) else {}
                _child(
                    files, dirs, directory, prefix, name, body, scope, parsed, depth, stack, where
                )


def _child(
    files: dict[str, str],
    dirs: dict[str, list[str]],
    directory: str,
    prefix: str,
    name: str,
    body: dict[str, Any],
    scope: _Scope,
    parsed: Parsed,
    depth: int,
    stack: tuple[str, ...],
    where: str | None,
) -> None:
    source = body.get("source")
    info: dict[str, Any] = {"address": f"{prefix}module.{name}", "source": source}
    if body.get("version") is not None:
        info["version"] = body["version"]
    local = isinstance(source, str) and source.startswith(("./", "../"))
    info["local"] = local
    parsed.modules.append(info)
    if not isinstance(source, str):
        parsed.note(
            "warning", f"module {name!r} has no literal source", "module-source", file=where
        )
        return
    if not local:
        parsed.note(
            "info",
            f"module {name!r}: {source} is not fetched; its resources are not counted",
            "module-remote",
            file=where,
        )
        return
    target = posixpath.normpath(posixpath.join(directory, source))
    target = "" if target == "." else target
    if target.startswith("..") or target not in dirs:
        info["resolved"] = False
        parsed.note(
            "warning",
            f"module {name!r}: local source {source!r} is not in the template",
            "module-missing",
            file=where,
        )
        return
    if depth >= MAX_MODULE_DEPTH or target in stack:
        parsed.note(
            "warning",
            f"module {name!r}: {source!r} nests too deep or loops; not followed",
            "module-loop",
            file=where,
        )
        return
    info["resolved"] = True
    inputs = {k: scope.resolve(v) for k, v in body.items() if k not in ("source", "version")}
    _module(
        files,
        dirs,
        target,
        f"{prefix}module.{name}.",
        inputs,
        parsed,
        depth=depth + 1,
        stack=(*stack, target),
    )
