"""Dataset operations used by the API and the CLI: schema diff and check, quality updates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import ValidationError

from hyper_registry.core.errors import Invalid, NotFound
from hyper_registry.core.ref import Ref
from hyper_registry.core.validation import problems_from
from hyper_registry.kinds.dataset import evolution
from hyper_registry.kinds.dataset.rules import earlier_schemas
from hyper_registry.kinds.dataset.spec import COMPATIBILITY_MODES, DatasetSpec, Quality, Schema
from hyper_registry.kinds.model.edit import document_of
from hyper_registry.store.schema import changes

if TYPE_CHECKING:
    from hyper_registry.core.registry import Registry


def _schema_of(registry: Registry, ref: Ref) -> tuple[str, Schema | None]:
    entry = registry.get(ref)
    return entry.metadata.version, DatasetSpec.model_validate(entry.spec).schema_


def schema_diff(registry: Registry, ref: Ref | str, against: str | None = None) -> dict[str, Any]:
    """The schema changes from ``against`` (default: the version before) to ``ref``."""
    r = registry.ref(ref)
    version, new = _schema_of(registry, r)
    if against is None:
        versions = [e.metadata.version for e in registry.versions(r.unversioned)]
        i = versions.index(version)
        if i + 1 >= len(versions):
            return {"from": None, "to": version, "changes": evolution.diff(None, new)}
        against = versions[i + 1]
    old_version, old = _schema_of(registry, r.at(against))
    return {"from": old_version, "to": version, "changes": evolution.diff(old, new)}


def check_schema(
    registry: Registry, ref: Ref | str, schema: Any, compatibility: Any = None
) -> dict[str, Any]:
    """Would ``schema`` be accepted as a new version of ``ref``'s dataset? Every reason if not."""
    r = registry.ref(ref).unversioned
    try:
        parsed = Schema.model_validate(schema)
    except ValidationError as exc:
        raise Invalid("the schema is not valid", problems=problems_from(exc, ("schema",))) from None
    latest = registry.store.latest(r)
    if latest is None:
        raise NotFound(f"{r} not found")
    mode = compatibility or DatasetSpec.model_validate(latest.spec).compatibility
    if mode not in COMPATIBILITY_MODES:
        raise Invalid.at(
            ("compatibility",),
            f"compatibility {mode!r} is not one of: {', '.join(COMPATIBILITY_MODES)}",
            "bad-choice",
        )
    earlier = earlier_schemas(registry, r)
    reasons = evolution.check(str(mode), parsed, earlier)
    return {
        "ref": str(r),
        "mode": mode,
        "compatible": not reasons,
        "reasons": [f"{mode}: {x.text()}" for x in reasons],
        "changes": evolution.diff(earlier[0][1] if earlier else None, parsed),
    }


def set_quality(
    registry: Registry,
    ref: Ref | str,
    quality: Any,
    thresholds: Any = None,
    *,
    actor: str,
) -> dict[str, Any]:
    """Merge quality measures (and thresholds) into a dataset version; report any alert."""
    entry = registry.get(ref)
    if entry.kind != "dataset":
        raise Invalid.at(("ref",), f"{ref} is not a dataset", "bad-ref-kind")
    doc = document_of(entry)
    spec = doc["spec"]
    for key, given in (("quality", quality), ("qualityThresholds", thresholds)):
        if given is None:
            continue
        if not isinstance(given, dict):
            raise Invalid.at((key,), f"{key} must map dimensions to numbers in 0..1")
        try:
            Quality.model_validate(given)
        except ValidationError as exc:
            raise Invalid(f"{key} is not valid", problems=problems_from(exc, (key,))) from None
        spec[key] = {**(spec.get(key) or {}), **given}
    with registry.store.engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar() or 0
    written = registry.update(doc, expected_revision=entry.revision, actor=actor)
    final = DatasetSpec.model_validate(written.spec)
    alert = None
    with registry.store.engine.connect() as conn:
        row = conn.execute(
            sa.select(changes.c.seq, changes.c.detail)
            .where(changes.c.seq > before)
            .where(changes.c.op == "dataset.quality")
            .where(changes.c.ref == str(written.ref))
            .order_by(changes.c.seq.desc())
            .limit(1)
        ).first()
    if row is not None:
        import orjson

        alert = {"seq": row.seq, **(orjson.loads(row.detail) if row.detail else {})}
    return {
        "ref": str(written.ref),
        "quality": final.quality.as_dict() if final.quality else {},
        "thresholds": final.qualityThresholds.as_dict() if final.qualityThresholds else {},
        "breaches": [
            {"dimension": d, "value": v, "threshold": t} for d, v, t in final.quality_breaches()
        ],
        "alert": alert,
    }
