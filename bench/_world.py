"""A synthetic but realistic organisation: documents of the six kinds and their relations.

The world is deterministic for a given (n, relations per entry, seed). Every entry has
exactly ``rels`` relations, each pointing at another generated entry; some are declared
in ``relations:``, some are implied by spec fields (``model.spec.trainingDatasets``,
``dataset.spec.upstream``, ``security.spec.linkedArtifact`` ...), as real documents do.

Shape (shares of entries; every name has ``VERSIONS`` versions):

* plugin 12 %      dependsOn plugin
* service 25 %     calls service (spec), uses plugin, uses model, deployedBy infra
* model 10 %       trainedOn dataset (spec), derivedFrom model (spec.parent)
* dataset 18 %     derivedFrom dataset (spec.upstream / transformation inputs)
* infra 8 %        deploys service (declared by its inverse name), dependsOn infra
* security 27 %    SBOMs (20 %): describes an artifact (spec.linkedArtifact), affectedBy an
                   advisory; vulnerabilities (7 %): affects SBOMs (spec.affects)

Targets are skewed towards low name indices (a few popular libraries, models and
datasets are used by many), 70 % pin an exact version, 25 % name the latest version,
and model references use the ``@champion`` alias 5 % of the time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

VERSIONS = 4
SEMVERS = ("1.0.0", "1.1.0", "1.2.0", "2.0.0")
MONTHS = ("2025-01", "2025-02", "2025-03", "2025-04")
DAYS = ("2025-01-15", "2025-02-15", "2025-03-15", "2025-04-15")

# group -> (kind, share of entries)
GROUPS: dict[str, tuple[str, float]] = {
    "plugin": ("plugin", 0.12),
    "service": ("service", 0.25),
    "model": ("model", 0.10),
    "dataset": ("dataset", 0.18),
    "infra": ("infra", 0.08),
    "sbom": ("security", 0.20),
    "vuln": ("security", 0.07),
}

NAMESPACES = (
    "payments", "shop", "edge", "fraud", "search", "ads", "data", "ml", "platform",
    "identity", "checkout", "catalog", "mobile", "growth", "risk", "infra", "billing",
    "support", "logistics", "media",
)  # fmt: skip
OWNERS = tuple(f"team-{ns}" for ns in NAMESPACES)
WORDS = (
    "alpha", "beacon", "cedar", "delta", "ember", "falcon", "garnet", "harbor", "indigo",
    "juniper", "kestrel", "lumen", "meadow", "nimbus", "orchid", "pylon", "quartz", "raven",
    "sierra", "tundra", "umber", "vertex", "willow", "xenon", "yonder", "zephyr",
)  # fmt: skip

PACKAGES = 5000
"""npm packages the generated SBOMs contain and the generated advisories affect: drawn from a
space this large, an advisory reaches a few SBOMs (as in real data), not a fixed share of all."""


def _package(i: int, salt: int = 0) -> str:
    k = (i * 7919 + salt * 104729) * 2654435761 % 2**32 % PACKAGES
    return f"{WORDS[k % len(WORDS)]}-{k}"


# What each group's entries relate to: (relation type, target group, where it is written).
# ``where`` is "rel" (declared in relations:) or the spec field that implies it.
SLOTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "plugin": (
        ("dependsOn", "plugin", "rel"),
        ("dependsOn", "plugin", "rel"),
        ("dependsOn", "plugin", "rel"),
    ),
    "service": (
        ("calls", "service", "calls"),
        ("uses", "plugin", "rel"),
        ("uses", "model", "rel"),
        ("deployedBy", "infra", "rel"),
        ("calls", "service", "calls"),
    ),
    "model": (
        ("trainedOn", "dataset", "trainingDatasets"),
        ("derivedFrom", "model", "parent"),
        ("trainedOn", "dataset", "trainingDatasets"),
        ("trainedOn", "dataset", "trainingDatasets"),
    ),
    "dataset": (
        ("derivedFrom", "dataset", "upstream"),
        ("derivedFrom", "dataset", "upstream"),
        ("derivedFrom", "dataset", "upstream"),
    ),
    "infra": (
        ("deploys", "service", "rel"),
        ("dependsOn", "infra", "rel"),
        ("deploys", "service", "rel"),
    ),
    "sbom": (
        ("describes", "artifact", "linkedArtifact"),
        ("affectedBy", "vuln", "rel"),
        ("affectedBy", "vuln", "rel"),
    ),
    "vuln": (
        ("affects", "sbom", "affects"),
        ("affects", "sbom", "affects"),
        ("affects", "sbom", "affects"),
    ),
}
# At most one slot of these may be drawn per entry (the spec field holds one value).
SINGLE = {"parent", "linkedArtifact"}
# The first slot is always kept (an SBOM always describes something); the rest are sampled.
FIRST_FIXED = {"sbom"}


@dataclass
class Name:
    group: str
    kind: str
    namespace: str
    name: str
    versions: tuple[str, ...]

    def ref(self, version: str | None = None) -> str:
        base = f"{self.kind}:{self.namespace}/{self.name}"
        return f"{base}@{version}" if version else base


@dataclass
class World:
    docs: list[dict[str, Any]]
    # Per document, the relations it carries as (declared type, target ref), in order.
    relations: list[list[tuple[str, str]]]
    names: dict[str, list[Name]] = field(default_factory=dict)

    def refs(self) -> list[str]:
        return [
            f"{d['kind']}:{d['metadata']['namespace']}/{d['metadata']['name']}"
            f"@{d['metadata']['version']}"
            for d in self.docs
        ]


def _names(n: int) -> dict[str, list[Name]]:
    total_names = max(len(GROUPS), n // VERSIONS)
    out: dict[str, list[Name]] = {}
    made = 0
    groups = list(GROUPS.items())
    for gi, (group, (kind, share)) in enumerate(groups):
        count = total_names - made if gi == len(groups) - 1 else max(1, round(total_names * share))
        made += count
        if kind in ("plugin", "service", "model", "infra"):
            versions = SEMVERS
        elif kind == "dataset":
            versions = MONTHS
        else:
            versions = DAYS
        lst = []
        for i in range(count):
            ns = NAMESPACES[i % len(NAMESPACES)]
            if group == "vuln":
                name = f"cve-2024-{10000 + i}"
                ns = "advisories"
            elif group == "sbom":
                name = f"{WORDS[i % len(WORDS)]}-{i}-sbom"
            else:
                name = f"{WORDS[i % len(WORDS)]}-{group}-{i}"
            lst.append(Name(group, kind, ns, name, versions))
        out[group] = lst
    return out


def _pick(rng: random.Random, lst: list[Name]) -> Name:
    # Skewed towards the head: a few names are used by many (log4j, the shared feature store).
    return lst[int(len(lst) * rng.random() ** 1.6)]


def _target(rng: random.Random, names: dict[str, list[Name]], group: str) -> str:
    if group == "artifact":
        group = rng.choice(("service", "service", "plugin", "model"))
    nm = _pick(rng, names[group])
    r = rng.random()
    if nm.group == "model" and r < 0.05:
        return nm.ref("champion")
    if r < 0.30:
        return nm.ref()
    return nm.ref(rng.choice(nm.versions))


def _draw(
    rng: random.Random, names: dict[str, list[Name]], me: Name, version: str, k: int
) -> list[tuple[str, str, str]]:
    slots = list(SLOTS[me.group])
    fixed = [slots.pop(0)] if me.group in FIRST_FIXED else []
    chosen = fixed + rng.sample(slots, k - len(fixed)) if k - len(fixed) <= len(slots) else []
    if not chosen:
        chosen = [slots[i % len(slots)] for i in range(k)]
    out: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    singles: set[str] = set()
    own_base = me.ref()
    for rtype, group, where in chosen:
        if where in SINGLE and where in singles:
            where = "rel"
        singles.add(where)
        for _ in range(50):
            target = _target(rng, names, group)
            base = target.split("@", 1)[0]
            if base == own_base or (rtype, target) in seen:
                continue
            if where == "parent" and "@" not in target:
                target = f"{target}@{rng.choice(SEMVERS)}"
                if (rtype, target) in seen:
                    continue
            break
        seen.add((rtype, target))
        out.append((rtype, target, where))
    return out


def _metadata(nm: Name, version: str, i: int, title: str, description: str) -> dict[str, Any]:
    md: dict[str, Any] = {
        "namespace": nm.namespace,
        "name": nm.name,
        "version": version,
        "title": title,
        "description": description,
        "owner": OWNERS[i % len(OWNERS)] if nm.namespace != "advisories" else "team-security",
    }
    if i % 3 == 0:
        md["labels"] = {"tier": ("gold", "silver", "bronze")[i % 3], "env": "prod"}
    if i % 2 == 0:
        md["tags"] = [WORDS[i % len(WORDS)], nm.group]
    return md


def _spec_refs(rels: list[tuple[str, str, str]], where: str) -> list[str]:
    return [t for _, t, w in rels if w == where]


def _doc(
    rng: random.Random, nm: Name, vi: int, i: int, rels: list[tuple[str, str, str]]
) -> dict[str, Any]:
    version = nm.versions[vi]
    declared = [{"type": t, "target": target} for t, target, w in rels if w == "rel"]
    g = nm.group
    if g == "plugin":
        export = ("scrub", "filter", "transform", "route")[i % 4]
        md = _metadata(nm, version, i, f"{nm.name} plugin", f"Request {export} plugin.")
        spec: dict[str, Any] = {
            "runtime": "wasm",
            "module": {
                "wat": f'(module (func (export "{export}") (param i32) (result i32)'
                " local.get 0 i32.const 1 i32.add))"
            },
            "permissions": ["env"] if i % 2 else [],
            "sandboxing": "strict" if i % 3 else "relaxed",
            "exports": [export],
        }
        kind = "plugin"
    elif g == "service":
        host = f"{nm.name}.{nm.namespace}.svc"
        md = _metadata(nm, version, i, f"{nm.name} service", "Serves the team's public API.")
        spec = {
            "endpoints": [f"https://{host}:8443", f"grpc://{host}:9090"],
            "healthCheck": {"protocol": "http", "path": "/healthz", "interval": "30s",
                            "timeout": "5s"},
            "sla": {"availability": 99.9 if i % 2 else 99.95},
            "mesh": {"enabled": True, "provider": "istio", "mtls": True},
        }  # fmt: skip
        calls = _spec_refs(rels, "calls")
        if calls:
            spec["calls"] = calls
        kind = "service"
    elif g == "model":
        p, r = 0.80 + (i % 17) / 100, 0.75 + (i % 13) / 100
        md = _metadata(nm, version, i, f"{nm.name} model", "Classifier scoring transactions.")
        spec = {
            "framework": ("xgboost", "pytorch", "sklearn", "onnx")[i % 4],
            "task": "binary-classification",
            "metrics": {"accuracy": 0.9, "precision": p, "recall": r,
                        "f1": round(2 * p * r / (p + r), 4), "auc": 0.95},
            "primaryMetric": "auc",
        }  # fmt: skip
        parent = _spec_refs(rels, "parent")
        if parent:
            spec["parent"] = parent[0]
        training = _spec_refs(rels, "trainingDatasets")
        if training:
            spec["trainingDatasets"] = training
        if vi == len(nm.versions) - 1:
            spec["aliases"] = ["champion"]
        kind = "model"
    elif g == "dataset":
        md = _metadata(nm, version, i, f"{nm.name} dataset", "Daily events, one row per event.")
        spec = {
            "format": "parquet",
            "location": f"s3://lake-{nm.namespace}/{nm.name}/{version}/",
            "schema": {"fields": [
                {"name": "event_id", "type": "string"},
                {"name": "at", "type": "timestamp"},
                {"name": "amount", "type": "double"},
                {"name": "country", "type": "string", "nullable": True},
            ]},
            "compatibility": "BACKWARD",
            "quality": {"completeness": 0.99, "accuracy": 0.97},
        }  # fmt: skip
        upstream = _spec_refs(rels, "upstream")
        if upstream:
            spec["upstream"] = upstream
            spec["transformations"] = [
                {"name": "daily-join", "job": f"airflow://{nm.namespace}/build", "inputs": upstream}
            ]
        kind = "dataset"
    elif g == "infra":
        md = _metadata(nm, version, i, f"{nm.name} stack", "Instances and a database.")
        spec = {
            "templateType": "terraform",
            "providers": ["aws"],
            "source": (
                'resource "aws_instance" "app" {\n  count = 2\n  instance_type = "m5.large"\n}\n'
                'resource "aws_db_instance" "db" {\n  instance_class = "db.t3.medium"\n}\n'
            ),
            "parameters": {"region": "eu-west-1"},
        }
        kind = "infra"
    elif g == "sbom":
        md = _metadata(nm, version, i, f"{nm.name}", "Bill of materials of the image.")
        lib = _package(i)
        spec = {
            "type": "sbom",
            "format": "cyclonedx",
            "linkedArtifact": _spec_refs(rels, "linkedArtifact")[0],
            "document": {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "version": 1,
                "components": [
                    {"type": "library", "name": lib, "version": "4.17.20",
                     "purl": f"pkg:npm/{lib}@4.17.20"},
                    {"type": "library", "name": "express", "version": "4.18.2",
                     "purl": "pkg:npm/express@4.18.2"},
                ],
            },
        }  # fmt: skip
        kind = "security"
    else:  # vuln
        cve = nm.name.upper()
        md = _metadata(nm, version, i, cve, "Command injection in a template helper.")
        spec = {
            "type": "vulnerability",
            "id": cve,
            "summary": "Command injection in template",
            "cvss": {"vector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"},
            "affected": [
                {"purl": f"pkg:npm/{_package(i, 1)}",
                 "ranges": [{"type": "SEMVER",
                             "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}
            ],
            "published": "2024-09-13T00:00:00Z",
        }  # fmt: skip
        affects = _spec_refs(rels, "affects")
        if affects:
            spec["affects"] = affects
        kind = "security"
    doc: dict[str, Any] = {
        "apiVersion": "hyper-registry/v1",
        "kind": kind,
        "metadata": md,
        "spec": spec,
    }
    if declared:
        doc["relations"] = declared
    return doc


def build(n: int, rels: int = 2, seed: int = 42) -> World:
    """``n`` documents (shuffled, kinds mixed), each with exactly ``rels`` relations."""
    rng = random.Random(seed)
    names = _names(n)
    slots: list[tuple[Name, int]] = [
        (nm, vi) for lst in names.values() for nm in lst for vi in range(len(nm.versions))
    ]
    slots = slots[:n]
    # Versions of a name arrive in order, but interleaved with everything else.
    rng.shuffle(slots)
    order: dict[str, int] = {}
    arranged: list[tuple[Name, int]] = []
    for nm, _vi in slots:
        key = nm.ref()
        vi = order.get(key, 0)
        order[key] = vi + 1
        arranged.append((nm, vi))
    docs: list[dict[str, Any]] = []
    relations: list[list[tuple[str, str]]] = []
    for i, (nm, vi) in enumerate(arranged):
        drawn = _draw(rng, names, nm, nm.versions[vi], rels)
        docs.append(_doc(rng, nm, vi, i, drawn))
        relations.append([(t, target) for t, target, _ in drawn])
    return World(docs, relations, names)
