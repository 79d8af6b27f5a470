/**
 * netbox-toolkit: a fetch-based client for scripting NetBox from Deno.
 *
 * - {@linkcode createClient} / {@linkcode clientFromEnv} build a client; nothing is sent until
 *   the first request, which checks the server version once.
 * - Typed endpoints mirror the URL: `client.ipam.ipAddresses` is `/api/ipam/ip-addresses/`;
 *   `client.endpoint("plugins/…")` reaches any other list endpoint. Their models, write shapes
 *   and filter names are generated from NetBox's OpenAPI schema (`IPAddress`,
 *   `WritableIPAddress`, …): a misspelt filter or field is a compile error.
 * - `list()` streams every match (re-iterable, parallel pages in server order), `all()`
 *   collects, `get`/`find`/`count`, and `create`/`update`/`delete` take one object or many
 *   (chunked, with per-item results).
 * - Retries (idempotent requests; POST/PATCH only when the server did not act), timeouts, and
 *   one error root {@linkcode NetBoxError} whose messages read "Cannot <action>: <reason>" and
 *   never contain the token; every error carries the `exitCode` a script should end with.
 * - Domain calls on top: {@linkcode findFreeIps} / {@linkcode reserveIps} (free addresses beyond
 *   the server's cap, idempotent reservations by DNS name), {@linkcode assignIp} (address,
 *   interface and primary IP in one idempotent call), {@linkcode auditIps} (the
 *   `audit-ips` rules as data),
 *   {@linkcode runAudit} (the same over time: state, fixes, journal, forecast),
 *   {@linkcode planImport} / {@linkcode applyImport} (idempotent YAML/JSON/CSV imports),
 *   {@linkcode exportDocuments} / {@linkcode renderExport} (NetBox back to those documents),
 *   and the IP math of `lib/ipam` ({@linkcode parseCidr}, {@linkcode formatIp}, …).
 *
 * @example Free addresses of a prefix, with a scripted server standing in for NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient, NetBoxHttpError } from "./mod.ts";
 *
 * // In real use: const client = clientFromEnv();  (NETBOX_URL, NETBOX_TOKEN)
 * const fetch = (input: RequestInfo | URL) => {
 *   const url = new URL(String(input));
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   if (url.pathname === "/api/ipam/prefixes/7/available-ips/") {
 *     return Promise.resolve(Response.json([{ family: 4, address: "192.168.3.10/24", vrf: null }]));
 *   }
 *   return Promise.resolve(Response.json({ detail: "Not found." }, { status: 404 }));
 * };
 * const client = createClient({ url: "https://netbox.example.com", token: "nbt_abcdefghijkl.secret", fetch });
 *
 * const free = await client.ipam.prefixes.availableIps(7).list({ limit: 1 });
 * assert(free[0].address === "192.168.3.10/24");
 *
 * try {
 *   await client.dcim.sites.get(999);
 * } catch (err) {
 *   if (!(err instanceof NetBoxHttpError) || err.status !== 404) throw err;
 * }
 * client.close();
 * ```
 *
 * @module
 */

export { clientFromEnv, createClient } from "./lib/client/client.ts";
export { createTransport, DEFAULT_USER_AGENT } from "./lib/client/transport.ts";
export { isInsecureUrl, normalizeUrl, resolveConfig } from "./lib/client/config.ts";
export type { ConfigFlags, EnvGetter } from "./lib/client/config.ts";
export { serializeFilters } from "./lib/client/filters.ts";
export { DEFAULT_RETRY_POLICY, isRetryable } from "./lib/client/retry.ts";
export type { AttemptFailure, RetryPolicy } from "./lib/client/retry.ts";
export {
  AllocationError,
  ConfigError,
  FilterError,
  InputError,
  NetBoxAuthError,
  NetBoxChangedError,
  NetBoxError,
  NetBoxHttpError,
  NetBoxNetworkError,
  NetBoxTimeoutError,
  NotSentError,
  OutcomeUnknownError,
} from "./lib/client/errors.ts";
export type { HttpErrorInit } from "./lib/client/errors.ts";
export type {
  Available,
  AvailableIp,
  BulkItemResult,
  BulkOptions,
  BulkResult,
  ChoiceFilter,
  ClientOptions,
  Clock,
  CommonFilterName,
  Endpoint,
  EndpointOf,
  Filters,
  FiltersOf,
  FilterValue,
  GetOptions,
  IpRangeEndpoint,
  Listing,
  ListOptions,
  LogFn,
  NetBoxClient,
  NetBoxObject,
  NetBoxStatus,
  PrefixEndpoint,
  RequestOptions,
  Transport,
  UpdateOptions,
  VlanGroupEndpoint,
  WithLookups,
  WriteEvent,
} from "./lib/client/types.ts";
export { mayHaveActed } from "./lib/client/errors.ts";
export { TOOLKIT_VERSION } from "./lib/client/version.ts";
export { etagOf } from "./lib/client/etag.ts";
export {
  BRANCH_HEADER,
  branchInfo,
  checkBranchName,
  ensureBranch,
  findBranch,
  mergeBranch,
} from "./lib/client/branching.ts";
export type {
  BranchInfo,
  BranchingClient,
  BranchWaitOptions,
  RawBranch,
} from "./lib/client/branching.ts";
export type * from "./lib/client/models.ts";
export { modelPermissions } from "./lib/client/permissions.ts";
export type { ModelPermissions, ModelWrite } from "./lib/client/permissions.ts";

export {
  contains,
  formatCidr,
  formatIp,
  hostOf,
  network,
  parseCidr,
  parseIp,
  parseSpan,
} from "./lib/ipam/ip.ts";
export type { IpAddress, IpFamily, IpNetwork, IpSpan } from "./lib/ipam/ip.ts";
export type { IpPool } from "./lib/ipam/free_ips.ts";
export { expandNameTemplate, validateDnsName } from "./lib/ipam/dns_name.ts";
export { IP_ROLES, IP_STATUSES, isIpStatus, SHARED_ROLES } from "./lib/ipam/choices.ts";
export {
  findFreeIps,
  findFreeIpsInEachPool,
  planDnsNames,
  PoolExhaustedError,
  reserveIps,
  resolvePools,
} from "./lib/ipam/find_free.ts";
export { assignIp, assignIpProblem, assignIps } from "./lib/ipam/assign.ts";
export type {
  AssignAction,
  AssignField,
  AssignIpOptions,
  AssignIpRequest,
  AssignIpResult,
  AssignIpsOptions,
  AssignOutcome,
  AssignStep,
  AssignTarget,
} from "./lib/ipam/assign.ts";
export type {
  FindFreeIpsOptions,
  FindFreeIpsResult,
  LabelledOption,
  NewIpFields,
  OptionLabels,
  PlannedIp,
  PoolFreeIps,
  PoolRef,
  ReserveIpsOptions,
  ReserveIpsResult,
  ResolvedPool,
  VrfRef,
} from "./lib/ipam/find_free.ts";

export { applyImport, planImport, readImportDocuments } from "./lib/import/import.ts";
export type { ApplyImportOptions, ImportDocument } from "./lib/import/import.ts";
export { ImportInputError } from "./lib/import/parse.ts";
export type {
  ImportEntry,
  ImportProblem,
  ImportSection,
  InputFormat,
  SourceLoc,
} from "./lib/import/parse.ts";
export type { Change, ImportPlan, PlanItem, PlanOptions } from "./lib/import/plan.ts";
export type { ImportReport, ModelCounts } from "./lib/import/report.ts";
export type { ModelDef } from "./lib/import/models.ts";
export { checkDeleteLimit, DeleteLimitError, plannedDeletes } from "./lib/import/plan_checks.ts";
export type { PlannedDelete } from "./lib/import/plan_checks.ts";
export type { ApplyResult, Blocker, ItemOutcome } from "./lib/import/apply.ts";
export {
  applySavedPlan,
  checkPlanTarget,
  parseSavedPlan,
  planOfSaved,
  PlanTargetError,
  SavedPlanError,
  savePlan,
} from "./lib/import/saved_plan.ts";
export type {
  ApplySavedPlanOptions,
  SavedPlan,
  SavedWrite,
  SavePlanOptions,
} from "./lib/import/saved_plan.ts";
export {
  EXPORT_FIELDS,
  exportDocuments,
  ExportFilterError,
  ExportScopeError,
  renderExport,
  resolveExportModels,
  sectionName,
} from "./lib/import/export.ts";
export type {
  ExportFormat,
  ExportOptions,
  ExportResult,
  ExportScope,
  ExportSection,
  ExportWarning,
} from "./lib/import/export.ts";

export { auditIps } from "./lib/audit/audit.ts";
export { runAudit, runWrites } from "./lib/audit/run.ts";
export type { AuditRun, RunAuditOptions } from "./lib/audit/run.ts";
export type { AuditIpsOptions, AuditIpsResult } from "./lib/audit/audit.ts";
export type { AuditScope } from "./lib/audit/data.ts";
export { AUDIT_RULES, defaultAuditConfig, ORPHAN_TAG, renderRuleList } from "./lib/audit/rules.ts";
export type { AuditConfig, AuditRule, Exemptions, Severity } from "./lib/audit/rules.ts";
export { parseRulesFile } from "./lib/audit/config.ts";
export type { Finding, PrefixUsage, RelatedObject } from "./lib/audit/model.ts";
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
} from "./lib/audit/state.ts";
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
} from "./lib/audit/state.ts";
export {
  promLabelValue,
  renderAuditJunit,
  renderAuditPrometheus,
  renderAuditSarif,
  xmlEscape,
} from "./lib/audit/formats.ts";
export type { MachineDoc, MachineOptions, ReportedFinding } from "./lib/audit/formats.ts";
export type { AuditDoc, DocFinding } from "./lib/audit/report.ts";
export { applyFixes, FIXABLE_RULES, fixReport, planFixes, renderFixPlan } from "./lib/audit/fix.ts";
export type {
  FixChange,
  FixClient,
  FixItem,
  FixOutcome,
  FixPlan,
  FixReport,
  FixResult,
  PlanFixesOptions,
  SkippedFix,
} from "./lib/audit/fix.ts";
export { journalFindings, journalMarker } from "./lib/audit/journal.ts";
export type { JournalOptions, JournalOutcome } from "./lib/audit/journal.ts";
export {
  allocationEvents,
  fitAllocationRate,
  forecastExhaustion,
  forecastPrefixes,
} from "./lib/audit/forecast.ts";
export type {
  AllocationEvent,
  ForecastOptions,
  PrefixForecast,
  RateFit,
} from "./lib/audit/forecast.ts";
export type { DnsResolver } from "./lib/audit/resolve.ts";
export type { AuditSummary } from "./lib/audit/report.ts";
