/**
 * The field table of the export (private to `lib/import`): per model, the fields written and
 * their order, the fields read but not written, NetBox's defaults (left out), how composite-key
 * objects are referred to, the content types of generic relations, and the section names.
 * `export.ts` walks NetBox with it; a new model is a row here.
 *
 * @module
 */

import { lookupModel, type ModelDef } from "./models.ts";

const TAIL = ["description", "comments", "tags", "custom_fields"];
const ORG = ["name", "slug", ...TAIL];
const NESTED_ORG = ["name", "slug", "parent", ...TAIL];

/** The fields written per model, in the order they are written. */
export const EXPORT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  "extras.tags": ["name", "slug", "color", "weight", "object_types", "description"],
  "tenancy.tenant-groups": NESTED_ORG,
  "tenancy.tenants": ["name", "slug", "group", ...TAIL],
  "dcim.regions": NESTED_ORG,
  "dcim.site-groups": NESTED_ORG,
  "dcim.sites": [
    "name",
    "slug",
    "status",
    "region",
    "group",
    "tenant",
    "facility",
    "time_zone",
    "physical_address",
    "shipping_address",
    "latitude",
    "longitude",
    ...TAIL,
  ],
  "dcim.locations": ["name", "slug", "site", "parent", "status", "tenant", "facility", ...TAIL],
  "dcim.manufacturers": ORG,
  "dcim.device-roles": ["name", "slug", "parent", "color", "vm_role", ...TAIL],
  "dcim.platforms": ["name", "slug", "parent", "manufacturer", ...TAIL],
  "dcim.device-types": [
    "model",
    "slug",
    "manufacturer",
    "default_platform",
    "part_number",
    "u_height",
    "exclude_from_utilization",
    "is_full_depth",
    "subdevice_role",
    "airflow",
    "weight",
    "weight_unit",
    ...TAIL,
  ],
  "dcim.rack-roles": ["name", "slug", "color", ...TAIL],
  "dcim.racks": [
    "name",
    "site",
    "location",
    "status",
    "role",
    "tenant",
    "facility_id",
    "serial",
    "asset_tag",
    "form_factor",
    "width",
    "u_height",
    "starting_unit",
    "desc_units",
    "outer_width",
    "outer_height",
    "outer_depth",
    "outer_unit",
    "mounting_depth",
    "weight",
    "max_weight",
    "weight_unit",
    "airflow",
    ...TAIL,
  ],
  "ipam.vrfs": [
    "name",
    "rd",
    "tenant",
    "enforce_unique",
    "import_targets",
    "export_targets",
    ...TAIL,
  ],
  "ipam.route-targets": ["name", "tenant", ...TAIL],
  "ipam.roles": ["name", "slug", "weight", ...TAIL],
  "ipam.vlan-groups": ["name", "slug", "scope", "vid_ranges", "tenant", ...TAIL],
  "ipam.vlans": [
    "vid",
    "name",
    "group",
    "site",
    "status",
    "role",
    "tenant",
    "qinq_role",
    "qinq_svlan",
    ...TAIL,
  ],
  "virtualization.cluster-types": ORG,
  "virtualization.cluster-groups": ORG,
  "virtualization.clusters": ["name", "type", "group", "status", "scope", "tenant", ...TAIL],
  "dcim.devices": [
    "name",
    "site",
    "location",
    "rack",
    "position",
    "face",
    "device_type",
    "role",
    "platform",
    "status",
    "tenant",
    "cluster",
    "serial",
    "asset_tag",
    "airflow",
    "latitude",
    "longitude",
    "primary_ip4",
    "primary_ip6",
    "oob_ip",
    "local_context_data",
    ...TAIL,
  ],
  "dcim.interfaces": [
    "name",
    "device",
    "label",
    "type",
    "enabled",
    "parent",
    "lag",
    "bridge",
    "mtu",
    "speed",
    "duplex",
    "wwn",
    "mgmt_only",
    "mode",
    "untagged_vlan",
    "tagged_vlans",
    "qinq_svlan",
    "vrf",
    "mark_connected",
    "rf_role",
    "rf_channel",
    "rf_channel_frequency",
    "rf_channel_width",
    "tx_power",
    "poe_mode",
    "poe_type",
    "description",
    "tags",
    "custom_fields",
  ],
  "virtualization.virtual-machines": [
    "name",
    "cluster",
    "site",
    "device",
    "role",
    "platform",
    "status",
    "tenant",
    "serial",
    "vcpus",
    "memory",
    "disk",
    "primary_ip4",
    "primary_ip6",
    "local_context_data",
    ...TAIL,
  ],
  "virtualization.interfaces": [
    "name",
    "virtual_machine",
    "enabled",
    "parent",
    "bridge",
    "mtu",
    "mode",
    "untagged_vlan",
    "tagged_vlans",
    "qinq_svlan",
    "vrf",
    "description",
    "tags",
    "custom_fields",
  ],
  "ipam.prefixes": [
    "prefix",
    "vrf",
    "scope",
    "vlan",
    "status",
    "role",
    "tenant",
    "is_pool",
    "mark_utilized",
    ...TAIL,
  ],
  "ipam.ip-ranges": [
    "start_address",
    "end_address",
    "vrf",
    "status",
    "role",
    "tenant",
    "mark_populated",
    "mark_utilized",
    ...TAIL,
  ],
  "ipam.ip-addresses": [
    "address",
    "vrf",
    "status",
    "role",
    "tenant",
    "assigned_object",
    "nat_inside",
    "dns_name",
    ...TAIL,
  ],
};

/** Fields that are read but not written, with why; a warning names them when they are set. */
export const NOT_EXPORTED: Record<string, Record<string, string>> = {
  "dcim.sites": { asns: "ipam.asns" },
  "dcim.racks": { rack_type: "dcim.rack-types" },
  "dcim.device-roles": { config_template: "extras.config-templates" },
  "dcim.platforms": { config_template: "extras.config-templates" },
  "dcim.devices": {
    virtual_chassis: "dcim.virtual-chassis",
    config_template: "extras.config-templates",
  },
  "dcim.interfaces": {
    module: "dcim.modules",
    primary_mac_address: "dcim.mac-addresses",
    wireless_lans: "wireless.wireless-lans",
    vdcs: "dcim.virtual-device-contexts",
    vlan_translation_policy: "ipam.vlan-translation-policies",
  },
  "virtualization.virtual-machines": { config_template: "extras.config-templates" },
  "virtualization.interfaces": {
    primary_mac_address: "dcim.mac-addresses",
    vlan_translation_policy: "ipam.vlan-translation-policies",
  },
};

/** NetBox's defaults: a field at its default is left out (the import leaves it alone). */
export const DEFAULTS: Record<string, unknown> = {
  status: "active",
  enabled: true,
  mgmt_only: false,
  mark_connected: false,
  is_pool: false,
  mark_utilized: false,
  mark_populated: false,
  enforce_unique: true,
  vm_role: true,
  exclude_from_utilization: false,
  is_full_depth: true,
  desc_units: false,
};
export const MODEL_DEFAULTS: Record<string, Record<string, unknown>> = {
  "extras.tags": { color: "9e9e9e", weight: 1000 },
  "dcim.device-roles": { color: "9e9e9e" },
  "dcim.rack-roles": { color: "9e9e9e" },
  "ipam.roles": { weight: 1000 },
  "dcim.device-types": { u_height: 1 },
  "dcim.racks": { width: 19, u_height: 42, starting_unit: 1 },
  "ipam.vlan-groups": { vid_ranges: [[1, 4094]] },
};

/** How a composite-key object is referred to: its natural-key fields, in this order. */
export const REF_FIELDS: Record<string, string[]> = {
  "dcim.locations": ["slug", "site"],
  "dcim.racks": ["name", "site"],
  "dcim.devices": ["name", "site"],
  "dcim.interfaces": ["device", "name"],
  "virtualization.virtual-machines": ["name", "cluster"],
  "virtualization.interfaces": ["virtual_machine", "name"],
  "ipam.vlans": ["vid", "group", "site"],
  "ipam.ip-addresses": ["address", "vrf"],
};

/** Content types of generic relations → model key and the import's field for it. */
export const SCOPE_TYPES: Record<string, { model: string; kind: string }> = {
  "dcim.site": { model: "dcim.sites", kind: "site" },
  "dcim.region": { model: "dcim.regions", kind: "region" },
  "dcim.location": { model: "dcim.locations", kind: "location" },
  "dcim.sitegroup": { model: "dcim.site-groups", kind: "site_group" },
};
export const ASSIGNED_TYPES: Record<string, { model: string; kind: string }> = {
  "dcim.interface": { model: "dcim.interfaces", kind: "interface" },
  "virtualization.vminterface": { model: "virtualization.interfaces", kind: "vminterface" },
};

const SECTION_NAMES: Record<string, string> = {
  "virtualization.interfaces": "vm_interfaces",
  "ipam.roles": "ipam.roles",
  "dcim.interfaces": "interfaces",
};

/**
 * The section key written for a model: its short name (`sites`, `ip_addresses`,
 * `vm_interfaces`) where the import reads that name as the same model, else its key.
 *
 * @param model the model
 * @returns the key
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { sectionName } from "./_export_fields.ts";
 * import { modelByKey } from "./models.ts";
 * assert(sectionName(modelByKey("ipam.ip-addresses")) === "ip_addresses");
 * assert(sectionName(modelByKey("virtualization.interfaces")) === "vm_interfaces");
 * ```
 */
export function sectionName(model: ModelDef): string {
  const special = SECTION_NAMES[model.key];
  if (special) return special;
  const short = model.key.split(".")[1].replaceAll("-", "_");
  return lookupModel(short)?.key === model.key ? short : model.key;
}
