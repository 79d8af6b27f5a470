/**
 * Entity tags for optimistic concurrency. NetBox (4.6 and newer) answers a single-object GET with
 * a weak ETag made from the object's `last_updated` and refuses a PATCH/PUT/DELETE whose
 * `If-Match` no longer matches with 412; before 4.6 the client compares `last_updated` itself.
 *
 * @module
 */

const SEEN = new WeakMap<object, string>();

/**
 * Remembers the ETag NetBox sent with an object (done by `get()`).
 *
 * @param object the object as returned to the caller
 * @param etag the `ETag` response header
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { etagOf, rememberEtag } from "./etag.ts";
 * const site = { id: 1 };
 * rememberEtag(site, 'W/"2026-12-02T02:48:28.561882+00:00"');
 * assert(etagOf(site) === 'W/"2026-12-02T02:48:28.561882+00:00"');
 * ```
 */
export function rememberEtag(object: object, etag: string): void {
  SEEN.set(object, etag);
}

/**
 * The ETag of an object as read: the one NetBox sent with `get()`, else the one NetBox would send,
 * computed from `last_updated` (objects from `list()`), else undefined.
 *
 * @param object an object read from NetBox
 * @returns the weak ETag (`W/"<last_updated in UTC>"`), or undefined
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { etagOf } from "./etag.ts";
 * assert(etagOf({ id: 1, last_updated: "2026-12-02T03:48:28.561882+01:00" }) ===
 *   'W/"2026-12-02T02:48:28.561882+00:00"');
 * assert(etagOf({ id: 1 }) === undefined);
 * ```
 */
export function etagOf(object: object): string | undefined {
  const seen = SEEN.get(object);
  if (seen) return seen;
  const stamp = (object as { last_updated?: unknown }).last_updated;
  return typeof stamp === "string" ? etagFromTimestamp(stamp) : undefined;
}

/**
 * NetBox's ETag for a `last_updated` value as its API prints it: the same instant in UTC, as
 * Python's `isoformat()` writes it (microseconds only when not zero), weak.
 *
 * @param stamp e.g. `2026-12-02T02:48:28.561882Z`
 * @returns e.g. `W/"2026-12-02T02:48:28.561882+00:00"`, or undefined for an unparseable stamp
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { etagFromTimestamp } from "./etag.ts";
 * assert(etagFromTimestamp("2026-12-02T02:48:28.561882Z") === 'W/"2026-12-02T02:48:28.561882+00:00"');
 * assert(etagFromTimestamp("2026-01-01T00:30:00-01:00") === 'W/"2026-01-01T01:30:00+00:00"');
 * ```
 */
export function etagFromTimestamp(stamp: string): string | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)$/.exec(
    stamp,
  );
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", zone] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (zone !== "Z") {
    const sign = zone[0] === "+" ? 1 : -1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  const micro = frac.padEnd(6, "0");
  const base = new Date(ms).toISOString().slice(0, 19);
  return `W/"${base}${/^0+$/.test(micro) ? "" : `.${micro}`}+00:00"`;
}
