"""Template files: the inline bundle format, directories and archives (with guards).

A template is a set of text files. Inline (``spec.source``) it is either one file's text
or a *bundle* in the txtar format (Go's ``golang.org/x/tools/txtar``)::

    -- Chart.yaml --
    apiVersion: v2
    name: web
    -- templates/deployment.yaml --
    kind: Deployment

A source is a bundle when its first non-blank line is a ``-- path --`` marker. ``infra
push`` turns a directory or an archive into such a bundle, so every template is stored,
parsed and diffed the same way whatever it came from.

Archives (``.tgz``/``.tar.gz``/``.tar``/``.zip``) are read member by member, never
extracted to disk: absolute paths, ``..``, links and devices are refused; member count,
each member's size and the total are capped while streaming (a decompression bomb stops
at the cap, whatever its header claims). Binary and unrelated files are left out.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MAX_FILES = 2000
MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 8 * 1024 * 1024
MAX_ARCHIVE_BYTES = 32 * 1024 * 1024
KEEP_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".hcl", ".yaml", ".yml", ".json", ".tpl")
KEEP_NAMES = frozenset({"Chart.lock", ".helmignore"})
SKIP_DIRS = frozenset({".git", ".terraform", "node_modules", "__pycache__"})

_MARKER = re.compile(r"^-- (\S(?:.*\S)?) --$")


class ArchiveProblem(Exception):
    """An archive or directory that cannot be read safely."""

    def __init__(self, message: str, code: str = "bad-archive") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Files:
    """The text files of a template by relative POSIX path, and what was left out."""

    files: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def is_bundle(source: str) -> bool:
    for line in source.splitlines():
        if line.strip():
            return _MARKER.match(line) is not None
    return False


def parse_bundle(source: str) -> dict[str, str]:
    """The files of a txtar bundle (text before the first marker is a comment)."""
    files: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in source.splitlines(keepends=True):
        m = _MARKER.match(line.rstrip("\r\n"))
        if m:
            if current is not None:
                files[current] = "".join(lines)
            current = safe_path(m.group(1))
            if current in files:
                raise ArchiveProblem(f"the bundle names {current!r} twice", "duplicate")
            lines = []
        elif current is not None:
            lines.append(line)
    if current is not None:
        files[current] = "".join(lines)
    return files


def format_bundle(files: dict[str, str]) -> str:
    out: list[str] = []
    for path in sorted(files):
        text = files[path]
        out.append(f"-- {path} --\n{text}")
        if text and not text.endswith("\n"):
            out.append("\n")
    return "".join(out)


def safe_path(name: str) -> str:
    """A member name as a relative POSIX path; refused if it could escape the template."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw) or "\x00" in raw:
        raise ArchiveProblem(f"path {name!r} is absolute; refused", "path-traversal")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArchiveProblem(f"path {name!r} leaves the template (..); refused", "path-traversal")
    if not parts:
        raise ArchiveProblem(f"path {name!r} is empty", "path-traversal")
    return posixpath.join(*parts)


def _wanted(path: str) -> bool:
    base = posixpath.basename(path)
    if any(part in SKIP_DIRS for part in path.split("/")[:-1]):
        return False
    return base in KEEP_NAMES or base.endswith(KEEP_SUFFIXES)


def _decode(path: str, data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class _Budget:
    def __init__(self) -> None:
        self.count = 0
        self.total = 0

    def member(self, name: str) -> None:
        self.count += 1
        if self.count > MAX_FILES:
            raise ArchiveProblem(f"more than {MAX_FILES} files; refused", "too-many-files")

    def take(self, name: str, stream: IO[bytes]) -> bytes:
        """Read at most the caps from ``stream``; a member over them is refused."""
        read = stream.read
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = read(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            self.total += len(chunk)
            if size > MAX_FILE_BYTES:
                raise ArchiveProblem(
                    f"{name} is over {MAX_FILE_BYTES} bytes uncompressed; refused", "too-large"
                )
            if self.total > MAX_TOTAL_BYTES:
                raise ArchiveProblem(
                    f"the archive is over {MAX_TOTAL_BYTES} bytes uncompressed "
                    "(decompression bomb?); refused",
                    "decompression-bomb",
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _keep(out: Files, path: str, data: bytes) -> None:
    if not _wanted(path):
        out.skipped.append(path)
        return
    text = _decode(path, data)
    if text is None:
        out.skipped.append(path)
    else:
        out.files[path] = text


def read_archive(data: bytes, name: str = "archive") -> Files:
    """The template files of a tar (optionally gzipped) or zip archive, read safely."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ArchiveProblem(f"{name} is over {MAX_ARCHIVE_BYTES} bytes; refused", "too-large")
    out = Files()
    budget = _Budget()
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    budget.member(info.filename)
                    path = safe_path(info.filename)
                    if info.is_dir():
                        continue
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        raise ArchiveProblem(f"{path} is a symbolic link; refused", "link")
                    with zf.open(info) as handle:
                        _keep(out, path, budget.take(path, handle))
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise ArchiveProblem(f"{name} is not a readable zip archive: {exc}") from None
        return _strip_top(out)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
            for member in tf:  # streamed: the index is never built for the whole archive
                budget.member(member.name)
                if member.name in ("pax_global_header",):
                    continue
                path = safe_path(member.name)
                if member.isdir():
                    continue
                if member.issym() or member.islnk():
                    raise ArchiveProblem(f"{path} is a link; refused", "link")
                if not member.isfile():
                    raise ArchiveProblem(f"{path} is not a regular file; refused", "special-file")
                extracted = tf.extractfile(member)
                if extracted is None:  # pragma: no cover - regular files always have one
                    continue
                _keep(out, path, budget.take(path, extracted))
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ArchiveProblem(f"{name} is not a readable tar archive: {exc}") from None
    return _strip_top(out)


def _strip_top(out: Files) -> Files:
    """A chart archive holds ``<chart>/...``: drop one directory every file shares."""
    tops = {p.split("/", 1)[0] for p in out.files}
    if len(tops) == 1 and all("/" in p for p in out.files):
        top = next(iter(tops)) + "/"
        out.files = {p[len(top) :]: t for p, t in out.files.items()}
        out.skipped = [p[len(top) :] if p.startswith(top) else p for p in out.skipped]
    return out


ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar", ".zip")


def read_path(path: Path) -> Files:
    """A file, a directory (walked without following links) or an archive."""
    if path.is_symlink() and path.is_dir():
        raise ArchiveProblem(f"{path.name} is a symbolic link to a directory; refused", "link")
    if path.is_dir():
        out = Files()
        budget = _Budget()
        for item in sorted(path.rglob("*")):
            rel = item.relative_to(path).as_posix()
            if any(part in SKIP_DIRS for part in rel.split("/")):
                continue
            if item.is_symlink():
                out.skipped.append(rel)
                continue
            if not item.is_file():
                continue
            budget.member(rel)
            if not _wanted(rel):
                out.skipped.append(rel)
                continue
            with item.open("rb") as fh:
                _keep(out, rel, budget.take(rel, fh))
        return out
    if not path.is_file():
        raise ArchiveProblem(f"{path.name}: no such file or directory", "not-found")
    if path.stat().st_size > MAX_ARCHIVE_BYTES:
        raise ArchiveProblem(f"{path.name} is over {MAX_ARCHIVE_BYTES} bytes; refused", "too-large")
    data = path.read_bytes()
    if path.name.endswith(ARCHIVE_SUFFIXES):
        return read_archive(data, path.name)
    text = _decode(path.name, data)
    if text is None:
        raise ArchiveProblem(f"{path.name} is not a UTF-8 text file", "not-text")
    return Files(files={path.name: text})
