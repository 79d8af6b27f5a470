/**
 * Field diffs between an object as NetBox reads it and the values a write would send. NetBox
 * reads back other shapes than it takes: a reference is written as an id or a dict of
 * attributes and read as a brief object, a choice is written as its value and read as
 * `{value, label}`, tags are written as ids or dicts and read as objects. A field counts as
 * unchanged when the value sent would leave it as it is, so a repeated update sends nothing.
 *
 * @module
 */

/** One field a write changes. */
export interface FieldChange {
  /** The field's name. */
  field: string;
  /** Its value as NetBox holds it (`undefined` for a field the object does not show). */
  before: unknown;
  /** The value the write sends. */
  after: unknown;
}

const isDict = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Whether writing `wanted` would leave a field holding `current` as it is.
 *
 * @param current the field as NetBox reads it
 * @param wanted the value a write would send
 * @returns `true` when the write would change nothing
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { sameValue } from "./diff.ts";
 * assert(sameValue({ value: "active", label: "Active" }, "active"));
 * assert(sameValue({ id: 3, name: "matrix", slug: "matrix" }, { slug: "matrix" }));
 * assert(sameValue({ id: 3, name: "matrix" }, 3));
 * assert(sameValue([{ id: 1, name: "a" }, { id: 2, name: "b" }], [{ name: "b" }, 1]));
 * assert(!sameValue({ value: "active" }, "offline"));
 * ```
 */
export function sameValue(current: unknown, wanted: unknown): boolean {
  if (current === wanted) return true;
  if (current === undefined || current === null || wanted === undefined || wanted === null) {
    return (current ?? null) === (wanted ?? null) || (current === "" && wanted === null);
  }
  if (Array.isArray(current) && Array.isArray(wanted)) {
    if (current.length !== wanted.length) return false;
    const left = [...current];
    return wanted.every((w) => {
      const at = left.findIndex((c) => sameValue(c, w));
      if (at < 0) return false;
      left.splice(at, 1);
      return true;
    });
  }
  if (isDict(current)) {
    if (isDict(wanted)) {
      return Object.entries(wanted).every(([k, v]) => sameValue(current[k], v));
    }
    if ("value" in current && !("id" in current)) return sameValue(current.value, wanted);
    if (typeof wanted === "number") return current.id === wanted;
    return false;
  }
  if (typeof current === "number" && typeof wanted === "string") return String(current) === wanted;
  if (typeof current === "string" && typeof wanted === "number") return current === String(wanted);
  return false;
}

/**
 * The fields of `patch` that would change `object` (in `patch`'s order); `id` is never one.
 *
 * @param object the object as NetBox reads it
 * @param patch the fields a write would send
 * @returns the changes; empty when the write would change nothing
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { fieldChanges } from "./diff.ts";
 * const device = { id: 12, status: { value: "active", label: "Active" }, name: "docker-01" };
 * deepEqual(fieldChanges(device, { id: 12, status: "offline", name: "docker-01" }), [
 *   { field: "status", before: "active", after: "offline" },
 * ]);
 * ```
 */
export function fieldChanges(
  object: Record<string, unknown>,
  patch: Record<string, unknown>,
): FieldChange[] {
  return Object.entries(patch)
    .filter(([field, after]) => field !== "id" && !sameValue(object[field], after))
    .map(([field, after]) => ({ field, before: plain(object[field]), after }));
}

/** A read value as people write it: a choice's value, a reference's name or display. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (!isDict(value)) return value;
  if ("value" in value && !("id" in value)) return value.value;
  return value.name ?? value.display ?? value.address ?? value.prefix ?? value.id ?? value;
}
