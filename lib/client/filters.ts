/**
 * The one filter serialiser: turns a {@linkcode Filters} object into the query string NetBox
 * expects.
 *
 * @module
 */

import type { Filters, FilterValue } from "./types.ts";

type Scalar = Exclude<FilterValue, undefined | ReadonlyArray<unknown>>;

/**
 * Serialises filters into URL search parameters, NetBox style.
 *
 * - arrays become repeated keys (`status=active&status=reserved`, OR in NetBox); an empty array
 *   adds nothing
 * - `null` becomes `"null"` (IS NULL on foreign keys, e.g. `vrf_id=null` = global table)
 * - booleans become `"true"` / `"false"`
 * - a `Date` at exactly midnight UTC becomes the date only (`2024-05-01`), which both NetBox date
 *   and date-time filters accept; any other `Date` becomes its full ISO string
 *   (`2024-05-01T10:30:00.000Z`)
 * - numbers become their decimal string; non-finite numbers throw `TypeError`
 * - `undefined` values (and `undefined` itself) are dropped, so optional filters can be passed
 *   straight through
 *
 * Keys keep their insertion order.
 *
 * @param filters The filters, e.g. `{ site: "matrix", status: ["active", "reserved"] }`.
 * @returns The search parameters.
 * @throws {TypeError} When a value is a non-finite number, an invalid `Date` or another type.
 *
 * @example Serialising filters
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { serializeFilters } from "./filters.ts";
 * const params = serializeFilters({
 *   status: ["active", "reserved"],
 *   vrf_id: null,
 *   is_pool: false,
 *   created__gte: new Date("2024-05-01T00:00:00Z"),
 *   tenant: undefined,
 * });
 * assert(
 *   params.toString() ===
 *     "status=active&status=reserved&vrf_id=null&is_pool=false&created__gte=2024-05-01",
 * );
 * ```
 */
export function serializeFilters(filters: Filters = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    const values: readonly Scalar[] = Array.isArray(value) ? value : [value as Scalar];
    for (const v of values) {
      if (v === undefined) continue;
      params.append(key, serializeValue(key, v));
    }
  }
  return params;
}

function serializeValue(key: string, value: Scalar): string {
  if (value === null) return "null";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new TypeError(`Cannot serialise filter "${key}": ${value} is not a finite number`);
    }
    return String(value);
  }
  if (value instanceof Date) return serializeDate(key, value);
  throw new TypeError(`Cannot serialise filter "${key}": unsupported value type ${typeof value}`);
}

function serializeDate(key: string, date: Date): string {
  if (Number.isNaN(date.getTime())) {
    throw new TypeError(`Cannot serialise filter "${key}": invalid Date`);
  }
  const iso = date.toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso;
}
