"""Commands for models and datasets: lineage, comparison, schema evolution, quality, OpenLineage.

Every command works on a local registry and, with ``--server``, against a server:

    hyper-registry lineage REF --direction upstream|downstream|both --depth N -o json
    hyper-registry model compare REF REF... [--metric M] [--direction M=lower] -o json
    hyper-registry model alias REF ALIAS          hyper-registry model aliases REF
    hyper-registry model upload REF FILE          hyper-registry model import-mlflow REF FILE
    hyper-registry model import-onnx REF FILE     hyper-registry model import-card REF FILE
    hyper-registry dataset diff REF [--against V] hyper-registry dataset check REF SCHEMA-FILE
    hyper-registry dataset quality REF --set completeness=0.8 [--threshold completeness=0.9]
    hyper-registry openlineage EVENT-FILE...      hyper-registry lineage-run RUN-ID
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.tree import Tree

from hyper_registry.cli.context import Output, check_format, client, state
from hyper_registry.cli.output import emit, fail, table
from hyper_registry.core.errors import HyperRegistryError, Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.core.registry import Registry

LOCAL_ACTOR = "local"  # as the core commands write locally

model_app = typer.Typer(help="Models: compare, aliases, files and imports.", no_args_is_help=True)
dataset_app = typer.Typer(help="Datasets: schema diffs and checks, quality.", no_args_is_help=True)


def _call(
    ctx: typer.Context,
    local: Callable[[Registry], Any],
    remote: Callable[[Any], Any],
) -> Any:
    """Run ``local`` on a local registry, or ``remote`` on the ``--server`` client."""
    try:
        c = client(ctx)
        if c is not None:
            try:
                return remote(c)
            finally:
                c.close()
        reg = state(ctx).registry()
        try:
            return local(reg)
        finally:
            reg.close()
    except HyperRegistryError as exc:
        raise fail(exc) from None


def _ref(text: str, kind: str | None = None) -> Ref:
    try:
        ref = Ref.parse(text, default_kind=kind)
    except Invalid as exc:
        raise fail(exc) from None
    if kind is not None and ref.kind != kind:
        raise fail(Invalid.at(("ref",), f"{text} is not a {kind} reference"))
    return ref


def _path(ref: Ref, kind_prefix: str) -> str:
    base = f"/v1/{kind_prefix}/{quote(ref.namespace, safe='')}/{quote(ref.name, safe='')}"
    return base + (f"/versions/{quote(ref.version, safe='')}" if ref.version else "")


def _pairs(items: list[str] | None, what: str, number: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(Invalid.at((what,), f"{item!r} must look like name=value"))
        if number:
            try:
                out[key] = float(value)
            except ValueError:
                raise fail(Invalid.at((what, key), f"{value!r} is not a number")) from None
        else:
            out[key] = value
    return out


# -- lineage ----------------------------------------------------------------------------


def _print_lineage(data: dict[str, Any]) -> None:
    tree = Tree(f"[bold]{data['root']}[/bold]")
    for side, word in (("upstream", "upstream (reads from)"), ("downstream", "downstream")):
        nodes = [n for n in data["nodes"] if n["side"] == side]
        if not nodes:
            continue
        branch = tree.add(f"[dim]{word}[/dim]")
        for n in nodes:
            jobs = [
                t["job"]["name"]
                for e in data["edges"]
                if n["ref"] == (e["to"] if side == "downstream" else e["from"])
                for t in e["transformations"]
            ]
            extra = f" [dim]via {', '.join(sorted(set(jobs)))}[/dim]" if jobs else ""
            branch.add(
                f"{'  ' * (n['depth'] - 1)}{n['ref']} [dim](depth {n['depth']})[/dim]{extra}"
            )
    Console().print(tree)


def lineage(
    ctx: typer.Context,
    ref: str,
    direction: Annotated[
        str, typer.Option("--direction", help="upstream, downstream or both")
    ] = "both",
    depth: Annotated[int | None, typer.Option("--depth", help="levels to follow")] = None,
    output: Annotated[str, typer.Option("-o", "--output", help="tree, json or yaml")] = "tree",
) -> None:
    """The lineage of a dataset or model: what it comes from and what uses it."""
    check_format(output, ("tree", "json", "yaml"))
    r = _ref(ref)

    def local(reg: Registry) -> Any:
        from hyper_registry.graph.lineage import build_lineage_graph

        return build_lineage_graph(reg, r, direction, depth).to_dict()

    def remote(c: Any) -> Any:
        params: dict[str, Any] = {"direction": direction}
        if depth is not None:
            params["depth"] = depth
        base = f"/v1/lineage/{quote(r.kind, safe='')}" + _path(r, "x")[len("/v1/x") :]
        return c.request("GET", base, params=params)

    data = _call(ctx, local, remote)
    if output == "tree":
        _print_lineage(data)
    else:
        emit(data, output)


def openlineage_send(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="JSON files, one event each (or a list)")],
    output: Output = "table",
) -> None:
    """Send OpenLineage events (JSON files) to the registry."""
    check_format(output)
    events: list[Any] = []
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise fail(Invalid.at((str(f),), f"cannot read {f}: {exc}")) from None
        events.extend(data if isinstance(data, list) else [data])

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.dataset.openlineage import ingest

        return [ingest(reg, e, actor=LOCAL_ACTOR) for e in events]

    def remote(c: Any) -> Any:
        return [c.request("POST", "/v1/lineage", json=e) for e in events]

    results = _call(ctx, local, remote)
    if output != "table":
        emit(results, output)
        return
    rows = []
    for res in results:
        run = res.get("run") or {}
        for d in res["datasets"]:
            rows.append((run.get("runId"), run.get("state"), d["ref"], d["outcome"]))
    table(None, ["run", "state", "dataset", "outcome"], rows)


def lineage_run(ctx: typer.Context, run_id: str, output: Output = "yaml") -> None:
    """An OpenLineage run and its state history."""
    check_format(output)

    def local(reg: Registry) -> Any:
        from hyper_registry.core.errors import NotFound
        from hyper_registry.kinds.dataset.openlineage import run_history

        found = run_history(reg, run_id)
        if found is None:
            raise NotFound(f"run {run_id} not found")
        return found

    def remote(c: Any) -> Any:
        return c.request("GET", f"/v1/lineage/runs/{quote(run_id, safe='')}")

    emit(_call(ctx, local, remote), "json" if output == "table" else output)


# -- models -----------------------------------------------------------------------------


@model_app.command("compare")
def model_compare(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="model references (two or more)")],
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="compare only these metrics")
    ] = None,
    direction: Annotated[
        list[str] | None,
        typer.Option("--direction", help="NAME=higher|lower for a metric's direction"),
    ] = None,
    primary: Annotated[str | None, typer.Option("--primary", help="the deciding metric")] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="deltas against this model")
    ] = None,
    output: Output = "table",
) -> None:
    """Compare model versions: the table per metric, winners, overall winner, Pareto set."""
    check_format(output)
    parsed = [_ref(x, "model") for x in refs]
    directions = _pairs(direction, "direction", False)
    body: dict[str, Any] = {"refs": [str(p) for p in parsed], "directions": directions}
    if metric:
        body["metrics"] = metric
    if primary:
        body["primary"] = primary
    if baseline:
        body["baseline"] = str(_ref(baseline, "model"))

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.model.compare import compare_models

        return compare_models(
            reg,
            parsed,
            metric,
            directions=directions,
            primary=primary,
            baseline=body.get("baseline"),
        )

    data = _call(ctx, local, lambda c: c.request("POST", "/v1/models/compare", json=body))
    if output != "table":
        emit(data, output)
        return
    names = list(next(iter(data["metrics"].values()))["values"]) if data["metrics"] else []
    rows = []
    for m, col in data["metrics"].items():
        cells = []
        for n in names:
            v, d = col["values"][n], col["deltas"][n]
            text = "-" if v is None else f"{v:g}"
            if d not in (None, 0) and n != col["baseline"]:
                text += f" ({d:+g})"
            if data["winners"].get(m) == n:
                text += " *"
            cells.append(text)
        rows.append((m, col["direction"], *cells))
    table(None, ["metric", "better", *names], rows)
    typer.echo(f"winner: {data['winner'] or '(no primary metric)'}")
    typer.echo(f"pareto: {', '.join(data['pareto'])}")


@model_app.command("alias")
def model_alias(ctx: typer.Context, ref: str, alias: str, output: Output = "table") -> None:
    """Point ALIAS at the model version REF (the move is recorded)."""
    check_format(output)
    r = _ref(ref, "model")

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.model.aliases import move_alias

        return move_alias(reg, r, alias, actor=LOCAL_ACTOR)

    def remote(c: Any) -> Any:
        path = _path(r.unversioned, "models") + f"/aliases/{quote(alias, safe='')}"
        return c.request("PUT", path, json={"version": r.version or ""})

    data = _call(ctx, local, remote)
    if output != "table":
        emit(data, output)
    else:
        typer.echo(f"{alias} -> {data['ref']}")


@model_app.command("aliases")
def model_aliases(ctx: typer.Context, ref: str, output: Output = "table") -> None:
    """A model's aliases and every move they made."""
    check_format(output)
    r = _ref(ref, "model").unversioned

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.model.aliases import aliases_with_history

        reg.get(r)
        return aliases_with_history(reg, r)

    data = _call(ctx, local, lambda c: c.request("GET", _path(r, "models") + "/aliases"))
    if output != "table":
        emit(data, output)
        return
    table(
        None,
        ["at", "actor", "alias", "from", "to"],
        [(h["at"], h["actor"], h["alias"], h["from"], h["to"]) for h in data["history"]],
    )


@model_app.command("upload")
def model_upload(
    ctx: typer.Context,
    ref: str,
    file: Path,
    name: Annotated[str | None, typer.Option("--name", help="file name to list")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="onnx, pickle, ...")] = None,
    output: Output = "table",
) -> None:
    """Upload a model file (stored by sha256, never deserialized) for a model version."""
    check_format(output)
    r = _ref(ref, "model")
    if not file.is_file():
        raise fail(Invalid.at(("file",), f"{file} is not a file"))
    file_name = name or file.name

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.model.files import read_chunks, upload_file

        return upload_file(reg, r, read_chunks(file), name=file_name, fmt=fmt, actor=LOCAL_ACTOR)

    def remote(c: Any) -> Any:
        params = {"name": file_name, **({"format": fmt} if fmt else {})}
        with file.open("rb") as fh:
            return c.request(
                "POST",
                _path(r, "models") + "/files",
                content=fh,
                params=params,
                headers={"Content-Type": "application/octet-stream"},
            )

    data = _call(ctx, local, remote)
    if output != "table":
        emit(data, output)
    else:
        typer.echo(f"{data['ref']}: {data['name']} {data['sha256']} ({data['size']} bytes)")


def _import(ctx: typer.Context, ref: str, file: Path, fmt: str, output: str) -> None:
    check_format(output)
    r = _ref(ref, "model")
    if not file.is_file():
        raise fail(Invalid.at(("file",), f"{file} is not a file"))

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.model.imports import import_file

        return import_file(reg, r, fmt, file, actor=LOCAL_ACTOR)

    def remote(c: Any) -> Any:
        return c.request(
            "POST",
            _path(r, "models") + "/import",
            content=file.read_bytes(),
            params={"format": fmt},
            headers={"Content-Type": "application/octet-stream"},
        )

    data = _call(ctx, local, remote)
    if output != "table":
        emit(data, output)
    else:
        typer.echo(f"{data['ref']}: imported {', '.join(sorted(data['imported']))}")


@model_app.command("import-mlflow")
def import_mlflow(ctx: typer.Context, ref: str, file: Path, output: Output = "table") -> None:
    """Import an MLflow MLmodel file (flavors, signature, run id) into a model version."""
    _import(ctx, ref, file, "mlflow", output)


@model_app.command("import-onnx")
def import_onnx(ctx: typer.Context, ref: str, file: Path, output: Output = "table") -> None:
    """Import an ONNX model's inputs, outputs and opsets into a model version."""
    _import(ctx, ref, file, "onnx", output)


@model_app.command("import-card")
def import_card(ctx: typer.Context, ref: str, file: Path, output: Output = "table") -> None:
    """Import a model card's front matter (license, datasets, metrics) into a model version."""
    _import(ctx, ref, file, "card", output)


# -- datasets ---------------------------------------------------------------------------


@dataset_app.command("diff")
def dataset_diff(
    ctx: typer.Context,
    ref: str,
    against: Annotated[str | None, typer.Option("--against", help="the other version")] = None,
    output: Output = "table",
) -> None:
    """The schema changes of a dataset version against the version before (or --against)."""
    check_format(output)
    r = _ref(ref, "dataset")

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.dataset.service import schema_diff

        return schema_diff(reg, r, against)

    def remote(c: Any) -> Any:
        version = r.version or c.get(r)["metadata"]["version"]
        params = {"against": against} if against else None
        path = _path(r.at(version), "datasets") + "/schema/diff"
        return c.request("GET", path, params=params)

    data = _call(ctx, local, remote)
    if output != "table":
        emit(data, output)
        return
    typer.echo(f"{data['from']} -> {data['to']}")
    table(
        None,
        ["change", "field", "detail"],
        [
            (
                ch["change"],
                ch["field"],
                ", ".join(f"{k}={v}" for k, v in ch.items() if k not in ("change", "field")),
            )
            for ch in data["changes"]
        ],
    )


@dataset_app.command("check")
def dataset_check(
    ctx: typer.Context,
    ref: str,
    schema_file: Path,
    compatibility: Annotated[
        str | None, typer.Option("--compatibility", help="mode (default: the dataset's)")
    ] = None,
    output: Output = "table",
) -> None:
    """Would this schema (JSON or YAML: {format, fields|definition}) be accepted? Why not?"""
    check_format(output)
    r = _ref(ref, "dataset")
    try:
        import yaml

        schema = yaml.safe_load(schema_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(Invalid.at(("schema",), f"cannot read {schema_file}: {exc}")) from None
    if isinstance(schema, dict) and "type" in schema and "format" not in schema:
        schema = {"format": "avro", "definition": schema}  # a bare .avsc file

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.dataset.service import check_schema

        return check_schema(reg, r, schema, compatibility)

    def remote(c: Any) -> Any:
        body = {"schema": schema, "compatibility": compatibility}
        return c.request("POST", _path(r.unversioned, "datasets") + "/schema/check", json=body)

    data = _call(ctx, local, remote)
    if output != "table":
        emit(data, output)
    else:
        typer.echo(f"{data['mode']}: {'compatible' if data['compatible'] else 'INCOMPATIBLE'}")
        for reason in data["reasons"]:
            typer.echo(f"  - {reason}")
    if not data["compatible"]:
        raise typer.Exit(2)


@dataset_app.command("quality")
def dataset_quality(
    ctx: typer.Context,
    ref: str,
    set_: Annotated[list[str] | None, typer.Option("--set", help="DIMENSION=VALUE in 0..1")] = None,
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", help="DIMENSION=MINIMUM in 0..1")
    ] = None,
    output: Output = "table",
) -> None:
    """Record quality measures (and thresholds); a breach raises a dataset.quality alert."""
    check_format(output)
    r = _ref(ref, "dataset")
    quality = _pairs(set_, "quality", True) or None
    thresholds = _pairs(threshold, "thresholds", True) or None

    def local(reg: Registry) -> Any:
        from hyper_registry.kinds.dataset.service import set_quality

        return set_quality(reg, r, quality, thresholds, actor=LOCAL_ACTOR)

    def remote(c: Any) -> Any:
        version = r.version or c.get(r)["metadata"]["version"]
        body = {"quality": quality, "thresholds": thresholds}
        return c.request("PUT", _path(r.at(version), "datasets") + "/quality", json=body)

    data = _call(ctx, local, remote)
    if output != "table":
        emit(data, output)
        return
    typer.echo(f"{data['ref']}: {data['quality']}")
    for b in data["breaches"]:
        typer.echo(f"  below threshold: {b['dimension']} {b['value']:g} < {b['threshold']:g}")
    if data["alert"]:
        consumers = [c["ref"] for c in data["alert"].get("consumers", [])]
        typer.echo(f"  alert #{data['alert']['seq']}: consumers {', '.join(consumers) or 'none'}")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
    app.command("lineage")(lineage)
    app.command("openlineage")(openlineage_send)
    app.command("lineage-run")(lineage_run)
    app.add_typer(model_app, name="model")
    app.add_typer(dataset_app, name="dataset")
