"""The ``hyper-registry`` command.

Every command works the same against a local registry (``--data-dir`` or
``--database-url``) and against a server (``--server URL --token T``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hyper_registry.cli.backend import Backend
from hyper_registry.cli.context import (
    Depth,
    GraphOutput,
    Kinds,
    Output,
    State,
)
from hyper_registry.cli.context import (
    check_format as _check_format,
)
from hyper_registry.cli.context import (
    run as _run,
)
from hyper_registry.cli.context import (
    state as _state,
)
from hyper_registry.cli.output import emit, fail, graph_tree, table
from hyper_registry.core.errors import HyperRegistryError
from hyper_registry.core.loader import Source, load_path, read_stream
from hyper_registry.core.registry import Registry
from hyper_registry.store.base import GraphHit, Hop, Query

app = typer.Typer(
    name="hyper-registry",
    help="One catalog and one relation graph for plugins, services, models, datasets, IaC and security records.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", envvar="HYPER_REGISTRY_DATA_DIR", help="where the SQLite database lives"
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="HYPER_REGISTRY_DATABASE_URL",
            help="SQLAlchemy URL (PostgreSQL)",
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server", envvar="HYPER_REGISTRY_SERVER", help="talk to a server at this URL"
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="HYPER_REGISTRY_TOKEN", help="API token for --server"),
    ] = None,
) -> None:
    ctx.obj = State(data_dir, database_url, server, token)


# -- the store ---------------------------------------------------------------------------


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the newest migration."""
    try:
        with _state(ctx).registry() as reg:
            health = reg.store.health()
    except HyperRegistryError as exc:
        raise fail(exc) from None
    typer.echo(f"schema at revision {health.revision} (newest: {health.head})")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8080,
    demo: Annotated[bool, typer.Option("--demo", help="load the demo organisation first")] = False,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log", help="log every request (costs ~5% of throughput)"
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="server processes on the same store (one per core is a good start)",
        ),
    ] = 1,
) -> None:
    """Run the HTTP API (and the web UI) on HOST:PORT."""
    from hyper_registry.auth.bootstrap import TOKEN_FILE, ensure_admin_token

    state = _state(ctx)
    settings = state.settings()
    try:
        from hyper_registry.api.server import run
    except ImportError:
        typer.echo(
            "error: the server needs the 'server' extra: pip install 'hyper-registry[server]'",
            err=True,
        )
        raise typer.Exit(2) from None
    try:
        registry = Registry.open(settings)
        if demo:
            from hyper_registry.demo import load_demo

            counts = load_demo(registry).counts()
            typer.echo(
                "demo organisation: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            )
        token = ensure_admin_token(registry.tokens, Path(settings.data_dir))
    except HyperRegistryError as exc:
        raise fail(exc) from None
    typer.echo(f"Hyper Registry on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if token:
        typer.echo(
            f"admin token (shown once; also in {Path(settings.data_dir) / TOKEN_FILE}): {token}"
        )
    else:
        typer.echo(
            f"admin token: see {Path(settings.data_dir) / TOKEN_FILE} (created on first start)"
        )
    try:
        run(registry, host=host, port=port, workers=workers, access_log=access_log)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    finally:
        registry.close()


@app.command()
def demo(ctx: typer.Context) -> None:
    """Load the demo organisation (a payments platform across all six kinds)."""
    from hyper_registry.demo import demo_documents

    docs = demo_documents()
    result = _run(ctx, lambda b: b.apply(docs))
    typer.echo(
        "demo organisation: " + ", ".join(f"{v} {k}" for k, v in result["counts"].items() if v)
    )


# -- entries -----------------------------------------------------------------------------


def _read_inputs(files: list[str]) -> tuple[list[Source], list[Any]]:
    sources: list[Source] = []
    docs: list[Any] = []
    for name in files:
        stream: Iterator[tuple[Source, Any]] = (
            read_stream("<stdin>", sys.stdin) if name == "-" else load_path(name)
        )
        for source, doc in stream:
            sources.append(source)
            docs.append(doc)
    return sources, docs


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
    try:
        sources, docs = _read_inputs(file)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    where = [str(s) for s in sources]

    def go(backend: Backend) -> dict[str, Any]:
        if len(docs) >= 1000 and sys.stderr.isatty():
            with Progress(
                TextColumn("applying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            ) as bar:
                task = bar.add_task("apply", total=len(docs))
                return backend.apply(docs, progress=lambda n: bar.advance(task, n))
        return backend.apply(docs)

    report = _run(ctx, go, where)
    if output != "table":
        emit(report, output)
        return
    if len(report["results"]) <= 50:
        table(
            None,
            ["ref", "outcome", "revision"],
            [(r["ref"], r["outcome"], r["revision"]) for r in report["results"]],
        )
    typer.echo(
        ", ".join(f"{v} {k}" for k, v in report["counts"].items() if v) or "nothing to apply"
    )


@app.command()
def get(ctx: typer.Context, ref: str, output: Output = "yaml") -> None:
    """Print one entry (REF is kind:namespace/name, optionally @version or @alias)."""
    _check_format(output)
    data = _run(ctx, lambda b: b.get(ref))
    if output == "table":
        md = data["metadata"]
        table(
            None,
            ["ref", "title", "owner", "revision", "updated"],
            [(_ref_of(data), md.get("title"), md.get("owner"), md["revision"], md["updatedAt"])],
        )
    else:
        emit(data, output)


def _ref_of(entry: dict[str, Any]) -> str:
    md = entry["metadata"]
    return f"{entry['kind']}:{md['namespace']}/{md['name']}@{md['version']}"


def _query(
    kind: list[str] | None,
    namespace: str | None,
    owner: str | None,
    label: list[str] | None,
    tag: list[str] | None,
    text: str | None,
    all_versions: bool,
    limit: int,
) -> Query:
    labels = {}
    for item in label or []:
        key, eq, value = item.partition("=")
        if not eq:
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint="--label")
        labels[key] = value
    return Query(
        kinds=kind or None,
        namespace=namespace,
        owner=owner,
        labels=labels,
        tags=tag or (),
        text=text,
        all_versions=all_versions,
        limit=limit,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[list[str] | None, typer.Option("--kind", "-k")] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="key=value")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
    text: Annotated[
        str | None, typer.Option("--text", "-q", help="words in name, title or description")
    ] = None,
    all_versions: Annotated[bool, typer.Option("--all-versions")] = False,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    resource_type: Annotated[
        str | None,
        typer.Option(
            "--resource-type", help="infra templates holding this resource type (aws_db_instance)"
        ),
    ] = None,
    output: Output = "table",
) -> None:
    """List entries (the latest version of each unless --all-versions)."""
    _check_format(output)
    if resource_type is not None:
        from hyper_registry.cli.infra import find_by_resource

        if kind and set(kind) != {"infra"}:
            raise typer.BadParameter("only infra templates have resources", param_hint="--kind")
        items = [
            e
            for e in find_by_resource(ctx, resource_type, all_versions, limit)
            if namespace in (None, e["metadata"]["namespace"])
            and owner in (None, e["metadata"].get("owner"))
        ]
    else:
        q = _query(kind, namespace, owner, label, tag, text, all_versions, limit)
        items = _run(ctx, lambda b: b.search(q))
    if output != "table":
        emit(items, output)
        return
    table(
        None,
        ["ref", "title", "owner"],
        [(_ref_of(e), e["metadata"].get("title"), e["metadata"].get("owner")) for e in items],
    )


@app.command()
def describe(ctx: typer.Context, ref: str, output: Output = "table") -> None:
    """An entry with its relations in both directions, versions, aliases and status."""
    _check_format(output)
    data = _run(ctx, lambda b: b.describe(ref))
    if output != "table":
        emit(data, output)
        return
    entry = data["entry"]
    md = entry["metadata"]
    console = Console()
    console.print(f"[bold]{_ref_of(entry)}[/bold]  {md.get('title') or ''}")
    for key in ("description", "owner", "labels", "tags", "revision", "updatedAt"):
        if md.get(key):
            console.print(f"  {key}: {md[key]}", markup=False)
    console.print(f"  versions: {', '.join(data['versions'])}", markup=False)
    if data["aliases"]:
        console.print(
            "  aliases: " + ", ".join(f"{a} -> {v}" for a, v in data["aliases"].items()),
            markup=False,
        )
    if data["relations"]:
        table(
            "relations",
            ["relation", "other end", "resolves to", "from"],
            [
                (r["type"], r["target"], r.get("resolved") or "(not registered)", r["origin"])
                for r in data["relations"]
            ],
        )
    if entry.get("status"):
        console.print("status:")
        console.print(yaml.safe_dump(entry["status"], sort_keys=False), markup=False)


@app.command()
def delete(
    ctx: typer.Context,
    ref: str,
    revision: Annotated[
        int | None, typer.Option("--revision", help="refuse unless at this revision")
    ] = None,
) -> None:
    """Unregister one version (its own relations go with it)."""
    deleted = _run(ctx, lambda b: b.delete(ref, revision))
    typer.echo(f"deleted {deleted}")


@app.command()
def export(
    ctx: typer.Context,
    kind: Annotated[list[str] | None, typer.Option("--kind", "-k")] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
    all_versions: Annotated[bool, typer.Option("--all-versions/--latest")] = True,
    output: Annotated[str, typer.Option("-o", "--output", help="yaml or ndjson")] = "yaml",
) -> None:
    """Write entries as documents that `apply -f` takes back."""
    _check_format(output, ("yaml", "ndjson"))
    q = Query(kinds=kind or None, namespace=namespace, all_versions=all_versions, limit=500)

    def go(backend: Backend) -> None:
        first = True
        for doc in backend.export(q):
            if output == "ndjson":
                sys.stdout.write(orjson.dumps(doc).decode() + "\n")
            else:
                if not first:
                    sys.stdout.write("---\n")
                sys.stdout.write(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
            first = False

    _run(ctx, go)


# -- the graph ---------------------------------------------------------------------------


def _graph(
    ctx: typer.Context, ref: str, mode: str, depth: int | None, kinds: list[str] | None, output: str
) -> None:
    _check_format(output, ("tree", "json", "yaml"))
    data = _run(ctx, lambda b: b.graph(ref, mode, depth, kinds or []))
    if output != "tree":
        emit(data, output)
        return
    key = next(k for k in data if k != "root")
    hits = [
        GraphHit(
            ref=h["ref"],
            depth=h["depth"],
            path=tuple(Hop(p["relation"], p["ref"]) for p in h["path"]),
        )
        for h in data[key]
    ]
    graph_tree(data["root"], hits)


@app.command()
def impact(
    ctx: typer.Context,
    ref: str,
    depth: Depth = None,
    kind: Kinds = None,
    output: GraphOutput = "tree",
) -> None:
    """Everything a problem in REF reaches, with the path to each.

    REF may also be a vulnerability id or alias (CVE-2021-44228, GHSA-..., PYSEC-...):
    then the affected components, SBOMs, artifacts and their dependents are shown.
    """
    from hyper_registry.cli import security

    if security.looks_like_vulnerability(ref):
        security.impact_command(ctx, ref, depth, output)
        return
    _graph(ctx, ref, "impact", depth, kind, output)


@app.command()
def deps(
    ctx: typer.Context,
    ref: str,
    depth: Depth = None,
    kind: Kinds = None,
    output: GraphOutput = "tree",
) -> None:
    """What REF needs, transitively."""
    _graph(ctx, ref, "dependencies", depth, kind, output)


@app.command()
def dependents(
    ctx: typer.Context,
    ref: str,
    depth: Depth = None,
    kind: Kinds = None,
    output: GraphOutput = "tree",
) -> None:
    """What needs REF, transitively."""
    _graph(ctx, ref, "dependents", depth, kind, output)


@app.command()
def changes(
    ctx: typer.Context,
    since: Annotated[int, typer.Option("--since", help="read after this sequence number")] = 0,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    output: Output = "table",
) -> None:
    """Read the change log."""
    _check_format(output)
    rows = _run(ctx, lambda b: b.changes(since, limit))
    if output != "table":
        emit(rows, output)
        return
    table(
        None,
        ["seq", "at", "actor", "op", "ref", "revision"],
        [(r["seq"], r["at"], r["actor"], r["op"], r["ref"], r["revision"]) for r in rows],
    )


# -- tokens ------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str,
    role: Annotated[str, typer.Option("--role", help="reader, writer or admin")] = "reader",
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", "-n", help="repeat; omit for all")
    ] = None,
    output: Output = "table",
) -> None:
    """Create a token; its secret is printed once and never stored."""
    _check_format(output)
    data = _run(ctx, lambda b: b.token_create(name, role, namespace or None))
    if output != "table":
        emit(data, output)
        return
    typer.echo(f"token {data['id']} ({data['role']} on {', '.join(data['namespaces'])}):")
    typer.echo(data["token"])


@token_app.command("list")
def token_list(ctx: typer.Context, output: Output = "table") -> None:
    """List tokens (never their secrets)."""
    _check_format(output)
    rows = _run(ctx, lambda b: b.token_list())
    if output != "table":
        emit(rows, output)
        return
    table(
        None,
        ["id", "name", "role", "namespaces", "created", "revoked"],
        [
            (
                t["id"],
                t["name"],
                t["role"],
                ",".join(t["namespaces"]),
                t["createdAt"],
                t.get("revokedAt") or "",
            )
            for t in rows
        ],
    )


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: str) -> None:
    """Revoke a token by id."""
    _run(ctx, lambda b: b.token_revoke(token_id))
    typer.echo(f"revoked {token_id}")


def _add_domain_commands() -> None:
    from hyper_registry.cli import infra, ingest, ml, plugins, security, services

    for module in (security, ml, plugins, services, infra, ingest):
        module.register(app)


_add_domain_commands()


def main() -> None:
    app()
