"""A Python client for a Hyper Registry server.

    >>> from hyper_registry.client import Client
    >>> with Client("http://127.0.0.1:8080", token="hr_...") as c:   # doctest: +SKIP
    ...     c.get("model:risk/fraud@champion")["metadata"]["version"]
    '2.1.0'

Errors come back as the same domain exceptions the in-process ``Registry`` raises
(``NotFound``, ``Conflict``, ``Invalid`` with field paths, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from hyper_registry.core.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    HyperRegistryError,
    Invalid,
    NotFound,
    Problem,
    TooLarge,
    Unavailable,
)
from hyper_registry.core.ref import Ref

_BY_STATUS: dict[int, type[HyperRegistryError]] = {
    400: Invalid,
    401: Forbidden,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    415: Invalid,
    422: Invalid,
    503: Unavailable,
}


def entry_path(ref: Ref) -> str:
    base = "/v1/entries/" + "/".join(quote(p, safe="") for p in (ref.kind, ref.namespace, ref.name))
    return f"{base}/versions/{quote(ref.version, safe='')}" if ref.version else base


def graph_path(ref: Ref, mode: str) -> str:
    return "/v1/graph" + entry_path(ref)[len("/v1/entries") :] + "/" + mode


def error_from(response: httpx.Response) -> HyperRegistryError:
    """The domain error a problem+json response stands for."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = str(body.get("detail") or body.get("title") or response.reason_phrase or "error")
    problems = [
        Problem(
            tuple(_split_path(str(e.get("path", "")))),
            str(e.get("message", "")),
            str(e.get("code", "invalid")),
        )
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    cls: type[HyperRegistryError] = _BY_STATUS.get(
        response.status_code, Unavailable if response.status_code >= 500 else Invalid
    )
    if response.status_code == 409 and body.get("code") == "already-exists":
        cls = AlreadyExists
    return cls(detail, problems=problems)


def _split_path(path: str) -> list[str | int]:
    out: list[str | int] = []
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            out.append(int(part[1:-1]))
        else:
            out.append(part)
    return out


class Client:
    """Talks to the registry's HTTP API with a bearer token."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unavailable(
                f"cannot reach the registry at {self._http.base_url}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise error_from(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, path, **kwargs).json()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call any route (``path`` from the server root, e.g. ``/v1/security/sboms``).

        Returns the decoded JSON body (None for an empty one); an error response is
        raised as its domain exception. ``kwargs`` go to ``httpx`` (``json=``,
        ``content=``, ``params=``, ``headers=``).
        """
        response = self._request(method, path, **kwargs)
        return response.json() if response.content else None

    # -- entries -----------------------------------------------------------------------

    def get(self, ref: Ref | str) -> dict[str, Any]:
        return dict(self._json("GET", entry_path(Ref.parse(str(ref)))))

    def versions(self, ref: Ref | str) -> dict[str, Any]:
        r = Ref.parse(str(ref)).unversioned
        return dict(self._json("GET", entry_path(r) + "/versions"))

    def relations(self, ref: Ref | str) -> list[dict[str, Any]]:
        data = self._json("GET", entry_path(Ref.parse(str(ref))) + "/relations")
        return list(data["items"] if isinstance(data, dict) else data)

    def apply(
        self,
        documents: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        atomic: bool = True,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = orjson.dumps(documents if isinstance(documents, Mapping) else list(documents))
        return dict(
            self._json(
                "POST",
                "/v1/apply",
                content=body,
                headers=headers,
                params={"atomic": str(atomic).lower()},
            )
        )

    def delete(self, ref: Ref | str, *, revision: int | None = None) -> None:
        headers = {"If-Match": f'"{revision}"'} if revision is not None else {}
        self._request("DELETE", entry_path(Ref.parse(str(ref))), headers=headers)

    def query(
        self,
        *,
        kinds: Sequence[str] = (),
        namespace: str | None = None,
        owner: str | None = None,
        labels: Mapping[str, str] | None = None,
        tags: Sequence[str] = (),
        text: str | None = None,
        all_versions: bool = False,
        limit: int = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        params: list[tuple[str, str]] = [("kind", k) for k in kinds]
        params += [("label", f"{k}={v}") for k, v in (labels or {}).items()]
        params += [("tag", t) for t in tags]
        for key, value in (
            ("namespace", namespace),
            ("owner", owner),
            ("q", text),
            ("cursor", cursor),
        ):
            if value:
                params.append((key, value))
        if all_versions:
            params.append(("allVersions", "true"))
        params.append(("limit", str(limit)))
        return dict(self._json("GET", "/v1/entries", params=params))

    def iterate(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every entry matching the filters, page after page."""
        cursor = None
        while True:
            page = self.query(cursor=cursor, **filters)
            yield from page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return

    # -- graph and changes -------------------------------------------------------------

    def graph(
        self, ref: Ref | str, mode: str, *, depth: int | None = None, kinds: Sequence[str] = ()
    ) -> dict[str, Any]:
        params: list[tuple[str, str]] = [("kind", k) for k in kinds]
        if depth is not None:
            params.append(("depth", str(depth)))
        return dict(self._json("GET", graph_path(Ref.parse(str(ref)), mode), params=params))

    def impact(self, ref: Ref | str, **kwargs: Any) -> dict[str, Any]:
        return self.graph(ref, "impact", **kwargs)

    def dependencies(self, ref: Ref | str, **kwargs: Any) -> dict[str, Any]:
        return self.graph(ref, "dependencies", **kwargs)

    def dependents(self, ref: Ref | str, **kwargs: Any) -> dict[str, Any]:
        return self.graph(ref, "dependents", **kwargs)

    def changes(self, since: int = 0, limit: int = 100) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/changes", params={"since": since, "limit": limit}))

    # -- tokens ------------------------------------------------------------------------

    def create_token(
        self, name: str, role: str, namespaces: Sequence[str] | None = None
    ) -> dict[str, Any]:
        body = {"name": name, "role": role, "namespaces": list(namespaces) if namespaces else ["*"]}
        return dict(self._json("POST", "/v1/tokens", json=body))

    def list_tokens(self) -> list[dict[str, Any]]:
        data = self._json("GET", "/v1/tokens")
        return list(data["items"] if isinstance(data, dict) else data)

    def revoke_token(self, token_id: str) -> None:
        self._request("DELETE", f"/v1/tokens/{quote(token_id, safe='')}")
