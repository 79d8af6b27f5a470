/**
 * One call that audits the IP data of a NetBox: fetch what is in scope, run the rules, resolve
 * DNS names when asked, and summarise — what `audit-ips` prints, as plain data.
 *
 * @module
 */

import type { NetBoxClient } from "../client/types.ts";
import { analyzeAudit, type AuditResult } from "./analyze.ts";
import { type AuditScope, fetchAuditData } from "./data.ts";
import type { Finding, PrefixUsage } from "./model.ts";
import { forecastExhaustion, type ForecastOptions, type PrefixForecast } from "./forecast.ts";
import type { AuditSummary } from "./report.ts";
import { checkDnsForward, type DnsResolver, systemResolver } from "./resolve.ts";
import { checkNetwork, type CheckNetworkOptions, NETWORK_RULES } from "./network.ts";
import { fetchInterfaceMacs } from "./_macs.ts";
import { resolveVrf } from "./data.ts";
import { probeAddresses, type ProbeOptions } from "./probe.ts";
import { InputError } from "../client/errors.ts";
import { checkPtr, type PtrResolver, systemPtrResolver } from "./ptr.ts";
import {
  atLeast,
  AUDIT_RULES,
  type AuditConfig,
  defaultAuditConfig,
  SEVERITIES,
  type Severity,
} from "./rules.ts";

/** Options of {@linkcode auditIps}. */
export interface AuditIpsOptions {
  /** What to audit (VRF, parent CIDR, tenant, site, tag, extra filters). @default everything */
  scope?: AuditScope;
  /** Rules, severities, thresholds, DNS pattern, exemptions. @default {defaultAuditConfig()} */
  config?: AuditConfig;
  /** The severity from which the result `needs_attention`. @default {"error"} */
  failOn?: Severity | "never";
  /** Resolves DNS names for `dns-forward-mismatch`. @default {systemResolver} */
  resolver?: DnsResolver;
  /** Looks up PTR records for `ptr-mismatch`. @default {systemPtrResolver()} */
  ptrResolver?: PtrResolver;
  /** Parallel DNS lookups. @default {8} */
  dnsConcurrency?: number;
  /** The current time (for `stale-reserved` and the summary). @default {new Date()} */
  now?: Date;
  /** Aborts every listing. */
  signal?: AbortSignal;
  /** Called as each listing completes (progress, verbose logs). */
  onListed?: (what: string, count: number) => void;
  /**
   * Threshold and window of the exhaustion forecast, which runs when the configuration enables
   * `prefix-exhaustion` (it reads NetBox's change log). @default {{ threshold: 50, windowDays: 90 }}
   */
  forecast?: Omit<ForecastOptions, "now">;
  /**
   * Observations of the network: the rules `live-undocumented`, `documented-unseen`,
   * `mac-mismatch` and `status-mismatch` run only with them (see `checkNetwork`).
   */
  network?: Pick<
    CheckNetworkOptions,
    "observations" | "unseenDays" | "lastSeen" | "observedSince"
  >;
  /**
   * TCP probes of every address in scope (their answers join the observations): at most `limit`
   * addresses, else an `InputError` before any probe.
   */
  probe?: ProbeOptions & {
    /** Refuse to probe more addresses than this. @default {4096} */
    limit?: number;
  };
}

/** What {@linkcode auditIps} returns. */
export interface AuditIpsResult {
  /** The summary: counts by severity and rule, whether `failOn` was reached, timing. */
  summary: AuditSummary;
  /** Every finding, in rule order, then by object. */
  findings: Finding[];
  /** Utilization of every reported prefix, highest first. */
  utilization: PrefixUsage[];
  /** Problems with the data itself (for example unparseable addresses). */
  warnings: string[];
  /** The exhaustion forecast of the busy prefixes (empty unless `prefix-exhaustion` ran). */
  forecast: PrefixForecast[];
  /** With observations: the last sighting of every address (for the state) and their count. */
  network?: { seen: Record<string, string>; observed: number };
}

/**
 * Audits the IP data of a NetBox: duplicates, orphans, mask and VRF mismatches, DNS names,
 * primary IPs, prefix utilization (see `AUDIT_RULES`). Only reads.
 *
 * @param client the client
 * @param options scope, rules and threshold
 * @returns the findings, their summary and prefix utilization
 * @throws {InputError} when the scope names no VRF or the parent is not a CIDR (exit code 2)
 *
 * @example Audit one VRF and fail a pipeline on errors
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { auditIps } from "./audit.ts";
 * // A NetBox with one VRF and two addresses that collide in it.
 * const data: Record<string, unknown[]> = {
 *   "ipam/vrfs/": [{ id: 1, name: "blue", rd: null, enforce_unique: true }],
 *   "ipam/ip-addresses/": [1, 2].map((id) => ({
 *     id, url: `https://nb.example/api/ipam/ip-addresses/${id}/`, address: "10.0.0.5/24",
 *     vrf: { id: 1, name: "blue" }, status: "active", role: null, dns_name: "", tags: [],
 *     assigned_object_type: null, assigned_object_id: null,
 *   })),
 * };
 * const fetch = (input: string | URL | Request) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   const path = url.pathname.replace("/api/", "");
 *   const results = data[path] ?? [];
 *   return Promise.resolve(Response.json({ count: results.length, next: null, results }));
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const { summary, findings } = await auditIps(client, { scope: { vrf: "blue" }, failOn: "error" });
 * assert(findings.some((f) => f.rule === "duplicate-address"));
 * assert(summary.needs_attention);
 * ```
 */
export async function auditIps(
  client: NetBoxClient,
  options: AuditIpsOptions = {},
): Promise<AuditIpsResult> {
  const config = options.config ?? defaultAuditConfig();
  const failOn = options.failOn ?? "error";
  const started = options.now ?? new Date();
  const t0 = performance.now();
  const data = await fetchAuditData(client, options.scope ?? {}, {
    signal: options.signal,
    onListed: options.onListed,
  });
  const result: AuditResult = analyzeAudit(data, config, { now: started });
  let findings = result.findings;
  if (config.enabled.has("dns-forward-mismatch")) {
    const dns = await checkDnsForward(data.ips, config, options.resolver ?? systemResolver, {
      vrfs: data.vrfs,
      concurrency: options.dnsConcurrency ?? 8,
    });
    findings = [...findings, ...dns];
  }
  if (config.enabled.has("ptr-mismatch")) {
    const ptr = await checkPtr(data.ips, config, options.ptrResolver ?? systemPtrResolver(), {
      vrfs: data.vrfs,
      concurrency: options.dnsConcurrency ?? 8,
    });
    findings = [...findings, ...ptr];
  }
  let network: AuditIpsResult["network"];
  const networkRules = NETWORK_RULES.filter((r) => config.enabled.has(r));
  let observed = options.network;
  if (options.probe && networkRules.length) {
    const limit = options.probe.limit ?? 4096;
    if (data.ips.length > limit) {
      throw new InputError(
        `Cannot probe ${data.ips.length} addresses: more than the limit of ${limit}; narrow ` +
          "with --vrf or --parent, or raise --probe-limit",
      );
    }
    const probed = await probeAddresses(data.ips, { now: started, ...options.probe });
    options.onListed?.("addresses answering a probe", probed.length);
    observed = {
      ...options.network,
      observations: [...(options.network?.observations ?? []), ...probed],
    };
  }
  if (observed && networkRules.length) {
    const interfaceMacs = config.enabled.has("mac-mismatch")
      ? await fetchInterfaceMacs(client, { signal: options.signal })
      : undefined;
    if (interfaceMacs) options.onListed?.("interface MACs", interfaceMacs.size);
    const scope = options.scope ?? {};
    const checked = checkNetwork(data, config, {
      ...observed,
      now: started,
      interfaceMacs,
      vrfId: scope.vrf === undefined ? undefined : resolveVrf(data.vrfs, scope.vrf),
      parent: scope.parent,
    });
    findings = [...findings, ...checked.findings];
    network = { seen: checked.seen, observed: checked.observed };
  }
  let forecast: PrefixForecast[] = [];
  if (config.enabled.has("prefix-exhaustion")) {
    forecast = await forecastExhaustion(client, result.utilization, {
      ...options.forecast,
      now: started,
      signal: options.signal,
    });
    options.onListed?.("prefix forecasts", forecast.length);
    findings = [...findings, ...forecastFindings(forecast, config)];
  }
  const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  const byRule: Record<string, number> = {};
  for (const f of findings) {
    bySeverity[f.severity]++;
    byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
  }
  const summary: AuditSummary = {
    findings: findings.length,
    by_severity: bySeverity,
    by_rule: byRule,
    fail_on: failOn,
    needs_attention: findings.some((f) => atLeast(f.severity as Severity, failOn)),
    started_at: started.toISOString(),
    duration_ms: Math.round(performance.now() - t0),
    analysed: result.counts,
    // Network rules that had no observations did not run: their findings are not "fixed".
    rules: AUDIT_RULES.filter((r) =>
      config.enabled.has(r.id) && (network !== undefined || !NETWORK_RULES.includes(r.id))
    ).map((r) => r.id),
  };
  return {
    summary,
    findings,
    utilization: result.utilization,
    warnings: result.warnings,
    forecast,
    ...(network ? { network } : {}),
  };
}

function forecastFindings(forecast: PrefixForecast[], config: AuditConfig): Finding[] {
  return forecast.filter((f) => f.full_in_days !== null).map((f) => ({
    rule: "prefix-exhaustion",
    severity: config.severity["prefix-exhaustion"] ?? "info",
    object_type: "ipam.prefix",
    object_id: f.id,
    address: f.prefix,
    vrf: f.vrf,
    url: f.url,
    message:
      `${f.prefix} in ${
        f.vrf === null ? "the global table" : `VRF ${f.vrf}`
      } is ${f.utilization}% utilized and full in about ${
        Math.ceil(f.full_in_days!)
      } days at ${f.rate_per_day} ` +
      `addresses/day (fit on ${f.samples} creates in the last ${f.window_days} days)`,
    related: [],
  }));
}
