/**
 * The parsed, sorted view of the audit data: addresses and prefixes grouped by VRF and family,
 * the closest enclosing prefix of every address (one sorted sweep per group), and prefix
 * utilization computed the way NetBox's `Prefix.get_utilization()` does.
 *
 * @module
 */

import { parseCidr } from "../ipam/ip.ts";
import type { AuditIp, AuditPrefix, AuditRange } from "./model.ts";
import { choiceValue } from "./model.ts";

/** An address with its parsed value. */
export interface IpEntry {
  ip: AuditIp;
  family: 4 | 6;
  host: bigint;
  /** `host` as a number: exact for IPv4, a monotonic approximation for IPv6 (fast sorting). */
  key: number;
  length: number;
  vrfId: number;
  /** Index of the closest enclosing prefix in its own VRF (into `prefixes`), or -1. */
  closest: number;
}

/** A prefix with its parsed bounds. */
export interface PrefixEntry {
  prefix: AuditPrefix;
  family: 4 | 6;
  first: bigint;
  last: bigint;
  length: number;
  vrfId: number;
  container: boolean;
}

/** A range with its parsed bounds. */
export interface RangeEntry {
  range: AuditRange;
  family: 4 | 6;
  start: bigint;
  end: bigint;
  vrfId: number;
}

/** One VRF and family: everything sorted by address. */
export interface Group {
  ips: IpEntry[];
  prefixes: PrefixEntry[];
  /** The distinct hosts of `ips`, ascending. */
  hosts: bigint[];
  /** Ranges with `mark_utilized`, ascending by start. */
  utilizedRanges: RangeEntry[];
}

/** The whole index. */
export interface AuditIndex {
  ips: IpEntry[];
  prefixes: PrefixEntry[];
  groups: Map<string, Group>;
  /** Addresses that could not be parsed (reported as warnings by the caller). */
  unparsed: AuditIp[];
}

const cmpBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** The group key of a VRF id (0 = global) and family. */
export function groupKey(vrfId: number, family: number): string {
  return `${vrfId}/${family}`;
}

function group(groups: Map<string, Group>, key: string): Group {
  let g = groups.get(key);
  if (!g) {
    g = { ips: [], prefixes: [], hosts: [], utilizedRanges: [] };
    groups.set(key, g);
  }
  return g;
}

/** Builds the index and runs the containment sweep. */
export function buildIndex(
  ips: AuditIp[],
  prefixes: AuditPrefix[],
  ranges: AuditRange[],
): AuditIndex {
  const groups = new Map<string, Group>();
  const unparsed: AuditIp[] = [];
  const ipEntries: IpEntry[] = [];
  for (const ip of ips) {
    const net = parseAddress(ip.address);
    if (!net) {
      unparsed.push(ip);
      continue;
    }
    const vrfId = ip.vrf?.id ?? 0;
    const e: IpEntry = {
      ip,
      family: net.family,
      host: net.host,
      key: net.key,
      length: net.length,
      vrfId,
      closest: -1,
    };
    ipEntries.push(e);
    group(groups, groupKey(vrfId, net.family)).ips.push(e);
  }
  const prefixEntries: PrefixEntry[] = [];
  for (const prefix of prefixes) {
    let net;
    try {
      net = parseCidr(prefix.prefix);
    } catch {
      continue;
    }
    const vrfId = prefix.vrf?.id ?? 0;
    const e: PrefixEntry = {
      prefix,
      family: net.family,
      first: net.first,
      last: net.last,
      length: net.prefixLength,
      vrfId,
      container: choiceValue(prefix.status) === "container",
    };
    prefixEntries.push(e);
    group(groups, groupKey(vrfId, net.family)).prefixes.push(e);
  }
  for (const range of ranges) {
    if (!range.mark_utilized) continue;
    try {
      const start = parseCidr(range.start_address);
      const end = parseCidr(range.end_address);
      const vrfId = range.vrf?.id ?? 0;
      group(groups, groupKey(vrfId, start.family)).utilizedRanges.push({
        range,
        family: start.family,
        start: start.address,
        end: end.address,
        vrfId,
      });
    } catch {
      continue;
    }
  }
  for (const g of groups.values()) {
    g.ips.sort((a, b) =>
      a.key - b.key || (a.family === 6 ? cmpBig(a.host, b.host) : 0) || a.ip.id - b.ip.id
    );
    g.prefixes.sort(comparePrefixes);
    g.utilizedRanges.sort((a, b) => cmpBig(a.start, b.start));
    for (const e of g.ips) {
      if (g.hosts.length === 0 || g.hosts[g.hosts.length - 1] !== e.host) g.hosts.push(e.host);
    }
  }
  // `closest` indexes into the global prefixEntries array: map group positions back.
  const position = new Map<PrefixEntry, number>();
  prefixEntries.forEach((p, i) => position.set(p, i));
  for (const g of groups.values()) {
    const found = sweep(g.ips.map((e) => e.host), g.prefixes);
    g.ips.forEach((e, i) => (e.closest = found[i] < 0 ? -1 : position.get(g.prefixes[found[i]])!));
  }
  return { ips: ipEntries, prefixes: prefixEntries, groups, unparsed };
}

/**
 * Parses `a.b.c.d/len` with plain number arithmetic (one bigint per address: the analysis of
 * 50,000 addresses spends its time here otherwise) and anything else with `parseCidr`.
 */
export function parseAddress(
  text: string,
): Parsed | undefined {
  let value = 0, octet = 0, digits = 0, dots = 0, i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return slowParse(text);
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0, digits = 0, dots++;
    } else break;
  }
  if (dots !== 3 || digits === 0) return slowParse(text);
  value = value * 256 + octet;
  let length = 32;
  if (i < text.length) {
    if (text.charCodeAt(i) !== 47 || i + 1 === text.length || text.length - i > 3) {
      return slowParse(text);
    }
    length = Number(text.slice(i + 1));
    if (!Number.isInteger(length) || length > 32) return slowParse(text);
  }
  return { family: 4, host: BigInt(value), key: value, length };
}

/** A parsed address. */
export interface Parsed {
  family: 4 | 6;
  host: bigint;
  key: number;
  length: number;
}

function slowParse(text: string): Parsed | undefined {
  try {
    const net = parseCidr(text);
    return {
      family: net.family,
      host: net.address,
      key: Number(net.address),
      length: net.prefixLength,
    };
  } catch {
    return undefined;
  }
}

function comparePrefixes(a: PrefixEntry, b: PrefixEntry): number {
  return cmpBig(a.first, b.first) || a.length - b.length || a.prefix.id - b.prefix.id;
}

/**
 * For ascending `hosts`, the index (into `sorted`, sorted by start then length) of the most
 * specific prefix containing each host, or -1. One pass with a stack of open prefixes.
 */
export function sweep(hosts: bigint[], sorted: PrefixEntry[]): number[] {
  const out = new Array<number>(hosts.length).fill(-1);
  const stack: number[] = [];
  let next = 0;
  for (let i = 0; i < hosts.length; i++) {
    const host = hosts[i];
    while (next < sorted.length && sorted[next].first <= host) {
      const p = sorted[next];
      while (stack.length && sorted[stack[stack.length - 1]].last < p.first) stack.pop();
      stack.push(next++);
    }
    while (stack.length && sorted[stack[stack.length - 1]].last < host) stack.pop();
    if (stack.length) out[i] = stack[stack.length - 1];
  }
  return out;
}

/** The number of values of ascending `values` in [lo, hi]. */
export function countBetween(values: bigint[], lo: bigint, hi: bigint): number {
  return lowerBound(values, hi + 1n) - lowerBound(values, lo);
}

function lowerBound(values: bigint[], x: bigint): number {
  let lo = 0, hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Used and total address counts of a prefix, NetBox's way. */
export interface Usage {
  used: bigint;
  size: bigint;
  /** Percent, capped at 100, two decimals. */
  percent: number;
}

/**
 * Utilization of `p` (at `index` in its group's sorted prefixes): `mark_utilized` → 100 %;
 * containers: the union of strictly contained child prefixes of the same VRF; others: distinct
 * child hosts of the same VRF plus `mark_utilized` ranges inside it, over the prefix size (IPv4
 * below /31 and not a pool: minus network and broadcast).
 */
export function utilization(g: Group, index: number): Usage {
  const p = g.prefixes[index];
  const whole = p.last - p.first + 1n;
  if (p.prefix.mark_utilized) return { used: whole, size: whole, percent: 100 };
  if (p.container) {
    let used = 0n;
    let coveredTo = p.first - 1n;
    // Sorted by start then length, so every child comes after the prefix itself.
    for (let j = index + 1; j < g.prefixes.length; j++) {
      const c = g.prefixes[j];
      if (c.first > p.last) break;
      if (c.length <= p.length) continue; // a duplicate of the prefix
      if (c.first <= coveredTo) continue; // nested in a child already counted
      used += c.last - c.first + 1n;
      coveredTo = c.last;
    }
    return usage(used, whole);
  }
  let used = BigInt(countBetween(g.hosts, p.first, p.last));
  for (const r of rangesInside(g.utilizedRanges, p.first, p.last)) {
    used += r.end - r.start + 1n - BigInt(countBetween(g.hosts, r.start, r.end));
  }
  const size = p.family === 4 && p.length < 31 && !p.prefix.is_pool ? whole - 2n : whole;
  return usage(used, size > 0n ? size : whole);
}

function rangesInside(ranges: RangeEntry[], first: bigint, last: bigint): RangeEntry[] {
  const out: RangeEntry[] = [];
  let lo = 0, hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid].start < first) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < ranges.length; i++) {
    const r = ranges[i];
    if (r.start > last) break;
    if (r.start >= first && r.end <= last) out.push(r);
  }
  return out;
}

function usage(used: bigint, size: bigint): Usage {
  const basisPoints = Number((used * 10000n) / size);
  return { used, size, percent: Math.min(100, basisPoints / 100) };
}
