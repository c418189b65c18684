"""The demo organisation applies cleanly, is idempotent, and its graph tells the CVE story."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyper_registry import Registry, Settings
from hyper_registry.core.ref import Ref
from hyper_registry.demo import DATA_FILES, demo_documents, load_demo
from hyper_registry.kinds import builtin_kinds
from hyper_registry.store.base import GraphHit

CVE = "security:advisories/cve-2021-23337@2022-09-13"
SBOMS_WITH_LODASH = {
    "security:payments/gateway-sbom@3.4.0",
    "security:payments/notifications-sbom@1.9.2",
    "security:edge/header-scrubber-sbom@0.4.1",
}
DESCRIBED = {
    "service:payments/gateway@3.4.0",
    "service:payments/notifications@1.9.2",
    "plugin:edge/header-scrubber@0.4.1",
}
CALLERS = {"service:edge/api-gateway@5.2.0", "service:payments/payouts@1.4.0"}


@pytest.fixture
def fresh_registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry.open(Settings(data_dir=tmp_path, database_url=None))
    try:
        yield reg
    finally:
        reg.close()


@pytest.fixture
def demo(fresh_registry: Registry) -> Registry:
    report = load_demo(fresh_registry)
    assert report.ok
    return fresh_registry


def ref_of(doc: dict[str, Any]) -> str:
    md = doc["metadata"]
    return str(Ref(doc["kind"], md["namespace"], md["name"], md["version"]))


def by_ref(hits: list[GraphHit]) -> dict[str, GraphHit]:
    return {str(h.ref): h for h in hits}


def test_data_files_are_shipped_in_the_package() -> None:
    from importlib import resources

    shipped = {p.name for p in resources.files("hyper_registry.demo").joinpath("data").iterdir()}
    assert set(DATA_FILES) <= shipped
    assert {n for n in shipped if n.endswith(".yaml")} == set(DATA_FILES)


def test_documents_are_a_realistic_size_and_unique() -> None:
    docs = demo_documents()
    assert 25 <= len(docs) <= 40
    refs = [ref_of(d) for d in docs]
    assert len(set(refs)) == len(refs)
    for doc in docs:
        md = doc["metadata"]
        assert md.get("owner", "").startswith("team-"), ref_of(doc)
        assert md.get("description"), ref_of(doc)
    # A fresh copy on every call: callers may change what they get.
    docs[0]["metadata"]["name"] = "changed"
    assert demo_documents()[0]["metadata"]["name"] != "changed"


def test_applies_on_a_fresh_registry_and_again_unchanged(fresh_registry: Registry) -> None:
    n = len(demo_documents())
    first = load_demo(fresh_registry)
    assert first.ok
    assert first.counts()["created"] == n
    second = load_demo(fresh_registry)
    assert second.ok
    assert second.counts() == {
        "created": 0,
        "updated": 0,
        "unchanged": n,
        "deleted": 0,
        "refused": 0,
    }


def test_every_kind_is_present(demo: Registry) -> None:
    for kind in builtin_kinds():
        assert demo.count(kinds=[kind.name]) >= 1, kind.name
    types = {e.spec["type"] for e in demo.query(kinds=["security"], limit=100).items}
    assert types == {"sbom", "vulnerability", "vex"}
    templates = {e.spec["templateType"] for e in demo.query(kinds=["infra"], limit=100).items}
    assert {"terraform", "helm"} <= templates


def test_every_relation_resolves(demo: Registry) -> None:
    for doc in demo_documents():
        for view in demo.relations(ref_of(doc)):
            assert view.resolved is not None, f"{ref_of(doc)} {view.type} {view.other} dangles"


def test_cve_impact_reaches_sboms_artifacts_and_callers(demo: Registry) -> None:
    hits = by_ref(demo.impact(CVE))
    assert hits.keys() >= SBOMS_WITH_LODASH
    assert hits.keys() >= DESCRIBED
    assert hits.keys() >= CALLERS
    for ref in SBOMS_WITH_LODASH:
        assert [(h.relation, h.ref) for h in hits[ref].path] == [("affects", ref)]
    for ref in DESCRIBED:
        path = hits[ref].path
        assert len(path) == 2
        assert path[0].relation == "affects" and path[0].ref in SBOMS_WITH_LODASH
        assert (path[1].relation, path[1].ref) == ("describes", ref)
    for ref in CALLERS:
        path = hits[ref].path
        assert path[-1].ref == ref
        assert path[-1].relation in ("calledBy", "usedBy")
        assert path[-2].ref in DESCRIBED
    # SBOMs without a vulnerable lodash, and what they describe, stay out of the tree.
    assert "security:payments/ledger-sbom@2.7.1" not in hits
    assert "security:payments/fraud-scoring-sbom@1.12.0" not in hits


def test_cve_affects_exactly_the_sboms_with_a_vulnerable_lodash() -> None:
    def version(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split("."))

    docs = demo_documents()
    vulnerable = set()
    for doc in docs:
        spec = doc["spec"]
        if spec.get("type") != "sbom":
            continue
        for component in spec["document"]["components"]:
            if component["purl"].startswith("pkg:npm/lodash@") and version(
                component["version"]
            ) < version("4.17.21"):
                vulnerable.add(ref_of(doc))
    (cve,) = [d for d in docs if d["spec"].get("id") == "CVE-2021-23337"]
    assert set(cve["spec"]["affects"]) == vulnerable == SBOMS_WITH_LODASH
    assert ref_of(cve) == CVE


def test_champion_alias_resolves(demo: Registry) -> None:
    champion = demo.get("model:risk/fraud@champion")
    assert champion.kind == "model"
    assert champion.ref.name == "fraud"
    assert "champion" in champion.spec["aliases"]


def test_fine_tuned_model_lineage(demo: Registry) -> None:
    model = demo.get("model:risk/fraud@2.1.0")
    assert model.spec["parent"] == "model:risk/fraud@2.0.0"
    hits = by_ref(demo.dependencies("model:risk/fraud@2.1.0"))
    assert hits["model:risk/fraud@2.0.0"].path[0].relation == "derivedFrom"
    assert hits["dataset:risk/transactions@2026-04"].path[0].relation == "trainedOn"
    raw = hits["dataset:risk/raw-transactions@2026-04"]
    assert [h.ref for h in raw.path] == [
        "dataset:risk/transactions@2026-04",
        "dataset:risk/raw-transactions@2026-04",
    ]
    assert raw.path[-1].relation == "derivedFrom"


def test_scoring_service_uses_the_champion(demo: Registry) -> None:
    champion = demo.get("model:risk/fraud@champion").ref
    uses = [v for v in demo.relations("service:payments/fraud-scoring@1.12.0") if v.type == "uses"]
    assert [(str(v.other), v.resolved) for v in uses] == [("model:risk/fraud@champion", champion)]


def test_plugin_modules_export_what_they_declare() -> None:
    for doc in demo_documents():
        if doc["kind"] != "plugin":
            continue
        exported = re.findall(r'\(export "([^"]+)"\)', doc["spec"]["module"]["wat"])
        assert sorted(exported) == sorted(doc["spec"]["exports"]), ref_of(doc)
        assert doc["spec"]["permissions"] == []


def test_file_order_does_not_change_the_graph(
    fresh_registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # `hyper-registry apply -f .../demo/data` reads the files alphabetically (advisories
    # first): relations naming entries not there yet resolve when those arrive.
    assert load_demo(fresh_registry).ok
    expected = {str(h.ref): h.depth for h in fresh_registry.impact(CVE)}
    data_dir = tmp_path_factory.mktemp("reversed")
    with Registry.open(Settings(data_dir=data_dir, database_url=None)) as reg:
        assert reg.apply_many(list(reversed(demo_documents())), atomic=True).ok
        assert {str(h.ref): h.depth for h in reg.impact(CVE)} == expected
        for doc in demo_documents():
            assert all(v.resolved is not None for v in reg.relations(ref_of(doc)))
