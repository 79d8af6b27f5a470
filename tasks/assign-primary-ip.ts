/**
 * assign-primary-ip — from "device/VM + interface + address (or a prefix to allocate from)" to
 * "IP assigned to that interface and set as primary_ip4/6 (or OOB)" in one step; VRF-aware,
 * idempotent, batch from a file, `--dry-run`.
 *
 * ```sh
 * deno task assign-primary-ip --vm docker-01 --interface eth0 --address 192.168.3.10/24 \
 *   --dns-name docker-01-nexus.spaceships.work
 * ```
 *
 * @module
 */

import { collect, runTask, type TaskContext } from "../lib/cli/task.ts";
import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { csvParse, yamlParse, yamlParseEvents } from "../lib/deps.ts";
import { validateDnsName } from "../lib/ipam/dns_name.ts";
import { NetBoxAuthError, NetBoxError } from "../lib/client/errors.ts";
import { IP_STATUSES } from "../lib/ipam/choices.ts";
import { occupies, type PrefixLike, prefixPool } from "../lib/ipam/free_ips.ts";
import { formatCidr, formatIp, hostOf, parseCidr } from "../lib/ipam/ip.ts";
import {
  describeObject,
  findOne,
  LookupError,
  resolveTags,
  resolveVrf,
} from "../lib/ipam/lookup.ts";
import type { Endpoint, NetBoxClient, NetBoxObject } from "../lib/client/types.ts";
import type { ModelWrite } from "../lib/client/permissions.ts";

const COLUMNS = ["line", "target", "interface", "address", "ip_id", "actions", "error"];

/** One assignment: from the flags, or one row of `--file`. */
export interface AssignRow {
  /** Line in the batch file (undefined for flags). */
  line?: number;
  device?: string;
  site?: string;
  vm?: string;
  cluster?: string;
  device_id?: number;
  vm_id?: number;
  interface?: string;
  create_interface?: boolean;
  interface_type?: string;
  address?: string;
  vrf?: string;
  from_prefix?: string;
  dns_name?: string;
  status?: string;
  tags: string[];
  description?: string;
  oob?: boolean;
  move?: boolean;
}

interface Opts {
  device?: string;
  site?: string;
  vm?: string;
  cluster?: string;
  deviceId?: string;
  vmId?: string;
  interface?: string;
  createInterface?: boolean;
  interfaceType?: string;
  address?: string;
  vrf?: string;
  fromPrefix?: string;
  dnsName?: string;
  dnsPattern?: string;
  status?: string;
  tag: string[];
  description?: string;
  oob?: boolean;
  move?: boolean;
  file?: string;
}

const SPEC = {
  name: "assign-primary-ip",
  description: "Assign an IP address to a device or VM interface and make it the primary " +
    "(or OOB) IP, in one idempotent step",
  writes: true,
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .option("--device <name>", "the device (with --site when the name is not unique)")
      .option("--site <site>", "site slug or name of --device")
      .option("--vm <name>", "the virtual machine (with --cluster when not unique)")
      .option("--cluster <cluster>", "cluster name of --vm")
      .option("--device-id <id>", "the device by id")
      .option("--vm-id <id>", "the virtual machine by id")
      .option("--interface <name>", "the interface (default: the target's only interface)")
      .option("--create-interface", "create --interface when the target does not have it")
      .option("--interface-type <type>", "type of a created device interface", "virtual")
      .option("--address <cidr>", "the address, e.g. 192.168.3.10/24 (reused when it exists)")
      .option("--vrf <vrf>", "VRF name, RD or id of --address / --from-prefix")
      .option(
        "--from-prefix <cidr|id>",
        "allocate the next free address of this prefix (through available-ips); an address the " +
          "interface already has in it is used instead",
      )
      .option("--dns-name <name>", "DNS name to set on the address")
      .option("--dns-pattern <regex>", "house rule DNS names must also match")
      .option("--status <status>", `status to set: ${IP_STATUSES.join(", ")}`)
      .option("--tag <tag>", "tag (name or slug) the address must carry (repeatable)", collect, [])
      .option("--description <text>", "description to set on the address")
      .option("--oob", "set the device's oob_ip instead of primary_ip4/6 (devices only)")
      .option(
        "--move",
        "move an address assigned elsewhere (first clearing a primary/OOB designation that blocks it)",
      )
      .option(
        "--file <file>",
        "batch: YAML, JSON or CSV rows with the same fields (device, site, vm, cluster, " +
          "device_id, vm_id, interface, create_interface, interface_type, address, vrf, " +
          "from_prefix, dns_name, status, tags, description, oob, move); - reads stdin",
      ),
  examples: [
    "assign-primary-ip --vm docker-01 --interface eth0 --address 192.168.3.10/24 \\\n" +
    "    --dns-name docker-01-nexus.spaceships.work",
    "assign-primary-ip --device foxtrot --site matrix --interface mgmt0 --address 10.9.0.5/24 --oob",
    "assign-primary-ip --vm web-01 --from-prefix 192.168.3.0/24 --dry-run",
    "assign-primary-ip --file rows.yaml --concurrency 8",
  ],
};

// ---------------------------------------------------------------------------------------------
// rows: from flags or a file

const ROW_KEYS = new Set([
  "device",
  "site",
  "vm",
  "cluster",
  "device_id",
  "vm_id",
  "interface",
  "create_interface",
  "interface_type",
  "address",
  "vrf",
  "from_prefix",
  "dns_name",
  "status",
  "tags",
  "tag",
  "description",
  "oob",
  "move",
]);
const BOOL_KEYS = new Set(["create_interface", "oob", "move"]);
const INT_KEYS = new Set(["device_id", "vm_id"]);

function rowFromOpts(opts: Opts): AssignRow {
  return {
    device: opts.device,
    site: opts.site,
    vm: opts.vm,
    cluster: opts.cluster,
    device_id: opts.deviceId === undefined ? undefined : intOf(opts.deviceId, "--device-id"),
    vm_id: opts.vmId === undefined ? undefined : intOf(opts.vmId, "--vm-id"),
    interface: opts.interface,
    create_interface: opts.createInterface,
    interface_type: opts.interfaceType,
    address: opts.address,
    vrf: opts.vrf,
    from_prefix: opts.fromPrefix,
    dns_name: opts.dnsName,
    status: opts.status,
    tags: opts.tag,
    description: opts.description,
    oob: opts.oob,
    move: opts.move,
  };
}

function intOf(value: unknown, what: string): number {
  const n = typeof value === "number" ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: expected a positive integer`);
  return n;
}

function boolOf(value: unknown, what: string): boolean {
  if (typeof value === "boolean") return value;
  const text = String(value ?? "").trim().toLowerCase();
  if (["", "false", "no", "0", "n"].includes(text)) return false;
  if (["true", "yes", "1", "y"].includes(text)) return true;
  throw new Error(`${what}: expected true or false, got "${value}"`);
}

/** Turns one file record into a row; throws Error with the reason. */
function rowFromRecord(record: unknown, line: number): AssignRow {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new Error("a row must be a mapping of field names to values");
  }
  const row: AssignRow = { line, tags: [] };
  for (const [rawKey, value] of Object.entries(record)) {
    const key = rawKey.trim().toLowerCase().replaceAll("-", "_");
    if (!ROW_KEYS.has(key)) throw new Error(`unknown field "${rawKey}"`);
    if (value === null || value === undefined || value === "") continue;
    if (key === "tags" || key === "tag") {
      const list = Array.isArray(value) ? value : String(value).split(/[;,]/);
      row.tags.push(...list.map((t) => String(t).trim()).filter((t) => t !== ""));
    } else if (BOOL_KEYS.has(key)) {
      (row as unknown as Record<string, unknown>)[key] = boolOf(value, key);
    } else if (INT_KEYS.has(key)) {
      (row as unknown as Record<string, unknown>)[key] = intOf(value, key);
    } else {
      (row as unknown as Record<string, unknown>)[key] = String(value).trim();
    }
  }
  return row;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === "\n") line++;
  return line;
}

/** Start offsets of the items of a top-level YAML/JSON sequence. */
function itemOffsets(text: string): number[] {
  // deno-lint-ignore no-explicit-any
  const events = yamlParseEvents(text, {}) as any[];
  const offsets: number[] = [];
  let depth = 0;
  for (const ev of events) {
    if (ev.type === 6) {
      depth--;
      continue;
    }
    if (ev.type < 2) continue;
    if (depth === 1) offsets.push(ev.type === 4 ? ev.valueStart : ev.start);
    if (ev.type === 2 || ev.type === 3) depth++;
  }
  return offsets;
}

/**
 * Parses a batch file: a YAML or JSON list of rows (or a mapping with a `rows:` list), or CSV
 * with a header line. Every row remembers its line.
 *
 * @param text The file's contents.
 * @param file The file name (its extension picks CSV; `-` or others are tried as YAML/JSON).
 * @returns The rows.
 * @throws {UsageError} For syntax errors and rows that are not shaped right, with line numbers.
 */
export function parseRows(text: string, file: string): AssignRow[] {
  const problems: string[] = [];
  const rows: AssignRow[] = [];
  if (/\.csv$/i.test(file)) {
    let records: { record: Record<string, string>; info: { lines: number } }[];
    try {
      records = csvParse(text, {
        columns: true,
        skip_empty_lines: true,
        trim: true,
        info: true,
      }) as typeof records;
    } catch (err) {
      throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
    }
    for (const { record, info } of records) {
      try {
        rows.push(rowFromRecord(record, info.lines));
      } catch (err) {
        problems.push(`${file}:${info.lines}: ${(err as Error).message}`);
      }
    }
  } else {
    let doc: unknown;
    let offsets: number[];
    try {
      doc = yamlParse(text);
      offsets = itemOffsets(text);
    } catch (err) {
      throw new UsageError(`Cannot read ${file}: ${(err as Error).message.split("\n")[0]}`);
    }
    let items: unknown[];
    if (Array.isArray(doc)) {
      items = doc;
    } else if (doc && typeof doc === "object" && Array.isArray((doc as { rows?: unknown }).rows)) {
      items = (doc as { rows: unknown[] }).rows;
      offsets = rowsOffsets(text);
    } else {
      throw new UsageError(`Cannot read ${file}: expected a list of rows (or rows: [...])`);
    }
    items.forEach((item, i) => {
      const line = offsets[i] === undefined ? i + 1 : lineAt(text, offsets[i]);
      try {
        rows.push(rowFromRecord(item, line));
      } catch (err) {
        problems.push(`${file}:${line}: ${(err as Error).message}`);
      }
    });
  }
  if (problems.length) throw new UsageError(`Cannot read ${file}: ${problems.join("; ")}`);
  if (rows.length === 0) throw new UsageError(`Cannot read ${file}: no rows`);
  return rows;
}

/** Item offsets of the sequence under the top-level `rows:` key. */
function rowsOffsets(text: string): number[] {
  // deno-lint-ignore no-explicit-any
  const events = yamlParseEvents(text, {}) as any[];
  const offsets: number[] = [];
  let depth = 0;
  let inRows = false;
  let expectValue = false;
  let keyIsRows = false;
  for (const ev of events) {
    if (ev.type === 6) {
      depth--;
      if (depth === 1) inRows = false;
      continue;
    }
    if (ev.type < 2) continue;
    if (depth === 1) {
      // top-level mapping: alternate key / value
      if (!expectValue) {
        keyIsRows = ev.type === 4 && text.slice(ev.valueStart, ev.valueEnd) === "rows";
        expectValue = true;
      } else {
        expectValue = false;
        if (keyIsRows && ev.type === 2) inRows = true;
      }
    } else if (depth === 2 && inRows) {
      offsets.push(ev.type === 4 ? ev.valueStart : ev.start);
    }
    if (ev.type === 2 || ev.type === 3) depth++;
  }
  return offsets;
}

/** Checks a row without asking NetBox; returns the reason it is invalid. */
export function checkRow(row: AssignRow, dnsPattern?: RegExp): string | undefined {
  const targets = [
    row.device !== undefined && "device",
    row.vm !== undefined && "vm",
    row.device_id !== undefined && "device_id",
    row.vm_id !== undefined && "vm_id",
  ].filter(Boolean);
  if (targets.length !== 1) {
    return targets.length === 0
      ? "no target: give device, vm, device_id or vm_id"
      : `${targets.join(" and ")} exclude each other`;
  }
  if (row.site !== undefined && row.device === undefined) return "site needs device";
  if (row.cluster !== undefined && row.vm === undefined) return "cluster needs vm";
  const isVm = row.vm !== undefined || row.vm_id !== undefined;
  if (row.oob && isVm) return "oob is for devices only (a VM has no OOB IP)";
  if ((row.address === undefined) === (row.from_prefix === undefined)) {
    return "give exactly one of address or from_prefix";
  }
  if (row.address !== undefined) {
    if (!row.address.includes("/")) return `address "${row.address}" needs a mask (e.g. /24)`;
    try {
      parseCidr(row.address);
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (row.from_prefix !== undefined && !/^\d+$/.test(row.from_prefix)) {
    try {
      parseCidr(row.from_prefix);
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (row.status !== undefined && !IP_STATUSES.includes(row.status)) {
    return `status "${row.status}": expected one of ${IP_STATUSES.join(", ")}`;
  }
  if (row.dns_name !== undefined) {
    const reason = validateDnsName(row.dns_name, dnsPattern);
    if (reason) return reason;
  }
  if (row.create_interface && row.interface === undefined) {
    return "create_interface needs interface (the name to create)";
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// one row against NetBox

/** The outcome of one row. */
interface RowResult {
  [key: string]: unknown;
  line: number | null;
  target: string;
  interface: string | null;
  address: string | null;
  ip_id: number | null;
  actions: string[];
  error: string | null;
}

type Kind = "device" | "vm";

interface Target {
  kind: Kind;
  obj: NetBoxObject;
  label: string;
}

function targetLabel(row: AssignRow): string {
  if (row.device !== undefined) return `device ${row.device}`;
  if (row.vm !== undefined) return `vm ${row.vm}`;
  if (row.device_id !== undefined) return `device #${row.device_id}`;
  return `vm #${row.vm_id}`;
}

async function resolveTarget(client: NetBoxClient, row: AssignRow): Promise<Target> {
  if (row.device_id !== undefined) {
    const obj = await client.dcim.devices.get(row.device_id);
    return { kind: "device", obj, label: String(obj.name ?? `#${obj.id}`) };
  }
  if (row.vm_id !== undefined) {
    const obj = await client.virtualization.virtualMachines.get(row.vm_id);
    return { kind: "vm", obj, label: String(obj.name ?? `#${obj.id}`) };
  }
  if (row.device !== undefined) {
    const filters: Record<string, string | number> = { name: row.device };
    if (row.site !== undefined) {
      filters.site_id = (await findOne(client.dcim.sites, row.site, ["slug", "name"], "site")).id;
    }
    const hits = await client.dcim.devices.all(filters);
    return {
      kind: "device",
      obj: one(hits, `device "${row.device}"`, "--site", siteOf),
      label: row.device,
    };
  }
  const filters: Record<string, string | number> = { name: row.vm! };
  if (row.cluster !== undefined) {
    filters.cluster_id =
      (await findOne(client.virtualization.clusters, row.cluster, ["name"], "cluster")).id;
  }
  const hits = await client.virtualization.virtualMachines.all(filters);
  return {
    kind: "vm",
    obj: one(hits, `virtual machine "${row.vm}"`, "--cluster", clusterOf),
    label: row.vm!,
  };
}

function siteOf(o: NetBoxObject): string {
  const site = o.site as { name?: string } | null | undefined;
  return `${describeObject(o)} at site ${site?.name ?? "-"}`;
}

function clusterOf(o: NetBoxObject): string {
  const cluster = o.cluster as { name?: string } | null | undefined;
  return `${describeObject(o)} in cluster ${cluster?.name ?? "-"}`;
}

function one(
  hits: NetBoxObject[],
  what: string,
  hint: string,
  describe: (o: NetBoxObject) => string,
): NetBoxObject {
  if (hits.length === 1) return hits[0];
  if (hits.length === 0) throw new LookupError(`Cannot find ${what}`, []);
  throw new LookupError(
    `Cannot choose ${what}: ${hits.length} match: ${
      hits.map(describe).join("; ")
    }; narrow it with ${hint} or use the id`,
    hits,
  );
}

function interfaceEndpoint(client: NetBoxClient, kind: Kind): Endpoint {
  return kind === "device" ? client.dcim.interfaces : client.virtualization.interfaces;
}

function parentFilter(target: Target): Record<string, number> {
  return target.kind === "device"
    ? { device_id: target.obj.id }
    : { virtual_machine_id: target.obj.id };
}

const OBJECT_TYPE: Record<Kind, string> = {
  device: "dcim.interface",
  vm: "virtualization.vminterface",
};

interface Step {
  /** What the step does, for the log ("create IP 10.0.0.5/24 …"). */
  text: string;
  action: string;
  /** The model writes it makes; checked (OPTIONS) before the first write that needs them. */
  needs?: ModelWrite[];
}

const IPS = "ipam/ip-addresses/";

/** The list path of a device or VM (what setting a primary IP changes). */
function hostPath(kind: Kind): string {
  return kind === "device" ? "dcim/devices/" : "virtualization/virtual-machines/";
}

/** An IP write that ends in setting the target's primary/OOB IP: both permissions up front. */
function ipThenPrimary(action: "add" | "change", target: Target): ModelWrite[] {
  return [{ path: IPS, action }, { path: hostPath(target.kind), action: "change" }];
}

/** Runs one row; every write goes through `write`, which only logs under --dry-run. */
class RowRun {
  readonly actions: string[] = [];
  constructor(
    readonly ctx: TaskContext,
    readonly row: AssignRow,
    readonly prefix: string,
  ) {}

  async write<T>(step: Step, fn: () => Promise<T>): Promise<T | undefined> {
    this.actions.push(step.action);
    if (this.ctx.dryRun) {
      this.ctx.info(`${this.prefix}would ${step.text}`);
      return undefined;
    }
    await this.ctx.assertCanWrite(step.needs);
    const value = await fn();
    this.ctx.info(`${this.prefix}${step.text}`);
    return value;
  }
}

function ipVrfId(ip: NetBoxObject): number | null {
  return (ip.vrf as { id: number } | null | undefined)?.id ?? null;
}

function vrfName(ip: NetBoxObject): string {
  return (ip.vrf as { name?: string } | null | undefined)?.name ?? "global";
}

async function resolveInterface(
  run: RowRun,
  client: NetBoxClient,
  target: Target,
): Promise<NetBoxObject | undefined> {
  const endpoint = interfaceEndpoint(client, target.kind);
  const all = await endpoint.all(parentFilter(target));
  const name = run.row.interface;
  if (name === undefined) {
    if (all.length === 1) return all[0];
    throw new LookupError(
      all.length === 0
        ? `Cannot choose an interface of ${target.label}: it has none; give --interface and --create-interface`
        : `Cannot choose an interface of ${target.label}: it has ${all.length} (${
          all.map((i) => i.name).join(", ")
        }); give --interface`,
      all,
    );
  }
  const found = all.find((i) => i.name === name);
  if (found) return found;
  if (!run.row.create_interface) {
    throw new LookupError(
      `Cannot find interface ${name} on ${target.label} (it has: ${
        all.map((i) => i.name).join(", ") || "none"
      }); add --create-interface to create it`,
      all,
    );
  }
  const body: Record<string, unknown> = target.kind === "device"
    ? { device: target.obj.id, name, type: run.row.interface_type ?? "virtual" }
    : { virtual_machine: target.obj.id, name };
  return await run.write(
    {
      text: `create interface ${name} on ${target.label}`,
      action: "created-interface",
      needs: [
        {
          path: target.kind === "device" ? "dcim/interfaces/" : "virtualization/interfaces/",
          action: "add",
        },
        ...ipThenPrimary("add", target),
      ],
    },
    () => endpoint.create(body),
  );
}

/** Where an IP is assigned, as words. */
function assignedWhere(ip: NetBoxObject): string {
  const obj = ip.assigned_object as
    | { name?: string; device?: { name?: string }; virtual_machine?: { name?: string } }
    | null
    | undefined;
  if (!obj) return "nothing";
  if (obj.device) return `device ${obj.device.name} interface ${obj.name}`;
  if (obj.virtual_machine) {
    return `virtual machine ${obj.virtual_machine.name} interface ${obj.name}`;
  }
  return `${ip.assigned_object_type} ${obj.name ?? ip.assigned_object_id}`;
}

/** The existing IP for --address, honouring --vrf; undefined when it does not exist. */
async function findAddress(
  client: NetBoxClient,
  row: AssignRow,
  vrf: NetBoxObject | undefined,
): Promise<NetBoxObject | undefined> {
  const host = formatIp(hostOf(row.address!));
  let hits = await client.ipam.ipAddresses.all({ address: host });
  if (vrf) hits = hits.filter((ip) => ipVrfId(ip) === vrf.id);
  if (hits.length <= 1) return hits[0];
  const vrfs = new Set(hits.map(ipVrfId));
  const list = hits.map((ip) => `${ip.address} in VRF ${vrfName(ip)} (id ${ip.id})`).join(", ");
  throw new LookupError(
    vrfs.size > 1
      ? `Cannot choose address ${host}: it exists in ${vrfs.size} VRFs: ${list}; give --vrf`
      : `Cannot choose address ${host}: ${hits.length} copies in VRF ${vrfName(hits[0])}: ${list}`,
    hits,
  );
}

async function resolvePrefix(
  client: NetBoxClient,
  ref: string,
  vrf: NetBoxObject | undefined,
): Promise<NetBoxObject> {
  if (/^\d+$/.test(ref)) return await client.ipam.prefixes.get(Number(ref));
  const cidr = formatCidr(parseCidr(ref), { network: true });
  const hits = await client.ipam.prefixes.all({ prefix: cidr, ...(vrf ? { vrf_id: vrf.id } : {}) });
  if (hits.length === 1) return hits[0];
  if (hits.length === 0) {
    throw new LookupError(`Cannot find prefix ${cidr}${vrf ? ` in VRF ${vrf.name}` : ""}`, []);
  }
  throw new LookupError(
    `Cannot choose prefix ${cidr}: ${hits.length} match (${
      hits.map((p) => `VRF ${vrfName(p)}, id ${p.id}`).join("; ")
    }); give --vrf or the prefix id`,
    hits,
  );
}

/** The fields of the IP the row wants changed (only those that differ). */
function fieldChanges(
  ip: NetBoxObject | undefined,
  row: AssignRow,
  tagIds: number[],
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const status = ip ? (ip.status as { value?: string } | undefined)?.value : undefined;
  if (row.dns_name !== undefined && row.dns_name.toLowerCase() !== (ip?.dns_name ?? "")) {
    patch.dns_name = row.dns_name.toLowerCase();
  }
  if (row.status !== undefined && row.status !== status) patch.status = row.status;
  if (row.description !== undefined && row.description !== (ip?.description ?? "")) {
    patch.description = row.description;
  }
  const have = ((ip?.tags ?? []) as { id: number }[]).map((t) => t.id);
  if (tagIds.some((id) => !have.includes(id))) {
    patch.tags = [...new Set([...have, ...tagIds])];
  }
  return patch;
}

async function assignRow(ctx: TaskContext, row: AssignRow): Promise<RowResult> {
  const client = ctx.client();
  const prefix = row.line !== undefined ? `line ${row.line}: ` : "";
  const run = new RowRun(ctx, row, prefix);
  const result: RowResult = {
    line: row.line ?? null,
    target: targetLabel(row),
    interface: row.interface ?? null,
    address: row.address ?? null,
    ip_id: null,
    actions: run.actions,
    error: null,
  };
  const target = await resolveTarget(client, row);
  result.target = `${target.kind === "device" ? "device" : "vm"} ${target.label}`;
  const vrf = row.vrf === undefined ? undefined : await resolveVrf(client, row.vrf);
  const { tags, missing } = await resolveTags(client, row.tags);
  if (missing.length) {
    throw new UsageError(`Cannot use tag ${missing.join(", ")}: no such tag in NetBox`);
  }
  const tagIds = tags.map((t) => t.id);
  const iface = await resolveInterface(run, client, target);
  result.interface = String(iface?.name ?? row.interface);
  const ifaceId = iface?.id;
  const objectType = OBJECT_TYPE[target.kind];

  let ip: NetBoxObject | undefined;
  if (row.address !== undefined) {
    ip = await findAddress(client, row, vrf);
  } else {
    const pfx = await resolvePrefix(client, row.from_prefix!, vrf);
    const pool = prefixPool(pfx as unknown as PrefixLike);
    if (ifaceId !== undefined) {
      const onIface = await client.ipam.ipAddresses.all(
        target.kind === "device" ? { interface_id: ifaceId } : { vminterface_id: ifaceId },
      );
      ip = onIface.find((a) =>
        occupies(pool, a as unknown as { address: string; vrf: { id: number } | null })
      );
    }
    if (!ip) {
      const helper = client.ipam.prefixes.availableIps(pfx.id);
      const [next] = await helper.list({ limit: 1 });
      if (!next) {
        throw new NetBoxError(`Cannot allocate from ${pfx.prefix}: no free address left`);
      }
      const body: Record<string, unknown> = {
        ...fieldChanges(undefined, row, tagIds),
        status: row.status ?? "active",
      };
      if (ifaceId !== undefined) {
        body.assigned_object_type = objectType;
        body.assigned_object_id = ifaceId;
      }
      result.address = ctx.dryRun ? `${next.address} (next free)` : null;
      const created = await run.write(
        {
          text:
            `allocate the next free address of ${pfx.prefix} (now ${next.address}) on ${target.label} ${result.interface}`,
          action: "allocated-ip",
          needs: ipThenPrimary("add", target),
        },
        () => helper.create(body),
      );
      if (created) {
        ip = created[0];
        result.address = String(ip.address);
        result.ip_id = ip.id;
      }
      await setPrimary(run, client, target, ip, next.address);
      return result;
    }
  }

  if (ip === undefined) {
    const body: Record<string, unknown> = {
      address: row.address,
      vrf: vrf?.id ?? null,
      status: row.status ?? "active",
      ...fieldChanges(undefined, row, tagIds),
    };
    if (ifaceId !== undefined) {
      body.assigned_object_type = objectType;
      body.assigned_object_id = ifaceId;
    }
    ip = await run.write(
      {
        text: `create IP ${row.address} (VRF ${
          vrf?.name ?? "global"
        }) on ${target.label} ${result.interface}`,
        action: "created-ip",
        needs: ipThenPrimary("add", target),
      },
      () => client.ipam.ipAddresses.create(body),
    );
    result.ip_id = ip?.id ?? null;
    await setPrimary(run, client, target, ip, row.address!);
    return result;
  }

  result.address = String(ip.address);
  result.ip_id = ip.id;
  const patch = fieldChanges(ip, row, tagIds);
  if (
    row.address !== undefined &&
    parseCidr(String(ip.address)).prefixLength !== parseCidr(row.address).prefixLength
  ) {
    patch.address = row.address;
  }
  const assignedHere = ifaceId !== undefined && ip.assigned_object_type === objectType &&
    ip.assigned_object_id === ifaceId;
  if (!assignedHere) {
    if (ip.assigned_object_id != null) {
      if (!row.move) {
        throw new LookupError(
          `Cannot assign ${ip.address} to ${target.label} ${result.interface}: it is assigned to ${
            assignedWhere(ip)
          }; add --move to move it`,
          [ip],
        );
      }
      await clearBlockingDesignation(run, client, ip, target);
    }
    patch.assigned_object_type = objectType;
    patch.assigned_object_id = ifaceId;
  }
  if (Object.keys(patch).length) {
    const moving = !assignedHere && ip.assigned_object_id != null;
    const action = !assignedHere ? (moving ? "moved" : "assigned") : "updated-ip";
    if (!assignedHere && Object.keys(patch).some((k) => !k.startsWith("assigned_object"))) {
      run.actions.push("updated-ip");
    }
    const updated = await run.write(
      {
        text:
          `${
            action === "updated-ip" ? "update" : action === "moved" ? "move" : "assign"
          } IP ${ip.address}` +
          (assignedHere ? "" : ` to ${target.label} ${result.interface}`) +
          ` (${Object.keys(patch).filter((k) => k !== "assigned_object_type").join(", ")})`,
        action,
        needs: ipThenPrimary("change", target),
      },
      () => client.ipam.ipAddresses.update(ip!.id, patch),
    );
    if (updated) result.address = String(updated.address);
  }
  await setPrimary(run, client, target, ip, String(ip.address));
  return result;
}

/** Clears primary_ip4/6 / oob_ip on the IP's current parent when moving it elsewhere. */
async function clearBlockingDesignation(
  run: RowRun,
  client: NetBoxClient,
  ip: NetBoxObject,
  target: Target,
): Promise<void> {
  const obj = ip.assigned_object as
    | { device?: { id: number }; virtual_machine?: { id: number } }
    | null
    | undefined;
  const parentKind: Kind | undefined = obj?.device
    ? "device"
    : obj?.virtual_machine
    ? "vm"
    : undefined;
  const parentId = obj?.device?.id ?? obj?.virtual_machine?.id;
  if (!parentKind || parentId === undefined) return;
  if (parentKind === target.kind && parentId === target.obj.id) return; // same parent: allowed
  const endpoint = parentKind === "device"
    ? client.dcim.devices
    : client.virtualization.virtualMachines;
  const parent = await endpoint.get(parentId);
  const fields = ["primary_ip4", "primary_ip6", "oob_ip"].filter((f) =>
    (parent[f] as { id?: number } | null | undefined)?.id === ip.id
  );
  if (!fields.length) return;
  const patch = Object.fromEntries(fields.map((f) => [f, null]));
  await run.write(
    {
      text: `clear ${fields.join(", ")} of ${
        parentKind === "device" ? "device" : "vm"
      } ${parent.name} (it blocks the move)`,
      action: "cleared-primary",
      needs: [{
        path: hostPath(parentKind),
        action: "change",
      }, ...ipThenPrimary("change", target)],
    },
    () => endpoint.update(parentId, patch),
  );
}

async function setPrimary(
  run: RowRun,
  client: NetBoxClient,
  target: Target,
  ip: NetBoxObject | undefined,
  address: string,
): Promise<void> {
  const family = hostOf(address).family;
  const field = run.row.oob ? "oob_ip" : family === 4 ? "primary_ip4" : "primary_ip6";
  const current = (target.obj[field] as { id?: number } | null | undefined)?.id;
  if (ip && current === ip.id) {
    if (run.actions.length === 0) run.actions.push("unchanged");
    return;
  }
  const endpoint = target.kind === "device"
    ? client.dcim.devices
    : client.virtualization.virtualMachines;
  await run.write(
    {
      text: `set ${field} of ${target.label} to ${address}`,
      action: run.row.oob ? "set-oob" : "set-primary",
      needs: [{ path: hostPath(target.kind), action: "change" }],
    },
    () => endpoint.update(target.obj.id, { [field]: ip!.id }),
  );
}

// ---------------------------------------------------------------------------------------------
// the task

async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

function rowFlagsGiven(opts: Opts): string[] {
  const flags: [string, unknown][] = [
    ["--device", opts.device],
    ["--site", opts.site],
    ["--vm", opts.vm],
    ["--cluster", opts.cluster],
    ["--device-id", opts.deviceId],
    ["--vm-id", opts.vmId],
    ["--interface", opts.interface],
    ["--create-interface", opts.createInterface],
    ["--address", opts.address],
    ["--vrf", opts.vrf],
    ["--from-prefix", opts.fromPrefix],
    ["--dns-name", opts.dnsName],
    ["--status", opts.status],
    ["--description", opts.description],
    ["--oob", opts.oob],
    ["--move", opts.move],
  ];
  if (opts.tag.length) flags.push(["--tag", true]);
  return flags.filter(([, v]) => v !== undefined).map(([k]) => k);
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  let pattern: RegExp | undefined;
  if (opts.dnsPattern !== undefined) {
    try {
      pattern = new RegExp(opts.dnsPattern);
    } catch (err) {
      throw new UsageError(`Cannot use --dns-pattern: ${(err as Error).message}`);
    }
  }
  let rows: AssignRow[];
  if (opts.file !== undefined) {
    const given = rowFlagsGiven(opts);
    if (given.length) {
      throw new UsageError(`Cannot use ${given.join(", ")} with --file: put them in the rows`);
    }
    rows = parseRows(await ctx.readInput(opts.file), opts.file);
    for (const row of rows) row.interface_type ??= opts.interfaceType;
  } else {
    let row: AssignRow;
    try {
      row = rowFromOpts(opts);
    } catch (err) {
      throw new UsageError(`Cannot use ${(err as Error).message}`);
    }
    rows = [row];
  }
  const problems = rows.flatMap((row) => {
    const reason = checkRow(row, pattern);
    return reason ? [row.line !== undefined ? `line ${row.line}: ${reason}` : reason] : [];
  });
  if (opts.file === undefined) {
    // One assignment: nothing is sent for bad input, and errors map to exit codes as usual.
    if (problems.length) throw new UsageError(`Cannot assign: ${problems[0]}`);
    const result = await assignRow(ctx, rows[0]);
    await ctx.emit({ summary: summarize([result], ctx.dryRun), items: [result] }, {
      columns: COLUMNS.filter((c) => c !== "line" && c !== "error"),
    });
    return EXIT.OK;
  }
  // A batch: invalid rows fail alone, the others still run.
  const results: RowResult[] = new Array(rows.length);
  let next = 0;
  const worker = async () => {
    while (next < rows.length) {
      const index = next++;
      results[index] = await runOne(ctx, rows[index], pattern);
    }
  };
  const limit = opts.file === undefined ? 1 : Math.max(1, Math.min(ctx.concurrency, rows.length));
  await Promise.all(Array.from({ length: limit }, worker));
  const failed = results.filter((r) => r.error !== null);
  for (const r of failed) ctx.io.stderr(`error: ${opts.file}:${r.line}: ${r.error}\n`);
  const summary = summarize(results, ctx.dryRun);
  await ctx.emit({ summary, items: results }, { columns: COLUMNS });
  ctx.info(
    `${summary.done} of ${summary.rows} rows done${
      failed.length ? `, ${failed.length} failed` : ""
    }`,
  );
  return failed.length ? EXIT.ATTENTION : EXIT.OK;
}

function summarize(results: RowResult[], dryRun: boolean): Record<string, unknown> {
  const failed = results.filter((r) => r.error !== null).length;
  return {
    rows: results.length,
    done: results.length - failed,
    failed,
    unchanged: results.filter((r) => r.actions.length === 1 && r.actions[0] === "unchanged").length,
    dry_run: dryRun,
  };
}

async function runOne(ctx: TaskContext, row: AssignRow, pattern?: RegExp): Promise<RowResult> {
  const reason = checkRow(row, pattern);
  const base: RowResult = {
    line: row.line ?? null,
    target: targetLabel(row),
    interface: row.interface ?? null,
    address: row.address ?? null,
    ip_id: null,
    actions: [],
    error: null,
  };
  if (reason) return { ...base, error: reason };
  try {
    return await assignRow(ctx, row);
  } catch (err) {
    // Permission and programming errors stop the run; NetBox's answers fail the row only.
    // A refused token fails every row alike: stop with its exit code instead.
    if (!(err instanceof NetBoxError) || err instanceof NetBoxAuthError) throw err;
    return { ...base, error: err.message };
  }
}

export { main };

if (import.meta.main) Deno.exit(await main(Deno.args));
