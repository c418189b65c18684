import { get, type Entry, type RelationView } from "../api";
import { h, notice, replace } from "../dom";
import { onChange } from "../live";
import { kindPanels } from "../panels";
import { entryApiPath, entryPath, kindColour, parseRef, refText, type Ref } from "../refs";
import { isObject, readable } from "../render";
import type { View } from "../router";
import { toYaml } from "../yaml";
import { describe } from "./catalog";

interface Versions {
  items: Entry[];
  aliases: Record<string, string>;
}

function refLink(text: string, resolved?: string | null): HTMLElement {
  const ref = parseRef(resolved ?? text);
  const label = h("span", {}, text);
  if (!ref) return label;
  return h("a", { href: entryPath(ref), "data-ref": resolved ?? text }, text);
}

function relationList(title: string, items: RelationView[], id: string): HTMLElement {
  return h(
    "section",
    { class: "relations", "aria-labelledby": id, "data-direction": title.toLowerCase() },
    h("h3", { id }, `${title} (${items.length})`),
    items.length === 0
      ? h("p", { class: "muted" }, "None.")
      : h(
          "ul",
          {},
          items.map((r) =>
            h(
              "li",
              {},
              h("span", { class: "rel" }, r.type),
              " ",
              refLink(r.target, r.resolved),
              r.resolved ? null : h("span", { class: "muted" }, " (not registered yet)"),
              r.origin === "spec" ? h("span", { class: "muted" }, " · from spec") : null,
            ),
          ),
        ),
  );
}

export const entryView: View = async (root, params) => {
  const ref: Ref = {
    kind: params.kind,
    namespace: params.namespace,
    name: params.name,
    version: params.version,
  };
  let entry: Entry;
  try {
    entry = await get<Entry>(entryApiPath(ref));
  } catch (exc) {
    replace(root, h("h1", {}, refText(ref)), notice("error", describe(exc)), h("p", {}, h("a", { href: "/catalog" }, "Back to the catalog")));
    return;
  }
  const md = entry.metadata;
  const exact: Ref = { kind: entry.kind, namespace: md.namespace, name: md.name, version: md.version };
  const exactText = refText(exact);
  // Relations and versions load before the page is drawn, so a live re-render (this entry
  // changed) swaps complete pages and never flashes empty sections.
  const [rels, vers] = await Promise.allSettled([
    get<{ items: RelationView[] }>(`${entryApiPath(exact)}/relations`),
    get<Versions>(`${entryApiPath({ ...exact, version: undefined })}/versions`),
  ]);
  const relationsBox = h("div", { class: "relations-box" });
  const versionsBox = h("div", {});
  const yamlPre = h("pre", { class: "yaml", tabindex: "0", "aria-label": "Raw YAML" });
  const doc = { apiVersion: entry.apiVersion, kind: entry.kind, metadata: md, spec: entry.spec, relations: entry.relations, status: entry.status };
  yamlPre.textContent = toYaml(Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)));

  const specBox = h("div", { class: "spec-form" }, readable(entry.spec));
  const showYaml = h("button", { type: "button", "aria-pressed": "false", class: "secondary", id: "toggle-yaml" }, "Show raw YAML");
  const specSection = h(
    "section",
    { "aria-labelledby": "spec-h" },
    h("div", { class: "section-head" }, h("h2", { id: "spec-h" }, "Spec"), showYaml),
    specBox,
    yamlPre,
  );
  yamlPre.hidden = true;
  showYaml.addEventListener("click", () => {
    const raw = yamlPre.hidden;
    yamlPre.hidden = !raw;
    specBox.hidden = raw;
    showYaml.setAttribute("aria-pressed", String(raw));
    showYaml.textContent = raw ? "Show readable form" : "Show raw YAML";
  });

  const status = isObject(entry.status) ? entry.status : {};
  const labels = Object.entries(md.labels ?? {});
  replace(
    root,
    h(
      "header",
      { class: "entry-head" },
      h("p", { class: "crumbs" }, h("a", { href: "/catalog" }, "Catalog"), " / ", h("a", { href: `/catalog?kind=${entry.kind}` }, entry.kind), " / ", h("a", { href: `/catalog?namespace=${md.namespace}` }, md.namespace)),
      h("h1", {}, md.title || md.name),
      h("p", {}, h("span", { class: "kind", style: `--kind:${kindColour(entry.kind)}` }, entry.kind), " ", h("code", { id: "entry-ref" }, exactText)),
      md.description ? h("p", { class: "lead" }, md.description) : null,
      h(
        "p",
        { class: "actions" },
        h("a", { class: "button", href: `/impact?ref=${encodeURIComponent(exactText)}` }, "Impact of a problem here"),
        " ",
        h("a", { class: "button secondary", href: `/topology?focus=${encodeURIComponent(exactText)}&depth=2` }, "Show in topology"),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "meta-h" },
      h("h2", { id: "meta-h" }, "Overview"),
      h(
        "dl",
        { class: "kv meta" },
        h("dt", {}, "Owner"), h("dd", {}, md.owner ? h("a", { href: `/catalog?owner=${encodeURIComponent(md.owner)}` }, md.owner) : "—"),
        h("dt", {}, "Version"), h("dd", {}, md.version),
        h("dt", {}, "Labels"), h("dd", {}, labels.length ? h("ul", { class: "inline-list" }, labels.map(([k, v]) => h("li", {}, h("a", { href: `/catalog?label=${encodeURIComponent(`${k}=${v}`)}` }, `${k}=${v}`)))) : "—"),
        h("dt", {}, "Tags"), h("dd", {}, md.tags?.length ? h("ul", { class: "inline-list" }, md.tags.map((t) => h("li", {}, t))) : "—"),
        h("dt", {}, "Revision"), h("dd", {}, String(md.revision ?? "")),
        h("dt", {}, "Updated"), h("dd", {}, md.updatedAt ?? ""),
        h("dt", {}, "Created"), h("dd", {}, md.createdAt ?? ""),
      ),
    ),
    h("section", { "aria-labelledby": "rel-h" }, h("h2", { id: "rel-h" }, "Relations"), relationsBox),
    h("section", { "aria-labelledby": "status-h" }, h("h2", { id: "status-h" }, "Status"),
      Object.keys(status).length ? h("div", { class: "panel" }, h("h3", {}, "Recorded status"), readable(status)) : h("p", { class: "muted" }, "The registry has recorded no status for this entry."),
      h("div", { class: "panels" }, kindPanels(entry)),
    ),
    specSection,
    h("section", { "aria-labelledby": "ver-h" }, h("h2", { id: "ver-h" }, "Versions and aliases"), versionsBox),
  );

  if (rels.status === "fulfilled") {
    const out = rels.value.items.filter((r) => r.direction === "outgoing");
    const inc = rels.value.items.filter((r) => r.direction === "incoming");
    replace(relationsBox, h("div", { class: "two-col" }, relationList("Outgoing", out, "rel-out"), relationList("Incoming", inc, "rel-in")));
  } else {
    replace(relationsBox, notice("error", describe(rels.reason)));
  }

  if (vers.status === "fulfilled") {
    const v = vers.value;
    const aliasesOf = (ver: string) => Object.entries(v.aliases ?? {}).filter(([, target]) => target === ver).map(([a]) => a);
    replace(
      versionsBox,
      h(
        "table",
        { class: "versions" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Version"), h("th", { scope: "col" }, "Aliases"), h("th", { scope: "col" }, "Updated"))),
        h(
          "tbody",
          {},
          v.items.map((e) =>
            h(
              "tr",
              { class: e.metadata.version === md.version ? "current" : "" },
              h("td", {}, h("a", { href: entryPath({ ...exact, version: e.metadata.version }), "aria-current": e.metadata.version === md.version ? "page" : null }, e.metadata.version)),
              h("td", {}, aliasesOf(e.metadata.version).join(", ") || "—"),
              h("td", {}, e.metadata.updatedAt ?? ""),
            ),
          ),
        ),
      ),
    );
  } else {
    replace(versionsBox, notice("error", describe(vers.reason)));
  }

  const off = onChange((change) => {
    const changed = parseRef(change.ref);
    if (changed && changed.kind === exact.kind && changed.namespace === exact.namespace && changed.name === exact.name && change.op !== "refuse") {
      window.dispatchEvent(new Event("hyper-registry:rerender"));
    }
  });
  return off;
};
