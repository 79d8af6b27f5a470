/**
 * NetBox's choice values for IP addresses (`ipam/choices.py`), the one list every task, check and
 * rule of the toolkit uses.
 *
 * @module
 */

import type { IPAddressStatus } from "../client/models.ts";

/**
 * The status values of an IP address (`IPAddressStatusChoices`).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { IP_STATUSES } from "./choices.ts";
 * assert(IP_STATUSES.includes("reserved"));
 * ```
 */
export const IP_STATUSES: readonly string[] = ["active", "reserved", "deprecated", "dhcp", "slaac"];

/**
 * Whether `value` is one of {@linkcode IP_STATUSES}: narrows a checked string to the status type
 * NetBox's write shape wants.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { isIpStatus } from "./choices.ts";
 * assert(isIpStatus("dhcp") && !isIpStatus("actve"));
 * ```
 */
export function isIpStatus(value: unknown): value is IPAddressStatus {
  return IP_STATUSES.some((status) => status === value);
}

/**
 * The statuses of an address that is in use (not reserved or deprecated): what the audit's
 * in-use rules and its primary-IP fixes look at.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { IP_IN_USE_STATUSES } from "./choices.ts";
 * assert(IP_IN_USE_STATUSES.has("dhcp") && !IP_IN_USE_STATUSES.has("reserved"));
 * ```
 */
export const IP_IN_USE_STATUSES: ReadonlySet<string> = new Set(["active", "dhcp", "slaac"]);

/**
 * The role values of an IP address (`IPAddressRoleChoices`).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { IP_ROLES } from "./choices.ts";
 * assert(IP_ROLES.includes("vip"));
 * ```
 */
export const IP_ROLES: readonly string[] = [
  "loopback",
  "secondary",
  "anycast",
  "vip",
  "vrrp",
  "hsrp",
  "glbp",
  "carp",
];

/**
 * Roles whose addresses may legitimately be shared by several objects (NetBox's
 * `IPADDRESS_ROLES_NONUNIQUE`).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { SHARED_ROLES } from "./choices.ts";
 * assert(SHARED_ROLES.has("vrrp") && !SHARED_ROLES.has("loopback"));
 * ```
 */
export const SHARED_ROLES: ReadonlySet<string> = new Set(
  IP_ROLES.filter((role) => role !== "loopback" && role !== "secondary"),
);
