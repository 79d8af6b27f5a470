/**
 * netbox-toolkit: a fetch-based client for scripting NetBox from Deno.
 *
 * - {@linkcode createClient} / {@linkcode clientFromEnv} build a client; nothing is sent until
 *   the first request, which checks the server version once.
 * - Typed endpoints mirror the URL for every list endpoint of NetBox's API, app by app:
 *   `client.ipam.ipAddresses` is `/api/ipam/ip-addresses/`, `client.vpn.tunnels` is
 *   `/api/vpn/tunnels/` ({@linkcode TypedApps}); `client.endpoint("plugins/…")` reaches any
 *   other list endpoint. Their models, write shapes and filter names are generated from NetBox's
 *   OpenAPI schema (`IPAddress`, `WritableIPAddress`, …): a misspelt filter or field is a
 *   compile error. An endpoint newer than the server refuses with "needs NetBox ≥ X".
 * - `list()` streams every match (re-iterable, parallel pages in server order), `all()`
 *   collects, `get`/`find`/`count`, and `create`/`update`/`delete` take one object or many
 *   (chunked, with per-item results).
 * - Retries (idempotent requests; POST/PATCH only when the server did not act), timeouts, and
 *   one error root {@linkcode NetBoxError} whose messages read "Cannot <action>: <reason>" and
 *   never contain the token; every error has a {@linkcode ErrorKind} (`input`, `refused`,
 *   `unreachable`, …) and the `exitCode` a script should end with.
 * - Domain calls on top: {@linkcode findFreeIps} / {@linkcode reserveIps} (free addresses beyond
 *   the server's cap, idempotent reservations by DNS name), {@linkcode assignIp} (address,
 *   interface and primary IP in one idempotent call), {@linkcode auditIps} (the
 *   `audit-ips` rules as data),
 *   {@linkcode planImport} / {@linkcode applyImport} (idempotent YAML/JSON/CSV imports),
 *   {@linkcode exportDocuments} / {@linkcode renderExport} (NetBox back to those documents),
 *   {@linkcode buildInventory} / {@linkcode renderInventory} (Ansible and Nornir inventories),
 *   {@linkcode readChanges} / {@linkcode planRevert} / {@linkcode applyRevert} (undo a run from
 *   NetBox's change log).
 *
 * The public surface is chosen, not everything `lib/` exports. This entry (`"."`) holds the
 * client, every error class, the common types and the one call of each task above. Each domain
 * has its own entry with the rest of its calls:
 *
 * | entry           | holds                                                                    |
 * | --------------- | ------------------------------------------------------------------------ |
 * | `"./client"`    | the client part of this entry alone, ~20 MB less memory (no YAML/CSV)    |
 * | `"./ipam"`      | IP math, DNS names, IP choices, free addresses, reservations, assignment |
 * | `"./import"`    | documents, plans (saved and reviewed), apply, the delete brake, export   |
 * | `"./audit"`     | rules, runs over time (state, fixes, journal, forecast), machine formats |
 * | `"./inventory"` | group keys and names, the Ansible and Nornir renderers one by one        |
 * | `"./revert"`    | change-log selections, audit-log request ids, revert plans and results   |
 *
 * Withheld on purpose (they stay importable inside `lib/`, and may change in any release): the
 * transport and its retry policy (no option takes them), the flags-and-environment resolver of
 * the tasks, URL normalisation, filter serialisation, the branch header, escaping helpers of the
 * report formats, and everything under `lib/cli/`. `tests/public_surface.txt` lists every
 * exported name; a change to it is a visible diff.
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

// The client: everything of the `"./client"` entry.
export * from "./lib/client/mod.ts";

// The domains' error classes, so one import catches every error the library throws.
export {
  AllocationPlanError,
  LookupError,
  PoolExhaustedError,
  PoolsExhaustedError,
} from "./lib/ipam/mod.ts";
export {
  DeleteLimitError,
  ExportFilterError,
  ExportScopeError,
  ImportInputError,
  PlanTargetError,
  SavedPlanError,
} from "./lib/import/mod.ts";
export { AuditStateError } from "./lib/audit/mod.ts";
export { InventoryFilterError } from "./lib/inventory/mod.ts";
export { RevertRefusedError } from "./lib/revert/mod.ts";

// The one call of each task (the README's examples); the rest of each domain is in its entry.
export {
  allocateAsns,
  allocateIps,
  allocatePrefixes,
  allocateVlans,
  applyAllocationPlan,
  assignIp,
  findFreeIps,
  parseAllocationPlan,
  reserveIps,
} from "./lib/ipam/mod.ts";
export type {
  AllocateIpsOptions,
  AllocateOptions,
  AllocatePrefixesOptions,
  AllocateVlansOptions,
  AllocationPlan,
  AllocationPolicy,
  AllocationResult,
  ApplyAllocationPlanOptions,
  AssignAction,
  AssignField,
  AssignIpOptions,
  AssignIpRequest,
  AssignIpResult,
  AssignStep,
  AssignTarget,
  FindFreeIpsOptions,
  FindFreeIpsResult,
  IpFamily,
  IpPool,
  IpSpan,
  LabelledOption,
  NamedPoolRef,
  NewIpFields,
  OptionLabels,
  PlannedIp,
  PlanStep,
  PlanStepResult,
  PoolRef,
  PrefixPoolRef,
  ReserveIpsOptions,
  ReserveIpsResult,
  ResolvedPool,
  SkippedPool,
  VrfRef,
} from "./lib/ipam/mod.ts";
export { applyImport, exportDocuments, planImport, renderExport } from "./lib/import/mod.ts";
export type {
  ApplyImportOptions,
  ApplyResult,
  Blocker,
  Change,
  ExportFormat,
  ExportOptions,
  ExportResult,
  ExportScope,
  ExportSection,
  ExportWarning,
  ImportDocument,
  ImportEntry,
  ImportPlan,
  ImportProblem,
  ImportReport,
  ImportSection,
  InputFormat,
  ItemOutcome,
  ModelCounts,
  ModelDef,
  PlanItem,
  PlannedDelete,
  PlanOptions,
  SourceLoc,
} from "./lib/import/mod.ts";
export { auditIps, defaultAuditConfig } from "./lib/audit/mod.ts";
export type {
  AuditConfig,
  AuditIpsOptions,
  AuditIpsResult,
  AuditScope,
  AuditSummary,
  DnsResolver,
  Exemptions,
  Finding,
  ForecastOptions,
  PrefixForecast,
  PrefixUsage,
  RelatedObject,
  Severity,
} from "./lib/audit/mod.ts";
export { buildInventory, renderInventory } from "./lib/inventory/mod.ts";
export type {
  BuildInventoryOptions,
  Inventory,
  InventoryFile,
  InventoryFormat,
  InventoryGroup,
  InventoryHost,
  SkippedHost,
} from "./lib/inventory/mod.ts";
export { applyRevert, planRevert, readChanges } from "./lib/revert/mod.ts";
export type {
  ApplyRevertOptions,
  LoggedChange,
  PlanRevertOptions,
  RevertItem,
  RevertPlan,
  RevertResult,
  RevertSelection,
  RevertStep,
} from "./lib/revert/mod.ts";
