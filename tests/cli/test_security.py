"""``sbom import``, ``advisories import``, ``vulns ...``, ``vex import`` and ``impact CVE-...``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hyper_registry.cli.main import app

FIXTURES = Path(__file__).parent.parent / "fixtures" / "security-index"
KEYS = ["critical", "high", "medium", "low", "unknown", "unpatched", "suppressed"]


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner(env={"COLUMNS": "200"})
    data = tmp_path / "data"

    def go(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["--data-dir", str(data), *args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout if code == 0 else result.stderr

    return go


@pytest.fixture
def advisories(tmp_path: Path) -> Path:
    folder = tmp_path / "osv"
    folder.mkdir()
    for name in ("PYSEC-2024-60.yaml", "GHSA-34jh-p97f-mpxf.json", "PYSEC-2022-43059.yaml"):
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "README.md").write_text("not an advisory")
    return folder


def test_import_summary_list_triage_impact(run, advisories: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = run("advisories", "import", str(advisories))
    assert "read 3: 3 created" in out and "1 withdrawn" in out
    sbom = tmp_path / "requirements.bin"  # odd suffix: the format comes from the content
    shutil.copy(FIXTURES / "file_with-comments_1.6.xml.bin", sbom)
    out = run("sbom", "import", str(sbom), "--namespace", "py")
    assert "created security:py/testing-requirements-txt-sbom@0.1.0" in out
    assert "unlinked" in out
    ref = "security:py/testing-requirements-txt-sbom@0.1.0"
    summary = json.loads(run("vulns", "summary", ref, "-o", "json"))
    assert list(summary) == KEYS
    assert summary == dict(zip(KEYS, [0, 1, 1, 0, 0, 2, 0], strict=True))
    listing = run("vulns", "list", ref)
    assert "pkg:pypi/idna@2.10" in listing and "PYSEC-2024-60" in listing
    tree = run("impact", "CVE-2024-3651")
    assert ref in tree and "pkg:pypi/idna@2.10" in tree
    data = json.loads(run("impact", "PYSEC-2024-60", "-o", "json"))
    assert data["sboms"][0]["ref"] == ref
    out = run(
        "vulns",
        "triage",
        "CVE-2024-3651",
        "--component",
        "pkg:pypi/idna",
        "--status",
        "not_affected",
        "--justification",
        "vulnerable_code_not_in_execute_path",
    )
    assert "1 findings now in that state" in out
    summary = json.loads(run("vulns", "summary", ref, "-o", "json"))
    assert (summary["high"], summary["suppressed"]) == (0, 1)
    found = json.loads(run("vulns", "list", ref, "-o", "json"))
    [idna] = [f for f in found if f["component"]["name"] == "idna"]
    history = json.loads(run("vulns", "show", str(idna["id"]), "-o", "json"))["history"]
    assert [(h["state"], h["actor"]) for h in history] == [
        ("open", "registry"),
        ("not_affected", "local"),
    ]


def test_errors_are_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"bomFormat": "CycloneDX", "specVersion": "7.0", "version": 1}')
    err = run("sbom", "import", str(bad), code=2)
    assert err.startswith("error:") and "Traceback" not in err
    err = run("impact", "CVE-2099-0001", code=1)
    assert "no stored advisory" in err
    err = run("vulns", "triage", "CVE-2099-0001", "--status", "maybe", "--artifact", "x", code=2)
    assert "status" in err
