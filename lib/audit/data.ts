/**
 * Fetches what the IP address audit analyses: a handful of parallel list calls with trimmed
 * fields (`?fields=`), never one request per address.
 *
 * @module
 */

import { InputError, NetBoxHttpError } from "../client/errors.ts";
import { parseCidr } from "../ipam/ip.ts";
import type { Filters, ListOptions, NetBoxClient, NetBoxObject } from "../client/types.ts";
import type {
  AuditData,
  AuditHost,
  AuditInterface,
  AuditIp,
  AuditPrefix,
  AuditRange,
  AuditVrf,
} from "./model.ts";

/** The fields each listing asks for. */
export const AUDIT_FIELDS = {
  ips: [
    "id",
    "url",
    "display",
    "address",
    "vrf",
    "tenant",
    "status",
    "role",
    "assigned_object_type",
    "assigned_object_id",
    "assigned_object",
    "nat_inside",
    "dns_name",
    "tags",
    "created",
    "last_updated",
  ],
  prefixes: ["id", "url", "prefix", "vrf", "status", "role", "is_pool", "mark_utilized", "tags"],
  ranges: ["id", "url", "start_address", "end_address", "vrf", "mark_utilized", "tags"],
  vrfs: ["id", "url", "name", "rd"],
  devices: [
    "id",
    "url",
    "name",
    "status",
    "primary_ip4",
    "primary_ip6",
    "oob_ip",
    "virtual_chassis",
    "tags",
  ],
  vms: ["id", "url", "name", "status", "primary_ip4", "primary_ip6", "tags"],
  interfaces: ["id", "vrf", "device"],
  vmInterfaces: ["id", "vrf", "virtual_machine"],
} as const;

/** What the audit is limited to. */
export interface AuditScope {
  /** A VRF by id, name or RD, or `global` for the global table. */
  vrf?: string;
  /** Only addresses and prefixes inside this CIDR. */
  parent?: string;
  /** Tenant slug. */
  tenant?: string;
  /** Site slug: the prefixes scoped to the site and the addresses inside them. */
  site?: string;
  /** Tag slug. */
  tag?: string;
  /** Extra IP address filters (`--filter key=value`). */
  filters?: Filters;
}

/** The part of the client the audit uses. */
export type AuditSource = Pick<NetBoxClient, "ipam" | "dcim" | "virtualization">;

/** Options of {@linkcode fetchAuditData}. */
export interface FetchAuditOptions {
  /** Aborts every listing. */
  signal?: AbortSignal;
  /** Called with a short label as each listing completes (progress, verbose logs). */
  onListed?: (what: string, count: number) => void;
}

const VRF_CHUNK = 50;

/**
 * Fetches the addresses in scope and their context (prefixes, ranges, VRFs, interfaces with a
 * VRF, devices, VMs) with parallel, trimmed listings.
 *
 * @param client The client (or anything with its `ipam`, `dcim`, `virtualization` endpoints).
 * @param scope What to audit.
 * @param options Signal and progress callback.
 * @returns The data for `analyzeAudit`.
 * @throws {InputError} When `--vrf` names no VRF or `--parent` is not a CIDR.
 *
 * @example Auditing one VRF
 * ```ts ignore
 * import { createClient } from "../client/client.ts";
 * import { fetchAuditData } from "./data.ts";
 * const client = createClient({ url: "http://127.0.0.1:8000", token: Deno.env.get("NETBOX_TOKEN")! });
 * const data = await fetchAuditData(client, { vrf: "blue" });
 * console.log(data.ips.length);
 * ```
 */
export async function fetchAuditData(
  client: AuditSource,
  scope: AuditScope = {},
  options: FetchAuditOptions = {},
): Promise<AuditData> {
  const { signal, onListed } = options;
  const list = async <T>(
    what: string,
    ep: { list(f?: Filters, o?: ListOptions): AsyncIterable<NetBoxObject> },
    filters: Filters,
    fields: readonly string[],
  ) => {
    const share = sharedNested();
    const rows: NetBoxObject[] = [];
    for await (const row of ep.list(filters, { fields: [...fields], parallel: true, signal })) {
      rows.push(share(row));
    }
    onListed?.(what, rows.length);
    return rows as unknown as T[];
  };
  const vrfs = await list<AuditVrf>("VRFs", client.ipam.vrfs, {}, AUDIT_FIELDS.vrfs);
  const vrfId = scope.vrf === undefined ? undefined : resolveVrf(vrfs, scope.vrf);
  if (scope.parent !== undefined) checkCidr(scope.parent);

  const ipFilters: Filters = {
    ...(scope.filters ?? {}),
    vrf_id: vrfId,
    parent: scope.parent,
    tenant: scope.tenant,
    tag: scope.tag,
  };
  const contextFilters: Filters = { vrf_id: vrfId, within_include: scope.parent };
  const reportFilters: Filters = {
    ...contextFilters,
    tenant: scope.tenant,
    tag: scope.tag,
    site: scope.site,
  };
  const scoped = scope.tenant !== undefined || scope.tag !== undefined || scope.site !== undefined;
  const ipam = client.ipam;
  const vrfIds = vrfs.map((v) => v.id);
  const [ips, prefixes, extraPrefixes, ranges, devices, vms, interfaces, vmInterfaces, report] =
    await Promise.all([
      list<AuditIp>("IP addresses", ipam.ipAddresses, ipFilters, AUDIT_FIELDS.ips),
      list<AuditPrefix>("prefixes", ipam.prefixes, contextFilters, AUDIT_FIELDS.prefixes),
      enclosingPrefixes(
        scope,
        vrfId,
        (f) => list<AuditPrefix>("enclosing prefixes", ipam.prefixes, f, AUDIT_FIELDS.prefixes),
      ),
      list<AuditRange>(
        "IP ranges",
        ipam.ipRanges,
        { vrf_id: vrfId, parent: scope.parent },
        AUDIT_FIELDS.ranges,
      ),
      list<AuditHost>("devices", client.dcim.devices, {}, AUDIT_FIELDS.devices),
      list<AuditHost>(
        "virtual machines",
        client.virtualization.virtualMachines,
        {},
        AUDIT_FIELDS.vms,
      ),
      byVrf(
        vrfIds,
        (ids) =>
          list<AuditInterface>(
            "interfaces",
            client.dcim.interfaces,
            { vrf_id: ids },
            AUDIT_FIELDS.interfaces,
          ),
      ),
      byVrf(
        vrfIds,
        (ids) =>
          list<AuditInterface>(
            "VM interfaces",
            client.virtualization.interfaces,
            { vrf_id: ids },
            AUDIT_FIELDS.vmInterfaces,
          ),
      ),
      scoped
        ? list<{ id: number; prefix: string; vrf?: { id: number } | null }>(
          "prefixes in scope",
          ipam.prefixes,
          reportFilters,
          ["id", "prefix", "vrf"],
        )
        : Promise.resolve(undefined),
    ]);
  const allPrefixes = dedupeById([...prefixes, ...extraPrefixes]);
  const reportPrefixIds = new Set((report ?? prefixes).map((p) => p.id));
  const inScopeIps = scope.site !== undefined ? ips.filter(insideAny(report ?? [])) : ips;
  return {
    ips: inScopeIps,
    prefixes: allPrefixes,
    ranges,
    vrfs,
    interfaces,
    vmInterfaces,
    devices,
    vms,
    reportPrefixIds,
  };
}

/** The nested fields many rows repeat: one VRF, tenant, status or role for thousands of rows. */
const SHARED_FIELDS = ["vrf", "tenant", "status", "role"];

/**
 * Makes rows share one copy of each nested VRF, tenant, status and role (by id, or by value for a
 * choice): a million addresses in ten VRFs then hold ten VRF objects, not a million, which is
 * most of the memory a large audit needs. The rows are otherwise untouched.
 */
function sharedNested(): (row: NetBoxObject) => NetBoxObject {
  const kept = new Map<string, unknown>();
  return (row) => {
    for (const field of SHARED_FIELDS) {
      const value = row[field] as { id?: unknown; value?: unknown } | null | undefined;
      if (value === null || typeof value !== "object") continue;
      const id = value.id ?? (value.value === undefined ? undefined : `=${value.value}`);
      if (id === undefined) continue;
      const key = `${field}:${id}`;
      const first = kept.get(key);
      if (first === undefined) kept.set(key, value);
      else row[field] = first;
    }
    return row;
  };
}

/**
 * Resolves `--vrf`: an id, a name, an RD, or `global`.
 *
 * @param vrfs The VRFs.
 * @param wanted The value given.
 * @returns The VRF id, or `null` for the global table.
 * @throws {InputError} "Cannot find VRF …" when nothing matches, or the name is ambiguous.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { resolveVrf } from "./data.ts";
 * const vrfs = [{ id: 3, name: "blue", rd: "65000:3" }];
 * assert(resolveVrf(vrfs, "blue") === 3 && resolveVrf(vrfs, "65000:3") === 3);
 * assert(resolveVrf(vrfs, "global") === null);
 * ```
 */
export function resolveVrf(vrfs: AuditVrf[], wanted: string): number | null {
  if (wanted === "global" || wanted === "null") return null;
  if (/^\d+$/.test(wanted)) {
    const byId = vrfs.find((v) => v.id === Number(wanted));
    if (byId) return byId.id;
  }
  const matches = vrfs.filter((v) => v.name === wanted || v.rd === wanted);
  if (matches.length === 1) return matches[0].id;
  if (matches.length > 1) {
    throw new InputError(
      `Cannot find VRF "${wanted}": ${matches.length} VRFs match (ids ${
        matches.map((v) => v.id).join(", ")
      }); give the id`,
    );
  }
  throw new InputError(`Cannot find VRF "${wanted}": no VRF has that id, name or RD`);
}

function checkCidr(cidr: string): void {
  try {
    parseCidr(cidr);
  } catch {
    throw new InputError(`Cannot use \`parent\` "${cidr}": not a CIDR`);
  }
}

/** The prefixes above `--parent` (they may be an address's closest prefix) and global containers. */
async function enclosingPrefixes(
  scope: AuditScope,
  vrfId: number | null | undefined,
  list: (f: Filters) => Promise<AuditPrefix[]>,
): Promise<AuditPrefix[]> {
  const calls: Promise<AuditPrefix[]>[] = [];
  if (scope.parent !== undefined) calls.push(list({ vrf_id: vrfId, contains: scope.parent }));
  if (vrfId !== undefined && vrfId !== null) {
    calls.push(list({ vrf_id: null, status: "container", within_include: scope.parent }));
    if (scope.parent !== undefined) {
      calls.push(list({ vrf_id: null, status: "container", contains: scope.parent }));
    }
  }
  return (await Promise.all(calls)).flat();
}

async function byVrf<T>(ids: number[], list: (ids: number[]) => Promise<T[]>): Promise<T[]> {
  if (ids.length === 0) return [];
  const chunks: number[][] = [];
  for (let i = 0; i < ids.length; i += VRF_CHUNK) chunks.push(ids.slice(i, i + VRF_CHUNK));
  return (await Promise.all(chunks.map((chunk) => withoutDeletedVrfs(chunk, list)))).flat();
}

/**
 * Lists by VRF ids; a VRF deleted since the VRFs were listed makes NetBox refuse the whole
 * filter ("Select a valid choice. 229 is not one of the available choices."): drop the ids
 * NetBox names and list again (a deleted VRF has no interfaces left to report).
 */
async function withoutDeletedVrfs<T>(
  ids: number[],
  list: (ids: number[]) => Promise<T[]>,
): Promise<T[]> {
  let left = ids;
  for (let attempt = 0;; attempt++) {
    if (left.length === 0) return [];
    try {
      return await list(left);
    } catch (err) {
      const gone = deletedVrfIds(err);
      if (!gone.length || attempt >= 5) throw err;
      left = left.filter((id) => !gone.includes(id));
    }
  }
}

function deletedVrfIds(err: unknown): number[] {
  if (!(err instanceof NetBoxHttpError) || err.status !== 400) return [];
  const messages = err.messages["vrf_id"] ?? [];
  return messages.flatMap((m) => [...m.matchAll(/(\d+) is not one of the available choices/g)])
    .map((m) => Number(m[1]));
}

function dedupeById<T extends { id: number }>(rows: T[]): T[] {
  const seen = new Map<number, T>();
  for (const r of rows) seen.set(r.id, r);
  return [...seen.values()];
}

function insideAny(
  prefixes: { prefix: string; vrf?: { id: number } | null }[],
): (ip: AuditIp) => boolean {
  const nets = prefixes.map((p) => ({ net: parseCidr(p.prefix), vrf: p.vrf?.id ?? 0 }));
  return (ip) => {
    const host = parseCidr(ip.address);
    const vrf = ip.vrf?.id ?? 0;
    return nets.some(({ net, vrf: v }) =>
      v === vrf && net.family === host.family && net.first <= host.address &&
      host.address <= net.last
    );
  };
}
