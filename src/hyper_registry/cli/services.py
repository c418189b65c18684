"""Commands for service health checks, SLA availability and topology.

hyper-registry services topology [-o table|json|yaml]
hyper-registry services health REF [--limit N] [-o table|json|yaml]
hyper-registry services check REF [-o ...]         probe now and store the result
hyper-registry services worker [--concurrency N]   a checker process (scale-out)
"""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated, Any

import typer

from hyper_registry.cli.context import Output, check_format, client, local, remote_call, state
from hyper_registry.cli.output import emit, fail, table
from hyper_registry.core.errors import HyperRegistryError, Invalid
from hyper_registry.core.ref import Ref

services_app = typer.Typer(
    help="Service health checks, SLA availability and topology.", no_args_is_help=True
)

RefArg = Annotated[str, typer.Argument(help="service:NAMESPACE/NAME[@VERSION] or NAMESPACE/NAME")]


def _ref(text: str) -> Ref:
    try:
        ref = Ref.parse(text, default_kind="service")
    except HyperRegistryError as exc:
        raise fail(exc) from None
    except ValueError as exc:
        raise fail(Invalid.at(("ref",), str(exc))) from None
    if ref.kind != "service":
        raise fail(Invalid.at(("ref",), f"{text!r} is a {ref.kind}, not a service"))
    return ref


def _path(ref: Ref, tail: str) -> str:
    base = f"/v1/services/{ref.namespace}/{ref.name}"
    return f"{base}/versions/{ref.version}/{tail}" if ref.version else f"{base}/{tail}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}%"


def _print_health(report: dict[str, Any]) -> None:
    current = report.get("current")
    head = report["ref"]
    if current:
        head += (
            f"  {current['status']} since {current['since']}  "
            f"(last check {current['checkedAt']}: {current['message']}, "
            f"{current['latencyMs']:.1f} ms)"
        )
    else:
        head += "  not checked yet"
    typer.echo(head)
    check = report.get("healthCheck")
    if check:
        where = check["endpoint"] + (check["path"] or "")
        typer.echo(
            f"check: {check['protocol']} {where} every {check['interval']}, "
            f"timeout {check['timeout']}"
        )
    else:
        typer.echo("check: none (the service declares no health check)")
    sla = report.get("sla")
    rows = [
        [name, w["checks"], _pct(w["availability"]), w["sla"] or "-"]
        for name, w in report["availability"].items()
    ]
    title = f"availability (SLA {sla['availability']}%)" if sla else "availability (no SLA)"
    table(title, ["window", "checks", "availability", "SLA"], rows)
    deps = report.get("dependents") or []
    typer.echo("dependents: " + (", ".join(deps) if deps else "none"))
    if report.get("history"):
        table(
            "recent results",
            ["at", "status", "latency ms", "message"],
            [
                [h["at"], h["status"], f"{h['latencyMs']:.1f}", h["message"]]
                for h in report["history"]
            ],
        )


def _print_topology(topo: dict[str, Any]) -> None:
    nodes = topo["nodes"]
    table(
        "services",
        ["service", "version", "health", "mesh"],
        [
            [
                n["name"],
                n["version"] or "(not registered)",
                n["health"] or "-",
                (
                    f"{n['mesh'].get('provider') or 'mesh'}{' mtls' if n['mesh']['mtls'] else ''}"
                    if n["mesh"] and n["mesh"]["enabled"]
                    else "-"
                ),
            ]
            for n in nodes
        ],
    )
    table(
        "calls",
        ["from", "to", "meshed", "mtls"],
        [
            [e["from"], e["to"], "yes" if e["meshed"] else "no", "yes" if e["mtls"] else "no"]
            for e in topo["edges"]
        ],
    )


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
    app.add_typer(services_app, name="services")


@services_app.command("topology")
def topology_cmd(ctx: typer.Context, output: Output = "table") -> None:
    """Services as nodes, `calls` relations as edges, with mesh metadata and health."""
    check_format(output)
    remote = client(ctx)
    if remote is not None:
        topo = remote_call(remote, "GET", "/v1/services/topology")
    else:
        from hyper_registry.kinds.service.topology import topology

        topo = local(ctx, topology)
    if output == "table":
        _print_topology(topo)
    else:
        emit(topo, output)


@services_app.command("health")
def health_cmd(
    ctx: typer.Context,
    ref: RefArg,
    limit: Annotated[int, typer.Option("--limit", min=0, max=1000, help="recent results")] = 10,
    output: Output = "table",
) -> None:
    """Current health, last change, availability over 1h/24h/7d/30d vs the SLA, dependents."""
    check_format(output)
    r = _ref(ref)
    remote = client(ctx)
    if remote is not None:
        report = remote_call(remote, "GET", _path(r, "health"), params={"limit": limit})
    else:
        from hyper_registry.kinds.service.report import health_report

        report = local(ctx, lambda reg: health_report(reg, r, limit=limit))
    if output == "table":
        _print_health(report)
    else:
        emit(report, output)


@services_app.command("check")
def check_cmd(ctx: typer.Context, ref: RefArg, output: Output = "table") -> None:
    """Probe a service now; the result is stored like any other."""
    check_format(output)
    r = _ref(ref)
    remote = client(ctx)
    if remote is not None:
        result = remote_call(remote, "POST", _path(r, "check"))
    else:
        from hyper_registry.kinds.service.checker import check_now

        def run(reg: Any) -> Any:
            return asyncio.run(check_now(reg, reg.get(r), "local"))

        result = local(ctx, run)
    if output == "table":
        typer.echo(
            f"{result['ref']}: {result['status']} ({result['message']}, "
            f"{result['latencyMs']:.1f} ms)"
        )
    else:
        emit(result, output)
    if result["status"] == "critical":
        raise typer.Exit(1)


@services_app.command("worker")
def worker_cmd(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, max=10_000, help="checks in flight")
    ] = None,
) -> None:
    """Run a health checker in the foreground (one of several, sharing work by leases)."""
    if state(ctx).server:
        raise fail(
            Invalid("a checker worker works on the database: use --database-url, not --server")
        )
    from hyper_registry.kinds.service.checker import HealthChecker

    st = state(ctx)
    settings = st.settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"checker_concurrency": concurrency})
    from hyper_registry.core.registry import Registry

    try:
        registry = Registry.open(settings)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    checker = HealthChecker(registry)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(checker.run())
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: checker.stop(timeout=0))
        await task

    typer.echo(f"health checker {checker.worker_id} running (Ctrl-C to stop)")
    try:
        asyncio.run(main())
    finally:
        registry.close()
    typer.echo(f"health checker stopped after {checker.checks_done:,} checks")
