import "./style.css";
import { onUnauthenticated } from "./api";
import { clearToken, getToken } from "./auth";
import { h, replace } from "./dom";
import { onChange, onLiveState, startLive, stopLive } from "./live";
import { navigate, render, route, setFallback, setGuard, startRouter } from "./router";
import { catalogView } from "./views/catalog";
import { dashboardsView } from "./views/dashboards";
import { entryView } from "./views/entry";
import { impactView } from "./views/impact";
import { loginView } from "./views/login";

const app = document.getElementById("app") as HTMLElement;

const NAV: [string, string][] = [
  ["/catalog", "Catalog"],
  ["/impact", "Impact"],
  ["/dashboards", "Dashboards"],
  ["/topology", "Topology"],
];

const liveBadge = h("span", { class: "live", id: "live-state", "aria-live": "polite" }, "offline");
const liveLog = h("p", { class: "sr-only", id: "live-log", "aria-live": "polite" });
const nav = h(
  "nav",
  { "aria-label": "Main" },
  h("ul", {}, NAV.map(([href, label]) => h("li", {}, h("a", { href }, label)))),
);
const logout = h(
  "button",
  {
    type: "button",
    class: "secondary",
    onclick: () => {
      clearToken();
      stopLive();
      navigate("/login");
    },
  },
  "Sign out",
);
const header = h(
  "header",
  { class: "top" },
  h("a", { class: "brand", href: "/catalog" }, "Hyper Registry"),
  nav,
  h("div", { class: "top-right" }, liveBadge, logout),
);
const main = h("main", { id: "main", tabindex: "-1" });
app.append(header, main, liveLog);

function markCurrent(): void {
  for (const a of nav.querySelectorAll("a")) {
    const current = location.pathname.startsWith(a.getAttribute("href") ?? "");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

onLiveState((state) => {
  liveBadge.textContent = state === "live" ? "● live" : state === "connecting" ? "○ connecting" : "offline";
  liveBadge.dataset.state = state;
  liveBadge.title =
    state === "live" ? "Following the change log: changes appear without a reload" : "Not following changes";
});

let announced = 0;
onChange((change) => {
  announced += 1;
  replace(liveLog, `Change ${announced}: ${change.op} ${change.ref}`);
});

onUnauthenticated(() => {
  stopLive();
  if (location.pathname !== "/login") {
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, true);
  }
});

setGuard((path) => {
  const authed = getToken() !== null;
  header.hidden = !authed;
  if (!authed && path !== "/login") {
    const next = path === "/" ? "" : `?next=${encodeURIComponent(path + location.search)}`;
    navigate(`/login${next}`, true);
    return false;
  }
  if (authed && (path === "/" || path === "/login")) {
    navigate("/catalog", true);
    return false;
  }
  markCurrent();
  return true;
});

route("/login", loginView(() => void startLive()));
route("/catalog", catalogView);
route("/entries/:kind/:namespace/:name/:version?", entryView);
route("/impact", impactView);
route("/dashboards", dashboardsView);
route("/topology", async (root, params, search) => {
  const { topologyView } = await import("./views/topology");
  return topologyView(root, params, search);
});
setFallback((root) => {
  replace(
    root,
    h("h1", {}, "Page not found"),
    h("p", {}, "There is no page here. ", h("a", { href: "/catalog" }, "Go to the catalog"), "."),
  );
});

if (getToken()) void startLive();
startRouter(main);
window.addEventListener("hyper-registry:rerender", () => void render(false));
