"""The infra kind in a registry (SQLite and PostgreSQL): parse at registration, status,
the resources table, cost and diff operations, deploys."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hyper_registry import Registry
from hyper_registry.core.errors import BatchRefused, Invalid
from hyper_registry.kinds.infra import infra_service
from hyper_registry.kinds.infra.archives import format_bundle

from .conftest import FIXTURES, files_of


def example_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((FIXTURES / "example-edge-stack.yaml").read_text())
    return doc


def infra(
    name: str, version: str, template_type: str, source: str, ns: str = "platform"
) -> dict[str, Any]:
    return {
        "kind": "infra",
        "metadata": {"namespace": ns, "name": name, "version": version},
        "spec": {"templateType": template_type, "source": source},
    }


def test_example_registers_with_status_and_resources(registry: Registry) -> None:
    registry.apply(example_doc())
    entry = registry.get("infra:platform/edge-stack@1.3.0")
    st = entry.status["infra"]
    assert st["resourceCount"] == 3
    assert st["resourceTypes"] == {"aws_db_instance": 1, "aws_instance": 1, "aws_lb": 1}
    assert st["cost"]["total"] == 324.16 and st["cost"]["catalogue"] == "2026-11-01"
    assert st["parsed"]["resources"][1]["count"] == 3
    found = infra_service(registry).find(resource_type="aws_db_instance")
    assert [str(e.ref) for e in found] == ["infra:platform/edge-stack@1.3.0"]
    assert infra_service(registry).find(provider="aws", namespaces=["other"]) == []


def test_syntax_error_refuses_with_file_and_line(registry: Registry) -> None:
    with pytest.raises(Invalid) as info:
        registry.apply(infra("bad", "1.0.0", "terraform", 'resource "a" "b" {\n  x = \n}\n'))
    (p,) = info.value.problems
    assert p.path == "spec.source" and p.code == "syntax"
    assert p.message.startswith("main.tf:2: HCL syntax error")
    with pytest.raises(BatchRefused):  # apply -f goes through the same rule
        registry.apply_many([infra("bad", "1.0.0", "cloudformation", "Resources: {}\n")])
    assert registry.count(kinds=["infra"]) == 0


def test_versions_update_and_unregister_keep_the_table_right(registry: Registry) -> None:
    v1 = 'resource "aws_eip" "ip" {}\n'
    v2 = 'resource "aws_nat_gateway" "n" {}\nresource "aws_eip" "ip" {}\n'
    registry.apply(infra("net", "1.0.0", "terraform", v1))
    registry.apply(infra("net", "2.0.0", "terraform", v2))
    svc = infra_service(registry)
    assert [str(e.ref) for e in svc.find(resource_type="aws_eip")] == ["infra:platform/net@2.0.0"]
    assert len(svc.find(resource_type="aws_eip", all_versions=True)) == 2
    assert (
        svc.find(resource_type="aws_nat_gateway", all_versions=True)[0].metadata.version == "2.0.0"
    )
    d = svc.diff("infra:platform/net@1.0.0", "infra:platform/net@2.0.0")
    assert [x["address"] for x in d["added"]] == ["aws_nat_gateway.n"] and d["removed"] == []
    assert d["cost"]["delta"] == round(0.045 * 730 + 0.045 * 100, 2)
    registry.apply(infra("net", "2.0.0", "terraform", v1))  # an update replaces the rows
    assert svc.find(resource_type="aws_nat_gateway") == []
    registry.unregister("infra:platform/net@2.0.0")
    assert [str(e.ref) for e in svc.find(resource_type="aws_eip")] == ["infra:platform/net@1.0.0"]


def test_estimate_cost_operation_and_warnings_kept(registry: Registry) -> None:
    source = format_bundle(files_of("terraform/terraform-aws-vpc/examples/simple"))
    registry.apply(infra("simple", "1.0.0", "terraform", source))
    entry = registry.get("infra:platform/simple")
    assert [n["code"] for n in entry.status["infra"]["parsed"]["notes"]] == ["module-missing"]
    registry.apply(example_doc())
    estimate = registry.kind("infra").operation("estimate_cost")
    report = estimate("infra:platform/edge-stack")
    assert report["total"] == 324.16
    cheaper = estimate(
        "infra:platform/edge-stack",
        usage={"resource_usage": {"aws_instance.gateway": {"monthly_hours": 0}}},
    )
    assert cheaper["breakdown"]["compute"] == 0.0


def test_deploys_declared_and_inferred(registry: Registry) -> None:
    registry.apply(example_doc())  # declares deploys -> service:edge/api-gateway
    chart = format_bundle(files_of("helm/argo-rollouts"))
    registry.apply(infra("rollouts", "2.41.0", "helm", chart))
    registry.apply(
        {
            "kind": "service",
            "metadata": {"namespace": "ops", "name": "argo-rollouts", "version": "1.0.0"},
            "spec": {},
        }
    )
    svc = infra_service(registry)
    assert svc.deploys("infra:platform/edge-stack") == [
        {"target": "service:edge/api-gateway", "inferred": False, "origin": "declared"}
    ]
    assert svc.deploys("infra:platform/rollouts") == [
        {
            "target": "service:ops/argo-rollouts",
            "inferred": True,
            "reason": "matches chart name 'argo-rollouts'",
        }
    ]
    assert svc.deploys("infra:platform/rollouts", namespaces=["platform"]) == []
