"""Which kind of template a set of files is, and the files of an inline source."""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from hyper_registry.kinds.infra import ansible, cloudformation
from hyper_registry.kinds.infra.archives import is_bundle, parse_bundle, safe_path
from hyper_registry.kinds.infra.safeyaml import YamlProblem, load

DEFAULT_NAMES = {
    "terraform": "main.tf",
    "helm": "Chart.yaml",
    "cloudformation": "template.yaml",
    "ansible": "playbook.yml",
}


_HEADER = re.compile(r"^#\s*(?:Source:\s*)?([\w./-]+\.(?:ya?ml|tpl))\s*$")
_SPLIT = re.compile(r"^---[ \t]*$", re.MULTILINE)


def helm_documents(source: str) -> dict[str, str]:
    """A chart written as comment-headed YAML documents (also what ``helm template`` prints).

    Each ``---``-separated document may start with ``# path`` or ``# Source: path``
    (``# Chart.yaml``, ``# values.yaml``, ``# Source: web/templates/svc.yaml``); a first
    document without a header is ``Chart.yaml``, later ones ``templates/document-N.yaml``.
    """
    files: dict[str, str] = {}
    for i, piece in enumerate(_SPLIT.split(source)):
        if not piece.strip():
            continue
        first = next((ln for ln in piece.splitlines() if ln.strip()), "")
        m = _HEADER.match(first.strip())
        if m:
            path = m.group(1)
            parts = path.split("/")
            if len(parts) > 2 and parts[1] == "templates":  # helm template: <chart>/templates/x
                path = "/".join(parts[1:])
            path = safe_path(path)
        elif not files:
            path = "Chart.yaml"
        else:
            path = f"templates/document-{i}.yaml"
        files[path] = files.get(path, "") + piece
    return files


def source_files(template_type: str, source: str) -> dict[str, str]:
    """The files of an inline source: a bundle's files, or one file named for the type.

    Helm sources that are not bundles are read as comment-headed YAML documents.
    """
    if is_bundle(source):
        return parse_bundle(source)
    if template_type == "helm":
        return helm_documents(source)
    name = DEFAULT_NAMES[template_type]
    if template_type == "cloudformation" and source.lstrip().startswith("{"):
        name = "template.json"
    return {name: source}


def _data(path: str, text: str) -> Any:
    try:
        if path.endswith(".json"):
            return json.loads(text)
        return load(text, cloudformation=True)
    except (json.JSONDecodeError, YamlProblem, RecursionError):
        return None


def detect(files: dict[str, str]) -> str | None:
    """terraform, helm, cloudformation or ansible; None when the files say nothing clear."""
    names = [posixpath.basename(p) for p in files]
    if "Chart.yaml" in names:
        return "helm"
    if any(p.endswith((".tf", ".tf.json")) for p in files):
        return "terraform"
    for path in sorted(files, key=lambda p: (p.count("/"), p)):
        if not path.endswith((".yaml", ".yml", ".json", ".template")):
            continue
        data = _data(path, files[path])
        if cloudformation.looks_like(data):
            return "cloudformation"
        if ansible.looks_like(data):
            return "ansible"
    return None
