"""``hyper-registry infra push|cost|diff|deploys`` and ``list --resource-type`` (local registry)."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hyper_registry.cli.main import app

FIXTURES = Path(__file__).parent.parent / "fixtures" / "infra"
Run = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path) -> Run:
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str, code: int = 0, usage_error: bool = False) -> Result:
        result = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        if code and not usage_error:
            assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        return result

    return run


def test_push_directory_file_and_archive(cli: Run, tmp_path: Path) -> None:
    out = cli(
        "infra",
        "push",
        str(FIXTURES / "terraform" / "terraform-aws-vpc"),
        "--name",
        "platform/vpc",
        "--version",
        "6.0.0",
    ).stdout
    assert "infra:platform/vpc@6.0.0 created (revision 1)" in out
    assert "terraform: 79 resources, providers aws" in out
    cfn = cli(
        "infra",
        "push",
        str(FIXTURES / "cloudformation" / "EC2InstanceWithSecurityGroupSample.yaml"),
        "--name",
        "platform/ec2",
        "--version",
        "1.0.0",
        "-o",
        "json",
    ).stdout
    assert json.loads(cfn)["spec"]["templateType"] == "cloudformation"
    chart = tmp_path / "argo-rollouts-2.41.0.tgz"
    with tarfile.open(chart, "w:gz") as tf:
        tf.add(FIXTURES / "helm" / "argo-rollouts", arcname="argo-rollouts")
    assert (
        "helm: 2 resources"
        in cli(
            "infra", "push", str(chart), "--name", "platform/rollouts", "--version", "2.41.0"
        ).stdout
    )
    listed = cli(
        "list", "--kind", "infra", "--resource-type", "aws_nat_gateway", "-o", "json"
    ).stdout
    assert [e["metadata"]["name"] for e in json.loads(listed)] == ["vpc"]
    table = cli("list", "--resource-type", "Deployment").stdout
    assert "infra:platform/rollouts@2.41.0" in table and "vpc" not in table
    cli("list", "--kind", "model", "--resource-type", "x", code=2, usage_error=True)


def test_cost_json_shape_and_table(cli: Run, tmp_path: Path) -> None:
    cli("apply", "-f", str(FIXTURES / "example-edge-stack.yaml"))
    report = json.loads(cli("infra", "cost", "infra:platform/edge-stack", "-o", "json").stdout)
    assert list(report) == ["total", "currency", "breakdown", "resources", "unpriced"]
    assert report["total"] == 324.16 and report["currency"] == "USD"
    assert list(report["breakdown"]) == ["compute", "storage", "network", "database", "other"]
    table = cli("infra", "cost", "platform/edge-stack").stdout
    assert "aws_instance.gateway" in table and "OVERALL TOTAL" in table and "$324.16" in table
    assert "└─ Linux instance (m5.large, on-demand)" in table
    usage = tmp_path / "usage.yml"
    usage.write_text("resource_usage:\n  aws_instance.gateway:\n    monthly_hours: 0\n")
    cheaper = json.loads(
        cli("infra", "cost", "platform/edge-stack", "--usage", str(usage), "-o", "json").stdout
    )
    assert cheaper["breakdown"]["compute"] == 0.0
    prices = tmp_path / "prices.json"
    prices.write_text("{}")
    cli("infra", "cost", "platform/edge-stack", "--prices", str(prices), code=2)


def test_diff_and_deploys(cli: Run, tmp_path: Path) -> None:
    cli("apply", "-f", str(FIXTURES / "example-edge-stack.yaml"))
    smaller = tmp_path / "main.tf"
    smaller.write_text('resource "aws_lb" "edge" {\n  load_balancer_type = "application"\n}\n')
    cli("infra", "push", str(smaller), "--name", "platform/edge-stack", "--version", "1.4.0")
    out = cli("infra", "diff", "platform/edge-stack@1.3.0", "platform/edge-stack@1.4.0").stdout
    assert "aws_instance.gateway" in out and "aws_db_instance.sessions" in out
    # 1.4.0 has no parameters.region, so its load balancer is priced in us-east-1
    assert "monthly cost $324.16 -> $16.43 (-$307.73 USD)" in out
    d = json.loads(
        cli(
            "infra", "diff", "platform/edge-stack@1.3.0", "platform/edge-stack@1.4.0", "-o", "json"
        ).stdout
    )
    assert d["cost"]["delta"] == -307.73
    deploys = json.loads(cli("infra", "deploys", "platform/edge-stack@1.3.0", "-o", "json").stdout)
    assert deploys == [
        {"target": "service:edge/api-gateway", "inferred": False, "origin": "declared"}
    ]


def test_errors_are_one_line(cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "net.tf").write_text('resource "a" "b" {\n  x = \n}\n')
    res = cli("infra", "push", str(bad), "--name", "platform/bad", "--version", "1.0.0", code=2)
    assert "net.tf:2: HCL syntax error" in res.stderr
    evil = tmp_path / "evil.tgz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("../x.tf")
        info.size = 0
        tf.addfile(info, io.BytesIO())
    evil.write_bytes(buf.getvalue())
    assert (
        "leaves the template"
        in cli("infra", "push", str(evil), "--name", "p/e", "--version", "1.0.0", code=2).stderr
    )
    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(FIXTURES / "ansible" / "drupal" / "provisioning" / "vars.yml", notes / "vars.yml")
    assert (
        "cannot tell the template type"
        in cli("infra", "push", str(notes), "--name", "p/n", "--version", "1.0.0", code=2).stderr
    )
    cli("infra", "cost", "platform/missing", code=1)
