"""What the CLI talks to: a local registry (a data dir or a database URL) or a server.

Both backends return the same plain data, so every command prints the same thing
whichever it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from hyper_registry.client import Client
from hyper_registry.core.envelope import Entry
from hyper_registry.core.errors import Invalid, Problem
from hyper_registry.core.registry import Registry
from hyper_registry.store.base import Query

Progress = Callable[[int], None]
GRAPH_KEYS = {"impact": "affected", "dependencies": "dependencies", "dependents": "dependents"}


def document_of(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as a document that can be applied again (no registry-assigned fields)."""
    md = {
        k: v
        for k, v in entry["metadata"].items()
        if k not in ("uid", "revision", "createdAt", "updatedAt", "contentHash")
    }
    doc: dict[str, Any] = {
        "apiVersion": entry.get("apiVersion", "hyper-registry/v1"),
        "kind": entry["kind"],
        "metadata": md,
        "spec": entry.get("spec", {}),
    }
    if entry.get("relations"):
        doc["relations"] = entry["relations"]
    return doc


class Backend(Protocol):
    def apply(self, docs: Sequence[Any], progress: Progress | None = None) -> dict[str, Any]: ...
    def get(self, ref: str) -> dict[str, Any]: ...
    def search(self, query: Query) -> list[dict[str, Any]]: ...
    def delete(self, ref: str, revision: int | None) -> str: ...
    def graph(
        self, ref: str, mode: str, depth: int | None, kinds: Sequence[str]
    ) -> dict[str, Any]: ...
    def describe(self, ref: str) -> dict[str, Any]: ...
    def changes(self, since: int, limit: int) -> list[dict[str, Any]]: ...
    def export(self, query: Query) -> Iterator[dict[str, Any]]: ...
    def token_create(
        self, name: str, role: str, namespaces: Sequence[str] | None
    ) -> dict[str, Any]: ...
    def token_list(self) -> list[dict[str, Any]]: ...
    def token_revoke(self, token_id: str) -> None: ...
    def close(self) -> None: ...


class LocalBackend:
    """A registry in this process, on the configured data dir or database."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def close(self) -> None:
        self.registry.close()

    def apply(self, docs: Sequence[Any], progress: Progress | None = None) -> dict[str, Any]:
        report = self.registry.apply_many(docs, progress=progress)
        return {"counts": report.counts(), "results": [r.to_dict() for r in report.results]}

    def get(self, ref: str) -> dict[str, Any]:
        return self.registry.get(ref).to_dict()

    def search(self, query: Query) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.registry.query(query).items]

    def delete(self, ref: str, revision: int | None) -> str:
        return str(self.registry.unregister(ref, expected_revision=revision).ref)

    def graph(self, ref: str, mode: str, depth: int | None, kinds: Sequence[str]) -> dict[str, Any]:
        root = self.registry.get(ref).ref
        fn = {
            "impact": self.registry.impact,
            "dependencies": self.registry.dependencies,
            "dependents": self.registry.dependents,
        }[mode]
        hits = fn(root, depth=depth, kinds=list(kinds) or None)
        return {"root": str(root), GRAPH_KEYS[mode]: [h.to_dict() for h in hits]}

    def describe(self, ref: str) -> dict[str, Any]:
        entry: Entry = self.registry.get(ref)
        return {
            "entry": entry.to_dict(),
            "relations": [r.to_dict() for r in self.registry.relations(entry.ref)],
            "versions": [e.metadata.version for e in self.registry.versions(entry.ref)],
            "aliases": self.registry.aliases(entry.ref),
        }

    def changes(self, since: int, limit: int) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.registry.changes(since, limit)]

    def export(self, query: Query) -> Iterator[dict[str, Any]]:
        while True:
            page = self.registry.query(query)
            for entry in page.items:
                yield document_of(entry.to_dict())
            if page.next_cursor is None:
                return
            query.after = page.next_cursor

    def token_create(
        self, name: str, role: str, namespaces: Sequence[str] | None
    ) -> dict[str, Any]:
        info, plaintext = self.registry.tokens.create(name, role, namespaces, created_by="cli")
        return {**info.to_dict(), "token": plaintext}

    def token_list(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.registry.tokens.list()]

    def token_revoke(self, token_id: str) -> None:
        self.registry.tokens.revoke(token_id)


class RemoteBackend:
    """A registry server, through its HTTP API."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def close(self) -> None:
        self.client.close()

    def apply(self, docs: Sequence[Any], progress: Progress | None = None) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        counts = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0, "refused": 0}
        # All or nothing, as locally: one request for the whole input up to a size that the
        # server accepts; larger inputs go in chunks after the first has been validated.
        chunk = 1000
        for start in range(0, len(docs), chunk):
            part = list(docs[start : start + chunk])
            try:
                data = self.client.apply(part, atomic=True)
            except Invalid as exc:
                raise _shift(exc, start) from None
            for r in data.get("results", []):
                r["index"] = int(r.get("index", 0)) + start
                results.append(r)
                counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
            if progress:
                progress(len(part))
        return {"counts": counts, "results": results}

    def get(self, ref: str) -> dict[str, Any]:
        return self.client.get(ref)

    def search(self, query: Query) -> list[dict[str, Any]]:
        page = self.client.query(
            kinds=list(query.kinds or ()),
            namespace=query.namespace,
            owner=query.owner,
            labels=query.labels,
            tags=list(query.tags),
            text=query.text,
            all_versions=query.all_versions,
            limit=query.limit,
        )
        return list(page["items"])

    def delete(self, ref: str, revision: int | None) -> str:
        entry = self.client.get(ref)
        exact = f"{entry['kind']}:{entry['metadata']['namespace']}/{entry['metadata']['name']}@{entry['metadata']['version']}"
        self.client.delete(exact, revision=revision)
        return exact

    def graph(self, ref: str, mode: str, depth: int | None, kinds: Sequence[str]) -> dict[str, Any]:
        return self.client.graph(ref, mode, depth=depth, kinds=kinds)

    def describe(self, ref: str) -> dict[str, Any]:
        entry = self.client.get(ref)
        md = entry["metadata"]
        exact = f"{entry['kind']}:{md['namespace']}/{md['name']}@{md['version']}"
        versions = self.client.versions(exact)
        return {
            "entry": entry,
            "relations": self.client.relations(exact),
            "versions": [
                v if isinstance(v, str) else v.get("version") for v in versions.get("versions", [])
            ],
            "aliases": versions.get("aliases", {}),
        }

    def changes(self, since: int, limit: int) -> list[dict[str, Any]]:
        return list(self.client.changes(since, limit)["items"])

    def export(self, query: Query) -> Iterator[dict[str, Any]]:
        for entry in self.client.iterate(
            kinds=list(query.kinds or ()),
            namespace=query.namespace,
            all_versions=query.all_versions,
            limit=query.limit,
        ):
            yield document_of(entry)

    def token_create(
        self, name: str, role: str, namespaces: Sequence[str] | None
    ) -> dict[str, Any]:
        return self.client.create_token(name, role, namespaces)

    def token_list(self) -> list[dict[str, Any]]:
        return self.client.list_tokens()

    def token_revoke(self, token_id: str) -> None:
        self.client.revoke_token(token_id)


def _shift(exc: Invalid, offset: int) -> Invalid:
    """Renumber per-document problems of a chunk to the position in the whole input."""
    if not offset:
        return exc
    problems = [
        Problem((p.loc[0] + offset, *p.loc[1:]), p.message, p.code)
        if p.loc and isinstance(p.loc[0], int)
        else p
        for p in exc.problems
    ]
    return Invalid(exc.message, problems=problems)


__all__ = ["Backend", "LocalBackend", "RemoteBackend", "document_of"]
