/**
 * IPv4 and IPv6 address and CIDR math on `bigint`: parse, format (the way NetBox prints
 * addresses), containment, network bounds and the addresses NetBox counts as usable.
 *
 * @module
 */

/** An address family. */
export type IpFamily = 4 | 6;

/** One address: its family and its value as an unsigned integer. */
export interface IpAddress {
  /** 4 or 6. */
  readonly family: IpFamily;
  /** The address as an unsigned integer. */
  readonly value: bigint;
}

/** A CIDR: the address as written, its prefix length and the network's first and last value. */
export interface IpNetwork {
  /** 4 or 6. */
  readonly family: IpFamily;
  /** The address as written (`10.0.0.5` in `10.0.0.5/24`). */
  readonly address: bigint;
  /** The mask length (0–32 or 0–128). */
  readonly prefixLength: number;
  /** The network address (`10.0.0.0`). */
  readonly first: bigint;
  /** The last address (`10.0.0.255`). */
  readonly last: bigint;
}

/** An inclusive span of addresses of one family. */
export interface IpSpan {
  /** 4 or 6. */
  readonly family: IpFamily;
  /** The first address. */
  readonly start: bigint;
  /** The last address (inclusive). */
  readonly end: bigint;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

/**
 * The number of bits of an address of a family.
 *
 * @param family 4 or 6.
 * @returns 32 or 128.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { familyBits } from "./ip.ts";
 * assert(familyBits(6) === 128);
 * ```
 */
export function familyBits(family: IpFamily): number {
  return BITS[family];
}

/**
 * Parses an IPv4 or IPv6 address (no mask).
 *
 * @param text e.g. `"192.168.3.10"`, `"2001:db8::1"`, `"::ffff:10.0.0.1"`.
 * @returns The address.
 * @throws {TypeError} "Cannot parse IP address …" when the text is not an address.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseIp } from "./ip.ts";
 * assert(parseIp("10.0.0.1").value === 0x0a000001n);
 * assert(parseIp("::1").family === 6);
 * ```
 */
export function parseIp(text: string): IpAddress {
  const trimmed = text.trim();
  const value = trimmed.includes(":") ? parseV6(trimmed) : parseV4(trimmed);
  if (value === undefined) {
    throw new TypeError(`Cannot parse IP address "${text}": not an IPv4 or IPv6 address`);
  }
  return { family: trimmed.includes(":") ? 6 : 4, value };
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith("0"))) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 && halves[1] !== "" ? halves[1].split(":") : [];
  const words = [...head, ...tail];
  const groups: number[] = [];
  for (const [i, word] of words.entries()) {
    if (i === words.length - 1 && word.includes(".")) {
      const v4 = parseV4(word);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(word)) {
      groups.push(parseInt(word, 16));
    } else {
      return undefined;
    }
  }
  const headGroups = groups.slice(0, head.length);
  const tailGroups = groups.slice(head.length);
  if (halves.length === 1) {
    if (groups.length !== 8) return undefined;
  } else if (groups.length > 7) return undefined;
  const zeros = 8 - headGroups.length - tailGroups.length;
  const all = [...headGroups, ...new Array(zeros).fill(0), ...tailGroups];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/**
 * Formats an address the way NetBox (netaddr / inet_ntop) prints it: IPv6 lower case with the
 * longest run of two or more zero groups compressed, and IPv4-compatible / IPv4-mapped forms
 * (`::1.2.3.4`, `::ffff:1.2.3.4`) written with a dotted tail.
 *
 * @param ip The address.
 * @returns Its text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { formatIp, parseIp } from "./ip.ts";
 * assert(formatIp(parseIp("2001:0DB8:0:0:1:0:0:1")) === "2001:db8::1:0:0:1");
 * ```
 */
export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatV4(ip.value) : formatV6(ip.value);
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
}

function formatV6(value: bigint): string {
  const words = Array.from(
    { length: 8 },
    (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn),
  );
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = cur;
    } else {
      cur = { base: -1, len: 0 };
    }
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  const embedsV4 = best.base === 0 &&
    (best.len === 6 || (best.len === 5 && words[5] === 0xffff));
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (i === best.base) {
      out.push(i === 0 ? ":" : "");
      i += best.len - 1;
      if (i === 7) out.push("");
      continue;
    }
    if (i === 6 && embedsV4) {
      out.push(formatV4(value & 0xffffffffn));
      break;
    }
    out.push(words[i].toString(16));
  }
  return out.join(":");
}

/**
 * Parses a CIDR such as `10.0.0.5/24`; an address without a mask gets the full length
 * (/32, /128).
 *
 * @param text The CIDR.
 * @returns The network.
 * @throws {TypeError} "Cannot parse CIDR …" for bad text or a bad prefix length.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseCidr } from "./ip.ts";
 * const net = parseCidr("192.168.3.10/24");
 * assert(net.first === 0xc0a80300n && net.last === 0xc0a803ffn && net.prefixLength === 24);
 * ```
 */
export function parseCidr(text: string): IpNetwork {
  const [addr, len, extra] = text.trim().split("/");
  if (extra !== undefined) throw new TypeError(`Cannot parse CIDR "${text}": too many "/"`);
  let ip: IpAddress;
  try {
    ip = parseIp(addr);
  } catch {
    throw new TypeError(`Cannot parse CIDR "${text}": "${addr}" is not an IP address`);
  }
  const bits = BITS[ip.family];
  const prefixLength = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefixLength >= 0 && prefixLength <= bits)) {
    throw new TypeError(`Cannot parse CIDR "${text}": prefix length must be 0-${bits}`);
  }
  return network(ip, prefixLength);
}

/**
 * The network of an address and prefix length.
 *
 * @param ip An address inside the network.
 * @param prefixLength 0–32 or 0–128.
 * @returns The network.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { network, parseIp } from "./ip.ts";
 * assert(network(parseIp("10.1.2.3"), 8).first === 0x0a000000n);
 * ```
 */
export function network(ip: IpAddress, prefixLength: number): IpNetwork {
  const hostBits = BigInt(BITS[ip.family] - prefixLength);
  const hostMask = (1n << hostBits) - 1n;
  const first = ip.value & ~hostMask;
  return { family: ip.family, address: ip.value, prefixLength, first, last: first | hostMask };
}

/**
 * Formats a network as `<address>/<length>`; with `{ network: true }` the network address.
 *
 * @param net The network.
 * @param options `network`: print the network address instead of the address as written.
 * @returns e.g. `"10.0.0.5/24"` or `"10.0.0.0/24"`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { formatCidr, parseCidr } from "./ip.ts";
 * assert(formatCidr(parseCidr("10.0.0.5/24"), { network: true }) === "10.0.0.0/24");
 * ```
 */
export function formatCidr(net: IpNetwork, options: { network?: boolean } = {}): string {
  const value = options.network ? net.first : net.address;
  return `${formatIp({ family: net.family, value })}/${net.prefixLength}`;
}

/**
 * Whether an address lies inside a network or span (same family only).
 *
 * @param outer A network or span.
 * @param ip The address.
 * @returns `true` when inside.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { contains, parseCidr, parseIp } from "./ip.ts";
 * assert(contains(parseCidr("10.0.0.0/8"), parseIp("10.9.9.9")));
 * assert(!contains(parseCidr("10.0.0.0/8"), parseIp("::a09:909")));
 * ```
 */
export function contains(outer: IpNetwork | IpSpan, ip: IpAddress): boolean {
  const [start, end] = "first" in outer ? [outer.first, outer.last] : [outer.start, outer.end];
  return outer.family === ip.family && ip.value >= start && ip.value <= end;
}

/**
 * The first and last address NetBox treats as usable in a prefix: all of it for pools and
 * IPv4 /31–/32 or IPv6 /127–/128; otherwise IPv4 drops network and broadcast and IPv6 drops the
 * first (subnet-router anycast) address.
 *
 * @param net The prefix.
 * @param isPool The prefix's `is_pool` flag.
 * @returns The usable span.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { formatIp, parseCidr, usableSpan } from "./ip.ts";
 * const span = usableSpan(parseCidr("192.168.3.0/24"), false);
 * assert(formatIp({ family: 4, value: span.start }) === "192.168.3.1");
 * assert(formatIp({ family: 4, value: span.end }) === "192.168.3.254");
 * ```
 */
export function usableSpan(net: IpNetwork, isPool: boolean): IpSpan {
  const whole = isPool || (net.family === 4 ? net.prefixLength >= 31 : net.prefixLength >= 127);
  if (whole) return { family: net.family, start: net.first, end: net.last };
  return {
    family: net.family,
    start: net.first + 1n,
    end: net.family === 4 ? net.last - 1n : net.last,
  };
}

/**
 * Parses an IP range written `START-END` (addresses with or without masks, same family,
 * START ≤ END).
 *
 * @param text e.g. `"10.0.0.10-10.0.0.20"` or `"10.0.0.10/24-10.0.0.20/24"`.
 * @returns The span.
 * @throws {TypeError} "Cannot parse IP range …".
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseSpan } from "./ip.ts";
 * assert(parseSpan("10.0.0.10-10.0.0.20").end - parseSpan("10.0.0.10-10.0.0.20").start === 10n);
 * ```
 */
export function parseSpan(text: string): IpSpan {
  const parts = text.split("-");
  if (parts.length !== 2) {
    throw new TypeError(`Cannot parse IP range "${text}": expected START-END`);
  }
  let start: IpNetwork, end: IpNetwork;
  try {
    [start, end] = parts.map(parseCidr);
  } catch (err) {
    throw new TypeError(`Cannot parse IP range "${text}": ${(err as Error).message}`);
  }
  if (start.family !== end.family) {
    throw new TypeError(`Cannot parse IP range "${text}": the ends are of different families`);
  }
  if (start.address > end.address) {
    throw new TypeError(`Cannot parse IP range "${text}": the start is after the end`);
  }
  return { family: start.family, start: start.address, end: end.address };
}

/**
 * Splits a CIDR-or-address string into its address value, ignoring the mask; handy for
 * addresses as NetBox returns them (`"10.0.0.5/24"`).
 *
 * @param text An address with or without a mask.
 * @returns The address.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { hostOf } from "./ip.ts";
 * assert(hostOf("10.0.0.5/24").value === 0x0a000005n);
 * ```
 */
export function hostOf(text: string): IpAddress {
  const net = parseCidr(text);
  return { family: net.family, value: net.address };
}

/**
 * The smallest network that holds a whole span (e.g. to ask NetBox for `parent=<cidr>`).
 *
 * @param span The span.
 * @returns The covering network (its `address` is its first address).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { coveringNetwork, formatCidr, parseSpan } from "./ip.ts";
 * assert(formatCidr(coveringNetwork(parseSpan("10.0.0.10-10.0.0.20"))) === "10.0.0.0/27");
 * ```
 */
export function coveringNetwork(span: IpSpan): IpNetwork {
  const bits = BITS[span.family];
  let length = bits;
  while (
    length > 0 && (span.start >> BigInt(bits - length)) !== (span.end >> BigInt(bits - length))
  ) {
    length--;
  }
  const net = network({ family: span.family, value: span.start }, length);
  return { ...net, address: net.first };
}
