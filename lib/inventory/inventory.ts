/**
 * `buildInventory()`: NetBox's devices and virtual machines as an inventory for the tools that
 * configure the network (Ansible, Nornir). One streamed, field-trimmed listing per model —
 * devices, VMs, sites, regions, site groups, locations, racks, clusters, and with
 * `interfaces` the interfaces and their addresses — joined in memory, so the number of
 * requests grows with pages, never with hosts. Host variables and group names follow Ansible's
 * `netbox.netbox.nb_inventory` (with `plurals: false`, or its default `plurals: true` with
 * `plurals`).
 *
 * @module
 */

import { FilterError, InputError, NetBoxHttpError } from "../client/errors.ts";
import { checkFilters } from "../client/filter_guard.ts";
import type { Filters, NetBoxClient } from "../client/types.ts";
import { type GroupByKey, groupName, parseGroupBy } from "./group_by.ts";

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

/** Options of {@linkcode buildInventory}. */
export interface BuildInventoryOptions {
  /** Hosts from devices. @default {true} */
  devices?: boolean;
  /** Hosts from virtual machines. @default {true} */
  vms?: boolean;
  /** NetBox filters for the device and VM listings (checked by the filter guard). */
  filters?: Filters;
  /** Group keys (see `GROUP_BY_KEYS`), e.g. `["site", "role"]`. @default {[]} */
  groupBy?: readonly string[];
  /** Group names without the `<key>_` prefix (nb_inventory's `group_names_raw`). @default {false} */
  rawGroupNames?: boolean;
  /** `ansible_host` from the primary IPv6 address when there is one. @default {false} */
  preferIpv6?: boolean;
  /** Keep hosts without a primary IP (without `ansible_host`). @default {false} */
  includeNoIp?: boolean;
  /** Host variables from object fields: variable → dotted path, e.g. `{ owner: "tenant.name" }`. */
  compose?: Record<string, string>;
  /** Add each host's rendered config context (`config_context`). @default {false} */
  configContext?: boolean;
  /** Add the interfaces with their IP addresses (`interfaces`). @default {false} */
  interfaces?: boolean;
  /**
   * nb_inventory's `plurals: true` host variables: `sites`, `tenants`, `device_roles`,
   * `platforms`, `device_types`, `manufacturers` and `racks`, each a one-element list, instead of
   * `site`, `tenant`, `role`, …. @default {false}
   */
  plurals?: boolean;
  /** Add each host's services as NetBox returns them (`services`, nb_inventory's default). @default {false} */
  services?: boolean;
  /** Add each virtual machine's virtual disks as NetBox returns them (`virtual_disks`). @default {false} */
  virtualDisks?: boolean;
  /** Objects per page. @default {1000} */
  pageSize?: number;
  /** Aborts the listings. */
  signal?: AbortSignal;
}

/** One host of an inventory. */
export interface InventoryHost {
  /** The inventory name: the device's or VM's name. */
  name: string;
  /** A device or a virtual machine. */
  kind: "device" | "vm";
  /** The device's or VM's id. */
  id: number;
  /** The primary address without its mask, if any. */
  address?: string;
  /** The platform's slug, if any. */
  platform?: string;
  /** Host variables (nb_inventory's names; `ansible_host` among them when there is an address). */
  vars: Record<string, unknown>;
  /** The groups the host is directly in. */
  groups: string[];
}

/** One group of an inventory. */
export interface InventoryGroup {
  /** The group's name, e.g. `site_matrix`. */
  name: string;
  /** Hosts directly in the group, in inventory order. */
  hosts: string[];
  /** Child groups. */
  children: string[];
}

/** A device or VM left out of the inventory. */
export interface SkippedHost {
  /** A device or a virtual machine. */
  kind: "device" | "vm";
  /** Its id. */
  id: number;
  /** Its name (empty when it has none). */
  name: string;
  /** Why it was left out. */
  reason: "no primary IP" | "no name" | "virtual chassis member";
}

/** The result of {@linkcode buildInventory}. */
export interface Inventory {
  /** Devices first, then VMs, each in NetBox's order. */
  hosts: InventoryHost[];
  /** Groups that hold a host (directly or through a child), sorted by name. */
  groups: InventoryGroup[];
  /** What was left out, and why. */
  skipped: SkippedHost[];
}

/** A filter that NetBox or the filter guard refuses for the devices or the VMs. */
export class InventoryFilterError extends InputError {
  /** `"devices"` or `"virtual machines"`. */
  readonly listing: string;
  /**
   * Creates the error.
   *
   * @param listing the listing the filter was refused for
   * @param message the reason
   */
  constructor(listing: string, message: string) {
    super(message);
    this.name = "InventoryFilterError";
    this.listing = listing;
  }
}

const DEVICE_FIELDS = [
  "id",
  "name",
  "status",
  "site",
  "tenant",
  "role",
  "platform",
  "device_type",
  "rack",
  "location",
  "cluster",
  "primary_ip4",
  "primary_ip6",
  "oob_ip",
  "tags",
  "custom_fields",
  "serial",
  "asset_tag",
  "local_context_data",
  "virtual_chassis",
];
const VM_FIELDS = [
  "id",
  "name",
  "status",
  "site",
  "tenant",
  "role",
  "platform",
  "cluster",
  "device",
  "primary_ip4",
  "primary_ip6",
  "tags",
  "custom_fields",
  "serial",
  "local_context_data",
  "disk",
  "memory",
  "vcpus",
];

/**
 * Characters of ids per request when interfaces and addresses are fetched for filtered hosts
 * (`device_id=1&device_id=2…`): about 200 four-digit ids, within the 4,094-byte request line
 * gunicorn accepts by default with the rest of the query.
 */
const ID_QUERY_CHARS = 3000;

/**
 * Builds an inventory from NetBox's devices and virtual machines.
 *
 * @param client the client
 * @param options hosts, filters, groups, variables
 * @returns the hosts, their groups and what was left out
 * @throws {InputError} for an unknown group_by key or a bad compose expression
 * @throws {InventoryFilterError} when a filter is unknown to NetBox or refused by it
 *
 * @example A fake NetBox with one device
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { buildInventory } from "./inventory.ts";
 * const device = {
 *   id: 1, name: "sw1", status: { value: "active", label: "Active" }, site: { id: 2, slug: "matrix" },
 *   primary_ip4: { id: 3, address: "192.168.3.2/24" }, tags: [], custom_fields: {},
 * };
 * const fetch = (input: RequestInfo | URL) => {
 *   const path = new URL(String(input)).pathname;
 *   if (path === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   const results = path === "/api/dcim/devices/" ? [device] : [];
 *   return Promise.resolve(Response.json({ count: results.length, next: null, results }));
 * };
 * const client = createClient({ url: "http://127.0.0.1:1", token: "nbt_abcdefghijkl.x", fetch, strictFilters: false });
 * const inv = await buildInventory(client, { vms: false, groupBy: ["site"] });
 * equal(inv.hosts[0].vars.ansible_host, "192.168.3.2");
 * equal(inv.groups[0].name, "site_matrix");
 * client.close();
 * ```
 */
export async function buildInventory(
  client: NetBoxClient,
  options: BuildInventoryOptions = {},
): Promise<Inventory> {
  const {
    devices: withDevices = true,
    vms: withVms = true,
    filters = {},
    groupBy = [],
    rawGroupNames = false,
    preferIpv6 = false,
    includeNoIp = false,
    compose = {},
    configContext = false,
    interfaces = false,
    plurals = false,
    services = false,
    virtualDisks = false,
    pageSize = 1000,
    signal,
  } = options;
  const keys = parseGroupBy(groupBy);
  const composed = parseCompose(compose);
  const extra = [...new Set(Object.values(composed).map((path) => path[0]))];
  const list = (path: string, f: Filters, fields?: string[]) =>
    client.endpoint(path).all(f, { pageSize, signal, ...(fields ? { fields } : {}) }) as Promise<
      Obj[]
    >;
  const hostList = async (
    path: string,
    label: string,
    fields: string[],
    onIds?: (ids: number[]) => void,
  ) => {
    const wanted = [
      ...new Set([...fields, ...extra, ...(configContext ? ["config_context"] : [])]),
    ];
    try {
      // Without config_context in `fields` NetBox still renders it unless excluded.
      const rows: Obj[] = [];
      const ids = idChunks(onIds);
      for await (
        const row of client.endpoint(path).list(filters, {
          pageSize,
          signal,
          fields: wanted,
          excludeConfigContext: !configContext,
        })
      ) {
        rows.push(row as Obj);
        ids.add((row as Obj).id);
      }
      ids.flush();
      return rows;
    } catch (err) {
      if (err instanceof FilterError) throw new InventoryFilterError(label, err.message);
      if (err instanceof NetBoxHttpError && err.status === 400) {
        const said = Object.entries(err.messages ?? {}).map(([k, v]) =>
          `${k}: ${Array.isArray(v) ? v.join(" ") : String(v)}`
        ).join("; ");
        throw new InventoryFilterError(
          label,
          `NetBox refused the filters (${said || err.message})`,
        );
      }
      throw err;
    }
  };
  // Every filter is checked for every listing before anything is listed.
  for (
    const [on, path, label] of [
      [withDevices, "dcim/devices/", "devices"],
      [withVms, "virtualization/virtual-machines/", "virtual machines"],
    ] as const
  ) {
    if (!on) continue;
    try {
      await checkFilters(client, path, filters, signal);
    } catch (err) {
      if (err instanceof FilterError) throw new InventoryFilterError(label, err.message);
      throw err;
    }
  }
  const none = Promise.resolve([] as Obj[]);
  const lookups = (path: string, fields: string[]) =>
    list(path, {}, fields).then((rows) => new Map(rows.map((r) => [r.id as number, r])));
  // Hosts, lookups and (unfiltered) interfaces and addresses are listed at the same time.
  const filtered = Object.keys(filters).length > 0;
  // Filtered hosts: their interfaces and addresses are asked for by ids while the host pages
  // still arrive, not after the last one.
  const byIds = interfaces && filtered ? new ByIds(list) : undefined;
  const hostsP = Promise.all([
    withDevices
      ? hostList("dcim/devices/", "devices", DEVICE_FIELDS, byIds && ((ids) => byIds.devices(ids)))
      : none,
    withVms
      ? hostList(
        "virtualization/virtual-machines/",
        "virtual machines",
        VM_FIELDS,
        byIds && ((ids) => byIds.vms(ids)),
      )
      : none,
  ]).then(([deviceRows, vmRows]) => selectHosts(deviceRows, vmRows, includeNoIp));
  const lookupsP = Promise.all([
    lookups("dcim/sites/", ["id", "slug", "region", "group"]),
    lookups("dcim/regions/", ["id", "slug", "parent"]),
    lookups("dcim/site-groups/", ["id", "slug", "parent"]),
    lookups("dcim/locations/", ["id", "slug", "parent", "site"]),
    withDevices ? lookups("dcim/racks/", ["id", "name", "role"]) : Promise.resolve(new Map()),
    lookups("virtualization/clusters/", ["id", "type", "group"]),
  ]);
  const byParent = (rows: Obj[], parent: (r: Obj) => string | undefined) => {
    const out = new Map<string, Obj[]>();
    for (const r of rows) {
      const key = parent(r);
      if (key) (out.get(key) ?? out.set(key, []).get(key)!).push(r);
    }
    return out;
  };
  // Services and virtual disks: one listing each, joined by their host (few per host).
  const extrasP = Promise.all([
    services ? list("ipam/services/", {}).then((rows) => byParent(rows, serviceHost)) : undefined,
    virtualDisks && withVms
      ? list("virtualization/virtual-disks/", {}).then((rows) =>
        byParent(rows, (r) => r.virtual_machine?.id ? `vm:${r.virtual_machine.id}` : undefined)
      )
      : undefined,
  ]);
  const [
    { kept, skipped },
    [sites, regions, siteGroups, locations, racks, clusters],
    attached,
    [serviceRows, diskRows],
  ] = await Promise.all([
    hostsP,
    lookupsP,
    interfaces
      ? fetchInterfaces(hostsP, byIds, withDevices, withVms, list)
      : Promise.resolve(undefined),
    extrasP,
  ]);
  const l: Lookups = { sites, regions, siteGroups, locations, racks, clusters };

  const groups = new GroupSet();
  const hosts: InventoryHost[] = kept.map(({ row, kind }) => {
    const primary = preferIpv6
      ? row.primary_ip6 ?? row.primary_ip4
      : row.primary_ip4 ?? row.primary_ip6;
    const vars = hostVars(row, kind, l, plurals);
    const address = primary ? bare(primary.address) : undefined;
    if (address) vars.ansible_host = address;
    if (configContext && row.config_context) {
      vars.config_context = plurals ? [row.config_context] : row.config_context;
    }
    if (serviceRows) vars.services = serviceRows.get(`${kind}:${row.id}`) ?? [];
    if (virtualDisks) vars.virtual_disks = diskRows?.get(`${kind}:${row.id}`) ?? [];
    if (attached) {
      vars.interfaces = attached.get(`${kind}:${row.id}`) ?? [];
      const dns = primary ? attached.dnsNames.get(primary.id) : undefined;
      if (dns) vars.dns_name = dns;
    }
    for (const [name, path] of Object.entries(composed)) {
      const value = path.reduce((v: unknown, k) => (v as Obj | null | undefined)?.[k], row);
      if (value !== undefined) vars[name] = value;
    }
    const host: InventoryHost = {
      name: row.name,
      kind,
      id: row.id,
      ...(address ? { address } : {}),
      ...(row.platform?.slug ? { platform: row.platform.slug } : {}),
      vars: sortKeys(vars),
      groups: [],
    };
    placeHost(host, row, kind, keys, rawGroupNames, l, groups);
    return host;
  });
  return { hosts, groups: groups.result(), skipped };
}

interface Selected {
  kept: { row: Obj; kind: "device" | "vm" }[];
  skipped: SkippedHost[];
  deviceRows: Obj[];
}

/** The hosts of the inventory and the ones left out (nb_inventory skips chassis members). */
function selectHosts(deviceRows: Obj[], vmRows: Obj[], includeNoIp: boolean): Selected {
  const skipped: SkippedHost[] = [];
  const kept: { row: Obj; kind: "device" | "vm" }[] = [];
  for (const [rows, kind] of [[deviceRows, "device"], [vmRows, "vm"]] as const) {
    for (const row of rows) {
      const master = row.virtual_chassis?.master?.id;
      if (master !== undefined && master !== null && master !== row.id) {
        skipped.push({ kind, id: row.id, name: row.name ?? "", reason: "virtual chassis member" });
      } else if (!row.name) {
        skipped.push({ kind, id: row.id, name: "", reason: "no name" });
      } else if (!row.primary_ip4 && !row.primary_ip6 && !includeNoIp) {
        skipped.push({ kind, id: row.id, name: row.name, reason: "no primary IP" });
      } else kept.push({ row, kind });
    }
  }
  return { kept, skipped, deviceRows };
}

interface Lookups {
  sites: Map<number, Obj>;
  regions: Map<number, Obj>;
  siteGroups: Map<number, Obj>;
  locations: Map<number, Obj>;
  racks: Map<number, Obj>;
  clusters: Map<number, Obj>;
}

/** `192.168.3.2/24` → `192.168.3.2`. */
function bare(address: string): string {
  return address.split("/")[0];
}

/** The slugs of an object and its parents, the object first (nb_inventory's order). */
function chain(id: number | undefined, table: Map<number, Obj>): string[] {
  const out: string[] = [];
  for (let row = id === undefined ? undefined : table.get(id); row;) {
    if (out.includes(row.slug)) break;
    out.push(row.slug);
    row = row.parent ? table.get(row.parent.id) : undefined;
  }
  return out;
}

/** nb_inventory's `plurals: true` names of the single-valued host variables. */
const PLURAL_VARS: Record<string, string> = {
  site: "sites",
  tenant: "tenants",
  role: "device_roles",
  platform: "platforms",
  device_type: "device_types",
  manufacturer: "manufacturers",
  rack: "racks",
};

/** `kind:id` of a service's device or VM: `parent_object_*` from NetBox 4.3, else its fields. */
function serviceHost(s: Obj): string | undefined {
  if (s.parent_object_type === "dcim.device") return `device:${s.parent_object_id}`;
  if (s.parent_object_type === "virtualization.virtualmachine") return `vm:${s.parent_object_id}`;
  if (s.device?.id) return `device:${s.device.id}`;
  if (s.virtual_machine?.id) return `vm:${s.virtual_machine.id}`;
  return undefined;
}

/** The host variables nb_inventory sets, from the joined rows. */
function hostVars(
  row: Obj,
  kind: "device" | "vm",
  l: Lookups,
  plurals: boolean,
): Record<string, unknown> {
  const v: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (plurals && PLURAL_VARS[key]) v[PLURAL_VARS[key]] = [value];
    else v[key] = value;
  };
  if (row.primary_ip4) set("primary_ip4", bare(row.primary_ip4.address));
  if (row.primary_ip6) set("primary_ip6", bare(row.primary_ip6.address));
  if (row.oob_ip) set("oob_ip", bare(row.oob_ip.address));
  set("status", row.status);
  set("is_virtual", kind === "vm");
  set("site", row.site?.slug);
  set("tenant", row.tenant?.slug);
  set("role", row.role?.slug);
  set("platform", row.platform?.slug);
  set("tags", (row.tags ?? []).map((t: Obj) => t.slug));
  set(
    "custom_fields",
    Object.fromEntries(Object.entries(row.custom_fields ?? {}).filter(([, x]) => x !== null)),
  );
  // nb_inventory wraps it in a list with plurals, an empty one too.
  if (plurals) v.local_context_data = [row.local_context_data ?? null];
  else set("local_context_data", row.local_context_data);
  const site = row.site ? l.sites.get(row.site.id) : undefined;
  set("regions", chain(site?.region?.id, l.regions));
  set("site_groups", chain(site?.group?.id, l.siteGroups));
  if (row.cluster) {
    set("cluster", row.cluster.name);
    const cluster = l.clusters.get(row.cluster.id);
    set("cluster_type", cluster?.type?.slug);
    set("cluster_group", cluster?.group?.slug);
  }
  set("serial", row.serial);
  set("locations", chain(row.location?.id, l.locations));
  if (kind === "device") {
    set("device_type", row.device_type?.slug);
    set("manufacturer", row.device_type?.manufacturer?.slug);
    set("asset_tag", row.asset_tag);
    if (row.rack) {
      set("rack", l.racks.get(row.rack.id)?.name ?? row.rack.name);
      set("rack_role", l.racks.get(row.rack.id)?.role?.slug);
    }
  } else {
    set("disk", row.disk);
    set("memory", row.memory);
    set("vcpus", row.vcpus);
    set("cluster_device", row.device);
  }
  return v;
}

/** The single-valued group a key gives a host (before the prefix), if any. */
function groupValues(key: string, row: Obj, kind: "device" | "vm", l: Lookups): string[] {
  switch (key) {
    case "tag":
      return (row.tags ?? []).map((t: Obj) => t.slug);
    case "is_virtual":
      return kind === "vm" ? [""] : [];
    case "status":
      return row.status?.value ? [row.status.value] : [];
    case "tenant":
    case "role":
    case "platform":
      return row[key]?.slug ? [row[key].slug] : [];
    case "device_type":
      return row.device_type?.slug ? [row.device_type.slug] : [];
    case "manufacturer":
      return row.device_type?.manufacturer?.slug ? [row.device_type.manufacturer.slug] : [];
    case "rack": {
      const name = row.rack ? l.racks.get(row.rack.id)?.name ?? row.rack.name : undefined;
      return name ? [name] : [];
    }
    case "rack_role": {
      const slug = row.rack ? l.racks.get(row.rack.id)?.role?.slug : undefined;
      return slug ? [slug] : [];
    }
    case "cluster":
      return row.cluster?.name ? [row.cluster.name] : [];
    case "cluster_type":
    case "cluster_group": {
      const c = row.cluster ? l.clusters.get(row.cluster.id) : undefined;
      const slug = c?.[key === "cluster_type" ? "type" : "group"]?.slug;
      return slug ? [slug] : [];
    }
    default:
      return [];
  }
}

const NESTED = new Set(["site", "region", "site_group", "location"]);

/** Puts a host in its groups, with the site/region/location nesting of nb_inventory. */
function placeHost(
  host: InventoryHost,
  row: Obj,
  kind: "device" | "vm",
  keys: GroupByKey[],
  raw: boolean,
  l: Lookups,
  groups: GroupSet,
): void {
  const add = (group: string) => {
    groups.addHost(group, host.name);
    if (!host.groups.includes(group)) host.groups.push(group);
  };
  for (const { prefix, key } of keys) {
    if (NESTED.has(key)) continue;
    for (const value of groupValues(key, row, kind, l)) {
      add(key === "is_virtual" ? "is_virtual" : groupName(prefix, value, raw));
    }
  }
  const nested = keys.filter((k) => NESTED.has(k.key));
  if (!nested.length || !row.site) return;
  const sitePrefix = keys.find((k) => k.key === "site")?.prefix ?? "site";
  const site = l.sites.get(row.site.id) ?? row.site;
  const siteGroup = groupName(sitePrefix, site.slug, raw);
  const has = (key: string) => nested.some((k) => k.key === key);
  const nest = (key: string, id: number | undefined, table: Map<number, Obj>, leaf: string) => {
    let child = leaf;
    for (const slug of chain(id, table)) {
      const group = groupName(key, slug, raw);
      groups.addChild(group, child);
      child = group;
    }
  };
  if (has("location") && row.location) {
    const locs = chain(row.location.id, l.locations);
    add(groupName("location", locs[0], raw));
    for (let i = 1; i < locs.length; i++) {
      groups.addChild(groupName("location", locs[i], raw), groupName("location", locs[i - 1], raw));
    }
    groups.addChild(siteGroup, groupName("location", locs[locs.length - 1], raw));
  } else add(siteGroup);
  if (has("region")) nest("region", site.region?.id, l.regions, siteGroup);
  if (has("site_group")) nest("site_group", site.group?.id, l.siteGroups, siteGroup);
}

/** Groups as they fill; only groups reached from a host end up in the result. */
class GroupSet {
  #groups = new Map<string, InventoryGroup>();
  #get(name: string): InventoryGroup {
    let g = this.#groups.get(name);
    if (!g) this.#groups.set(name, g = { name, hosts: [], children: [] });
    return g;
  }
  addHost(group: string, host: string): void {
    const g = this.#get(group);
    if (!g.hosts.includes(host)) g.hosts.push(host);
  }
  addChild(group: string, child: string): void {
    const g = this.#get(group);
    if (group !== child && !g.children.includes(child)) g.children.push(child);
  }
  result(): InventoryGroup[] {
    return [...this.#groups.values()]
      .map((g) => ({ ...g, children: [...g.children].sort() }))
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }
}

/** Checks `--compose` pairs: a variable name → a dotted path of field names. */
function parseCompose(compose: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, path] of Object.entries(compose)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new InputError(
        `Cannot compose "${name}": a variable name is letters, digits and _, not starting with a digit`,
      );
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(path)) {
      throw new InputError(
        `Cannot compose ${name}="${path}": expected a field or a dotted path, e.g. site.name or custom_fields.owner`,
      );
    }
    out[name] = path.split(".");
  }
  return out;
}

function sortKeys(vars: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(vars).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

type Attached = Map<string, Obj[]> & { dnsNames: Map<number, string> };

/**
 * Interfaces with their addresses, by `kind:id` of the host, as nb_inventory attaches them:
 * whole interface objects with `ip_addresses` (without the assignment fields) and tags as slugs;
 * a virtual chassis member's interfaces belong to its master. Everything when the hosts are not
 * filtered (listed alongside the hosts), else by host ids in chunks as the host pages arrive.
 */
async function fetchInterfaces(
  hostsP: Promise<Selected>,
  byIds: ByIds | undefined,
  withDevices: boolean,
  withVms: boolean,
  list: (path: string, f: Filters) => Promise<Obj[]>,
): Promise<Attached> {
  const none = Promise.resolve([] as Obj[]);
  const ipFilter = { assigned_to_interface: "true" };
  const lists = byIds
    ? hostsP.then(() => byIds.result())
    // Unfiltered: everything, without waiting for the hosts; addresses in one listing.
    : Promise.all([
      withDevices ? list("dcim/interfaces/", {}) : none,
      withVms ? list("virtualization/interfaces/", {}) : none,
      list("ipam/ip-addresses/", ipFilter),
      none,
    ]);
  const [[ifaces, vmIfaces, devIps, vmIps], { deviceRows }] = await Promise.all([lists, hostsP]);
  const ips = new Map<string, Obj[]>();
  const dnsNames = new Map<number, string>();
  const seen = new Set<number>();
  for (const ip of [...devIps, ...vmIps]) {
    if (seen.has(ip.id) || !ip.assigned_object_id) continue;
    seen.add(ip.id);
    if (ip.dns_name) dnsNames.set(ip.id, ip.dns_name);
    const kind = ip.assigned_object_type === "virtualization.vminterface" ? "vm" : "device";
    const { assigned_object: _a, assigned_object_id: _b, assigned_object_type: _c, ...rest } = ip;
    const key = `${kind}:${ip.assigned_object_id}`;
    (ips.get(key) ?? ips.set(key, []).get(key)!).push(rest);
  }
  const masters = new Map<number, number>(
    deviceRows.map((r) => [r.id, r.virtual_chassis?.master?.id ?? r.id]),
  );
  const out = new Map<string, Obj[]>() as Attached;
  out.dnsNames = dnsNames;
  for (const [rows, kind] of [[ifaces, "device"], [vmIfaces, "vm"]] as const) {
    for (const iface of rows) {
      const owner = kind === "device" ? iface.device?.id : iface.virtual_machine?.id;
      if (kind === "device" && !masters.has(owner)) continue;
      const host = kind === "device" ? masters.get(owner)! : owner;
      const key = `${kind}:${host}`;
      const entry = {
        ...iface,
        ip_addresses: ips.get(`${kind}:${iface.id}`) ?? [],
        tags: (iface.tags ?? []).map((t: Obj) => t.slug),
      };
      (out.get(key) ?? out.set(key, []).get(key)!).push(entry);
    }
  }
  return out;
}

/** Collects host ids as they arrive and hands them on in requests of {@linkcode ID_QUERY_CHARS}. */
function idChunks(onIds: ((ids: number[]) => void) | undefined) {
  let ids: number[] = [];
  let chars = 0;
  const flush = () => {
    if (onIds && ids.length) onIds(ids);
    ids = [];
    chars = 0;
  };
  return {
    add(id: number) {
      if (!onIds) return;
      ids.push(id);
      // `virtual_machine_id=<id>&`, the longer of the two keys.
      chars += 20 + String(id).length;
      if (chars >= ID_QUERY_CHARS) flush();
    },
    flush,
  };
}

/**
 * Interfaces and addresses of filtered hosts, listed by host ids chunk by chunk as the hosts
 * arrive. A listing that fails is reported by `result()` (not as an unhandled rejection when
 * the hosts' own listing failed first).
 */
class ByIds {
  #parts: Promise<Obj[]>[][] = [[], [], [], []];
  #list: (path: string, f: Filters) => Promise<Obj[]>;
  constructor(list: (path: string, f: Filters) => Promise<Obj[]>) {
    this.#list = list;
  }
  #add(slot: number, path: string, f: Filters) {
    const p = this.#list(path, f);
    p.catch(() => {});
    this.#parts[slot].push(p);
  }
  devices(ids: number[]): void {
    const device_id = ids.map(String);
    this.#add(0, "dcim/interfaces/", { device_id });
    this.#add(2, "ipam/ip-addresses/", { assigned_to_interface: "true", device_id });
  }
  vms(ids: number[]): void {
    const virtual_machine_id = ids.map(String);
    this.#add(1, "virtualization/interfaces/", { virtual_machine_id });
    this.#add(3, "ipam/ip-addresses/", { assigned_to_interface: "true", virtual_machine_id });
  }
  /** Device interfaces, VM interfaces, device addresses, VM addresses. */
  async result(): Promise<[Obj[], Obj[], Obj[], Obj[]]> {
    const [a, b, c, d] = await Promise.all(
      this.#parts.map(async (ps) => (await Promise.all(ps)).flat()),
    );
    return [a, b, c, d];
  }
}
