"""The shipped example descriptors validate unchanged and imply the expected relations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from hyper_registry.core.kind import KindSpec
from hyper_registry.core.ref import Ref
from hyper_registry.kinds.infra import InfraSpec
from hyper_registry.kinds.security import SecuritySpec, VulnerabilitySpec
from hyper_registry.kinds.service import ServiceSpec

from .kindcheck import KINDS, validate

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "examples"


def load(name: str) -> list[dict[str, Any]]:
    with (EXAMPLES / name).open(encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if d is not None]


def relations(kind: KindSpec, spec: BaseModel) -> list[tuple[str, str, str]]:
    out = []
    for rel in kind.relations_of(spec):
        assert isinstance(rel.target, Ref)
        out.append((rel.type, str(rel.target), ".".join(str(p) for p in rel.loc)))
    return out


ALL = sorted(p.name for p in EXAMPLES.glob("*.yaml"))


def test_every_kind_has_an_example() -> None:
    assert sorted(f"{k}.yaml" for k in KINDS) == ALL


@pytest.mark.parametrize("name", ALL)
def test_example_validates(name: str) -> None:
    for data in load(name):
        spec, problems = validate(data)
        assert problems == []
        assert isinstance(spec, KINDS[data["kind"]].spec_model)


def test_plugin_example() -> None:
    (data,) = load("plugin.yaml")
    spec, _ = validate(data)
    assert relations(KINDS["plugin"], spec) == []
    dumped = spec.model_dump(exclude_none=True)
    assert dumped["sandboxing"] == "strict"
    assert dumped["exports"] == ["scrub"]
    assert "(module" in dumped["module"]["wat"]


def test_service_example() -> None:
    (data,) = load("service.yaml")
    spec, _ = validate(data)
    assert isinstance(spec, ServiceSpec)
    assert relations(KINDS["service"], spec) == []  # its calls are declared relations
    health = spec.healthCheck
    assert health is not None
    assert (health.interval, health.interval_seconds) == ("30s", 30.0)
    assert (health.timeout, health.timeout_seconds) == ("5s", 5.0)
    assert [str(e) for e in spec.parsed_endpoints] == [
        "https://api-gateway.edge.svc:8443",
        "grpc://api-gateway.edge.svc:9090",
    ]
    assert str(spec.health_target()) == "https://api-gateway.edge.svc:8443"


def test_model_example() -> None:
    (data,) = load("model.yaml")
    spec, _ = validate(data)
    assert relations(KINDS["model"], spec) == [
        ("derivedFrom", "model:shop/bot-detector@1.4.0", "spec.parent"),
        ("trainedOn", "dataset:shop/labelled-sessions@2026-09", "spec.trainingDatasets.0"),
    ]
    assert KINDS["model"].aliases_of(spec) == ["champion"]


def test_dataset_example() -> None:
    (data,) = load("dataset.yaml")
    spec, _ = validate(data)
    # upstream and the transformation's input name the same dataset: one relation
    assert relations(KINDS["dataset"], spec) == [
        ("derivedFrom", "dataset:shop/raw-sessions@2026-09", "spec.upstream.0"),
    ]
    assert spec.model_dump(by_alias=True, exclude_unset=True)["schema"]["fields"][4] == {
        "name": "country",
        "type": "string",
        "nullable": True,
    }


def test_infra_example() -> None:
    (data,) = load("infra.yaml")
    spec, _ = validate(data)
    assert isinstance(spec, InfraSpec)
    assert relations(KINDS["infra"], spec) == []  # `deploys` is declared in relations
    assert spec.parameters == {"region": "eu-west-1"}
    assert spec.templateType == "terraform"


def test_security_examples() -> None:
    sbom_data, vuln_data = load("security.yaml")
    sbom, _ = validate(sbom_data)
    assert relations(KINDS["security"], sbom) == [
        ("describes", "service:edge/api-gateway@5.2.0", "spec.linkedArtifact"),
    ]
    vuln, _ = validate(vuln_data)
    assert relations(KINDS["security"], vuln) == []
    assert isinstance(vuln, SecuritySpec)
    assert isinstance(vuln.root, VulnerabilitySpec)
    assert vuln.root.id == "CVE-2021-23337"


@pytest.mark.parametrize("name", ALL)
def test_examples_round_trip(name: str) -> None:
    """Dumping a spec (by alias, set fields only) gives input that validates to the same spec."""
    for data in load(name):
        spec, _ = validate(data)
        again = type(spec).model_validate(
            spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
        )
        assert again == spec


def test_spec_models_have_a_json_schema() -> None:
    for kind in KINDS.values():
        schema = kind.spec_model.model_json_schema(by_alias=True)
        assert schema.get("type") == "object" or "oneOf" in schema or "anyOf" in schema
