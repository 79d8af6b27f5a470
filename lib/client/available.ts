/**
 * Detail helpers for NetBox's allocation endpoints: `available-ips` (prefixes and IP ranges),
 * `available-prefixes`, `available-vlans` and `available-asns`. Listing shows what is free; creating allocates
 * under NetBox's lock, so concurrent allocations never collide.
 *
 * @module
 */

import { AllocationError, NetBoxHttpError } from "./errors.ts";
import type { Available, Transport } from "./types.ts";

/**
 * A helper over `<list path><id>/<kind>/`, e.g. `ipam/prefixes/7/available-ips/`.
 *
 * - `list({ limit })` returns the server's plain array (at most MAX_PAGE_SIZE items;
 *   `limit` defaults to the client's page size, 1000; `available-prefixes` ignores it).
 * - `create(body | body[])` allocates one or many and always returns an array; when there is
 *   not enough room NetBox answers 409, thrown as {@linkcode AllocationError}, and nothing is
 *   created.
 *
 * @param transport The client's transport.
 * @param listPath The parent list path, e.g. `"ipam/prefixes/"`.
 * @param id The parent object's id.
 * @param kind `"available-ips"`, `"available-prefixes"`, `"available-vlans"` or
 * `"available-asns"` (ASN ranges).
 * @returns The helper.
 *
 * @example Reserving two addresses
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createAvailable } from "./available.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   pageSize: 1000,
 *   request: (method: string) =>
 *     Promise.resolve(method === "GET"
 *       ? [{ family: 4, address: "192.0.2.1/24", vrf: null }]
 *       : [{ id: 1, address: "192.0.2.1/24" }, { id: 2, address: "192.0.2.2/24" }]),
 * } as unknown as Transport;
 * const free = createAvailable(transport, "ipam/prefixes/", 7, "available-ips");
 * assert((await free.list({ limit: 1 })).length === 1);
 * assert((await free.create([{ status: "reserved" }, { status: "reserved" }])).length === 2);
 * ```
 */
export function createAvailable<TFree, TCreated>(
  transport: Transport,
  listPath: string,
  id: number,
  kind: "available-ips" | "available-prefixes" | "available-vlans" | "available-asns",
): Available<TFree, TCreated> {
  if (!Number.isInteger(id) || id < 1) {
    throw new TypeError(`Cannot use ${listPath}${id}/${kind}/: ${id} is not a valid id`);
  }
  const path = `${listPath}${id}/${kind}/`;
  return {
    async list(options = {}) {
      const { limit = transport.pageSize, signal } = options;
      const answer = await transport.request<unknown>("GET", path, {
        query: { limit },
        signal,
        action: `list ${path}`,
      });
      // Plain array per NetBox's source; accept an envelope defensively.
      const items = Array.isArray(answer) ? answer : (answer as { results?: unknown[] })?.results;
      return (items ?? []) as TFree[];
    },
    async create(body, options = {}) {
      const many = Array.isArray(body);
      const what = many ? `${body.length} objects` : "one object";
      try {
        const created = await transport.request<unknown>("POST", path, {
          body,
          signal: options.signal,
          action: `allocate ${what} from ${path}`,
        });
        return (Array.isArray(created) ? created : [created]) as TCreated[];
      } catch (err) {
        if (
          err instanceof NetBoxHttpError && err.status === 409 && !(err instanceof AllocationError)
        ) {
          throw new AllocationError(err.message, err);
        }
        throw err;
      }
    },
  };
}
