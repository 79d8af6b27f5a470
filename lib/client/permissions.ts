/**
 * What the token may write, per model, as NetBox itself tells it: the OPTIONS answer of a list
 * endpoint carries `actions.POST` only when the token's user may add that model (and the token is
 * write-enabled), and `actions.PUT` only when it may change it. This works the same on every
 * NetBox 4.x, including 4.3 where a v1 token's own entry in `/api/users/tokens/` says nothing of
 * its version.
 *
 * @module
 */

import { NetBoxAuthError, NetBoxHttpError } from "./errors.ts";
import type { NetBoxClient } from "./types.ts";

/** A write a task is about to make: add (POST) or change (PUT/PATCH) objects of a list path. */
export interface ModelWrite {
  /** The list path, e.g. `"ipam/ip-addresses/"`. */
  path: string;
  /** `add` for creates, `change` for updates. */
  action: "add" | "change";
}

/** What the token may do on one list path; `undefined` fields mean NetBox did not say. */
export interface ModelPermissions {
  /** Whether the token may create objects (`actions.POST` in the OPTIONS answer). */
  add: boolean;
  /** Whether the token may change objects (`actions.PUT`). */
  change: boolean;
  /** The writable fields NetBox described (`actions.POST`, else `actions.PUT`), or `{}`. */
  fields: Record<string, unknown>;
}

/**
 * The NetBox permission name of a write on a list path: `ipam/ip-addresses/` + `add` →
 * `ipam.add_ipaddress` (app label, action, model name without dashes, singular).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { permissionName } from "./permissions.ts";
 * equal(permissionName("ipam/ip-addresses/", "add"), "ipam.add_ipaddress");
 * equal(permissionName("ipam/prefixes/", "change"), "ipam.change_prefix");
 * equal(permissionName("dcim/device-roles/", "add"), "dcim.add_devicerole");
 * equal(permissionName("extras/tags/", "add"), "extras.add_tag");
 * ```
 */
export function permissionName(path: string, action: "add" | "change"): string {
  const [app, plural] = splitPath(path);
  let model = plural.replace(/-/g, "");
  if (/(ss|x|ch|sh)es$/.test(model)) model = model.slice(0, -2);
  else if (/[^aeiou]ies$/.test(model)) model = `${model.slice(0, -3)}y`;
  else if (model.endsWith("s") && !model.endsWith("ss")) model = model.slice(0, -1);
  return `${app}.${action}_${model}`;
}

/** `ipam/ip-addresses/` → `ipam.ip-addresses` (how the tasks name a model). */
export function modelLabel(path: string): string {
  const [app, plural] = splitPath(path);
  return `${app}.${plural}`;
}

/** `/api/ipam/ip-addresses/` → `["ipam", "ip-addresses"]`. */
function splitPath(path: string): [string, string] {
  const [app, plural = ""] = path.replace(/^\/*(api\/)?/, "").split("/");
  return [app, plural];
}

const asked = new WeakMap<object, Map<string, Promise<ModelPermissions | undefined>>>();

/**
 * Asks NetBox (OPTIONS on the list path) what the token may write there, once per client and
 * path (the import planner and the pre-write check share the answer). `undefined` when the path
 * does not exist (404).
 *
 * @param client The client.
 * @param path A list path, e.g. `"ipam/ip-addresses/"`.
 */
export function modelPermissions(
  client: Pick<NetBoxClient, "request">,
  path: string,
): Promise<ModelPermissions | undefined> {
  let byPath = asked.get(client);
  if (!byPath) asked.set(client, byPath = new Map());
  let answer = byPath.get(path);
  if (!answer) {
    answer = askPermissions(client, path);
    byPath.set(path, answer);
    answer.catch(() => byPath!.delete(path)); // a failed question may be asked again
  }
  return answer;
}

async function askPermissions(
  client: Pick<NetBoxClient, "request">,
  path: string,
): Promise<ModelPermissions | undefined> {
  let body: { actions?: { POST?: Record<string, unknown>; PUT?: Record<string, unknown> } };
  try {
    body = await client.request("OPTIONS", path, {
      action: `check what the token may write to ${modelLabel(path)}`,
    }) ?? {};
  } catch (err) {
    if (err instanceof NetBoxHttpError && err.status === 404) return undefined;
    throw err;
  }
  const actions = body?.actions ?? {};
  return {
    add: actions.POST !== undefined,
    change: actions.PUT !== undefined,
    fields: actions.POST ?? actions.PUT ?? {},
  };
}

/**
 * The refusal for a write the token may not make: one line naming the model and the NetBox
 * permission it lacks. The CLI turns it into exit 3.
 *
 * @example
 * ```ts
 * import { match } from "node:assert/strict";
 * import { permissionRefusal } from "./permissions.ts";
 * match(permissionRefusal({ path: "ipam/ip-addresses/", action: "add" }, 1).message, /ipam\.add_ipaddress/);
 * ```
 */
export function permissionRefusal(write: ModelWrite, tokenVersion: 1 | 2): NetBoxAuthError {
  const verb = write.action === "add" ? "add" : "change";
  return new NetBoxAuthError(
    `Cannot write to NetBox: the token may not ${verb} ${modelLabel(write.path)} (its user lacks ` +
      `the permission ${permissionName(write.path, write.action)}, or the token is read-only)`,
    { status: 403, method: "OPTIONS", path: `/api/${write.path}`, body: null, messages: {} },
    "permission",
    tokenVersion,
  );
}

/**
 * Throws {@linkcode permissionRefusal} for the first write in `writes` that NetBox says the token
 * may not make; paths NetBox does not know are left to the write itself.
 */
export async function assertMayWrite(
  client: Pick<NetBoxClient, "request" | "tokenVersion">,
  writes: readonly ModelWrite[],
): Promise<void> {
  for (const write of writes) {
    const p = await modelPermissions(client, write.path);
    if (p && !p[write.action]) throw permissionRefusal(write, client.tokenVersion);
  }
}
