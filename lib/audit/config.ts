/**
 * The rules file of the IP address audit (`--rules FILE`, YAML or JSON): which rules run, their
 * severities, thresholds, the house DNS pattern and exemptions.
 *
 * ```yaml
 * dns_pattern: '^[a-z0-9-]+(\.[a-z0-9-]+)*\.example\.net$'
 * ignore_tag: audit-ignore
 * thresholds: { utilization_warning: 80, utilization_error: 95, stale_reserved_days: 90 }
 * exempt: { tags: [lab], roles: [anycast], prefixes: [192.0.2.0/24] }
 * rules:
 *   stale-reserved: true                      # switch on
 *   unassigned-active: false                  # switch off
 *   orphan-address: { severity: error, exempt: { prefixes: [10.99.0.0/16] } }
 * ```
 *
 * @module
 */

import { yamlParse } from "../deps.ts";
import { ConfigError } from "../client/errors.ts";
import { parseCidr } from "../ipam/ip.ts";
import {
  type AuditConfig,
  defaultAuditConfig,
  type Exemptions,
  isRuleId,
  SEVERITIES,
  type Severity,
} from "./rules.ts";

const TOP_KEYS = new Set(["dns_pattern", "ignore_tag", "thresholds", "exempt", "rules"]);
const THRESHOLD_KEYS = new Set(["utilization_warning", "utilization_error", "stale_reserved_days"]);
const RULE_KEYS = new Set(["enabled", "severity", "exempt"]);

/**
 * Parses a rules file on top of a configuration.
 *
 * @param text The file's content (YAML or JSON).
 * @param base The configuration to start from. @default {defaultAuditConfig()}
 * @returns The resulting configuration (a new object).
 * @throws {ConfigError} "Cannot read rules file: …" naming the offending key.
 *
 * @example Switching a rule on and raising a severity
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseRulesFile } from "./config.ts";
 * const config = parseRulesFile("rules:\n  stale-reserved: true\n  orphan-address: { severity: error }\n");
 * assert(config.enabled.has("stale-reserved"));
 * assert(config.severity["orphan-address"] === "error");
 * ```
 */
export function parseRulesFile(
  text: string,
  base: AuditConfig = defaultAuditConfig(),
): AuditConfig {
  let doc: unknown;
  if (text.trim() === "") return cloneConfig(base);
  try {
    doc = yamlParse(text);
  } catch (err) {
    throw fail((err as Error).message.split("\n")[0]);
  }
  const config = cloneConfig(base);
  if (doc === null || doc === undefined) return config;
  const top = asObject(doc, "the document");
  for (const key of Object.keys(top)) {
    if (!TOP_KEYS.has(key)) {
      throw fail(`unknown key "${key}"; expected one of ${[...TOP_KEYS].join(", ")}`);
    }
  }
  if (top.dns_pattern !== undefined && top.dns_pattern !== null) {
    config.dnsPattern = compilePattern(String(top.dns_pattern), "dns_pattern");
  }
  if (top.ignore_tag !== undefined) config.ignoreTag = asString(top.ignore_tag, "ignore_tag");
  if (top.thresholds !== undefined) applyThresholds(config, asObject(top.thresholds, "thresholds"));
  if (top.exempt !== undefined) config.exempt = mergeExempt(config.exempt, top.exempt, "exempt");
  if (top.rules !== undefined) applyRules(config, asObject(top.rules, "rules"));
  checkThresholds(config);
  return config;
}

/**
 * Compiles a house DNS pattern.
 *
 * @param source A regular expression, e.g. `^[a-z0-9-]+\.example\.net$`.
 * @param where Where it came from, for the error message.
 * @returns The pattern.
 * @throws {ConfigError} When the expression does not compile.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { compilePattern } from "./config.ts";
 * assert(compilePattern("^a$", "--dns-pattern").test("a"));
 * ```
 */
export function compilePattern(source: string, where: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new ConfigError(`Cannot use ${where}: ${(err as Error).message}`);
  }
}

function fail(reason: string): ConfigError {
  return new ConfigError(`Cannot read rules file: ${reason}`);
}

function cloneConfig(c: AuditConfig): AuditConfig {
  return {
    ...c,
    enabled: new Set(c.enabled),
    severity: { ...c.severity },
    exempt: cloneExempt(c.exempt),
    ruleExempt: Object.fromEntries(
      Object.entries(c.ruleExempt).map(([k, v]) => [k, cloneExempt(v)]),
    ),
  };
}

function cloneExempt(e: Exemptions): Exemptions {
  return { tags: [...e.tags], roles: [...e.roles], prefixes: [...e.prefixes] };
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail(`${where} must be a mapping`);
  }
  return value as Record<string, unknown>;
}

function asString(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") throw fail(`${where} must be a non-empty string`);
  return value;
}

function asStrings(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v, i) => {
    if (typeof v !== "string" && typeof v !== "number") {
      throw fail(`${where}[${i}] must be a string`);
    }
    return String(v);
  });
}

function applyThresholds(config: AuditConfig, t: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(t)) {
    if (!THRESHOLD_KEYS.has(key)) {
      throw fail(`unknown threshold "${key}"; expected one of ${[...THRESHOLD_KEYS].join(", ")}`);
    }
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw fail(`thresholds.${key} must be a non-negative number`);
    }
    if (key === "utilization_warning") config.utilizationWarning = value;
    else if (key === "utilization_error") config.utilizationError = value;
    else config.staleReservedDays = value;
  }
}

function checkThresholds(config: AuditConfig): void {
  if (config.utilizationWarning > config.utilizationError) {
    throw fail("thresholds.utilization_warning must not exceed utilization_error");
  }
}

function mergeExempt(base: Exemptions, value: unknown, where: string): Exemptions {
  const e = asObject(value, where);
  const out = cloneExempt(base);
  for (const [key, v] of Object.entries(e)) {
    if (key === "tags") out.tags.push(...asStrings(v, `${where}.tags`));
    else if (key === "roles") out.roles.push(...asStrings(v, `${where}.roles`));
    else if (key === "prefixes") {
      for (const cidr of asStrings(v, `${where}.prefixes`)) {
        try {
          parseCidr(cidr);
        } catch {
          throw fail(`${where}.prefixes: "${cidr}" is not a CIDR`);
        }
        out.prefixes.push(cidr);
      }
    } else throw fail(`unknown key "${where}.${key}"; expected tags, roles or prefixes`);
  }
  return out;
}

function applyRules(config: AuditConfig, rules: Record<string, unknown>): void {
  for (const [id, value] of Object.entries(rules)) {
    if (!isRuleId(id)) throw fail(`unknown rule "${id}" (see \`AUDIT_RULES\`)`);
    if (typeof value === "boolean") {
      setEnabled(config, id, value);
      continue;
    }
    if (value === null) continue;
    const r = asObject(value, `rules.${id}`);
    for (const key of Object.keys(r)) {
      if (!RULE_KEYS.has(key)) {
        throw fail(`unknown key "rules.${id}.${key}"; expected enabled, severity or exempt`);
      }
    }
    if (r.enabled !== undefined) {
      if (typeof r.enabled !== "boolean") throw fail(`rules.${id}.enabled must be true or false`);
      setEnabled(config, id, r.enabled);
    } else {
      setEnabled(config, id, true); // mentioning a rule with settings switches it on
    }
    if (r.severity !== undefined) {
      config.severity[id] = parseSeverity(r.severity, `rules.${id}.severity`);
    }
    if (r.exempt !== undefined) {
      config.ruleExempt[id] = mergeExempt(
        config.ruleExempt[id] ?? { tags: [], roles: [], prefixes: [] },
        r.exempt,
        `rules.${id}.exempt`,
      );
    }
  }
}

function setEnabled(config: AuditConfig, id: string, on: boolean): void {
  if (on) config.enabled.add(id);
  else config.enabled.delete(id);
}

function parseSeverity(value: unknown, where: string): Severity {
  if (typeof value !== "string" || !SEVERITIES.includes(value as Severity)) {
    throw fail(`${where} must be one of ${SEVERITIES.join(", ")}`);
  }
  return value as Severity;
}
