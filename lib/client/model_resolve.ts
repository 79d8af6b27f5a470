/**
 * Model names for generic commands: `dcim.devices`, `dcim/devices`, `devices`, `ip_addresses` or
 * `/api/dcim/devices/` all name the list endpoint `dcim/devices/`. The names come from the live
 * NetBox's list endpoints: the bundled filter index (`filter_index.json`, one entry per known
 * minor version) for the core models, the API root (`/api/`, `/api/<app>/`) for other versions,
 * and `/api/plugins/` for plugin models. A name matching nothing gets the closest names as
 * suggestions; a short name two apps share (`interfaces`) is refused naming both.
 *
 * @module
 */

import { InputError } from "./errors.ts";
import { closestNames } from "./filter_guard.ts";
import index from "./filter_index.json" with { type: "json" };
import type { Transport } from "./types.ts";

type Root = Record<string, unknown>;

const cache = new WeakMap<Transport, Promise<string[]>>();
const pluginCache = new WeakMap<Transport, Promise<string[]>>();

/**
 * The dotted name of a list path: `dcim/devices/` → `dcim.devices`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { modelName } from "./model_resolve.ts";
 * equal(modelName("plugins/branching/branches/"), "plugins.branching.branches");
 * ```
 */
export function modelName(path: string): string {
  return path.replace(/\/+$/, "").replaceAll("/", ".");
}

/** The endpoints an API root document (`{"name": "http://…/api/x/name/"}`) lists. */
async function rootPaths(transport: Transport, root: string, signal?: AbortSignal) {
  const doc = await transport.request<Root>("GET", root, {
    signal,
    action: `list the endpoints of /api/${root}`,
  });
  return Object.keys(doc ?? {}).map((key) => `${root}${key}/`);
}

async function walk(transport: Transport, roots: string[], signal?: AbortSignal) {
  const out: string[] = [];
  for (const root of roots) {
    for (const app of await rootPaths(transport, root, signal)) {
      if (app === "plugins/") continue;
      out.push(...await rootPaths(transport, app, signal).catch(() => []));
    }
  }
  return out;
}

/**
 * Every core list endpoint of the NetBox the transport talks to (`"dcim/devices/"`, …), from
 * the bundled index for known versions, else from the API root (cached per transport).
 *
 * @param transport The client's transport.
 * @param signal Aborts the look-up.
 * @returns The list paths, sorted.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { modelPaths } from "./model_resolve.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 * } as unknown as Transport;
 * assert((await modelPaths(transport)).includes("dcim/devices/"));
 * ```
 */
export function modelPaths(transport: Transport, signal?: AbortSignal): Promise<string[]> {
  let paths = cache.get(transport);
  if (!paths) {
    paths = (async () => {
      const status = await transport.status();
      const encoded = (index as Record<string, { paths: Record<string, string> }>)[
        `${status.major}.${status.minor}`
      ];
      const found = encoded ? Object.keys(encoded.paths) : await walk(transport, [""], signal);
      return found.filter((p) => !p.startsWith("plugins/")).sort();
    })().catch((err) => {
      cache.delete(transport);
      throw err;
    });
    cache.set(transport, paths);
  }
  return paths;
}

/** The plugins' list endpoints, from `/api/plugins/` (none when NetBox has no plugins). */
function pluginPaths(transport: Transport, signal?: AbortSignal): Promise<string[]> {
  let paths = pluginCache.get(transport);
  if (!paths) {
    paths = walk(transport, ["plugins/"], signal).catch(() => []);
    pluginCache.set(transport, paths);
  }
  return paths;
}

/**
 * Normalises what a user typed for a model: lower case, no `/api/` or slashes around, dots as
 * slashes, underscores as dashes (`ipam.ip_addresses` → `ipam/ip-addresses`).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { normaliseModel } from "./model_resolve.ts";
 * equal(normaliseModel("/api/IPAM.ip_addresses/"), "ipam/ip-addresses");
 * ```
 */
export function normaliseModel(name: string): string {
  return name.trim().toLowerCase().replace(/^\/+/, "").replace(/^api\//, "").replace(/\/+$/, "")
    .replaceAll(".", "/").replaceAll("_", "-");
}

function match(wanted: string, paths: string[]): string[] {
  const exact = paths.filter((p) => p === `${wanted}/`);
  if (exact.length || wanted.includes("/")) return exact;
  return paths.filter((p) => p.split("/").at(-2) === wanted);
}

/**
 * Resolves a model name to its list path on the live NetBox: `dcim.devices`, `dcim/devices`,
 * `devices`, `ip_addresses`, `plugins.branching.branches`, `branches` (plugins are looked up on
 * `/api/plugins/` when the core has no such model).
 *
 * @param transport The client's transport.
 * @param name What the user typed.
 * @param signal Aborts the look-up.
 * @returns The list path, e.g. `"dcim/devices/"`.
 * @throws {InputError} For an unknown name (with the closest names) or a short name several
 *   apps share (naming them).
 *
 * @example
 * ```ts
 * import { equal, rejects } from "node:assert/strict";
 * import { resolveModel } from "./model_resolve.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: () => Promise.resolve({}),
 * } as unknown as Transport;
 * equal(await resolveModel(transport, "ip_addresses"), "ipam/ip-addresses/");
 * await rejects(resolveModel(transport, "devcies"), /did you mean dcim\.devices/);
 * await rejects(resolveModel(transport, "interfaces"), /dcim\.interfaces, virtualization\.interfaces/);
 * ```
 */
export async function resolveModel(
  transport: Transport,
  name: string,
  signal?: AbortSignal,
): Promise<string> {
  const wanted = normaliseModel(name);
  if (wanted === "") throw new InputError(`Cannot resolve a model: the name is empty`);
  const core = await modelPaths(transport, signal);
  let found = match(wanted, core);
  let all = core;
  if (!found.length) {
    const plugins = await pluginPaths(transport, signal);
    all = [...core, ...plugins];
    found = [...new Set([...match(wanted, plugins), ...match(`plugins/${wanted}`, plugins)])];
  }
  if (found.length === 1) return found[0];
  if (found.length > 1) {
    throw new InputError(
      `Cannot resolve model "${name}": ${found.length} models have that name (${
        found.map(modelName).join(", ")
      }); name the app, e.g. ${modelName(found[0])}`,
    );
  }
  const names = new Map<string, string>();
  for (const p of all) {
    names.set(modelName(p), modelName(p));
    names.set(p.split("/").at(-2)!, modelName(p));
  }
  const wantedDotted = wanted.replaceAll("/", ".");
  const close = [
    ...new Set(closestNames(wantedDotted, names.keys(), 5).map((n) => names.get(n)!)),
  ].slice(0, 3);
  throw new InputError(
    `Cannot resolve model "${name}": NetBox ${(await transport.status()).version} has no such ` +
      `list endpoint${close.length ? `; did you mean ${close.join(", ")}?` : ""}`,
  );
}
