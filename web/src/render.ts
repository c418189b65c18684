// Readable renderings of JSON values: definition lists, tables, bars and sparklines.
import { h, type Child } from "./dom";
import { entryPath, parseRef } from "./refs";

const MAX_ITEMS = 200;
const MAX_DEPTH = 6;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function humanKey(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[_-]/g, " ");
}

/** A scalar; a reference (`kind:ns/name[@v]`) becomes a link to its entry page. */
export function scalar(value: unknown): Child {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  if (typeof value === "string") {
    const ref = /^[a-z][a-z0-9-]*:[a-z0-9]/.test(value) ? parseRef(value) : null;
    if (ref && ["service", "model", "dataset", "plugin", "infra", "security"].includes(ref.kind))
      return h("a", { href: entryPath(ref) }, value);
    if (value.length > 300 || value.includes("\n")) return h("pre", { class: "text" }, value);
    return value;
  }
  return String(value);
}

export function readable(value: unknown, depth = 0): Child {
  if (!isObject(value) && !Array.isArray(value)) return scalar(value);
  if (depth >= MAX_DEPTH) return h("code", {}, JSON.stringify(value).slice(0, 200));
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "muted" }, "none");
    if (value.every((v) => !isObject(v) && !Array.isArray(v))) {
      return h("ul", { class: "inline-list" }, value.slice(0, MAX_ITEMS).map((v) => h("li", {}, scalar(v))), more(value.length));
    }
    if (value.every(isObject)) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
      const flat = keys.length <= 8 && value.every((v) => Object.values(v as object).every((x) => !isObject(x) && !Array.isArray(x)));
      if (flat) return table(keys, value as Record<string, unknown>[]);
    }
    return h(
      "ol",
      { class: "nested" },
      value.slice(0, MAX_ITEMS).map((v) => h("li", {}, readable(v, depth + 1))),
      more(value.length),
    );
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return h("span", { class: "muted" }, "empty");
  return h(
    "dl",
    { class: "kv" },
    entries.map(([k, v]) => {
      const big = (isObject(v) || Array.isArray(v)) && JSON.stringify(v).length > 4000;
      const body = big
        ? h("details", {}, h("summary", {}, summary(v)), readable(v, depth + 1))
        : readable(v, depth + 1);
      return [h("dt", {}, humanKey(k)), h("dd", {}, body)];
    }),
  );
}

function summary(v: unknown): string {
  if (Array.isArray(v)) return `${v.length} items`;
  if (isObject(v)) return `${Object.keys(v).length} fields`;
  return "";
}

function more(n: number): Child {
  return n > MAX_ITEMS ? h("li", { class: "muted" }, `… and ${n - MAX_ITEMS} more`) : null;
}

export function table(keys: string[], rows: Record<string, unknown>[], caption?: string): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, keys.map((k) => h("th", { scope: "col" }, humanKey(k))))),
      h(
        "tbody",
        {},
        rows.slice(0, MAX_ITEMS).map((row) => h("tr", {}, keys.map((k) => h("td", {}, scalar(row[k]))))),
      ),
    ),
    rows.length > MAX_ITEMS ? h("p", { class: "muted" }, `… and ${rows.length - MAX_ITEMS} more rows`) : null,
  );
}

/** Ratios in 0..1 as labelled bars, with an optional threshold per metric. */
export function ratioBars(values: Record<string, unknown>, thresholds: Record<string, unknown> = {}): HTMLElement {
  const rows = Object.entries(values).filter(([, v]) => typeof v === "number");
  return h(
    "ul",
    { class: "bars" },
    rows.map(([k, v]) => {
      const n = v as number;
      const t = typeof thresholds[k] === "number" ? (thresholds[k] as number) : null;
      const ratio = n >= 0 && n <= 1;
      const below = t !== null && n < t;
      return h(
        "li",
        { class: below ? "below" : "" },
        h("span", { class: "bar-label" }, humanKey(k)),
        ratio
          ? h("meter", { min: 0, max: 1, value: n, low: t ?? undefined, optimum: 1, "aria-label": humanKey(k) })
          : null,
        h(
          "span",
          { class: "bar-value" },
          ratio ? `${(n * 100).toFixed(1)}%` : String(n),
          t !== null ? ` (threshold ${(t * 100).toFixed(0)}%${below ? ", below" : ""})` : "",
        ),
      );
    }),
  );
}

/** A small SVG sparkline of numbers (1 = up, 0 = down for health; any scale works). */
export function sparkline(values: number[], label: string): SVGElement {
  const w = 240;
  const ht = 40;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${ht}`);
  svg.setAttribute("width", String(w));
  svg.setAttribute("height", String(ht));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.classList.add("sparkline");
  if (values.length === 1) values = [values[0], values[0]];
  if (values.length > 0) {
    const max = Math.max(...values, 1e-9);
    const min = Math.min(...values, 0);
    const step = values.length > 1 ? w / (values.length - 1) : w;
    const pts = values
      .map((v, i) => `${(i * step).toFixed(1)},${(ht - 2 - ((v - min) / (max - min || 1)) * (ht - 4)).toFixed(1)}`)
      .join(" ");
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "currentColor");
    line.setAttribute("stroke-width", "2");
    svg.appendChild(line);
  }
  return svg;
}
