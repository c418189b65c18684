"""The ml commands: lineage, model compare/alias/upload/imports, dataset diff/check/quality,
openlineage; on a local data directory and (the same commands) against a live server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner, Result

from hyper_registry import Registry, Settings
from hyper_registry.api import create_app
from hyper_registry.cli.main import app

ML = Path(__file__).resolve().parents[1] / "fixtures" / "ml"
Run = Callable[..., Result]


def write_docs(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(docs))
    return path


WORLD = [
    {
        "kind": "dataset",
        "metadata": {"namespace": "risk", "name": "raw", "version": "1"},
        "spec": {
            "schema": {"fields": [{"name": "id", "type": "string"}]},
            "qualityThresholds": {"completeness": 0.9},
        },
    },
    {
        "kind": "dataset",
        "metadata": {"namespace": "risk", "name": "features", "version": "1"},
        "spec": {"upstream": ["dataset:risk/raw"]},
    },
    {
        "kind": "model",
        "metadata": {"namespace": "risk", "name": "fraud", "version": "1.0.0"},
        "spec": {
            "framework": "xgboost",
            "trainingDatasets": ["dataset:risk/features"],
            "metrics": {"accuracy": 0.9, "loss": 0.3},
            "primaryMetric": "accuracy",
        },
    },
    {
        "kind": "model",
        "metadata": {"namespace": "risk", "name": "fraud", "version": "2.0.0"},
        "spec": {
            "framework": "xgboost",
            "parent": "model:risk/fraud@1.0.0",
            "metrics": {"accuracy": 0.95, "loss": 0.2},
            "primaryMetric": "accuracy",
        },
    },
]


def runner_for(prefix: list[str]) -> Run:
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, [*prefix, *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        if code:
            assert result.stderr.startswith("error: ") or "INCOMPATIBLE" in result.stdout
            assert "Traceback" not in result.stderr
        return result

    return run


@pytest.fixture
def local(tmp_path: Path) -> Run:
    return runner_for(["--data-dir", str(tmp_path / "data")])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Run]:
    reg = Registry.open(Settings(data_dir=tmp_path / "server"))
    _, token = reg.tokens.create("cli", "admin", None, created_by="test")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(reg), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        yield runner_for(["--server", f"http://127.0.0.1:{port}", "--token", token])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        reg.close()


@pytest.fixture(params=["local", "remote"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Run:
    run: Run = request.getfixturevalue(request.param)
    run("apply", "-f", str(write_docs(tmp_path / "world.json", WORLD)))
    return run


def test_lineage_json(cli: Run) -> None:
    out = json.loads(
        cli(
            "lineage",
            "model:risk/fraud@2.0.0",
            "--direction",
            "upstream",
            "--depth",
            "5",
            "-o",
            "json",
        ).stdout
    )
    assert out["root"] == "model:risk/fraud@2.0.0"
    assert [n["ref"] for n in out["nodes"]] == [
        "model:risk/fraud@2.0.0",
        "model:risk/fraud@1.0.0",
        "dataset:risk/features@1",
        "dataset:risk/raw@1",
    ]
    tree = cli("lineage", "dataset:risk/raw", "--direction", "downstream").stdout
    assert "model:risk/fraud@2.0.0" in tree


def test_model_compare_json_is_exactly_the_four_keys(cli: Run) -> None:
    out = json.loads(
        cli(
            "model", "compare", "model:risk/fraud@1.0.0", "model:risk/fraud@2.0.0", "-o", "json"
        ).stdout
    )
    assert set(out) == {"metrics", "winners", "winner", "pareto"}
    assert out["winner"] == "model:risk/fraud@2.0.0"
    assert out["pareto"] == ["model:risk/fraud@2.0.0"]
    table = cli("model", "compare", "model:risk/fraud@1.0.0", "model:risk/fraud@2.0.0").stdout
    assert "winner: model:risk/fraud@2.0.0" in table
    cli("model", "compare", "model:risk/fraud@1.0.0", "--direction", "loss=down", code=2)


def test_model_alias_upload_and_imports(cli: Run) -> None:
    cli("model", "alias", "model:risk/fraud@1.0.0", "champion")
    cli("model", "alias", "model:risk/fraud@2.0.0", "champion")
    hist = json.loads(cli("model", "aliases", "model:risk/fraud", "-o", "json").stdout)
    assert hist["aliases"] == {"champion": "2.0.0"}
    assert len(hist["history"]) == 2
    onnx = ML / "onnx" / "light_squeezenet.onnx"
    up = json.loads(
        cli("model", "upload", "model:risk/fraud@2.0.0", str(onnx), "-o", "json").stdout
    )
    assert up["sha256"].startswith("sha256:770b0f3c8623e18b")
    imp = json.loads(
        cli("model", "import-onnx", "model:risk/net@1.0.0", str(onnx), "-o", "json").stdout
    )
    assert imp["imported"]["opsets"] == {"ai.onnx": 9}
    cli(
        "model",
        "import-mlflow",
        "model:risk/wine@1.0.0",
        str(ML / "mlflow" / "MLmodel.with.metadata"),
    )
    cli(
        "model",
        "import-card",
        "model:risk/qa@1.0.0",
        str(ML / "cards" / "deepset-minilm-uncased-squad2.md"),
    )
    err = cli(
        "model",
        "import-card",
        "model:risk/qa@1.0.0",
        str(ML / "cards" / "openai-whisper.md"),
        code=2,
    )
    assert "no YAML front matter" in err.stderr


def test_dataset_check_diff_quality(cli: Run, tmp_path: Path) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text("fields:\n- {name: id, type: string}\n- {name: n, type: int}\n")
    bad = cli("dataset", "check", "dataset:risk/raw", str(schema), code=2)
    assert "BACKWARD: INCOMPATIBLE" in bad.stdout
    good = json.loads(
        cli(
            "dataset",
            "check",
            "dataset:risk/raw",
            str(schema),
            "--compatibility",
            "FORWARD",
            "-o",
            "json",
        ).stdout
    )
    assert good["compatible"] is True
    out = json.loads(
        cli(
            "dataset", "quality", "dataset:risk/raw", "--set", "completeness=0.5", "-o", "json"
        ).stdout
    )
    assert [c["ref"] for c in out["alert"]["consumers"]] == [
        "dataset:risk/features@1",
        "model:risk/fraud@1.0.0",
        "model:risk/fraud@2.0.0",
    ]
    err = cli("dataset", "quality", "dataset:risk/raw", "--set", "completeness=2", code=2)
    assert "quality.completeness" in err.stderr
    diff = json.loads(cli("dataset", "diff", "dataset:risk/raw", "-o", "json").stdout)
    assert diff == {
        "from": None,
        "to": "1",
        "changes": [
            {
                "change": "added",
                "field": "id",
                "type": "string",
                "nullable": False,
                "hasDefault": False,
            }
        ],
    }


def test_openlineage_files_and_runs(cli: Run) -> None:
    files = [str(ML / "openlineage" / f"{n}.json") for n in ("1_pick_apples", "2_apple_filling")]
    out = json.loads(cli("openlineage", *files, "-o", "json").stdout)
    assert out[1]["run"]["state"] == "COMPLETE"
    run = json.loads(
        cli("lineage-run", "ab468fb4-4654-4286-9679-59d13d185b19", "-o", "json").stdout
    )
    assert run["job"] == {"namespace": "grandmas.kitchen", "name": "prepare_apple_filling"}
    cli("lineage-run", "00000000-0000-0000-0000-000000000000", code=1)
