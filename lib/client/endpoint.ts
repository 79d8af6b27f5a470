/**
 * One list endpoint's verbs (`list`, `all`, `get`, `find`, `count`, `create`, `update`,
 * `delete`) over a transport. Plain data in and out: every call is one explicit operation.
 *
 * @module
 */

import { bulkCreate, bulkDelete, bulkUpdate } from "./bulk.ts";
import { checkFilters } from "./filter_guard.ts";
import { serializeFilters } from "./filters.ts";
import { InputError, NetBoxChangedError, NetBoxError } from "./errors.ts";
import { etagOf, rememberEtag } from "./etag.ts";
import { countObjects, paginate } from "./paginate.ts";
import { omitter, trimmingQuery, versionAtLeast } from "./query.ts";
import type {
  BulkOptions,
  BulkResult,
  Endpoint,
  Filters,
  GetOptions,
  ListOptions,
  NetBoxObject,
  Transport,
  UpdateOptions,
} from "./types.ts";

/**
 * Normalises an endpoint path: no leading `/` or `/api/`, exactly one trailing slash.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { normalisePath } from "./endpoint.ts";
 * assert(normalisePath("/api/dcim/sites") === "dcim/sites/");
 * ```
 */
export function normalisePath(path: string): string {
  const p = path.trim().replace(/^\/+/, "").replace(/^api\//, "").replace(/\/+$/, "");
  if (p === "" || p.includes("?")) {
    throw new TypeError(`Cannot use endpoint "${path}": expected a list path like "dcim/sites/"`);
  }
  return `${p}/`;
}

function checkObjectId(path: string, id: unknown): number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1) {
    throw new TypeError(`Cannot use ${path}: ${String(id)} is not a valid object id`);
  }
  return id;
}

/**
 * Creates the verbs of the list endpoint at `path`.
 *
 * - `create`/`update`/`delete` with an array write in bulk (chunks, per-item results, see
 *   `bulk.ts`) and never throw for item failures; with one object/id they throw on failure.
 * - `find(filters)` returns the only match or `undefined`; more than one match throws
 *   `NetBoxError` naming the count.
 *
 * @param transport The client's transport.
 * @param path The list path, e.g. `"dcim/sites/"` (a leading `/api/` is removed, the trailing
 *   slash added).
 * @returns The endpoint; its types `T` (read), `W` (write) and `F` (filters) are for the
 *   compiler only (the endpoint table passes the generated ones of `models.ts`).
 *
 * @example Finding a site by slug
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createEndpoint } from "./endpoint.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   strictFilters: false,
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: () => Promise.resolve({ count: 1, next: null, results: [{ id: 1, url: "", slug: "matrix" }] }),
 * } as unknown as Transport;
 * const sites = createEndpoint(transport, "dcim/sites/");
 * assert((await sites.find({ slug: "matrix" }))?.id === 1);
 * ```
 */
export function createEndpoint<
  T extends NetBoxObject = NetBoxObject,
  W extends Record<string, unknown> = Record<string, unknown>,
  F extends Filters = Filters,
>(
  transport: Transport,
  path: string,
): Endpoint<T, W, F> {
  const list = normalisePath(path);
  const detail = (id: unknown) => `${list}${checkObjectId(list, id)}/`;

  async function get(id: number, options: GetOptions = {}): Promise<T> {
    const url = detail(id);
    const status = await transport.status();
    let etag: string | null = null;
    const item = await transport.request<T>("GET", url, {
      query: trimmingQuery(options, status),
      signal: options.signal,
      action: `get ${url}`,
      onHeaders: (headers) => etag = headers.get("ETag"),
    });
    const result = omitter<T>(options, status)(item);
    if (etag && typeof result === "object" && result !== null) rememberEtag(result, etag);
    return result;
  }

  async function find(filters: F, options: GetOptions = {}): Promise<T | undefined> {
    await checkFilters(transport, list, filters, options.signal);
    const status = await transport.status();
    const query = serializeFilters(filters);
    for (const [k, v] of trimmingQuery(options, status)) query.append(k, v);
    query.set("limit", "2");
    const page = await transport.request<{ count?: number | null; results: T[] }>("GET", list, {
      query,
      signal: options.signal,
      action: `find in ${list}`,
    });
    const results = page?.results ?? [];
    if (results.length > 1) {
      const count = typeof page.count === "number" ? page.count : "more than one";
      throw new NetBoxError(
        `Cannot find one object in ${list}: ${count} objects match ${
          [...serializeFilters(filters)].map(([k, v]) => `${k}=${v}`).join("&") ||
          "(no filters)"
        }; add filters to narrow it down`,
      );
    }
    return results[0] === undefined ? undefined : omitter<T>(options, status)(results[0]);
  }

  function create(body: W, options?: { signal?: AbortSignal }): Promise<T>;
  function create(bodies: W[], options?: BulkOptions): Promise<BulkResult<T>>;
  function create(body: W | W[], options: BulkOptions = {}): Promise<unknown> {
    if (Array.isArray(body)) {
      return bulkCreate<T>(transport, list, body, options);
    }
    return transport.request<T>("POST", list, {
      body,
      signal: options.signal,
      action: `create ${list}`,
    });
  }

  function update(id: number, patch: Partial<W>, options?: UpdateOptions): Promise<T>;
  function update(
    items: ({ id: number } & Partial<W>)[],
    options?: BulkOptions,
  ): Promise<BulkResult<T>>;
  function update(
    idOrItems: number | ({ id: number } & Partial<W>)[],
    patchOrOptions?: Partial<W> | BulkOptions,
    maybeOptions: UpdateOptions = {},
  ): Promise<unknown> {
    if (Array.isArray(idOrItems)) {
      return bulkUpdate<T>(transport, list, idOrItems, (patchOrOptions ?? {}) as BulkOptions);
    }
    return updateOne(idOrItems, patchOrOptions ?? {}, maybeOptions);
  }

  async function updateOne(id: number, patch: unknown, options: UpdateOptions): Promise<T> {
    const url = detail(id);
    const action = `update ${url}`;
    const headers: Record<string, string> = {};
    if (options.ifMatch !== undefined) {
      const expected = typeof options.ifMatch === "string"
        ? options.ifMatch
        : etagOf(options.ifMatch);
      if (!expected) {
        throw new InputError(
          `Cannot ${action}: ifMatch has no ETag (read the object with get() or list() first)`,
        );
      }
      const status = await transport.status();
      if (versionAtLeast(status, 4, 6)) {
        headers["If-Match"] = expected;
      } else {
        // NetBox before 4.6 knows no If-Match: compare last_updated just before writing.
        const current = await transport.request<object>("GET", url, {
          query: { fields: "id,last_updated" },
          signal: options.signal,
          action: `get ${url}`,
        });
        if (etagOf(current) !== expected) {
          throw new NetBoxChangedError(
            `Cannot ${action}: changed by someone else since it was read (last_updated differs)`,
            { status: 412, method: "PATCH", path: `/api/${url}`, body: {}, messages: {} },
          );
        }
      }
    }
    return await transport.request<T>("PATCH", url, {
      body: patch,
      signal: options.signal,
      action,
      headers,
    });
  }

  function remove(id: number, options?: { signal?: AbortSignal }): Promise<void>;
  function remove(
    ids: number[],
    options?: BulkOptions,
  ): Promise<BulkResult<{ id: number }>>;
  async function remove(idOrIds: number | number[], options: BulkOptions = {}): Promise<unknown> {
    if (Array.isArray(idOrIds)) return bulkDelete(transport, list, idOrIds, options);
    const url = detail(idOrIds);
    await transport.request("DELETE", url, { signal: options.signal, action: `delete ${url}` });
    return undefined;
  }

  return {
    path: list,
    list: (filters?: F, options?: ListOptions) => paginate<T>(transport, list, filters, options),
    all: (filters?: F, options?: ListOptions) =>
      paginate<T>(transport, list, filters, options).all(),
    get,
    find,
    count: (filters?: F, options?: { signal?: AbortSignal }) =>
      countObjects(transport, list, filters, options),
    create,
    update,
    delete: remove,
  };
}
