/**
 * Value checks and normalisation for the bulk import: field metadata from OPTIONS, coercion of
 * CSV strings, CIDR normalisation (with lib/ipam/ip.ts, as NetBox prints addresses), and comparison of input values with NetBox's read
 * shapes.
 *
 * @module
 */

import { formatIp, parseIp } from "../ipam/ip.ts";

/** One writable field as described by the endpoint's OPTIONS (`actions.POST`). */
export interface FieldMeta {
  type: string;
  required?: boolean;
  read_only?: boolean;
  label?: string;
  choices?: { value: unknown; display_name?: string }[];
  max_length?: number;
}

/**
 * Canonical `address/len` text of a CIDR (`192.168.3.5/24`, IPv6 compressed, lower-case), or
 * undefined if it is not one. `requireMask` false accepts a bare address.
 */
export function canonicalCidr(text: string, requireMask = true): string | undefined {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  let ip: string;
  try {
    ip = formatIp(parseIp(m[1]));
  } catch {
    return undefined;
  }
  if (m[2] === undefined) return requireMask ? undefined : ip;
  const len = Number(m[2]);
  if (len > (ip.includes(":") ? 128 : 32)) return undefined;
  return `${ip}/${len}`;
}

/** Fields whose values are CIDRs, by model key. */
export const CIDR_FIELDS: Record<string, string[]> = {
  "ipam.ip-addresses": ["address"],
  "ipam.prefixes": ["prefix"],
  "ipam.ip-ranges": ["start_address", "end_address"],
  "ipam.aggregates": ["prefix"],
};

/** Result of coercing one input value to a field's type. */
export type Coerced = { ok: true; value: unknown } | { ok: false; reason: string };

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Checks and coerces a scalar input value against the field's OPTIONS type. CSV gives strings:
 * `"42"` becomes 42 for integers, `"true"` true for booleans. Unknown types pass through.
 */
export function coerce(field: string, meta: FieldMeta, value: unknown): Coerced {
  if (value === null) {
    return meta.required ? { ok: false, reason: `${field} cannot be empty` } : { ok: true, value };
  }
  const t = meta.type;
  if (meta.choices && meta.choices.length && !Array.isArray(value) && t !== "multiple choice") {
    const values = meta.choices.map((c) => c.value);
    const v = typeof value === "number" && values.includes(String(value)) ? String(value) : value;
    const hit = values.find((c) => c === v || (typeof v === "string" && String(c) === v));
    if (hit === undefined) {
      const shown = values.slice(0, 12).map((c) => JSON.stringify(c)).join(", ");
      return {
        ok: false,
        reason: `invalid choice ${JSON.stringify(value)} for ${field} (one of ${shown}${
          values.length > 12 ? ", …" : ""
        })`,
      };
    }
    return { ok: true, value: hit };
  }
  switch (t) {
    case "integer": {
      const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== "number" || !Number.isInteger(n)) {
        return { ok: false, reason: `${field} must be an integer, not ${typeName(value)}` };
      }
      return { ok: true, value: n };
    }
    case "float":
    case "decimal": {
      const n = typeof value === "string" && value.trim() !== "" && !isNaN(Number(value))
        ? Number(value)
        : value;
      if (typeof n !== "number" || !Number.isFinite(n)) {
        return { ok: false, reason: `${field} must be a number, not ${typeName(value)}` };
      }
      return { ok: true, value: n };
    }
    case "boolean": {
      if (typeof value === "boolean") return { ok: true, value };
      const s = typeof value === "string" ? value.trim().toLowerCase() : "";
      if (["true", "yes", "1"].includes(s)) return { ok: true, value: true };
      if (["false", "no", "0"].includes(s)) return { ok: true, value: false };
      return { ok: false, reason: `${field} must be true or false, not ${typeName(value)}` };
    }
    case "string":
    case "slug":
    case "email":
    case "url": {
      if (typeof value === "number" || typeof value === "boolean") {
        return { ok: true, value: String(value) };
      }
      if (typeof value !== "string") {
        return { ok: false, reason: `${field} must be a string, not ${typeName(value)}` };
      }
      if (t === "slug" && !/^[-a-zA-Z0-9_]+$/.test(value)) {
        return {
          ok: false,
          reason: `invalid slug "${value}": only letters, digits, "-" and "_" are allowed`,
        };
      }
      if (meta.max_length !== undefined && value.length > meta.max_length) {
        return { ok: false, reason: `${field} is longer than ${meta.max_length} characters` };
      }
      return { ok: true, value };
    }
    default:
      return { ok: true, value };
  }
}

/** An existing object's value in comparable form: choices → value, nested object → id. */
export function readShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(readShape);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if ("value" in o && "label" in o) return o.value;
    if (typeof o.id === "number") return o.id;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = readShape(v);
    return out;
  }
  return value;
}

/** Deep equality with numeric strings equal to numbers and unordered id lists. */
export function sameValue(a: unknown, b: unknown, field = ""): boolean {
  if (a === b) return true;
  if ((a === null || a === undefined || a === "") && (b === null || b === undefined || b === "")) {
    return true;
  }
  if (typeof a === "number" || typeof b === "number") {
    return a !== null && b !== null && a !== "" && b !== "" && Number(a) === Number(b);
  }
  if (typeof a === "string" && typeof b === "string") {
    if (field === "dns_name" || field === "mac_address") return a.toLowerCase() === b.toLowerCase();
    const ca = canonicalCidr(a, false), cb = canonicalCidr(b, false);
    return ca !== undefined && ca === cb;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    const key = (v: unknown) => JSON.stringify(v);
    const sb = b.map(key).sort();
    return a.map(key).sort().every((k, i) => k === sb[i]);
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ao = a as Record<string, unknown>, bo = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    return [...keys].every((k) => sameValue(ao[k], bo[k], k));
  }
  return false;
}

/** Short text of a value for diffs: nested objects by display/name, choices by value. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "∅";
  if (Array.isArray(value)) return `[${value.map(showValue).join(", ")}]`;
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    if ("value" in o && "label" in o) return String(o.value);
    for (const k of ["display", "name", "slug", "address", "prefix"]) {
      if (typeof o[k] === "string") return o[k] as string;
    }
    if (typeof o.id === "number") return `#${o.id}`;
    return JSON.stringify(value);
  }
  return String(value);
}
