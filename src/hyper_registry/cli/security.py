"""Commands for SBOMs, advisories, findings, VEX and vulnerability impact.

``sbom import``, ``advisories import``, ``vex import``, ``vulns summary|list|show|triage|
portfolio``; ``hyper-registry impact CVE-...`` comes here through :func:`impact_command`.
Each works on a local registry and, with ``--server``, through the HTTP API.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from hyper_registry.cli.context import Output, check_format, client, state
from hyper_registry.cli.output import emit, fail, graph_tree, table
from hyper_registry.core.errors import HyperRegistryError, Invalid
from hyper_registry.core.ref import Ref
from hyper_registry.store.base import GraphHit, Hop

sbom_app = typer.Typer(help="Import SBOMs (CycloneDX, SPDX).", no_args_is_help=True)
advisories_app = typer.Typer(help="Import vulnerability advisories (OSV).", no_args_is_help=True)
vulns_app = typer.Typer(help="Findings: summaries, lists, triage.", no_args_is_help=True)
vex_app = typer.Typer(help="Import VEX statements (OpenVEX).", no_args_is_help=True)

MAX_FILE_BYTES = 50 * 1024 * 1024


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
    app.add_typer(sbom_app, name="sbom")
    app.add_typer(advisories_app, name="advisories")
    app.add_typer(vulns_app, name="vulns")
    app.add_typer(vex_app, name="vex")


def _call(ctx: typer.Context, local: Callable[[Any], Any], remote: Callable[[Any], Any]) -> Any:
    """Run ``local(index)`` on a local registry, or ``remote(client)`` with ``--server``."""
    from hyper_registry.kinds.security.index import SecurityIndex

    try:
        http = client(ctx)
        if http is not None:
            try:
                return remote(http)
            finally:
                close = getattr(http, "close", None)
                if callable(close):
                    close()
        with state(ctx).registry() as reg:
            return local(reg.extension(SecurityIndex))
    except HyperRegistryError as exc:
        raise fail(exc) from None


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise fail(Invalid(f"{path.name} is {size} bytes; the limit is {MAX_FILE_BYTES}"))
        return path.read_bytes()
    except OSError as exc:
        raise fail(Invalid(f"cannot read {path.name}: {exc.strerror}")) from None


# -- SBOMs -------------------------------------------------------------------------------


@sbom_app.command("import")
def sbom_import(
    ctx: typer.Context,
    file: Path,
    describes: Annotated[
        str | None, typer.Option("--describes", help="the entry the SBOM describes")
    ] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="entry name (default: derived)")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="entry version")] = None,
    output: Output = "table",
) -> None:
    """Import an SBOM (format detected from the content), link it and match it."""
    check_format(output)
    data = _read(file)
    params = {
        k: v
        for k, v in {
            "namespace": namespace,
            "name": name,
            "version": version,
            "describes": describes,
        }.items()
        if v is not None
    }
    report = _call(
        ctx,
        lambda idx: idx.import_sbom(data, **params),
        lambda http: http.request("POST", "/v1/security/sboms", content=data, params=params),
    )
    if output != "table":
        emit(report, output)
        return
    link = report["linked"] or "unlinked"
    typer.echo(
        f"{report['outcome']} {report['ref']} ({report['format']} {report['specVersion']}, "
        f"{report['components']} components, {report['unmatchable']} unmatchable) -> {link}"
    )
    for msg in report.get("messages", []):
        typer.echo(f"  note: {msg}")
    for note in report.get("notes", [])[:20]:
        typer.echo(f"  {note['where']}: {note['message']}")
    _print_summary(report["summary"])


def _print_summary(counts: dict[str, int]) -> None:
    table(None, list(counts), [list(counts.values())])


# -- advisories --------------------------------------------------------------------------


@advisories_app.command("import")
def advisories_import(
    ctx: typer.Context,
    path: Path,
    namespace: Annotated[
        str, typer.Option("--namespace", "-n", help="where the advisories are kept")
    ] = "advisories",
    output: Output = "table",
) -> None:
    """Import OSV advisories from a file, a directory or an OSV zip archive, and match them."""
    check_format(output)
    from hyper_registry.kinds.security.formats import iter_advisories

    def local(idx: Any) -> Any:
        with Progress(
            SpinnerColumn(),
            TextColumn("advisories {task.completed}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=not sys.stderr.isatty(),
        ) as bar:
            task = bar.add_task("import", total=None)
            return idx.import_advisories(
                iter_advisories(path),
                namespace=namespace,
                progress=lambda n: bar.advance(task, n),
            )

    def remote(http: Any) -> Any:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        total: dict[str, Any] = {}
        for f in files:
            if f.suffix not in (".json", ".yaml", ".yml"):
                continue
            got = http.request(
                "POST",
                "/v1/security/advisories",
                content=_read(f),
                params={"namespace": namespace},
            )
            for k, v in got.items():
                total[k] = total.get(k, 0 if isinstance(v, int) else []) + v
        return total

    report = _call(ctx, local, remote)
    if output != "table":
        emit(report, output)
        return
    typer.echo(
        f"read {report['read']}: {report['created']} created, {report['updated']} updated, "
        f"{report['unchanged']} unchanged, {report['refused']} refused, "
        f"{report['withdrawn']} withdrawn; findings +{report['newFindings']} "
        f"-{report['removedFindings']}"
    )
    for item in report["refusedItems"][:20]:
        typer.echo(f"  refused {item.get('id') or item.get('file')}: {item['reason']}")
    for note in report["notes"][:20]:
        typer.echo(f"  {note['advisory']} {note['where']}: {note['message']}")


# -- VEX ---------------------------------------------------------------------------------


@vex_app.command("import")
def vex_import(ctx: typer.Context, file: Path, output: Output = "table") -> None:
    """Import an OpenVEX document; its statements suppress or confirm findings."""
    check_format(output)
    data = _read(file)
    report = _call(
        ctx,
        lambda idx: idx.import_openvex(data),
        lambda http: http.request("POST", "/v1/security/vex", content=data),
    )
    if output != "table":
        emit(report, output)
        return
    typer.echo(f"{report['statements']} statements; {report['findings']} findings re-triaged")


# -- findings ----------------------------------------------------------------------------


@vulns_app.command("summary")
def vulns_summary(ctx: typer.Context, ref: str, output: Output = "table") -> None:
    """Counts of findings of an SBOM or of any artifact (through its SBOMs)."""
    check_format(output)
    counts = _call(
        ctx,
        lambda idx: idx.summary(ref),
        lambda http: http.request("GET", "/v1/security/summary", params={"ref": ref}),
    )
    if output != "table":
        emit(counts, output)
        return
    _print_summary(counts)


@vulns_app.command("portfolio")
def vulns_portfolio(ctx: typer.Context, output: Output = "table") -> None:
    """Counts of findings per namespace."""
    check_format(output)
    data = _call(
        ctx,
        lambda idx: idx.portfolio(),
        lambda http: http.request("GET", "/v1/security/portfolio"),
    )
    if output != "table":
        emit(data, output)
        return
    rows = [[ns, *c.values()] for ns, c in data["namespaces"].items()]
    cols = list(next(iter(data["namespaces"].values())).keys()) if rows else []
    table(None, ["namespace", *cols], rows)


@vulns_app.command("list")
def vulns_list(
    ctx: typer.Context,
    ref: str,
    open_only: Annotated[
        bool, typer.Option("--open", help="leave out suppressed findings")
    ] = False,
    output: Output = "table",
) -> None:
    """The findings of an SBOM or artifact: component, advisory, severity, state, fix."""
    check_format(output)
    items = _call(
        ctx,
        lambda idx: idx.findings(ref, include_suppressed=not open_only),
        lambda http: http.request(
            "GET",
            "/v1/security/findings",
            params={"ref": ref, "suppressed": str(not open_only).lower()},
        )["items"],
    )
    if output != "table":
        emit(items, output)
        return
    table(
        None,
        ["id", "severity", "score", "advisory", "component", "status", "range", "fixed", "sbom"],
        [
            [
                f["id"],
                f["severity"],
                f["score"],
                f["advisory"],
                f["component"]["purl"] or f"{f['component']['name']}@{f['component']['version']}",
                f["status"],
                f["matchedRange"],
                f["fixedVersion"],
                f["sbom"],
            ]
            for f in items
        ],
    )


@vulns_app.command("show")
def vulns_show(ctx: typer.Context, finding_id: int, output: Output = "yaml") -> None:
    """One finding and the history of its state."""
    check_format(output)
    data = _call(
        ctx,
        lambda idx: idx.finding(finding_id),
        lambda http: http.request("GET", f"/v1/security/findings/{finding_id}"),
    )
    if output == "table":
        table(
            None,
            ["at", "state", "actor", "justification", "source"],
            [
                [h["at"], h["state"], h["actor"], h["justification"], h["source"]]
                for h in data["history"]
            ],
        )
        return
    emit(data, output)


@vulns_app.command("triage")
def vulns_triage(
    ctx: typer.Context,
    vulnerability: str,
    status: Annotated[
        str,
        typer.Option("--status", help="not_affected, affected, fixed or under_investigation"),
    ],
    artifact: Annotated[
        str | None, typer.Option("--artifact", help="an entry: every SBOM describing it")
    ] = None,
    component: Annotated[
        str | None, typer.Option("--component", help="a purl (without version: all versions)")
    ] = None,
    justification: Annotated[str | None, typer.Option("--justification")] = None,
    statement: Annotated[str | None, typer.Option("--statement")] = None,
    actor: Annotated[str, typer.Option("--actor", help="who decides (local registry)")] = "local",
    output: Output = "table",
) -> None:
    """Record a VEX statement about a vulnerability in an artifact or a component."""
    check_format(output)
    body = {
        "vulnerability": vulnerability,
        "status": status,
        "artifact": artifact,
        "component": component,
        "justification": justification,
        "statement": statement,
    }
    out = _call(
        ctx,
        lambda idx: idx.triage(
            vulnerability,
            status=status,
            artifact=artifact,
            component=component,
            justification=justification,
            statement=statement,
            actor=actor,
        ),
        lambda http: http.request("POST", "/v1/security/triage", json=body),
    )
    if output != "table":
        emit(out, output)
        return
    typer.echo(
        f"{out['status']} for {out['vulnerability']} in {out['target']}: "
        f"{len(out['findings'])} findings now in that state"
    )


# -- impact (reached from ``hyper-registry impact``) ----------------------------------------


def looks_like_vulnerability(text: str) -> bool:
    """A vulnerability id (CVE-..., GHSA-..., PYSEC-...) rather than kind:namespace/name."""
    return ":" not in text or "/" not in text


def impact_command(ctx: typer.Context, vulnerability: str, depth: int | None, output: str) -> None:
    check_format(output, ("tree", "json", "yaml"))
    params = {"depth": depth} if depth is not None else {}
    data = _call(
        ctx,
        lambda idx: idx.impact(vulnerability, depth=depth),
        lambda http: http.request(
            "GET", f"/v1/security/vulnerabilities/{vulnerability}/impact", params=params
        ),
    )
    if output != "tree":
        emit(data, output)
        return
    print_impact(data)


def print_impact(data: dict[str, Any]) -> None:
    labels: dict[str, str] = {}
    for s in data["sboms"]:
        labels[s["ref"]] = f"{s['ref']}  [{', '.join(s['components'])}]"
    hits: list[GraphHit] = []
    for s in data["sboms"]:
        hits.append(GraphHit(Ref.parse(s["ref"]), 1, (Hop("affects", escape(labels[s["ref"]])),)))
    for h in data["affected"]:
        path = tuple(Hop(p["relation"], escape(labels.get(p["ref"], p["ref"]))) for p in h["path"])
        hits.append(GraphHit(Ref.parse(h["ref"]), h["depth"], path))
    severity = ", ".join(
        f"{a['id']} {a['severity']}" + (f" {a['score']}" if a["score"] is not None else "")
        for a in data["advisories"]
    )
    graph_tree(f"{escape(data['vulnerability'])} ({escape(severity)})", hits)
    if data["suppressed"]:
        Console().print(
            f"[dim]{len(data['suppressed'])} findings left out by VEX (not_affected or fixed)[/dim]"
        )
