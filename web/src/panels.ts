// Status panels per kind. Each shows what the entry itself carries (spec and status) and,
// where the server has the domain route, what that route answers. A route that answers 404
// (not installed on this server) gives a clear "not available" panel instead of an error.
import { ApiError, get, type Entry } from "./api";
import { h, notice, replace, type Child } from "./dom";
import { isObject, ratioBars, readable, sparkline, table } from "./render";

const enc = encodeURIComponent;

function section(title: string, ...body: Child[]): HTMLElement {
  const id = `panel-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return h("section", { class: "panel", "aria-labelledby": id }, h("h3", { id }, title), ...body);
}

/** A panel filled from a domain route; 404/405 reads "not available on this server". */
export function routePanel(
  title: string,
  path: string,
  draw: (data: unknown) => Child,
  params?: Record<string, string | number>,
): HTMLElement {
  const body = h("div", { "aria-busy": "true" }, "Loading…");
  const panel = section(title, body);
  panel.dataset.route = path;
  get<unknown>(path, params)
    .then((data) => {
      replace(body, draw(data));
      panel.dataset.state = "ok";
    })
    .catch((exc: unknown) => {
      if (exc instanceof ApiError && (exc.status === 404 || exc.status === 405 || exc.status === 501)) {
        panel.dataset.state = "unavailable";
        replace(body, notice("info", `Not available: this server does not answer ${path.split("?")[0]} (the ${title.toLowerCase()} feature is not installed, or there is nothing recorded yet).`));
      } else {
        panel.dataset.state = "error";
        replace(body, notice("error", `Could not load: ${(exc as Error).message}`));
      }
    })
    .finally(() => body.removeAttribute("aria-busy"));
  return panel;
}

const UP = ["up", "healthy", "ok", "pass", "passing", "serving"];
const DEGRADED = ["warning", "degraded"];
const DOWN = ["down", "unhealthy", "fail", "failing", "critical", "error", "not_serving", "timeout"];

function numbersFrom(list: unknown, keys: string[]): number[] {
  if (!Array.isArray(list)) return [];
  return list
    .map((item) => {
      if (typeof item === "number") return item;
      if (!isObject(item)) return NaN;
      for (const k of keys) {
        const v = item[k];
        if (typeof v === "number") return v;
        if (typeof v === "boolean") return v ? 1 : 0;
        if (typeof v === "string") {
          const t = v.toLowerCase();
          if (UP.includes(t)) return 1;
          if (DEGRADED.includes(t)) return 0.5;
          if (DOWN.includes(t)) return 0;
        }
      }
      return NaN;
    })
    .filter((n) => !Number.isNaN(n));
}

/** GET /v1/services/.../health: the current state, SLA per window, recent results. */
function serviceHealth(data: unknown): Child {
  if (!isObject(data)) return readable(data);
  const current = isObject(data.current) ? data.current : null;
  const history = Array.isArray(data.history) ? [...data.history].reverse() : [];
  const ups = numbersFrom(history, ["status"]);
  const latencies = numbersFrom(history, ["latencyMs"]);
  const windows = isObject(data.availability) ? Object.entries(data.availability) : [];
  const target = isObject(data.sla) && typeof data.sla.availability === "number" ? data.sla.availability : null;
  return h(
    "div",
    {},
    h(
      "p",
      {},
      "Now: ",
      h("span", { class: `pill health-${current ? String(current.status) : "unknown"}` }, current ? String(current.status) : "not checked yet"),
      current?.message ? h("span", { class: "muted" }, ` ${String(current.message)}`) : null,
    ),
    ups.length
      ? h("figure", {}, sparkline(ups, `Health of the last ${ups.length} checks: 1 passing, 0.5 warning, 0 critical`), h("figcaption", {}, `Health, last ${ups.length} checks (oldest left)`))
      : h("p", { class: "muted" }, "No check results recorded yet."),
    latencies.length ? h("figure", {}, sparkline(latencies, `Latency of the last ${latencies.length} checks`), h("figcaption", {}, "Latency (ms)")) : null,
    windows.length
      ? table(
          ["window", "checks", "up", "availability", "sla"],
          windows.map(([w, v]) => {
            const o = isObject(v) ? v : {};
            const a = typeof o.availability === "number" ? `${o.availability.toFixed(3)}%` : "—";
            return { window: w, checks: o.checks, up: o.up, availability: a, sla: o.sla ?? "—" };
          }),
          target !== null ? `Availability against the SLA of ${target}%` : "Availability",
        )
      : null,
  );
}

function severityCounts(data: unknown): Child {
  if (!isObject(data)) return readable(data);
  const order = ["critical", "high", "medium", "low", "unknown"];
  const total = order.reduce((n, k) => n + (typeof data[k] === "number" ? (data[k] as number) : 0), 0);
  return h(
    "div",
    {},
    h(
      "p",
      {},
      total === 0 ? "No open findings. " : `${total} open ${total === 1 ? "finding" : "findings"}: `,
      order.map((k) => (data[k] ? h("span", { class: `pill sev-${k}` }, `${String(data[k])} ${k}`) : null)),
    ),
    h(
      "p",
      { class: "muted" },
      `${String(data.unpatched ?? 0)} unpatched (a fix exists), ${String(data.suppressed ?? 0)} suppressed by VEX.`,
    ),
  );
}

function findings(data: unknown): Child {
  const items = isObject(data) ? data.items : data;
  if (!Array.isArray(items)) return readable(data);
  if (items.length === 0) return notice("empty", "No findings.");
  return table(
    ["advisory", "severity", "score", "component", "fixedVersion", "status", "sbom"],
    items.filter(isObject).map((f) => ({
      ...f,
      component: isObject(f.component) ? `${String(f.component.name)}@${String(f.component.version)}` : f.component,
      advisory: f.advisoryRef ?? f.advisory,
    })),
  );
}

function lineage(data: unknown): Child {
  const nodes = isObject(data) && Array.isArray(data.nodes) ? data.nodes.filter(isObject) : null;
  if (!nodes) return readable(data);
  const rows = nodes.filter((n) => n.side !== "root");
  if (rows.length === 0) return notice("empty", "No lineage recorded.");
  return table(["side", "depth", "kind", "ref"], rows, "Upstream and downstream");
}

function cost(status: Record<string, unknown>): Child {
  const infra = isObject(status.infra) ? status.infra : status;
  const c = isObject(infra.cost) ? infra.cost : null;
  if (!c) return notice("info", "No cost estimate recorded for this template (not parsed or priced yet).");
  const breakdown = isObject(c.breakdown) ? c.breakdown : {};
  const currency = typeof c.currency === "string" ? c.currency : "";
  return h(
    "div",
    {},
    h("p", {}, h("strong", {}, `${Number(c.total ?? 0).toLocaleString(undefined, { maximumFractionDigits: 2 })} ${currency}`), " per month", c.catalogue ? h("span", { class: "muted" }, ` (price catalogue ${String(c.catalogue)})`) : null),
    table(
      ["category", "monthly"],
      Object.entries(breakdown).map(([k, v]) => ({ category: k, monthly: `${Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 })} ${currency}` })),
    ),
    Array.isArray(c.resources) && c.resources.length
      ? h(
          "details",
          {},
          h("summary", {}, `${c.resources.length} priced resources`),
          table(
            ["address", "type", "category", "count", "monthly"],
            c.resources.filter(isObject).map((r) => ({ ...r, monthly: `${Number(r.monthly ?? 0).toFixed(2)} ${currency}` })),
          ),
        )
      : null,
    (Array.isArray(c.unpriced) ? c.unpriced.length : Number(c.unpriced ?? 0))
      ? h("p", { class: "muted" }, `${Array.isArray(c.unpriced) ? c.unpriced.length : String(c.unpriced)} resources could not be priced.`)
      : null,
    isObject(infra.resourceTypes) ? h("details", {}, h("summary", {}, `${String(infra.resourceCount ?? "")} resources by type`), readable(infra.resourceTypes)) : null,
  );
}

export function kindPanels(entry: Entry): HTMLElement[] {
  const { namespace, name, version } = entry.metadata;
  const spec = entry.spec ?? {};
  const status = isObject(entry.status) ? entry.status : {};
  const exact = `${entry.kind}:${namespace}/${name}@${version}`;
  const refPath = `${enc(entry.kind)}/${enc(namespace)}/${enc(name)}/versions/${enc(version)}`;
  const panels: HTMLElement[] = [];
  switch (entry.kind) {
    case "service":
      panels.push(routePanel("Health and SLA", `/v1/services/${enc(namespace)}/${enc(name)}/versions/${enc(version)}/health`, serviceHealth));
      break;
    case "model": {
      const metrics = isObject(spec.metrics) ? spec.metrics : {};
      panels.push(
        section("Metrics", Object.keys(metrics).length ? ratioBars(metrics) : notice("empty", "No metrics recorded.")),
        routePanel("Lineage", `/v1/lineage/${refPath}`, lineage),
      );
      break;
    }
    case "dataset": {
      const quality = isObject(spec.quality) ? spec.quality : {};
      const thresholds = isObject(spec.qualityThresholds) ? spec.qualityThresholds : isObject(quality.thresholds) ? quality.thresholds : {};
      const values = Object.fromEntries(Object.entries(quality).filter(([k]) => k !== "thresholds"));
      panels.push(
        section("Quality", Object.keys(values).length ? ratioBars(values, thresholds) : notice("empty", "No quality metrics recorded.")),
        routePanel("Lineage", `/v1/lineage/${refPath}`, lineage),
      );
      break;
    }
    case "infra":
      // The cost route prices every resource; the entry's status holds the totals.
      panels.push(
        routePanel("Cost breakdown", `/v1/infra/${enc(namespace)}/${enc(name)}/versions/${enc(version)}/cost`, (data) =>
          cost({ cost: data }),
        ),
      );
      if (!isObject(status.infra)) break;
      panels.push(section("Template", readable({ type: status.infra.templateType, providers: status.infra.providers, resources: status.infra.resourceCount })));
      break;
    case "plugin": {
      const wasm = isObject(status.wasm) ? status.wasm : null;
      panels.push(
        section(
          "Permissions and exports",
          readable({
            permissions: spec.permissions ?? [],
            sandboxing: spec.sandboxing ?? "strict",
            exports: wasm && Array.isArray(wasm.exports) ? wasm.exports : spec.exports ?? [],
            imports: wasm?.imports ?? "not inspected",
            unusedPermissions: wasm?.unusedPermissions ?? [],
          }),
        ),
      );
      break;
    }
    case "security":
      if (spec.type === "vulnerability") {
        panels.push(section("Advisory", readable({ id: spec.id, aliases: spec.aliases, severity: spec.severity, cvss: spec.cvss })));
      }
      break;
  }
  if (entry.kind !== "security" || spec.type === "sbom") {
    // Anything an SBOM describes (or an SBOM itself): its vulnerability summary and findings.
    panels.push(
      routePanel("Vulnerability summary", "/v1/security/summary", severityCounts, { ref: exact }),
      routePanel("Findings", "/v1/security/findings", findings, { ref: exact }),
    );
  }
  return panels;
}
