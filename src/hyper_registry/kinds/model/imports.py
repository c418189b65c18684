"""Reading model metadata from MLflow ``MLmodel`` files, ONNX graphs and model cards.

Each reader returns a partial model spec (and metadata fields) that ``import_into``
merges into a model version, written through the pipeline:

* MLmodel (YAML): ``flavors`` -> ``spec.flavors`` and the framework, ``run_id`` ->
  ``spec.run.id``, ``signature`` (inputs/outputs, JSON texts) -> ``spec.signature``,
  numeric ``metadata`` values named like known metrics -> ``spec.metrics``;
* ONNX (protobuf, parsed by the ``onnx`` package; ``pip install hyper-registry[onnx]``):
  graph inputs (initializers left out) and outputs with element type and shape ->
  ``spec.signature``, ``opset_import`` -> ``spec.opsets``; framework ``onnx``;
* model card (Markdown with YAML front matter, the Hugging Face convention): ``license``,
  ``datasets`` (-> ``trainingDatasets`` in the model's namespace), ``pipeline_tag`` ->
  ``task``, ``model-index`` results -> ``spec.metrics``.

Files are read with safe loaders only (``yaml.safe_load``, protobuf); nothing is executed
or unpickled. A ratio metric (accuracy, f1, ...) reported in percent (above 1) is kept
as ``<name>Pct`` rather than guessed into 0..1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hyper_registry.core.errors import Invalid, NotFound, TooLarge, Unavailable
from hyper_registry.core.ref import NAME_MAX, Ref
from hyper_registry.kinds.model.edit import document_of
from hyper_registry.kinds.model.spec import RATIO_METRICS

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

MAX_TEXT_BYTES = 1024 * 1024
FLAVOR_FRAMEWORKS = {
    "sklearn": "sklearn",
    "pytorch": "pytorch",
    "tensorflow": "tensorflow",
    "keras": "tensorflow",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "onnx": "onnx",
    "transformers": "huggingface",
}
LIBRARY_FRAMEWORKS = {**FLAVOR_FRAMEWORKS, "transformers": "huggingface", "pytorch": "pytorch"}
_METRIC = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.S)
_SLUG = re.compile(r"[^a-z0-9._-]+")


def _text(data: bytes, what: str) -> str:
    if len(data) > MAX_TEXT_BYTES:
        raise TooLarge(f"the {what} is {len(data)} bytes; the limit is {MAX_TEXT_BYTES}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid.at((), f"the {what} is not UTF-8 text (byte {exc.start})") from None


def _yaml(text: str, what: str, line_offset: int = 0) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1 + line_offset}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise Invalid.at(
            (), f"the {what} is not valid YAML{where}: {problem}", "bad-yaml"
        ) from None


def _metric(name: str, value: Any, out: dict[str, float]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not _METRIC.fullmatch(name):
        return
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        return
    if name in RATIO_METRICS and not 0 <= v <= 1:
        name = f"{name}Pct"
    out[name] = v


# -- MLflow -----------------------------------------------------------------------------


def _columns(raw: Any, where: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise Invalid.at(("signature", where), f"signature {where} is not JSON") from None
    if not isinstance(raw, list):
        raise Invalid.at(("signature", where), f"signature {where} must be a list")
    out = []
    for col in raw[:10000]:
        if not isinstance(col, dict):
            continue
        item: dict[str, Any] = {}
        if isinstance(col.get("name"), str):
            item["name"] = col["name"][:256]
        spec = col.get("tensor-spec")
        if isinstance(spec, dict):
            item["type"] = f"tensor<{spec.get('dtype')}>"[:256]
            if isinstance(spec.get("shape"), list):
                item["shape"] = [d if isinstance(d, int) else None for d in spec["shape"][:64]]
        elif isinstance(col.get("type"), str):
            item["type"] = col["type"][:256]
        out.append(item)
    return out


def mlflow_spec(data: bytes) -> dict[str, Any]:
    """A partial model spec from an MLflow ``MLmodel`` file."""
    doc = _yaml(_text(data, "MLmodel file"), "MLmodel file")
    if not isinstance(doc, dict):
        raise Invalid.at((), "an MLmodel file is a YAML mapping", "bad-mlmodel")
    flavors = doc.get("flavors")
    if not isinstance(flavors, dict) or not flavors:
        raise Invalid.at(("flavors",), "an MLmodel file lists its flavors", "bad-mlmodel")
    spec: dict[str, Any] = {"flavors": [str(f)[:64] for f in flavors][:64]}
    framework = next((FLAVOR_FRAMEWORKS[f] for f in flavors if f in FLAVOR_FRAMEWORKS), "other")
    spec["framework"] = framework
    if isinstance(doc.get("run_id"), str) and doc["run_id"]:
        spec["run"] = {"id": doc["run_id"][:256]}
    sig = doc.get("signature")
    if isinstance(sig, dict):
        spec["signature"] = {
            "inputs": _columns(sig.get("inputs"), "inputs"),
            "outputs": _columns(sig.get("outputs"), "outputs"),
        }
    metrics: dict[str, float] = {}
    if isinstance(doc.get("metadata"), dict):
        for k, v in doc["metadata"].items():
            _metric(str(k), v, metrics)
    if metrics:
        spec["metrics"] = metrics
    return spec


# -- ONNX -------------------------------------------------------------------------------


def onnx_spec(data: bytes) -> dict[str, Any]:
    """A partial model spec from an ONNX model (inputs, outputs, opsets)."""
    try:
        import onnx
        from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the onnx extra is installed in development
        raise Unavailable(
            "reading ONNX files needs the onnx package: pip install 'hyper-registry[onnx]'"
        ) from None
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise Invalid.at((), f"not an ONNX model: {type(exc).__name__}", "bad-onnx") from None
    graph = model.graph
    if not graph.output and not graph.input:
        raise Invalid.at((), "not an ONNX model: the graph has no inputs or outputs", "bad-onnx")
    initializers = {i.name for i in graph.initializer}

    def tensor(value: Any) -> dict[str, Any]:
        item: dict[str, Any] = {"name": value.name[:256]}
        t = value.type
        if t.HasField("tensor_type"):
            tt = t.tensor_type
            item["type"] = onnx.TensorProto.DataType.Name(tt.elem_type).lower()
            if tt.HasField("shape"):
                item["shape"] = [
                    d.dim_value if d.HasField("dim_value") else (d.dim_param[:128] or None)
                    for d in tt.shape.dim
                ][:64]
        else:
            item["type"] = t.WhichOneof("value") or "unknown"
        return item

    opsets = {(o.domain or "ai.onnx")[:128]: int(o.version) for o in model.opset_import}
    return {
        "framework": "onnx",
        "signature": {
            "inputs": [tensor(v) for v in graph.input if v.name not in initializers][:10000],
            "outputs": [tensor(v) for v in graph.output][:10000],
        },
        "opsets": opsets,
    }


# -- model cards ------------------------------------------------------------------------


def _slug(text: str) -> str:
    out = _SLUG.sub("-", text.lower()).strip("-._")
    while ".." in out:
        out = out.replace("..", ".")
    return out[:NAME_MAX].rstrip("-._")


def card_spec(data: bytes, namespace: str) -> dict[str, Any]:
    """A partial model spec from a model card's YAML front matter."""
    text = _text(data, "model card")
    match = _FRONT.match(text)
    if match is None:
        raise Invalid.at(
            (), "the model card has no YAML front matter (a '---' block first)", "no-front-matter"
        )
    front = _yaml(match.group(1), "model card's front matter", 1)
    if not isinstance(front, dict):
        raise Invalid.at((), "the model card's front matter is not a mapping", "bad-card")
    spec: dict[str, Any] = {}
    lic = front.get("license")
    if isinstance(lic, str) and lic:
        spec["license"] = lic[:256]
    datasets = front.get("datasets")
    if isinstance(datasets, str):
        datasets = [datasets]
    if isinstance(datasets, list):
        refs = [
            f"dataset:{namespace}/{s}" for d in datasets if isinstance(d, str) if (s := _slug(d))
        ]
        if refs:
            spec["trainingDatasets"] = list(dict.fromkeys(refs))[:1000]
    if isinstance(front.get("pipeline_tag"), str):
        spec["task"] = front["pipeline_tag"][:128]
    lib = front.get("library_name")
    if isinstance(lib, str) and lib in LIBRARY_FRAMEWORKS:
        spec["framework"] = LIBRARY_FRAMEWORKS[lib]
    metrics: dict[str, float] = {}
    index = front.get("model-index")
    if isinstance(index, list):
        for model in index:
            for result in (model or {}).get("results") or [] if isinstance(model, dict) else []:
                for m in (result or {}).get("metrics") or [] if isinstance(result, dict) else []:
                    if isinstance(m, dict) and isinstance(m.get("type"), str):
                        _metric(m["type"], m.get("value"), metrics)
    if isinstance(front.get("metrics"), dict):
        for k, v in front["metrics"].items():
            _metric(str(k), v, metrics)
    if metrics:
        spec["metrics"] = metrics
    return spec


# -- merging into a model version -------------------------------------------------------


def read_source(fmt: str, data: bytes, namespace: str) -> dict[str, Any]:
    if fmt == "mlflow":
        return mlflow_spec(data)
    if fmt == "onnx":
        return onnx_spec(data)
    if fmt == "card":
        return card_spec(data, namespace)
    raise Invalid.at(("format",), f"format {fmt!r} is not one of: mlflow, onnx, card", "bad-choice")


def import_into(
    registry: Registry, ref: Ref | str, fmt: str, data: bytes, *, actor: str
) -> dict[str, Any]:
    """Merge what a file says into model version ``ref`` (created if it does not exist)."""
    r = registry.ref(ref)
    if r.kind != "model" or not r.version:
        raise Invalid.at(("ref",), f"{ref}: name a model version (model:ns/name@1.0.0)", "bad-ref")
    found = read_source(fmt, data, r.namespace)
    try:
        entry = registry.get(r)
        doc = document_of(entry)
        expected: int | None = entry.revision
    except NotFound:
        doc = {
            "apiVersion": "hyper-registry/v1",
            "kind": "model",
            "metadata": {"namespace": r.namespace, "name": r.name, "version": r.version},
            "spec": {"framework": "other"},
        }
        expected = None
    spec = doc["spec"]
    for key, value in found.items():
        if key == "metrics":
            spec["metrics"] = {**(spec.get("metrics") or {}), **value}
        elif key == "trainingDatasets":
            spec[key] = list(dict.fromkeys([*(spec.get(key) or []), *value]))
        elif (
            key == "framework" and spec.get("framework") not in (None, "other") and value == "other"
        ):
            continue
        else:
            spec[key] = value
    if expected is None:
        entry = registry.register(doc, actor=actor)
    else:
        entry = registry.update(doc, expected_revision=expected, actor=actor)
    return {"ref": str(entry.ref), "imported": found, "entry": entry.to_dict()}


def import_file(
    registry: Registry, ref: Ref | str, fmt: str, path: Path, *, actor: str
) -> dict[str, Any]:
    from hyper_registry.kinds.model.files import max_bytes

    size = path.stat().st_size
    if size > max_bytes(registry):
        raise TooLarge(f"{path.name} is {size} bytes; the limit is {max_bytes(registry)}")
    return import_into(registry, ref, fmt, path.read_bytes(), actor=actor)
