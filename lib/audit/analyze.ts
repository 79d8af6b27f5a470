/**
 * The in-memory analysis of the IP address audit: runs the rules of
 * {@linkcode AUDIT_RULES} over plain arrays in NetBox's read shape. No I/O; O(n log n) — one
 * sort and one sweep per VRF and family for containment.
 *
 * @module
 */

import { buildIndex, type Group, type IpEntry, utilization } from "./_index.ts";
import { isExemptFrom, isIgnored, type Subject } from "./_exempt.ts";
import { validateDnsName } from "../ipam/dns_name.ts";
import {
  type AuditData,
  type AuditHost,
  type AuditInterface,
  type AuditIp,
  type AuditRef,
  choiceValue,
  type Finding,
  type PrefixUsage,
  type RelatedObject,
  uiUrl,
} from "./model.ts";
import { AUDIT_RULES, type AuditConfig, type Severity } from "./rules.ts";
import { IP_IN_USE_STATUSES, SHARED_ROLES } from "../ipam/choices.ts";

const MASK_EXEMPT_ROLES = new Set(["loopback", ...SHARED_ROLES]);
const INTERFACE_TYPES = new Set(["dcim.interface", "virtualization.vminterface"]);

/** What {@linkcode analyzeAudit} returns. */
export interface AuditResult {
  /** Findings in rule order, then by object. */
  findings: Finding[];
  /** Utilization of every reported prefix (highest first), for charts. */
  utilization: PrefixUsage[];
  /** How many objects were analysed. */
  counts: {
    ip_addresses: number;
    prefixes: number;
    ip_ranges: number;
    devices: number;
    vms: number;
  };
  /** Problems with the data itself (unparseable addresses). */
  warnings: string[];
}

/** Options of {@linkcode analyzeAudit}. */
export interface AnalyzeOptions {
  /** The current time, for `stale-reserved`. @default {new Date()} */
  now?: Date;
}

type HostKind = "device" | "vm";
interface HostRef {
  kind: HostKind;
  host: AuditHost;
}

/** Working state shared by the rule functions. */
interface Ctx {
  data: AuditData;
  config: AuditConfig;
  now: Date;
  entries: IpEntry[];
  groups: Map<string, Group>;
  prefixEntries: ReturnType<typeof buildIndex>["prefixes"];
  vrfNames: Map<number, string>;
  ipById: Map<number, IpEntry>;
  devices: Map<number, AuditHost>;
  vms: Map<number, AuditHost>;
  /** IP id → the hosts using it as primary/OOB, with the field name. */
  primaryOf: Map<number, { ref: HostRef; field: string }[]>;
  /** Interface type → id → interface (only interfaces with a VRF). */
  interfaces: Map<string, Map<number, AuditInterface>>;
  out: Finding[];
}

/**
 * Runs every enabled rule (except `dns-forward-mismatch`, which needs the network: see
 * `checkDnsForward`) and returns the findings.
 *
 * @param data The addresses in scope and their context.
 * @param config Enabled rules, severities, thresholds, exemptions.
 * @param options The clock.
 * @returns Findings, per-prefix utilization and counts.
 *
 * @example Two copies of one address in the global table
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { analyzeAudit } from "./analyze.ts";
 * import { defaultAuditConfig } from "./rules.ts";
 * const ip = (id: number) => ({ id, address: "10.0.0.5/24", status: "reserved" });
 * const result = analyzeAudit({
 *   ips: [ip(1), ip(2)],
 *   prefixes: [{ id: 9, prefix: "10.0.0.0/24" }],
 *   ranges: [], vrfs: [], interfaces: [], vmInterfaces: [], devices: [], vms: [],
 * }, defaultAuditConfig());
 * assert(result.findings.length === 1);
 * assert(result.findings[0].rule === "duplicate-address");
 * assert(result.findings[0].object_id === 2);
 * ```
 */
export function analyzeAudit(
  data: AuditData,
  config: AuditConfig,
  options: AnalyzeOptions = {},
): AuditResult {
  const index = buildIndex(data.ips, data.prefixes, data.ranges);
  const ctx: Ctx = {
    data,
    config,
    now: options.now ?? new Date(),
    entries: index.ips,
    groups: index.groups,
    prefixEntries: index.prefixes,
    vrfNames: new Map(data.vrfs.map((v) => [v.id, v.name])),
    ipById: new Map(index.ips.map((e) => [e.ip.id, e])),
    devices: new Map(data.devices.map((d) => [d.id, d])),
    vms: new Map(data.vms.map((v) => [v.id, v])),
    primaryOf: new Map(),
    interfaces: new Map([
      ["dcim.interface", new Map(data.interfaces.map((i) => [i.id, i]))],
      ["virtualization.vminterface", new Map(data.vmInterfaces.map((i) => [i.id, i]))],
    ]),
    out: [],
  };
  indexPrimaries(ctx);
  const on = (id: string) => config.enabled.has(id);
  if (on("duplicate-address") || on("duplicate-address-mask")) duplicates(ctx);
  if (on("orphan-address")) orphans(ctx);
  for (const e of ctx.entries) perAddress(ctx, e);
  if (on("duplicate-dns-name")) duplicateDns(ctx);
  hostRules(ctx);
  const usage = prefixUtilization(ctx);
  return {
    findings: sortFindings(ctx.out),
    utilization: usage,
    counts: {
      ip_addresses: data.ips.length,
      prefixes: data.prefixes.length,
      ip_ranges: data.ranges.length,
      devices: data.devices.length,
      vms: data.vms.length,
    },
    warnings: index.unparsed.map((ip) => `Cannot parse address "${ip.address}" of IP ${ip.id}`),
  };
}

function sortFindings(findings: Finding[]): Finding[] {
  const order = new Map(AUDIT_RULES.map((r, i) => [r.id, i]));
  return findings.sort((a, b) =>
    order.get(a.rule)! - order.get(b.rule)! || a.object_type.localeCompare(b.object_type) ||
    a.object_id - b.object_id
  );
}

// ---------------------------------------------------------------------------------------------
// Emitting findings

function vrfName(ctx: Ctx, vrfId: number): string | null {
  return vrfId === 0 ? null : ctx.vrfNames.get(vrfId) ?? `#${vrfId}`;
}

function tableName(ctx: Ctx, vrfId: number): string {
  return vrfId === 0 ? "the global table" : `VRF ${vrfName(ctx, vrfId)}`;
}

function ipSubject(e: IpEntry): Subject {
  return { tags: e.ip.tags, role: choiceValue(e.ip.role), family: e.family, host: e.host };
}

function relatedIp(e: IpEntry): RelatedObject {
  return {
    object_type: "ipam.ipaddress",
    object_id: e.ip.id,
    display: e.ip.address,
    url: uiUrl(e.ip.url),
  };
}

function relatedHost(ref: HostRef): RelatedObject {
  return {
    object_type: ref.kind === "device" ? "dcim.device" : "virtualization.virtualmachine",
    object_id: ref.host.id,
    display: hostName(ref.host),
    url: uiUrl(ref.host.url),
  };
}

function hostName(host: AuditHost): string {
  return host.name ?? host.display ?? `#${host.id}`;
}

function push(
  ctx: Ctx,
  rule: string,
  subject: Subject,
  finding: Omit<Finding, "rule" | "severity" | "related"> & { related?: RelatedObject[] },
  severity?: Severity,
): void {
  if (!ctx.config.enabled.has(rule)) return;
  if (isExemptFrom(rule, subject, ctx.config)) return;
  ctx.out.push({
    rule,
    severity: severity ?? ctx.config.severity[rule],
    ...finding,
    related: finding.related ?? [],
  });
}

function ipFinding(ctx: Ctx, rule: string, e: IpEntry, message: string, related?: RelatedObject[]) {
  push(ctx, rule, ipSubject(e), {
    object_type: "ipam.ipaddress",
    object_id: e.ip.id,
    address: e.ip.address,
    vrf: vrfName(ctx, e.vrfId),
    url: uiUrl(e.ip.url),
    message,
    related,
  });
}

function ignoredIp(ctx: Ctx, e: IpEntry): boolean {
  return e.ip.tags !== undefined && e.ip.tags.length > 0 &&
    isIgnored(e.ip.tags, ctx.config.ignoreTag);
}

// ---------------------------------------------------------------------------------------------
// Rules over groups of addresses

function duplicates(ctx: Ctx): void {
  for (const g of ctx.groups.values()) {
    let i = 0;
    while (i < g.ips.length) {
      let j = i + 1;
      while (j < g.ips.length && g.ips[j].host === g.ips[i].host) j++;
      const run = g.ips.slice(i, j).filter((e) => !ignoredIp(ctx, e));
      if (run.length > 1) duplicateRun(ctx, run);
      i = j;
    }
  }
}

function duplicateRun(ctx: Ctx, run: IpEntry[]): void {
  if (run.every((e) => SHARED_ROLES.has(choiceValue(e.ip.role)))) return;
  const byLength = new Map<number, IpEntry[]>();
  for (const e of run) byLength.set(e.length, [...(byLength.get(e.length) ?? []), e]);
  for (const same of byLength.values()) {
    if (same.length < 2) continue;
    const [subject, ...others] = [...same].sort((a, b) => b.ip.id - a.ip.id);
    ipFinding(
      ctx,
      "duplicate-address",
      subject,
      `${subject.ip.address} is recorded ${same.length} times in ${tableName(ctx, subject.vrfId)}`,
      others.map(relatedIp),
    );
  }
  if (byLength.size > 1) {
    const [subject, ...others] = [...run].sort((a, b) => b.ip.id - a.ip.id);
    const masks = [...byLength.keys()].sort((a, b) => a - b).map((l) => `/${l}`).join(", ");
    ipFinding(
      ctx,
      "duplicate-address-mask",
      subject,
      `${subject.ip.address.split("/")[0]} is recorded with masks ${masks} in ${
        tableName(ctx, subject.vrfId)
      }`,
      others.map(relatedIp),
    );
  }
}

function orphans(ctx: Ctx): void {
  const globalContainers = ctx.prefixEntries.filter((p) => p.vrfId === 0 && p.container);
  for (const e of ctx.entries) {
    if (e.closest >= 0 || ignoredIp(ctx, e)) continue;
    if (e.vrfId !== 0 && inAny(globalContainers, e)) continue;
    ipFinding(
      ctx,
      "orphan-address",
      e,
      `${e.ip.address} has no enclosing prefix in ${tableName(ctx, e.vrfId)}`,
    );
  }
}

function inAny(prefixes: { family: number; first: bigint; last: bigint }[], e: IpEntry): boolean {
  // Orphans in VRFs are rare and global containers few: a linear check stays cheap.
  return prefixes.some((p) => p.family === e.family && p.first <= e.host && e.host <= p.last);
}

// ---------------------------------------------------------------------------------------------
// Rules on one address

function perAddress(ctx: Ctx, e: IpEntry): void {
  if (ignoredIp(ctx, e)) return;
  const ip = e.ip;
  const status = choiceValue(ip.status);
  const role = choiceValue(ip.role);
  const hasType = !!ip.assigned_object_type;
  const hasId = ip.assigned_object_id !== null && ip.assigned_object_id !== undefined;
  const onInterface = hasType && hasId && INTERFACE_TYPES.has(ip.assigned_object_type!);
  const closest = e.closest >= 0 ? ctx.prefixEntries[e.closest] : undefined;

  if (closest && closest.length !== e.length && !MASK_EXEMPT_ROLES.has(role)) {
    const hostMask = e.length === (e.family === 4 ? 32 : 128);
    if (!(hostMask && closest.prefix.is_pool)) {
      ipFinding(
        ctx,
        "mask-mismatch",
        e,
        `${ip.address} has mask /${e.length} but its prefix ${closest.prefix.prefix} is /${closest.length}`,
        [relatedPrefix(closest.prefix)],
      );
    }
  }
  if (hasType && hasId) networkOrBroadcast(ctx, e, closest);
  const dns = (ip.dns_name ?? "").trim();
  if (status === "active" && onInterface && dns === "") {
    ipFinding(
      ctx,
      "missing-dns-name",
      e,
      `${ip.address} is active on an interface but has no DNS name`,
    );
  }
  if (dns !== "") {
    const reason = validateDnsName(dns, ctx.config.dnsPattern);
    if (reason) {
      ipFinding(ctx, "invalid-dns-name", e, `${ip.address}: ${reason}`);
    }
  }
  if (hasType !== hasId) {
    const what = hasType
      ? `assigned object type ${ip.assigned_object_type} but no id`
      : `assigned object id ${ip.assigned_object_id} but no type`;
    ipFinding(ctx, "half-assigned", e, `${ip.address} has an ${what}`);
  }
  if (onInterface) vrfMismatch(ctx, e);
  if (status === "deprecated") deprecatedInUse(ctx, e, onInterface);
  if (
    status === "active" && !hasType && !hasId && !ip.nat_inside && !ctx.primaryOf.has(ip.id)
  ) {
    ipFinding(ctx, "unassigned-active", e, `${ip.address} is active but assigned to nothing`);
  }
  if (status === "reserved") staleReserved(ctx, e);
}

function relatedPrefix(p: { id: number; prefix: string; url?: string }): RelatedObject {
  return { object_type: "ipam.prefix", object_id: p.id, display: p.prefix, url: uiUrl(p.url) };
}

function networkOrBroadcast(
  ctx: Ctx,
  e: IpEntry,
  closest: Ctx["prefixEntries"][number] | undefined,
): void {
  const whole = e.family === 4 ? 31 : 127;
  let isFirst: boolean, isLast: boolean;
  if (e.family === 4) {
    // Plain numbers: this runs for every assigned address.
    const size = 2 ** (32 - e.length);
    const first = Math.floor(e.key / size) * size;
    isFirst = e.key === first;
    isLast = e.key === first + size - 1;
  } else {
    const hostBits = BigInt(128 - e.length);
    const first = (e.host >> hostBits) << hostBits;
    isFirst = e.host === first;
    isLast = false;
  }
  let what: string | undefined;
  let related: RelatedObject[] = [];
  if (e.length < whole && isFirst) what = "the network ID of its own mask";
  else if (e.family === 4 && e.length < whole && isLast) {
    what = "the broadcast address of its own mask";
  } else if (closest && !closest.prefix.is_pool && closest.length < whole) {
    if (e.host === closest.first) what = `the network ID of prefix ${closest.prefix.prefix}`;
    else if (e.family === 4 && e.host === closest.last) {
      what = `the broadcast address of prefix ${closest.prefix.prefix}`;
    }
    if (what) related = [relatedPrefix(closest.prefix)];
  }
  if (!what) return;
  ipFinding(
    ctx,
    "network-or-broadcast",
    e,
    `${e.ip.address} is ${what} but assigned to an interface`,
    related,
  );
}

function vrfMismatch(ctx: Ctx, e: IpEntry): void {
  const iface = ctx.interfaces.get(e.ip.assigned_object_type!)?.get(e.ip.assigned_object_id!);
  const ifaceVrf = iface?.vrf?.id;
  if (ifaceVrf === undefined || ifaceVrf === null || ifaceVrf === e.vrfId) return;
  const name = e.ip.assigned_object?.["name"] ?? `#${e.ip.assigned_object_id}`;
  ipFinding(
    ctx,
    "vrf-mismatch",
    e,
    `${e.ip.address} is in ${tableName(ctx, e.vrfId)} but its interface ${name} is in ${
      tableName(ctx, ifaceVrf)
    }`,
  );
}

function deprecatedInUse(ctx: Ctx, e: IpEntry, onInterface: boolean): void {
  const primary = ctx.primaryOf.get(e.ip.id);
  if (primary?.length) {
    const p = primary[0];
    ipFinding(
      ctx,
      "deprecated-in-use",
      e,
      `${e.ip.address} is deprecated but is ${p.field} of ${hostName(p.ref.host)}`,
      [relatedHost(p.ref)],
    );
    return;
  }
  if (!onInterface) return;
  const owner = ownerOf(ctx, e.ip);
  if (owner && choiceValue(owner.host.status) !== "active") return;
  ipFinding(
    ctx,
    "deprecated-in-use",
    e,
    `${e.ip.address} is deprecated but assigned to ${
      owner ? `an interface of ${hostName(owner.host)}` : "an interface"
    }`,
    owner ? [relatedHost(owner)] : [],
  );
}

function staleReserved(ctx: Ctx, e: IpEntry): void {
  const stamp = e.ip.last_updated ?? e.ip.created;
  if (!stamp) return;
  const days = (ctx.now.getTime() - new Date(stamp).getTime()) / 86_400_000;
  if (!(days > ctx.config.staleReservedDays)) return;
  ipFinding(
    ctx,
    "stale-reserved",
    e,
    `${e.ip.address} has been reserved for ${
      Math.floor(days)
    } days (limit ${ctx.config.staleReservedDays})`,
  );
}

// ---------------------------------------------------------------------------------------------
// DNS names across addresses

function normalizeDns(name: string): string {
  if (name === "") return name;
  const lower = name.trim().toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

function duplicateDns(ctx: Ctx): void {
  const byName = new Map<string, IpEntry[]>();
  for (const e of ctx.entries) {
    const name = normalizeDns(e.ip.dns_name ?? "");
    if (name === "" || ignoredIp(ctx, e)) continue;
    const list = byName.get(name);
    if (list) list.push(e);
    else byName.set(name, [e]);
  }
  for (const [name, list] of byName) {
    if (list.length < 2 || isPairOnOneHost(ctx, list)) continue;
    const [subject, ...others] = [...list].sort((a, b) => b.ip.id - a.ip.id);
    ipFinding(
      ctx,
      "duplicate-dns-name",
      subject,
      `DNS name "${name}" is on ${list.length} addresses: ${
        list.map((e) => e.ip.address).join(", ")
      }`,
      others.map(relatedIp),
    );
  }
}

function isPairOnOneHost(ctx: Ctx, list: IpEntry[]): boolean {
  if (list.length !== 2 || list[0].family === list[1].family) return false;
  const [a, b] = list.map((e) => ownerOf(ctx, e.ip));
  return !!a && !!b && a.kind === b.kind && a.host.id === b.host.id;
}

// ---------------------------------------------------------------------------------------------
// Devices and virtual machines

function ownerOf(ctx: Ctx, ip: AuditIp): HostRef | undefined {
  const obj = ip.assigned_object;
  if (!ip.assigned_object_type || !obj) return undefined;
  if (ip.assigned_object_type === "dcim.interface" && obj.device) {
    const host = ctx.devices.get(obj.device.id) ?? briefHost(obj.device);
    return { kind: "device", host };
  }
  if (ip.assigned_object_type === "virtualization.vminterface" && obj.virtual_machine) {
    const host = ctx.vms.get(obj.virtual_machine.id) ?? briefHost(obj.virtual_machine);
    return { kind: "vm", host };
  }
  return undefined;
}

/** A host known only by the brief reference on its interface (not among the fetched hosts). */
function briefHost(ref: AuditRef): AuditHost {
  return { id: ref.id, url: ref.url, display: ref.display, name: ref.name };
}

const PRIMARY_FIELDS = [
  ["primary_ip4", "the primary IPv4"],
  ["primary_ip6", "the primary IPv6"],
  ["oob_ip", "the OOB IP"],
] as const;

function indexPrimaries(ctx: Ctx): void {
  const add = (kind: HostKind, host: AuditHost) => {
    for (const [field, label] of PRIMARY_FIELDS) {
      const ref = host[field];
      if (!ref) continue;
      const list = ctx.primaryOf.get(ref.id) ?? [];
      list.push({ ref: { kind, host }, field: label });
      ctx.primaryOf.set(ref.id, list);
    }
  };
  for (const d of ctx.data.devices) add("device", d);
  for (const v of ctx.data.vms) add("vm", v);
}

function hostRules(ctx: Ctx): void {
  // Keyed by id, negative for VMs: no string per address.
  const families = new Map<number, { ref: HostRef; families: Set<number> }>();
  for (const e of ctx.entries) {
    if (ignoredIp(ctx, e) || !IP_IN_USE_STATUSES.has(choiceValue(e.ip.status))) continue;
    const owner = ownerOf(ctx, e.ip);
    if (!owner) continue;
    const key = owner.kind === "device" ? owner.host.id : -owner.host.id;
    const entry = families.get(key) ?? { ref: owner, families: new Set<number>() };
    entry.families.add(e.family);
    families.set(key, entry);
  }
  for (const { ref, families: fams } of families.values()) primaryMissing(ctx, ref, fams);
  for (const d of ctx.data.devices) hostPrimaries(ctx, { kind: "device", host: d });
  for (const v of ctx.data.vms) hostPrimaries(ctx, { kind: "vm", host: v });
}

function hostFinding(
  ctx: Ctx,
  rule: string,
  ref: HostRef,
  message: string,
  related: RelatedObject[],
) {
  const r = relatedHost(ref);
  push(ctx, rule, { tags: ref.host.tags }, {
    object_type: r.object_type,
    object_id: ref.host.id,
    address: null,
    vrf: null,
    url: r.url,
    message,
    related,
  });
}

function primaryMissing(ctx: Ctx, ref: HostRef, families: Set<number>): void {
  const host = ref.host;
  if (isIgnored(host.tags, ctx.config.ignoreTag)) return;
  if (host.status !== undefined && choiceValue(host.status) !== "active") return;
  if (!ctx.devices.has(host.id) && ref.kind === "device") return; // not fetched: cannot tell
  if (!ctx.vms.has(host.id) && ref.kind === "vm") return;
  for (const family of [...families].sort()) {
    const field = family === 4 ? "primary_ip4" : "primary_ip6";
    if (host[field]) continue;
    hostFinding(
      ctx,
      "primary-missing",
      ref,
      `${hostName(host)} has IPv${family} addresses on its interfaces but no ${field}`,
      [],
    );
  }
}

function hostPrimaries(ctx: Ctx, ref: HostRef): void {
  const host = ref.host;
  if (isIgnored(host.tags, ctx.config.ignoreTag)) return;
  for (const [field, label] of PRIMARY_FIELDS) {
    const id = host[field]?.id;
    const e = id === undefined ? undefined : ctx.ipById.get(id);
    if (!e || onHost(ctx, ref, e.ip)) continue;
    hostFinding(
      ctx,
      "primary-not-on-object",
      ref,
      `${label} of ${hostName(host)}, ${e.ip.address}, is not assigned to one of its interfaces`,
      [relatedIp(e)],
    );
  }
  const v4 = host.primary_ip4 ? ctx.ipById.get(host.primary_ip4.id) : undefined;
  const v6 = host.primary_ip6 ? ctx.ipById.get(host.primary_ip6.id) : undefined;
  const n4 = normalizeDns(v4?.ip.dns_name ?? "");
  const n6 = normalizeDns(v6?.ip.dns_name ?? "");
  if (v4 && v6 && n4 !== "" && n6 !== "" && n4 !== n6) {
    hostFinding(
      ctx,
      "primary-dns-mismatch",
      ref,
      `${hostName(host)}'s primary IPv4 is named "${n4}" but its primary IPv6 "${n6}"`,
      [relatedIp(v4), relatedIp(v6)],
    );
  }
}

/** Whether `ip` sits on `ref`'s interfaces (or its virtual chassis, or NATs to one that does). */
function onHost(ctx: Ctx, ref: HostRef, ip: AuditIp): boolean {
  const owner = ownerOf(ctx, ip);
  if (owner && sameHost(ctx, owner, ref)) return true;
  if (ip.nat_inside) {
    const inside = ctx.ipById.get(ip.nat_inside.id);
    if (!inside) return true; // the inside address is out of scope: give the benefit of doubt
    const insideOwner = ownerOf(ctx, inside.ip);
    if (insideOwner && sameHost(ctx, insideOwner, ref)) return true;
  }
  return false;
}

function sameHost(ctx: Ctx, a: HostRef, b: HostRef): boolean {
  if (a.kind !== b.kind) return false;
  if (a.host.id === b.host.id) return true;
  if (a.kind !== "device") return false;
  const vcA = ctx.devices.get(a.host.id)?.virtual_chassis?.id;
  const vcB = ctx.devices.get(b.host.id)?.virtual_chassis?.id;
  return vcA !== undefined && vcA === vcB;
}

// ---------------------------------------------------------------------------------------------
// Prefix utilization

function prefixUtilization(ctx: Ctx): PrefixUsage[] {
  const report = ctx.data.reportPrefixIds;
  const usages: PrefixUsage[] = [];
  const { utilizationWarning: warn, utilizationError: error } = ctx.config;
  for (const g of ctx.groups.values()) {
    g.prefixes.forEach((p, i) => {
      if (report && !report.has(p.prefix.id)) return;
      if (isIgnored(p.prefix.tags, ctx.config.ignoreTag)) return;
      const u = utilization(g, i);
      const vrf = vrfName(ctx, p.vrfId);
      usages.push({
        id: p.prefix.id,
        prefix: p.prefix.prefix,
        vrf,
        utilization: u.percent,
        url: uiUrl(p.prefix.url),
        vrf_id: p.vrfId === 0 ? null : p.vrfId,
        used: Number(u.used),
        size: Number(u.size),
      });
      if (u.percent < warn) return;
      const severity: Severity = u.percent >= error
        ? "error"
        : ctx.config.severity["prefix-utilization"];
      push(
        ctx,
        "prefix-utilization",
        {
          tags: p.prefix.tags,
          role: p.prefix.role?.slug ?? "",
          family: p.family,
          host: p.first,
        },
        {
          object_type: "ipam.prefix",
          object_id: p.prefix.id,
          address: p.prefix.prefix,
          vrf,
          url: uiUrl(p.prefix.url),
          message: `${p.prefix.prefix} in ${
            tableName(ctx, p.vrfId)
          } is ${u.percent}% utilized (${u.used} of ${u.size}; threshold ${
            severity === "error" ? error : warn
          }%)`,
        },
        severity,
      );
    });
  }
  return usages.sort((a, b) => b.utilization - a.utilization || a.id - b.id);
}
