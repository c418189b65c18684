"""Cost estimates: the catalogue, usage assumptions and overrides, unpriced, Helm, diff."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hyper_registry.core.errors import Invalid
from hyper_registry.kinds.infra import cost
from hyper_registry.kinds.infra.model import Parsed, Resource
from hyper_registry.kinds.infra.parse import parse_files, parse_source

from .conftest import files_of

EXAMPLE = Path(__file__).parents[2] / "fixtures" / "infra" / "example-edge-stack.yaml"


def example() -> tuple[Parsed, dict[str, object]]:
    spec = yaml.safe_load(EXAMPLE.read_text())["spec"]
    return parse_source("terraform", spec["source"], spec["parameters"]), spec["parameters"]


def test_catalogue_is_dated_and_shaped() -> None:
    cat = cost.shipped_catalogue()
    assert cat["date"] == "2026-11-01" and cat["currency"] == "USD"
    for provider in ("aws", "google", "azurerm"):
        assert cat[provider] and cat["defaultRegion"][provider]


def test_example_priced_by_hand() -> None:
    parsed, params = example()
    report = cost.estimate(parsed, parameters=params)
    assert set(report) == {"total", "currency", "breakdown", "resources", "unpriced"}
    eu = 1.115  # eu-west-1 over us-east-1
    lb = round(0.0225 * eu, 6) * 730
    gw = round(0.096 * eu, 6) * 730 * 3
    db = round(0.072 * eu, 6) * 730 + round(0.115 * eu, 6) * 100
    assert report["breakdown"] == {
        "compute": round(gw, 2),
        "storage": 0.0,
        "network": round(lb, 2),
        "database": round(db, 2),
        "other": 0.0,
    }
    assert report["total"] == round(lb + gw + db, 2) == 324.16
    gateway = next(r for r in report["resources"] if r["address"] == "aws_instance.gateway")
    assert gateway["count"] == 3 and gateway["region"] == "eu-west-1"
    assert gateway["lines"][0]["assumption"] == "730 h/month; x 3 instances"
    assert report["unpriced"] == []


def test_usage_file_overrides_per_resource_and_type() -> None:
    parsed, params = example()
    usage = {
        "resource_usage": {"aws_instance.gateway": {"monthly_hours": 100}},
        "region": "us-east-1",
    }
    report = cost.estimate(parsed, parameters=params, usage=usage)
    gateway = next(r for r in report["resources"] if r["address"] == "aws_instance.gateway")
    assert gateway["monthly"] == round(0.096 * 100 * 3, 2)
    assert gateway["lines"][0]["assumption"].startswith("100 h/month")
    s3 = Parsed(
        templateType="terraform",
        resources=[
            Resource(address="aws_s3_bucket.b", type="aws_s3_bucket", name="b", provider="aws")
        ],
    )
    default = cost.estimate(s3)["resources"][0]["lines"][0]
    assert default["assumption"] == "50 GB stored (usage assumption)"
    typed = cost.estimate(
        s3, usage={"resource_type_default_usage": {"aws_s3_bucket": {"storage_gb": 1000}}}
    )
    assert typed["total"] == 23.0


def test_bad_usage_files_refused() -> None:
    parsed, _ = example()
    with pytest.raises(Invalid):
        cost.estimate(parsed, usage={"resource_usage": {"x": 3}})
    with pytest.raises(Invalid):
        cost.estimate(parsed, usage={"bogus": 1})


def test_unknown_types_listed_unpriced_never_zero() -> None:
    parsed = parse_source(
        "terraform",
        'resource "acme_widget" "w" {}\nresource "aws_vpc" "v" {}\n'
        'resource "aws_instance" "big" { instance_type = "z9.mega" }\n'
        'resource "aws_instance" "var" { instance_type = var.t }\n',
        {},
    )
    report = cost.estimate(parsed)
    assert [(u["address"], u["reason"]) for u in report["unpriced"]] == [
        ("acme_widget.w", "no price for this resource type in the catalogue"),
        ("aws_instance.big", "no price for Linux instance 'z9.mega' in the catalogue"),
        ("aws_instance.var", "instance_type is not a literal value"),
    ]
    (vpc,) = report["resources"]
    assert (vpc["address"], vpc["monthly"], vpc["lines"]) == ("aws_vpc.v", 0.0, [])
    unknown_region = cost.estimate(
        parse_source("terraform", 'resource "aws_eip" "e" {}\n', {}),
        parameters={"region": "mars-1"},
    )
    assert unknown_region["unpriced"][0]["reason"] == "no prices for region 'mars-1'"


def test_cloudformation_and_ansible_share_the_pricers() -> None:
    cfn = parse_files(
        "cloudformation",
        files_of("cloudformation/VPC_With_Managed_NAT_And_Private_Subnet.yaml"),
        {},
    )
    report = cost.estimate(cfn)
    assert report["unpriced"] == []
    nat = 2 * (0.045 * 730 + 0.045 * 100)  # two NAT gateways, 100 GB each (assumption)
    eip = 2 * 0.005 * 730
    assert report["breakdown"]["network"] == round(nat + eip, 2)
    lamp = cost.estimate(parse_files("ansible", files_of("ansible/lamp-infrastructure"), {}))
    assert lamp["breakdown"]["compute"] == round(6 * 0.0116 * 730, 2)


def test_helm_priced_from_requests_at_configurable_prices() -> None:
    values = {
        "values": {"controller": {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}}
    }
    parsed = parse_files("helm", files_of("helm/argo-rollouts"), values)
    report = cost.estimate(parsed)
    k = cost.shipped_catalogue()["kubernetes"]
    per_pod = 0.5 * 730 * k["vcpuHour"] + 1 * 730 * k["gbHour"]
    assert report["breakdown"]["compute"] == round(2 * per_pod, 2)  # 2 replicas
    custom = cost.estimate(parsed, usage={"kubernetes": {"vcpuHour": 0.1, "gbHour": 0.01}})
    assert custom["total"] == round(2 * (0.5 * 730 * 0.1 + 730 * 0.01), 2)
    bare = cost.estimate(parse_files("helm", files_of("helm/argo-rollouts"), {}))
    assert (
        bare["unpriced"][0]["reason"] == "no CPU or memory requests found in the template or values"
    )


def test_diff_added_removed_and_delta() -> None:
    old = parse_source(
        "terraform",
        'resource "aws_instance" "a" { instance_type = "t3.micro" }\nresource "aws_eip" "ip" {}\n',
        {},
    )
    new = parse_source(
        "terraform",
        'resource "aws_instance" "a" { instance_type = "t3.large" }\n'
        'resource "aws_nat_gateway" "n" {}\n',
        {},
    )
    d = cost.diff(old, new, cost.estimate(old), cost.estimate(new))
    assert [x["address"] for x in d["added"]] == ["aws_nat_gateway.n"]
    assert [x["address"] for x in d["removed"]] == ["aws_eip.ip"]
    assert [x["address"] for x in d["changed"]] == ["aws_instance.a"]
    assert d["cost"]["delta"] == round(d["cost"]["after"] - d["cost"]["before"], 2)
    before = round(0.0104 * 730 + 0.005 * 730, 2)
    after = round(0.0832 * 730 + 0.045 * 730 + 0.045 * 100, 2)
    assert (d["cost"]["before"], d["cost"]["after"]) == (before, after)
    assert d["cost"]["delta"] == round(after - before, 2)  # the delta of the totals shown
