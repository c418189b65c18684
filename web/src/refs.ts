// References `kind:namespace/name@version` and the UI paths that show them.

export interface Ref {
  kind: string;
  namespace: string;
  name: string;
  version?: string;
}

const REF = /^([a-z0-9][a-z0-9-]*):([a-z0-9][a-z0-9._-]*)\/([a-z0-9][a-z0-9._-]*)(?:@(.+))?$/;

export function parseRef(text: string): Ref | null {
  const m = REF.exec(text.trim());
  if (!m) return null;
  return { kind: m[1], namespace: m[2], name: m[3], version: m[4] || undefined };
}

export function refText(ref: Ref): string {
  return `${ref.kind}:${ref.namespace}/${ref.name}${ref.version ? `@${ref.version}` : ""}`;
}

const enc = encodeURIComponent;

/** The API path of an entry (latest, or one version / alias). */
export function entryApiPath(ref: Ref): string {
  const base = `/v1/entries/${enc(ref.kind)}/${enc(ref.namespace)}/${enc(ref.name)}`;
  return ref.version ? `${base}/versions/${enc(ref.version)}` : base;
}

export function graphApiPath(ref: Ref, mode: "dependencies" | "dependents" | "impact"): string {
  const base = `/v1/graph/${enc(ref.kind)}/${enc(ref.namespace)}/${enc(ref.name)}`;
  return ref.version ? `${base}/versions/${enc(ref.version)}/${mode}` : `${base}/${mode}`;
}

/** The UI path of an entry page. */
export function entryPath(ref: Ref): string {
  const base = `/entries/${enc(ref.kind)}/${enc(ref.namespace)}/${enc(ref.name)}`;
  return ref.version ? `${base}/${enc(ref.version)}` : base;
}

export const KIND_COLOURS: Record<string, string> = {
  service: "#4e9cff",
  model: "#c77dff",
  dataset: "#2ec4b6",
  plugin: "#ffb703",
  infra: "#8ac926",
  security: "#ff5d73",
};

export function kindColour(kind: string): string {
  return KIND_COLOURS[kind] ?? "#b0b7c3";
}
