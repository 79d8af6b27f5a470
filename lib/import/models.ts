/**
 * The model table of the bulk import: for each NetBox model its endpoint, the names users write
 * for it, its natural (upsert) key, how a plain string refers to one of its objects, which fields
 * refer to other models, and its place in the dependency order.
 *
 * | model | natural key (upsert) | plain-string reference |
 * |---|---|---|
 * | extras.custom-field-choice-sets, extras.custom-fields | name | name |
 * | extras.config-templates, extras.config-contexts | name | name |
 * | tenancy.contact-groups, tenancy.contact-roles | slug | slug, else name |
 * | tenancy.contacts | name | name, else email |
 * | tenancy.contact-assignments | contact + object + role | — |
 * | extras.tags | slug | slug, else name |
 * | extras.webhooks, extras.event-rules | name | name |
 * | wireless.wireless-lan-groups, vpn.l2vpns | slug | slug, else name |
 * | wireless.wireless-lans | ssid + group | ssid |
 * | wireless.wireless-links | interface_a + interface_b | ssid |
 * | vpn.l2vpn-terminations | l2vpn + assigned_object (`{interface: …}`, `{vlan: …}`) | — |
 * | tenancy.tenant-groups, tenancy.tenants | slug | slug, else name |
 * | dcim.regions, dcim.site-groups, dcim.sites | slug | slug, else name |
 * | dcim.locations | slug + site | slug, else name |
 * | dcim.manufacturers, dcim.device-roles, dcim.platforms, dcim.rack-roles | slug | slug, else name |
 * | dcim.device-types | slug | slug, else model |
 * | dcim.rack-groups (NetBox 4.6+) | slug | slug, else name |
 * | dcim.racks | name + site | name |
 * | dcim.devices | name + site | name |
 * | dcim.interfaces | name + device | name |
 * | ipam.rirs, ipam.asn-ranges | slug | slug, else name |
 * | ipam.aggregates | prefix | prefix |
 * | ipam.asns | asn | `{asn: 65001}` (a bare number is an id) |
 * | ipam.fhrp-groups | protocol + group_id | name |
 * | ipam.fhrp-group-assignments | group + interface | — |
 * | ipam.service-templates | name | name |
 * | ipam.services | name + parent (device, VM or FHRP group) | name |
 * | ipam.route-targets | name | name |
 * | ipam.vrfs | name | name, else rd |
 * | ipam.roles, ipam.vlan-groups | slug | slug, else name |
 * | ipam.vlans | vid + group + site | name |
 * | ipam.prefixes | prefix + vrf | prefix |
 * | ipam.ip-ranges | start_address + vrf | start_address |
 * | ipam.ip-addresses | address + vrf | address |
 * | circuits.providers, circuits.circuit-types | slug | slug, else name |
 * | circuits.provider-accounts | account + provider | account, else name |
 * | circuits.provider-networks | name + provider | name |
 * | circuits.circuits | cid + provider | cid |
 * | circuits.circuit-terminations | circuit + term_side | `{circuit: CID, term_side: A}` |
 * | dcim.rack-types | slug | slug, else model |
 * | dcim.module-type-profiles | name | name |
 * | dcim.module-types | model + manufacturer | model |
 * | dcim.inventory-item-roles | slug | slug, else name |
 * | dcim.power-panels | name + site | name |
 * | dcim.power-feeds | name + power_panel | name |
 * | dcim.virtual-chassis | name | name |
 * | dcim.console-ports, …-server-ports, power-ports, power-outlets, front-/rear-ports, device-bays, inventory-items | name + device | name |
 * | dcim.module-bays | name + device + module (`null`, or the module the bay is on) | name |
 * | dcim.modules | device + module_bay (its bay's key: nested modules by the path of bays) | serial, else asset_tag |
 * | dcim.mac-addresses | mac_address | mac_address |
 * | dcim.cable-bundles (NetBox 4.6+) | name | name |
 * | dcim.cables | a + b: their ends, in either order (`_rule_cables.ts`) | label |
 * | dcim.*-templates (console-port … module-bay) | name + device_type + module_type | name |
 * | virtualization.cluster-types, virtualization.cluster-groups | slug | slug, else name |
 * | virtualization.clusters | name | name |
 * | virtualization.virtual-machine-types (NetBox 4.6+) | slug | slug, else name |
 * | virtualization.virtual-machines | name + cluster | name |
 * | virtualization.interfaces | name + virtual_machine | name |
 *
 * Models and fields a NetBox version lacks carry the version that has them (`since`,
 * `fieldsSince`): the export does not ask an older NetBox for them, and the import refuses them
 * there by name and version ({@linkcode missingSince}).
 *
 * A key field missing from an entry counts as empty (an IP without `vrf` is in the global table).
 *
 * @module
 */

import { versionAtLeast } from "../client/query.ts";
import type { NetBoxStatus } from "../client/types.ts";

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
  /** The first NetBox version with this model (`"4.6"`); absent: every version the toolkit knows. */
  since?: string;
  /** Fields NetBox has only since a version, by field (`{ group: "4.6" }`). */
  fieldsSince?: Record<string, string>;
}

/** A config context's assignment lists: field → the model of its objects. */
export const CONFIG_CONTEXT_ASSIGNMENTS: Readonly<Record<string, string>> = {
  regions: "dcim.regions",
  site_groups: "dcim.site-groups",
  sites: "dcim.sites",
  locations: "dcim.locations",
  device_types: "dcim.device-types",
  roles: "dcim.device-roles",
  platforms: "dcim.platforms",
  cluster_types: "virtualization.cluster-types",
  cluster_groups: "virtualization.cluster-groups",
  clusters: "virtualization.clusters",
  tenant_groups: "tenancy.tenant-groups",
  tenants: "tenancy.tenants",
};

/** The parts of a device the import knows besides interfaces, in dependency order. */
export const DEVICE_COMPONENTS: readonly string[] = [
  "dcim.module-bays",
  "dcim.modules",
  "dcim.console-ports",
  "dcim.console-server-ports",
  "dcim.power-ports",
  "dcim.power-outlets",
  "dcim.rear-ports",
  "dcim.front-ports",
  "dcim.device-bays",
  "dcim.inventory-items",
];

const SLUG = { naturalKey: ["slug"], refKey: ["slug", "name"] };
const TENANT = { tenant: "tenancy.tenants" };

/** A device component (`name` + `device`), a module (`device` + `module_bay`) or inventory item. */
function component(key: string): Omit<ModelDef, "order" | "path"> {
  const refs: Record<string, string> = { device: "dcim.devices" };
  if (key !== "dcim.modules") refs.module = "dcim.modules";
  if (key === "dcim.modules") {
    return {
      key,
      naturalKey: ["device", "module_bay"],
      refKey: ["serial", "asset_tag"],
      refs: { ...refs, module_bay: "dcim.module-bays", module_type: "dcim.module-types" },
    };
  }
  if (key === "dcim.power-outlets") refs.power_port = "dcim.power-ports";
  if (key === "dcim.front-ports") refs.rear_port = "dcim.rear-ports";
  if (key === "dcim.device-bays") refs.installed_device = "dcim.devices";
  // Module bays of modules share names across a device: the module is part of the key.
  if (key === "dcim.module-bays") {
    return { key, naturalKey: ["name", "device", "module"], refKey: ["name"], refs };
  }
  if (key === "dcim.inventory-items") {
    Object.assign(refs, {
      parent: key,
      role: "dcim.inventory-item-roles",
      manufacturer: "dcim.manufacturers",
    });
  }
  return { key, naturalKey: ["name", "device"], refKey: ["name"], refs };
}

/** A component template of a device type or module type. */
function template(key: string): Omit<ModelDef, "order" | "path"> {
  const refs: Record<string, string> = {
    device_type: "dcim.device-types",
    module_type: "dcim.module-types",
  };
  if (key === "dcim.power-outlet-templates") refs.power_port = "dcim.power-port-templates";
  if (key === "dcim.front-port-templates") refs.rear_port = "dcim.rear-port-templates";
  if (key === "dcim.interface-templates") refs.bridge = key;
  const naturalKey = ["name", "device_type", "module_type"];
  if (key === "dcim.device-bay-templates") {
    delete refs.module_type;
    naturalKey.pop();
  }
  return { key, naturalKey, refKey: ["name"], refs };
}

const TABLE: Omit<ModelDef, "order" | "path">[] = [
  // Custom field definitions first: every later model's `custom_fields` may use them.
  { key: "extras.custom-field-choice-sets", naturalKey: ["name"], refKey: ["name"], refs: {} },
  {
    key: "extras.custom-fields",
    naturalKey: ["name"],
    refKey: ["name"],
    refs: { choice_set: "extras.custom-field-choice-sets" },
  },
  { key: "extras.tags", ...SLUG, refs: {} },
  // Config templates before the roles, platforms, devices and VMs that render with them.
  { key: "extras.config-templates", naturalKey: ["name"], refKey: ["name"], refs: {} },
  { key: "tenancy.tenant-groups", ...SLUG, refs: { parent: "tenancy.tenant-groups" } },
  { key: "tenancy.tenants", ...SLUG, refs: { group: "tenancy.tenant-groups" } },
  // IPAM numbering: RIRs, their aggregates and ASNs (before the sites and providers with ASNs).
  { key: "ipam.rirs", ...SLUG, refs: {} },
  {
    key: "ipam.aggregates",
    naturalKey: ["prefix"],
    refKey: ["prefix"],
    refs: { rir: "ipam.rirs", ...TENANT },
  },
  { key: "ipam.asn-ranges", ...SLUG, refs: { rir: "ipam.rirs", ...TENANT } },
  // IPAM roles before the ASNs (4.6+), VLANs, prefixes and IP ranges that name them.
  { key: "ipam.roles", ...SLUG, refs: {} },
  {
    key: "ipam.asns",
    naturalKey: ["asn"],
    refKey: ["asn"],
    refs: { rir: "ipam.rirs", role: "ipam.roles", ...TENANT },
    fieldsSince: { role: "4.6" },
  },
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
    refs: { region: "dcim.regions", group: "dcim.site-groups", asns: "ipam.asns", ...TENANT },
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
  {
    key: "dcim.device-roles",
    ...SLUG,
    refs: { parent: "dcim.device-roles", config_template: "extras.config-templates" },
  },
  {
    key: "dcim.platforms",
    ...SLUG,
    refs: {
      manufacturer: "dcim.manufacturers",
      parent: "dcim.platforms",
      config_template: "extras.config-templates",
    },
  },
  {
    key: "dcim.device-types",
    naturalKey: ["slug"],
    refKey: ["slug", "model"],
    refs: { manufacturer: "dcim.manufacturers", default_platform: "dcim.platforms" },
  },
  // DCIM physical models (1/4): rack types before the racks built from them.
  {
    key: "dcim.rack-types",
    naturalKey: ["slug"],
    refKey: ["slug", "model"],
    refs: { manufacturer: "dcim.manufacturers" },
  },
  { key: "dcim.rack-roles", ...SLUG, refs: {} },
  { key: "dcim.rack-groups", ...SLUG, refs: {}, since: "4.6" },
  {
    key: "dcim.racks",
    naturalKey: ["name", "site"],
    refKey: ["name"],
    refs: {
      site: "dcim.sites",
      location: "dcim.locations",
      group: "dcim.rack-groups",
      role: "dcim.rack-roles",
      rack_type: "dcim.rack-types",
      ...TENANT,
    },
    fieldsSince: { group: "4.6" },
  },
  // DCIM physical models (2/4): what devices and their components refer to.
  { key: "dcim.module-type-profiles", naturalKey: ["name"], refKey: ["name"], refs: {} },
  {
    key: "dcim.module-types",
    naturalKey: ["model", "manufacturer"],
    refKey: ["model"],
    refs: { manufacturer: "dcim.manufacturers", profile: "dcim.module-type-profiles" },
  },
  { key: "dcim.inventory-item-roles", ...SLUG, refs: {} },
  {
    key: "dcim.power-panels",
    naturalKey: ["name", "site"],
    refKey: ["name"],
    refs: { site: "dcim.sites", location: "dcim.locations" },
  },
  {
    key: "dcim.power-feeds",
    naturalKey: ["name", "power_panel"],
    refKey: ["name"],
    refs: { power_panel: "dcim.power-panels", rack: "dcim.racks", ...TENANT },
  },
  {
    key: "dcim.virtual-chassis",
    naturalKey: ["name"],
    refKey: ["name"],
    refs: { master: "dcim.devices" },
    deferred: ["master"],
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
  // Wireless LANs before the interfaces that list them.
  {
    key: "wireless.wireless-lan-groups",
    ...SLUG,
    refs: { parent: "wireless.wireless-lan-groups" },
  },
  {
    key: "wireless.wireless-lans",
    naturalKey: ["ssid", "group"],
    refKey: ["ssid"],
    refs: { group: "wireless.wireless-lan-groups", vlan: "ipam.vlans", ...TENANT },
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
      config_template: "extras.config-templates",
      virtual_chassis: "dcim.virtual-chassis",
      ...TENANT,
    },
    deferred: ["primary_ip4", "primary_ip6", "oob_ip"],
    aliases: ["nodes"],
  },
  // DCIM physical models (3/4): device components, modules (their bays first), inventory items;
  // interfaces after the modules they may be on.
  ...DEVICE_COMPONENTS.slice(0, 2).map((key) => component(key)),
  {
    key: "dcim.interfaces",
    naturalKey: ["name", "device"],
    refKey: ["name"],
    refs: {
      device: "dcim.devices",
      module: "dcim.modules",
      parent: "dcim.interfaces",
      lag: "dcim.interfaces",
      bridge: "dcim.interfaces",
      untagged_vlan: "ipam.vlans",
      tagged_vlans: "ipam.vlans",
      qinq_svlan: "ipam.vlans",
      vrf: "ipam.vrfs",
      primary_mac_address: "dcim.mac-addresses",
      wireless_lans: "wireless.wireless-lans",
    },
    deferred: ["primary_mac_address"],
    contentType: "dcim.interface",
  },
  ...DEVICE_COMPONENTS.slice(2).map((key) => component(key)),
  {
    key: "virtualization.virtual-machine-types",
    ...SLUG,
    refs: { default_platform: "dcim.platforms" },
    since: "4.6",
  },
  {
    key: "virtualization.virtual-machines",
    naturalKey: ["name", "cluster"],
    refKey: ["name"],
    refs: {
      virtual_machine_type: "virtualization.virtual-machine-types",
      cluster: "virtualization.clusters",
      site: "dcim.sites",
      device: "dcim.devices",
      role: "dcim.device-roles",
      platform: "dcim.platforms",
      primary_ip4: "ipam.ip-addresses",
      primary_ip6: "ipam.ip-addresses",
      config_template: "extras.config-templates",
      ...TENANT,
    },
    deferred: ["primary_ip4", "primary_ip6"],
    aliases: ["vms"],
    fieldsSince: { virtual_machine_type: "4.6" },
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
      primary_mac_address: "dcim.mac-addresses",
    },
    deferred: ["primary_mac_address"],
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
  // IPAM services and FHRP groups (after the devices, VMs, interfaces and IPs they name).
  {
    key: "ipam.fhrp-groups",
    naturalKey: ["protocol", "group_id"],
    refKey: ["name"],
    refs: {},
    contentType: "ipam.fhrpgroup",
  },
  {
    key: "ipam.fhrp-group-assignments",
    naturalKey: ["group", "interface"],
    refKey: [],
    refs: { group: "ipam.fhrp-groups" },
  },
  { key: "ipam.service-templates", naturalKey: ["name"], refKey: ["name"], refs: {} },
  {
    key: "ipam.services",
    naturalKey: ["name", "parent"],
    refKey: ["name"],
    refs: { ipaddresses: "ipam.ip-addresses" },
  },
  // Circuits: providers, their accounts and networks, circuits and their two terminations.
  { key: "circuits.providers", ...SLUG, refs: { asns: "ipam.asns" } },
  {
    key: "circuits.provider-accounts",
    naturalKey: ["account", "provider"],
    refKey: ["account", "name"],
    refs: { provider: "circuits.providers" },
  },
  {
    key: "circuits.provider-networks",
    naturalKey: ["name", "provider"],
    refKey: ["name"],
    refs: { provider: "circuits.providers" },
    contentType: "circuits.providernetwork",
  },
  { key: "circuits.circuit-types", ...SLUG, refs: {} },
  {
    key: "circuits.circuits",
    naturalKey: ["cid", "provider"],
    refKey: ["cid"],
    refs: {
      provider: "circuits.providers",
      provider_account: "circuits.provider-accounts",
      type: "circuits.circuit-types",
      ...TENANT,
    },
  },
  {
    key: "circuits.circuit-terminations",
    naturalKey: ["circuit", "term_side"],
    refKey: ["term_side"],
    refs: { circuit: "circuits.circuits" },
    contentType: "circuits.circuittermination",
  },
  // Contacts and their assignments to objects of the models above.
  { key: "tenancy.contact-groups", ...SLUG, refs: { parent: "tenancy.contact-groups" } },
  { key: "tenancy.contact-roles", ...SLUG, refs: {} },
  {
    key: "tenancy.contacts",
    naturalKey: ["name"],
    refKey: ["name", "email"],
    refs: { groups: "tenancy.contact-groups" },
  },
  {
    key: "tenancy.contact-assignments",
    naturalKey: ["contact", "object", "role"],
    refKey: [],
    refs: { contact: "tenancy.contacts", role: "tenancy.contact-roles" },
  },
  // Wireless links (by their two interfaces), L2VPNs and their terminations.
  {
    key: "wireless.wireless-links",
    naturalKey: ["interface_a", "interface_b"],
    refKey: ["ssid"],
    refs: { interface_a: "dcim.interfaces", interface_b: "dcim.interfaces", ...TENANT },
  },
  {
    key: "vpn.l2vpns",
    ...SLUG,
    refs: {
      import_targets: "ipam.route-targets",
      export_targets: "ipam.route-targets",
      ...TENANT,
    },
  },
  {
    key: "vpn.l2vpn-terminations",
    naturalKey: ["l2vpn", "assigned_object"],
    refKey: [],
    refs: { l2vpn: "vpn.l2vpns" },
  },
  // Webhooks, and the event rules that name them (`action_object: {webhook: …}`).
  { key: "extras.webhooks", naturalKey: ["name"], refKey: ["name"], refs: {} },
  { key: "extras.event-rules", naturalKey: ["name"], refKey: ["name"], refs: {} },
  // Config contexts, assigned to objects of the models above by lists of natural keys.
  {
    key: "extras.config-contexts",
    naturalKey: ["name"],
    refKey: ["name"],
    refs: { ...CONFIG_CONTEXT_ASSIGNMENTS },
  },
  // DCIM physical models (4/4): MAC addresses (on interfaces of devices and VMs), cables (their
  // ends may be of any model above; keep them after circuit terminations), and the templates of
  // device and module types last: a device created before its type's templates exist gets no
  // components from them, so a whole export imports without clashing with its own components.
  {
    key: "dcim.mac-addresses",
    naturalKey: ["mac_address"],
    refKey: ["mac_address"],
    refs: {},
    aliases: ["macs"],
  },
  { key: "dcim.cable-bundles", naturalKey: ["name"], refKey: ["name"], refs: {}, since: "4.6" },
  {
    key: "dcim.cables",
    naturalKey: ["a", "b"],
    refKey: ["label"],
    refs: { bundle: "dcim.cable-bundles", ...TENANT },
    fieldsSince: { bundle: "4.6" },
  },
  ...[
    "dcim.console-port-templates",
    "dcim.console-server-port-templates",
    "dcim.power-port-templates",
    "dcim.power-outlet-templates",
    "dcim.interface-templates",
    "dcim.rear-port-templates",
    "dcim.front-port-templates",
    "dcim.device-bay-templates",
    "dcim.module-bay-templates",
  ].map((key) => template(key)),
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

/**
 * Whether a NetBox of this version has what came with `since` (`"4.6"`; undefined: always).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { hasSince } from "./models.ts";
 * const nb = (version: string) => {
 *   const [major, minor, patch] = version.split(".").map(Number);
 *   return { version, major, minor, patch, raw: {} };
 * };
 * assert(hasSince("4.6", nb("4.7.3")) && !hasSince("4.6", nb("4.3.7")));
 * assert(hasSince(undefined, nb("4.3.7")));
 * ```
 */
export function hasSince(since: string | undefined, status: NetBoxStatus): boolean {
  if (!since) return true;
  const [major, minor] = since.split(".").map(Number);
  return versionAtLeast(status, major, minor);
}

/**
 * What an import names that a NetBox lacking it lacks because it is newer: the model itself or
 * one of its fields, as text for a refusal (`dcim.rack-groups needs NetBox ≥ 4.6`).
 *
 * @param model the model
 * @param field a field of it, or undefined for the model
 * @returns the text, or undefined when the model (field) is not of a newer NetBox
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { missingSince, modelByKey } from "./models.ts";
 * assert(missingSince(modelByKey("dcim.racks"), "group") ===
 *   'field "group" of dcim.racks needs NetBox ≥ 4.6 (dcim.rack-groups)');
 * assert(missingSince(modelByKey("dcim.racks"), "name") === undefined);
 * ```
 */
export function missingSince(model: ModelDef, field?: string): string | undefined {
  if (field === undefined) {
    return model.since ? `${model.key} needs NetBox ≥ ${model.since}` : undefined;
  }
  const since = model.fieldsSince?.[field];
  if (!since) return undefined;
  const target = model.refs[field];
  return `field "${field}" of ${model.key} needs NetBox ≥ ${since}${target ? ` (${target})` : ""}`;
}

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

/**
 * The content type NetBox names a model by: its `contentType`, else derived from the key.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { contentTypeOf } from "./models.ts";
 * assert(contentTypeOf("dcim.device-roles") === "dcim.devicerole");
 * assert(contentTypeOf("ipam.ip-addresses") === "ipam.ipaddress");
 * ```
 */
export function contentTypeOf(key: string, contentType?: string): string {
  if (contentType) return contentType;
  if (key === "virtualization.interfaces") return "virtualization.vminterface";
  const [app, name] = key.split(".");
  const plain = name.replaceAll("-", "");
  const single = /(ss|x)es$/.test(plain)
    ? plain.slice(0, -2)
    : plain.endsWith("chassis")
    ? plain
    : plain.replace(/s$/, "");
  return `${app}.${single}`;
}

const BY_CONTENT_TYPE = new Map(MODELS.map((m) => [contentTypeOf(m.key, m.contentType), m]));

/**
 * The known model of a content type, or undefined.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { modelOfContentType } from "./models.ts";
 * assert(modelOfContentType("dcim.rack")?.key === "dcim.racks");
 * assert(modelOfContentType("dcim.nothing") === undefined);
 * ```
 */
export function modelOfContentType(ct: string): ModelDef | undefined {
  return BY_CONTENT_TYPE.get(ct);
}

/** The models a contact can be assigned to (`object: {site: …}`), by the key written. */
export const CONTACT_OBJECTS: Record<string, string> = Object.fromEntries(
  [
    "dcim.regions",
    "dcim.site-groups",
    "dcim.sites",
    "dcim.locations",
    "dcim.racks",
    "dcim.manufacturers",
    "dcim.devices",
    "tenancy.tenants",
    "virtualization.cluster-groups",
    "virtualization.clusters",
    "virtualization.virtual-machines",
    "circuits.providers",
    "circuits.provider-accounts",
    "circuits.circuits",
  ].map((key) => [key.split(".")[1].replaceAll("-", "_").replace(/s$/, ""), key]),
);

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
