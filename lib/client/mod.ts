/**
 * The client alone: {@linkcode createClient} / {@linkcode clientFromEnv}, the typed endpoints of
 * every NetBox model, any model by name, branching, permissions, and the client's errors and
 * types — without the domain calls (`./ipam`, `./import`, `./audit`, `./inventory`, `./revert`)
 * and the YAML, CSV and cron libraries they load. A script that only talks to the API (a long
 * listing, a cron job, many small processes) starts with about 20 MB less resident memory than
 * with the root entry, which holds all of this too.
 *
 * @example Streaming every address
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "./mod.ts";
 *
 * const fetch = (input: RequestInfo | URL) => {
 *   const url = new URL(String(input));
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   return Promise.resolve(Response.json({ count: null, next: null, previous: null, results: [{ id: 1, address: "10.0.0.1/24" }] }));
 * };
 * const client = createClient({ url: "https://netbox.example.com", token: "nbt_abcdefghijkl.secret", fetch });
 * let n = 0;
 * for await (const ip of client.ipam.ipAddresses.list()) if (ip.address) n++;
 * assert(n === 1);
 * client.close();
 * ```
 *
 * @module
 */

// The client.
export { clientFromEnv, createClient } from "./client.ts";
export { TOOLKIT_VERSION } from "./version.ts";
export type {
  Available,
  AvailableIp,
  BulkItemResult,
  BulkOptions,
  BulkResult,
  ChoiceFilter,
  ChunkSizeChange,
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
  TypedApps,
  TypedEndpoint,
  UpdateOptions,
  VlanGroupEndpoint,
  WithLookups,
  WriteEvent,
} from "./types.ts";
export type * from "./models.ts";
export { etagOf } from "./etag.ts";
export { branchInfo, ensureBranch, findBranch, mergeBranch } from "./branching.ts";
export type { BranchInfo, BranchingClient, BranchWaitOptions, RawBranch } from "./branching.ts";
export { modelPermissions } from "./permissions.ts";
export type { ModelPermissions, ModelWrite } from "./permissions.ts";

// Any model by name (the verbs of `deno task nb`): resolve a model, one object, writes by id or
// filter with field diffs, choices and schema, detail actions, scripts and GraphQL.
export { modelName, modelPaths, resolveModel } from "./model_resolve.ts";
export {
  createObjects,
  deleteObjects,
  deleteWhere,
  getOne,
  updateObjects,
  updateWhere,
} from "./where.ts";
export type { DeleteOptions, WriteOptions, WriteOutcome } from "./where.ts";
export { fieldChanges, sameValue } from "./diff.ts";
export type { FieldChange } from "./diff.ts";
export { choices, schema } from "./meta.ts";
export type { ChoiceOption, FieldInfo, FilterInfo, ModelSchema } from "./meta.ts";
export { DETAIL_ACTIONS, detailAction, graphql, runScript } from "./actions.ts";
export type { DetailActionOptions, GraphqlResult, RunScriptOptions, ScriptRun } from "./actions.ts";

// The client's errors (the root entry adds the domains' own).
export {
  AllocationError,
  ConfigError,
  FilterError,
  InputError,
  mayHaveActed,
  NetBoxAuthError,
  NetBoxChangedError,
  NetBoxError,
  NetBoxHttpError,
  NetBoxNetworkError,
  NetBoxTimeoutError,
  NotSentError,
  OutcomeUnknownError,
} from "./errors.ts";
export type { ErrorKind, HttpErrorInit } from "./errors.ts";
export { MatchError } from "./where.ts";
