/**
 * The audit against the network: NetBox's addresses compared with observations of what is live
 * (`observed.ts`). Four rules, off unless observations are given:
 *
 * - `live-undocumented`: seen, but no address with that host in its VRF (with the enclosing
 *   prefix, whose mask a `--fix` gives the new address);
 * - `documented-unseen`: active in NetBox, inside a prefix the observations cover, and not seen
 *   for N days — the last sighting kept across runs in the state (`seen`);
 * - `mac-mismatch`: seen with a MAC that is not one of the MACs of the interface the address is
 *   assigned to (interfaces without a MAC in NetBox are not judged);
 * - `status-mismatch`: reserved or deprecated in NetBox but live; or a DHCP lease on an address
 *   outside every IP range and pool prefix of its VRF.
 *
 * No I/O; one hash lookup per observation and one sorted sweep per VRF and family.
 *
 * @module
 */

import { buildIndex, groupKey, type IpEntry, type PrefixEntry, sweep } from "./_index.ts";
import { isExemptFrom, isIgnored, type Subject } from "./_exempt.ts";
import { formatIp, parseCidr } from "../ipam/ip.ts";
import { resolveVrf } from "./data.ts";
import { type AuditData, choiceValue, type Finding, type RelatedObject, uiUrl } from "./model.ts";
import { LEASE_FORMATS, type Observation } from "./observed.ts";
import type { AuditConfig } from "./rules.ts";

/** The rules of this module, in report order. */
export const NETWORK_RULES: readonly string[] = [
  "live-undocumented",
  "documented-unseen",
  "mac-mismatch",
  "status-mismatch",
];

const INTERFACE_TYPES = new Set(["dcim.interface", "virtualization.vminterface"]);
const DAY_MS = 86_400_000;

/** Options of {@linkcode checkNetwork}. */
export interface CheckNetworkOptions {
  /** The sightings (every `--observed` file). */
  observations: readonly Observation[];
  /** The run's time. @default {new Date()} */
  now?: Date;
  /** `documented-unseen` reports addresses not seen for more than this many days. @default {30} */
  unseenDays?: number;
  /** Last sightings of earlier runs (the state's `seen`: {@linkcode seenKey} → ISO time). */
  lastSeen?: Readonly<Record<string, string>>;
  /** Since when sightings are kept (the state's `observed_since`); never-seen counts from it. */
  observedSince?: string | null;
  /** Interface MACs: `dcim.interface:ID` / `virtualization.vminterface:ID` → MACs. */
  interfaceMacs?: ReadonlyMap<string, readonly string[]>;
  /** Only observations in this VRF (id; `null` = global) are judged (the audit's `--vrf`). */
  vrfId?: number | null;
  /** Only observations inside this CIDR are judged (the audit's `--parent`). */
  parent?: string;
}

/** What {@linkcode checkNetwork} returns. */
export interface NetworkCheck {
  /** The findings of the enabled network rules. */
  findings: Finding[];
  /** Every sighting to keep: `lastSeen` updated with this run's (latest wins). */
  seen: Record<string, string>;
  /** How many sightings were judged (in scope). */
  observed: number;
}

/**
 * The key of an address's last sighting in a state: VRF id (0 = global) and address.
 *
 * @param vrfId the VRF's id, `0` or `null` for the global table
 * @param address the address without mask, canonical
 * @returns `"0/10.0.0.5"`
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { seenKey } from "./network.ts";
 * assert(seenKey(null, "10.0.0.5") === "0/10.0.0.5");
 * ```
 */
export function seenKey(vrfId: number | null, address: string): string {
  return `${vrfId ?? 0}/${address}`;
}

/**
 * Compares NetBox's addresses with observations of the network (see the module doc).
 *
 * @param data The audit's data (addresses, prefixes, ranges, VRFs in scope).
 * @param config Enabled rules, severities, exemptions, ignore tag.
 * @param options The sightings, the clock, the history and interface MACs.
 * @returns The findings and the sightings to keep.
 * @throws {InputError} When an observation names a VRF NetBox does not have.
 *
 * @example An address seen but not in NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { checkNetwork } from "./network.ts";
 * import { parseObservations } from "./observed.ts";
 * import { defaultAuditConfig } from "./rules.ts";
 * const config = defaultAuditConfig();
 * config.enabled.add("live-undocumented");
 * const observations = parseObservations("10.0.0.9 dev eth0 lladdr 00:11:22:33:44:09 REACHABLE\n",
 *   { file: "neigh.txt" });
 * const { findings } = checkNetwork({
 *   ips: [], prefixes: [{ id: 3, prefix: "10.0.0.0/24" }], ranges: [], vrfs: [],
 *   interfaces: [], vmInterfaces: [], devices: [], vms: [],
 * }, config, { observations });
 * assert(findings[0].rule === "live-undocumented" && findings[0].address === "10.0.0.9/24");
 * ```
 */
export function checkNetwork(
  data: AuditData,
  config: AuditConfig,
  options: CheckNetworkOptions,
): NetworkCheck {
  const now = options.now ?? new Date();
  const unseenDays = options.unseenDays ?? 30;
  const on = (rule: string) => config.enabled.has(rule);
  const index = buildIndex(data.ips, data.prefixes, []);
  const vrfNames = new Map(data.vrfs.map((v) => [v.id, v.name]));
  const vrfIdOf = new Map<string, number>();
  const parent = options.parent === undefined ? undefined : parseCidr(options.parent);
  // Observations by VRF and family, in scope.
  const groups = new Map<string, { obs: Observation[]; vrfId: number }>();
  for (const o of options.observations) {
    let vrfId = 0;
    if (o.vrf !== null) {
      if (!vrfIdOf.has(o.vrf)) vrfIdOf.set(o.vrf, resolveVrf(data.vrfs, o.vrf) ?? 0);
      vrfId = vrfIdOf.get(o.vrf)!;
    }
    if (options.vrfId !== undefined && (options.vrfId ?? 0) !== vrfId) continue;
    if (parent && (parent.family !== o.family || o.host < parent.first || o.host > parent.last)) {
      continue;
    }
    const key = groupKey(vrfId, o.family);
    let g = groups.get(key);
    if (!g) groups.set(key, g = { obs: [], vrfId });
    g.obs.push(o);
  }
  const seen: Record<string, string> = { ...(options.lastSeen ?? {}) };
  const out: Finding[] = [];
  const emit = (rule: string, subject: Subject, f: Omit<Finding, "rule" | "severity">) => {
    if (!on(rule)) return;
    if (isExemptFrom(rule, subject, config)) return;
    out.push({ rule, severity: config.severity[rule], ...f });
  };
  const vrfName = (id: number) => id === 0 ? null : vrfNames.get(id) ?? `#${id}`;
  const table = (id: number) => id === 0 ? "the global table" : `VRF ${vrfName(id)}`;
  const ranges = rangeIndex(data);
  let observed = 0;
  // Prefixes that observations fall in: documented-unseen judges only addresses inside them.
  const covered = new Set<PrefixEntry>();
  // The addresses seen in this run, as their index entries (object keys hash cheaply).
  const seenNow = new Set<IpEntry>();
  for (const [key, g] of groups) {
    const group = index.groups.get(key);
    // IPv4 hosts as numbers: a Map keyed by bigint is several times slower.
    const byHost = new Map<number | bigint, IpEntry[]>();
    for (const e of group?.ips ?? []) {
      const k = e.family === 4 ? e.key : e.host;
      const list = byHost.get(k);
      if (list) list.push(e);
      else byHost.set(k, [e]);
    }
    const sorted = g.obs.length && g.obs[0].family === 4
      ? [...g.obs].sort((a, b) => Number(a.host) - Number(b.host))
      : [...g.obs].sort((a, b) => a.host < b.host ? -1 : a.host > b.host ? 1 : 0);
    const prefixes = group?.prefixes ?? [];
    const closest = sweep(sorted.map((o) => o.host), prefixes);
    sorted.forEach((o, i) => {
      observed++;
      const prefix = closest[i] >= 0 ? prefixes[closest[i]] : undefined;
      if (prefix) covered.add(prefix);
      const sk = seenKey(g.vrfId, o.address);
      const before = seen[sk];
      if (before === undefined || before < o.seen_at) seen[sk] = o.seen_at;
      const subject: Subject = { family: o.family, host: o.host };
      const where = `${o.source}${o.mac ? `, MAC ${o.mac}` : ""}`;
      const ips = byHost.get(o.family === 4 ? Number(o.host) : o.host) ?? [];
      for (const e of ips) seenNow.add(e);
      if (ips.length === 0) {
        const bits = o.family === 4 ? 32 : 128;
        emit("live-undocumented", subject, {
          object_type: "ipam.ipaddress",
          object_id: 0,
          address: `${o.address}/${prefix ? prefix.length : bits}`,
          vrf: vrfName(g.vrfId),
          url: null,
          message: `${o.address} is live (seen ${o.seen_at} in ${where}) but not in ${
            table(g.vrfId)
          } of NetBox; ${
            prefix ? `its prefix is ${prefix.prefix.prefix}` : "no prefix encloses it"
          }`,
          related: prefix ? [relatedPrefix(prefix)] : [],
        });
      }
      for (const e of ips) {
        if (isIgnored(e.ip.tags, config.ignoreTag)) continue;
        const s = ipSubject(e);
        const status = choiceValue(e.ip.status);
        if (status === "reserved" || status === "deprecated") {
          emit("status-mismatch", s, {
            ...ipFields(e, vrfName(g.vrfId)),
            message:
              `${e.ip.address} is ${status} in NetBox but live (seen ${o.seen_at} in ${where})`,
            related: [],
          });
        }
        if (o.mac !== null) {
          macCheck(e, o, options.interfaceMacs, (msg) =>
            emit("mac-mismatch", s, {
              ...ipFields(e, vrfName(g.vrfId)),
              message: msg,
              related: [],
            }));
        }
      }
      const ignored = ips.some((e) => isIgnored(e.ip.tags, config.ignoreTag));
      if (LEASE_FORMATS.has(o.format) && !ignored && !inPool(ranges, g.vrfId, o, prefix)) {
        const e = ips[0];
        emit("status-mismatch", e ? ipSubject(e) : subject, {
          ...(e ? ipFields(e, vrfName(g.vrfId)) : {
            object_type: "ipam.ipaddress",
            object_id: 0,
            address: `${o.address}/${prefix ? prefix.length : o.family === 4 ? 32 : 128}`,
            vrf: vrfName(g.vrfId),
            url: null,
          }),
          message: `${o.address} has a DHCP lease (${where}) but lies outside every IP range ` +
            `and pool prefix of ${table(g.vrfId)}`,
          related: prefix ? [relatedPrefix(prefix)] : [],
        });
      }
    });
  }
  if (on("documented-unseen")) {
    const since = options.observedSince ?? now.toISOString();
    for (const e of index.ips) {
      const prefix = e.closest >= 0 ? index.prefixes[e.closest] : undefined;
      if (!prefix || !covered.has(prefix) || choiceValue(e.ip.status) !== "active") continue;
      if (isIgnored(e.ip.tags, config.ignoreTag)) continue;
      if (seenNow.has(e)) continue;
      const last = seen[seenKey(e.vrfId, hostText(e))];
      const days = (now.getTime() - Date.parse(last ?? since)) / DAY_MS;
      if (days < unseenDays) continue;
      emit("documented-unseen", ipSubject(e), {
        ...ipFields(e, vrfName(e.vrfId)),
        message: `${e.ip.address} is active in NetBox but ${
          last ? `was last seen ${last}` : `has not been seen since ${since}`
        } (${
          Math.floor(days)
        } days; limit ${unseenDays}) although its prefix ${prefix.prefix.prefix} is observed`,
        related: [relatedPrefix(prefix)],
      });
    }
  }
  return { findings: out, seen, observed };
}

/** The canonical text of an entry's host (`10.0.0.5`, `2001:db8::5`). */
function hostText(e: IpEntry): string {
  if (e.family === 6) return formatIp({ family: 6, value: e.host });
  const k = e.key;
  return `${Math.floor(k / 16777216)}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
}

function ipSubject(e: IpEntry): Subject {
  return { tags: e.ip.tags, role: choiceValue(e.ip.role), family: e.family, host: e.host };
}

function ipFields(e: IpEntry, vrf: string | null) {
  return {
    object_type: "ipam.ipaddress",
    object_id: e.ip.id,
    address: e.ip.address,
    vrf,
    url: uiUrl(e.ip.url),
  };
}

function relatedPrefix(p: PrefixEntry): RelatedObject {
  return {
    object_type: "ipam.prefix",
    object_id: p.prefix.id,
    display: p.prefix.prefix,
    url: uiUrl(p.prefix.url),
  };
}

function macCheck(
  e: IpEntry,
  o: Observation,
  macs: ReadonlyMap<string, readonly string[]> | undefined,
  report: (message: string) => void,
): void {
  const type = e.ip.assigned_object_type;
  const id = e.ip.assigned_object_id;
  if (!macs || !type || !INTERFACE_TYPES.has(type) || id === null || id === undefined) return;
  const known = macs.get(`${type}:${id}`);
  if (!known || known.length === 0 || known.includes(o.mac!)) return;
  const iface = e.ip.assigned_object;
  const name = iface?.["name"] ?? `#${id}`;
  const host = iface?.device?.name ?? iface?.virtual_machine?.name;
  report(
    `${e.ip.address} is seen with MAC ${o.mac} (${o.source}) but its interface ${name}${
      host ? ` of ${host}` : ""
    } has ${known.join(", ")}`,
  );
}

interface RangeSet {
  starts: bigint[];
  maxEnd: bigint[];
}

/** IP ranges per VRF and family, sorted by start, with the running maximum of their ends. */
function rangeIndex(data: AuditData): Map<string, RangeSet> {
  const spans = new Map<string, { start: bigint; end: bigint }[]>();
  for (const r of data.ranges) {
    try {
      const start = parseCidr(r.start_address);
      const end = parseCidr(r.end_address);
      const key = groupKey(r.vrf?.id ?? 0, start.family);
      const list = spans.get(key) ?? [];
      list.push({ start: start.address, end: end.address });
      spans.set(key, list);
    } catch {
      continue;
    }
  }
  const out = new Map<string, RangeSet>();
  for (const [key, list] of spans) {
    list.sort((a, b) => a.start < b.start ? -1 : a.start > b.start ? 1 : 0);
    const maxEnd: bigint[] = [];
    for (const r of list) {
      maxEnd.push(maxEnd.length && maxEnd.at(-1)! > r.end ? maxEnd.at(-1)! : r.end);
    }
    out.set(key, { starts: list.map((r) => r.start), maxEnd });
  }
  return out;
}

function inPool(
  ranges: Map<string, RangeSet>,
  vrfId: number,
  o: Observation,
  prefix: PrefixEntry | undefined,
): boolean {
  if (prefix?.prefix.is_pool) return true;
  const set = ranges.get(groupKey(vrfId, o.family));
  if (!set) return false;
  let lo = 0, hi = set.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (set.starts[mid] <= o.host) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && set.maxEnd[lo - 1] >= o.host;
}
