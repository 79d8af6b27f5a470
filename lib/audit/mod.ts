/**
 * Auditing the IP data in NetBox: the rules as data, one audit ({@linkcode auditIps}), audits
 * over time ({@linkcode runAudit}: a state file's baseline, fixes, journal entries, a forecast
 * of prefix exhaustion), the machine formats (SARIF, JUnit, Prometheus), and NetBox against
 * observations of the network ({@linkcode parseObservations}; `auditIps` with `network`).
 *
 * The calls take a client from `@netbox-toolkit/netbox-toolkit` (`"."`). A state that is not
 * this audit's throws {@linkcode AuditStateError}.
 *
 * @example The rules, with no NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { AUDIT_RULES, defaultAuditConfig } from "./mod.ts";
 *
 * const config = defaultAuditConfig();
 * config.enabled.add("stale-reserved");
 * assert(AUDIT_RULES.some((r) => r.id === "duplicate-address"));
 * ```
 *
 * @module
 */

export { auditIps } from "./audit.ts";
export type { AuditIpsOptions, AuditIpsResult } from "./audit.ts";
export { runAudit } from "./run.ts";
export type { AuditRun, RunAuditOptions } from "./run.ts";
export type { AuditScope } from "./data.ts";
export { AUDIT_RULES, defaultAuditConfig, ORPHAN_TAG } from "./rules.ts";
export type { AuditConfig, AuditRule, Exemptions, Severity } from "./rules.ts";
export { parseRulesFile } from "./config.ts";
export type { Finding, PrefixUsage, RelatedObject } from "./model.ts";
export {
  AuditStateError,
  compareWithState,
  findingKey,
  nextState,
  parseState,
  scopeKey,
  serializeState,
  STATE_FORMAT,
  STATE_VERSION,
} from "./state.ts";
export type {
  AuditState,
  BaselinedFinding,
  BaselineStatus,
  ComparableResult,
  FixedFinding,
  NextStateOptions,
  ParseStateOptions,
  StateComparison,
  StateEntry,
} from "./state.ts";
export { renderAuditJunit, renderAuditPrometheus, renderAuditSarif } from "./formats.ts";
export type { MachineDoc, MachineOptions, ReportedFinding } from "./formats.ts";
export type { AuditDoc, AuditSummary, DocFinding } from "./report.ts";
export { applyFixes, FIXABLE_RULES, fixReport, planFixes, renderFixPlan } from "./fix.ts";
export type {
  FixChange,
  FixClient,
  FixItem,
  FixOutcome,
  FixPlan,
  FixReport,
  FixResult,
  NetworkFixOptions,
  PlanFixesOptions,
  SkippedFix,
} from "./fix.ts";
export { journalFindings } from "./journal.ts";
export type { JournalOptions, JournalOutcome } from "./journal.ts";
export { forecastExhaustion, forecastPrefixes } from "./forecast.ts";
export type { AllocationEvent, ForecastOptions, PrefixForecast, RateFit } from "./forecast.ts";
export type { DnsResolver } from "./resolve.ts";
export {
  detectObservedFormat,
  LEASE_FORMATS,
  OBSERVED_FORMATS,
  parseObservations,
  parseObservedSpec,
} from "./observed.ts";
export type {
  Observation,
  ObservedFormat,
  ObservedSpec,
  ParseObservationsOptions,
} from "./observed.ts";
export { NETWORK_RULES, seenKey } from "./network.ts";
export { parseProbeSpec, probeAddresses, systemConnect } from "./probe.ts";
export type { ProbeOptions, TcpConnect } from "./probe.ts";
export { parseNameserver, reverseName, systemPtrResolver } from "./ptr.ts";
export type { Nameserver, PtrResolver } from "./ptr.ts";
export type { CheckNetworkOptions } from "./network.ts";
