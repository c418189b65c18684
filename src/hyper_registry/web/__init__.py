"""The browser UI: serves the built front end (``web/dist``) at ``/`` beside the API.

``mount_ui(app)`` adds one catch-all ``GET``/``HEAD`` route after every API route. It
serves files from the build directory with their content types, long-lived caching for
the content-hashed ``/assets/*`` and ``no-cache`` for everything else, answers every
other UI path with ``index.html`` (single-page-app fallback), and never answers for
``/v1/...`` or the API's public paths, so API 404s and 405s stay problem documents.
When the build is missing it answers a page saying how to build the UI; the API works
either way. The UI and its files are public (they hold no entry); every API call the UI
makes carries the user's token.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

ENV_DIR = "HYPER_REGISTRY_WEB_DIR"
API_PREFIXES = ("/v1/", "/docs/")
API_PATHS = frozenset({"/v1", "/healthz", "/readyz", "/openapi.json", "/docs", "/metrics"})
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

MISSING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hyper Registry: the web UI is not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;
color:#1a1f2b;line-height:1.5}code,pre{background:#f1f3f6;padding:.1rem .3rem;border-radius:3px}
pre{padding:.7rem}</style></head>
<body><main>
<h1>The web UI is not built</h1>
<p>This Hyper Registry server is running and its HTTP API works (<a href="/docs">/docs</a>,
<code>/v1/...</code>), but the browser UI has not been built on this machine.</p>
<p>Build it once with Node.js 20 and npm (from the project's root directory), then reload:</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p><code>scripts/run.sh</code> does this on its own when npm is installed. To serve a build
from elsewhere, set <code>HYPER_REGISTRY_WEB_DIR</code> to the directory holding its
<code>index.html</code>.</p>
</main></body></html>
"""


def default_dist() -> Path | None:
    """The build directory: ``$HYPER_REGISTRY_WEB_DIR``, else shipped in the package, else
    the source checkout's ``web/dist``. ``None`` when none holds an ``index.html``."""
    env = os.environ.get(ENV_DIR)
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent
    candidates += [here / "dist", here.parents[2] / "web" / "dist"]
    for path in candidates:
        if (path / "index.html").is_file():
            return path
    return None


def looks_like_asset(rel: str) -> bool:
    """A request for a static file (answered 404 when missing) rather than a UI page.

    UI paths hold names and versions with dots (``/entries/model/risk/fraud/2.1.0``),
    so only the build's own directory and the file types it ships count as files.
    """
    if rel.startswith("assets/"):
        return True
    if rel.startswith("entries/"):
        return False
    last = rel.rsplit("/", 1)[-1]
    return "." in last and "." + last.rsplit(".", 1)[-1].lower() in TYPES


def is_api_path(path: str) -> bool:
    return path in API_PATHS or path.startswith(API_PREFIXES)


class UiRoute(Route):
    """A catch-all route that never claims an API path (those keep their own 404/405)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api_path(scope.get("path", "")):
            return Match.NONE, {}
        return super().matches(scope)


class UiFiles:
    """Answers UI requests from one build directory (``None``: the how-to-build page)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory.resolve() if directory else None

    def _file(self, rel: str) -> Path | None:
        assert self.directory is not None
        if "\x00" in rel or "\\" in rel:
            return None
        candidate = (self.directory / rel).resolve()
        if candidate != self.directory and self.directory not in candidate.parents:
            return None  # a traversal attempt
        return candidate if candidate.is_file() else None

    async def respond(self, request: Request) -> Response:
        if self.directory is None or not (self.directory / "index.html").is_file():
            return HTMLResponse(
                MISSING_PAGE, status_code=503, headers={"Cache-Control": "no-store"}
            )
        rel = request.url.path.lstrip("/")
        found = self._file(rel) if rel else None
        if found is not None and found.name != "index.html":
            suffix = found.suffix.lower()
            media = TYPES.get(suffix) or mimetypes.guess_type(found.name)[0]
            cache = IMMUTABLE if rel.startswith("assets/") else REVALIDATE
            return FileResponse(
                found,
                media_type=media or "application/octet-stream",
                headers={"Cache-Control": cache, **SECURITY_HEADERS},
            )
        if looks_like_asset(rel):
            # A missing file is a 404, not the app: a stale asset must not parse as HTML.
            return PlainTextResponse(
                "not found", status_code=404, headers={"Cache-Control": REVALIDATE}
            )
        return FileResponse(
            self.directory / "index.html",
            media_type=TYPES[".html"],
            headers={
                "Cache-Control": REVALIDATE,
                "Content-Security-Policy": CSP,
                **SECURITY_HEADERS,
            },
        )


def ui_route(directory: Path | None) -> Route:
    return UiRoute(
        "/{path:path}",
        UiFiles(directory).respond,
        methods=["GET", "HEAD"],
        include_in_schema=False,
        name="web-ui",
    )


def mount_ui(app: FastAPI, directory: Path | None = None) -> None:
    """Serve the UI at ``/`` after every route already on ``app`` (call it last)."""
    app.router.routes.append(ui_route(directory or default_dist()))


__all__ = ["default_dist", "mount_ui", "ui_route"]
