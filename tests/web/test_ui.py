"""The web UI end to end: Playwright driving Debian's Chromium against a live server
with the demo organisation (see conftest.py)."""

from __future__ import annotations

import re
from typing import Any

from hyper_registry.demo import demo_documents

from .conftest import Server, login, shot

CVE = "CVE-2021-23337"
CVE_REF = "security:advisories/cve-2021-23337@2022-09-13"


def demo_names(kind: str, namespace: str | None = None) -> set[str]:
    return {
        f"{d['metadata']['namespace']}/{d['metadata']['name']}"
        for d in demo_documents()
        if d["kind"] == kind and namespace in (None, d["metadata"]["namespace"])
    }


def catalog_rows(page: Any) -> list[str]:
    refs: list[str] = page.locator("table.catalog tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.ref)"
    )
    return refs


def test_login_keeps_the_token_out_of_urls(page: Any, server: Server) -> None:
    urls: list[str] = []
    page.on("request", lambda req: urls.append(req.url))
    page.goto("/catalog")
    page.wait_for_url(re.compile(r"/login"))
    assert page.locator("header.top").is_hidden()
    page.get_by_label("API token").fill("hr_0123456789abcdef_wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()
    assert "not valid" in page.get_by_role("alert").inner_text()
    page.get_by_label("API token").fill(server.token)
    page.keyboard.press("Enter")  # the form submits from the keyboard
    page.wait_for_url(re.compile(r"/catalog$"))
    page.locator("table.catalog").wait_for()
    shot(page, "login-catalog")
    assert page.evaluate("sessionStorage.getItem('hyper-registry.token')") == server.token
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    assert all(server.token not in u for u in [*urls, page.url])
    # Signing out forgets the token.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    assert page.evaluate("sessionStorage.getItem('hyper-registry.token')") is None
    assert page.errors == []


def test_catalog_filters_sorts_and_pages(page: Any, server: Server) -> None:
    login(page, server, "/catalog")
    page.locator("table.catalog").wait_for()
    page.get_by_label("Kind").select_option("service")
    with server.api() as api:
        listed = api.get("/v1/entries", params={"kind": "service", "limit": 500}).json()["items"]
    expected = {f"{e['metadata']['namespace']}/{e['metadata']['name']}" for e in listed}
    assert demo_names("service") <= expected
    page.wait_for_function(
        "n => document.querySelectorAll('table.catalog tbody tr').length === n", arg=len(expected)
    )
    rows = catalog_rows(page)
    assert {r.split(":", 1)[1].split("@")[0] for r in rows} == expected
    assert all(r.startswith("service:") for r in rows)

    # Namespace and text narrow further; the filter lives in the URL, not the token.
    page.get_by_label("Namespace").fill("payments")
    page.get_by_label("Text").fill("double-entry")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function("() => document.querySelectorAll('table.catalog tbody tr').length === 1")
    assert catalog_rows(page) == ["service:payments/ledger@" + _version("service", "ledger")]
    assert "namespace=payments" in page.url and "q=double-entry" in page.url

    # Label filter and sorting, from the keyboard.
    page.get_by_role("button", name="Clear").click()
    page.get_by_label("Label").fill("tier=gold")
    page.get_by_label("Label").press("Enter")
    gold = {
        f"{d['kind']}:{d['metadata']['namespace']}/{d['metadata']['name']}"
        for d in demo_documents()
        if (d["metadata"].get("labels") or {}).get("tier") == "gold"
    }
    page.wait_for_function(
        "n => document.querySelectorAll('table.catalog tbody tr').length === n"
        " && document.querySelector('#catalog-status').textContent.includes('entr')",
        arg=min(len(gold), 25),
    )
    assert {r.split("@")[0] for r in catalog_rows(page)} <= gold
    sort = page.locator("button.sort[data-sort=name]")
    sort.focus()
    page.keyboard.press("Enter")  # already sorted by name ascending: now descending
    header = page.locator("th:has(button.sort[data-sort=name])")
    assert header.get_attribute("aria-sort") == "descending"
    names = [r.split("/", 1)[1].split("@")[0] for r in catalog_rows(page)]
    assert names == sorted(names, reverse=True)
    shot(page, "catalog-filtered")

    # Paging: 25 per page.
    batch = [
        {
            "apiVersion": "hyper-registry/v1",
            "kind": "dataset",
            "metadata": {"namespace": "paging-e2e", "name": f"set-{i:02d}", "version": "2026-01"},
            "spec": {},
        }
        for i in range(30)
    ]
    with server.api() as api:
        assert api.post("/v1/apply", json=batch).status_code == 200
    page.goto("/catalog?namespace=paging-e2e")
    page.wait_for_function(
        "() => document.querySelector('#catalog-status').textContent.includes('page 1 of 2')"
    )
    assert len(catalog_rows(page)) == 25
    page.get_by_role("button", name="Next page").click()
    assert "page 2 of 2" in page.locator("#catalog-status").inner_text()
    assert len(catalog_rows(page)) == 5
    assert page.errors == []


def _version(kind: str, name: str) -> str:
    versions = [
        d["metadata"]["version"]
        for d in demo_documents()
        if d["kind"] == kind and d["metadata"]["name"] == name
    ]
    return str(versions[-1])


def test_entry_page_shows_spec_relations_versions_and_panels(page: Any, server: Server) -> None:
    login(page, server, "/entries/service/payments/gateway")
    page.locator("#entry-ref").wait_for()
    assert page.locator("#entry-ref").inner_text().startswith("service:payments/gateway@")
    out = page.locator("section[data-direction=outgoing]")
    inc = page.locator("section[data-direction=incoming]")
    out.wait_for()
    with server.api() as api:
        rels = api.get("/v1/entries/service/payments/gateway/relations").json()["items"]
    for rel in rels:
        box = out if rel["direction"] == "outgoing" else inc
        # (wait: a live status change of this service re-renders the page)
        box.locator(f"li:has-text('{rel['target']}')").first.wait_for()
    inc.locator("a", has_text="service:edge/api-gateway").first.wait_for()
    # The readable spec, then the raw YAML.
    assert page.locator(".spec-form").is_visible()
    page.get_by_role("button", name="Show raw YAML").click()
    yaml_text = page.locator("pre.yaml").inner_text()
    assert "kind: service" in yaml_text and "name: gateway" in yaml_text
    # Per-kind panels degrade to "not available" rather than erroring.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.panel[data-route]')].every(p => p.dataset.state)"
    )
    assert page.locator(".panel[data-state=error]").count() == 0
    shot(page, "entry-gateway")
    # Versions and aliases of a model.
    page.goto("/entries/model/risk/fraud")
    page.locator("table.versions").wait_for()
    versions = page.locator("table.versions").inner_text()
    assert "champion" in versions and "challenger" in versions
    # Domain panels that this server has answer with their data.
    page.goto("/entries/infra/platform/payments-stack")
    cost = page.locator(".panel[data-route*='/cost']")
    page.wait_for_function(
        "() => document.querySelector(\".panel[data-route*='/cost']\")?.dataset.state"
    )
    if cost.get_attribute("data-state") == "ok":
        assert "USD" in cost.inner_text() and "database" in cost.inner_text()
    else:
        assert cost.get_attribute("data-state") == "unavailable"
    page.goto("/entries/model/risk/fraud/2.1.0")
    page.wait_for_function(
        "() => document.querySelector(\".panel[data-route*='/v1/lineage/']\")?.dataset.state"
    )
    lineage = page.locator(".panel[data-route*='/v1/lineage/']")
    if lineage.get_attribute("data-state") == "ok":
        assert "dataset:risk/transactions@2026-04" in lineage.inner_text()
    assert page.locator(".panel[data-state=error]").count() == 0
    shot(page, "entry-model")
    # A relation link opens the other entry.
    page.goto("/entries/service/payments/gateway")
    inc.locator("a", has_text="service:edge/api-gateway").first.click()
    page.wait_for_url(re.compile(r"/entries/service/edge/api-gateway"))
    page.locator("#entry-ref").wait_for()
    assert page.errors == []


def test_impact_of_the_demo_cve(page: Any, server: Server) -> None:
    login(page, server, "/impact")
    page.get_by_label(re.compile("vulnerability id")).fill(CVE)
    page.get_by_role("button", name="Show impact").click()
    page.locator("#impact-summary").wait_for()
    source = page.locator("#impact-source").get_attribute("data-source")
    with server.api() as api:
        if source == "security":  # the security index's answer (VEX applied)
            body = api.get(f"/v1/security/vulnerabilities/{CVE}/impact").json()
            root = body["root"]
            hits = list(body["affected"])
            firsts = {h["path"][0]["ref"] for h in hits}
            hits += [
                {"ref": r, "depth": 1, "path": [{"relation": "affects", "ref": r}]} for r in firsts
            ]
        else:
            assert source == "graph"
            root = CVE_REF
            hits = api.get(
                "/v1/graph/security/advisories/cve-2021-23337/versions/2022-09-13/impact"
            ).json()["affected"]
    assert root == CVE_REF
    shown = set(page.locator("ul.tree li[data-ref]").evaluate_all("l => l.map(x => x.dataset.ref)"))
    assert shown == {h["ref"] for h in hits} | {CVE_REF}
    for ref in (
        "security:payments/gateway-sbom@3.4.0",
        "security:payments/notifications-sbom@1.9.2",
        "security:edge/header-scrubber-sbom@0.4.1",
    ):
        assert ref in shown
    assert any(r.startswith("service:payments/gateway@") for r in shown)
    assert any(r.startswith("service:edge/api-gateway@") for r in shown)
    assert any(r.startswith("plugin:edge/header-scrubber@") for r in shown)
    # Each node sits under the node its path comes through.
    for hit in hits:
        parent = hit["path"][-2]["ref"] if len(hit["path"]) > 1 else CVE_REF
        nested = page.locator(f'li[data-ref="{parent}"] > ul > li[data-ref="{hit["ref"]}"]')
        assert nested.count() >= 1, (parent, hit["ref"])
    assert "cve=CVE-2021-23337" in page.url
    shot(page, "impact-cve")
    assert page.errors == []


def wait_topology(page: Any) -> dict[str, Any]:
    page.wait_for_function(
        "() => window.__topology && window.__topology.ready && window.__topology.firstRenderMs !== null",
        timeout=60_000,
    )
    state: dict[str, Any] = page.evaluate("() => ({...window.__topology})")
    return state


def test_topology_renders_every_entry(page: Any, server: Server) -> None:
    login(page, server, "/topology")
    state = wait_topology(page)
    with server.api() as api:
        topo = api.get("/v1/topology").json()
    assert state["nodes"] == len(topo["nodes"]) >= len(demo_documents())
    assert state["edges"] == len(topo["edges"]) > 0
    assert page.locator("#topology-stage canvas").count() == 1
    page.wait_for_function("() => window.__topology.frames > 0")
    shot(page, "topology-all")
    canvas = page.locator("#topology-stage canvas")
    drawn = len(canvas.screenshot())

    # Filter by kind: only services remain.
    for kind in ("security", "model", "dataset", "plugin", "infra"):
        page.get_by_label(kind, exact=True).uncheck()
    services = [n for n in topo["nodes"] if n["kind"] == "service"]
    page.wait_for_function("n => window.__topology.nodes === n", arg=len(services))
    page.get_by_label("service", exact=True).uncheck()
    page.wait_for_function("() => window.__topology.nodes === 0")
    page.wait_for_timeout(300)
    # The canvas really draws the graph: an empty scene is a flat colour (a tiny PNG).
    assert drawn > 3 * len(canvas.screenshot())
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("n => window.__topology.nodes === n", arg=len(topo["nodes"]))

    # Focus on the payments API to depth 1: it and its direct neighbours.
    gateway = next(
        i for i, n in enumerate(topo["nodes"]) if n["ref"].startswith("service:payments/gateway@")
    )
    neighbours = {e["target"] for e in topo["edges"] if e["source"] == gateway} | {
        e["source"] for e in topo["edges"] if e["target"] == gateway
    }
    page.get_by_label("Focus on entry").fill(topo["nodes"][gateway]["ref"])
    page.get_by_label("Depth").fill("1")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_function("n => window.__topology.nodes === n", arg=len(neighbours | {gateway}))
    shot(page, "topology-focus")

    # The impact of the CVE is highlighted.
    page.goto(f"/topology?impact={CVE}")
    state = wait_topology(page)
    page.wait_for_function("() => window.__topology.highlighted.length > 0")
    highlighted = set(page.evaluate("() => window.__topology.highlighted"))
    with server.api() as api:
        sec = api.get(f"/v1/security/vulnerabilities/{CVE}/impact")
        if sec.status_code == 200:
            hits = sec.json()["affected"]
            expected = {h["ref"] for h in hits} | {h["path"][0]["ref"] for h in hits}
        else:
            expected = {
                h["ref"]
                for h in api.get(
                    "/v1/graph/security/advisories/cve-2021-23337/versions/2022-09-13/impact"
                ).json()["affected"]
            }
    assert highlighted == expected | {CVE_REF}
    shot(page, "topology-impact")
    assert page.errors == []


def test_topology_click_opens_the_entry(page: Any, server: Server) -> None:
    login(page, server, "/topology?focus=service:payments/ledger&depth=1")
    wait_topology(page)
    page.wait_for_function("() => window.__topology.layoutDone", timeout=60_000)
    page.get_by_role("button", name="Fit").click()
    page.wait_for_timeout(300)
    # Find a node on the canvas by scanning for a pick, then click it.
    box = page.locator("#topology-stage canvas").bounding_box()
    target = None
    for fy in range(2, 19):
        for fx in range(2, 19):
            x, y = box["x"] + box["width"] * fx / 20, box["y"] + box["height"] * fy / 20
            page.mouse.move(x, y)
            page.wait_for_timeout(60)
            if page.locator(".tooltip").is_visible():
                target = (x, y)
                break
        if target:
            break
    assert target is not None, "no node under the pointer anywhere on the canvas"
    ref = page.locator(".tooltip").inner_text().splitlines()[-1]
    page.mouse.click(*target)
    page.wait_for_url(re.compile(r"/entries/"))
    assert page.locator("#entry-ref").inner_text() == ref


def test_live_updates_appear_without_reload(page: Any, server: Server) -> None:
    login(page, server, "/catalog?namespace=live-e2e")
    page.wait_for_function("() => document.querySelector('#live-state').dataset.state === 'live'")
    page.locator(".notice-empty").wait_for()
    marker = page.evaluate("() => (window.__marker = Math.random())")
    doc = {
        "apiVersion": "hyper-registry/v1",
        "kind": "service",
        "metadata": {"namespace": "live-e2e", "name": "arrives-live", "version": "1.0.0"},
        "spec": {},
        "relations": [{"type": "calls", "target": "service:payments/ledger"}],
    }
    with server.api() as api:
        assert api.post("/v1/entries", json=doc).status_code == 201
    page.locator("tr[data-ref='service:live-e2e/arrives-live@1.0.0']").wait_for(timeout=15_000)
    assert page.evaluate("() => window.__marker") == marker  # no reload happened
    shot(page, "live-catalog")

    # The topology grows too.
    page.get_by_role("link", name="Topology").click()
    before = wait_topology(page)["nodes"]
    doc["metadata"]["name"] = "arrives-later"
    with server.api() as api:
        assert api.post("/v1/entries", json=doc).status_code == 201
    page.wait_for_function("n => window.__topology.nodes === n + 1", arg=before, timeout=15_000)
    assert "service:live-e2e/arrives-later@1.0.0" in page.evaluate("() => window.__topology.refs")
    assert page.errors == []


CONTRAST_JS = """
() => {
  const lum = (c) => {
    const m = c.match(/[\\d.]+/g).map(Number);
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return [0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]), m.length > 3 ? m[3] : 1];
  };
  const bg = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (lum(c)[1] > 0.5) return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || seen.has(el) || !walker.currentNode.textContent.trim()) continue;
    seen.add(el);
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest('[hidden], .sr-only, canvas, meter')) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.opacity === '0') continue;
    const [a] = lum(s.color), [b] = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)} '${el.textContent.trim().slice(0, 30)}'`);
  }
  return bad;
}
"""

LABELS_JS = """
() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 80))
"""


def test_accessibility_labels_focus_order_and_contrast(page: Any, server: Server) -> None:
    login(page, server, "/catalog")
    page.locator("table.catalog").wait_for()
    for path, ready in (
        ("/catalog", "table.catalog"),
        ("/entries/service/payments/gateway", "section[data-direction=incoming]"),
        ("/impact?cve=CVE-2021-23337", "#impact-summary"),
        ("/dashboards", "#services-table"),
        ("/topology", "#topology-stage canvas"),
    ):
        page.goto(path)
        page.locator(ready).wait_for()
        page.wait_for_timeout(300)
        assert page.evaluate(LABELS_JS) == [], path
        assert page.evaluate(CONTRAST_JS) == [], path
        assert page.locator("h1").count() == 1, path
    # Focus order: the skip link first, then the header, then the page's own controls.
    page.goto("/catalog")
    page.locator("table.catalog").wait_for()
    # After a navigation the page's heading has focus; Tab goes on to the filters.
    assert page.evaluate("() => document.activeElement.tagName") == "H1"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "filter-q"
    page.locator(".skip").focus()
    order = []
    for _ in range(8):
        order.append(
            page.evaluate(
                "() => document.activeElement.textContent.trim() || document.activeElement.id"
            )
        )
        page.keyboard.press("Tab")
    assert order == [
        "Skip to content",
        "Hyper Registry",
        "Catalog",
        "Impact",
        "Dashboards",
        "Topology",
        "Sign out",
        "filter-q",
    ]


def test_dashboards_and_missing_domain_routes(page: Any, server: Server) -> None:
    login(page, server, "/dashboards")
    page.locator("#services-table").wait_for()
    with server.api() as api:
        services = api.get("/v1/entries", params={"kind": "service", "limit": 500}).json()
    assert page.locator("#services-table tbody tr").count() == len(services["items"])
    page.locator("#vuln-matrix").wait_for()
    matrix = page.locator("#vuln-matrix").inner_text()
    assert "payments" in matrix and "edge" in matrix
    page.locator("#cost-table").wait_for()
    assert page.locator("#cost-table tbody tr").count() == len(demo_names("infra"))
    shot(page, "dashboards")
    assert page.errors == []
