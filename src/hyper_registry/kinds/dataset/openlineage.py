"""OpenLineage events: validated, then turned into datasets, lineage edges and runs.

A RunEvent (``eventType`` START, RUNNING, COMPLETE, FAIL, ABORT or OTHER) names a run
of a job and the datasets it read (``inputs``) and wrote (``outputs``):

* every dataset is created or updated as a ``dataset`` entry: its OpenLineage namespace
  and name map to a registry namespace and name (lowercased; characters the registry
  does not allow become ``-``; the originals are kept in ``spec.openlineage``); a
  ``schema`` facet whose fields differ from the stored schema becomes a new version;
* the job becomes a transformation of each output (``spec.transformations``, so the
  output is ``derivedFrom`` each input) and a lineage edge per (input, output) with
  the run and the column lineage of a ``columnLineage`` facet;
* the run keeps its state history; a state never goes backwards (START, then RUNNING,
  then one of COMPLETE, FAIL or ABORT; OTHER may come at any time).

Entries go through the write pipeline; runs and edges are written inside the same
transaction, so an event is stored whole or not at all. DatasetEvents (a dataset and
its facets) and JobEvents (a job and its datasets, without a run) are accepted too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hyper_registry.core.errors import Conflict, Invalid, ItemError, Problem
from hyper_registry.core.ids import timestamp
from hyper_registry.core.ref import NAME_MAX, NAMESPACE_MAX, Ref
from hyper_registry.core.validation import problems_from
from hyper_registry.kinds.dataset import evolution
from hyper_registry.kinds.dataset.spec import DatasetSpec, Schema
from hyper_registry.kinds.dataset.tables import run_states, runs, upsert_edge
from hyper_registry.kinds.model.edit import document_of
from hyper_registry.store.base import PreparedWrite, WriteResult

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry

EventType = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]
RANK = {"START": 0, "RUNNING": 1, "COMPLETE": 2, "FAIL": 2, "ABORT": 2}
TERMINAL = frozenset({"COMPLETE", "FAIL", "ABORT"})
MAX_DATASETS = 1000
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
_BAD = re.compile(r"[^a-z0-9._-]+")

Str = Annotated[str, Field(min_length=1, max_length=1024)]


class _Open(BaseModel):
    """OpenLineage objects allow custom fields and facets; they are kept, not refused."""

    model_config = ConfigDict(extra="allow")


class RunRef(_Open):
    runId: str
    facets: dict[str, Any] = Field(default_factory=dict)

    @field_validator("runId")
    @classmethod
    def _uuid(cls, value: str) -> str:
        try:
            UUID(value)
        except ValueError:
            raise ValueError(f"runId {value[:64]!r} is not a UUID") from None
        return value.lower()


class JobRef(_Open):
    namespace: Str
    name: Str
    facets: dict[str, Any] = Field(default_factory=dict)


class DatasetRef(_Open):
    namespace: Str
    name: Str
    facets: dict[str, Any] = Field(default_factory=dict)
    inputFacets: dict[str, Any] = Field(default_factory=dict)
    outputFacets: dict[str, Any] = Field(default_factory=dict)


class _Base(_Open):
    eventTime: str
    producer: str
    schemaURL: str | None = None

    @field_validator("eventTime")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"eventTime {value[:64]!r} is not an ISO 8601 date-time") from None
        return value

    @field_validator("producer", "schemaURL")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 2048 or not _URI.fullmatch(value)):
            raise ValueError(f"{value[:64]!r} is not a URI")
        return value


class RunEvent(_Base):
    eventType: EventType | None = None
    run: RunRef
    job: JobRef
    inputs: list[DatasetRef] = Field(default_factory=list, max_length=MAX_DATASETS)
    outputs: list[DatasetRef] = Field(default_factory=list, max_length=MAX_DATASETS)


class JobEvent(_Base):
    job: JobRef
    inputs: list[DatasetRef] = Field(default_factory=list, max_length=MAX_DATASETS)
    outputs: list[DatasetRef] = Field(default_factory=list, max_length=MAX_DATASETS)


class DatasetEvent(_Base):
    dataset: DatasetRef


Event = RunEvent | JobEvent | DatasetEvent


def parse_event(raw: Any) -> Event:
    """Validate an OpenLineage event; a missing or bad field is refused with its path."""
    if not isinstance(raw, dict):
        raise Invalid.at((), "an OpenLineage event must be a JSON object", "not-an-object")
    model: type[RunEvent] | type[JobEvent] | type[DatasetEvent] = RunEvent
    if "run" not in raw:
        if "dataset" in raw:
            model = DatasetEvent
        elif "job" in raw and "eventType" not in raw:
            model = JobEvent
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise Invalid(
            f"not a valid OpenLineage {model.__name__}", problems=problems_from(exc)
        ) from None


# -- names ------------------------------------------------------------------------------


def slug(text: str, max_len: int) -> str:
    """A registry name for an OpenLineage namespace or name (stable; long ones get a hash)."""
    out = _BAD.sub("-", text.lower())
    while ".." in out:
        out = out.replace("..", ".")
    out = out.strip("-._")
    if not out or len(out) > max_len:
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        out = (out[: max_len - 11].rstrip("-._") + "-" + digest).lstrip("-")
    return out


def dataset_ref(namespace: str, name: str) -> Ref:
    return Ref("dataset", slug(namespace, NAMESPACE_MAX), slug(name, NAME_MAX))


def job_key(job: JobRef) -> str:
    return f"{slug(job.namespace, NAMESPACE_MAX)}/{slug(job.name, NAME_MAX)}"


def namespaces_of(event: Event) -> list[str]:
    """The registry namespaces an event writes to (each must be visible to the caller)."""
    found: set[str] = set()
    if isinstance(event, RunEvent | JobEvent):
        found.add(slug(event.job.namespace, NAMESPACE_MAX))
        for d in [*event.inputs, *event.outputs]:
            found.add(dataset_ref(d.namespace, d.name).namespace)
    else:
        found.add(dataset_ref(event.dataset.namespace, event.dataset.name).namespace)
    return sorted(found)


# -- datasets ---------------------------------------------------------------------------


def schema_from_facet(facets: dict[str, Any]) -> Schema | None:
    facet = facets.get("schema")
    if not isinstance(facet, dict) or not isinstance(facet.get("fields"), list):
        return None
    fields = []
    for f in facet["fields"][:10000]:
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            continue
        item: dict[str, Any] = {
            "name": f["name"][:256],
            "type": str(f.get("type") or "unknown")[:1024],
            "nullable": True,
        }
        if isinstance(f.get("description"), str):
            item["description"] = f["description"][:4096]
        fields.append(item)
    return Schema.model_validate({"fields": fields})


def _same_schema(a: Schema | None, b: Schema) -> bool:
    if a is None:
        return False
    return [(f.name, evolution.canonical_type(f.type)) for f in evolution.fields_of(a)] == [
        (f.name, evolution.canonical_type(f.type)) for f in evolution.fields_of(b)
    ]


def _column_lineage(output: DatasetRef, source: DatasetRef) -> list[dict[str, Any]] | None:
    facet = output.facets.get("columnLineage")
    if not isinstance(facet, dict) or not isinstance(facet.get("fields"), dict):
        return None
    out: list[dict[str, Any]] = []
    for out_field, spec in facet["fields"].items():
        if not isinstance(spec, dict):
            continue
        for inp in spec.get("inputFields") or []:
            if (
                isinstance(inp, dict)
                and inp.get("namespace") == source.namespace
                and inp.get("name") == source.name
            ):
                item: dict[str, Any] = {
                    "field": str(out_field),
                    "inputField": str(inp.get("field")),
                }
                if inp.get("transformations"):
                    item["transformations"] = inp["transformations"]
                elif spec.get("transformationType"):
                    item["transformations"] = [
                        {
                            "type": spec.get("transformationType"),
                            "description": spec.get("transformationDescription"),
                        }
                    ]
                out.append(item)
    return out


class _Plan:
    """The dataset documents one event writes, built from the stored versions."""

    def __init__(self, registry: Registry, event: Event, run_id: str | None) -> None:
        self.registry = registry
        self.event = event
        self.run_id = run_id
        self.docs: dict[str, dict[str, Any]] = {}
        self.stored_hash: dict[str, str] = {}  # ref -> content hash of the stored version

    def _doc(self, d: DatasetRef) -> dict[str, Any]:
        ref = dataset_ref(d.namespace, d.name)
        key = str(ref)
        if key in self.docs:
            return self.docs[key]
        latest = self.registry.store.latest(ref)
        if latest is None:
            spec: dict[str, Any] = {"openlineage": {"namespace": d.namespace, "name": d.name}}
            version = "1"
            md: dict[str, Any] = {"namespace": ref.namespace, "name": ref.name, "version": version}
            if len(d.name) <= 256:
                md["title"] = d.name
            doc: dict[str, Any] = {
                "apiVersion": "hyper-registry/v1",
                "kind": "dataset",
                "metadata": md,
            }
        else:
            doc = document_of(latest)
            self.stored_hash[str(latest.ref)] = latest.metadata.contentHash
            spec = doc["spec"]
            spec.setdefault("openlineage", {"namespace": d.namespace, "name": d.name})
        doc["spec"] = spec
        new_schema = schema_from_facet(d.facets)
        if new_schema is not None:
            old = DatasetSpec.model_validate(spec).schema_ if latest is not None else None
            if not _same_schema(old, new_schema):
                if latest is not None:
                    spec.pop("forceIncompatible", None)  # a new version is checked afresh
                    count = len(self.registry.versions(ref))
                    doc["metadata"] = {**doc["metadata"], "version": str(count + 1)}
                    mode = spec.get("compatibility", "BACKWARD")
                    assert old is not None
                    if evolution.check(mode, new_schema, [(latest.metadata.version, old)]):
                        spec["forceIncompatible"] = (
                            f"schema observed by OpenLineage (job {self._job_text()})"
                        )[:1024]
                spec["schema"] = new_schema.model_dump(mode="json", exclude_defaults=True)
        self.docs[key] = doc
        return doc

    def _job_text(self) -> str:
        if isinstance(self.event, RunEvent | JobEvent):
            return f"{self.event.job.namespace}/{self.event.job.name}"
        return "-"

    def build(self) -> list[dict[str, Any]]:
        ev = self.event
        if isinstance(ev, DatasetEvent):
            self._doc(ev.dataset)
            return list(self.docs.values())
        assert isinstance(ev, RunEvent | JobEvent)
        for d in ev.inputs:
            self._doc(d)
        inputs = [str(dataset_ref(d.namespace, d.name)) for d in ev.inputs]
        for d in ev.outputs:
            doc = self._doc(d)
            mine = str(dataset_ref(d.namespace, d.name))
            sources = [i for i in dict.fromkeys(inputs) if i != mine]
            if not sources:
                continue
            spec = doc["spec"]
            steps: list[dict[str, Any]] = list(spec.get("transformations") or [])
            name = slug(ev.job.name, NAME_MAX)
            job = f"openlineage://{ev.job.namespace}/{ev.job.name}"[:1024]
            for step in steps:
                if step.get("name") == name:
                    merged = list(dict.fromkeys([*step.get("inputs", []), *sources]))
                    step["inputs"] = merged[:1000]
                    step["job"] = job
                    break
            else:
                steps.append({"name": name, "job": job, "inputs": sources})
            spec["transformations"] = steps[:1000]
        return list(self.docs.values())


# -- ingest -----------------------------------------------------------------------------


@dataclass
class Planned:
    """One validated event with the dataset writes it makes, ready to commit."""

    event: Event
    actor: str
    items: list[PreparedWrite]
    refs: frozenset[str]  # every dataset the event names
    changed: frozenset[str]  # those whose document the event changes (or creates)
    summary: dict[str, Any] = field(default_factory=lambda: {"datasets": [], "run": None})

    def conflicts(self, other: Planned) -> bool:
        """Whether two events may not share a commit (one changes a dataset the other names)."""
        return bool(self.changed & other.refs or other.changed & self.refs)


def plan(registry: Registry, raw: Any, *, actor: str) -> Planned:
    """Validate an event and prepare its dataset writes (reads only)."""
    event = raw if isinstance(raw, RunEvent | JobEvent | DatasetEvent) else parse_event(raw)
    run_id = event.run.runId if isinstance(event, RunEvent) else None
    planner = _Plan(registry, event, run_id)
    docs = planner.build()
    items: list[PreparedWrite] = []
    for i, doc in enumerate(docs):
        try:
            item = registry.pipeline.prepare(doc, "apply")
        except Invalid as exc:
            raise Invalid(
                exc.message,
                problems=[
                    Problem(("datasets", i, *p.loc), p.message, p.code) for p in exc.problems
                ],
            ) from None
        item.actor = actor
        items.append(item)
    changed = frozenset(
        str(item.ref.unversioned)
        for item in items
        if planner.stored_hash.get(str(item.ref)) != item.content_hash
    )
    refs = frozenset(str(item.ref.unversioned) for item in items)
    return Planned(event, actor, items, refs, changed)


def commit(registry: Registry, batch: Sequence[Planned]) -> list[dict[str, Any]]:
    """Store planned events in one transaction (all or nothing); one summary per event."""

    def within(conn: sa.Connection, results: Sequence[WriteResult | ItemError]) -> None:
        for p in batch:
            ev = p.event
            if isinstance(ev, RunEvent):
                p.summary["run"] = _record_run(conn, ev, p.actor)
            if isinstance(ev, RunEvent | JobEvent):
                _record_edges(conn, ev, ev.run.runId if isinstance(ev, RunEvent) else None)

    items = [item for p in batch for item in p.items]
    actor = batch[0].actor if batch else "registry"
    results = registry.pipeline.commit(items, actor=actor, atomic=True, within=within)
    outcomes = {str(r.ref): r.outcome for r in results if isinstance(r, WriteResult)}
    for p in batch:
        p.summary["datasets"] = [
            {"ref": str(item.ref), "outcome": outcomes.get(str(item.ref), "unchanged")}
            for item in p.items
        ]
    return [p.summary for p in batch]


def ingest(registry: Registry, raw: Any, *, actor: str) -> dict[str, Any]:
    """Store one OpenLineage event; returns what it did."""
    return commit(registry, [plan(registry, raw, actor=actor)])[0]


_RUN_BY_ID = sa.select(runs).where(runs.c.run_id == sa.bindparam("run_id"))


def _record_run(conn: sa.Connection, event: RunEvent, actor: str) -> dict[str, Any]:
    state = event.eventType or "OTHER"
    run_id = event.run.runId
    now = timestamp()
    row = conn.execute(_RUN_BY_ID, {"run_id": run_id}).first()
    parent = event.run.facets.get("parent")
    parent_id = None
    if isinstance(parent, dict) and isinstance(parent.get("run"), dict):
        parent_id = str(parent["run"].get("runId") or "")[:64] or None
    key = job_key(event.job)
    if row is None:
        current = state
        conn.execute(
            runs.insert(),
            {
                "run_id": run_id,
                "namespace": slug(event.job.namespace, NAMESPACE_MAX),
                "job_key": key,
                "job_namespace": event.job.namespace,
                "job_name": event.job.name,
                "state": state,
                "event_time": event.eventTime,
                "started_at": event.eventTime if state == "START" else None,
                "ended_at": event.eventTime if state in TERMINAL else None,
                "parent_run_id": parent_id,
                "updated_at": now,
            },
        )
    else:
        if row.job_key != key:
            raise Conflict(
                f"run {run_id} belongs to job {row.job_namespace}/{row.job_name}, "
                f"not {event.job.namespace}/{event.job.name}"
            )
        current = row.state
        if state != "OTHER":
            before = RANK.get(row.state)
            after = RANK[state]
            if before is not None and (
                after < before or (row.state in TERMINAL and state != row.state)
            ):
                raise Conflict(
                    f"run {run_id} is {row.state}; a {state} event would move its state backwards"
                )
            current = state
        values: dict[str, Any] = {
            "state": current,
            "event_time": event.eventTime,
            "updated_at": now,
        }
        if state == "START" and row.started_at is None:
            values["started_at"] = event.eventTime
        if state in TERMINAL:
            values["ended_at"] = event.eventTime
        if parent_id and row.parent_run_id is None:
            values["parent_run_id"] = parent_id
        conn.execute(runs.update().where(runs.c.run_id == run_id).values(**values))
    conn.execute(
        run_states.insert(),
        {
            "run_id": run_id,
            "state": state,
            "event_time": event.eventTime,
            "received_at": now,
            "actor": actor[:253],
        },
    )
    return {"runId": run_id, "state": current, "job": key}


def _record_edges(conn: sa.Connection, event: RunEvent | JobEvent, run_id: str | None) -> None:
    key = job_key(event.job)
    for out in event.outputs:
        dst = str(dataset_ref(out.namespace, out.name))
        for inp in event.inputs:
            src = str(dataset_ref(inp.namespace, inp.name))
            if src == dst:
                continue
            columns = _column_lineage(out, inp)
            upsert_edge(
                conn,
                src_ref=src,
                dst_ref=dst,
                job_key=key,
                job_namespace=event.job.namespace,
                job_name=event.job.name,
                run_id=run_id,
                event_time=event.eventTime,
                columns=orjson.dumps(columns).decode() if columns is not None else None,
            )


def run_history(registry: Registry, run_id: str) -> dict[str, Any] | None:
    """A run and its states in the order they arrived (None if unknown)."""
    with registry.store.engine.connect() as conn:
        row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id.lower())).first()
        if row is None:
            return None
        states = conn.execute(
            sa.select(run_states.c.state, run_states.c.event_time, run_states.c.received_at)
            .where(run_states.c.run_id == row.run_id)
            .order_by(run_states.c.id)
        ).all()
    return {
        "runId": row.run_id,
        "namespace": row.namespace,
        "job": {"namespace": row.job_namespace, "name": row.job_name},
        "state": row.state,
        "startedAt": row.started_at,
        "endedAt": row.ended_at,
        "parentRunId": row.parent_run_id,
        "history": [
            {"state": s.state, "eventTime": s.event_time, "receivedAt": s.received_at}
            for s in states
        ],
    }
