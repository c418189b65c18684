// The HTTP client: every call sends the session's token as a Bearer header.
import { clearToken, getToken } from "./auth";

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public code?: string,
  ) {
    super(message);
  }
}

type Listener = () => void;
const unauthenticatedListeners: Listener[] = [];

/** Called when the server says the token is no longer valid (401). */
export function onUnauthenticated(fn: Listener): void {
  unauthenticatedListeners.push(fn);
}

export type Params = Record<string, string | number | boolean | (string | number)[] | undefined | null>;

export function query(params: Params): string {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => qs.append(key, String(v)));
    else qs.append(key, String(value));
  }
  const text = qs.toString();
  return text ? `?${text}` : "";
}

export async function request<T>(
  method: string,
  path: string,
  options: { params?: Params; body?: unknown; token?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const token = options.token ?? getToken();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(path + query(options.params ?? {}), {
      method,
      headers,
      body,
      signal: options.signal,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (exc) {
    if ((exc as Error).name === "AbortError") throw exc;
    throw new ApiError(0, "the server cannot be reached");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const problem = (data ?? {}) as { detail?: string; title?: string; code?: string };
    if (res.status === 401 && !options.token) {
      clearToken();
      unauthenticatedListeners.forEach((fn) => fn());
    }
    throw new ApiError(
      res.status,
      problem.detail || problem.title || `${res.status} ${res.statusText}`,
      problem.code,
    );
  }
  return data as T;
}

export const get = <T>(path: string, params?: Params, signal?: AbortSignal): Promise<T> =>
  request<T>("GET", path, { params, signal });

/** GET that answers null on 404 (a domain route that is not installed, or a missing entry). */
export async function getOptional<T>(path: string, params?: Params): Promise<T | null> {
  try {
    return await get<T>(path, params);
  } catch (exc) {
    if (exc instanceof ApiError && (exc.status === 404 || exc.status === 405)) return null;
    throw exc;
  }
}

// Shapes of the API's answers (docs/api.md).
export interface Entry {
  apiVersion: string;
  kind: string;
  metadata: {
    namespace: string;
    name: string;
    version: string;
    title?: string;
    description?: string;
    owner?: string;
    labels?: Record<string, string>;
    tags?: string[];
    uid?: string;
    revision?: number;
    createdAt?: string;
    updatedAt?: string;
    contentHash?: string;
  };
  spec: Record<string, unknown>;
  relations?: { type: string; target: string }[];
  status?: Record<string, unknown>;
}

export interface EntryPage {
  items: Entry[];
  nextCursor: string | null;
}

export interface RelationView {
  type: string;
  target: string;
  resolved: string | null;
  origin: string;
  direction: "outgoing" | "incoming";
}

export interface Hop {
  relation: string;
  ref: string;
}

export interface GraphHit {
  ref: string;
  depth: number;
  path: Hop[];
}

export interface ChangeRecord {
  seq: number;
  at: string;
  actor: string;
  op: string;
  ref: string;
  kind: string;
  namespace: string;
  uid: string | null;
  revision: number | null;
  detail?: Record<string, unknown>;
}
