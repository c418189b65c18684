"""Reading descriptor files: multi-document YAML, JSON (one document or a list), NDJSON,
and directories of them. YAML is loaded safely (no language-specific tags), with
limits on size and on alias expansion; errors name the file, line and column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson
import yaml

from hyper_registry.core.errors import Invalid, TooLarge

SUFFIXES = (".yaml", ".yml", ".json", ".ndjson", ".jsonl")
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_ALIASES = 100

try:  # libyaml's C loader when available: the same safe loader, several times faster
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Source:
    """Where a document came from: file and position within it."""

    file: str
    index: int
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where} (document {self.index + 1})"


def _yaml_error(name: str, exc: yaml.YAMLError) -> Invalid:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        msg = f"{name}:{mark.line + 1}:{mark.column + 1}: invalid YAML: {problem}"
    else:
        msg = f"{name}: invalid YAML: {problem}"
    return Invalid(msg)


def _check_aliases(name: str, text: str) -> None:
    # A YAML alias re-uses a node; nested aliases multiply (the "billion laughs").
    # Descriptors have no need for many, so more than a handful is refused.
    if "*" not in text or "&" not in text:
        return
    count = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                count += 1
                if count > MAX_ALIASES:
                    raise Invalid(f"{name}: more than {MAX_ALIASES} YAML aliases; refused")
    except yaml.YAMLError as exc:
        raise _yaml_error(name, exc) from None


def _parses(line: str) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def parse_text(name: str, text: str) -> Iterator[tuple[Source, Any]]:
    """Documents in ``text``: JSON, NDJSON or (multi-document) YAML, by content."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            data = None
            lines = [ln for ln in text.splitlines() if ln.strip()]
            if stripped.startswith("{") and len(lines) > 1 and _parses(lines[0]):
                for lineno, line in enumerate(text.splitlines(), start=1):
                    if not line.strip():
                        continue
                    try:
                        yield Source(name, lineno - 1, lineno), orjson.loads(line)
                    except orjson.JSONDecodeError as exc:
                        raise Invalid(f"{name}:{lineno}: invalid JSON: {exc}") from None
                return
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                raise Invalid(f"{name}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield Source(name, i), item
        else:
            yield Source(name, 0), data
        return
    _check_aliases(name, text)
    loader = _Loader(text)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is not None:
                yield Source(name, index, node.start_mark.line + 1), data
            index += 1
    except yaml.YAMLError as exc:
        raise _yaml_error(name, exc) from None
    finally:
        loader.dispose()


def read_stream(
    name: str, stream: TextIO, limit: int = MAX_FILE_BYTES
) -> Iterator[tuple[Source, Any]]:
    text = stream.read(limit + 1)
    if len(text) > limit:
        raise TooLarge(f"{name}: input is over {limit} bytes")
    yield from parse_text(name, text)


def files_under(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    return [path]


def load_path(path: str | Path, limit: int = MAX_FILE_BYTES) -> Iterator[tuple[Source, Any]]:
    """Every document in a file or, recursively, in a directory (sorted by path)."""
    root = Path(path)
    if not root.exists():
        raise Invalid(f"{root}: no such file or directory")
    for file in files_under(root):
        size = file.stat().st_size
        if size > limit:
            raise TooLarge(f"{file}: {size} bytes is over the {limit}-byte limit")
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        yield from parse_text(str(file), text)
