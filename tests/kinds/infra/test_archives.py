"""Bundles, directories and archives: traversal, links, bombs, caps."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from hyper_registry.kinds.infra import archives
from hyper_registry.kinds.infra.archives import (
    ArchiveProblem,
    format_bundle,
    is_bundle,
    parse_bundle,
    read_archive,
    read_path,
)


def tgz(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tf.addfile(info)
    return buf.getvalue()


def refused(data: bytes) -> str:
    with pytest.raises(ArchiveProblem) as info:
        read_archive(data, "x.tgz")
    return info.value.code


def test_bundle_round_trip() -> None:
    files = {"Chart.yaml": "name: a\n", "templates/svc.yaml": "kind: Service"}
    text = format_bundle(files)
    assert is_bundle(text) and not is_bundle("resource {}\n")
    assert parse_bundle(text) == {
        "Chart.yaml": "name: a\n",
        "templates/svc.yaml": "kind: Service\n",
    }


@pytest.mark.parametrize("name", ["../evil.tf", "/etc/passwd.yaml", "a/../../b.tf", "C:/x.tf"])
def test_path_traversal_refused(name: str) -> None:
    assert refused(tgz({"main.tf": b"", name: b"x"})) == "path-traversal"
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr(name, "x")
    assert refused(zbuf.getvalue()) == "path-traversal"
    with pytest.raises(ArchiveProblem):
        parse_bundle(f"-- {name} --\nx\n")


def test_links_refused() -> None:
    assert refused(tgz({"main.tf": b""}, link="values.yaml")) == "link"


def test_decompression_bombs_stop_at_the_caps() -> None:
    big = b"\0" * (archives.MAX_FILE_BYTES + 1)  # one member over the per-file cap
    assert len(tgz({"main.tf": big})) < 10_000
    assert refused(tgz({"main.tf": big})) == "too-large"
    near = b"a" * (archives.MAX_FILE_BYTES - 10)
    many = {f"f{i}.tf": near for i in range(archives.MAX_TOTAL_BYTES // len(near) + 1)}
    assert refused(tgz(many)) == "decompression-bomb"
    # a gzip stream that is not a tar at all is refused cleanly
    assert refused(gzip.compress(b"not a tar" * 100)) == "bad-archive"


def test_too_many_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "MAX_FILES", 3)
    assert refused(tgz({f"{i}.tf": b"" for i in range(5)})) == "too-many-files"


def test_chart_archive_top_directory_dropped_and_binaries_skipped() -> None:
    out = read_archive(
        tgz(
            {
                "web/Chart.yaml": b"name: web\n",
                "web/templates/a.yaml": b"kind: A\n",
                "web/logo.png": b"\x89PNG\0\0",
                "web/values.yaml": b"\xff\xfe",
            }
        )
    )
    assert sorted(out.files) == ["Chart.yaml", "templates/a.yaml"]
    assert sorted(out.skipped) == ["logo.png", "values.yaml"]


def test_directory_read_skips_links_and_vcs(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "a" "b" {}\n')
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text("a: 1\n")
    (tmp_path / "link.tf").symlink_to("/etc/hostname")
    out = read_path(tmp_path)
    assert list(out.files) == ["main.tf"]
    assert "link.tf" in out.skipped
