import { get, getOptional, type EntryPage, type GraphHit } from "../api";
import { field, h, notice, replace } from "../dom";
import { onChange } from "../live";
import { entryPath, graphApiPath, kindColour, parseRef, refText, type Ref } from "../refs";
import { setSearch, type View } from "../router";
import { describe } from "./catalog";

const VULN_ID = /^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|[A-Z]{2,10}-[A-Za-z0-9._:-]+)$/i;

export interface ImpactTree {
  root: string;
  hits: GraphHit[];
  children: Map<string, { relation: string; ref: string }[]>;
}

export function buildTree(root: string, hits: GraphHit[]): ImpactTree {
  const children = new Map<string, { relation: string; ref: string }[]>();
  for (const hit of hits) {
    const parent = hit.path.length > 1 ? hit.path[hit.path.length - 2].ref : root;
    const last = hit.path[hit.path.length - 1];
    const list = children.get(parent) ?? [];
    list.push({ relation: last?.relation ?? "", ref: hit.ref });
    children.set(parent, list);
  }
  for (const list of children.values()) list.sort((a, b) => a.ref.localeCompare(b.ref));
  return { root, hits, children };
}

export interface ImpactResult {
  root: string;
  affected: GraphHit[];
  source: "security" | "graph";
  suppressed?: unknown[];
}

/** The impact of a vulnerability id: the security index's answer (matched components, VEX
 * applied) where the server has it, else a graph walk from the advisory entry. */
export async function vulnerabilityImpact(id: string): Promise<ImpactResult | null> {
  const sec = await getOptional<{ root: string; affected: GraphHit[]; sboms?: { ref?: string; sbom?: string }[]; suppressed?: unknown[] }>(
    `/v1/security/vulnerabilities/${encodeURIComponent(id.toUpperCase())}/impact`,
  ).catch(() => null);
  if (sec && Array.isArray(sec.affected) && (sec.affected.length > 0 || (sec.sboms ?? []).length > 0)) {
    // The answer's paths start at an SBOM ("affects"); the SBOMs themselves are the first level.
    const hits: GraphHit[] = [];
    const seen = new Set<string>();
    for (const hit of sec.affected) {
      const first = hit.path[0];
      if (first && !seen.has(first.ref)) {
        seen.add(first.ref);
        hits.push({ ref: first.ref, depth: 1, path: [first] });
      }
    }
    for (const s of sec.sboms ?? []) {
      const ref = s.ref ?? s.sbom;
      if (ref && !seen.has(ref)) {
        seen.add(ref);
        hits.push({ ref, depth: 1, path: [{ relation: "affects", ref }] });
      }
    }
    for (const hit of sec.affected) if (!seen.has(hit.ref)) hits.push(hit);
    return { root: sec.root, affected: hits, source: "security", suppressed: sec.suppressed };
  }
  const root = await findAdvisory(id);
  if (!root) return null;
  const ref = parseRef(root) as Ref;
  const data = await get<{ root: string; affected: GraphHit[] }>(graphApiPath(ref, "impact"));
  return { ...data, source: "graph" };
}

/** The advisory entry a vulnerability id names (spec.id, else a name match). */
export async function findAdvisory(id: string): Promise<string | null> {
  const upper = id.toUpperCase();
  for (const params of [
    { kind: "security", "spec.id": upper, limit: 5 },
    { kind: "security", "spec.id": id, limit: 5 },
    { kind: "security", q: id.toLowerCase(), "spec.type": "vulnerability", limit: 5 },
  ]) {
    const page = await get<EntryPage>("/v1/entries", params);
    const e = page.items[0];
    if (e) return refText({ kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name, version: e.metadata.version });
  }
  return null;
}

function node(tree: ImpactTree, ref: string, relation: string | null, seen: Set<string>): HTMLElement {
  const parsed = parseRef(ref);
  const kids = seen.has(ref) ? [] : tree.children.get(ref) ?? [];
  seen.add(ref);
  const hit = tree.hits.find((x) => x.ref === ref);
  const pathText = hit ? [tree.root, ...hit.path.map((p) => `${p.relation} ${p.ref}`)].join(" → ") : null;
  return h(
    "li",
    { "data-ref": ref },
    h(
      "span",
      { class: "tree-node" },
      relation ? h("span", { class: "rel" }, relation) : null,
      relation ? " " : null,
      parsed ? h("span", { class: "kind", style: `--kind:${kindColour(parsed.kind)}` }, parsed.kind) : null,
      " ",
      parsed ? h("a", { href: entryPath(parsed), title: pathText ?? ref }, ref) : ref,
      hit ? h("span", { class: "muted" }, ` · depth ${hit.depth}`) : null,
    ),
    pathText ? h("span", { class: "sr-only" }, ` Path: ${pathText}`) : null,
    kids.length ? h("ul", {}, kids.map((k) => node(tree, k.ref, k.relation, seen))) : null,
  );
}

export const impactView: View = (root, _params, search) => {
  const input = h("input", {
    type: "search",
    id: "impact-query",
    name: "q",
    value: search.get("cve") ?? search.get("ref") ?? "",
    placeholder: "CVE-2021-23337 or service:payments/gateway",
    autocomplete: "off",
    required: true,
  });
  const form = h(
    "form",
    { role: "search", "aria-label": "Impact search", class: "inline-form" },
    field("Entry reference or vulnerability id (CVE, GHSA)", input),
    h("button", { type: "submit" }, "Show impact"),
  );
  const result = h("div", { id: "impact-result", "aria-live": "polite" });

  async function run(text: string, quiet = false): Promise<void> {
    const q = text.trim();
    if (!q) return;
    const s = new URLSearchParams();
    const asRef = parseRef(q);
    s.set(asRef ? "ref" : "cve", q);
    setSearch(s);
    if (!quiet) replace(result, h("p", { "aria-busy": "true" }, "Walking the graph…"));
    try {
      let data: ImpactResult;
      if (asRef) {
        const res = await get<{ root: string; affected: GraphHit[] }>(graphApiPath(asRef, "impact"));
        data = { ...res, source: "graph" };
      } else {
        if (!VULN_ID.test(q)) {
          replace(result, notice("error", `'${q}' is neither a reference (kind:namespace/name[@version]) nor a vulnerability id like CVE-2021-23337.`));
          return;
        }
        const found = await vulnerabilityImpact(q);
        if (!found) {
          replace(result, notice("empty", `No advisory with the id ${q.toUpperCase()} is registered.`));
          return;
        }
        data = found;
      }
      const tree = buildTree(data.root, data.affected);
      const byKind = new Map<string, number>();
      for (const hit of data.affected) {
        const k = hit.ref.split(":")[0];
        byKind.set(k, (byKind.get(k) ?? 0) + 1);
      }
      replace(
        result,
        h("h2", {}, `Impact of ${data.root}`),
        h(
          "p",
          { class: "muted", id: "impact-source", "data-source": data.source },
          data.source === "security"
            ? `From the security index: components matched by version range, VEX statements applied${data.suppressed?.length ? ` (${data.suppressed.length} suppressed)` : ""}.`
            : "From the relation graph (impact walk).",
        ),
        h(
          "p",
          { id: "impact-summary" },
          `${data.affected.length} affected ${data.affected.length === 1 ? "entry" : "entries"}`,
          byKind.size ? `: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(", ")}.` : ".",
          " ",
          h("a", { href: `/topology?impact=${encodeURIComponent(data.root)}` }, "Highlight in the 3D topology"),
        ),
        data.affected.length
          ? h("ul", { class: "tree", "aria-label": `Entries affected by ${data.root}, nested by path` }, node(tree, data.root, null, new Set()))
          : notice("empty", "Nothing depends on this entry."),
      );
    } catch (exc) {
      replace(result, notice("error", describe(exc)));
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void run(input.value);
  });
  replace(
    root,
    h("h1", {}, "Impact"),
    h("p", { class: "lead" }, "What a problem in an entry reaches: every affected entry, with the path to it. Start from an entry or type a CVE id."),
    form,
    result,
  );
  if (input.value) void run(input.value);
  let timer: number | undefined;
  const off = onChange((c) => {
    if (c.op === "refuse" || !input.value) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void run(input.value, true), 500);
  });
  return () => {
    off();
    window.clearTimeout(timer);
  };
};
