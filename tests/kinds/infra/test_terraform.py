"""Terraform: the terraform-aws-vpc module (hand-counted), literals, modules, syntax errors."""

from __future__ import annotations

from hyper_registry.kinds.infra import terraform
from hyper_registry.kinds.infra.model import Parsed

from .conftest import files_of


def parse(text: str, params: dict[str, object] | None = None, name: str = "main.tf") -> Parsed:
    return terraform.parse({name: text}, params or {})


def test_vpc_module_matches_the_hand_count() -> None:
    # grep -c '^resource "' *.tf: main.tf 74 + vpc-flow-logs.tf 5; data 5; variable 236; output 119
    p = terraform.parse(files_of("terraform/terraform-aws-vpc"), {})
    assert p.errors == []
    assert len(p.resources) == 79
    assert len(p.dataSources) == 5
    assert len(p.variables) == 236
    assert len(p.outputs) == 119
    assert p.providers == ["aws"]
    assert p.requiredVersion == ">= 1.0"
    assert p.requiredProviders["aws"]["source"] == "hashicorp/aws"
    types = {r.type for r in p.resources}
    assert {"aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_eip", "aws_flow_log"} <= types
    vpc = next(r for r in p.resources if r.address == "aws_vpc.this")
    assert vpc.count is None and vpc.countExpr == "${local.create_vpc ? 1 : 0}"
    assert vpc.attributes["instance_tenancy"] == "default"  # var.instance_tenancy's default


def test_example_reports_the_module_outside_the_template() -> None:
    p = terraform.parse(files_of("terraform/terraform-aws-vpc/examples/simple"), {})
    assert p.errors == [] and p.resources == []
    assert p.modules == [
        {"address": "module.vpc", "source": "../../", "local": True, "resolved": False}
    ]
    assert [n.code for n in p.notes] == ["module-missing"]


def test_local_module_followed_and_remote_recorded() -> None:
    files = {
        "main.tf": 'module "db" {\n  source = "./modules/db"\n  size = 200\n}\n'
        'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n  version = "5.1.0"\n}\n',
        "modules/db/main.tf": 'variable "size" { default = 20 }\n'
        'resource "aws_db_instance" "this" {\n  instance_class = "db.t3.micro"\n'
        "  allocated_storage = var.size\n}\n",
    }
    p = terraform.parse(files, {})
    assert [r.address for r in p.resources] == ["module.db.aws_db_instance.this"]
    assert p.resources[0].attributes["allocated_storage"] == 200
    assert p.modules[1]["version"] == "5.1.0"
    assert [n.code for n in p.notes] == ["module-remote"]


def test_counts_variables_and_parameters() -> None:
    src = (
        'variable "n" { default = 2 }\nvariable "size" { default = "t3.micro" }\n'
        'resource "aws_instance" "a" {\n  count = var.n\n  instance_type = var.size\n}\n'
        'resource "aws_instance" "b" {\n  for_each = toset(["x", "y", "z"])\n}\n'
        'resource "google_compute_instance" "c" {\n  provider = google.west\n}\n'
    )
    p = parse(src, {"size": "m5.large"})
    a, b, c = p.resources
    assert (a.count, a.attributes["instance_type"]) == (2, "m5.large")
    assert b.count == 3
    assert c.provider == "google"
    assert p.providers == ["aws", "google"]


def test_syntax_error_names_file_and_line() -> None:
    p = parse('resource "a" "b" {\n  x = 1\n  y = \n}\n', name="net.tf")
    (err,) = p.errors
    assert (err.file, err.line, err.code) == ("net.tf", 3, "syntax")
    assert err.text().startswith("net.tf:3: HCL syntax error")


def test_unknown_resource_types_are_kept_and_json_syntax_read() -> None:
    p = terraform.parse({"main.tf.json": '{"resource": {"acme_widget": {"w": {"size": 3}}}}'}, {})
    assert [(r.type, r.provider, r.attributes) for r in p.resources] == [
        ("acme_widget", "acme", {"size": 3})
    ]
    bad = terraform.parse({"x.tf.json": '{"resource": '}, {})
    assert bad.errors[0].file == "x.tf.json" and bad.errors[0].line == 1
