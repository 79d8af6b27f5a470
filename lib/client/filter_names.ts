/**
 * Filter names per list operation: extraction from NetBox's OpenAPI schema and the compact
 * encoding used by `filter_index.json`.
 *
 * Encoding of one version: `{ "suffixes": ["= empty n", …], "paths": { "ipam/prefixes/": "id~3
 * prefix~0 q …" } }`. A token `base~k` stands for `base` combined with every lookup suffix of set
 * `k`, where `=` is the bare name (`base`) and any other word `w` is `base__w`; a token without
 * `~` is just that name.
 *
 * @module
 */

/** Filter names by list path (relative to `/api/`, trailing slash kept). */
export type FilterNames = Record<string, string[]>;

/** The compact form of one NetBox version's filter names. */
export interface EncodedNames {
  suffixes: string[];
  paths: Record<string, string>;
}

interface Parameter {
  name?: string;
  in?: string;
  $ref?: string;
}

/**
 * The query parameter names of every list operation in an OpenAPI document.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { extractListFilters } from "./filter_names.ts";
 * const schema = { paths: { "/api/dcim/sites/": { get: { operationId: "dcim_sites_list", parameters: [{ in: "query", name: "slug" }] } } } };
 * assert(extractListFilters(schema)["dcim/sites/"][0] === "slug");
 * ```
 */
export function extractListFilters(schema: unknown): FilterNames {
  const doc = schema as {
    paths?: Record<string, Record<string, { operationId?: string; parameters?: Parameter[] }>>;
    components?: { parameters?: Record<string, Parameter> };
  };
  const resolve = (p: Parameter): Parameter => {
    const ref = p.$ref?.match(/^#\/components\/parameters\/(.+)$/)?.[1];
    return ref ? doc.components?.parameters?.[ref] ?? p : p;
  };
  const out: FilterNames = {};
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const op = item?.get;
    if (!op || !path.startsWith("/api/") || path.includes("{")) continue;
    const params = [
      ...((item as { parameters?: Parameter[] }).parameters ?? []),
      ...(op.parameters ?? []),
    ].map(resolve).filter((p) => p.in === "query" && p.name).map((p) => p.name!);
    const isList = op.operationId?.endsWith("_list") || params.includes("limit");
    if (!isList) continue;
    out[path.slice("/api/".length)] = [...new Set(params)].sort();
  }
  return out;
}

function splitName(name: string): [string, string] {
  const at = name.lastIndexOf("__");
  return at > 0 ? [name.slice(0, at), name.slice(at + 2)] : [name, "="];
}

/**
 * Encodes filter names compactly (see the module doc).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { decodeNames, encodeNames } from "./filter_names.ts";
 * const names = { "ipam/vrfs/": ["id", "id__gt", "name", "name__ic", "q"] };
 * assert(decodeNames(encodeNames(names))["ipam/vrfs/"].join() === names["ipam/vrfs/"].join());
 * ```
 */
export function encodeNames(names: FilterNames): EncodedNames {
  const setIndex = new Map<string, number>();
  const suffixes: string[] = [];
  const paths: Record<string, string> = {};
  for (const path of Object.keys(names).sort()) {
    const groups = new Map<string, Set<string>>();
    for (const name of names[path]) {
      const [base, suffix] = splitName(name);
      if (!groups.has(base)) groups.set(base, new Set());
      groups.get(base)!.add(suffix);
    }
    const tokens: string[] = [];
    for (const [base, set] of [...groups].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
      if (set.size === 1 && set.has("=")) {
        tokens.push(base);
        continue;
      }
      const key = [...set].sort().join(" ");
      if (!setIndex.has(key)) {
        setIndex.set(key, suffixes.length);
        suffixes.push(key);
      }
      tokens.push(`${base}~${setIndex.get(key)}`);
    }
    paths[path] = tokens.join(" ");
  }
  return { suffixes, paths };
}

/** Decodes {@linkcode encodeNames} output back to sorted names per path. */
export function decodeNames(encoded: EncodedNames): FilterNames {
  const sets = encoded.suffixes.map((s) => s.split(" "));
  const out: FilterNames = {};
  for (const [path, line] of Object.entries(encoded.paths)) {
    const names: string[] = [];
    for (const token of line.split(" ").filter(Boolean)) {
      const [base, k] = token.split("~");
      if (k === undefined) {
        names.push(base);
        continue;
      }
      for (const suffix of sets[Number(k)]) {
        names.push(suffix === "=" ? base : `${base}__${suffix}`);
      }
    }
    out[path] = names.sort();
  }
  return out;
}
