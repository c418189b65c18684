// The 3D topology page: every visible entry as a node coloured by kind, relations as
// directed edges, filters by kind and namespace, focus on a neighbourhood to depth N,
// click to open an entry, and an impact path highlighted. The graph state is exposed as
// window.__topology for tests and the benchmark.
import { get, type GraphHit } from "../api";
import { field, h, notice, replace } from "../dom";
import { onChange } from "../live";
import { entryPath, graphApiPath, KIND_COLOURS, kindColour, parseRef } from "../refs";
import { navigate, setSearch, type View } from "../router";
import { TopologyScene, type SceneNode } from "../topology/scene";
import { describe } from "./catalog";
import { vulnerabilityImpact } from "./impact";

export interface TopologyNode {
  ref: string;
  kind: string;
  namespace: string;
  name: string;
  version: string;
  title?: string | null;
  latest: boolean;
}

export interface TopologyData {
  nodes: TopologyNode[];
  edges: { source: number; target: number; type: string }[];
  truncated: boolean;
  seq: number;
}

interface TopologyState {
  ready: boolean;
  nodes: number;
  edges: number;
  totalNodes: number;
  totalEdges: number;
  truncated: boolean;
  fetchMs: number | null;
  firstRenderMs: number | null;
  firstFrameAt: number | null;
  layoutDone: boolean;
  layoutTicks: number;
  fps: number;
  frames: number;
  highlighted: string[];
  focus: string | null;
  refs: string[];
  reloads: number;
  measureDraw?: (frames: number, motion?: boolean) => number;
  spin?: (on: boolean) => void;
}

declare global {
  interface Window {
    __topology?: TopologyState;
  }
}

const MAX_DEPTH = 6;

export const topologyView: View = (root, _params, search) => {
  const started = performance.now();
  const state: TopologyState = {
    ready: false,
    nodes: 0,
    edges: 0,
    totalNodes: 0,
    totalEdges: 0,
    truncated: false,
    fetchMs: null,
    firstRenderMs: null,
    firstFrameAt: null,
    layoutDone: false,
    layoutTicks: 0,
    fps: 0,
    frames: 0,
    highlighted: [],
    focus: null,
    refs: [],
    reloads: 0,
  };
  window.__topology = state;

  let data: TopologyData = { nodes: [], edges: [], truncated: false, seq: 0 };
  let visible: number[] = []; // indices into data.nodes
  let visibleEdges: number[] = []; // indices into data.edges
  const positionsByRef = new Map<string, [number, number, number]>();
  let currentPositions: Float32Array = new Float32Array(0);
  let generation = 0;
  let impactRoot: string | null = search.get("impact");
  let impactHits: GraphHit[] = [];

  // Controls.
  const kindBoxes = Object.keys(KIND_COLOURS).map((k) =>
    h("input", { type: "checkbox", value: k, checked: true, id: `topo-kind-${k}` }),
  );
  const kindSet = h(
    "fieldset",
    { class: "kinds" },
    h("legend", {}, "Kinds"),
    kindBoxes.map((box) =>
      h("label", { for: box.id, class: "check" }, box, h("span", { class: "swatch", style: `--kind:${kindColour(box.value)}`, "aria-hidden": "true" }), box.value),
    ),
  );
  const nsSelect = h("select", { id: "topo-namespace" }, h("option", { value: "" }, "All namespaces"));
  const focusInput = h("input", { type: "search", id: "topo-focus", list: "topo-refs", value: search.get("focus") ?? "", placeholder: "service:payments/gateway@3.4.0", autocomplete: "off" });
  const depthInput = h("input", { type: "number", id: "topo-depth", min: 1, max: MAX_DEPTH, value: search.get("depth") ?? "2" });
  const impactInput = h("input", { type: "search", id: "topo-impact", value: impactRoot ?? "", placeholder: "CVE-2021-23337 or a reference", autocomplete: "off" });
  const datalist = h("datalist", { id: "topo-refs" });
  const stats = h("p", { id: "topo-stats", role: "status", "aria-live": "polite" }, "Loading the topology…");
  const tooltip = h("div", { class: "tooltip", role: "tooltip", hidden: true });
  const stage = h("div", {
    class: "stage",
    id: "topology-stage",
    role: "img",
    "aria-label": "3D topology of the registry. Use the controls and the list of shown entries to navigate with a keyboard.",
    "aria-describedby": "topo-stats",
  });
  const listBox = h("ul", { class: "node-list" });
  const form = h(
    "form",
    { class: "topo-controls", "aria-label": "Topology filters" },
    kindSet,
    field("Namespace", nsSelect),
    field("Focus on entry", focusInput, "Shows this entry and its neighbourhood"),
    field("Depth", depthInput),
    field("Highlight impact of", impactInput, "A reference or a CVE id"),
    h("div", { class: "filter-actions" }, h("button", { type: "submit" }, "Apply"), h("button", { type: "button", class: "secondary", id: "topo-reset" }, "Reset")),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "button", class: "secondary", "aria-label": "Zoom in", id: "topo-zoom-in" }, "+"),
      h("button", { type: "button", class: "secondary", "aria-label": "Zoom out", id: "topo-zoom-out" }, "−"),
      h("button", { type: "button", class: "secondary", id: "topo-fit" }, "Fit"),
    ),
    datalist,
  );
  replace(
    root,
    h("h1", {}, "Topology"),
    h(
      "div",
      { class: "topo" },
      h("aside", {}, form, stats, h("details", { class: "shown" }, h("summary", {}, "Entries shown (keyboard list)"), listBox)),
      h("div", { class: "stage-wrap" }, stage, tooltip, h("p", { class: "hint" }, "Drag to rotate, scroll to zoom, arrow keys pan when the view has focus. Click a node to open its entry. Edges run dark (source) to bright (target).")),
    ),
  );

  let scene: TopologyScene;
  try {
    scene = new TopologyScene(stage);
  } catch (exc) {
    replace(stage, notice("error", `WebGL is not available in this browser: ${(exc as Error).message}`));
    return;
  }
  stage.querySelector("canvas")?.setAttribute("tabindex", "0");
  state.measureDraw = (frames: number, motion?: boolean) => scene.measureDraw(frames, motion);
  state.spin = (on: boolean) => scene.spin(on);
  scene.onFirstFrame = () => {
    if (state.firstRenderMs === null) {
      state.firstFrameAt = performance.now(); // since the page's navigation start
      state.firstRenderMs = state.firstFrameAt - started; // since this view started
    }
  };
  const fpsTimer = window.setInterval(() => {
    state.fps = scene.fps;
    state.frames = scene.frameCount;
  }, 250);

  const worker = new Worker(new URL("../topology/layout.worker.ts", import.meta.url), { type: "module" });
  worker.onmessage = (ev: MessageEvent<{ type: string; generation: number; positions: Float32Array; ticks: number; done: boolean }>) => {
    if (ev.data.generation !== generation) return;
    currentPositions = ev.data.positions;
    scene.updatePositions(currentPositions);
    state.layoutTicks = ev.data.ticks;
    if (ev.data.done) {
      state.layoutDone = true;
      visible.forEach((ni, i) => positionsByRef.set(data.nodes[ni].ref, [currentPositions[3 * i], currentPositions[3 * i + 1], currentPositions[3 * i + 2]]));
      scene.fit();
    }
  };

  function filters(): { kinds: Set<string>; ns: string; focus: string; depth: number } {
    return {
      kinds: new Set(kindBoxes.filter((b) => b.checked).map((b) => b.value)),
      ns: nsSelect.value,
      focus: focusInput.value.trim(),
      depth: Math.min(MAX_DEPTH, Math.max(1, Number(depthInput.value) || 2)),
    };
  }

  function resolveFocus(text: string): number {
    if (!text) return -1;
    const exact = data.nodes.findIndex((n) => n.ref === text);
    if (exact >= 0) return exact;
    const ref = parseRef(text);
    if (!ref) return -1;
    const same = data.nodes
      .map((n, i) => ({ n, i }))
      .filter(({ n }) => n.kind === ref.kind && n.namespace === ref.namespace && n.name === ref.name && (!ref.version || n.version === ref.version));
    return (same.find(({ n }) => n.latest) ?? same[0])?.i ?? -1;
  }

  function computeVisible(): void {
    const f = filters();
    const pass = new Uint8Array(data.nodes.length);
    data.nodes.forEach((n, i) => {
      pass[i] = f.kinds.has(n.kind) && (!f.ns || n.namespace === f.ns) ? 1 : 0;
    });
    const focus = resolveFocus(f.focus);
    state.focus = focus >= 0 ? data.nodes[focus].ref : null;
    if (focus >= 0) {
      pass[focus] = 1;
      const adj: number[][] = data.nodes.map(() => []);
      data.edges.forEach((e) => {
        if (pass[e.source] && pass[e.target]) {
          adj[e.source].push(e.target);
          adj[e.target].push(e.source);
        }
      });
      const depthOf = new Map<number, number>([[focus, 0]]);
      const queue = [focus];
      while (queue.length) {
        const cur = queue.shift() as number;
        const d = depthOf.get(cur) as number;
        if (d >= f.depth) continue;
        for (const next of adj[cur]) {
          if (!depthOf.has(next)) {
            depthOf.set(next, d + 1);
            queue.push(next);
          }
        }
      }
      pass.fill(0);
      depthOf.forEach((_, i) => (pass[i] = 1));
    }
    visible = [];
    pass.forEach((p, i) => p && visible.push(i));
    visibleEdges = [];
    data.edges.forEach((e, i) => pass[e.source] && pass[e.target] && e.source !== e.target && visibleEdges.push(i));
  }

  function rebuild(): void {
    computeVisible();
    const local = new Map<number, number>();
    visible.forEach((ni, i) => local.set(ni, i));
    const nodes: SceneNode[] = visible.map((ni) => ({ ref: data.nodes[ni].ref, kind: data.nodes[ni].kind, colour: kindColour(data.nodes[ni].kind) }));
    const links = new Int32Array(visibleEdges.length * 2);
    visibleEdges.forEach((ei, k) => {
      links[2 * k] = local.get(data.edges[ei].source) as number;
      links[2 * k + 1] = local.get(data.edges[ei].target) as number;
    });
    const n = nodes.length;
    const radius = 12 * Math.cbrt(Math.max(n, 1)) + 20;
    const positions = new Float32Array(n * 3);
    let known = 0;
    nodes.forEach((node, i) => {
      const p = positionsByRef.get(node.ref);
      if (p) {
        positions.set(p, 3 * i);
        known++;
      } else {
        // A point in a ball, spread by a golden-angle spiral: deterministic and even.
        const t = (i + 0.5) / n;
        const phi = Math.acos(1 - 2 * t);
        const theta = Math.PI * (1 + Math.sqrt(5)) * i;
        const r = radius * Math.cbrt((i * 0.618034) % 1 || 0.5);
        positions[3 * i] = r * Math.sin(phi) * Math.cos(theta);
        positions[3 * i + 1] = r * Math.sin(phi) * Math.sin(theta);
        positions[3 * i + 2] = r * Math.cos(phi);
      }
    });
    currentPositions = positions;
    scene.setGraph(nodes, links, positions);
    state.nodes = n;
    state.edges = visibleEdges.length;
    state.refs = nodes.map((x) => x.ref);
    state.layoutDone = false;
    generation += 1;
    worker.postMessage({ type: "start", generation, positions: positions.slice(), links, maxTicks: known === n && n > 0 ? 60 : 400 });
    const f = state.focus;
    if (f) scene.select(nodes.findIndex((x) => x.ref === f));
    applyHighlight();
    const kinds = new Map<string, number>();
    nodes.forEach((x) => kinds.set(x.kind, (kinds.get(x.kind) ?? 0) + 1));
    replace(
      stats,
      `${n} of ${data.nodes.length} entries and ${visibleEdges.length} of ${data.edges.length} relations shown` +
        (data.truncated ? " (the server capped the graph: narrow it with filters)" : "") +
        (state.focus ? `, around ${state.focus} to depth ${filters().depth}` : "") +
        (kinds.size ? `: ${[...kinds].map(([k, c]) => `${c} ${k}`).join(", ")}.` : "."),
    );
    replace(
      listBox,
      nodes.slice(0, 300).map((x) => {
        const ref = parseRef(x.ref);
        return h("li", {}, ref ? h("a", { href: entryPath(ref) }, x.ref) : x.ref);
      }),
      n > 300 ? h("li", { class: "muted" }, `… and ${n - 300} more (focus or filter to list them)`) : null,
    );
  }

  function applyHighlight(): void {
    if (!impactRoot) {
      scene.highlight(new Set(), []);
      state.highlighted = [];
      return;
    }
    const local = new Map<string, number>();
    visible.forEach((ni, i) => local.set(data.nodes[ni].ref, i));
    const edgeIndex = new Map<string, number>();
    visibleEdges.forEach((ei, k) => {
      const e = data.edges[ei];
      const a = data.nodes[e.source].ref;
      const b = data.nodes[e.target].ref;
      edgeIndex.set(`${a}|${b}`, k);
      edgeIndex.set(`${b}|${a}`, k);
    });
    const nodes = new Set<number>();
    const edges = new Set<number>();
    const rootIdx = local.get(impactRoot);
    if (rootIdx !== undefined) nodes.add(rootIdx);
    for (const hit of impactHits) {
      const i = local.get(hit.ref);
      if (i !== undefined) nodes.add(i);
      let prev = impactRoot;
      for (const hop of hit.path) {
        const k = edgeIndex.get(`${prev}|${hop.ref}`);
        if (k !== undefined) edges.add(k);
        prev = hop.ref;
      }
    }
    state.highlighted = [...nodes].map((i) => visible[i] !== undefined ? data.nodes[visible[i]].ref : "").filter(Boolean);
    scene.highlight(nodes, [...edges]);
  }

  async function loadImpact(text: string): Promise<void> {
    impactHits = [];
    impactRoot = null;
    if (!text) return;
    const ref = parseRef(text);
    const res = ref
      ? await get<{ root: string; affected: GraphHit[] }>(graphApiPath(ref, "impact"))
      : await vulnerabilityImpact(text);
    if (!res) {
      replace(stats, notice("error", `No entry or advisory matches '${text}'.`));
      return;
    }
    impactRoot = res.root;
    impactHits = res.affected;
  }

  async function load(): Promise<void> {
    const t0 = performance.now();
    const res = await get<TopologyData>("/v1/topology");
    state.fetchMs = performance.now() - t0;
    data = res;
    state.totalNodes = res.nodes.length;
    state.totalEdges = res.edges.length;
    state.truncated = res.truncated;
    const namespaces = [...new Set(res.nodes.map((n) => n.namespace))].sort();
    const chosen = nsSelect.value || search.get("namespace") || "";
    replace(nsSelect, h("option", { value: "" }, "All namespaces"), namespaces.map((ns) => h("option", { value: ns, selected: ns === chosen }, ns)));
    replace(datalist, res.nodes.slice(0, 2000).map((n) => h("option", { value: n.ref })));
  }

  function syncUrl(): void {
    const f = filters();
    const s = new URLSearchParams();
    if (f.ns) s.set("namespace", f.ns);
    if (f.focus) {
      s.set("focus", f.focus);
      s.set("depth", String(f.depth));
    }
    if (impactInput.value.trim()) s.set("impact", impactInput.value.trim());
    setSearch(s);
  }

  async function start(): Promise<void> {
    try {
      await load();
      if (impactInput.value.trim()) await loadImpact(impactInput.value.trim());
      rebuild();
      state.ready = true;
    } catch (exc) {
      replace(stats, notice("error", describe(exc)));
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    syncUrl();
    try {
      await loadImpact(impactInput.value.trim());
    } catch (exc) {
      replace(stats, notice("error", describe(exc)));
    }
    rebuild();
  });
  for (const box of kindBoxes) box.addEventListener("change", () => rebuild());
  nsSelect.addEventListener("change", () => {
    syncUrl();
    rebuild();
  });
  form.querySelector("#topo-reset")?.addEventListener("click", () => {
    kindBoxes.forEach((b) => (b.checked = true));
    nsSelect.value = "";
    focusInput.value = "";
    impactInput.value = "";
    impactRoot = null;
    impactHits = [];
    syncUrl();
    rebuild();
  });
  form.querySelector("#topo-zoom-in")?.addEventListener("click", () => scene.zoom(0.8));
  form.querySelector("#topo-zoom-out")?.addEventListener("click", () => scene.zoom(1.25));
  form.querySelector("#topo-fit")?.addEventListener("click", () => scene.fit());

  // Pointer: hover shows the entry, a click (not a drag) opens it.
  const canvas = scene.renderer.domElement;
  let down: { x: number; y: number } | null = null;
  let lastMove = 0;
  canvas.addEventListener("pointerdown", (ev) => (down = { x: ev.clientX, y: ev.clientY }));
  canvas.addEventListener("pointerup", (ev) => {
    if (!down || Math.hypot(ev.clientX - down.x, ev.clientY - down.y) > 5) return;
    const i = scene.pick(ev.clientX, ev.clientY);
    if (i < 0) return;
    const ref = parseRef(data.nodes[visible[i]].ref);
    if (ref) navigate(entryPath(ref));
  });
  canvas.addEventListener("pointermove", (ev) => {
    const now = performance.now();
    if (now - lastMove < 50) return;
    lastMove = now;
    const i = scene.pick(ev.clientX, ev.clientY);
    scene.hover(i);
    if (i < 0) {
      tooltip.hidden = true;
      canvas.style.cursor = "";
      return;
    }
    const node = data.nodes[visible[i]];
    const rect = stage.getBoundingClientRect();
    replace(tooltip, h("strong", {}, node.title || node.name), h("br"), node.ref);
    tooltip.style.left = `${ev.clientX - rect.left + 12}px`;
    tooltip.style.top = `${ev.clientY - rect.top + 12}px`;
    tooltip.hidden = false;
    canvas.style.cursor = "pointer";
  });
  canvas.addEventListener("pointerleave", () => {
    tooltip.hidden = true;
    scene.hover(-1);
  });

  void start();

  let timer: number | undefined;
  const off = onChange((c) => {
    if (c.op === "refuse") return;
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      try {
        visible.forEach((ni, i) => positionsByRef.set(data.nodes[ni].ref, [currentPositions[3 * i], currentPositions[3 * i + 1], currentPositions[3 * i + 2]]));
        await load();
        if (impactRoot) await loadImpact(impactRoot);
        rebuild();
        state.reloads += 1;
      } catch (exc) {
        replace(stats, notice("error", describe(exc)));
      }
    }, Math.max(800, (state.fetchMs ?? 0) * 3)); // a big graph reloads less often
  });

  return () => {
    off();
    window.clearTimeout(timer);
    window.clearInterval(fpsTimer);
    worker.terminate();
    scene.dispose();
  };
};
