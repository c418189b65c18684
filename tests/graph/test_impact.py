"""``impact()``: everything a problem reaches, each with its path; depth, kinds and namespaces.

A problem travels from a relation's target to its source for ``dependsOn``, ``calls``, ``uses``,
``trainedOn``, ``derivedFrom`` and ``deployedBy``, and from source to target for ``describes``
and ``affects`` (the design's relation table, restated here independently of the code).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest

from hyper_registry import GraphHit, Registry

MakeDoc = Callable[..., dict[str, Any]]
Example = Callable[[str], list[dict[str, Any]]]

# canonical name -> (inverse name, whether a problem flows from source to target)
VOCABULARY: dict[str, tuple[str, bool]] = {
    "dependsOn": ("dependencyOf", False),
    "calls": ("calledBy", False),
    "uses": ("usedBy", False),
    "trainedOn": ("trainingDataOf", False),
    "derivedFrom": ("derivationOf", False),
    "deployedBy": ("deploys", False),
    "describes": ("describedBy", True),
    "affects": ("affectedBy", True),
}
INVERSES = {inv: name for name, (inv, _) in VOCABULARY.items()}


def summary(hits: list[GraphHit]) -> list[tuple[str, int, list[tuple[str, str]]]]:
    return [(str(h.ref), h.depth, [(p.relation, p.ref) for p in h.path]) for h in hits]


@pytest.fixture
def estate(registry: Registry, example: Example, make_doc: MakeDoc) -> Registry:
    """The example estate, plus an advisory that affects the SBOM and a caller of the gateway."""
    docs = [d for kind in ("dataset", "infra", "model", "plugin", "service") for d in example(kind)]
    sbom, advisory = example("security")
    advisory["relations"] = [{"type": "affects", "target": "security:edge/api-gateway-sbom"}]
    docs += [
        sbom,
        advisory,
        make_doc("service:shop/checkout@1.0.0", relations=[("calls", "service:edge/api-gateway")]),
    ]
    registry.apply_many(docs)
    return registry


GATEWAY = "service:edge/api-gateway@5.2.0"
CHECKOUT = "service:shop/checkout@1.0.0"
SBOM = "security:edge/api-gateway-sbom@5.2.0"
MODEL = "model:shop/bot-detector@2.0.0"


def test_vulnerability_reaches_sbom_artifact_and_its_callers(estate: Registry) -> None:
    hits = estate.impact("security:advisories/cve-2021-23337")
    assert summary(hits) == [
        (SBOM, 1, [("affects", SBOM)]),
        (GATEWAY, 2, [("affects", SBOM), ("describes", GATEWAY)]),
        (CHECKOUT, 3, [("affects", SBOM), ("describes", GATEWAY), ("calledBy", CHECKOUT)]),
    ]
    assert hits[0].to_dict() == {
        "ref": SBOM,
        "depth": 1,
        "path": [{"relation": "affects", "ref": SBOM}],
    }


def test_dataset_problem_reaches_models_and_services(estate: Registry) -> None:
    assert summary(estate.impact("dataset:shop/labelled-sessions")) == [
        (MODEL, 1, [("trainingDataOf", MODEL)]),
        (GATEWAY, 2, [("trainingDataOf", MODEL), ("usedBy", GATEWAY)]),
        (CHECKOUT, 3, [("trainingDataOf", MODEL), ("usedBy", GATEWAY), ("calledBy", CHECKOUT)]),
    ]


def test_impact_does_not_flow_against_the_relation(estate: Registry) -> None:
    # The gateway uses the model and is deployed by the template: its problems reach neither.
    assert [str(h.ref) for h in estate.impact(GATEWAY)] == [CHECKOUT]
    infra = estate.impact("infra:platform/edge-stack")
    assert [(str(h.ref), h.path[0].relation) for h in infra][:1] == [(GATEWAY, "deploys")]


def test_impact_depth(estate: Registry) -> None:
    assert [str(h.ref) for h in estate.impact("dataset:shop/labelled-sessions", depth=1)] == [MODEL]
    assert len(estate.impact("dataset:shop/labelled-sessions", depth=2)) == 2


def test_impact_kinds_filter_keeps_full_paths(estate: Registry) -> None:
    assert summary(estate.impact("dataset:shop/labelled-sessions", kinds=["service"])) == [
        (GATEWAY, 2, [("trainingDataOf", MODEL), ("usedBy", GATEWAY)]),
        (CHECKOUT, 3, [("trainingDataOf", MODEL), ("usedBy", GATEWAY), ("calledBy", CHECKOUT)]),
    ]
    assert estate.impact("dataset:shop/labelled-sessions", kinds=["plugin"]) == []


def test_namespaces_restriction_hides_nodes_and_what_lies_beyond(estate: Registry) -> None:
    # checkout (shop) is reached only through the gateway (edge): hiding edge hides both.
    hits = estate.impact("dataset:shop/labelled-sessions", namespaces=["shop"])
    assert summary(hits) == [(MODEL, 1, [("trainingDataOf", MODEL)])]
    hits = estate.impact("security:advisories/cve-2021-23337", namespaces=["advisories", "edge"])
    assert [str(h.ref) for h in hits] == [SBOM, GATEWAY]
    assert estate.impact("security:advisories/cve-2021-23337", namespaces=[]) == []


# -- against a reference walk on random graphs --------------------------------------------

NAMESPACES = ("red", "green", "blue")
NAMES = [f"{ns}/s{i}" for ns in NAMESPACES for i in range(6)]


def random_graph(seed: int) -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, str]]]]:
    """Services with random relations (some to names never registered), and the impact edges."""
    rng = random.Random(seed)
    relation_names = [*VOCABULARY, *INVERSES]
    docs: list[dict[str, Any]] = []
    flows: dict[str, list[tuple[str, str]]] = {n: [] for n in NAMES}
    for node in NAMES:
        ns, name = node.split("/")
        rels = []
        for _ in range(rng.randint(0, 3)):
            rel = rng.choice(relation_names)
            other = rng.choice([*NAMES, "red/ghost"])
            rels.append((rel, other))
        docs.append(
            {
                "kind": "service",
                "metadata": {"namespace": ns, "name": name, "version": "1.0.0"},
                "spec": {},
                "relations": [{"type": r, "target": f"service:{o}"} for r, o in rels],
            }
        )
        for rel, other in dict.fromkeys(rels):  # a repeated relation is stored once
            canonical = rel if rel in VOCABULARY else INVERSES[rel]
            src, dst = (node, other) if rel in VOCABULARY else (other, node)
            inverse, forward = VOCABULARY[canonical]
            if "ghost" in src or "ghost" in dst:
                continue
            if forward:
                flows[src].append((canonical, dst))
            else:
                flows[dst].append((inverse, src))
    return docs, flows


def reference_impact(
    flows: dict[str, list[tuple[str, str]]], root: str, depth: int, visible: set[str] | None
) -> dict[str, int]:
    """Shortest depth of every node a problem in ``root`` reaches (breadth-first)."""
    seen = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        if seen[node] == depth:
            continue
        for _, nxt in flows[node]:
            if nxt in seen or (visible is not None and nxt.split("/")[0] not in visible):
                continue
            seen[nxt] = seen[node] + 1
            queue.append(nxt)
    del seen[root]
    return seen


def node(ref: str) -> str:
    return ref.split(":", 1)[1].split("@")[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_impact_matches_a_reference_walk(registry: Registry, seed: int) -> None:
    docs, flows = random_graph(seed)
    registry.apply_many(docs)
    rng = random.Random(seed)
    for root in rng.sample(NAMES, 5):
        for depth, visible in ((10, None), (2, None), (10, {"red", root.split("/")[0]})):
            hits = registry.impact(
                f"service:{root}", depth=depth, namespaces=sorted(visible) if visible else None
            )
            got = {node(str(h.ref)): h.depth for h in hits}
            assert got == reference_impact(flows, root, depth, visible), (root, depth, visible)
            for hit in hits:
                assert len(hit.path) == hit.depth
                assert node(hit.path[-1].ref) == node(str(hit.ref))
                prev = root
                for hop in hit.path:
                    here = node(hop.ref)
                    assert (hop.relation, here) in flows[prev], (prev, hop)
                    if visible is not None:
                        assert here.split("/")[0] in visible
                    prev = here
