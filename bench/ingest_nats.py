"""NATS JetStream ingest: publish N changes first, then consume them end to end.

Prints one JSON line: the publish rate (not the target), messages/s consumed into a
fresh store by the registry's consumer (``hyper-registry ingest --from nats://...``:
durable pull consumer, batches, pipeline, event ids, acks after commit), messages/s of
the ceiling (the same stream through another durable: fetch, parse, plain
``executemany`` of the entry and relation rows, ack; see ``_ingest.py``), the ratio and
the peak resident memory of each consumer (each in a fresh child process).

    python bench/ingest_nats.py --backend sqlite --n 1000000
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import Backend, emit, load, log, machine, parser, pg_version
from _ingest import CeilingRows, PgCeiling, SqliteCeiling, lines, peak_rss_mb

NATS = "127.0.0.1:4222"


async def publish(subject: str, n: int) -> float:
    import nats

    from hyper_registry.ingest.sources.nats import _stream_name

    nc = await nats.connect(f"nats://{NATS}")
    js = nc.jetstream()
    stream = _stream_name(subject)
    await js.add_stream(name=stream, subjects=[subject])
    t0 = time.perf_counter()
    for i, raw in enumerate(lines(n)):
        await nc.publish(subject, raw)
        if i % 10_000 == 9_999:
            await nc.flush(timeout=60)
    await nc.flush(timeout=60)
    while (await js.stream_info(stream)).state.messages < n:
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - t0
    await nc.close()
    return seconds


async def delete_stream(subject: str) -> None:
    import nats

    from hyper_registry.ingest.sources.nats import _stream_name

    nc = await nats.connect(f"nats://{NATS}")
    await nc.jetstream().delete_stream(_stream_name(subject))
    await nc.close()


def child_registry(backend: Backend, subject: str, n: int, batch_size: int) -> dict[str, float]:
    from hyper_registry.ingest.applier import Applier
    from hyper_registry.ingest.consumer import Consumer
    from hyper_registry.ingest.sources import open_source

    reg = backend.fresh_registry()
    source = open_source(f"nats://{NATS}/{subject}?durable=registry")
    applier = Applier(reg, source=source.name, label="nats")
    consumer = Consumer(source, applier, batch_size=batch_size, batch_wait=0.2, idle=2.0)
    t0 = time.perf_counter()
    totals = asyncio.run(consumer.run(until_idle=True))
    seconds = time.perf_counter() - t0 - 2.0  # the final empty fetch waited 2 s
    reg.close()
    assert totals.counts["created"] == n, totals.to_dict()
    return {"seconds": seconds, "n": totals.received, "rss_mb": peak_rss_mb()}


async def _ceiling(sink: SqliteCeiling | PgCeiling, subject: str, n: int, size: int) -> None:
    import nats
    from nats.js import api

    nc = await nats.connect(f"nats://{NATS}")
    js = nc.jetstream()
    config = api.ConsumerConfig(durable_name="ceiling", ack_policy=api.AckPolicy.EXPLICIT,
                                max_ack_pending=50_000, ack_wait=60)  # fmt: skip
    sub = await js.pull_subscribe(subject, durable="ceiling", config=config)
    rows = CeilingRows()
    done = 0
    while done < n:
        msgs: list[Any] = []
        while len(msgs) < min(size, n - done):
            msgs.extend(await sub.fetch(min(size, n - done) - len(msgs), timeout=5))
        batch_e, batch_r = [], []
        for m in msgs:
            e, r = rows.rows(m.data)
            batch_e.append(e)
            batch_r.extend(r)
        await asyncio.to_thread(sink.write, batch_e, batch_r)
        for m in msgs:
            await m.ack()
        done += len(msgs)
    await nc.flush()
    await nc.close()


def child_ceiling(backend: Backend, subject: str, n: int, batch_size: int) -> dict[str, float]:
    reg = backend.fresh_registry()
    data_dir = Path(reg.settings.data_dir)
    reg.close()
    sink = (
        SqliteCeiling(str(data_dir / "registry.db"))
        if backend.name == "sqlite"
        else PgCeiling(backend.pg_registry_url)
    )
    t0 = time.perf_counter()
    asyncio.run(_ceiling(sink, subject, n, batch_size))
    seconds = time.perf_counter() - t0
    sink.close()
    return {"seconds": seconds, "n": n, "rss_mb": peak_rss_mb()}


def run_child(args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    p = parser("NATS JetStream ingest benchmark", n=1_000_000)
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--child", choices=("registry", "ceiling"))
    p.add_argument("--subject")
    args = p.parse_args()
    backend = Backend(args)
    if args.child:
        fn = child_registry if args.child == "registry" else child_ceiling
        try:
            print(json.dumps(fn(backend, args.subject, args.n, args.batch_size)))
        finally:
            backend.cleanup()
        return

    subject = f"bench.ingest.{secrets.token_hex(4)}"
    log(f"publishing {args.n:,} messages to {subject}")
    load_before = load()
    published = asyncio.run(publish(subject, args.n))
    common = ["--backend", args.backend, "--subject", subject, "--n", str(args.n),
              "--batch-size", str(args.batch_size), "--pg-url", args.pg_url,
              "--pg-schema", args.pg_schema]  # fmt: skip
    try:
        log("ceiling")
        ceiling = run_child(["--child", "ceiling", *common])
        log(f"ceiling: {ceiling}")
        log("registry")
        registry = run_child(["--child", "registry", *common])
        log(f"registry: {registry}")
    finally:
        asyncio.run(delete_stream(subject))
    registry_rate = registry["n"] / registry["seconds"]
    ceiling_rate = ceiling["n"] / ceiling["seconds"]
    figures = {
        "bench": "ingest_nats",
        "backend": args.backend,
        "n": args.n,
        "batch_size": args.batch_size,
        "publish_per_s": round(args.n / published),
        "messages_per_s": round(registry_rate),
        "ceiling_per_s": round(ceiling_rate),
        "ratio": round(registry_rate / ceiling_rate, 3),
        "target_per_s": 50_000,
        "registry_seconds": round(registry["seconds"], 2),
        "ceiling_seconds": round(ceiling["seconds"], 2),
        "registry_peak_rss_mb": registry["rss_mb"],
        "ceiling_peak_rss_mb": ceiling["rss_mb"],
        "load": [load_before, load()],
        **machine(),
    }
    if args.backend == "postgres":
        figures["postgres"] = pg_version(args.pg_url)
    emit(figures)


if __name__ == "__main__":
    main()
