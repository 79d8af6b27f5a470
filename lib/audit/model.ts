/**
 * The data the IP address audit reads (NetBox's read shape, trimmed to the fields the rules
 * need) and the findings it produces.
 *
 * @module
 */

import type { Severity } from "./rules.ts";

/** A nested reference as NetBox returns it (`{id, url, display, name, …}`). */
export interface AuditRef {
  id: number;
  url?: string;
  display?: string;
  name?: string;
  slug?: string;
  [field: string]: unknown;
}

/** A choice field: `{value, label}` when read from NetBox, a plain string in hand-made data. */
export type AuditChoice = { value?: string | null; label?: string } | string | null | undefined;

/** A tag as nested in objects (`{id, name, slug, …}`). */
export interface AuditTag {
  slug?: string;
  name?: string;
  [field: string]: unknown;
}

/** An IP address (`/api/ipam/ip-addresses/`). */
export interface AuditIp {
  id: number;
  url?: string;
  display?: string;
  /** e.g. `"10.0.0.5/24"`. */
  address: string;
  vrf?: AuditRef | null;
  tenant?: AuditRef | null;
  status?: AuditChoice;
  role?: AuditChoice;
  assigned_object_type?: string | null;
  assigned_object_id?: number | null;
  /** The nested interface, with its `device` or `virtual_machine`. */
  assigned_object?:
    | {
      id: number;
      device?: AuditRef | null;
      virtual_machine?: AuditRef | null;
      [f: string]: unknown;
    }
    | null;
  nat_inside?: AuditRef | null;
  dns_name?: string | null;
  tags?: AuditTag[];
  created?: string | null;
  last_updated?: string | null;
}

/** A prefix (`/api/ipam/prefixes/`). */
export interface AuditPrefix {
  id: number;
  url?: string;
  display?: string;
  /** e.g. `"10.0.0.0/24"`. */
  prefix: string;
  vrf?: AuditRef | null;
  status?: AuditChoice;
  role?: AuditRef | null;
  is_pool?: boolean;
  mark_utilized?: boolean;
  tags?: AuditTag[];
}

/** An IP range (`/api/ipam/ip-ranges/`). */
export interface AuditRange {
  id: number;
  url?: string;
  start_address: string;
  end_address: string;
  vrf?: AuditRef | null;
  mark_utilized?: boolean;
  tags?: AuditTag[];
}

/** A VRF (`/api/ipam/vrfs/`). */
export interface AuditVrf {
  id: number;
  name: string;
  rd?: string | null;
  url?: string;
}

/** A device or VM interface, only needed when it has a VRF. */
export interface AuditInterface {
  id: number;
  vrf?: AuditRef | null;
  device?: AuditRef | null;
  virtual_machine?: AuditRef | null;
}

/** A device (`/api/dcim/devices/`) or virtual machine (`/api/virtualization/virtual-machines/`). */
export interface AuditHost {
  id: number;
  url?: string;
  display?: string;
  name?: string | null;
  status?: AuditChoice;
  primary_ip4?: AuditRef | null;
  primary_ip6?: AuditRef | null;
  oob_ip?: AuditRef | null;
  virtual_chassis?: AuditRef | null;
  tags?: AuditTag[];
}

/** Everything one audit run analyses. */
export interface AuditData {
  /** The addresses in scope (findings are reported on these). */
  ips: AuditIp[];
  /** Every prefix of the VRFs in scope (containment context). */
  prefixes: AuditPrefix[];
  /** Every IP range of the VRFs in scope. */
  ranges: AuditRange[];
  vrfs: AuditVrf[];
  /** Device interfaces that have a VRF set. */
  interfaces: AuditInterface[];
  /** VM interfaces that have a VRF set. */
  vmInterfaces: AuditInterface[];
  devices: AuditHost[];
  vms: AuditHost[];
  /** The prefixes whose utilization is reported; all prefixes when absent. */
  reportPrefixIds?: Set<number>;
}

/** An object a finding points at. */
export interface RelatedObject {
  /** `app.model` of the object (`dcim.device`). */
  object_type: string;
  /** The object's id in NetBox. */
  object_id: number;
  /** Its name as NetBox displays it. */
  display: string;
  /** Its page in the NetBox web UI. */
  url: string | null;
}

/** One problem the audit found. */
export interface Finding {
  /** The rule's id (`duplicate-address`, …; see `AUDIT_RULES`). */
  rule: string;
  /** The rule's severity (after the configuration's overrides). */
  severity: Severity;
  /** `ipam.ipaddress`, `ipam.prefix`, `dcim.device` or `virtualization.virtualmachine`. */
  object_type: string;
  /** The object's id in NetBox. */
  object_id: number;
  /** The address or prefix concerned, when there is one. */
  address: string | null;
  /** The VRF's name, or `null` for the global table. */
  vrf: string | null;
  /** The object's page in the NetBox web UI. */
  url: string | null;
  /** What is wrong, in one sentence. */
  message: string;
  /** Other objects involved (the other duplicates, the device, the prefix). */
  related: RelatedObject[];
}

/** A prefix and its utilization, for the report's chart. */
export interface PrefixUsage {
  /** The prefix's id in NetBox. */
  id: number;
  /** The prefix (`192.168.3.0/24`). */
  prefix: string;
  /** The VRF's name, or `null` for the global table. */
  vrf: string | null;
  /** Percent, 0–100, rounded to two decimals. */
  utilization: number;
  /** The prefix's page in the NetBox web UI. */
  url: string | null;
  /** The VRF's id, or `null` for the global table (set by the analysis). */
  vrf_id?: number | null;
  /** Addresses (or child prefix space) in use (set by the analysis). */
  used?: number;
  /** The usable size the percentage is of (set by the analysis). */
  size?: number;
}

/**
 * The web-UI URL of an object from its API URL (`…/api/ipam/prefixes/3/` →
 * `…/ipam/prefixes/3/`).
 *
 * @param apiUrl The object's `url` field.
 * @returns The UI URL, or `null` when there is none.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { uiUrl } from "./model.ts";
 * assert(uiUrl("http://nb/api/ipam/prefixes/3/") === "http://nb/ipam/prefixes/3/");
 * assert(uiUrl(undefined) === null);
 * ```
 */
export function uiUrl(apiUrl: string | undefined | null): string | null {
  if (!apiUrl) return null;
  const at = apiUrl.indexOf("/api/");
  return at < 0 ? apiUrl : apiUrl.slice(0, at) + apiUrl.slice(at + 4);
}

/**
 * The value of a choice field, whichever way it is written.
 *
 * @param choice `{value, label}`, a string or nothing.
 * @returns The value, or `""`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { choiceValue } from "./model.ts";
 * assert(choiceValue({ value: "active", label: "Active" }) === "active");
 * assert(choiceValue("reserved") === "reserved" && choiceValue(null) === "");
 * ```
 */
export function choiceValue(choice: AuditChoice): string {
  if (choice === null || choice === undefined) return "";
  if (typeof choice === "string") return choice;
  return choice.value ?? "";
}
