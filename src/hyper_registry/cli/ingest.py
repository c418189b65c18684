"""Commands for stream and bulk ingestion, dead letters and workers.

hyper-registry ingest FILE|-                      JSON lines into the registry
hyper-registry ingest --from nats://HOST/SUBJECT  a broker consumer in the foreground
hyper-registry worker --from URL --replicas N     N consumer processes, supervised
hyper-registry dlq list | dlq replay [ID...|--all]
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from hyper_registry.auth.tokens import LOCAL, Principal
from hyper_registry.cli.context import Output, check_format, client, state
from hyper_registry.cli.output import emit, fail, table
from hyper_registry.core.errors import Forbidden, HyperRegistryError, Invalid
from hyper_registry.core.registry import Registry

dlq_app = typer.Typer(help="List and replay dead letters.", no_args_is_help=True)

BatchSize = Annotated[
    int | None, typer.Option("--batch-size", help="messages per transaction (default 5000)")
]


def _principal(registry: Registry, token: str | None) -> Principal:
    """The worker's principal: the token's (checked in the database), or local admin."""
    if not token:
        return LOCAL
    principal = registry.tokens.verify(token)
    if principal is None:
        raise Forbidden("the token is unknown, malformed or revoked")
    return principal


def _line(totals: dict[str, Any]) -> str:
    parts = [
        f"{totals['received']:,} received",
        f"{totals['applied']:,} applied",
        f"({totals['created']:,} created, {totals['updated']:,} updated, "
        f"{totals['unchanged']:,} unchanged, {totals['deleted']:,} deleted)",
        f"{totals['duplicate']:,} duplicate",
        f"{totals.get('stale', 0):,} stale",
        f"{totals['dead']:,} dead-lettered",
    ]
    if totals.get("lag") is not None:
        parts.append(f"lag {totals['lag']:,}")
    parts.append(f"{totals.get('perSecond', 0):,.0f}/s")
    return ", ".join(parts)


def _summary(totals: dict[str, Any], output: str) -> None:
    if output == "table":
        typer.echo(_line(totals))
    else:
        emit(totals, output)


def _start_metrics(port: int | None, metrics: Any) -> None:
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr="127.0.0.1", registry=metrics.collectors)


def _ingest_file(
    ctx: typer.Context, path: str, batch_size: int | None, output: str, quiet: bool
) -> None:
    from hyper_registry.ingest.applier import Applier
    from hyper_registry.ingest.metrics import IngestMetrics
    from hyper_registry.ingest.sources.files import ingest_stream

    st = state(ctx)
    stream: BinaryIO
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise fail(Invalid(f"cannot read {path}: {exc.strerror}")) from None
    size = 0 if path == "-" else os.fstat(stream.fileno()).st_size
    show = not quiet and sys.stderr.isatty()
    try:
        with st.registry() as registry:
            applier = Applier(
                registry,
                source="stdin" if path == "-" else str(Path(path).resolve())[-255:],
                principal=_principal(registry, st.token),
                metrics=registry.extension(IngestMetrics),
            )
            n = batch_size or registry.settings.ingest_batch_size
            if not show:
                totals = ingest_stream(applier, stream, batch_size=n)
            else:
                with Progress(
                    TextColumn("ingesting"),
                    BarColumn(),
                    DownloadColumn(),
                    TextColumn("{task.fields[line]}"),
                    TimeElapsedColumn(),
                    console=Console(stderr=True),
                ) as bar:
                    task = bar.add_task("ingest", total=size or None, line="")

                    def on_batch(t: Any, pos: int) -> None:
                        bar.update(task, completed=pos, line=_line(t.to_dict()))

                    totals = ingest_stream(applier, stream, batch_size=n, on_batch=on_batch)
    except HyperRegistryError as exc:
        raise fail(exc) from None
    finally:
        if path != "-":
            stream.close()
    _summary(totals.to_dict(), output)


def _ingest_remote(ctx: typer.Context, path: str, batch_size: int | None, output: str) -> None:
    """Send the lines to ``POST /v1/bulk`` in chunks of ``batch_size`` lines."""
    api = client(ctx)
    n = batch_size or 5000
    counts: dict[str, int] = {}
    started = time.monotonic()
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    received = 0
    try:
        chunk: list[bytes] = []

        def send() -> None:
            nonlocal received
            out = api.request(
                "POST",
                "/v1/bulk",
                content=b"".join(chunk),
                headers={"Content-Type": "application/x-ndjson"},
            )
            received += len(out["results"])
            for k, v in out["counts"].items():
                counts[k] = counts.get(k, 0) + v
            for item in out["results"]:
                if item["outcome"] == "refused":
                    typer.echo(f"{item.get('position', '')}: {item['error']['detail']}", err=True)
            chunk.clear()

        for line in stream:
            chunk.append(line if line.endswith(b"\n") else line + b"\n")
            if len(chunk) >= n:
                send()
        if chunk:
            send()
    except HyperRegistryError as exc:
        raise fail(exc) from None
    finally:
        if path != "-":
            stream.close()
        api.close()
    applied = sum(counts.get(k, 0) for k in ("created", "updated", "unchanged", "deleted"))
    seconds = time.monotonic() - started
    totals = {
        "received": received,
        "applied": applied,
        **{
            k: counts.get(k, 0)
            for k in ("created", "updated", "unchanged", "deleted", "duplicate", "stale")
        },
        "dead": counts.get("refused", 0),
        "lag": None,
        "seconds": round(seconds, 3),
        "perSecond": round(received / max(seconds, 1e-9), 1),
    }
    _summary(totals, output)


def _consume(
    ctx: typer.Context,
    url: str,
    batch_size: int | None,
    consumer_name: str | None,
    until_idle: bool,
    metrics_port: int | None,
    output: str,
    quiet: bool,
) -> None:
    from hyper_registry.ingest.applier import Applier
    from hyper_registry.ingest.consumer import Consumer, Totals
    from hyper_registry.ingest.metrics import IngestMetrics
    from hyper_registry.ingest.sources import open_source

    st = state(ctx)
    show = not quiet and sys.stderr.isatty()
    try:
        source = open_source(url, consumer=consumer_name)
        with st.registry() as registry:
            metrics = registry.extension(IngestMetrics)
            _start_metrics(metrics_port, metrics)
            applier = Applier(
                registry,
                source=source.name,
                label=source.label,
                principal=_principal(registry, st.token),
                metrics=metrics,
            )
            settings = registry.settings
            consumer = Consumer(
                source,
                applier,
                batch_size=batch_size or settings.ingest_batch_size,
                batch_wait=settings.ingest_batch_wait,
            )
            console = Console(stderr=True)
            status = console.status("waiting for messages") if show else None

            def on_batch(t: Totals) -> None:
                if status is not None:
                    status.update(_line(t.to_dict()))

            consumer.on_batch = on_batch

            async def main() -> Totals:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, consumer.stop.set)
                return await consumer.run(until_idle=until_idle)

            if status is not None:
                with status:
                    totals = asyncio.run(main())
            else:
                totals = asyncio.run(main())
    except HyperRegistryError as exc:
        raise fail(exc) from None
    _summary(totals.to_dict(), output)


def ingest(
    ctx: typer.Context,
    file: Annotated[str | None, typer.Argument(help="a JSON-lines file, or - for stdin")] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="consume a broker: nats://, redis:// or kafka:// URL"),
    ] = None,
    batch_size: BatchSize = None,
    consumer_name: Annotated[
        str | None, typer.Option("--consumer", help="this consumer's name in its group")
    ] = None,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="stop once the broker has nothing more")
    ] = False,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="serve /metrics on 127.0.0.1:PORT")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")] = False,
    output: Output = "table",
) -> None:
    """Ingest changes from a JSON-lines file (or stdin), or consume a broker in the foreground."""
    check_format(output)
    if (file is None) == (from_ is None):
        raise typer.BadParameter("give a FILE (or -) or --from URL, not both")
    if batch_size is not None and not 1 <= batch_size <= 100_000:
        raise typer.BadParameter("between 1 and 100000", param_hint="--batch-size")
    if file is not None:
        if state(ctx).server:
            _ingest_remote(ctx, file, batch_size, output)
        else:
            _ingest_file(ctx, file, batch_size, output, quiet)
        return
    assert from_ is not None
    if state(ctx).server:
        raise fail(Invalid.at(("from",), "a broker consumer writes to the database: drop --server"))
    _consume(ctx, from_, batch_size, consumer_name, until_idle, metrics_port, output, quiet)


def worker(
    ctx: typer.Context,
    from_: Annotated[list[str], typer.Option("--from", help="broker URL (repeatable)")],
    replicas: Annotated[int, typer.Option("--replicas", min=1, max=64)] = 1,
    batch_size: BatchSize = None,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="replica i serves /metrics on PORT+i (127.0.0.1)"),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="consumer name prefix")] = "worker",
) -> None:
    """Run REPLICAS consumer processes per source; restart any that exits, stop on Ctrl-C."""
    st = state(ctx)
    if st.server:
        raise fail(Invalid.at(("server",), "workers write to the database: drop --server"))
    try:  # migrate once here, not in every replica at the same time
        st.registry().close()
    except HyperRegistryError as exc:
        raise fail(exc) from None
    env = dict(os.environ)
    if st.data_dir is not None:
        env["HYPER_REGISTRY_DATA_DIR"] = str(st.data_dir)
    if st.database_url:
        env["HYPER_REGISTRY_DATABASE_URL"] = st.database_url
    if st.token:
        env["HYPER_REGISTRY_TOKEN"] = st.token
    specs: list[list[str]] = []
    for s, url in enumerate(from_):
        for i in range(replicas):
            index = s * replicas + i
            cmd = [sys.executable, "-m", "hyper_registry", "ingest", "--from", url, "-q"]
            cmd += ["--consumer", f"{name}-{i}"]
            if batch_size:
                cmd += ["--batch-size", str(batch_size)]
            if metrics_port:
                cmd += ["--metrics-port", str(metrics_port + index)]
            specs.append(cmd)
    procs: list[subprocess.Popen[bytes] | None] = [None] * len(specs)
    restarts = [0.0] * len(specs)
    stopping = False

    def stop(_sig: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    typer.echo(f"starting {len(specs)} consumer process(es)", err=True)
    while not stopping:
        for i, cmd in enumerate(specs):
            p = procs[i]
            if p is None or p.poll() is not None:
                if p is not None:
                    typer.echo(f"replica {i} exited ({p.returncode}); restarting", err=True)
                    restarts[i] = min(max(restarts[i] * 2, 1.0), 30.0)
                    time.sleep(restarts[i])
                procs[i] = subprocess.Popen(cmd, env=env)
        time.sleep(0.5)
    for p in procs:
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        if p is not None:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    typer.echo("stopped", err=True)


@dlq_app.command("list")
def dlq_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    after: Annotated[int | None, typer.Option("--after", help="page cursor")] = None,
    include_replayed: Annotated[bool, typer.Option("--all", help="include replayed")] = False,
    code: Annotated[str | None, typer.Option("--code", help="only this reason code")] = None,
    output: Output = "table",
) -> None:
    """List open dead letters, oldest first: reason, source, line or broker id, payload."""
    check_format(output)
    api = client(ctx)
    try:
        if api is not None:
            params: dict[str, Any] = {"limit": limit}
            if after is not None:
                params["after"] = after
            if include_replayed:
                params["all"] = "true"
            if code:
                params["code"] = code
            with api:
                page = api.request("GET", "/v1/dlq", params=params)
        else:
            from hyper_registry.ingest.dlq import list_dead

            st = state(ctx)
            with st.registry() as registry:
                page = list_dead(
                    registry,
                    principal=_principal(registry, st.token),
                    include_replayed=include_replayed,
                    limit=limit,
                    after=after,
                    code=code,
                )
    except HyperRegistryError as exc:
        raise fail(exc) from None
    if output != "table":
        emit(page, output)
        return
    table(
        None,
        ["id", "at", "source", "position", "code", "reason", "payload"],
        [
            (
                d["id"],
                d["at"][:19],
                d["source"][-40:],
                d["position"],
                d["code"],
                d["reason"][:120],
                d["payload"][:60],
            )
            for d in page["items"]
        ],
    )
    if page["nextCursor"] is not None:
        typer.echo(f"more: --after {page['nextCursor']}")


@dlq_app.command("replay")
def dlq_replay(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="dead-letter ids")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every open dead letter")] = False,
    output: Output = "table",
) -> None:
    """Re-apply dead letters (after the producer or the registry was fixed)."""
    check_format(output)
    if bool(ids) == all_:
        raise typer.BadParameter("give dead-letter ids or --all")
    api = client(ctx)
    try:
        if api is not None:
            body = {"all": True} if all_ else {"ids": ids}
            with api:
                out = api.request(
                    "POST",
                    "/v1/dlq/replay",
                    content=orjson.dumps(body),
                    headers={"Content-Type": "application/json"},
                )
        else:
            from hyper_registry.ingest.dlq import replay

            st = state(ctx)
            with st.registry() as registry:
                out = replay(
                    registry, ids=None if all_ else ids, principal=_principal(registry, st.token)
                )
    except HyperRegistryError as exc:
        raise fail(exc) from None
    if output != "table":
        emit(out, output)
        return
    table(
        None,
        ["dead letter", "outcome", "ref", "reason"],
        [
            (r["deadLetter"], r["outcome"], r.get("ref"), (r.get("error") or {}).get("detail"))
            for r in out["results"]
        ],
    )
    fixed = sum(1 for r in out["results"] if r["outcome"] not in ("refused", "not-found"))
    typer.echo(f"{fixed} replayed, {len(out['results']) - fixed} still failing or not found")
    if fixed < len(out["results"]):
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``hyper-registry`` app."""
    app.command("ingest")(ingest)
    app.command("worker")(worker)
    app.add_typer(dlq_app, name="dlq")
