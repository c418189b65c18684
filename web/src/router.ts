// History-API routing: the server answers every UI path with index.html (SPA fallback).

export type Cleanup = (() => void) | void;
export type View = (root: HTMLElement, params: Record<string, string>, search: URLSearchParams) =>
  Cleanup | Promise<Cleanup>;

interface Route {
  pattern: RegExp;
  keys: string[];
  view: View;
}

const routes: Route[] = [];
let cleanup: Cleanup = undefined;
let renderRoot: HTMLElement | null = null;
let fallback: View | null = null;
let beforeRender: ((path: string) => boolean) | null = null;

export function route(path: string, view: View): void {
  const keys: string[] = [];
  const source = path
    .split("/")
    .map((part) => {
      if (part.startsWith(":")) {
        const optional = part.endsWith("?");
        keys.push(part.slice(1).replace("?", ""));
        return optional ? "(?:/([^/]+))?" : "/([^/]+)";
      }
      return part ? `/${part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}` : "";
    })
    .join("");
  routes.push({ pattern: new RegExp(`^${source || "/"}/?$`), keys, view });
}

export function setFallback(view: View): void {
  fallback = view;
}

/** A guard run before each render; answering false stops the render (it navigated elsewhere). */
export function setGuard(fn: (path: string) => boolean): void {
  beforeRender = fn;
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  void render();
}

/** Updates the query string without re-rendering (filters remember their state in the URL). */
export function setSearch(search: URLSearchParams): void {
  const qs = search.toString();
  history.replaceState(null, "", `${location.pathname}${qs ? `?${qs}` : ""}`);
}

export async function render(focus = true): Promise<void> {
  if (!renderRoot) return;
  const path = location.pathname;
  if (beforeRender && !beforeRender(path)) return;
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;
  const root = renderRoot;
  root.replaceChildren();
  const search = new URLSearchParams(location.search);
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => {
      if (m[i + 1] !== undefined) params[k] = decodeURIComponent(m[i + 1]);
    });
    cleanup = await r.view(root, params, search);
    if (focus) focusHeading(root);
    return;
  }
  if (fallback) cleanup = await fallback(root, {}, search);
  if (focus) focusHeading(root);
}

function focusHeading(root: HTMLElement): void {
  const heading = root.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
    document.title = `${heading.textContent ?? ""} · Hyper Registry`;
  }
}

export function startRouter(root: HTMLElement): void {
  renderRoot = root;
  window.addEventListener("popstate", () => void render());
  document.addEventListener("click", (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey)
      return;
    const a = (ev.target as Element | null)?.closest?.("a");
    if (!a || a.target || a.hasAttribute("download")) return;
    const href = a.getAttribute("href");
    if (!href || !href.startsWith("/") || href.startsWith("//") || href.startsWith("/v1/")) return;
    if (href.startsWith("/docs") || href.startsWith("/openapi.json")) return;
    ev.preventDefault();
    navigate(href);
  });
  void render();
}
