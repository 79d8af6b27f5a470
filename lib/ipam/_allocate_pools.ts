/**
 * The three kinds of pool NetBox hands objects out of — a parent prefix (`available-prefixes`),
 * a VLAN group (`available-vlans`) and an ASN range (`available-asns`) — each as one table row
 * of what allocation needs: how to find the pools, how full one is, what it holds, and what it
 * would hand out now. `allocate.ts` runs the same steps over any of them.
 *
 * @module
 */

import { createAvailable } from "../client/available.ts";
import { InputError } from "../client/errors.ts";
import type { Filters, NetBoxClient, NetBoxObject } from "../client/types.ts";
import { refId } from "./exhaustion.ts";
import { formatIp, parseCidr } from "./ip.ts";

/** One pool: a parent prefix, a VLAN group or an ASN range. */
export interface Pool {
  /** Its id. */
  id: number;
  /** How people name it: `10.0.0.0/24`, the group's or range's name. */
  label: string;
  /** The NetBox object. */
  object: NetBoxObject;
}

/** How full a pool is, and how many of the requested objects still fit. */
export interface Capacity {
  /** Units in the pool (addresses, VLAN ids, AS numbers). */
  size: bigint;
  /** Units in use. */
  used: bigint;
  /** Units one requested object takes (a /30: 4 addresses; a VLAN, an ASN: 1). */
  unit: bigint;
  /** How many requested objects fit (capped at what was asked). */
  fits: number;
}

/** What allocation needs of a kind of pool. */
export interface PoolKind {
  /** `prefix`, `VLAN`, `ASN` — for messages. */
  noun: string;
  /** `prefixes`, `VLANs`, `ASNs`. */
  nouns: string;
  /** The pools' list path, e.g. `ipam/vlan-groups/`. */
  poolPath: string;
  /** The allocated objects' list path, e.g. `ipam/vlans/`. */
  objectPath: string;
  /** The detail endpoint. */
  available: "available-prefixes" | "available-vlans" | "available-asns";
  /** What the allocated object is called by: its prefix, VLAN id or AS number. */
  valueOf(object: NetBoxObject): string;
  /** The filters that list what a pool holds (its members), for finding a key's objects. */
  members(pool: Pool): Filters;
  /** How full the pool is for `need` objects (`length` for prefixes). */
  capacity(client: NetBoxClient, pool: Pool, need: number, length?: number): Promise<Capacity>;
  /** What the pool would hand out now for `need` objects, in order. */
  preview(client: NetBoxClient, pool: Pool, need: number, length?: number): Promise<string[]>;
  /** The change log's object type of the allocated objects (`ipam.prefix`, …). */
  changeType: string;
  /** The units a created object (its change-log data) took out of the pool; 0 if outside it. */
  took(pool: Pool, data: Record<string, unknown>): number;
}

const BITS = { 4: 32, 6: 128 } as const;

/** The free blocks of a prefix as NetBox lists them (`available-prefixes`, every one). */
async function freeBlocks(
  client: NetBoxClient,
  pool: Pool,
): Promise<{ first: bigint; length: number; family: 4 | 6 }[]> {
  const free = await createAvailable<{ prefix: string }, NetBoxObject>(
    client,
    "ipam/prefixes/",
    pool.id,
    "available-prefixes",
  ).list();
  return free.map((b) => {
    const net = parseCidr(b.prefix);
    return { first: net.first, length: net.prefixLength, family: net.family };
  });
}

/** The parent prefix's network. */
export function parentNet(pool: Pool): ReturnType<typeof parseCidr> {
  return parseCidr(String((pool.object as { prefix?: string }).prefix));
}

/** Prefixes out of a parent prefix. */
export const PREFIX_POOLS: PoolKind = {
  noun: "prefix",
  nouns: "prefixes",
  poolPath: "ipam/prefixes/",
  objectPath: "ipam/prefixes/",
  available: "available-prefixes",
  valueOf: (o) => String((o as { prefix?: string }).prefix),
  members: (pool) => ({
    within: pool.label,
    vrf_id: (pool.object as { vrf?: { id: number } | null }).vrf?.id ?? null,
  }),
  async capacity(client, pool, need, length = 0) {
    const net = parentNet(pool);
    const bits = BITS[net.family];
    const blocks = await freeBlocks(client, pool);
    const size = 1n << BigInt(bits - net.prefixLength);
    let free = 0n, fits = 0n;
    for (const b of blocks) {
      free += 1n << BigInt(bits - b.length);
      if (b.length <= length) fits += 1n << BigInt(length - b.length);
    }
    return {
      size,
      used: size - free,
      unit: 1n << BigInt(bits - length),
      fits: Number(fits < BigInt(need) ? fits : BigInt(need)),
    };
  },
  async preview(client, pool, need, length = 0) {
    // NetBox's rule: the first free block at least that large, split from its start.
    const blocks = await freeBlocks(client, pool);
    const out: string[] = [];
    const step = (family: 4 | 6) => 1n << BigInt(BITS[family] - length);
    const queue = blocks.map((b) => ({
      ...b,
      end: b.first + (1n << BigInt(BITS[b.family] - b.length)),
    }));
    while (out.length < need) {
      queue.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
      const i = queue.findIndex((b) => b.length <= length && b.end - b.first >= step(b.family));
      if (i < 0) break;
      const b = queue[i];
      out.push(`${formatIp({ family: b.family, value: b.first })}/${length}`);
      b.first += step(b.family);
      if (b.first >= b.end) queue.splice(i, 1);
      else b.length = length; // what is left is handed out in blocks of this size or smaller
    }
    return out;
  },
  changeType: "ipam.prefix",
  took(pool, data) {
    if (typeof data.prefix !== "string") return 0;
    const vrf = (pool.object as { vrf?: { id: number } | null }).vrf?.id ?? null;
    if (refId(data.vrf) !== vrf) return 0;
    let child;
    try {
      child = parseCidr(data.prefix);
    } catch {
      return 0;
    }
    const net = parentNet(pool);
    if (
      child.family !== net.family || child.prefixLength <= net.prefixLength ||
      child.first < net.first || child.last > net.last
    ) return 0;
    return Number(1n << BigInt(BITS[child.family] - child.prefixLength));
  },
};

interface VlanGroupObject extends NetBoxObject {
  vid_ranges?: [number, number][] | null;
  min_vid?: number;
  max_vid?: number;
}

/** VLANs out of a VLAN group. */
export const VLAN_POOLS: PoolKind = {
  noun: "VLAN",
  nouns: "VLANs",
  poolPath: "ipam/vlan-groups/",
  objectPath: "ipam/vlans/",
  available: "available-vlans",
  valueOf: (o) => String((o as { vid?: number }).vid),
  members: (pool) => ({ group_id: pool.id }),
  async capacity(client, pool, need) {
    const g = pool.object as VlanGroupObject;
    const ranges = g.vid_ranges?.length ? g.vid_ranges : [[g.min_vid ?? 1, g.max_vid ?? 4094]];
    // NetBox serialises each range with both bounds inclusive.
    const size = BigInt(ranges.reduce((n, [lo, hi]) => n + (hi - lo + 1), 0));
    const used = BigInt(await client.endpoint("ipam/vlans/").count({ group_id: pool.id }));
    return countedCapacity(size, used, need);
  },
  preview: (client, pool, need) => previewFree(client, VLAN_POOLS, pool.id, need),
  changeType: "ipam.vlan",
  took: (pool, data) => refId(data.group) === pool.id ? 1 : 0,
};

/** A pool of countable members (VLAN ids, AS numbers): what is free, up to what is needed. */
function countedCapacity(size: bigint, used: bigint, need: number) {
  const free = size > used ? size - used : 0n;
  return { size, used, unit: 1n, fits: Number(free < BigInt(need) ? free : BigInt(need)) };
}

/** The first `need` values NetBox would hand out now from a pool (its available-* list). */
async function previewFree(
  client: NetBoxClient,
  kind: PoolKind,
  id: number,
  need: number,
): Promise<string[]> {
  const free = await createAvailable<NetBoxObject, NetBoxObject>(
    client,
    kind.poolPath,
    id,
    kind.available,
  ).list({ limit: need });
  return free.slice(0, need).map(kind.valueOf);
}

interface AsnRangeObject extends NetBoxObject {
  start: number;
  end: number;
}

/** ASNs out of an ASN range. */
export const ASN_POOLS: PoolKind = {
  noun: "ASN",
  nouns: "ASNs",
  poolPath: "ipam/asn-ranges/",
  objectPath: "ipam/asns/",
  available: "available-asns",
  valueOf: (o) => String((o as { asn?: number }).asn),
  members: (pool) => {
    const r = pool.object as AsnRangeObject;
    return { asn__gte: r.start, asn__lte: r.end };
  },
  async capacity(client, pool, need) {
    const r = pool.object as AsnRangeObject;
    const size = BigInt(r.end - r.start + 1);
    const used = BigInt(await client.endpoint("ipam/asns/").count(ASN_POOLS.members(pool)));
    return countedCapacity(size, used, need);
  },
  preview: (client, pool, need) => previewFree(client, ASN_POOLS, pool.id, need),
  changeType: "ipam.asn",
  took(pool, data) {
    const r = pool.object as AsnRangeObject;
    const asn = data.asn;
    return typeof asn === "number" && asn >= r.start && asn <= r.end ? 1 : 0;
  },
};

/**
 * Pools are listed ordered by name, which also keeps the listing in offset mode: on NetBox 4.6+
 * cursor paging sends `start=<id>`, and ASN ranges have a `start` filter (their first AS
 * number) that takes it — a cursor listing of ASN ranges comes back empty.
 */
const BY_NAME = { ordering: "name" } as const;

/**
 * A VLAN group or ASN range by id, name or slug; `what` names it in the message. Nothing found
 * (or several) is the caller's input error (exit 2).
 */
export async function namedPool(
  client: NetBoxClient,
  kind: PoolKind,
  ref: string | number,
  what: string,
  option: string,
): Promise<Pool> {
  const endpoint = client.endpoint(kind.poolPath);
  const text = String(ref);
  const tries: Filters[] = [
    ...(/^\d+$/.test(text) ? [{ id: Number(text) }] : []),
    { name: text },
    { slug: text },
  ];
  for (const filters of tries) {
    const hits = await endpoint.all(filters, BY_NAME);
    if (hits.length === 1) {
      const o = hits[0];
      return { id: o.id, label: String(o.name ?? o.display ?? `#${o.id}`), object: o };
    }
    if (hits.length > 1) {
      throw new InputError(
        `Cannot use ${option} "${text}": ${hits.length} ${what}s match; use the id`,
      );
    }
  }
  throw new InputError(
    `Cannot use ${option} "${text}": no ${what} has that id, name or slug`,
  );
}

/** The pools matching list filters, in NetBox's order; none is the caller's input error. */
export async function filteredPools(
  client: NetBoxClient,
  kind: PoolKind,
  filters: Filters,
  option: string,
  label: (o: NetBoxObject) => string,
): Promise<Pool[]> {
  const hits = await client.endpoint(kind.poolPath).all(filters, BY_NAME);
  if (!hits.length) {
    const text = Object.entries(filters).map(([k, v]) => `${k}=${String(v)}`).join(" ");
    throw new InputError(`Cannot use ${option} ${text}: nothing matches in ${kind.poolPath}`);
  }
  return hits.map((o) => ({ id: o.id, label: label(o), object: o }));
}
