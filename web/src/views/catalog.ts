import { ApiError, get, type Entry, type EntryPage, type Params } from "../api";
import { debounce, field, h, notice, replace } from "../dom";
import { onChange } from "../live";
import { entryPath, kindColour } from "../refs";
import { setSearch, type View } from "../router";

export const KINDS = ["service", "model", "dataset", "plugin", "infra", "security"];
const FETCH_PAGE = 500;
const FETCH_CAP = 5000; // sorting is over every match up to this many; beyond it, narrow the filter
const PAGE_SIZES = [25, 50, 100];

type SortKey = "kind" | "namespace" | "name" | "version" | "title" | "owner" | "updatedAt";
const COLUMNS: [SortKey, string][] = [
  ["kind", "Kind"],
  ["namespace", "Namespace"],
  ["name", "Name"],
  ["version", "Version"],
  ["title", "Title"],
  ["owner", "Owner"],
  ["updatedAt", "Updated"],
];

function sortValue(e: Entry, key: SortKey): string {
  switch (key) {
    case "kind":
      return e.kind;
    case "title":
      return e.metadata.title ?? "";
    case "owner":
      return e.metadata.owner ?? "";
    case "updatedAt":
      return e.metadata.updatedAt ?? "";
    default:
      return e.metadata[key];
  }
}

async function fetchAll(params: Params, signal: AbortSignal): Promise<{ items: Entry[]; capped: boolean }> {
  const items: Entry[] = [];
  let cursor: string | null = null;
  do {
    const page: EntryPage = await get<EntryPage>(
      "/v1/entries",
      { ...params, limit: FETCH_PAGE, cursor },
      signal,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < FETCH_CAP);
  return { items, capped: cursor !== null };
}

export const catalogView: View = (root, _params, search) => {
  const state = {
    kind: search.get("kind") ?? "",
    namespace: search.get("namespace") ?? "",
    owner: search.get("owner") ?? "",
    label: search.get("label") ?? "",
    q: search.get("q") ?? "",
    sort: (search.get("sort") as SortKey) || "name",
    dir: search.get("dir") === "desc" ? "desc" : "asc",
    page: Math.max(1, Number(search.get("page") ?? "1") || 1),
    size: PAGE_SIZES.includes(Number(search.get("size"))) ? Number(search.get("size")) : 25,
  };
  let items: Entry[] = [];
  let capped = false;
  let controller: AbortController | null = null;
  let lastLoadMs = 0;

  const kindSelect = h(
    "select",
    { name: "kind", id: "filter-kind" },
    h("option", { value: "" }, "Any kind"),
    KINDS.map((k) => h("option", { value: k, selected: state.kind === k }, k)),
  );
  const text = (name: string, value: string, placeholder: string) =>
    h("input", { type: "search", name, id: `filter-${name}`, value, placeholder, autocomplete: "off" });
  const nsInput = text("namespace", state.namespace, "payments");
  const ownerInput = text("owner", state.owner, "team-payments");
  const labelInput = text("label", state.label, "tier=gold");
  const qInput = text("q", state.q, "name, title or description");
  const sizeSelect = h(
    "select",
    { id: "page-size" },
    PAGE_SIZES.map((n) => h("option", { value: n, selected: n === state.size }, String(n))),
  );
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter the catalog" },
    field("Text", qInput),
    field("Kind", kindSelect),
    field("Namespace", nsInput),
    field("Owner", ownerInput),
    field("Label", labelInput, "key=value"),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit" }, "Apply filters"),
      h("button", { type: "reset", class: "secondary" }, "Clear"),
    ),
  );
  const status = h("p", { id: "catalog-status", role: "status", "aria-live": "polite" });
  const tableWrap = h("div", { class: "table-wrap" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });

  function syncUrl(): void {
    const s = new URLSearchParams();
    for (const key of ["kind", "namespace", "owner", "label", "q"] as const) if (state[key]) s.set(key, state[key]);
    if (state.sort !== "name") s.set("sort", state.sort);
    if (state.dir !== "asc") s.set("dir", state.dir);
    if (state.page > 1) s.set("page", String(state.page));
    if (state.size !== 25) s.set("size", String(state.size));
    setSearch(s);
  }

  function readForm(): void {
    state.kind = kindSelect.value;
    state.namespace = nsInput.value.trim();
    state.owner = ownerInput.value.trim();
    state.label = labelInput.value.trim();
    state.q = qInput.value.trim();
    state.page = 1;
  }

  async function load(): Promise<void> {
    const started = performance.now();
    controller?.abort();
    const ctrl = new AbortController();
    controller = ctrl;
    syncUrl();
    replace(status, "Loading…");
    tableWrap.setAttribute("aria-busy", "true");
    const params: Params = {
      kind: state.kind || undefined,
      namespace: state.namespace || undefined,
      owner: state.owner || undefined,
      label: state.label || undefined,
      q: state.q || undefined,
    };
    try {
      ({ items, capped } = await fetchAll(params, ctrl.signal));
      lastLoadMs = performance.now() - started;
      draw();
    } catch (exc) {
      if ((exc as Error).name === "AbortError") return;
      items = [];
      replace(tableWrap, notice("error", describe(exc)));
      replace(status, "No results: the filter was refused.");
      replace(pager);
    } finally {
      if (controller === ctrl) tableWrap.removeAttribute("aria-busy");
    }
  }

  function draw(): void {
    // A redraw (a live update, a late answer) keeps the keyboard focus where it was.
    const active = document.activeElement as HTMLElement | null;
    const focusKey = active && tableWrap.contains(active) ? active.dataset.sort ?? null : null;
    const sorted = [...items].sort((a, b) => {
      const c = sortValue(a, state.sort).localeCompare(sortValue(b, state.sort), undefined, { numeric: true });
      return state.dir === "asc" ? c : -c;
    });
    const pages = Math.max(1, Math.ceil(sorted.length / state.size));
    state.page = Math.min(state.page, pages);
    const slice = sorted.slice((state.page - 1) * state.size, state.page * state.size);
    syncUrl();
    replace(
      status,
      `${sorted.length}${capped ? "+" : ""} ${sorted.length === 1 ? "entry" : "entries"}` +
        (capped ? ` (only the first ${FETCH_CAP} are listed: narrow the filter)` : "") +
        `, page ${state.page} of ${pages}, sorted by ${state.sort} ${state.dir === "asc" ? "ascending" : "descending"}.`,
    );
    if (sorted.length === 0) {
      replace(tableWrap, notice("empty", "No entries match these filters."));
      replace(pager);
      return;
    }
    const headRow = h(
      "tr",
      {},
      COLUMNS.map(([key, label]) => {
        const active = state.sort === key;
        const button = h(
          "button",
          {
            type: "button",
            class: "sort",
            "data-sort": key,
            onclick: () => {
              if (state.sort === key) state.dir = state.dir === "asc" ? "desc" : "asc";
              else {
                state.sort = key;
                state.dir = "asc";
              }
              draw();
              (tableWrap.querySelector(`button[data-sort="${key}"]`) as HTMLElement | null)?.focus();
            },
          },
          label,
          h("span", { "aria-hidden": "true" }, active ? (state.dir === "asc" ? " ▲" : " ▼") : ""),
        );
        return h(
          "th",
          { scope: "col", "aria-sort": active ? (state.dir === "asc" ? "ascending" : "descending") : "none" },
          button,
        );
      }),
    );
    const rows = slice.map((e) => {
      const ref = { kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name, version: e.metadata.version };
      return h(
        "tr",
        { "data-ref": `${e.kind}:${e.metadata.namespace}/${e.metadata.name}@${e.metadata.version}` },
        h("td", {}, h("span", { class: "kind", style: `--kind:${kindColour(e.kind)}` }, e.kind)),
        h("td", {}, e.metadata.namespace),
        h("td", {}, h("a", { href: entryPath(ref) }, e.metadata.name)),
        h("td", {}, e.metadata.version),
        h("td", {}, e.metadata.title ?? ""),
        h("td", {}, e.metadata.owner ?? ""),
        h("td", {}, h("time", { datetime: e.metadata.updatedAt ?? "" }, (e.metadata.updatedAt ?? "").slice(0, 16).replace("T", " "))),
      );
    });
    replace(
      tableWrap,
      h(
        "table",
        { class: "catalog", "aria-describedby": "catalog-status" },
        h("caption", { class: "sr-only" }, "Catalog entries; column headers sort the table"),
        h("thead", {}, headRow),
        h("tbody", {}, rows),
      ),
    );
    if (focusKey) (tableWrap.querySelector(`button[data-sort="${focusKey}"]`) as HTMLElement | null)?.focus();
    const go = (p: number) => () => {
      state.page = p;
      draw();
      (pager.querySelector(p > 1 ? "[data-page=prev]" : "[data-page=next]") as HTMLElement | null)?.focus();
    };
    replace(
      pager,
      h("button", { type: "button", "data-page": "prev", disabled: state.page <= 1, onclick: go(state.page - 1) }, "Previous page"),
      h("span", {}, ` Page ${state.page} of ${pages} `),
      h("button", { type: "button", "data-page": "next", disabled: state.page >= pages, onclick: go(state.page + 1) }, "Next page"),
      field("Per page", sizeSelect),
    );
  }

  const typed = debounce(() => {
    readForm();
    void load();
  }, 350);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    typed.cancel();
    readForm();
    void load();
  });
  form.addEventListener("reset", () => {
    setTimeout(() => {
      readForm();
      void load();
    }, 0);
  });
  kindSelect.addEventListener("change", () => {
    readForm();
    void load();
  });
  for (const input of [nsInput, ownerInput, labelInput, qInput]) input.addEventListener("input", typed);
  sizeSelect.addEventListener("change", () => {
    state.size = Number(sizeSelect.value);
    state.page = 1;
    draw();
  });

  replace(
    root,
    h("h1", {}, "Catalog"),
    h("p", { class: "lead" }, "Everything the organisation ships, across kinds. Changes appear here as they happen."),
    form,
    status,
    tableWrap,
    pager,
  );
  void load();
  // Live: reload after a quiet moment; a big result waits longer between reloads.
  let timer: number | undefined;
  const off = onChange((change) => {
    if (change.op === "refuse") return;
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void load(), Math.max(400, lastLoadMs * 3));
  });
  return () => {
    off();
    window.clearTimeout(timer);
    controller?.abort();
  };
};

export function describe(exc: unknown): string {
  if (exc instanceof ApiError) return exc.status ? `${exc.message} (HTTP ${exc.status})` : exc.message;
  return (exc as Error).message ?? String(exc);
}
