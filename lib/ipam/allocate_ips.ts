/**
 * IP addresses as one more kind of allocation: {@linkcode allocateIps} is
 * {@linkcode reserveIps} (find-free-ip's reservation, the pool's locked `available-ips`) with the
 * allocation key of `allocate.ts` — addresses already carrying the key are returned, and only
 * the missing ones reserved.
 *
 * @module
 */

import { InputError } from "../client/errors.ts";
import type { NetBoxClient } from "../client/types.ts";
import { allocationMarker } from "./allocate.ts";
import {
  type PoolRef,
  reserveIps,
  type ReserveIpsOptions,
  type ReserveIpsResult,
  resolvePools,
} from "./find_free.ts";
import { coveringNetwork, formatCidr } from "./ip.ts";

/**
 * Options of {@linkcode allocateIps}: those of {@linkcode reserveIps} and a key.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { AllocateIpsOptions } from "./allocate_ips.ts";
 * const options: AllocateIpsOptions = { count: 2, key: "dc3-gw", status: "reserved" };
 * assert(options.key === "dc3-gw");
 * ```
 */
export interface AllocateIpsOptions extends Omit<ReserveIpsOptions, "marker"> {
  /**
   * Makes the call idempotent: addresses of the pool(s) already carrying the key are returned
   * as `existing`, and only the missing ones reserved. Letters, digits and `._:/@-`.
   */
  key?: string;
}

/**
 * Reserves addresses like {@linkcode reserveIps}; with `key`, the new addresses carry it in
 * `comments` and a later call with the same key returns them instead of reserving again.
 *
 * @param client The client.
 * @param ref The pool.
 * @param options `count`, `key`, `status`, `dnsName` …
 * @returns What the key held (`existing`) and what was reserved.
 * @throws {InputError} Bad options or key (nothing sent).
 * @throws {PoolExhaustedError} The pool has too few free addresses (nothing created).
 *
 * @example Twice with one key: one address
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { allocateIps } from "./allocate_ips.ts";
 * const ips: Record<string, unknown>[] = [];
 * const prefix = { id: 7, prefix: "192.0.2.0/24", vrf: null, status: "active" };
 * const fetch = (input: string | URL | Request, init?: RequestInit) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   const json = (body: unknown, status = 200) => Promise.resolve(Response.json(body, { status }));
 *   if (url.pathname === "/api/status/") return json({ "netbox-version": "4.7.3" });
 *   if (url.pathname === "/api/ipam/prefixes/7/available-ips/") {
 *     const address = `192.0.2.${ips.length + 1}/24`;
 *     if (init?.method !== "POST") return json([{ family: 4, address, vrf: null }]);
 *     const made = { id: ips.length + 1, address, ...JSON.parse(String(init.body))[0] };
 *     ips.push(made);
 *     return json([made], 201);
 *   }
 *   const results = url.pathname === "/api/ipam/prefixes/" ? [prefix] : url.pathname === "/api/ipam/ip-addresses/" ? ips : [];
 *   return json({ count: results.length, next: null, results });
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const first = await allocateIps(client, { prefix: "192.0.2.0/24" }, { key: "gw" });
 * const again = await allocateIps(client, { prefix: "192.0.2.0/24" }, { key: "gw" });
 * assert(first.reserved.length === 1 && again.reserved.length === 0);
 * assert(again.existing[0].id === first.reserved[0].id && ips.length === 1);
 * client.close();
 * ```
 */
export async function allocateIps(
  client: NetBoxClient,
  ref: PoolRef,
  options: AllocateIpsOptions = {},
): Promise<ReserveIpsResult> {
  const { key, ...reserve } = options;
  if (key === undefined) return await reserveIps(client, ref, reserve);
  if (!/^[A-Za-z0-9._:/@-]{1,100}$/.test(key)) {
    throw new InputError(`Cannot use key "${key}": expected 1 to 100 letters, digits or ._:/@-`);
  }
  const count = options.count ?? 1;
  const prefix = allocationMarker(key, "");
  const pools = await resolvePools(client, ref, { labels: options.labels });
  for (const p of pools) {
    const parent = formatCidr(coveringNetwork(p.pool.bounds), { network: true });
    const inPool = await client.ipam.ipAddresses.all({ parent, vrf_id: p.pool.vrfId });
    const holders = inPool.filter((ip) => String(ip.comments ?? "").startsWith(prefix))
      .sort((a, b) => a.id - b.id);
    if (!holders.length) continue;
    const existing = holders.slice(0, count);
    if (existing.length >= count) {
      return {
        pool: p,
        matched: pools.length,
        requested: count,
        existing,
        reserved: [],
        planned: [],
        dryRun: !!options.dryRun,
        missingTags: [],
      };
    }
    const one = p.pool.kind === "prefix" ? { prefixId: p.pool.id } : { rangeId: p.pool.id };
    const rest = await reserveIps(client, one, {
      ...reserve,
      count: count - existing.length,
      marker: allocationMarker(key, crypto.randomUUID()),
    });
    return { ...rest, requested: count, existing: [...existing, ...rest.existing] };
  }
  return await reserveIps(client, ref, {
    ...reserve,
    marker: allocationMarker(key, crypto.randomUUID()),
  });
}
