"""The ``hyper-registry`` command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hyper_registry.cli.output import emit, fail, graph_tree, table
from hyper_registry.core.errors import BatchRefused, HyperRegistryError
from hyper_registry.core.loader import Source, load_path, read_stream
from hyper_registry.core.registry import Registry
from hyper_registry.core.settings import Settings
from hyper_registry.store.base import Query

app = typer.Typer(
    name="hyper-registry",
    help="One catalog and one relation graph for plugins, services, models, datasets, IaC and security records.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="HYPER_REGISTRY_DATA_DIR", help="where the SQLite database lives"
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", envvar="HYPER_REGISTRY_DATABASE_URL", help="SQLAlchemy URL (PostgreSQL)"
    ),
]
Output = Annotated[str, typer.Option("-o", "--output", help="table, json or yaml")]


class State:
    def __init__(self) -> None:
        self.data_dir: Path | None = None
        self.database_url: str | None = None

    def settings(self) -> Settings:
        overrides: dict[str, Any] = {}
        if self.data_dir is not None:
            overrides["data_dir"] = self.data_dir
        if self.database_url:
            overrides["database_url"] = self.database_url
        return Settings(**overrides)

    def registry(self) -> Registry:
        return Registry.open(self.settings())


@app.callback()
def _root(ctx: typer.Context, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    state = State()
    state.data_dir = data_dir
    state.database_url = database_url
    ctx.obj = state


def _state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def _check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json", "yaml")) -> None:
    if fmt not in allowed:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(allowed)}", param_hint="-o")


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the database schema."""
    try:
        reg = _state(ctx).registry()
        health = reg.store.health()
        reg.close()
    except HyperRegistryError as exc:
        raise fail(exc) from None
    typer.echo(f"schema at revision {health.revision} (head {health.head})")


@app.command()
def apply(
    ctx: typer.Context,
    file: Annotated[
        list[str], typer.Option("-f", "--filename", help="file, directory or - for stdin")
    ],
    output: Output = "table",
) -> None:
    """Create or update entries from YAML/JSON files or directories (all or nothing)."""
    _check_format(output)
    sources: list[Source] = []
    docs: list[Any] = []
    try:
        for name in file:
            stream: Iterator[tuple[Source, Any]] = (
                read_stream("<stdin>", sys.stdin) if name == "-" else load_path(name)
            )
            for source, doc in stream:
                sources.append(source)
                docs.append(doc)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    where = [str(s) for s in sources]
    try:
        with _state(ctx).registry() as reg:
            if len(docs) >= 1000 and sys.stderr.isatty():
                with Progress(
                    TextColumn("applying"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=Console(stderr=True),
                ) as bar:
                    task = bar.add_task("apply", total=len(docs))
                    report = reg.apply_many(docs, progress=lambda n: bar.advance(task, n))
            else:
                report = reg.apply_many(docs)
    except BatchRefused as exc:
        raise fail(exc, where) from None
    except HyperRegistryError as exc:
        raise fail(exc) from None
    if output != "table":
        emit({"counts": report.counts(), "results": [r.to_dict() for r in report.results]}, output)
        return
    if len(report.results) <= 50:
        table(
            None,
            ["ref", "outcome", "revision"],
            [(str(r.ref), r.outcome, r.revision) for r in report.results],
        )
    counts = report.counts()
    typer.echo(", ".join(f"{v} {k}" for k, v in counts.items() if v) or "nothing to apply")


@app.command()
def get(ctx: typer.Context, ref: str, output: Output = "yaml") -> None:
    """Print one entry (REF is kind:namespace/name, optionally @version or @alias)."""
    _check_format(output)
    try:
        with _state(ctx).registry() as reg:
            entry = reg.get(ref)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    data = entry.to_dict()
    if output == "table":
        md = data["metadata"]
        table(
            None,
            ["ref", "title", "owner", "revision", "updated"],
            [(str(entry.ref), md.get("title"), md.get("owner"), md["revision"], md["updatedAt"])],
        )
    else:
        emit(data, output)


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[list[str] | None, typer.Option("--kind", "-k")] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="key=value")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
    text: Annotated[str | None, typer.Option("--text", "-q")] = None,
    all_versions: Annotated[bool, typer.Option("--all-versions")] = False,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    output: Output = "table",
) -> None:
    """List entries (latest versions unless --all-versions)."""
    _check_format(output)
    labels = {}
    for item in label or []:
        key, eq, value = item.partition("=")
        if not eq:
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint="--label")
        labels[key] = value
    q = Query(
        kinds=kind or None,
        namespace=namespace,
        owner=owner,
        labels=labels,
        tags=tag or (),
        text=text,
        all_versions=all_versions,
        limit=limit,
    )
    try:
        with _state(ctx).registry() as reg:
            page = reg.query(q)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    if output != "table":
        emit([e.to_dict() for e in page.items], output)
        return
    table(
        None,
        ["ref", "title", "owner"],
        [(str(e.ref), e.metadata.title, e.metadata.owner) for e in page.items],
    )


@app.command()
def delete(
    ctx: typer.Context,
    ref: str,
    revision: Annotated[
        int | None, typer.Option("--revision", help="refuse if not at this revision")
    ] = None,
) -> None:
    """Unregister one version (its own relations go with it)."""
    try:
        with _state(ctx).registry() as reg:
            entry = reg.unregister(ref, expected_revision=revision)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    typer.echo(f"deleted {entry.ref}")


def _graph(
    ctx: typer.Context, ref: str, mode: str, depth: int | None, kinds: list[str] | None, output: str
) -> None:
    _check_format(output, ("tree", "json", "yaml"))
    try:
        with _state(ctx).registry() as reg:
            root = reg.get(ref).ref
            fn = {"impact": reg.impact, "deps": reg.dependencies, "dependents": reg.dependents}[
                mode
            ]
            hits = fn(root, depth=depth, kinds=kinds or None)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    if output == "tree":
        graph_tree(str(root), hits)
        return
    key = "affected" if mode == "impact" else ("dependencies" if mode == "deps" else "dependents")
    emit({"root": str(root), key: [h.to_dict() for h in hits]}, output)


Depth = Annotated[int | None, typer.Option("--depth", help="how many relations deep")]
Kinds = Annotated[list[str] | None, typer.Option("--kind", "-k", help="only report these kinds")]


@app.command()
def impact(
    ctx: typer.Context,
    ref: str,
    depth: Depth = None,
    kind: Kinds = None,
    output: Annotated[str, typer.Option("-o", "--output")] = "tree",
) -> None:
    """Everything a problem in REF reaches, with the path to each."""
    _graph(ctx, ref, "impact", depth, kind, output)


@app.command()
def deps(
    ctx: typer.Context,
    ref: str,
    depth: Depth = None,
    kind: Kinds = None,
    output: Annotated[str, typer.Option("-o", "--output")] = "tree",
) -> None:
    """What REF needs, transitively."""
    _graph(ctx, ref, "deps", depth, kind, output)


@app.command()
def dependents(
    ctx: typer.Context,
    ref: str,
    depth: Depth = None,
    kind: Kinds = None,
    output: Annotated[str, typer.Option("-o", "--output")] = "tree",
) -> None:
    """What needs REF, transitively."""
    _graph(ctx, ref, "dependents", depth, kind, output)


@app.command()
def changes(
    ctx: typer.Context,
    since: Annotated[int, typer.Option("--since", help="sequence number to read after")] = 0,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    output: Output = "table",
) -> None:
    """Read the change log."""
    _check_format(output)
    try:
        with _state(ctx).registry() as reg:
            rows = reg.changes(since, limit)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    if output != "table":
        emit([r.to_dict() for r in rows], output)
        return
    table(
        None,
        ["seq", "at", "actor", "op", "ref", "revision"],
        [(r.seq, r.at, r.actor, r.op, r.ref, r.revision) for r in rows],
    )


def main() -> None:
    app()
