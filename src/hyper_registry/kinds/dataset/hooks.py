"""What happens when a dataset version is written: lineage edges and quality alerts.

* The transformations a spec declares become lineage edges (``ml_lineage_edges``,
  job key ``spec:<job>``), so the lineage graph shows them like OpenLineage jobs.
* (The schema history, ``dataset.schema`` and ``dataset.forced`` change-log rows, is
  written with the version itself: see ``rules.schemas_are_compatible``.)
* A quality dimension under its threshold records ``dataset.quality`` naming the dataset,
  the breaches and every downstream consumer (datasets, models, services), found
  through lineage. The same breaches are not raised twice in a row for a version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from hyper_registry.core.envelope import Entry
from hyper_registry.core.ids import timestamp
from hyper_registry.kinds.dataset.spec import DatasetSpec
from hyper_registry.kinds.dataset.tables import lineage_edges, quality_state, upsert_edges, write_tx

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

log = logging.getLogger(__name__)
ACTOR = "registry"


def in_transaction(registry: Registry, conn: sa.Connection, entries: Sequence[Entry]) -> None:
    """The transformations specs declare become lineage edges, with the write itself."""
    now = timestamp()
    rows = [
        row
        for entry in entries
        if entry.spec.get("transformations")
        for row in _spec_edges(entry, DatasetSpec.model_validate(entry.spec), now)
    ]
    if rows:
        upsert_edges(conn, rows)


def on_registered(registry: Registry, entry: Entry) -> None:
    raw = entry.spec
    if not raw.get("qualityThresholds"):
        return  # nothing to derive: keeps bulk writes of plain datasets cheap
    check_quality(registry, entry, DatasetSpec.model_validate(raw))


def on_unregistered(registry: Registry, entry: Entry) -> None:
    """When a dataset's last version goes, its declared (spec) edges and alert state go too."""
    with write_tx(registry.store.engine) as conn:
        conn.execute(quality_state.delete().where(quality_state.c.ref_key == str(entry.ref)))
    if registry.store.latest(entry.ref) is None:
        with write_tx(registry.store.engine) as conn:
            conn.execute(
                lineage_edges.delete()
                .where(lineage_edges.c.dst_ref == str(entry.ref.unversioned))
                .where(lineage_edges.c.job_key.like("spec:%"))
            )


def _spec_edges(entry: Entry, spec: DatasetSpec, now: str) -> Iterator[dict[str, Any]]:
    me = str(entry.ref.unversioned)
    for t in spec.transformations:
        if t.job.startswith("openlineage://"):
            continue  # written by an OpenLineage event, whose edge carries the run
        outputs = [str(o.unversioned) for o in t.outputs] or [me]
        for out in outputs:
            for src in t.inputs:
                yield {
                    "src_ref": str(src.unversioned),
                    "dst_ref": out,
                    "job_key": f"spec:{t.job}"[:320],
                    "job_namespace": "spec",
                    "job_name": t.job,
                    "run_id": None,
                    "event_time": now,
                    "columns": None,
                }


def check_quality(registry: Registry, entry: Entry, spec: DatasetSpec | None = None) -> int | None:
    """Raise ``dataset.quality`` if a dimension is under its threshold (and was not already)."""
    from hyper_registry.graph.lineage import build_lineage_graph

    spec = spec or DatasetSpec.model_validate(entry.spec)
    breaches = spec.quality_breaches()
    key = str(entry.ref)
    state = orjson.dumps([list(b) for b in breaches]).decode()
    with registry.store.engine.connect() as conn:
        seen = conn.execute(
            sa.select(quality_state.c.breaches).where(quality_state.c.ref_key == key)
        ).scalar()
    if seen == state or (seen is None and not breaches):
        return None  # nothing new: no write
    with write_tx(registry.store.engine) as conn:
        before = conn.execute(
            sa.select(quality_state.c.breaches).where(quality_state.c.ref_key == key)
        ).scalar()
        if not breaches:
            if before is not None:
                conn.execute(quality_state.delete().where(quality_state.c.ref_key == key))
            return None
        if before == state:
            return None
        if before is None:
            conn.execute(
                quality_state.insert(), {"ref_key": key, "breaches": state, "at": timestamp()}
            )
        else:
            conn.execute(
                quality_state.update()
                .where(quality_state.c.ref_key == key)
                .values(breaches=state, at=timestamp())
            )
    graph = build_lineage_graph(
        registry, entry.ref, "downstream", registry.settings.max_graph_depth, transformations=False
    )
    consumers = [
        {"ref": n.ref, "kind": n.kind, "depth": n.depth} for n in graph.nodes if n.depth > 0
    ]
    return registry.store.record(
        actor=ACTOR,
        op="dataset.quality",
        ref=key,
        kind="dataset",
        namespace=entry.metadata.namespace,
        detail={
            "dataset": key,
            "breaches": [{"dimension": d, "value": v, "threshold": t} for d, v, t in breaches],
            "consumers": consumers,
        },
    )
