/**
 * The model table of the bulk import: for each NetBox model its endpoint, the names users write
 * for it, its natural (upsert) key, how a plain string refers to one of its objects, which fields
 * refer to other models, and its place in the dependency order.
 *
 * | model | natural key (upsert) | plain-string reference |
 * |---|---|---|
 * | extras.tags | slug | slug, else name |
 * | tenancy.tenant-groups, tenancy.tenants | slug | slug, else name |
 * | dcim.regions, dcim.site-groups, dcim.sites | slug | slug, else name |
 * | dcim.locations | slug + site | slug, else name |
 * | dcim.manufacturers, dcim.device-roles, dcim.platforms, dcim.rack-roles | slug | slug, else name |
 * | dcim.device-types | slug | slug, else model |
 * | dcim.racks | name + site | name |
 * | dcim.devices | name + site | name |
 * | dcim.interfaces | name + device | name |
 * | ipam.route-targets | name | name |
 * | ipam.vrfs | name | name, else rd |
 * | ipam.roles, ipam.vlan-groups | slug | slug, else name |
 * | ipam.vlans | vid + group + site | name |
 * | ipam.prefixes | prefix + vrf | prefix |
 * | ipam.ip-ranges | start_address + vrf | start_address |
 * | ipam.ip-addresses | address + vrf | address |
 * | virtualization.cluster-types, virtualization.cluster-groups | slug | slug, else name |
 * | virtualization.clusters | name | name |
 * | virtualization.virtual-machines | name + cluster | name |
 * | virtualization.interfaces | name + virtual_machine | name |
 *
 * A key field missing from an entry counts as empty (an IP without `vrf` is in the global table).
 *
 * @module
 */

/** One model the import knows. */
export interface ModelDef {
  /** `app.endpoint`, e.g. `"dcim.sites"`. */
  key: string;
  /** The list endpoint under `/api/`, e.g. `"dcim/sites/"`. */
  path: string;
  /** Fields whose values identify an object for upsert. */
  naturalKey: string[];
  /** Fields a plain-string reference is looked up by, in order. */
  refKey: string[];
  /** Reference fields → target model key (list fields too: `tags`, `tagged_vlans`). */
  refs: Record<string, string>;
  /** Fields applied in a second pass, after everything else exists (primary IPs). */
  deferred?: string[];
  /** The content type for generic relations (`assigned_object_type`, `scope_type`). */
  contentType?: string;
  /** Accepts `site:`/`region:`/`location:`/`site_group:` as its scope. */
  scoped?: boolean;
  /** Position in the dependency order (lower first); unknown endpoints come after. */
  order: number;
  /** Extra names users write for it. */
  aliases?: string[];
}

const SLUG = { naturalKey: ["slug"], refKey: ["slug", "name"] };
const TENANT = { tenant: "tenancy.tenants" };

const TABLE: Omit<ModelDef, "order" | "path">[] = [
  { key: "extras.tags", ...SLUG, refs: {} },
  { key: "tenancy.tenant-groups", ...SLUG, refs: { parent: "tenancy.tenant-groups" } },
  { key: "tenancy.tenants", ...SLUG, refs: { group: "tenancy.tenant-groups" } },
  { key: "dcim.regions", ...SLUG, refs: { parent: "dcim.regions" }, contentType: "dcim.region" },
  {
    key: "dcim.site-groups",
    ...SLUG,
    refs: { parent: "dcim.site-groups" },
    contentType: "dcim.sitegroup",
  },
  {
    key: "dcim.sites",
    ...SLUG,
    refs: { region: "dcim.regions", group: "dcim.site-groups", ...TENANT },
    contentType: "dcim.site",
  },
  {
    key: "dcim.locations",
    naturalKey: ["slug", "site"],
    refKey: ["slug", "name"],
    refs: { site: "dcim.sites", parent: "dcim.locations", ...TENANT },
    contentType: "dcim.location",
  },
  { key: "dcim.manufacturers", ...SLUG, refs: {} },
  { key: "dcim.device-roles", ...SLUG, refs: { parent: "dcim.device-roles" } },
  {
    key: "dcim.platforms",
    ...SLUG,
    refs: { manufacturer: "dcim.manufacturers", parent: "dcim.platforms" },
  },
  {
    key: "dcim.device-types",
    naturalKey: ["slug"],
    refKey: ["slug", "model"],
    refs: { manufacturer: "dcim.manufacturers", default_platform: "dcim.platforms" },
  },
  { key: "dcim.rack-roles", ...SLUG, refs: {} },
  {
    key: "dcim.racks",
    naturalKey: ["name", "site"],
    refKey: ["name"],
    refs: {
      site: "dcim.sites",
      location: "dcim.locations",
      role: "dcim.rack-roles",
      ...TENANT,
    },
  },
  { key: "ipam.route-targets", naturalKey: ["name"], refKey: ["name"], refs: { ...TENANT } },
  {
    key: "ipam.vrfs",
    naturalKey: ["name"],
    refKey: ["name", "rd"],
    refs: {
      import_targets: "ipam.route-targets",
      export_targets: "ipam.route-targets",
      ...TENANT,
    },
  },
  { key: "ipam.roles", ...SLUG, refs: {} },
  { key: "ipam.vlan-groups", ...SLUG, refs: {}, scoped: true },
  {
    key: "ipam.vlans",
    naturalKey: ["vid", "group", "site"],
    refKey: ["name"],
    refs: {
      site: "dcim.sites",
      group: "ipam.vlan-groups",
      role: "ipam.roles",
      qinq_svlan: "ipam.vlans",
      ...TENANT,
    },
  },
  { key: "virtualization.cluster-types", ...SLUG, refs: {} },
  { key: "virtualization.cluster-groups", ...SLUG, refs: {} },
  {
    key: "virtualization.clusters",
    naturalKey: ["name"],
    refKey: ["name"],
    refs: {
      type: "virtualization.cluster-types",
      group: "virtualization.cluster-groups",
      ...TENANT,
    },
    scoped: true,
  },
  {
    key: "dcim.devices",
    naturalKey: ["name", "site"],
    refKey: ["name"],
    refs: {
      device_type: "dcim.device-types",
      role: "dcim.device-roles",
      platform: "dcim.platforms",
      site: "dcim.sites",
      location: "dcim.locations",
      rack: "dcim.racks",
      cluster: "virtualization.clusters",
      primary_ip4: "ipam.ip-addresses",
      primary_ip6: "ipam.ip-addresses",
      oob_ip: "ipam.ip-addresses",
      ...TENANT,
    },
    deferred: ["primary_ip4", "primary_ip6", "oob_ip"],
    aliases: ["nodes"],
  },
  {
    key: "dcim.interfaces",
    naturalKey: ["name", "device"],
    refKey: ["name"],
    refs: {
      device: "dcim.devices",
      parent: "dcim.interfaces",
      lag: "dcim.interfaces",
      bridge: "dcim.interfaces",
      untagged_vlan: "ipam.vlans",
      tagged_vlans: "ipam.vlans",
      qinq_svlan: "ipam.vlans",
      vrf: "ipam.vrfs",
    },
    contentType: "dcim.interface",
  },
  {
    key: "virtualization.virtual-machines",
    naturalKey: ["name", "cluster"],
    refKey: ["name"],
    refs: {
      cluster: "virtualization.clusters",
      site: "dcim.sites",
      device: "dcim.devices",
      role: "dcim.device-roles",
      platform: "dcim.platforms",
      primary_ip4: "ipam.ip-addresses",
      primary_ip6: "ipam.ip-addresses",
      ...TENANT,
    },
    deferred: ["primary_ip4", "primary_ip6"],
    aliases: ["vms"],
  },
  {
    key: "virtualization.interfaces",
    naturalKey: ["name", "virtual_machine"],
    refKey: ["name"],
    refs: {
      virtual_machine: "virtualization.virtual-machines",
      parent: "virtualization.interfaces",
      bridge: "virtualization.interfaces",
      untagged_vlan: "ipam.vlans",
      tagged_vlans: "ipam.vlans",
      qinq_svlan: "ipam.vlans",
      vrf: "ipam.vrfs",
    },
    contentType: "virtualization.vminterface",
    aliases: ["vm_interfaces", "vminterfaces", "virtual_machine_interfaces"],
  },
  {
    key: "ipam.prefixes",
    naturalKey: ["prefix", "vrf"],
    refKey: ["prefix"],
    refs: { vrf: "ipam.vrfs", vlan: "ipam.vlans", role: "ipam.roles", ...TENANT },
    scoped: true,
  },
  {
    key: "ipam.ip-ranges",
    naturalKey: ["start_address", "vrf"],
    refKey: ["start_address"],
    refs: { vrf: "ipam.vrfs", role: "ipam.roles", ...TENANT },
  },
  {
    key: "ipam.ip-addresses",
    naturalKey: ["address", "vrf"],
    refKey: ["address"],
    refs: { vrf: "ipam.vrfs", nat_inside: "ipam.ip-addresses", ...TENANT },
    aliases: ["ips"],
  },
];

/**
 * The known models in dependency order.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { MODELS } from "./models.ts";
 * const order = MODELS.map((m) => m.key);
 * assert(order.indexOf("dcim.sites") < order.indexOf("dcim.devices"));
 * ```
 */
export const MODELS: readonly ModelDef[] = TABLE.map((m, order) => ({
  ...m,
  order,
  path: m.key.replace(".", "/") + "/",
}));

const BY_KEY = new Map(MODELS.map((m) => [m.key, m]));

/** `Dcim/Device_Types/` → `dcim.device-types`. */
function canonical(name: string): string {
  return name.trim().toLowerCase().replace(/^\/?(api\/)?/, "").replace(/\/+$/, "")
    .replaceAll("_", "-").replace("/", ".");
}

const BY_NAME = new Map<string, ModelDef>();
for (const m of MODELS) {
  BY_NAME.set(m.key, m);
  for (const a of m.aliases ?? []) BY_NAME.set(canonical(a), m);
}
for (const m of MODELS) {
  const short = m.key.split(".")[1];
  if (!BY_NAME.has(short)) BY_NAME.set(short, m); // "interfaces" is dcim's
}
BY_NAME.set("ip-addresses", BY_KEY.get("ipam.ip-addresses")!);

/**
 * Looks a model up by its key (`dcim.sites`), path (`dcim/sites`) or alias (`sites`,
 * `ip_addresses`). Unknown `app.endpoint`/`app/endpoint` names give a generic definition (no
 * references, matched by `slug` or `name`); anything else gives undefined.
 *
 * @param name The name as written in the input.
 * @param order The position to give an unknown endpoint (after the known ones).
 * @returns The model, or undefined for an unknown alias.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { lookupModel } from "./models.ts";
 * assert(lookupModel("ip_addresses")?.key === "ipam.ip-addresses");
 * assert(lookupModel("dcim/sites")?.path === "dcim/sites/");
 * assert(lookupModel("plugins/foo/bars")?.path === "plugins/foo/bars/");
 * assert(lookupModel("sitez") === undefined);
 * ```
 */
export function lookupModel(name: string, order = MODELS.length): ModelDef | undefined {
  const c = canonical(name);
  const known = BY_NAME.get(c);
  if (known) return known;
  if (!/^[a-z0-9-]+[./][a-z0-9./-]+$/.test(c)) return undefined;
  const path = c.replaceAll(".", "/") + "/";
  return { key: c, path, naturalKey: [], refKey: ["slug", "name"], refs: {}, order };
}

/**
 * The known model with this key (`"dcim.sites"`).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { modelByKey } from "./models.ts";
 * assert(modelByKey("ipam.prefixes").naturalKey.join() === "prefix,vrf");
 * ```
 */
export function modelByKey(key: string): ModelDef {
  const m = BY_KEY.get(key);
  if (!m) throw new RangeError(`Cannot find model: unknown model "${key}"`);
  return m;
}

/**
 * Names close to an unknown one, for "did you mean" hints.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { suggestModels } from "./models.ts";
 * assert(suggestModels("site").includes("sites"));
 * ```
 */
export function suggestModels(name: string): string[] {
  const c = canonical(name);
  return [...BY_NAME.keys()].filter((k) => !k.includes("."))
    .map((k) => [k, editDistance(c, k)] as const)
    .filter(([, d]) => d <= 2)
    .sort((a, b) => a[1] - b[1])
    .map(([k]) => k.replaceAll("-", "_"));
}

/** Levenshtein distance, for suggestions. */
function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The generic relations the import writes, by sugar: field → allowed target models. */
export const SCOPE_FIELDS: Record<string, string> = {
  site: "dcim.sites",
  region: "dcim.regions",
  location: "dcim.locations",
  site_group: "dcim.site-groups",
};

/** Objects NetBox deletes along with one of a model (see {@linkcode CASCADES}). */
export interface Cascade {
  /** The model of the objects that go along (`ipam.ip-addresses`). */
  model: string;
  /** Its list path. */
  path: string;
  /** The filter that lists them by the deleted objects' ids (`device_id`). */
  filter: string;
  /** The fields to read of them. */
  fields: string[];
  /** The id of the deleted object one of them goes along with. */
  owner: (o: Record<string, unknown> & { id: number }) => unknown;
}

/** An object as NetBox lists it. */
type Obj = Record<string, unknown> & { id: number };
const idOf = (v: unknown): number | undefined =>
  typeof v === "object" && v !== null && typeof (v as Obj).id === "number"
    ? (v as Obj).id
    : undefined;

/**
 * What NetBox deletes along with an object although it has a life of its own: the IP addresses
 * of a device's, VM's or interface's interfaces (the addresses go with the interface), and the
 * children of a tree model (regions, site groups, locations, tenant groups, roles, platforms).
 * The components of a device or VM (its interfaces, ports) go with it, as in NetBox. By the
 * deleted model's key.
 */
export const CASCADES: Record<string, Cascade> = {
  "dcim.devices": {
    model: "ipam.ip-addresses",
    path: "ipam/ip-addresses/",
    filter: "device_id",
    fields: ["id", "display", "address", "assigned_object"],
    owner: (o) => idOf((o.assigned_object as Obj | null)?.device),
  },
  "virtualization.virtual-machines": {
    model: "ipam.ip-addresses",
    path: "ipam/ip-addresses/",
    filter: "virtual_machine_id",
    fields: ["id", "display", "address", "assigned_object"],
    owner: (o) => idOf((o.assigned_object as Obj | null)?.virtual_machine),
  },
  "dcim.interfaces": {
    model: "ipam.ip-addresses",
    path: "ipam/ip-addresses/",
    filter: "interface_id",
    fields: ["id", "display", "address", "assigned_object_id"],
    owner: (o) => o.assigned_object_id,
  },
  "virtualization.interfaces": {
    model: "ipam.ip-addresses",
    path: "ipam/ip-addresses/",
    filter: "vminterface_id",
    fields: ["id", "display", "address", "assigned_object_id"],
    owner: (o) => o.assigned_object_id,
  },
};
for (const m of MODELS) {
  if (m.refs.parent === m.key && m.key !== "dcim.interfaces" && !CASCADES[m.key]) {
    CASCADES[m.key] = {
      model: m.key,
      path: m.path,
      filter: "parent_id",
      fields: ["id", "display", "name", "parent"],
      owner: (o) => idOf(o.parent),
    };
  }
}
