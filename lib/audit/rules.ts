/**
 * The rules of the IP address audit (`audit-ips`): their ids, default severities and
 * descriptions, and the configuration that switches them on and off.
 *
 * @module
 */

/** How serious a finding is. */
export type Severity = "error" | "warning" | "info";

/** The severities from most to least serious. */
export const SEVERITIES: readonly Severity[] = ["error", "warning", "info"];

/** One rule of the audit. */
export interface AuditRule {
  /** e.g. `"duplicate-address"`. */
  id: string;
  /** The severity unless the rules file says otherwise. */
  severity: Severity;
  /** Whether the rule runs unless switched on or off. */
  enabled: boolean;
  /** One line for `--list-rules`. */
  description: string;
}

/**
 * The rule table, in the order findings are reported.
 *
 * @example Listing the rules
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { AUDIT_RULES } from "./rules.ts";
 * assert(AUDIT_RULES[0].id === "duplicate-address");
 * assert(AUDIT_RULES.length === 24);
 * ```
 */
export const AUDIT_RULES: readonly AuditRule[] = [
  rule(
    "duplicate-address",
    "error",
    "The same address (host and mask) recorded more than once in one VRF or the global table " +
      "(roles anycast, vip, vrrp, hsrp, glbp, carp exempt)",
  ),
  rule(
    "duplicate-address-mask",
    "warning",
    "The same host recorded with different mask lengths in one VRF or the global table",
  ),
  rule(
    "orphan-address",
    "warning",
    "No prefix in the address's VRF encloses it (a global container prefix counts; addresses " +
      "tagged audit-orphan, as --fix tags them, are acknowledged and exempt)",
  ),
  rule(
    "mask-mismatch",
    "warning",
    "The mask differs from the closest enclosing prefix (loopback/anycast/VIP-type roles and " +
      "host masks in pool prefixes exempt)",
  ),
  rule(
    "network-or-broadcast",
    "error",
    "A network ID or IPv4 broadcast address (of its own mask or of its non-pool prefix) is " +
      "assigned to an interface",
  ),
  rule("missing-dns-name", "warning", "An active address assigned to an interface has no DNS name"),
  rule(
    "invalid-dns-name",
    "warning",
    "The DNS name breaks NetBox's rule or the house pattern (--dns-pattern / rules file)",
  ),
  rule(
    "duplicate-dns-name",
    "warning",
    "One DNS name on several addresses (an IPv4 + IPv6 pair on the same device/VM is fine)",
  ),
  rule(
    "primary-missing",
    "warning",
    "An active device/VM has addresses of a family on its interfaces but no primary IP for it",
  ),
  rule(
    "primary-not-on-object",
    "error",
    "A primary IP is not assigned to an interface of its device/VM (nor its NAT outside)",
  ),
  rule(
    "primary-dns-mismatch",
    "warning",
    "A device's/VM's primary IPv4 and IPv6 carry different DNS names",
  ),
  rule(
    "half-assigned",
    "error",
    "An assigned object type without an id, or an id without a type",
  ),
  rule(
    "vrf-mismatch",
    "warning",
    "The address's VRF differs from the VRF set on the interface it is assigned to",
  ),
  rule(
    "deprecated-in-use",
    "warning",
    "A deprecated address is a primary IP or assigned to an active device/VM",
  ),
  rule("unassigned-active", "info", "An active address assigned to nothing"),
  rule(
    "prefix-utilization",
    "warning",
    "A prefix is utilized above the threshold (warning 80 %, error 95 %), computed as NetBox does",
  ),
  rule(
    "prefix-exhaustion",
    "info",
    "A prefix at or above the forecast threshold (default 50 %) fills up within a finite time " +
      "at its allocation rate, fitted by least squares on NetBox's change log (only with " +
      "--forecast)",
    false,
  ),
  rule(
    "stale-reserved",
    "info",
    "An address has been reserved for more than N days (default 90; off by default)",
    false,
  ),
  rule(
    "dns-forward-mismatch",
    "warning",
    "The DNS name does not resolve to the address (only with --resolve)",
    false,
  ),
  rule(
    "live-undocumented",
    "warning",
    "An address is live on the network but not in NetBox, with its enclosing prefix (only " +
      "with --observed)",
    false,
  ),
  rule(
    "documented-unseen",
    "info",
    "An active address inside an observed prefix has not been seen for --unseen-days (default " +
      "30; the last sighting is kept in --state) (only with --observed)",
    false,
  ),
  rule(
    "mac-mismatch",
    "warning",
    "An address is seen with a MAC that is none of its interface's MACs (only with --observed)",
    false,
  ),
  rule(
    "status-mismatch",
    "warning",
    "A reserved or deprecated address is live, or a DHCP lease lies outside every IP range and " +
      "pool prefix (only with --observed)",
    false,
  ),
  rule(
    "ptr-mismatch",
    "warning",
    "The reverse DNS (PTR) of an address with a DNS name does not name it (only with --ptr)",
    false,
  ),
];

function rule(id: string, severity: Severity, description: string, enabled = true): AuditRule {
  return { id, severity, description, enabled };
}

/** The rule ids. */
export type RuleId = string;

/** The tag that marks an orphan address as acknowledged (`orphan-address` skips it). */
export const ORPHAN_TAG = "audit-orphan";

/** Exemptions: findings on objects matching any of these are dropped. */
export interface Exemptions {
  /** Tag slugs (or names). */
  tags: string[];
  /** IP roles (`loopback`, `anycast`, …) or prefix role slugs. */
  roles: string[];
  /** CIDRs: findings whose address lies inside one are dropped. */
  prefixes: string[];
}

/** Everything that decides what the analysis reports. */
export interface AuditConfig {
  /** The rules that run. */
  enabled: Set<string>;
  /** Severity per rule id. */
  severity: Record<string, Severity>;
  /** Utilization at or above this percentage is a warning. @default {80} */
  utilizationWarning: number;
  /** Utilization at or above this percentage is an error. @default {95} */
  utilizationError: number;
  /** `stale-reserved` reports reservations older than this. @default {90} */
  staleReservedDays: number;
  /** The house DNS pattern, when set. */
  dnsPattern?: RegExp;
  /** Exemptions for every rule. */
  exempt: Exemptions;
  /** Exemptions for one rule. */
  ruleExempt: Record<string, Exemptions>;
  /** Objects with this tag are skipped entirely. @default {"audit-ignore"} */
  ignoreTag: string;
}

/**
 * The default configuration: the rules' own severities and enablement, thresholds 80/95 %,
 * stale after 90 days, no house pattern; the only exemption: orphans tagged
 * {@linkcode ORPHAN_TAG} (acknowledged, as a fix plan tags them).
 *
 * @returns A fresh configuration.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { defaultAuditConfig } from "./rules.ts";
 * const config = defaultAuditConfig();
 * assert(config.enabled.has("orphan-address") && !config.enabled.has("stale-reserved"));
 * ```
 */
export function defaultAuditConfig(): AuditConfig {
  return {
    enabled: new Set(AUDIT_RULES.filter((r) => r.enabled).map((r) => r.id)),
    severity: Object.fromEntries(AUDIT_RULES.map((r) => [r.id, r.severity])),
    utilizationWarning: 80,
    utilizationError: 95,
    staleReservedDays: 90,
    exempt: { tags: [], roles: [], prefixes: [] },
    ruleExempt: { "orphan-address": { tags: [ORPHAN_TAG], roles: [], prefixes: [] } },
    ignoreTag: "audit-ignore",
  };
}

/**
 * Whether a string names a rule.
 *
 * @param id A candidate rule id.
 * @returns `true` for a known rule id.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { isRuleId } from "./rules.ts";
 * assert(isRuleId("half-assigned") && !isRuleId("half"));
 * ```
 */
export function isRuleId(id: string): boolean {
  return AUDIT_RULES.some((r) => r.id === id);
}

/**
 * Whether a severity is at or above a threshold (`error` > `warning` > `info`).
 *
 * @param severity The severity of a finding.
 * @param threshold The threshold (`never` is above everything).
 * @returns `true` when the finding reaches the threshold.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { atLeast } from "./rules.ts";
 * assert(atLeast("error", "warning") && !atLeast("info", "warning"));
 * assert(!atLeast("error", "never"));
 * ```
 */
export function atLeast(severity: Severity, threshold: Severity | "never"): boolean {
  if (threshold === "never") return false;
  return SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold);
}

/**
 * The rules as a text table: id, severity, on by default, description (`--list-rules`).
 *
 * @returns the table, ending with a newline
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderRuleList } from "./rules.ts";
 * assert(renderRuleList().startsWith("RULE"));
 * assert(renderRuleList().includes("duplicate-address"));
 * ```
 */
export function renderRuleList(): string {
  const width = Math.max(...AUDIT_RULES.map((r) => r.id.length));
  const lines = AUDIT_RULES.map((r) =>
    `${r.id.padEnd(width)}  ${r.severity.padEnd(7)}  ${r.enabled ? "on " : "off"}  ${r.description}`
  );
  return `${"RULE".padEnd(width)}  SEVERITY DEFAULT  DESCRIPTION\n${lines.join("\n")}\n`;
}
