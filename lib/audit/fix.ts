/**
 * Fix plans: safe remediations of audit findings, shown first (object, field, old → new) and
 * written only when asked, like a bulk-import plan. Only unambiguous cases are planned; every
 * other finding of a fixable rule is listed as skipped with the reason:
 *
 * - `primary-missing` (IPv4): exactly one in-use IPv4 address (active, DHCP, SLAAC) on the
 *   device's/VM's interfaces in NetBox as a whole (not just the audit's scope), and still no
 *   primary IPv4 → set `primary_ip4` to it;
 * - `mask-mismatch`: exactly one closest enclosing prefix in the address's VRF, not a container,
 *   the address not a host mask (/32, /128 may be deliberate) nor in a duplicate finding, the
 *   new address neither the network ID nor the broadcast of its prefix, and no other address
 *   with the same host in the VRF → set the mask to the prefix's length;
 * - `orphan-address`: add the tag `audit-orphan` (created when missing); tagged orphans are
 *   acknowledged and no longer reported;
 * - `live-undocumented`: create the address (status and tag of `network`, the mask of its
 *   prefix) unless NetBox has that host in that VRF when the plan is made;
 * - `documented-unseen`: add the tag `audit-unseen` (acknowledged, no longer reported).
 *
 * Decisions are made on the objects as NetBox holds them at planning time (read back), never
 * on the audit's snapshot. {@linkcode applyFixes} writes one bulk PATCH per endpoint through
 * the client (so its `onWrite` hook — `--audit-log` — sees every write) and reports per item.
 *
 * @module
 */

import type { Device, IPAddress, Prefix, VirtualMachine } from "../client/models.ts";
import { mayHaveActed } from "../client/errors.ts";
import { seconds } from "../base/duration.ts";
import { settle } from "../client/settle.ts";
import type { NetBoxClient, NetBoxObject } from "../client/types.ts";
import { formatIp, parseCidr } from "../ipam/ip.ts";
import { IP_IN_USE_STATUSES } from "../ipam/choices.ts";
import { choiceValue, type Finding } from "./model.ts";
import { findingKey } from "./state.ts";
import { type NetworkFixOptions, planNetworkFixes } from "./_network_fix.ts";

export type { NetworkFixOptions } from "./_network_fix.ts";

const NETWORK_FIXES = new Set(["live-undocumented", "documented-unseen"]);

/** The rules {@linkcode planFixes} can fix. */
export const FIXABLE_RULES: readonly string[] = [
  "primary-missing",
  "mask-mismatch",
  "orphan-address",
  "live-undocumented",
  "documented-unseen",
];

/** One changed field (the same shape as a bulk-import plan's `Change`). */
export interface FixChange {
  /** The field's name. */
  field: string;
  /** Its value in NetBox now, as text. */
  old: string;
  /** Its value after the fix, as text. */
  new: string;
}

/** One planned write: a PATCH of one object. */
export interface FixItem {
  /** The rule whose finding it fixes. */
  rule: string;
  /** The finding's stable key (`rule:object_type:object_id`). */
  key: string;
  /** `ipam.ipaddress`, `dcim.device`, `virtualization.virtualmachine`. */
  object_type: string;
  /** The object's id. */
  object_id: number;
  /** The list endpoint under `/api/` (`ipam/ip-addresses/`). */
  path: string;
  /** A readable name of the object. */
  label: string;
  /** What changes. */
  changes: FixChange[];
  /** The PATCH body (the POST body of a create). */
  body: Record<string, unknown>;
  /** `create` for a new object (`object_id` 0); an update otherwise. */
  action?: "create";
}

/** A finding of a fixable rule that the plan leaves alone. */
export interface SkippedFix {
  /** The rule. */
  rule: string;
  /** The finding's stable key. */
  key: string;
  /** The object's type. */
  object_type: string;
  /** The object's id. */
  object_id: number;
  /** Why it is not fixed automatically. */
  reason: string;
}

/** What {@linkcode planFixes} returns. */
export interface FixPlan {
  /** The writes, in finding order. */
  items: FixItem[];
  /** Findings of fixable rules that are not fixed, with the reason. */
  skipped: SkippedFix[];
  /** Tags that do not exist yet and are created before the writes. */
  create_tags: string[];
}

/** Options of {@linkcode planFixes}. */
export interface PlanFixesOptions {
  /** The tag orphans get. @default {"audit-orphan"} */
  orphanTag?: string;
  /** Objects with this tag are never touched. @default {"audit-ignore"} */
  ignoreTag?: string;
  /** Status and tag of created `live-undocumented` addresses, tag of `documented-unseen` ones. */
  network?: NetworkFixOptions;
  /** Aborts the read-backs. */
  signal?: AbortSignal;
}

/** The part of the client planning and applying use. */
export type FixClient = Pick<NetBoxClient, "ipam" | "dcim" | "virtualization" | "extras">;

const HOST_TYPES: Record<string, { path: string; filter: string; label: string }> = {
  "dcim.device": { path: "dcim/devices/", filter: "device_id", label: "device" },
  "virtualization.virtualmachine": {
    path: "virtualization/virtual-machines/",
    filter: "virtual_machine_id",
    label: "VM",
  },
};
const IP_PATH = "ipam/ip-addresses/";

/** What NetBox holds now about the objects of the fixable findings. */
interface Current {
  ips: Map<number, IPAddress>;
  /** Address id → the prefixes of its VRF that contain it. */
  enclosing: Map<number, Prefix[]>;
  /** Address id → every address with the same host (any mask, any VRF). */
  sameHost: Map<number, IPAddress[]>;
  hosts: Map<string, Device | VirtualMachine>;
  /** Host key → its IPv4 addresses. */
  hostIps: Map<string, IPAddress[]>;
}

/**
 * Plans the safe fixes of an audit's findings (see the module doc for what is safe). Every
 * decision is made on the objects as NetBox holds them now (read back, not the audit's
 * snapshot), so an object changed since the audit, or context outside the audit's scope, is
 * taken into account. Sends no write.
 *
 * @param client The client (reads only).
 * @param findings The audit's findings (only those of {@linkcode FIXABLE_RULES} are planned).
 * @param options Orphan and ignore tags.
 * @returns The writes and the findings left alone.
 *
 * @example An orphan gets the audit-orphan tag
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { planFixes } from "./fix.ts";
 * const ip = { id: 5, address: "10.9.0.1/24", vrf: null, tags: [] };
 * const fetch = (input: string | URL | Request) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   const results = url.pathname === "/api/ipam/ip-addresses/" ? [ip] : [];
 *   return Promise.resolve(Response.json({ count: results.length, next: null, results }));
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const plan = await planFixes(client, [{ rule: "orphan-address", severity: "warning",
 *   object_type: "ipam.ipaddress", object_id: 5, address: ip.address, vrf: null, url: null,
 *   message: "orphan", related: [] }]);
 * assert(plan.items[0].changes[0].new === "audit-orphan");
 * assert(plan.create_tags[0] === "audit-orphan");
 * client.close();
 * ```
 */
export async function planFixes(
  client: FixClient,
  findings: readonly Finding[],
  options: PlanFixesOptions = {},
): Promise<FixPlan> {
  const orphanTag = options.orphanTag ?? "audit-orphan";
  const ignoreTag = options.ignoreTag ?? "audit-ignore";
  // An address in a duplicate finding is ambiguous for every fix.
  const duplicated = new Set<number>();
  for (const f of findings) {
    if (f.rule !== "duplicate-address" && f.rule !== "duplicate-address-mask") continue;
    duplicated.add(f.object_id);
    for (const r of f.related) if (r.object_type === "ipam.ipaddress") duplicated.add(r.object_id);
  }
  const seen = new Set<string>();
  const todo = findings.filter((f) => {
    const key = findingKey(f);
    if (!FIXABLE_RULES.includes(f.rule) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const network = await planNetworkFixes(client, todo, {
    ...options.network,
    ignoreTag,
    signal: options.signal,
  });
  const now = await readCurrent(
    client,
    todo.filter((f) => !NETWORK_FIXES.has(f.rule)),
    options.signal,
  );
  const items: FixItem[] = [...network.items];
  const skipped: SkippedFix[] = network.skipped.map(({ finding: f, reason }) => ({
    rule: f.rule,
    key: findingKey(f),
    object_type: f.object_type,
    object_id: f.object_id,
    reason,
  }));
  for (const f of todo.filter((f) => !NETWORK_FIXES.has(f.rule))) {
    const key = findingKey(f);
    let result: FixItem | string;
    if (f.rule === "orphan-address") result = orphanFix(f, key, now, orphanTag, ignoreTag);
    else if (f.rule === "mask-mismatch") {
      result = duplicated.has(f.object_id)
        ? "the address is also in a duplicate finding"
        : maskFix(f, key, now, ignoreTag);
    } else result = primaryFix(f, key, now, ignoreTag);
    if (typeof result === "string") {
      skipped.push({
        rule: f.rule,
        key,
        object_type: f.object_type,
        object_id: f.object_id,
        reason: result,
      });
    } else items.push(result);
  }
  const createTags: string[] = [];
  const wanted = new Set(network.tags);
  if (items.some((i) => i.rule === "orphan-address")) wanted.add(orphanTag);
  for (const tag of wanted) {
    if (!(await client.extras.tags.find({ slug: tag }))) createTags.push(tag);
  }
  return { items, skipped, create_tags: createTags };
}

function tagSlugs(tags: readonly { slug?: string; name?: string }[] | undefined): string[] {
  return (tags ?? []).map((t) => String(t.slug ?? t.name ?? "")).filter(Boolean);
}

function vrfOf(obj: { vrf?: { id: number } | null }): number | null {
  return obj.vrf?.id ?? null;
}

function orphanFix(
  f: Finding,
  key: string,
  now: Current,
  tag: string,
  ignoreTag: string,
): FixItem | string {
  const ip = now.ips.get(f.object_id);
  if (!ip) return "the address no longer exists";
  const before = tagSlugs(ip.tags);
  if (before.includes(ignoreTag)) return `the address is tagged ${ignoreTag}`;
  if (before.includes(tag)) return `the address is already tagged ${tag}`;
  const after = [...before, tag];
  return {
    rule: f.rule,
    key,
    object_type: "ipam.ipaddress",
    object_id: ip.id,
    path: IP_PATH,
    label: String(ip.address),
    changes: [{ field: "tags", old: before.join(", "), new: after.join(", ") }],
    body: { tags: after.map((slug) => ({ slug })) },
  };
}

function maskFix(f: Finding, key: string, now: Current, ignoreTag: string): FixItem | string {
  const ip = now.ips.get(f.object_id);
  if (!ip) return "the address no longer exists";
  if (tagSlugs(ip.tags).includes(ignoreTag)) return `the address is tagged ${ignoreTag}`;
  const address = String(ip.address);
  let net;
  try {
    net = parseCidr(address);
  } catch {
    return "the address cannot be parsed";
  }
  const bits = net.family === 4 ? 32 : 128;
  if (net.prefixLength === bits) return "a host mask may be deliberate";
  const vrfId = vrfOf(ip);
  const enclosing = (now.enclosing.get(ip.id) ?? []).flatMap((p) => {
    try {
      const pn = parseCidr(String(p.prefix));
      return vrfOf(p) === vrfId && pn.family === net.family && pn.first <= net.address &&
          net.address <= pn.last
        ? [{ p, pn }]
        : [];
    } catch {
      return [];
    }
  });
  if (!enclosing.length) return "no enclosing prefix in its VRF";
  const longest = Math.max(...enclosing.map((e) => e.pn.prefixLength));
  const closest = enclosing.filter((e) => e.pn.prefixLength === longest);
  const name = String(closest[0].p.prefix);
  if (closest.length > 1) {
    return `${closest.length} prefixes ${name} enclose it: no single prefix decides`;
  }
  const { p, pn } = closest[0];
  if (choiceValue(p.status) === "container") {
    return `its closest prefix ${name} is a container: the subnet is not known`;
  }
  if (pn.prefixLength === net.prefixLength) return "the mask already matches";
  if (pn.prefixLength === bits) return `its closest prefix ${name} is a host prefix`;
  const host = formatIp({ family: net.family, value: net.address });
  const small = net.family === 4 ? pn.prefixLength >= 31 : pn.prefixLength >= 127;
  if (!small && !p.is_pool) {
    if (net.address === pn.first) return `${host} is the network ID of ${name}`;
    if (net.family === 4 && net.address === pn.last) {
      return `${host} is the broadcast address of ${name}`;
    }
  }
  const others = (now.sameHost.get(ip.id) ?? []).filter((o) =>
    o.id !== ip.id && vrfOf(o) === vrfId
  );
  if (others.length) {
    return `${others.length} other address(es) with host ${host} in its VRF (ids ${
      others.map((o) => o.id).join(", ")
    })`;
  }
  const fixed = `${host}/${pn.prefixLength}`;
  return {
    rule: f.rule,
    key,
    object_type: "ipam.ipaddress",
    object_id: ip.id,
    path: IP_PATH,
    label: address,
    changes: [{ field: "address", old: address, new: fixed }],
    body: { address: fixed },
  };
}

function primaryFix(f: Finding, key: string, now: Current, ignoreTag: string): FixItem | string {
  const type = HOST_TYPES[f.object_type];
  if (!type) return `cannot fix ${f.object_type}`;
  if (!/IPv4|primary_ip4/.test(f.message)) return "only a missing primary IPv4 is fixed";
  const hk = `${f.object_type}:${f.object_id}`;
  const host = now.hosts.get(hk);
  if (!host) return `the ${type.label} no longer exists`;
  if (tagSlugs(host.tags).includes(ignoreTag)) return `the ${type.label} is tagged ${ignoreTag}`;
  if (host.primary_ip4) return "it has a primary IPv4 now";
  const candidates = (now.hostIps.get(hk) ?? []).filter((ip) =>
    !String(ip.address).includes(":") && IP_IN_USE_STATUSES.has(choiceValue(ip.status)) &&
    !tagSlugs(ip.tags).includes(ignoreTag)
  );
  if (candidates.length !== 1) {
    return `${candidates.length} IPv4 candidates on its interfaces: exactly one is needed`;
  }
  const [chosen] = candidates;
  return {
    rule: f.rule,
    key,
    object_type: f.object_type,
    object_id: f.object_id,
    path: type.path,
    label: String(host.name ?? host.display ?? `#${host.id}`),
    changes: [{ field: "primary_ip4", old: "", new: String(chosen.address) }],
    body: { primary_ip4: chosen.id },
  };
}

/** Reads what the decisions need, in a few list calls per rule. */
async function readCurrent(
  client: FixClient,
  findings: Finding[],
  signal?: AbortSignal,
): Promise<Current> {
  const now: Current = {
    ips: new Map(),
    enclosing: new Map(),
    sameHost: new Map(),
    hosts: new Map(),
    hostIps: new Map(),
  };
  const opts = (fields: string[]) => ({ fields, signal });
  const ipIds = [
    ...new Set(findings.filter((f) => f.object_type === "ipam.ipaddress").map((f) => f.object_id)),
  ];
  for (let i = 0; i < ipIds.length; i += 100) {
    const rows = await client.ipam.ipAddresses.all(
      { id: ipIds.slice(i, i + 100) },
      opts(["id", "address", "vrf", "tags", "status"]),
    );
    for (const ip of rows) now.ips.set(ip.id, ip);
  }
  for (const f of findings.filter((f) => f.rule === "mask-mismatch")) {
    const ip = now.ips.get(f.object_id);
    if (!ip) continue;
    const host = String(ip.address).split("/")[0];
    const [enclosing, sameHost] = await Promise.all([
      client.ipam.prefixes.all(
        { vrf_id: vrfOf(ip), contains: host },
        opts(["id", "prefix", "vrf", "status", "is_pool"]),
      ),
      client.ipam.ipAddresses.all({ address: host }, opts(["id", "address", "vrf"])),
    ]);
    now.enclosing.set(ip.id, enclosing);
    now.sameHost.set(ip.id, sameHost);
  }
  for (const f of findings.filter((f) => f.rule === "primary-missing")) {
    const type = HOST_TYPES[f.object_type];
    if (!type) continue;
    const hk = `${f.object_type}:${f.object_id}`;
    const ep = f.object_type === "dcim.device"
      ? client.dcim.devices
      : client.virtualization.virtualMachines;
    const [[host], ips] = await Promise.all([
      ep.all({ id: f.object_id }, opts(["id", "name", "display", "primary_ip4", "tags"])),
      client.ipam.ipAddresses.all(
        { [type.filter]: f.object_id, family: 4 },
        opts(["id", "address", "status", "tags"]),
      ),
    ]);
    if (host) now.hosts.set(hk, host);
    now.hostIps.set(hk, ips);
  }
  return now;
}

/** What happened to one planned write. */
export interface FixOutcome {
  /** The plan item. */
  item: FixItem;
  /**
   * `applied`, `failed`, or `unknown`: NetBox did not answer and the change was not there after
   * reading back for the client's settle window (it may still land).
   */
  status: "applied" | "failed" | "unknown";
  /** NetBox's messages when it failed. */
  message?: string;
}

/** What {@linkcode applyFixes} returns. */
export interface FixResult {
  /** One outcome per plan item, in plan order. */
  outcomes: FixOutcome[];
  /** Tags created first. */
  created_tags: string[];
}

/**
 * Writes a fix plan: creates the missing tags, then one bulk PATCH per endpoint (chunked by the
 * client; a rejected chunk is split so the good items still land). Every write goes through the
 * client, so its `onWrite` hook sees it. A fix whose answer was lost is read back (waiting for a
 * late write up to the client's settle window): `applied` when it holds, else `unknown`.
 *
 * @param client The client (write-enabled token).
 * @param plan The plan from {@linkcode planFixes}.
 * @returns The outcome of every item.
 *
 * @example An empty plan writes nothing
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { applyFixes } from "./fix.ts";
 * const client = { endpoint: () => { throw new Error("not called"); } };
 * const result = await applyFixes(client as never, { items: [], skipped: [], create_tags: [] });
 * assert(result.outcomes.length === 0);
 * ```
 */
export async function applyFixes(
  client: Pick<NetBoxClient, "endpoint" | "settleMs" | "clock">,
  plan: FixPlan,
): Promise<FixResult> {
  const created: string[] = [];
  for (const slug of plan.create_tags) {
    await client.endpoint("extras/tags/").create({
      name: slug,
      slug,
      description: "Set by netbox-toolkit audit-ips --fix",
    });
    created.push(slug);
  }
  const outcomes = new Map<FixItem, FixOutcome>();
  await applyCreates(client, plan.items.filter((i) => i.action === "create"), outcomes);
  const updates = plan.items.filter((i) => i.action !== "create");
  for (const path of [...new Set(updates.map((i) => i.path))]) {
    const group = updates.filter((i) => i.path === path);
    const result = await client.endpoint(path).update(
      group.map((i) => ({ id: i.object_id, ...i.body })),
    );
    const lost: FixOutcome[] = [];
    for (const o of result.items) {
      const item = group[o.index];
      const outcome: FixOutcome = o.ok ? { item, status: "applied" } : {
        item,
        status: "failed",
        message: Object.entries(o.messages).map(([k, v]) => `${k}: ${v.join(" ")}`).join("; ") ||
          o.error.message,
      };
      outcomes.set(item, outcome);
      if (!o.ok && mayHaveActed(o.error)) lost.push(outcome);
    }
    for (const id of result.skippedIds) {
      const item = group.find((i) => i.object_id === id);
      if (item) {
        outcomes.set(item, { item, status: "failed", message: `object ${id} no longer exists` });
      }
    }
    await readBackLost(client, path, lost);
  }
  return {
    outcomes: plan.items.map((item) =>
      outcomes.get(item) ?? { item, status: "failed", message: "not sent" }
    ),
    created_tags: created,
  };
}

/**
 * Creates, one bulk POST per endpoint. A create whose answer was lost is `unknown`, never sent
 * again here: the next plan reads NetBox back and skips an address that now exists.
 */
async function applyCreates(
  client: Pick<NetBoxClient, "endpoint">,
  creates: FixItem[],
  outcomes: Map<FixItem, FixOutcome>,
): Promise<void> {
  for (const path of [...new Set(creates.map((i) => i.path))]) {
    const group = creates.filter((i) => i.path === path);
    const result = await client.endpoint(path).create(group.map((i) => i.body));
    for (const o of result.items) {
      const item = group[o.index];
      if (o.ok) {
        outcomes.set(item, { item, status: "applied" });
        continue;
      }
      const message = Object.entries(o.messages).map(([k, v]) =>
        `${k}: ${v.join(" ")}`
      ).join("; ") ||
        o.error.message;
      outcomes.set(
        item,
        mayHaveActed(o.error)
          ? {
            item,
            status: "unknown",
            message: `NetBox did not answer (${message}); it may have created ${item.label}: ` +
              "the next --fix reads back before creating",
          }
          : { item, status: "failed", message },
      );
    }
  }
}

/**
 * Fixes whose answer was lost (NetBox may have made them, or may still make them): the objects
 * are read back until each holds its fix or the client's settle window has passed. Held:
 * `applied`; not held: `unknown` (it may still land), never "failed"; unreadable: `unknown`.
 */
async function readBackLost(
  client: Pick<NetBoxClient, "endpoint" | "settleMs" | "clock">,
  path: string,
  lost: FixOutcome[],
): Promise<void> {
  if (!lost.length) return;
  const ids = lost.map((o) => o.item.object_id);
  const holding = (objs: NetBoxObject[]) => {
    const byId = new Map(objs.map((o) => [o.id, o]));
    return new Set(lost.filter((o) => holds(byId.get(o.item.object_id), o.item.body)));
  };
  let held: Set<FixOutcome> | undefined;
  let waitedMs = 0;
  try {
    const r = await settle(
      client,
      async () => holding(await client.endpoint(path).all({ id: ids })),
      (h) => h.size === lost.length,
    );
    held = r.value;
    waitedMs = r.waitedMs;
  } catch {
    held = undefined;
  }
  for (const o of lost) {
    const before = o.message;
    if (held?.has(o)) {
      o.status = "applied";
      o.message = `NetBox's answer was lost (${before}); confirmed by reading back`;
    } else {
      o.status = "unknown";
      o.message = held
        ? `NetBox did not answer (${before}) and may still be making the change: not there ` +
          `after reading back for ${seconds(waitedMs)}; check ${path}${o.item.object_id}/`
        : `NetBox's answer was lost (${before}) and it could not be read back; check ` +
          `${path}${o.item.object_id}/`;
    }
  }
}

/** Whether an object holds a fix's body: tags by slug, related objects by id, choices by value. */
function holds(obj: NetBoxObject | undefined, body: Record<string, unknown>): boolean {
  if (!obj) return false;
  const plain = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    return o.slug ?? o.id ?? o.value ?? JSON.stringify(v);
  };
  return Object.entries(body).every(([field, want]) => {
    const have = obj[field];
    if (Array.isArray(want)) {
      if (!Array.isArray(have)) return false;
      const a = want.map(plain).map(String).sort();
      const b = have.map(plain).map(String).sort();
      return a.length === b.length && a.every((x, i) => x === b[i]);
    }
    return String(plain(have)) === String(plain(want));
  });
}

/** A plan and its outcome as plain data (what `--format json` shows under `fixes`). */
export interface FixReport {
  /** Whether the plan was written. */
  applied: boolean;
  /** Tags created (or to create) first. */
  create_tags: string[];
  /** The writes, each `planned`, `applied` or `failed`. */
  items: (Omit<FixItem, "body"> & { status: "planned" | FixOutcome["status"]; message?: string })[];
  /** The findings left alone, with the reason. */
  skipped: SkippedFix[];
}

/**
 * The plan (and its outcome, once applied) as plain data for JSON/YAML output.
 *
 * @param plan The plan.
 * @param result The outcome, once applied.
 * @returns The report.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { fixReport } from "./fix.ts";
 * const report = fixReport({ items: [], skipped: [], create_tags: [] });
 * assert(report.applied === false && report.items.length === 0);
 * ```
 */
export function fixReport(plan: FixPlan, result?: FixResult): FixReport {
  return {
    applied: result !== undefined,
    create_tags: plan.create_tags,
    items: plan.items.map((item) => {
      const o = result?.outcomes.find((x) => x.item === item);
      const { body: _body, ...rest } = item;
      return {
        ...rest,
        status: o?.status ?? "planned",
        ...(o?.message ? { message: o.message } : {}),
      };
    }),
    skipped: plan.skipped,
  };
}

/**
 * The plan as text: one line per write (`object: field old → new`), then the skipped findings.
 *
 * @param plan The plan.
 * @param result The outcome, once applied.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderFixPlan } from "./fix.ts";
 * const text = renderFixPlan({ items: [{ rule: "mask-mismatch", key: "k", object_type: "ipam.ipaddress",
 *   object_id: 7, path: "ipam/ip-addresses/", label: "10.0.0.5/16",
 *   changes: [{ field: "address", old: "10.0.0.5/16", new: "10.0.0.5/24" }], body: {} }],
 *   skipped: [], create_tags: [] });
 * assert(text.includes("ipam.ipaddress 7 (10.0.0.5/16): address 10.0.0.5/16 → 10.0.0.5/24"));
 * ```
 */
export function renderFixPlan(plan: FixPlan, result?: FixResult): string {
  const out: string[] = [];
  const verb = result ? "Fixes applied" : "Fix plan (dry run; --apply writes it)";
  out.push(
    `${verb}: ${plan.items.length} write${
      plan.items.length === 1 ? "" : "s"
    }, ${plan.skipped.length} finding${plan.skipped.length === 1 ? "" : "s"} left alone`,
  );
  for (const tag of plan.create_tags) out.push(`  create tag ${tag}`);
  const status = new Map(result?.outcomes.map((o) => [o.item, o]) ?? []);
  for (const item of plan.items) {
    const changes = item.changes.map((c) => `${c.field} ${c.old || "(none)"} → ${c.new}`).join(
      ", ",
    );
    const o = status.get(item);
    const tail = o
      ? (o.status === "applied" ? "  [applied]" : `  [${o.status}: ${o.message}]`)
      : "";
    const what = item.action === "create"
      ? `create ${item.object_type}`
      : `${item.object_type} ${item.object_id}`;
    out.push(`  ${item.rule}: ${what} (${item.label}): ${changes}${tail}`);
  }
  for (const s of plan.skipped) {
    out.push(`  skipped ${s.rule}: ${s.object_type} ${s.object_id}: ${s.reason}`);
  }
  return out.join("\n") + "\n";
}
