"""``iter_advisories``: OSV records from a file, a directory tree or an OSV zip archive.

A bad record never stops the rest: it comes out as an :class:`AdvisoryError` naming the file
and the reason. Zip archives are read in memory, entry by entry, never extracted: entry names
that would escape (absolute, ``..``) are refused, and sizes are bounded (per entry, in total,
number of entries, compression ratio) so a zip bomb cannot exhaust memory.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hyper_registry.core.errors import HyperRegistryError, Problem
from hyper_registry.kinds.security.formats.osv import (
    MAX_ADVISORY_BYTES,
    load_document,
    parse_advisory,
)
from hyper_registry.kinds.security.parsed import Advisory

ADVISORY_SUFFIXES = (".json", ".yaml", ".yml")
"""In a directory or archive, the files read as records; others (README, LICENSE) are skipped."""


@dataclass(frozen=True)
class Limits:
    max_entry_bytes: int = MAX_ADVISORY_BYTES
    max_total_bytes: int = 4 * 1024 * 1024 * 1024
    max_entries: int = 1_000_000
    max_ratio: int = 200
    """Largest uncompressed/compressed ratio accepted for entries over 1 MiB."""


@dataclass(frozen=True)
class AdvisoryError:
    """One record (or archive) that could not be read, and why."""

    file: str
    reason: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


def _from_bytes(data: bytes, name: str) -> Iterator[Advisory | AdvisoryError]:
    try:
        doc = load_document(data, name)
        records = doc if isinstance(doc, list) else [doc]
        for index, record in enumerate(records):
            where = name if len(records) == 1 else f"{name}#{index}"
            try:
                yield parse_advisory(record, where=where)
            except HyperRegistryError as exc:
                yield AdvisoryError(where, str(exc), exc.problems)
    except HyperRegistryError as exc:
        yield AdvisoryError(name, str(exc), exc.problems)


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def iter_advisories(
    path: Path, *, limits: Limits | None = None
) -> Iterator[Advisory | AdvisoryError]:
    """Every OSV record under ``path`` (file, directory, or zip), in a stable order."""
    limits = limits or Limits()
    path = Path(path)
    if path.is_symlink() and path.is_dir():
        yield AdvisoryError(path.name, "symbolic links to directories are not followed")
        return
    if path.is_dir():
        yield from _iter_dir(path, limits)
        return
    if not path.is_file():
        yield AdvisoryError(path.name, "no such file or directory")
        return
    yield from _iter_file(path, path.name, limits)


def _iter_file(path: Path, name: str, limits: Limits) -> Iterator[Advisory | AdvisoryError]:
    try:
        if _is_zip(path):
            yield from _iter_zip(path, name, limits)
            return
        size = path.stat().st_size
        if size > limits.max_entry_bytes:
            yield AdvisoryError(
                name, f"{size} bytes, over the limit of {limits.max_entry_bytes} per record"
            )
            return
        data = path.read_bytes()
    except OSError as exc:
        yield AdvisoryError(name, f"cannot be read ({exc.strerror or type(exc).__name__})")
        return
    yield from _from_bytes(data, name)


def _iter_dir(root: Path, limits: Limits) -> Iterator[Advisory | AdvisoryError]:
    for current, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for file_name in sorted(files):
            full = Path(current) / file_name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                yield AdvisoryError(rel, "symbolic links are not followed")
                continue
            if file_name.lower().endswith(ADVISORY_SUFFIXES) or file_name.lower().endswith(".zip"):
                yield from _iter_file(full, rel, limits)


def _unsafe_name(name: str) -> bool:
    posix = PurePosixPath(name.replace("\\", "/"))
    return posix.is_absolute() or ".." in posix.parts or (len(name) > 1 and name[1] == ":")


def _iter_zip(path: Path, name: str, limits: Limits) -> Iterator[Advisory | AdvisoryError]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield AdvisoryError(name, f"not a readable zip archive ({exc})")
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            yield AdvisoryError(
                name, f"{len(infos)} entries, over the limit of {limits.max_entries}"
            )
            return
        total = 0
        for info in infos:
            where = f"{name}!{info.filename}"
            if info.is_dir():
                continue
            if _unsafe_name(info.filename):
                yield AdvisoryError(where, "entry name escapes the archive (zip-slip); skipped")
                continue
            if not info.filename.lower().endswith(ADVISORY_SUFFIXES):
                continue
            if info.flag_bits & 0x1:
                yield AdvisoryError(where, "encrypted entries are not read")
                continue
            if info.file_size > limits.max_entry_bytes:
                yield AdvisoryError(
                    where, f"{info.file_size} bytes, over the limit of {limits.max_entry_bytes}"
                )
                continue
            if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                yield AdvisoryError(where, "compression ratio too high (zip bomb?); skipped")
                continue
            if total + info.file_size > limits.max_total_bytes:
                yield AdvisoryError(
                    name, f"archive expands past {limits.max_total_bytes} bytes; stopped"
                )
                return
            try:
                with archive.open(info) as handle:
                    data = handle.read(limits.max_entry_bytes + 1)  # never trust the header alone
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                yield AdvisoryError(where, f"cannot be read ({exc})")
                continue
            if len(data) > limits.max_entry_bytes:
                yield AdvisoryError(
                    where, f"expands past the limit of {limits.max_entry_bytes} bytes"
                )
                continue
            total += len(data)
            yield from _from_bytes(data, where)
