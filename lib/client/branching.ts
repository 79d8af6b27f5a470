/**
 * NetBox Branching (the `netboxlabs-netbox-branching` plugin): find or create a branch, wait
 * until it is ready, merge it. A client created with `branch: "name"` sends its writes into that
 * branch with the plugin's `X-NetBox-Branch` header (reads too with `branchReads: true`); main
 * stays untouched until the branch is merged.
 *
 * @module
 */

import { ConfigError, NetBoxError, NetBoxHttpError } from "./errors.ts";
import type { BranchInfo, RequestOptions } from "./types.ts";

export type { BranchInfo };

/** The request header that selects a branch (its value is the branch's `schema_id`). */
export const BRANCH_HEADER = "X-NetBox-Branch";

/** The plugin's API root, relative to `/api/`. */
const API = "plugins/branching/";

/** Branch states in which the plugin is still working on it: wait. */
const BUSY = new Set(["new", "provisioning", "syncing", "migrating", "merging", "reverting"]);

/** What the branch calls need of a client: its request function and base URL. */
export interface BranchingClient {
  /** The client's request function (branch requests themselves always go to main). */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** NetBox's base URL (no `/api`). */
  readonly baseUrl: string;
}

/** How to wait for the plugin's background jobs. */
export interface BranchWaitOptions {
  /** Give up after this long (ms). @default {600000} */
  timeoutMs?: number;
  /** Time between two looks (ms). @default {500} */
  pollMs?: number;
  /** Stops waiting. */
  signal?: AbortSignal;
}

/** A branch record of the plugin's API (the fields used here). */
export interface RawBranch {
  /** The branch's id. */
  id: number;
  /** Its name. */
  name: string;
  /** The value of the `X-NetBox-Branch` header. */
  schema_id: string;
  /** Its state: `{ value: "ready", label: "Ready" }`. */
  status: { value: string } | string;
}

/**
 * Turns the plugin's branch record into a {@linkcode BranchInfo}.
 *
 * @param raw the record from `/api/plugins/branching/branches/`
 * @param baseUrl NetBox's base URL (no `/api`)
 * @returns the branch
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { branchInfo } from "./branching.ts";
 * const b = branchInfo({ id: 7, name: "change-42", schema_id: "td5smq0f", status: { value: "ready" } }, "https://nb.example.com");
 * assert(b.schemaId === "td5smq0f" && b.status === "ready");
 * assert(b.webUrl === "https://nb.example.com/plugins/branching/branches/7/");
 * ```
 */
export function branchInfo(raw: RawBranch, baseUrl: string): BranchInfo {
  return {
    id: raw.id,
    name: raw.name,
    schemaId: raw.schema_id,
    status: typeof raw.status === "string" ? raw.status : raw.status.value,
    webUrl: `${baseUrl}/plugins/branching/branches/${raw.id}/`,
  };
}

/**
 * Checks a branch name before anything is sent: 1–100 characters, no control characters.
 *
 * @param name the name given by the user
 * @returns the name
 * @throws {ConfigError} naming what was expected
 *
 * @example
 * ```ts
 * import { ok as assert, throws } from "node:assert/strict";
 * import { checkBranchName } from "./branching.ts";
 * assert(checkBranchName("change-42") === "change-42");
 * throws(() => checkBranchName(" "));
 * ```
 */
export function checkBranchName(name: string): string {
  // deno-lint-ignore no-control-regex
  if (name.trim() === "" || name.length > 100 || /[\x00-\x1f\x7f]/.test(name)) {
    throw new ConfigError(
      `Cannot use branch ${JSON.stringify(name)}: expected a branch name of 1 to 100 ` +
        "printable characters",
    );
  }
  return name;
}

/**
 * Finds a branch by name; `undefined` when there is none. Throws a {@linkcode ConfigError}
 * (exit 2) when the server has no NetBox Branching plugin.
 *
 * @param client the client
 * @param name the branch's name
 * @returns the branch, or undefined
 */
export async function findBranch(
  client: BranchingClient,
  name: string,
): Promise<BranchInfo | undefined> {
  const { request, baseUrl } = client;
  let page: { results?: RawBranch[] };
  try {
    page = await request<{ results?: RawBranch[] }>("GET", `${API}branches/`, {
      query: { name, limit: 1000 },
      action: `find branch ${JSON.stringify(name)}`,
    });
  } catch (err) {
    if (err instanceof NetBoxHttpError && err.status === 404) {
      throw new ConfigError(
        `Cannot use branch ${JSON.stringify(name)}: ${baseUrl} has no NetBox Branching plugin ` +
          "(/api/plugins/branching/ answered 404); install netboxlabs-netbox-branching or drop `branch`",
      );
    }
    throw err;
  }
  const raw = (page.results ?? []).find((b) => b.name === name);
  return raw ? branchInfo(raw, baseUrl) : undefined;
}

/**
 * Finds the branch or creates it, then waits until it is ready for use (the plugin provisions a
 * new branch in a background job).
 *
 * @param client the client
 * @param name the branch's name
 * @param options how long to wait
 * @returns the ready branch
 * @throws {ConfigError} when the plugin is missing or the branch can no longer take changes
 *   (merged, archived, failed)
 */
export async function ensureBranch(
  client: BranchingClient,
  name: string,
  options: BranchWaitOptions & { description?: string } = {},
): Promise<BranchInfo> {
  const { request, baseUrl } = client;
  checkBranchName(name);
  let branch = await findBranch(client, name);
  if (!branch) {
    try {
      const raw = await request<RawBranch>("POST", `${API}branches/`, {
        body: {
          name,
          description: options.description ?? "created by netbox-toolkit",
        },
        action: `create branch ${JSON.stringify(name)}`,
      });
      branch = branchInfo(raw, baseUrl);
    } catch (err) {
      // Someone else created it at the same moment: use theirs.
      branch = await findBranch(client, name);
      if (!branch) throw err;
    }
  }
  return await waitForBranch(client, branch, options, "ready");
}

/**
 * Waits while the plugin works on a branch (provisioning, merging, …) and returns it once it is
 * in `until` state.
 */
async function waitForBranch(
  { request, baseUrl }: BranchingClient,
  start: BranchInfo,
  { timeoutMs = 600_000, pollMs = 500, signal }: BranchWaitOptions,
  until: "ready" | "merged",
): Promise<BranchInfo> {
  const deadline = Date.now() + timeoutMs;
  let branch = start;
  while (BUSY.has(branch.status) || (until === "merged" && branch.status === "ready")) {
    if (Date.now() > deadline) {
      throw new NetBoxError(
        `Cannot use branch ${JSON.stringify(branch.name)}: still ${branch.status} after ` +
          `${Math.round(timeoutMs / 1000)} s; is NetBox's background worker (rqworker) running?`,
      );
    }
    signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const raw = await request<RawBranch>("GET", `${API}branches/${branch.id}/`, {
      action: `read branch ${JSON.stringify(branch.name)}`,
    });
    branch = branchInfo(raw, baseUrl);
  }
  if (branch.status !== until) {
    throw new ConfigError(
      `Cannot use branch ${JSON.stringify(branch.name)}: it is ${branch.status}, not ${until}` +
        (until === "ready" ? "; choose a new branch name" : "") + ` (${branch.webUrl})`,
    );
  }
  return branch;
}

/**
 * Merges a ready branch into main (the plugin's merge job) and waits until it is merged.
 *
 * @param client the client
 * @param name the branch's name
 * @param options how long to wait
 * @returns the merged branch
 * @throws {ConfigError} when there is no such branch or it is not ready
 */
export async function mergeBranch(
  client: BranchingClient,
  name: string,
  options: BranchWaitOptions = {},
): Promise<BranchInfo> {
  const branch = await findBranch(client, name);
  if (!branch) throw new ConfigError(`Cannot merge branch ${JSON.stringify(name)}: no such branch`);
  const ready = await waitForBranch(client, branch, options, "ready");
  await client.request("POST", `${API}branches/${ready.id}/merge/`, {
    body: { commit: true },
    action: `merge branch ${JSON.stringify(name)}`,
  });
  return await waitForBranch(
    client,
    { ...ready, status: "merging" },
    options,
    "merged",
  );
}
