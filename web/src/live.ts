// Follows GET /v1/changes/stream (Server-Sent Events) with fetch, so the token travels in
// the Authorization header (EventSource cannot send headers, and a token never goes in a URL).
import { get, type ChangeRecord } from "./api";
import { getToken } from "./auth";

type Listener = (change: ChangeRecord) => void;
type StateListener = (state: LiveState) => void;
export type LiveState = "connecting" | "live" | "offline";

const listeners = new Set<Listener>();
const stateListeners = new Set<StateListener>();
let controller: AbortController | null = null;
let lastSeq = 0;
let state: LiveState = "offline";
let received = 0;

export function onChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function onLiveState(fn: StateListener): () => void {
  stateListeners.add(fn);
  fn(state);
  return () => stateListeners.delete(fn);
}

export function liveStats(): { state: LiveState; lastSeq: number; received: number } {
  return { state, lastSeq, received };
}

function setState(next: LiveState): void {
  state = next;
  stateListeners.forEach((fn) => fn(next));
}

export async function startLive(): Promise<void> {
  stopLive();
  const ctrl = new AbortController();
  controller = ctrl;
  try {
    const head = await get<{ seq: number }>("/v1/topology/seq");
    lastSeq = head.seq;
  } catch {
    lastSeq = 0;
  }
  void loop(ctrl);
}

export function stopLive(): void {
  controller?.abort();
  controller = null;
  setState("offline");
}

async function loop(ctrl: AbortController): Promise<void> {
  let backoff = 1000;
  while (!ctrl.signal.aborted) {
    const token = getToken();
    if (!token) break;
    setState("connecting");
    try {
      const res = await fetch(`/v1/changes/stream?since=${lastSeq}`, {
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "text/event-stream",
          "Last-Event-ID": String(lastSeq),
        },
        signal: ctrl.signal,
        cache: "no-store",
        credentials: "omit",
      });
      if (res.status === 401) break;
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      setState("live");
      backoff = 1000;
      await readEvents(res.body, ctrl.signal);
    } catch (exc) {
      if (ctrl.signal.aborted) break;
      void exc;
    }
    if (ctrl.signal.aborted) break;
    setState("connecting");
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 15000);
  }
  if (controller === ctrl) setState("offline");
}

async function readEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  signal.addEventListener("abort", () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      dispatch(block);
    }
  }
}

function dispatch(block: string): void {
  let event = "message";
  let id: string | null = null;
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const key = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (key === "event") event = value;
    else if (key === "data") data.push(value);
    else if (key === "id") id = value;
  }
  if (event !== "change" || data.length === 0) return;
  try {
    const change = JSON.parse(data.join("\n")) as ChangeRecord;
    lastSeq = Math.max(lastSeq, id ? Number(id) : change.seq);
    received += 1;
    listeners.forEach((fn) => fn(change));
  } catch {
    /* a malformed event is skipped */
  }
}
