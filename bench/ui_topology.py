"""The web UI's 3D topology at scale: time to first render and frames per second in
headless Chromium (Debian's /usr/bin/chromium, WebGL on the CPU through SwiftShader).

Builds (or reuses, cached) a registry of N generated entries with R relations each
(5,000 entries and 15,000 relations by default, see _world.py), serves it with the
real app and the built UI (``web/dist``) on loopback, signs in, opens ``/topology``
and reads ``window.__topology``:

* ``first_render_ms``: from the page's navigation start to the first frame drawn with
  every node (fetch of ``/v1/topology``, JSON parse, scene build, first WebGL frame);
* ``view_first_render_ms``: the same from the topology view's start (no page load);
* ``fps_layout``: frames per second over the 5 s after the first frame while the camera
  turns round the graph (auto-rotate) and the force layout runs in a Web Worker;
* ``fps_orbit``: the same once the layout has settled. The page draws only when something
  changed (an idle view draws nothing), so these are the rates a user sees while moving;
* ``draw_ms``: the cost of one full-resolution frame alone: 20 frames drawn back to back,
  then a one-pixel ``readPixels`` that waits for the GL (1000 / draw_ms is the frame rate
  the renderer allows by itself, without the browser's frame scheduling);
* ``draw_motion_ms``: the same at the resolution used while the view moves (half, above
  3,000 edges: edge rasterisation dominates a frame on a software renderer).

Medians over ``--repeat`` page loads. One JSON line on stdout.

    python bench/ui_topology.py --n 5000 --rels 3 --repeat 3
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

from _common import Backend, emit, graph_registry, log, machine, parser
from hyper_registry.api import create_app
from hyper_registry.web import mount_ui

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "dist"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
WINDOW_S = 5.0


def serve(reg: Any) -> tuple[str, Any]:
    import socket

    import uvicorn

    app = create_app(reg)
    mount_ui(app, DIST)  # explicit: the bench measures this checkout's build
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def spinning_fps(page: Any, seconds: float) -> float:
    """Frames per second the page draws while the camera turns round the graph on its own
    (OrbitControls' auto-rotate: a new view every display refresh, no input round trips)."""
    page.evaluate("() => window.__topology.spin(true)")
    page.wait_for_timeout(300)
    # Counted by the page itself: __topology.frames is refreshed every 250 ms.
    start = page.evaluate("() => [window.__topology.frames, performance.now()]")
    time.sleep(seconds)
    end = page.evaluate("() => [window.__topology.frames, performance.now()]")
    page.evaluate("() => window.__topology.spin(false)")
    return float((end[0] - start[0]) * 1000.0 / (end[1] - start[1]))


def one_run(browser: Any, url: str, token: str, width: int, height: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url("**/catalog")
    page.goto(f"{url}/topology")
    page.wait_for_function(
        "() => window.__topology && window.__topology.firstRenderMs !== null", timeout=180_000
    )
    state = page.evaluate("() => ({...window.__topology})")
    fps_layout = spinning_fps(page, WINDOW_S)
    page.wait_for_function("() => window.__topology.layoutDone", timeout=300_000)
    settled = page.evaluate("() => ({...window.__topology, now: performance.now()})")
    page.wait_for_timeout(500)
    fps_orbit = spinning_fps(page, WINDOW_S)
    draw_ms = page.evaluate("() => window.__topology.measureDraw(20, false)")
    draw_motion_ms = page.evaluate("() => window.__topology.measureDraw(20, true)")
    context.close()
    return {
        "nodes": state["nodes"],
        "edges": state["edges"],
        "first_render_ms": state["firstFrameAt"],
        "view_first_render_ms": state["firstRenderMs"],
        "fetch_ms": state["fetchMs"],
        "layout_ticks": settled["layoutTicks"],
        "fps_layout": fps_layout,
        "fps_orbit": fps_orbit,
        "draw_ms": draw_ms,
        "draw_motion_ms": draw_motion_ms,
    }


def main() -> None:
    p = parser(__doc__ or "", n=5000)
    p.add_argument("--rels", type=int, default=3, help="relations per entry")
    p.add_argument("--repeat", type=int, default=3, help="page loads (medians reported)")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=800)
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached store")
    args = p.parse_args()
    if not (DIST / "index.html").is_file():
        raise SystemExit(f"the UI is not built ({DIST}): cd web && npm ci && npm run build")
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    backend = Backend(args)
    reg, _world = graph_registry(backend, args.n, args.rels, args.seed, rebuild=args.rebuild)
    _, token = reg.tokens.create("bench-ui", "reader", None, created_by="bench")
    url, server = serve(reg)
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, Any]] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            renderer = None
            for i in range(args.repeat):
                run = one_run(browser, url, token, args.width, args.height)
                log(f"run {i + 1}: {run}")
                runs.append(run)
            page = browser.new_page()
            page.goto(f"{url}/healthz")
            renderer = page.evaluate(
                """() => { const gl = document.createElement('canvas').getContext('webgl2');
                const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
                return gl ? (ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : 'webgl2') : null; }"""
            )
            version = browser.version
            browser.close()
    finally:
        server.should_exit = True
        reg.close()
        backend.cleanup()

    def med(key: str, digits: int = 1) -> float:
        return round(statistics.median(float(r[key]) for r in runs), digits)

    emit(
        {
            "bench": "ui_topology",
            "backend": backend.name,
            "entries": args.n,
            "relations_per_entry": args.rels,
            "nodes": runs[0]["nodes"],
            "edges": runs[0]["edges"],
            "repeat": args.repeat,
            "first_render_ms": med("first_render_ms", 0),
            "view_first_render_ms": med("view_first_render_ms", 0),
            "topology_fetch_ms": med("fetch_ms", 0),
            "fps_layout": med("fps_layout"),
            "fps_orbit": med("fps_orbit"),
            "draw_ms": med("draw_ms"),
            "draw_motion_ms": med("draw_motion_ms"),
            "layout_ticks": int(med("layout_ticks", 0)),
            "viewport": f"{args.width}x{args.height}",
            "browser": f"chromium {version} headless",
            "webgl_renderer": renderer,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
