"""The ``hyper-registry`` command: in process (CliRunner) and once as a real subprocess.

Exit codes: 0 ok, 1 not found, 2 invalid input, 3 conflict; errors go to stderr, one readable
line naming the file and the field path, never a stack trace.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from hyper_registry.cli.main import app

Run = Callable[..., Result]
ALL_EXAMPLES = 7  # documents in tests/fixtures/core/*.yaml


@pytest.fixture
def descriptors(tmp_path: Path, fixtures_dir: Path) -> Path:
    """A directory with a copy of the example descriptors."""
    target = tmp_path / "descriptors"
    target.mkdir()
    for f in fixtures_dir.glob("*.yaml"):
        shutil.copy(f, target / f.name)
    return target


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path) -> Run:
    runner = CliRunner(env={"COLUMNS": "200"})  # wide enough that tables never fold a ref

    def run(*args: str, code: int = 0, input: str | None = None) -> Result:
        result = runner.invoke(app, ["--data-dir", str(data_dir), *args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        if code:
            assert result.stderr.startswith("error: ")
            assert "Traceback" not in result.stderr
        return result

    return run


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BAD_NAME = """\
apiVersion: hyper-registry/v1
kind: service
metadata:
  namespace: edge
  name: Bad_Name
  version: 1.0.0
"""


def test_apply_a_file(cli: Run, descriptors: Path) -> None:
    result = cli("apply", "-f", str(descriptors / "model.yaml"))
    assert "model:shop/bot-detector@2.0.0" in result.stdout
    assert "1 created" in result.stdout


def test_apply_a_directory_then_again(cli: Run, descriptors: Path) -> None:
    first = json.loads(cli("apply", "-f", str(descriptors), "-o", "json").stdout)
    assert first["counts"]["created"] == ALL_EXAMPLES
    assert [r["index"] for r in first["results"]] == list(range(ALL_EXAMPLES))
    again = json.loads(cli("apply", "-f", str(descriptors), "-o", "json").stdout)
    assert again["counts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": ALL_EXAMPLES,
        "deleted": 0,
        "refused": 0,
    }


def test_apply_from_stdin(cli: Run, descriptors: Path) -> None:
    text = (descriptors / "dataset.yaml").read_text()
    result = cli("apply", "-f", "-", "-o", "yaml", input=text)
    assert yaml.safe_load(result.stdout)["counts"]["created"] == 1


def test_get_as_json_and_yaml(cli: Run, descriptors: Path) -> None:
    cli("apply", "-f", str(descriptors))
    as_json = json.loads(cli("get", "model:shop/bot-detector", "-o", "json").stdout)
    as_yaml = yaml.safe_load(cli("get", "model:shop/bot-detector@champion", "-o", "yaml").stdout)
    assert as_json == as_yaml
    assert as_json["kind"] == "model"
    md = as_json["metadata"]
    assert (md["namespace"], md["name"], md["version"], md["revision"]) == (
        "shop",
        "bot-detector",
        "2.0.0",
        1,
    )
    assert md["uid"] and md["contentHash"].startswith("sha256:")
    assert as_json["spec"]["framework"] == "xgboost"
    table = cli("get", "model:shop/bot-detector", "-o", "table").stdout
    assert "model:shop/bot-detector@2.0.0" in table
    assert "Bot traffic detector" in table


def test_impact_as_json(cli: Run, descriptors: Path) -> None:
    cli("apply", "-f", str(descriptors))
    out = json.loads(cli("impact", "dataset:shop/labelled-sessions", "-o", "json").stdout)
    assert out["root"] == "dataset:shop/labelled-sessions@2026-09"
    affected = {a["ref"]: a["path"] for a in out["affected"]}
    assert affected == {
        "model:shop/bot-detector@2.0.0": [
            {"relation": "trainingDataOf", "ref": "model:shop/bot-detector@2.0.0"}
        ],
        "service:edge/api-gateway@5.2.0": [
            {"relation": "trainingDataOf", "ref": "model:shop/bot-detector@2.0.0"},
            {"relation": "usedBy", "ref": "service:edge/api-gateway@5.2.0"},
        ],
    }
    depth1 = json.loads(
        cli("impact", "dataset:shop/labelled-sessions", "--depth", "1", "-o", "json").stdout
    )
    assert [a["ref"] for a in depth1["affected"]] == ["model:shop/bot-detector@2.0.0"]
    tree = cli("impact", "dataset:shop/labelled-sessions").stdout
    assert "service:edge/api-gateway@5.2.0" in tree


def test_list_and_changes(cli: Run, descriptors: Path) -> None:
    cli("apply", "-f", str(descriptors))
    listed = json.loads(cli("list", "--kind", "security", "-o", "json").stdout)
    assert sorted(e["metadata"]["name"] for e in listed) == ["api-gateway-sbom", "cve-2021-23337"]
    log = json.loads(cli("changes", "-o", "json").stdout)
    assert [c["op"] for c in log].count("create") == ALL_EXAMPLES
    later = json.loads(cli("changes", "--since", str(log[-2]["seq"]), "-o", "json").stdout)
    assert later == log[-1:]


def test_invalid_document_exits_2_naming_file_and_field(
    cli: Run, descriptors: Path, tmp_path: Path
) -> None:
    bad = write(tmp_path / "bad.yaml", BAD_NAME)
    result = cli("apply", "-f", str(bad), code=2)
    assert f"{bad}:1 (document 1): metadata.name:" in result.stderr
    assert "Bad_Name" in result.stderr
    assert result.stdout == ""


def test_a_refused_batch_names_each_file_and_writes_nothing(cli: Run, descriptors: Path) -> None:
    write(
        descriptors / "zz-bad.yaml",
        "kind: service\nmetadata: {namespace: edge, name: ok, "
        "version: 1.0.0}\n---\n"
        + BAD_NAME
        + "---\n"
        + BAD_NAME.replace("service", "widget").replace("Bad_Name", "w"),
    )
    result = cli("apply", "-f", str(descriptors), code=2)
    err = result.stderr
    assert "2 documents of the batch refused; nothing was written" in err
    assert re.search(r"zz-bad\.yaml:\d+ \(document 2\): metadata\.name: ", err), err
    assert re.search(r"zz-bad\.yaml:\d+ \(document 3\): kind: unknown kind 'widget'", err), err
    cli("get", "model:shop/bot-detector", code=1)
    assert json.loads(cli("changes", "-o", "json").stdout) == []


def test_yaml_syntax_error_reports_file_line_and_column(cli: Run, tmp_path: Path) -> None:
    broken = write(
        tmp_path / "broken.yaml",
        "apiVersion: hyper-registry/v1\nkind: service\nmetadata:\n  name: [oops\n  version: 1\n",
    )
    result = cli("apply", "-f", str(broken), code=2)
    assert re.search(rf"{re.escape(str(broken))}:\d+:\d+: invalid YAML", result.stderr), (
        result.stderr
    )


def test_not_found_exits_1(cli: Run, descriptors: Path) -> None:
    cli("apply", "-f", str(descriptors / "service.yaml"))
    result = cli("get", "service:edge/nothing", code=1)
    assert "service:edge/nothing not found" in result.stderr
    cli("impact", "service:edge/nothing", "-o", "json", code=1)
    cli("delete", "service:edge/nothing@1.0.0", code=1)


def test_conflict_exits_3(cli: Run, descriptors: Path) -> None:
    cli("apply", "-f", str(descriptors / "service.yaml"))
    result = cli("delete", "service:edge/api-gateway@5.2.0", "--revision", "9", code=3)
    assert "revision 1, not 9" in result.stderr
    assert (
        "deleted service:edge/api-gateway@5.2.0"
        in cli("delete", "service:edge/api-gateway@5.2.0", "--revision", "1").stdout
    )
    cli("get", "service:edge/api-gateway", code=1)


def test_bad_arguments_exit_2(cli: Run) -> None:
    cli("get", "not-a-ref", code=2)
    cli("impact", "service:edge/x", "--depth", "0", code=1)  # the root is looked up first
    result = CliRunner().invoke(app, ["get", "service:edge/x", "-o", "xml"])
    assert result.exit_code == 2


def test_missing_file_exits_2(cli: Run, tmp_path: Path) -> None:
    result = cli("apply", "-f", str(tmp_path / "nope.yaml"), code=2)
    assert "nope.yaml" in result.stderr


def test_data_dir_from_the_environment(
    tmp_path: Path, descriptors: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HYPER_REGISTRY_DATA_DIR", str(tmp_path / "from-env"))
    runner = CliRunner()
    assert runner.invoke(app, ["apply", "-f", str(descriptors / "plugin.yaml")]).exit_code == 0
    assert (tmp_path / "from-env" / "registry.db").exists()


@pytest.mark.postgres
def test_against_postgresql(postgres_url: str, descriptors: Path) -> None:
    runner = CliRunner()
    base = ["--database-url", postgres_url]
    applied = runner.invoke(app, [*base, "apply", "-f", str(descriptors), "-o", "json"])
    assert applied.exit_code == 0, applied.stderr
    assert json.loads(applied.stdout)["counts"]["created"] == ALL_EXAMPLES
    got = runner.invoke(app, [*base, "get", "service:edge/api-gateway", "-o", "json"])
    assert json.loads(got.stdout)["metadata"]["version"] == "5.2.0"


# -- the installed command, as a user runs it ---------------------------------------------


def console_script() -> str:
    for candidate in (
        Path(sys.executable).parent / "hyper-registry",
        Path(sys.prefix) / "bin" / "hyper-registry",
    ):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("hyper-registry")
    if found is None:
        pytest.fail("the hyper-registry console script is not installed (pip install -e .)")
    return found


def test_real_subprocess(descriptors: Path, data_dir: Path, tmp_path: Path) -> None:
    exe = console_script()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPER_REGISTRY_")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, "--data-dir", str(data_dir), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    applied = run("apply", "-f", str(descriptors), "-o", "json")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout)["counts"]["created"] == ALL_EXAMPLES
    out: dict[str, Any] = json.loads(
        run("impact", "dataset:shop/labelled-sessions", "-o", "json").stdout
    )
    assert out["root"] == "dataset:shop/labelled-sessions@2026-09"
    assert [a["ref"] for a in out["affected"]] == [
        "model:shop/bot-detector@2.0.0",
        "service:edge/api-gateway@5.2.0",
    ]
    bad = write(tmp_path / "bad.yaml", BAD_NAME)
    refused = run("apply", "-f", str(bad))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.startswith(f"error: {bad}:1 (document 1): metadata.name:")
    assert "Traceback" not in refused.stderr
