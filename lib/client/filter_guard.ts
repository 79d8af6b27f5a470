/**
 * The unknown-filter guard. NetBox silently ignores filter names it does not know and returns the
 * whole table, so a typo like `{ stie: "x" }` would match everything. Before a list request the
 * guard checks every filter name against that list operation's query parameters in the server's
 * OpenAPI schema and throws {@linkcode FilterError} with the closest valid names.
 *
 * The names come from `filter_index.json` (generated from real NetBox servers by
 * `scripts/gen_filter_index.ts`, one entry per minor version) so no schema is fetched for known
 * versions; for other versions the live schema (`/api/schema/?format=json`, large and slow) is
 * fetched once per client and cached. Paths the schema does not know (plugins on an indexed
 * version) are not checked. Turn the guard off with `strictFilters: false`.
 *
 * @module
 */

import { decodeNames, type EncodedNames, extractListFilters } from "./filter_names.ts";
import { FilterError } from "./errors.ts";
import index from "./filter_index.json" with { type: "json" };
import type { Filters, Transport } from "./types.ts";

/** Query parameters that are not filters and are always accepted. */
export const NON_FILTER_PARAMS: ReadonlySet<string> = new Set([
  "limit",
  "offset",
  "start",
  "brief",
  "fields",
  "omit",
  "exclude",
  "ordering",
  "q",
  "format",
  "export",
  "filter",
  "filter_id",
]);

type NameSets = Map<string, ReadonlySet<string>>;

const indexed = new Map<string, NameSets | undefined>();
const live = new WeakMap<Transport, Promise<NameSets | undefined>>();

function toSets(names: Record<string, string[]>): NameSets {
  return new Map(Object.entries(names).map(([path, list]) => [path, new Set(list)]));
}

/** The decoded index for `"major.minor"`, or `undefined` when the index lacks that version. */
function fromIndex(version: string): NameSets | undefined {
  if (!indexed.has(version)) {
    const encoded = (index as Record<string, EncodedNames>)[version];
    indexed.set(version, encoded ? toSets(decodeNames(encoded)) : undefined);
  }
  return indexed.get(version);
}

function fromSchema(transport: Transport, signal?: AbortSignal): Promise<NameSets | undefined> {
  let names = live.get(transport);
  if (!names) {
    names = transport.request("GET", "schema/", {
      query: { format: "json" },
      action: "fetch the OpenAPI schema to check filter names",
      signal,
    }).then((schema) => toSets(extractListFilters(schema))).catch((err) => {
      live.delete(transport);
      transport.warn(
        `Cannot check filter names: ${(err as Error).message}; filters are sent unchecked`,
      );
      return undefined;
    });
    live.set(transport, names);
  }
  return names;
}

/** Normalises a list path: no leading `/` or `api/`, a trailing slash. */
function normalise(path: string): string {
  let p = path.replace(/^\/+/, "").replace(/^api\//, "");
  p = p.split("?")[0];
  return p.endsWith("/") ? p : `${p}/`;
}

/**
 * The valid filter names of a list operation, or `undefined` when they are unknown (plugin
 * path, schema unavailable). Uses the bundled index for known NetBox versions and the live
 * schema (fetched once per client) for the others.
 *
 * @param transport The client's transport (for the version and the schema).
 * @param path The list path, e.g. `"ipam/prefixes/"`.
 * @returns The names, or `undefined`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { validFilterNames } from "./filter_guard.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: () => Promise.resolve({ paths: { "/api/dcim/sites/": { get: { operationId: "dcim_sites_list", parameters: [{ in: "query", name: "slug" }] } } } }),
 *   warn() {},
 * } as unknown as Transport;
 * const names = await validFilterNames(transport, "dcim/sites/");
 * assert(names?.has("slug"));
 * ```
 */
export async function validFilterNames(
  transport: Transport,
  path: string,
  signal?: AbortSignal,
): Promise<ReadonlySet<string> | undefined> {
  const status = await transport.status();
  const sets = fromIndex(`${status.major}.${status.minor}`) ??
    await fromSchema(transport, signal);
  return sets?.get(normalise(path));
}

/**
 * Throws {@linkcode FilterError} when a filter name is not a query parameter of the list
 * operation at `path`. `cf_*` names and the non-filter parameters ({@linkcode NON_FILTER_PARAMS})
 * always pass; `undefined` values are ignored (they are never sent). Does nothing when
 * `transport.strictFilters` is false or the path's names are unknown.
 *
 * @param transport The client's transport.
 * @param path The list path, e.g. `"ipam/prefixes/"`.
 * @param filters The filters about to be sent.
 * @param signal Aborts a schema fetch.
 * @throws {FilterError} Naming the unknown filter and the closest valid names.
 *
 * @example Catching a typo
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { checkFilters } from "./filter_guard.ts";
 * import { FilterError } from "./errors.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   strictFilters: true,
 *   status: () => Promise.resolve({ version: "9.9.0", major: 9, minor: 9, patch: 0, raw: {} }),
 *   request: () => Promise.resolve({ paths: { "/api/dcim/sites/": { get: { operationId: "dcim_sites_list", parameters: [{ in: "query", name: "slug" }] } } } }),
 *   warn() {},
 * } as unknown as Transport;
 * try {
 *   await checkFilters(transport, "dcim/sites/", { slgu: "x" });
 * } catch (err) {
 *   assert(err instanceof FilterError && err.suggestions[0] === "slug");
 * }
 * ```
 */
export async function checkFilters(
  transport: Transport,
  path: string,
  filters: Filters,
  signal?: AbortSignal,
): Promise<void> {
  if (!transport.strictFilters) return;
  const names = Object.keys(filters).filter((k) =>
    filters[k] !== undefined && !NON_FILTER_PARAMS.has(k) && !k.startsWith("cf_")
  );
  if (names.length === 0) return;
  const valid = await validFilterNames(transport, path, signal);
  if (!valid) return;
  for (const name of names) {
    if (valid.has(name)) continue;
    const known = knownMistake(name, valid);
    const suggestions = [
      ...new Set([...(known ? [known.name] : []), ...closestNames(name, valid)]),
    ].slice(0, 3);
    const hint = known
      ? `; ${known.hint}`
      : suggestions.length
      ? `; closest valid names: ${suggestions.join(", ")}`
      : "";
    throw new FilterError(
      `Cannot list ${normalise(path)}: unknown filter "${name}" (NetBox would ignore it and ` +
        `return every object)${hint}; set strictFilters: false to skip this check`,
      name,
      suggestions,
    );
  }
}

/**
 * The filters people carry over from other tools and guides that NetBox silently ignores, with
 * what works instead: `X__isnull` (NetBox has no such lookup; IS NULL is `X_id: null`) and
 * `prefix_length*` on prefixes and IP addresses (the filter is `mask_length*`).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { knownMistake } from "./filter_guard.ts";
 * const valid = new Set(["tenant", "tenant_id", "mask_length", "mask_length__gte"]);
 * equal(knownMistake("tenant__isnull", valid)?.name, "tenant_id");
 * equal(knownMistake("prefix_length__gte", valid)?.name, "mask_length__gte");
 * equal(knownMistake("stie", valid), undefined);
 * ```
 */
export function knownMistake(
  name: string,
  valid: ReadonlySet<string>,
): { name: string; hint: string } | undefined {
  const isnull = /^(.+)__isnull$/.exec(name);
  if (isnull) {
    const base = isnull[1].replace(/_id$/, "");
    for (const candidate of [`${base}_id`, base]) {
      if (valid.has(candidate)) {
        return {
          name: candidate,
          hint: `NetBox has no __isnull lookup (it would be ignored): IS NULL is ` +
            `${candidate}: null (?${candidate}=null)`,
        };
      }
    }
  }
  if (name.startsWith("prefix_length")) {
    const candidate = `mask_length${name.slice("prefix_length".length)}`;
    if (valid.has(candidate)) {
      return {
        name: candidate,
        hint: `the prefix length filter is ${candidate} (prefix_length is a field, not a filter)`,
      };
    }
  }
  return undefined;
}

/**
 * The valid names closest to `name` by edit distance (Levenshtein with transpositions), best first (ties by name), at most
 * `count`, and only those within a distance of about half the name's length.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { closestNames } from "./filter_guard.ts";
 * assert(closestNames("stie", ["site", "site_id", "status", "tenant"])[0] === "site");
 * ```
 */
export function closestNames(name: string, valid: Iterable<string>, count = 3): string[] {
  const max = Math.max(2, Math.ceil(name.length / 2));
  return [...valid]
    .map((v) => ({ v, d: editDistance(name.toLowerCase(), v.toLowerCase()) }))
    .filter(({ d }) => d <= max)
    .sort((a, b) => a.d - b.d || (a.v < b.v ? -1 : a.v > b.v ? 1 : 0))
    .slice(0, count)
    .map(({ v }) => v);
}

/** Edit distance counting an adjacent transposition as one edit (typical of typos). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
