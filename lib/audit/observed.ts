/**
 * Observations of the network for `audit-ips --observed`: which addresses are live, with which
 * MAC, seen when and where. Read from ARP and neighbour tables (Linux `ip neigh`, `arp -an`,
 * Cisco IOS/NX-OS `show ip arp`, `show ipv6 neighbors`, Junos `show arp no-resolve`), DHCP
 * leases (ISC dhcpd, Kea CSV, dnsmasq), nmap XML and a plain CSV/JSON
 * (`address, mac, seen_at, source`).
 *
 * The format is detected from the content (or named); a file that is none of them, or has one
 * line a reader cannot read, is refused whole with an `InputError` naming file:line — never
 * half-read. Entries that are no sighting are dropped: incomplete/failed ARP entries, expired or
 * released leases, hosts nmap found down, and IPv6 link-local addresses (never documented).
 *
 * @module
 */

import { InputError } from "../client/errors.ts";
import { formatIp, parseIp } from "../ipam/ip.ts";
import {
  arpAn,
  ciscoIpv6,
  dhcpdLeases,
  dnsmasqLeases,
  iosArp,
  ipNeigh,
  junosArp,
  keaCsv,
  LineError,
  nmapXml,
  normalizeMac,
  nxosArp,
  plainCsv,
  plainJson,
  type Reader,
} from "./_observed_formats.ts";

/** The formats {@linkcode parseObservations} reads. */
export const OBSERVED_FORMATS = [
  "ip-neigh",
  "arp-an",
  "ios-arp",
  "nxos-arp",
  "ios-ipv6-neighbors",
  "junos-arp",
  "dhcpd-leases",
  "kea-csv",
  "dnsmasq-leases",
  "nmap-xml",
  "csv",
  "json",
] as const;

/** One of {@linkcode OBSERVED_FORMATS}. */
export type ObservedFormat = typeof OBSERVED_FORMATS[number];

const READERS: Record<ObservedFormat, Reader> = {
  "ip-neigh": ipNeigh,
  "arp-an": arpAn,
  "ios-arp": iosArp,
  "nxos-arp": nxosArp,
  "ios-ipv6-neighbors": ciscoIpv6,
  "junos-arp": junosArp,
  "dhcpd-leases": dhcpdLeases,
  "kea-csv": keaCsv,
  "dnsmasq-leases": dnsmasqLeases,
  "nmap-xml": nmapXml,
  csv: plainCsv,
  json: plainJson,
};

/** Formats whose entries are DHCP leases (`status-mismatch` checks them against ranges). */
export const LEASE_FORMATS: ReadonlySet<string> = new Set([
  "dhcpd-leases",
  "kea-csv",
  "dnsmasq-leases",
]);

/** One live address seen on the network. */
export interface Observation {
  /** The address, canonical (`10.0.0.5`, `2001:db8::5`), no mask. */
  address: string;
  /** 4 or 6. */
  family: 4 | 6;
  /** The address as a number. */
  host: bigint;
  /** The MAC in NetBox's form (`00:1A:2B:3C:4D:5E`), or `null`. */
  mac: string | null;
  /** When it was seen (ISO 8601). */
  seen_at: string;
  /** Where: `file:line` (or the source the plain format names). */
  source: string;
  /** The format it was read from (`tcp-probe` for a `--probe` answer). */
  format: ObservedFormat | "tcp-probe";
  /** The VRF's name given with the file, or `null` for the global table. */
  vrf: string | null;
}

/** Options of {@linkcode parseObservations}. */
export interface ParseObservationsOptions {
  /** The file's name, for `source` and messages. */
  file: string;
  /** The format; detected from the content when absent. */
  format?: ObservedFormat;
  /** The VRF the file's addresses are in. @default {null} (the global table) */
  vrf?: string | null;
  /** When the file is read: the `seen_at` of entries without one; leases expire against it. */
  now?: Date;
}

/**
 * Detects the format of an observation file from its content.
 *
 * @param text The file's content.
 * @returns The format, or `undefined` when it is none of {@linkcode OBSERVED_FORMATS}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { detectObservedFormat } from "./observed.ts";
 * assert(detectObservedFormat("10.0.0.1 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE\n") === "ip-neigh");
 * assert(detectObservedFormat("hello\n") === undefined);
 * ```
 */
export function detectObservedFormat(text: string): ObservedFormat | undefined {
  const t = text.trimStart();
  if (
    /^(?:<\?xml[^>]*>\s*)?(?:<!DOCTYPE nmaprun[^>]*>\s*)?(?:<\?xml-stylesheet[^>]*>\s*)?<nmaprun[\s>]/
      .test(t)
  ) {
    return "nmap-xml";
  }
  if (t.startsWith("[") || t.startsWith("{")) return "json";
  const rows = t.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  if (rows.length === 0) return undefined;
  const first = rows[0];
  const head = first.toLowerCase().split(",").map((c) => c.trim());
  if (head[0] === "address" && (head[1] === "hwaddr" || head[1] === "duid")) return "kea-csv";
  if (head.includes("address") && first.includes(",")) return "csv";
  if (rows.some((l) => /^lease\s+\S+\s*\{$/.test(l) || /^ia-(?:na|ta|pd)\s/.test(l))) {
    return "dhcpd-leases";
  }
  const header = rows.find((l) =>
    /^(?:Protocol\s+Address\s+Age|Address\s+Age\s+MAC Address|IPv6 Address\s+Age|MAC Address\s+Address\s+Interface)/i
      .test(l)
  );
  if (header) {
    if (/^Protocol/i.test(header)) return "ios-arp";
    if (/^Address/i.test(header)) return "nxos-arp";
    if (/^IPv6/i.test(header)) return "ios-ipv6-neighbors";
    return "junos-arp";
  }
  if (/^\S+\s+dev\s+\S+/.test(first)) return "ip-neigh";
  if (/^\S+\s+\([^)]+\)\s+at\s+/.test(first)) return "arp-an";
  if (/^\d+\s+\S+\s+\S+\s+\S+\s+\S+$/.test(first) || /^duid\s+\S+$/.test(first)) {
    return "dnsmasq-leases";
  }
  return undefined;
}

/**
 * Reads one observation file: detects (or uses) its format, reads every entry, checks every
 * address and MAC, and drops what is no sighting (see the module doc). The same address twice
 * keeps its latest sighting.
 *
 * @param text The file's content.
 * @param options The file's name, format, VRF and the time it is read at.
 * @returns The sightings, in file order.
 * @throws {InputError} "Cannot read observations FILE:LINE: …" for a bad line, or "Cannot read
 *   observations FILE: not one of the formats …" for an unknown file (exit code 2).
 *
 * @example An ARP table with an incomplete entry
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseObservations } from "./observed.ts";
 * const seen = parseObservations(
 *   "? (10.0.0.1) at 00:11:22:33:44:55 [ether] on eth0\n? (10.0.0.2) at <incomplete> on eth0\n",
 *   { file: "arp.txt", now: new Date("2026-12-01T00:00:00Z") },
 * );
 * assert(seen.length === 1 && seen[0].mac === "00:11:22:33:44:55" && seen[0].source === "arp.txt:1");
 * ```
 */
export function parseObservations(text: string, options: ParseObservationsOptions): Observation[] {
  const { file } = options;
  const now = options.now ?? new Date();
  const format = options.format ?? detectObservedFormat(text);
  if (!format) {
    throw new InputError(
      `Cannot read observations ${file}: not one of the formats ${OBSERVED_FORMATS.join(", ")} ` +
        "(name one with --observed-format)",
    );
  }
  let raw;
  try {
    raw = READERS[format](text, now);
  } catch (err) {
    if (!(err instanceof LineError)) throw err;
    throw new InputError(
      `Cannot read observations ${file}:${err.line} (${format}): ${err.message}`,
    );
  }
  const byAddress = new Map<string, Observation>();
  for (const r of raw) {
    const where = `${file}:${r.line}`;
    let ip;
    try {
      ip = parseIp(r.address.replace(/%.*$/, ""));
    } catch {
      throw new InputError(
        `Cannot read observations ${where} (${format}): "${r.address}" is not an IP address`,
      );
    }
    if (ip.family === 6 && ip.value >> 118n === 0x3fan) continue; // fe80::/10
    let mac: string | null = null;
    if (r.mac !== null && r.mac !== "") {
      mac = normalizeMac(r.mac);
      if (mac === null) {
        throw new InputError(
          `Cannot read observations ${where} (${format}): "${r.mac}" is not a MAC address`,
        );
      }
    }
    const address = formatIp(ip);
    const seen: Observation = {
      address,
      family: ip.family,
      host: ip.value,
      mac,
      seen_at: r.seen_at ?? now.toISOString(),
      source: r.source ?? where,
      format,
      vrf: options.vrf ?? null,
    };
    const before = byAddress.get(address);
    if (!before || before.seen_at <= seen.seen_at) byAddress.set(address, seen);
  }
  return [...byAddress.values()];
}

/** One `--observed` argument: `FILE` or `vrf=NAME:FILE`. */
export interface ObservedSpec {
  /** The file. */
  file: string;
  /** The VRF, or `null` for the global table. */
  vrf: string | null;
}

/**
 * Splits an `--observed` argument: `arp.txt` or `vrf=tenant-a:arp.txt`.
 *
 * @param value The argument.
 * @returns The file and VRF.
 * @throws {InputError} When `vrf=` has no name or no file.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseObservedSpec } from "./observed.ts";
 * assert(parseObservedSpec("vrf=blue:arp.txt").vrf === "blue");
 * assert(parseObservedSpec("arp.txt").vrf === null);
 * ```
 */
export function parseObservedSpec(value: string): ObservedSpec {
  if (!value.startsWith("vrf=")) return { file: value, vrf: null };
  const colon = value.indexOf(":");
  const vrf = colon < 0 ? "" : value.slice(4, colon);
  const file = colon < 0 ? "" : value.slice(colon + 1);
  if (vrf === "" || file === "") {
    throw new InputError(`Cannot use --observed "${value}": expected FILE or vrf=NAME:FILE`);
  }
  return { file, vrf };
}
