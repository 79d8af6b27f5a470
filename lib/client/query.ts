/**
 * Query helpers shared by listing, single-object reads and bulk writes: the server version test
 * and the field trimming options (`brief`, `fields`, `omit`, `excludeConfigContext`).
 *
 * @module
 */

import type { GetOptions, NetBoxStatus } from "./types.ts";

/** Whether the server's version is at least `major.minor.patch`. */
export function versionAtLeast(
  status: NetBoxStatus,
  major: number,
  minor: number,
  patch = 0,
): boolean {
  return status.major !== major
    ? status.major > major
    : status.minor !== minor
    ? status.minor > minor
    : status.patch >= patch;
}

/**
 * The query parameters of the field trimming options (`brief`, `fields`, `omit`,
 * `excludeConfigContext`). `omit` is sent only to NetBox >= 4.5.2; before that it is emulated
 * by {@linkcode omitter}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { trimmingQuery } from "./query.ts";
 * const status = { version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} };
 * const q = trimmingQuery({ fields: ["id", "name"], excludeConfigContext: true }, status);
 * assert(q.toString() === "fields=id%2Cname&exclude=config_context");
 * ```
 */
export function trimmingQuery(options: GetOptions, status: NetBoxStatus): URLSearchParams {
  const q = new URLSearchParams();
  if (options.brief) q.set("brief", "true");
  if (options.fields?.length) q.set("fields", options.fields.join(","));
  if (options.omit?.length && versionAtLeast(status, 4, 5, 2)) {
    q.set("omit", options.omit.join(","));
  }
  if (options.excludeConfigContext) q.set("exclude", "config_context");
  return q;
}

/**
 * Removes `omit`ted fields client-side on NetBox < 4.5.2 (which does not know `omit`); the
 * identity function otherwise.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { omitter } from "./query.ts";
 * const old = { version: "4.4.1", major: 4, minor: 4, patch: 1, raw: {} };
 * const strip = omitter<Record<string, unknown>>({ omit: ["comments"] }, old);
 * assert(!("comments" in strip({ id: 1, comments: "x" })));
 * ```
 */
export function omitter<T>(options: GetOptions, status: NetBoxStatus): (item: T) => T {
  const omit = options.omit ?? [];
  if (!omit.length || versionAtLeast(status, 4, 5, 2) || options.fields?.length) {
    return (item) => item;
  }
  return (item) => {
    const copy = { ...item } as Record<string, unknown>;
    for (const key of omit) delete copy[key];
    return copy as T;
  };
}
