/**
 * Free addresses in a prefix or IP range, computed the way NetBox's `available-ips` does, as
 * spans of free addresses so that IPv6 prefixes of any size are never enumerated.
 *
 * NetBox's rule (ipam/models/ip.py, 4.7): an address is free when no IP address of the pool's
 * VRF has that host (for a global-table *container* prefix: of any VRF), it is not inside a
 * `mark_populated` IP range of the same VRF that lies wholly inside the prefix, and it is usable
 * (IPv4 drops network and broadcast unless the prefix is a pool or /31–/32; IPv6 drops the first
 * address unless the prefix is a pool or /127–/128). An IP range with `mark_populated` has no
 * free addresses.
 *
 * @module
 */

import {
  contains,
  hostOf,
  type IpAddress,
  type IpFamily,
  type IpNetwork,
  type IpSpan,
  parseCidr,
  usableSpan,
} from "./ip.ts";

/** A pool of addresses: a prefix or an IP range, reduced to what the free-IP rule needs. */
export interface IpPool {
  /** A prefix or an IP range. */
  kind: "prefix" | "range";
  /** NetBox id of the prefix or range. */
  id: number;
  /** The prefix (`10.0.0.0/24`) or range (`10.0.0.10-10.0.0.20`) as text. */
  label: string;
  /** 4 or 6. */
  family: IpFamily;
  /** The whole pool: the prefix network, or the range's start–end. */
  bounds: IpSpan;
  /** The addresses NetBox may hand out (before child IPs and populated ranges). */
  usable: IpSpan;
  /** The mask length new addresses get (prefix length, or the range's mask). */
  maskLength: number;
  /** VRF id, or `null` for the global table. */
  vrfId: number | null;
  /** A global-table container prefix counts child IPs of every VRF. */
  anyVrf: boolean;
}

/** The fields of a NetBox prefix {@linkcode prefixPool} reads. */
export interface PrefixLike {
  /** The prefix id. */
  id: number;
  /** e.g. `10.0.0.0/24`. */
  prefix: string;
  /** Pools hand out their network and broadcast addresses too. */
  is_pool?: boolean;
  /** The VRF (`null`: global table). */
  vrf?: { id: number } | null;
  /** `container` prefixes in the global table count child IPs of every VRF. */
  status?: { value: string } | string | null;
}

/** The fields of a NetBox IP range {@linkcode rangePool} reads. */
export interface RangeLike {
  /** The range id. */
  id: number;
  /** e.g. `10.0.0.10/24`. */
  start_address: string;
  /** e.g. `10.0.0.20/24`. */
  end_address: string;
  /** A populated range counts as fully used. */
  mark_populated?: boolean;
  /** The VRF (`null`: global table). */
  vrf?: { id: number } | null;
}

function statusValue(status: PrefixLike["status"]): string | undefined {
  return typeof status === "string" ? status : status?.value;
}

/**
 * The pool of a NetBox prefix.
 *
 * @param prefix The prefix object (`prefix`, `is_pool`, `vrf`, `status`).
 * @returns The pool.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { prefixPool } from "./free_ips.ts";
 * const pool = prefixPool({ id: 1, prefix: "10.0.0.0/30", is_pool: false, vrf: null });
 * assert(pool.usable.end - pool.usable.start === 1n);
 * ```
 */
export function prefixPool(prefix: PrefixLike): IpPool {
  const net = parseCidr(prefix.prefix);
  const vrfId = prefix.vrf?.id ?? null;
  return {
    kind: "prefix",
    id: prefix.id,
    label: prefix.prefix,
    family: net.family,
    bounds: { family: net.family, start: net.first, end: net.last },
    usable: usableSpan(net, prefix.is_pool === true),
    maskLength: net.prefixLength,
    vrfId,
    anyVrf: vrfId === null && statusValue(prefix.status) === "container",
  };
}

/**
 * The pool of a NetBox IP range; a `mark_populated` range has nothing usable.
 *
 * @param range The range object (`start_address`, `end_address`, `mark_populated`, `vrf`).
 * @returns The pool.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { rangePool } from "./free_ips.ts";
 * const pool = rangePool({ id: 3, start_address: "10.0.0.10/24", end_address: "10.0.0.20/24" });
 * assert(pool.usable.end - pool.usable.start === 10n && pool.maskLength === 24);
 * ```
 */
export function rangePool(range: RangeLike): IpPool {
  const start: IpNetwork = parseCidr(range.start_address);
  const end = parseCidr(range.end_address);
  const bounds: IpSpan = { family: start.family, start: start.address, end: end.address };
  const usable = range.mark_populated
    ? { family: start.family, start: 1n, end: 0n } // empty
    : bounds;
  return {
    kind: "range",
    id: range.id,
    label: `${range.start_address.split("/")[0]}-${range.end_address.split("/")[0]}`,
    family: start.family,
    bounds,
    usable,
    maskLength: start.prefixLength,
    vrfId: range.vrf?.id ?? null,
    anyVrf: false,
  };
}

/**
 * The `mark_populated` ranges NetBox subtracts from a prefix: same VRF, both ends inside the
 * prefix. Give it the candidate ranges (e.g. those listed with `parent=<prefix>`).
 *
 * @param pool A prefix pool.
 * @param ranges IP range objects.
 * @returns The spans to exclude.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { populatedSpans, prefixPool } from "./free_ips.ts";
 * const pool = prefixPool({ id: 1, prefix: "10.0.0.0/24", vrf: null });
 * const spans = populatedSpans(pool, [
 *   { id: 1, start_address: "10.0.0.10/24", end_address: "10.0.0.19/24", mark_populated: true },
 *   { id: 2, start_address: "10.0.0.30/24", end_address: "10.0.0.39/24", mark_populated: false },
 * ]);
 * assert(spans.length === 1);
 * ```
 */
export function populatedSpans(pool: IpPool, ranges: Iterable<RangeLike>): IpSpan[] {
  if (pool.kind !== "prefix") return [];
  const out: IpSpan[] = [];
  for (const range of ranges) {
    if (!range.mark_populated || (range.vrf?.id ?? null) !== pool.vrfId) continue;
    const start = hostOf(range.start_address);
    const end = hostOf(range.end_address);
    if (!contains(pool.bounds, start) || !contains(pool.bounds, end)) continue;
    out.push({ family: pool.family, start: start.value, end: end.value });
  }
  return out;
}

/**
 * Whether an IP address object occupies a host of the pool (right VRF, inside the bounds).
 *
 * @param pool The pool.
 * @param ip An IP address object (`address`, `vrf`).
 * @returns `true` when it takes an address of the pool.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { occupies, prefixPool } from "./free_ips.ts";
 * const pool = prefixPool({ id: 1, prefix: "10.0.0.0/24", vrf: { id: 7 } });
 * assert(occupies(pool, { address: "10.0.0.5/24", vrf: { id: 7 } }));
 * assert(!occupies(pool, { address: "10.0.0.5/24", vrf: null }));
 * ```
 */
export function occupies(
  pool: IpPool,
  ip: { address: string; vrf?: { id: number } | null },
): boolean {
  if (!pool.anyVrf && (ip.vrf?.id ?? null) !== pool.vrfId) return false;
  return contains(pool.bounds, hostOf(ip.address));
}

/**
 * The free spans of a usable span once occupied hosts and excluded spans are taken out, in
 * ascending order. Work is proportional to the number of occupied hosts, not the span's size.
 *
 * @param usable The usable span.
 * @param occupied Occupied host values (any order, duplicates and outsiders ignored).
 * @param excluded Spans that count as occupied (e.g. populated ranges).
 * @returns Disjoint, sorted free spans.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { freeSpans } from "./free_ips.ts";
 * const spans = freeSpans({ family: 4, start: 1n, end: 10n }, [3n, 4n], [{ family: 4, start: 8n, end: 20n }]);
 * assert(spans.map((s) => `${s.start}-${s.end}`).join() === "1-2,5-7");
 * ```
 */
export function freeSpans(
  usable: IpSpan,
  occupied: Iterable<bigint>,
  excluded: Iterable<IpSpan> = [],
): IpSpan[] {
  const taken: [bigint, bigint][] = [];
  for (const v of occupied) taken.push([v, v]);
  for (const s of excluded) if (s.family === usable.family) taken.push([s.start, s.end]);
  taken.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: IpSpan[] = [];
  let candidate = usable.start;
  for (const [start, end] of taken) {
    if (candidate > usable.end) break;
    if (end < candidate) continue;
    if (start > candidate) {
      const stop = start - 1n < usable.end ? start - 1n : usable.end;
      out.push({ family: usable.family, start: candidate, end: stop });
    }
    candidate = end + 1n;
  }
  if (candidate <= usable.end) {
    out.push({ family: usable.family, start: candidate, end: usable.end });
  }
  return out;
}

/**
 * How many addresses the spans hold.
 *
 * @param spans Spans.
 * @returns The total, as a `bigint` (an IPv6 /64 holds 2^64).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { spanSize } from "./free_ips.ts";
 * assert(spanSize([{ family: 4, start: 1n, end: 2n }, { family: 4, start: 5n, end: 5n }]) === 3n);
 * ```
 */
export function spanSize(spans: Iterable<IpSpan>): bigint {
  let total = 0n;
  for (const s of spans) if (s.end >= s.start) total += s.end - s.start + 1n;
  return total;
}

/**
 * Lazily yields free addresses from sorted spans, after leaving out the first `skip`.
 *
 * @param spans Sorted, disjoint spans (from {@linkcode freeSpans}).
 * @param options `skip`: free addresses to pass over first (default 0); `after`: start strictly
 * after this value.
 * @returns The addresses in ascending order; stop whenever you like.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { iterateFree } from "./free_ips.ts";
 * const spans = [{ family: 6 as const, start: 1n, end: (1n << 64n) - 1n }];
 * const first3 = iterateFree(spans).take(3).map((ip) => ip.value).toArray();
 * assert(first3.join() === "1,2,3");
 * ```
 */
export function* iterateFree(
  spans: Iterable<IpSpan>,
  options: { skip?: bigint; after?: bigint } = {},
): Generator<IpAddress> {
  let skip = options.skip ?? 0n;
  for (const span of spans) {
    let start = span.start;
    if (options.after !== undefined && options.after >= start) start = options.after + 1n;
    if (start > span.end) continue;
    const size = span.end - start + 1n;
    if (skip >= size) {
      skip -= size;
      continue;
    }
    start += skip;
    skip = 0n;
    for (let v = start; v <= span.end; v++) yield { family: span.family, value: v };
  }
}

/**
 * Leaves the first `n` addresses of a usable span out (e.g. gateways): the span starts `n`
 * later.
 *
 * @param usable The usable span.
 * @param n Addresses to leave out.
 * @returns The shortened span (empty when `n` covers it all).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { skipLeading } from "./free_ips.ts";
 * assert(skipLeading({ family: 4, start: 1n, end: 254n }, 3).start === 4n);
 * ```
 */
export function skipLeading(usable: IpSpan, n: number): IpSpan {
  return { family: usable.family, start: usable.start + BigInt(n), end: usable.end };
}
