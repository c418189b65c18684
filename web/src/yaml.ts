// A small YAML emitter for showing a JSON document as block YAML (read-only display).

const PLAIN = /^[A-Za-z0-9_./@+-][A-Za-z0-9_ ./@+:,()-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;
const NUMBERISH = /^[-+]?(\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|\.\d+|\.inf|\.nan|0x[0-9a-fA-F]+|0o[0-7]+)$/;

function scalar(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const s = String(value);
  if (
    s.length > 0 &&
    PLAIN.test(s) &&
    !RESERVED.test(s) &&
    !NUMBERISH.test(s) &&
    !s.endsWith(" ") &&
    !s.includes(": ") &&
    !s.includes(" #") &&
    !/^[-?:,[\]{}#&*!|>'"%@`]/.test(s)
  ) {
    return s;
  }
  return JSON.stringify(s);
}

function key(k: string): string {
  return scalar(k);
}

function isEmpty(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function emit(value: unknown, indent: number, out: string[]): void {
  const pad = "  ".repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if ((isObject(item) || Array.isArray(item)) && !isEmpty(item)) {
        const lines: string[] = [];
        emit(item, indent + 1, lines);
        out.push(`${pad}- ${lines[0].trimStart()}`, ...lines.slice(1));
      } else {
        out.push(`${pad}- ${inline(item, indent + 1)}`);
      }
    }
    return;
  }
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if ((isObject(v) || Array.isArray(v)) && !isEmpty(v)) {
        out.push(`${pad}${key(k)}:`);
        emit(v, Array.isArray(v) ? indent : indent + 1, out);
      } else {
        out.push(`${pad}${key(k)}: ${inline(v, indent + 1)}`);
      }
    }
    return;
  }
  out.push(pad + inline(value, indent));
}

function inline(value: unknown, indent: number): string {
  if (Array.isArray(value)) return "[]";
  if (isObject(value)) return "{}";
  if (typeof value === "string" && value.includes("\n")) {
    const pad = "  ".repeat(indent);
    const chomp = value.endsWith("\n") ? "" : "-";
    const body = value.replace(/\n$/, "").split("\n").map((l) => (l ? pad + l : ""));
    return `|${chomp}\n${body.join("\n")}`;
  }
  return scalar(value);
}

export function toYaml(value: unknown): string {
  const out: string[] = [];
  emit(value, 0, out);
  return out.join("\n") + "\n";
}
