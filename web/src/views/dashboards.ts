import { get, getOptional, type Entry, type EntryPage, type GraphHit } from "../api";
import { h, notice, replace, type Child } from "../dom";
import { onChange } from "../live";
import { entryPath, refText } from "../refs";
import { isObject } from "../render";
import type { View } from "../router";
import { describe } from "./catalog";

const SEVERITIES = ["critical", "high", "medium", "low", "unknown"];
const enc = encodeURIComponent;

async function listAll(params: Record<string, string | number>, cap = 2000): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | null = null;
  do {
    const page: EntryPage = await get<EntryPage>("/v1/entries", { ...params, limit: 500, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < cap);
  return out;
}

async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

function severityOf(e: Entry): string {
  const s = e.spec?.severity ?? (isObject(e.status) ? e.status.severity : undefined) ?? e.metadata.labels?.severity;
  const text = typeof s === "string" ? s.toLowerCase() : "unknown";
  return SEVERITIES.includes(text) ? text : "unknown";
}

function matrix(
  title: string,
  rows: string[],
  cols: string[],
  cell: (r: string, c: string) => number,
  id: string,
  extra: string[] = [],
): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "matrix", id },
      h("caption", {}, title),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Namespace"), cols.map((c) => h("th", { scope: "col" }, c)), h("th", { scope: "col" }, "Total"), extra.map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        rows.map((r) => {
          const values = cols.map((c) => cell(r, c));
          return h(
            "tr",
            {},
            h("th", { scope: "row" }, h("a", { href: `/catalog?namespace=${enc(r)}` }, r)),
            values.map((v, i) => h("td", { class: v ? `sev-${cols[i]} hot` : "" }, String(v))),
            h("td", {}, String(values.reduce((a, b) => a + b, 0))),
            extra.map((c) => h("td", {}, String(cell(r, c)))),
          );
        }),
      ),
    ),
  );
}

/** Open findings per namespace and severity (GET /v1/security/portfolio); without the
 * security index, entries reached by each advisory's impact, per namespace and severity. */
async function vulnerabilities(): Promise<Child> {
  const portfolio = await getOptional<{ namespaces: Record<string, Record<string, number>> }>("/v1/security/portfolio");
  if (portfolio && isObject(portfolio.namespaces)) {
    const ns = Object.keys(portfolio.namespaces).sort();
    if (ns.length === 0) return notice("empty", "No SBOM has been indexed yet, so there are no findings.");
    const cell = (r: string, c: string) => Number(portfolio.namespaces[r]?.[c] ?? 0);
    const totals = SEVERITIES.map((sev) => ns.reduce((n, r) => n + cell(r, sev), 0));
    return h(
      "div",
      { "data-source": "portfolio" },
      h("p", {}, totals.some(Boolean) ? "Open findings: " : "No open findings. ", SEVERITIES.map((sev, i) => (totals[i] ? h("span", { class: `pill sev-${sev}` }, `${totals[i]} ${sev}`) : null))),
      matrix("Open findings by namespace and severity", ns, SEVERITIES, cell, "vuln-matrix", ["unpatched", "suppressed", "sboms"]),
    );
  }
  return vulnerabilitiesFromGraph();
}

async function vulnerabilitiesFromGraph(): Promise<Child> {
  const advisories = await listAll({ kind: "security", "spec.type": "vulnerability" }, 500);
  if (advisories.length === 0) return notice("empty", "No vulnerability advisories are registered.");
  const counts = new Map<string, Map<string, Set<string>>>();
  const walks = await pool(advisories, 4, async (adv) => {
    const ref = { kind: adv.kind, namespace: adv.metadata.namespace, name: adv.metadata.name, version: adv.metadata.version };
    const data = await getOptional<{ affected: GraphHit[] }>(`/v1/graph/${enc(ref.kind)}/${enc(ref.namespace)}/${enc(ref.name)}/versions/${enc(ref.version)}/impact`);
    return { adv, hits: data?.affected ?? [] };
  });
  for (const { adv, hits } of walks) {
    const sev = severityOf(adv);
    for (const hit of hits) {
      if (!/^(service|plugin|model|infra|dataset):/.test(hit.ref)) continue;
      const ns = hit.ref.split(":")[1].split("/")[0];
      const bySev = counts.get(ns) ?? new Map<string, Set<string>>();
      const set = bySev.get(sev) ?? new Set<string>();
      set.add(`${adv.metadata.name}|${hit.ref}`);
      bySev.set(sev, set);
      counts.set(ns, bySev);
    }
  }
  const namespaces = [...counts.keys()].sort();
  const totalBySev = SEVERITIES.map((s) => advisories.filter((a) => severityOf(a) === s).length);
  return h(
    "div",
    {},
    h("p", {}, `${advisories.length} advisories: `, SEVERITIES.map((s, i) => (totalBySev[i] ? h("span", { class: `pill sev-${s}` }, `${totalBySev[i]} ${s}`) : null))),
    namespaces.length
      ? matrix("Affected artifacts (vulnerability × entry pairs) by namespace and severity", namespaces, SEVERITIES, (r, c) => counts.get(r)?.get(c)?.size ?? 0, "vuln-matrix")
      : notice("empty", "No registered artifact is affected."),
  );
}

function healthState(e: Entry): string {
  const st = isObject(e.status) ? e.status : {};
  const health = st.health;
  const v = isObject(health) ? health.state ?? health.status ?? health.ok : health;
  if (typeof v === "boolean") return v ? "healthy" : "unhealthy";
  return typeof v === "string" ? v : "unknown";
}

function slaStatus(e: Entry): { target: string; measured: string; met: string } {
  const spec = e.spec ?? {};
  const st = isObject(e.status) ? e.status : {};
  const target = isObject(spec.sla) && typeof spec.sla.availability === "number" ? `${spec.sla.availability}%` : "—";
  const sla = isObject(st.sla) ? st.sla : {};
  const measuredValue = sla.availability;
  const measured = typeof measuredValue === "number" ? `${measuredValue.toFixed(3)}%` : "—";
  const metValue = sla.met ?? sla.ok ?? sla.status;
  const met = typeof metValue === "boolean" ? (metValue ? "met" : "breached") : typeof metValue === "string" ? metValue : "unknown";
  return { target, measured, met };
}

interface Health {
  current?: { status?: string } | null;
  sla?: { availability?: number } | null;
  availability?: Record<string, { availability?: number | null; sla?: string | null; checks?: number }>;
}

async function services(): Promise<Child> {
  const items = await listAll({ kind: "service" });
  if (items.length === 0) return notice("empty", "No services are registered.");
  const health = await pool(items.slice(0, 300), 4, (e) =>
    getOptional<Health>(`/v1/services/${enc(e.metadata.namespace)}/${enc(e.metadata.name)}/versions/${enc(e.metadata.version)}/health`).catch(() => null),
  );
  health.forEach((hh, i) => {
    if (!hh) return;
    const e = items[i];
    const st = isObject(e.status) ? { ...e.status } : {};
    if (hh.current?.status) st.health = { status: hh.current.status };
    const win = hh.availability?.["30d"] ?? hh.availability?.["24h"];
    if (win) st.sla = { availability: win.availability ?? undefined, met: win.sla ?? "unknown" };
    e.status = st;
  });
  const byHealth = new Map<string, number>();
  for (const e of items) byHealth.set(healthState(e), (byHealth.get(healthState(e)) ?? 0) + 1);
  return h(
    "div",
    {},
    h("p", {}, [...byHealth].map(([state, n]) => h("span", { class: `pill health-${state}` }, `${n} ${state}`))),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "services-table" },
        h("caption", {}, "Services by health and SLA"),
        h("thead", {}, h("tr", {}, ["Service", "Health", "SLA target", "Measured", "SLA"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          items
            .sort((a, b) => healthState(a).localeCompare(healthState(b)))
            .map((e) => {
              const sla = slaStatus(e);
              const ref = { kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name, version: e.metadata.version };
              return h(
                "tr",
                {},
                h("th", { scope: "row" }, h("a", { href: entryPath(ref) }, `${e.metadata.namespace}/${e.metadata.name}`)),
                h("td", {}, h("span", { class: `pill health-${healthState(e)}` }, healthState(e))),
                h("td", {}, sla.target),
                h("td", {}, sla.measured),
                h("td", {}, sla.met),
              );
            }),
        ),
      ),
    ),
  );
}

function costOf(data: unknown): { total: number | null; categories: Record<string, number>; currency: string } {
  const infra = isObject(data) && isObject(data.infra) ? data.infra : data;
  const c = isObject(infra) ? (isObject(infra.cost) ? infra.cost : {}) : {};
  const cats: Record<string, number> = {};
  const source = isObject(c.breakdown) ? c.breakdown : {};
  for (const [k, v] of Object.entries(source)) if (typeof v === "number") cats[k] = v;
  const totalRaw = c.total;
  const total = typeof totalRaw === "number" ? totalRaw : Object.keys(cats).length ? Object.values(cats).reduce((a, b) => a + b, 0) : null;
  return { total, categories: cats, currency: typeof c.currency === "string" ? c.currency : "USD" };
}

async function costs(): Promise<Child> {
  const items = await listAll({ kind: "infra" });
  if (items.length === 0) return notice("empty", "No infrastructure templates are registered.");
  const rows = await pool(items, 4, async (e: Entry) => {
    return { e, cost: costOf(e.status) };
  });
  const categories = [...new Set(rows.flatMap((r) => Object.keys(r.cost.categories)))].sort();
  const fmt = (n: number | null | undefined, cur: string) => (typeof n === "number" ? `${n.toLocaleString(undefined, { maximumFractionDigits: 2 })} ${cur}` : "—");
  const known = rows.filter((r) => r.cost.total !== null);
  return h(
    "div",
    {},
    known.length === 0
      ? notice("info", "No cost estimates are available from this server yet (the infra cost feature is not installed or has not run).")
      : null,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "cost-table" },
        h("caption", {}, "Estimated monthly cost by template and category"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Template"), categories.map((c) => h("th", { scope: "col" }, c)), h("th", { scope: "col" }, "Total"))),
        h(
          "tbody",
          {},
          rows.map(({ e, cost }) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, h("a", { href: entryPath({ kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name, version: e.metadata.version }) }, refText({ kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name }).replace("infra:", ""))),
              categories.map((c) => h("td", {}, fmt(cost.categories[c], cost.currency))),
              h("td", {}, fmt(cost.total, cost.currency)),
            ),
          ),
        ),
      ),
    ),
  );
}

export const dashboardsView: View = (root) => {
  const boxes = {
    vuln: h("div", { "aria-busy": "true" }, "Loading…"),
    svc: h("div", { "aria-busy": "true" }, "Loading…"),
    cost: h("div", { "aria-busy": "true" }, "Loading…"),
  };
  const fill = (box: HTMLElement, fn: () => Promise<Child>) =>
    fn()
      .then((c) => replace(box, c))
      .catch((exc) => replace(box, notice("error", describe(exc))))
      .finally(() => box.removeAttribute("aria-busy"));
  const load = () => {
    void fill(boxes.vuln, vulnerabilities);
    void fill(boxes.svc, services);
    void fill(boxes.cost, costs);
  };
  replace(
    root,
    h("h1", {}, "Dashboards"),
    h("section", { "aria-labelledby": "d-vuln", class: "dash" }, h("h2", { id: "d-vuln" }, "Vulnerabilities by severity across namespaces"), boxes.vuln),
    h("section", { "aria-labelledby": "d-svc", class: "dash" }, h("h2", { id: "d-svc" }, "Services by health and SLA"), boxes.svc),
    h("section", { "aria-labelledby": "d-cost", class: "dash" }, h("h2", { id: "d-cost" }, "Cost by template and category"), boxes.cost),
  );
  load();
  let timer: number | undefined;
  const off = onChange((c) => {
    if (c.op === "refuse") return;
    window.clearTimeout(timer);
    timer = window.setTimeout(load, 1000);
  });
  return () => {
    off();
    window.clearTimeout(timer);
  };
};
