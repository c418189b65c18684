"""Printing results and errors for the command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import orjson
import typer
import yaml
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from hyper_registry.core.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    HyperRegistryError,
    Invalid,
    NotFound,
    TooLarge,
    Unavailable,
)
from hyper_registry.store.base import GraphHit

# Exit codes (documented in docs/cli.md).
EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_INVALID = 2
EXIT_CONFLICT = 3
EXIT_AUTH = 4
EXIT_UNAVAILABLE = 5

MAX_PROBLEM_LINES = 20


def exit_code(exc: HyperRegistryError) -> int:
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, AlreadyExists | Conflict):
        return EXIT_CONFLICT
    if isinstance(exc, Forbidden):
        return EXIT_AUTH
    if isinstance(exc, Unavailable):
        return EXIT_UNAVAILABLE
    if isinstance(exc, Invalid | TooLarge):
        return EXIT_INVALID
    return EXIT_INVALID


def fail(exc: HyperRegistryError, where: Sequence[str] | None = None) -> typer.Exit:
    """Print the error (one line, then one line per further problem) and return the exit."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    problems = exc.problems
    if not problems:
        err.print(f"error: {exc.message}", markup=False)
    else:
        lines = []
        for p in problems:
            loc = list(p.loc)
            prefix = ""
            if where is not None and loc and isinstance(loc[0], int) and loc[0] < len(where):
                prefix = f"{where[loc[0]]}: "
                loc = loc[1:]
            path = _path(loc)
            lines.append(f"{prefix}{path + ': ' if path else ''}{p.message}")
        head = lines[0] if len(lines) == 1 else f"{exc.message}: {lines[0]}"
        err.print(f"error: {head}", markup=False)
        for line in lines[1:MAX_PROBLEM_LINES]:
            err.print(f"  - {line}", markup=False)
        if len(lines) > MAX_PROBLEM_LINES:
            err.print(f"  ... and {len(lines) - MAX_PROBLEM_LINES} more", markup=False)
    return typer.Exit(exit_code(exc))


def _path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def emit(data: Any, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif fmt == "yaml":
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        raise typer.BadParameter(f"unknown output format {fmt!r}")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r))
    Console().print(t)


def graph_tree(root: str, hits: Sequence[GraphHit]) -> None:
    """Print graph hits as a tree following each hit's path."""
    tree = Tree(f"[bold]{root}[/bold]")
    nodes: dict[tuple[str, ...], Tree] = {(): tree}
    for hit in sorted(hits, key=lambda h: (len(h.path), [x.ref for x in h.path])):
        key: tuple[str, ...] = ()
        for hop in hit.path:
            child_key = (*key, hop.ref)
            if child_key not in nodes:
                nodes[child_key] = nodes[key].add(f"[dim]{hop.relation}[/dim] {hop.ref}")
            key = child_key
    Console().print(tree)
    if not hits:
        Console().print("[dim](nothing reached)[/dim]")
