/**
 * Free IP addresses of a prefix or an IP range, as library calls: {@linkcode findFreeIps} lists
 * any number of them (beyond the server's per-call cap), {@linkcode reserveIps} creates them
 * under NetBox's allocation lock (or explicitly, retried, when leading addresses are skipped).
 *
 * - The pool is named by CIDR (+ VRF), by id, by an IP range, or by prefix filters
 *   ({@linkcode PoolRef}); {@linkcode resolvePools} turns that into NetBox objects.
 * - Free addresses are NetBox's own `available-ips` list as far as it reaches, then computed the
 *   same way from the pool's child IPs and populated ranges — an IPv6 prefix is never enumerated.
 * - With a `dnsName` (or a `{n}` / `{n:02}` template for several), an address of the pool that
 *   already holds the name is returned instead of a new one: reserving twice gives the same
 *   address.
 * - Bad input throws {@linkcode InputError} (exit code 2) before anything is sent; NetBox's
 *   refusals throw its errors; a pool without room throws {@linkcode PoolExhaustedError}.
 *
 * @module
 */

import {
  AllocationError,
  InputError,
  mayHaveActed,
  NetBoxError,
  NetBoxHttpError,
  NotSentError,
  OutcomeUnknownError,
} from "../client/errors.ts";
import type { IPAddress, IPRange, Prefix } from "../client/models.ts";
import { seconds } from "../base/duration.ts";
import { settle } from "../client/settle.ts";
import type { Filters, FilterValue, NetBoxClient } from "../client/types.ts";
import { IP_ROLES, IP_STATUSES } from "./choices.ts";
import { expandNameTemplate, isNameTemplate, validateDnsName } from "./dns_name.ts";
import {
  freeSpans,
  type IpPool,
  iterateFree,
  occupies,
  populatedSpans,
  prefixPool,
  rangePool,
  skipLeading,
  spanSize,
} from "./free_ips.ts";
import {
  contains,
  coveringNetwork,
  formatCidr,
  formatIp,
  hostOf,
  type IpSpan,
  parseCidr,
  parseSpan,
} from "./ip.ts";
import { describeObject, LookupError, resolveTags, resolveTenant, resolveVrf } from "./lookup.ts";

/**
 * A VRF by name, route distinguisher or id; `null` is the global table.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { VrfRef } from "./find_free.ts";
 * const vrfs: VrfRef[] = ["blue", "65000:1", 3, null];
 * assert(vrfs.length === 4);
 * ```
 */
export type VrfRef = string | number | null;

/**
 * Where free addresses come from — exactly one of:
 *
 * - `{ prefix, vrf? }`: the prefix with that CIDR in the VRF (default: the global table);
 * - `{ prefixId }`: the prefix with that id (its own VRF);
 * - `{ range, vrf? }`: the IP range `start-end` in the VRF (default: the global table);
 * - `{ rangeId }`: the IP range with that id;
 * - `{ filters, vrf? }`: the prefixes matching NetBox list filters (e.g. `{ site: "matrix",
 *   role: "servers" }`), in the VRF when given (`null`: the global table; default: any VRF).
 *   The first one with enough room is used.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { PoolRef } from "./find_free.ts";
 * const pools: PoolRef[] = [
 *   { prefix: "10.0.0.0/24" },
 *   { prefix: "10.0.0.0/24", vrf: "blue" },
 *   { prefixId: 7 },
 *   { range: "10.0.0.10-10.0.0.50", vrf: 3 },
 *   { rangeId: 4 },
 *   { filters: { site: "matrix", role: "servers" } },
 * ];
 * assert(pools.length === 6);
 * ```
 */
export type PoolRef =
  | { prefix: string; vrf?: VrfRef }
  | { prefixId: number }
  | { range: string; vrf?: VrfRef }
  | { rangeId: number }
  | { filters: Filters; vrf?: VrfRef };

/**
 * The options whose names appear in error messages (see {@linkcode OptionLabels}).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { LabelledOption } from "./find_free.ts";
 * const option: LabelledOption = "dnsName";
 * assert(option === "dnsName");
 * ```
 */
export type LabelledOption =
  | "prefix"
  | "prefixId"
  | "range"
  | "rangeId"
  | "filters"
  | "vrf"
  | "count"
  | "skip"
  | "numberFrom"
  | "status"
  | "role"
  | "dnsName"
  | "dnsPattern"
  | "tags"
  | "createTags";

/**
 * How error messages name the caller's options, e.g. `{ dnsName: "--dns-name" }` for a
 * command-line tool. Unlisted options are called by their own names (`dnsName`).
 *
 * @example Messages in a command-line tool's words
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { planDnsNames } from "./find_free.ts";
 * try {
 *   planDnsNames({ dnsName: "bad name", labels: { dnsName: "--dns-name" } });
 *   assert(false);
 * } catch (err) {
 *   assert((err as Error).message.startsWith("Cannot use --dns-name: "));
 * }
 * ```
 */
export type OptionLabels = Partial<Record<LabelledOption, string>>;

/**
 * Options of {@linkcode findFreeIps}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { FindFreeIpsOptions } from "./find_free.ts";
 * const options: FindFreeIpsOptions = { count: 3, skip: 2, dnsName: "web-{n}.example.com" };
 * assert(options.count === 3);
 * ```
 */
export interface FindFreeIpsOptions {
  /** How many addresses (with `dnsName`: existing ones included). @default {1} */
  count?: number;
  /** Leave the first N usable addresses of the pool out (e.g. gateways). @default {0} */
  skip?: number;
  /**
   * A DNS name; for `count > 1` a template such as `k8s-{n:02}-worker.example.com`. Addresses
   * of the pool already holding one of the names are returned as `existing`.
   */
  dnsName?: string;
  /** The number the first name of a `{n}` template gets. @default {1} */
  numberFrom?: number;
  /** A house rule DNS names must also match (needs `dnsName`). */
  dnsPattern?: RegExp | string;
  /**
   * Called with a warning (free addresses computed differently from NetBox's own list; no
   * prefix matching the filters has room enough).
   */
  onWarning?: (message: string) => void;
  /** How error messages name the options. */
  labels?: OptionLabels;
}

/**
 * Options of {@linkcode reserveIps}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { ReserveIpsOptions } from "./find_free.ts";
 * const options: ReserveIpsOptions = {
 *   count: 3,
 *   dnsName: "k8s-{n:02}-worker.example.com",
 *   status: "reserved",
 *   tags: ["production-dns"],
 *   onRetry: (attempt, max) => console.error(`retrying (${attempt}/${max})`),
 * };
 * assert(options.status === "reserved");
 * ```
 */
export interface ReserveIpsOptions extends FindFreeIpsOptions {
  /**
   * Return addresses that already hold the DNS names instead of reserving new ones.
   * @default {true}
   */
  reuseExisting?: boolean;
  /** Status of the new addresses (one of `IP_STATUSES`). @default {"active"} */
  status?: string;
  /** Role of the new addresses (one of `IP_ROLES`). */
  role?: string;
  /** Tags by name or slug; they must exist unless `createTags`. */
  tags?: string[];
  /** Create the tags of `tags` that do not exist. @default {false} */
  createTags?: boolean;
  /** Description of the new addresses. */
  description?: string;
  /** Tenant of the new addresses, by slug, name or id. */
  tenant?: string | number;
  /** Compute what would be reserved; write nothing. @default {false} */
  dryRun?: boolean;
  /**
   * Called once before the first write, after the pool is known to have room (not with
   * `dryRun`): e.g. a permission check that throws.
   */
  beforeWrite?: () => Promise<void> | void;
  /** Called when a concurrent run took an address and the reservation is retried. */
  onRetry?: (attempt: number, maxAttempts: number) => void;
  /**
   * Stops gracefully: once it fires, the reservation is not sent (`NotSentError`); a request
   * already in flight finishes.
   */
  stop?: AbortSignal;
  /**
   * The provenance set in the new addresses' `comments`, by which a reservation whose answer was
   * lost is found again; unique to this call. @default {"netbox-toolkit reservation <uuid>"}
   */
  marker?: string;
}

/**
 * A pool as resolved from a {@linkcode PoolRef}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { Prefix } from "../client/models.ts";
 * import type { ResolvedPool } from "./find_free.ts";
 * import { prefixPool } from "./free_ips.ts";
 * const object: Prefix = {
 *   id: 7, url: "", display_url: "", display: "10.0.0.0/24", family: { value: 4, label: "IPv4" },
 *   prefix: "10.0.0.0/24", vrf: { id: 3, url: "", display: "blue", name: "blue" }, scope: null,
 *   created: null, last_updated: null, children: 0, _depth: 0,
 * };
 * const resolved: ResolvedPool = { pool: prefixPool(object), vrfName: "blue", object };
 * assert(resolved.pool.vrfId === 3);
 * ```
 */
export interface ResolvedPool {
  /** What the free-address rule needs (kind, id, label, family, bounds, VRF id …). */
  pool: IpPool;
  /** The VRF's name, or `null` for the global table. */
  vrfName: string | null;
  /** The NetBox prefix or IP range. */
  object: Prefix | IPRange;
}

/**
 * What {@linkcode findFreeIps} returns.
 *
 * @example How many addresses are missing
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { FindFreeIpsResult } from "./find_free.ts";
 * const missing = (r: FindFreeIpsResult) => r.requested - r.existing.length - r.free.length;
 * assert(missing({ requested: 3, existing: [], free: ["10.0.0.1/24"] } as unknown as FindFreeIpsResult) === 2);
 * ```
 */
export interface FindFreeIpsResult {
  /** The pool the addresses come from (for `filters`: the first with enough room). */
  pool: ResolvedPool;
  /** How many pools the reference matched (several only for `filters`). */
  matched: number;
  /** The `count` asked for. */
  requested: number;
  /** Addresses of the pool that already hold the requested DNS names (oldest first). */
  existing: IPAddress[];
  /** Free addresses (`192.0.2.5/24`), ascending, at most `requested - existing.length`. */
  free: string[];
  /** How many are free after `skip`, when NetBox's list fell short and they were counted. */
  freeTotal?: bigint;
  /** Whether `free` holds all `requested - existing.length` addresses. */
  complete: boolean;
}

/**
 * The free addresses of one pool, from {@linkcode findFreeIpsInEachPool}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { PoolFreeIps } from "./find_free.ts";
 * const line = (p: PoolFreeIps) => `${p.pool.pool.label}: ${p.free.join(" ")}`;
 * assert(line({ pool: { pool: { label: "10.0.0.0/30" } }, free: ["10.0.0.1/30"] } as PoolFreeIps) === "10.0.0.0/30: 10.0.0.1/30");
 * ```
 */
export interface PoolFreeIps {
  /** The pool. */
  pool: ResolvedPool;
  /** Free addresses, ascending. */
  free: string[];
  /** How many are free after `skip`, when counted. */
  freeTotal?: bigint;
  /** Whether `free` holds as many as asked. */
  complete: boolean;
}

/**
 * The fields {@linkcode reserveIps} sends for each new address.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { NewIpFields } from "./find_free.ts";
 * const fields: NewIpFields = { status: "reserved", dns_name: "web.example.com", tags: [4] };
 * assert(fields.status === "reserved");
 * ```
 */
export interface NewIpFields {
  /** The status. */
  status: string;
  /** The DNS name (lower case). */
  dns_name?: string;
  /** The role. */
  role?: string;
  /** The description. */
  description?: string;
  /** The tenant id. */
  tenant?: number;
  /** Tag ids. */
  tags?: number[];
  /**
   * Provenance set on every reserved address (`netbox-toolkit reservation <uuid>`): how a
   * reservation whose answer was lost is found again.
   */
  comments?: string;
}

/**
 * An address a dry run would reserve: free now, with the fields it would get.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { PlannedIp } from "./find_free.ts";
 * const planned: PlannedIp = { address: "10.0.0.5/24", status: "active" };
 * assert(planned.address === "10.0.0.5/24");
 * ```
 */
export interface PlannedIp extends NewIpFields {
  /** The address (NetBox picks at reservation time; this one is free now). */
  address: string;
}

/**
 * What {@linkcode reserveIps} returns.
 *
 * @example The addresses a caller ends up with: reused, then new
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { ReserveIpsResult } from "./find_free.ts";
 * const addresses = (r: ReserveIpsResult) => [...r.existing, ...r.reserved].map((ip) => ip.address);
 * const result = { existing: [{ id: 1, url: "", address: "10.0.0.7/24" }], reserved: [] };
 * assert(addresses(result as unknown as ReserveIpsResult).join() === "10.0.0.7/24");
 * ```
 */
export interface ReserveIpsResult {
  /** The pool reserved from. */
  pool: ResolvedPool;
  /** How many pools the reference matched. */
  matched: number;
  /** The `count` asked for. */
  requested: number;
  /** Addresses that already hold the requested DNS names: returned, not created. */
  existing: IPAddress[];
  /** The addresses created (empty with `dryRun`). */
  reserved: IPAddress[];
  /** With `dryRun`: what would be created. */
  planned: PlannedIp[];
  /** Whether this was a dry run. */
  dryRun: boolean;
  /** Tags that did not exist: created (or, with `dryRun`, to be created). */
  missingTags: string[];
}

/**
 * Not enough free addresses for a reservation — found before asking NetBox, or NetBox's own
 * 409 (the `cause`). Nothing was created.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { PoolExhaustedError } from "./find_free.ts";
 * import { AllocationError } from "../client/errors.ts";
 * const err = new PoolExhaustedError("10.0.0.0/29", 7, 6n);
 * assert(err instanceof AllocationError);
 * assert(err.message === "Cannot reserve 7 addresses in 10.0.0.0/29: 6 free");
 * ```
 */
export class PoolExhaustedError extends AllocationError {
  /** The pool, e.g. `10.0.0.0/29`. */
  readonly poolLabel: string;
  /** How many addresses were to be created. */
  readonly requested: number;
  /** How many are free. */
  readonly free: bigint;
  /**
   * Creates the error.
   *
   * @param poolLabel The pool, e.g. `10.0.0.0/29`.
   * @param requested How many addresses were to be created.
   * @param free How many are free.
   * @param refusal NetBox's refusal, when NetBox said so.
   */
  constructor(poolLabel: string, requested: number, free: bigint, refusal?: NetBoxHttpError) {
    super(
      `Cannot reserve ${requested} addresses in ${poolLabel}: ${free} free`,
      refusal ?? { status: 409, method: "POST", path: "-", body: null, messages: {} },
      refusal ? { cause: refusal } : undefined,
    );
    this.poolLabel = poolLabel;
    this.requested = requested;
    this.free = free;
  }
}

/**
 * The DNS names {@linkcode findFreeIps} and {@linkcode reserveIps} would give for these options:
 * `dnsName` (or, for `count > 1`, a `{n}` / `{n:02}` template starting at `numberFrom`) expanded
 * to one name per address, each checked against NetBox's rule and `dnsPattern`, lower-cased as
 * NetBox does on save. Sends nothing.
 *
 * @param options `dnsName`, `count` (default 1), `numberFrom` (default 1), `dnsPattern`,
 * `labels` for messages.
 * @returns The names, or `undefined` without `dnsName`.
 * @throws {InputError} When the pattern does not compile or comes without `dnsName`, a plain
 * name is given for several addresses, or a name is invalid.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { planDnsNames } from "./find_free.ts";
 * import { InputError } from "../client/errors.ts";
 * const names = planDnsNames({ dnsName: "K8s-{n:02}-worker.example.com", count: 2, numberFrom: 9 });
 * assert(names?.join() === "k8s-09-worker.example.com,k8s-10-worker.example.com");
 * try {
 *   planDnsNames({ dnsName: "web.example.com", count: 2 });
 *   assert(false);
 * } catch (err) {
 *   assert(err instanceof InputError && err.exitCode === 2);
 * }
 * ```
 */
export function planDnsNames(
  options: Pick<FindFreeIpsOptions, "dnsName" | "count" | "numberFrom" | "dnsPattern" | "labels">,
): string[] | undefined {
  const label = labeller(options.labels);
  const pattern = compilePattern(options.dnsPattern, label);
  const { dnsName } = options;
  if (dnsName === undefined) {
    if (pattern !== undefined) {
      throw new InputError(`Cannot use ${label("dnsPattern")} without ${label("dnsName")}`);
    }
    return undefined;
  }
  const count = options.count ?? 1;
  if (count > 1 && !isNameTemplate(dnsName)) {
    throw new InputError(
      `Cannot name ${count} addresses "${dnsName}": use a template such as ` +
        `"host-{n:02}.example.com" for ${label("count")} > 1`,
    );
  }
  const from = options.numberFrom ?? 1;
  const names = Array.from({ length: count }, (_, i) => expandNameTemplate(dnsName, from + i));
  for (const name of names) {
    const reason = validateDnsName(name, pattern);
    if (reason) throw new InputError(`Cannot use ${label("dnsName")}: ${reason}`);
  }
  return names.map((n) => n.toLowerCase()); // NetBox lower-cases dns_name on save
}

/**
 * Resolves a pool reference to the NetBox prefixes or IP ranges it names (several only for
 * `filters`, in NetBox's order).
 *
 * @param client The client.
 * @param ref The pool.
 * @param options `labels` for messages.
 * @returns The pools.
 * @throws {InputError} When the reference is malformed (nothing sent).
 * @throws {LookupError} When no pool (or, for a CIDR or range, several) match.
 *
 * @example A prefix in a VRF, with a scripted server standing in for NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { resolvePools } from "./find_free.ts";
 * const fetch = (input: string | URL | Request) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   const results = url.pathname === "/api/ipam/vrfs/"
 *     ? [{ id: 3, name: "blue" }]
 *     : url.pathname === "/api/ipam/prefixes/" && url.searchParams.get("vrf_id") === "3"
 *     ? [{ id: 7, prefix: "10.0.0.0/24", vrf: { id: 3, name: "blue" }, status: "active" }]
 *     : [];
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   return Promise.resolve(Response.json({ count: results.length, next: null, results }));
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const [p] = await resolvePools(client, { prefix: "10.0.0.0/24", vrf: "blue" });
 * assert(p.pool.id === 7 && p.vrfName === "blue" && p.pool.vrfId === 3);
 * client.close();
 * ```
 */
export async function resolvePools(
  client: NetBoxClient,
  ref: PoolRef,
  options: { labels?: OptionLabels } = {},
): Promise<ResolvedPool[]> {
  const label = labeller(options.labels);
  return await lookUpPools(client, checkPoolRef(ref, label), label);
}

/**
 * Lists free addresses of a pool — any number, beyond the server's per-call cap — after leaving
 * out its first `skip` usable addresses. With `dnsName`, addresses of the pool already holding
 * the names come back as `existing` and only the rest are listed. Only reads.
 *
 * For `filters`, the first matching prefix with enough room (or holding one of the names) is
 * used. `complete` is `false` when the pool has fewer free addresses than asked.
 *
 * @param client The client.
 * @param ref The pool.
 * @param options `count`, `skip`, `dnsName` …
 * @returns The pool, the existing and the free addresses.
 * @throws {InputError} When an option or the reference is invalid (nothing sent; exit code 2).
 * @throws {LookupError} When the pool does not exist (or a CIDR matches several).
 *
 * @example Three free addresses, with a scripted server standing in for NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { findFreeIps } from "./find_free.ts";
 * const prefix = { id: 7, prefix: "192.0.2.0/24", vrf: null, status: "active", is_pool: false };
 * const fetch = (input: string | URL | Request) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   if (url.pathname === "/api/ipam/prefixes/7/available-ips/") {
 *     return Promise.resolve(Response.json([2, 4, 5].map((h) => ({ family: 4, address: `192.0.2.${h}/24`, vrf: null }))));
 *   }
 *   const results = url.pathname === "/api/ipam/prefixes/" ? [prefix] : [];
 *   return Promise.resolve(Response.json({ count: results.length, next: null, results }));
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const found = await findFreeIps(client, { prefix: "192.0.2.0/24" }, { count: 3 });
 * assert(found.free.join() === "192.0.2.2/24,192.0.2.4/24,192.0.2.5/24");
 * assert(found.complete && found.pool.pool.label === "192.0.2.0/24");
 * client.close();
 * ```
 *
 * @example Bad input is refused before anything is sent
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { InputError } from "../client/errors.ts";
 * import { findFreeIps } from "./find_free.ts";
 * let sent = 0;
 * const fetch = () => (sent++, Promise.resolve(Response.json({})));
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * try {
 *   await findFreeIps(client, { prefix: "10.0.0.0/33" });
 *   assert(false);
 * } catch (err) {
 *   assert(err instanceof InputError && err.exitCode === 2);
 * }
 * assert(sent === 0);
 * client.close();
 * ```
 */
export async function findFreeIps(
  client: NetBoxClient,
  ref: PoolRef,
  options: FindFreeIpsOptions = {},
): Promise<FindFreeIpsResult> {
  const label = labeller(options.labels);
  ref = checkPoolRef(ref, label);
  const { count, skip } = checkCommon(options, label);
  const names = planDnsNames(options);
  const pools = await lookUpPools(client, ref, label);
  return await choosePool(client, ref, pools, names, count, skip, options.onWarning);
}

/**
 * Lists up to `count` free addresses in every prefix matching the filters (or in the one pool
 * another reference names). Only reads.
 *
 * @param client The client.
 * @param ref The pool(s), usually `{ filters }`.
 * @param options `count` per pool, `skip`, `onWarning`, `labels`.
 * @returns One entry per pool, in NetBox's order.
 * @throws {InputError} When an option or the reference is invalid (nothing sent).
 * @throws {LookupError} When no prefix matches.
 *
 * @example Two free addresses in each server prefix of a site
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { findFreeIpsInEachPool } from "./find_free.ts";
 * const prefixes = [
 *   { id: 1, prefix: "10.1.0.0/24", vrf: null, status: "active" },
 *   { id: 2, prefix: "10.2.0.0/24", vrf: null, status: "active" },
 * ];
 * const fetch = (input: string | URL | Request) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   const m = url.pathname.match(/^\/api\/ipam\/prefixes\/(\d)\/available-ips\/$/);
 *   if (m) return Promise.resolve(Response.json([1, 2].map((h) => ({ family: 4, address: `10.${m[1]}.0.${h}/24`, vrf: null }))));
 *   const results = url.pathname === "/api/ipam/prefixes/" ? prefixes : [];
 *   return Promise.resolve(Response.json({ count: results.length, next: null, results }));
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const each = await findFreeIpsInEachPool(client, { filters: { site: "matrix", role: "servers" } }, { count: 2 });
 * assert(each.map((p) => p.free.join(" ")).join(", ") === "10.1.0.1/24 10.1.0.2/24, 10.2.0.1/24 10.2.0.2/24");
 * client.close();
 * ```
 */
export async function findFreeIpsInEachPool(
  client: NetBoxClient,
  ref: PoolRef,
  options: Omit<FindFreeIpsOptions, "dnsName" | "numberFrom" | "dnsPattern"> = {},
): Promise<PoolFreeIps[]> {
  const label = labeller(options.labels);
  ref = checkPoolRef(ref, label);
  const { count, skip } = checkCommon(options, label);
  const pools = await lookUpPools(client, ref, label);
  const out: PoolFreeIps[] = [];
  for (const p of pools) {
    const free = await findFree(client, p.pool, count, skip, options.onWarning);
    out.push({
      pool: p,
      free: free.addresses,
      ...(free.total === undefined ? {} : { freeTotal: free.total }),
      complete: free.addresses.length >= count,
    });
  }
  return out;
}

/**
 * Reserves `count` addresses of a pool: creates them with status, DNS name, role, tags,
 * description and tenant through the pool's `available-ips` POST, which NetBox runs under its
 * allocation lock (safe against concurrent callers; all or none). With `skip` and a free address
 * among the skipped ones, that POST cannot be told to skip, so the addresses are created
 * explicitly in one bulk request (still all or none); when a concurrent caller took one of them
 * (NetBox's duplicate check: needs `ENFORCE_GLOBAL_UNIQUE` or the VRF's `enforce_unique`), the
 * next free addresses are tried, up to 3 times.
 *
 * With `dnsName`, addresses of the pool already holding the names are returned as `existing`
 * and only the others are created: calling it twice gives the same addresses (unless
 * `reuseExisting: false`). When every name exists nothing is written.
 *
 * @param client The client.
 * @param ref The pool.
 * @param options `count`, `dnsName`, `status`, `tags` …
 * @returns What was reused and what was created (or, with `dryRun`, would be).
 * @throws {InputError} When an option or the reference is invalid (nothing sent), a tag does not
 * exist (without `createTags`), or `status: "slaac"` is asked for IPv4.
 * @throws {PoolExhaustedError} When the pool has fewer free addresses than needed (nothing
 * created).
 * @throws {NetBoxHttpError} When NetBox refuses otherwise.
 *
 * @example Reserving two named addresses, then again: the same ones come back
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { reserveIps } from "./find_free.ts";
 * // A scripted NetBox with one empty prefix and an available-ips endpoint.
 * const ips: Record<string, unknown>[] = [];
 * const prefix = { id: 7, prefix: "192.0.2.0/24", vrf: null, status: "active", is_pool: false };
 * const fetch = (input: string | URL | Request, init?: RequestInit) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   const json = (body: unknown) => Promise.resolve(Response.json(body));
 *   if (url.pathname === "/api/status/") return json({ "netbox-version": "4.7.3" });
 *   if (url.pathname === "/api/ipam/prefixes/7/available-ips/") {
 *     const free = (n: number) => `192.0.2.${ips.length + n}/24`;
 *     if (init?.method !== "POST") return json([1, 2].map((n) => ({ family: 4, address: free(n), vrf: null })));
 *     const made = JSON.parse(String(init.body)).map((b: object, i: number) =>
 *       ({ id: ips.length + i + 1, url: "", address: free(i + 1), vrf: null, ...b }));
 *     ips.push(...made);
 *     return json(made);
 *   }
 *   const results = url.pathname === "/api/ipam/prefixes/"
 *     ? [prefix]
 *     : url.pathname === "/api/ipam/ip-addresses/"
 *     ? ips.filter((ip) => url.searchParams.getAll("dns_name").includes(String(ip.dns_name)))
 *     : [];
 *   return json({ count: results.length, next: null, results });
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const options = { count: 2, dnsName: "web-{n:02}.example.com", status: "reserved" };
 * const first = await reserveIps(client, { prefix: "192.0.2.0/24" }, options);
 * assert(first.reserved.map((ip) => ip.address).join() === "192.0.2.1/24,192.0.2.2/24");
 * const again = await reserveIps(client, { prefix: "192.0.2.0/24" }, options);
 * assert(again.reserved.length === 0 && again.existing.length === 2);
 * client.close();
 * ```
 */
export async function reserveIps(
  client: NetBoxClient,
  ref: PoolRef,
  options: ReserveIpsOptions = {},
): Promise<ReserveIpsResult> {
  const label = labeller(options.labels);
  ref = checkPoolRef(ref, label);
  const { count, skip } = checkCommon(options, label);
  const status = options.status ?? "active";
  if (!IP_STATUSES.includes(status)) {
    throw new InputError(
      `Cannot use ${label("status")} "${status}": expected one of ${IP_STATUSES.join(", ")}`,
    );
  }
  if (options.role !== undefined && !IP_ROLES.includes(options.role)) {
    throw new InputError(
      `Cannot use ${label("role")} "${options.role}": expected one of ${IP_ROLES.join(", ")}`,
    );
  }
  const names = planDnsNames(options);
  const pools = await lookUpPools(client, ref, label);
  if (status === "slaac" && pools.some((p) => p.pool.family !== 6)) {
    throw new InputError(`Cannot use ${label("status")} slaac for IPv4 addresses`);
  }
  const reuse = options.reuseExisting ?? true;
  const found = await choosePool(
    client,
    ref,
    pools,
    reuse ? names : undefined,
    count,
    skip,
    options.onWarning,
  );
  const chosen = found.pool;
  const pool = chosen.pool;
  const result: ReserveIpsResult = {
    pool: chosen,
    matched: found.matched,
    requested: count,
    existing: found.existing,
    reserved: [],
    planned: [],
    dryRun: !!options.dryRun,
    missingTags: [],
  };
  const need = count - found.existing.length;
  if (need === 0) return result;
  if (found.free.length < need) {
    const total = found.freeTotal ?? spanSize(await computeSpans(client, pool, skip));
    throw new PoolExhaustedError(pool.label, need, total);
  }
  if (!options.dryRun) await options.beforeWrite?.();
  const tagRefs = options.tags ?? [];
  const { tags, missing } = await resolveTags(client, tagRefs, {
    create: options.createTags,
    dryRun: options.dryRun,
  });
  if (missing.length && !options.createTags) {
    throw new InputError(
      `Cannot use ${label("tags")} ${missing.join(", ")}: no such tag in NetBox (add ${
        label("createTags")
      } to create it)`,
    );
  }
  result.missingTags = missing;
  const tenant = options.tenant !== undefined && options.tenant !== ""
    ? await resolveTenant(client, String(options.tenant))
    : undefined;
  const existingNames = new Set(found.existing.map((ip) => String(ip.dns_name).toLowerCase()));
  const newNames = names?.filter((n) => !existingNames.has(n));
  const bodies = Array.from({ length: need }, (_, i) => {
    const body: NewIpFields = { status };
    if (newNames) body.dns_name = newNames[i];
    if (options.role) body.role = options.role;
    if (options.description !== undefined) body.description = options.description;
    if (tenant) body.tenant = tenant.id;
    if (tags.length) body.tags = tags.map((t) => t.id);
    return body;
  });
  if (options.dryRun) {
    result.planned = found.free.map((address, i) => ({ ...bodies[i], address }));
    return result;
  }
  if (options.stop?.aborted) {
    throw new NotSentError(
      `Cannot reserve ${need} addresses in ${pool.label}: stopped before it was sent`,
    );
  }
  try {
    result.reserved = await allocate(client, pool, skip, bodies, options);
  } catch (err) {
    if (err instanceof AllocationError || (err instanceof NetBoxHttpError && err.status === 409)) {
      const total = spanSize(await computeSpans(client, pool, skip));
      throw new PoolExhaustedError(pool.label, need, total, err);
    }
    throw err;
  }
  return result;
}

// --- validation -------------------------------------------------------------------------------

type Label = (option: LabelledOption) => string;

function labeller(labels: OptionLabels = {}): Label {
  return (option) => labels[option] ?? option;
}

const POOL_KEYS = ["prefix", "prefixId", "range", "rangeId", "filters"] as const;

/** The reference, checked (exactly one kind of pool, well-formed) and stripped to that kind. */
function checkPoolRef(ref: PoolRef, label: Label): PoolRef {
  const fields = ref as Record<string, unknown>;
  const given = POOL_KEYS.filter((k) => fields[k] !== undefined);
  if (given.length !== 1) {
    throw new InputError(
      `Cannot choose a pool: give exactly one of ${POOL_KEYS.map((k) => label(k)).join(", ")}`,
    );
  }
  const [kind] = given;
  if (kind === "prefixId" || kind === "rangeId") {
    if (fields.vrf !== undefined) {
      throw new InputError(`Cannot use ${label("vrf")} with ${label(kind)}: the id names the VRF`);
    }
    checkInteger(fields[kind], kind, 1, label);
  } else if (kind === "prefix" || kind === "range") {
    try {
      if (typeof fields[kind] !== "string") throw new Error(`expected text, got ${fields[kind]}`);
      if (kind === "prefix") parseCidr(fields[kind] as string);
      else parseSpan(fields[kind] as string);
    } catch (err) {
      throw new InputError(`Cannot use ${label(kind)}: ${(err as Error).message}`);
    }
  } else if (typeof fields.filters !== "object" || fields.filters === null) {
    throw new InputError(`Cannot use ${label("filters")}: expected an object of filters`);
  }
  const vrf = fields.vrf === undefined ? {} : { vrf: fields.vrf };
  return { [kind]: fields[kind], ...vrf } as PoolRef;
}

function checkInteger(value: unknown, option: LabelledOption, min: number, label: Label): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new InputError(
      `Cannot use ${label(option)}: expected an integer >= ${min}, got ${String(value)}`,
    );
  }
  return value;
}

/** Count and skip (and the number a template starts from): what every call checks. */
function checkCommon(options: FindFreeIpsOptions, label: Label): { count: number; skip: number } {
  const count = checkInteger(options.count ?? 1, "count", 1, label);
  const skip = checkInteger(options.skip ?? 0, "skip", 0, label);
  checkInteger(options.numberFrom ?? 1, "numberFrom", 0, label);
  return { count, skip };
}

function compilePattern(pattern: RegExp | string | undefined, label: Label): RegExp | undefined {
  if (pattern === undefined || pattern instanceof RegExp) return pattern;
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new InputError(`Cannot use ${label("dnsPattern")}: ${(err as Error).message}`);
  }
}

// --- pools ------------------------------------------------------------------------------------

function resolved(pool: IpPool, object: Prefix | IPRange): ResolvedPool {
  return { pool, vrfName: object.vrf?.name ?? null, object };
}

/** `site=matrix role=servers`: filters as a person typed them. */
function describeFilters(filters: Filters): string {
  const text = (v: FilterValue) => v instanceof Date ? v.toISOString() : String(v);
  return Object.entries(filters).filter(([, v]) => v !== undefined).flatMap(([k, v]) =>
    Array.isArray(v) ? v.map((one) => `${k}=${text(one)}`) : [`${k}=${text(v as FilterValue)}`]
  ).join(" ");
}

async function lookUpPools(
  client: NetBoxClient,
  ref: PoolRef,
  label: Label,
): Promise<ResolvedPool[]> {
  if ("prefixId" in ref) {
    const p = await client.ipam.prefixes.get(ref.prefixId);
    return [resolved(prefixPool(p), p)];
  }
  if ("rangeId" in ref) {
    const r = await client.ipam.ipRanges.get(ref.rangeId);
    return [resolved(rangePool(r), r)];
  }
  const vrf = ref.vrf === undefined || ref.vrf === null
    ? undefined
    : await resolveVrf(client, String(ref.vrf));
  const vrfFilter = vrf ? vrf.id : null;
  const where = vrf ? `VRF ${vrf.name}` : "the global table";
  if ("prefix" in ref) {
    const cidr = formatCidr(parseCidr(ref.prefix), { network: true });
    const hits = await client.ipam.prefixes.all({ prefix: cidr, vrf_id: vrfFilter });
    if (hits.length === 0) {
      throw new LookupError(`Cannot find prefix ${cidr} in ${where}`, []);
    }
    if (hits.length > 1) {
      throw new LookupError(
        `Cannot choose prefix ${cidr} in ${where}: ${hits.length} prefixes match: ${
          hits.map(describeObject).join(", ")
        }; use ${label("prefixId")}`,
        hits,
      );
    }
    return [resolved(prefixPool(hits[0]), hits[0])];
  }
  if ("range" in ref) {
    const span = parseSpan(ref.range);
    const start = formatIp({ family: span.family, value: span.start });
    const hits = (await client.ipam.ipRanges.all({ start_address: start, vrf_id: vrfFilter }))
      .filter((r) => hostOf(String(r.end_address)).value === span.end);
    if (hits.length !== 1) {
      throw new LookupError(
        hits.length === 0
          ? `Cannot find IP range ${ref.range} in ${where}`
          : `Cannot choose IP range ${ref.range} in ${where}: ${hits.length} match; use ${
            label("rangeId")
          }`,
        hits,
      );
    }
    return [resolved(rangePool(hits[0]), hits[0])];
  }
  const filters: Filters = { ...ref.filters };
  if (vrf) filters.vrf_id = vrf.id;
  else if (ref.vrf === null) filters.vrf_id = null;
  const hits = await client.ipam.prefixes.all(filters);
  if (hits.length === 0) {
    throw new LookupError(`Cannot find a prefix matching ${describeFilters(ref.filters)}`, []);
  }
  return hits.map((p) => resolved(prefixPool(p), p));
}

/**
 * Picks the pool (the first with enough room, or holding one of the names) and lists its
 * existing and free addresses.
 */
async function choosePool(
  client: NetBoxClient,
  ref: PoolRef,
  pools: ResolvedPool[],
  names: string[] | undefined,
  count: number,
  skip: number,
  onWarning: ((message: string) => void) | undefined,
): Promise<FindFreeIpsResult> {
  let chosen: ResolvedPool | undefined;
  let existing = new Map<string, IPAddress>();
  let free: FreeResult = { addresses: [] };
  for (const candidate of pools) {
    const found = names
      ? await existingByName(client, candidate.pool, names)
      : new Map<string, IPAddress>();
    const need = count - found.size;
    const result = await findFree(client, candidate.pool, need, skip, onWarning);
    const fits = result.addresses.length >= need;
    if (!chosen || fits || found.size > 0) {
      chosen = candidate;
      existing = found;
      free = result;
    }
    if (fits || found.size > 0 || pools.length === 1) break;
  }
  if (!chosen) throw new NetBoxError("Cannot choose a pool: none found");
  const need = count - existing.size;
  if (pools.length > 1 && free.addresses.length < need && "filters" in ref) {
    onWarning?.(`no prefix matching ${describeFilters(ref.filters)} has ${need} free addresses`);
  }
  return {
    pool: chosen,
    matched: pools.length,
    requested: count,
    existing: [...existing.values()],
    free: free.addresses,
    ...(free.total === undefined ? {} : { freeTotal: free.total }),
    complete: free.addresses.length >= need,
  };
}

/** Existing addresses of the pool carrying the requested names, by name. */
async function existingByName(
  client: NetBoxClient,
  pool: IpPool,
  names: string[],
): Promise<Map<string, IPAddress>> {
  const found = new Map<string, IPAddress>();
  const hits = await client.ipam.ipAddresses.all({ dns_name: names });
  hits.sort((a, b) => a.id - b.id);
  for (const ip of hits) {
    const name = String(ip.dns_name ?? "").toLowerCase();
    if (names.includes(name) && !found.has(name) && occupies(pool, ip)) found.set(name, ip);
  }
  return found;
}

// --- free addresses ---------------------------------------------------------------------------

/** Free addresses of a pool: the server's own list first, our computation beyond its cap. */
interface FreeResult {
  addresses: string[];
  /** Total free after `skip`, when computed locally. */
  total?: bigint;
}

function addressText(pool: IpPool, value: bigint): string {
  return `${formatIp({ family: pool.family, value })}/${pool.maskLength}`;
}

function poolCidr(pool: IpPool): string {
  return pool.kind === "prefix"
    ? pool.label
    : formatCidr(coveringNetwork(pool.bounds), { network: true });
}

/** The free spans of a pool, computed from its child IPs and populated ranges. */
async function computeSpans(client: NetBoxClient, pool: IpPool, skip: number): Promise<IpSpan[]> {
  const parent = poolCidr(pool);
  const vrfFilter: Filters = pool.anyVrf ? {} : { vrf_id: pool.vrfId };
  const occupied: bigint[] = [];
  for await (
    const ip of client.ipam.ipAddresses.list(
      { parent, ...vrfFilter },
      { fields: ["id", "address", "vrf"] },
    )
  ) {
    if (occupies(pool, ip)) occupied.push(hostOf(ip.address).value);
  }
  const ranges = pool.kind === "prefix"
    ? await client.ipam.ipRanges.all({ parent, vrf_id: pool.vrfId })
    : [];
  const populated = populatedSpans(pool, ranges);
  return freeSpans(skipLeading(pool.usable, skip), occupied, populated);
}

function availableIps(client: NetBoxClient, pool: IpPool) {
  return pool.kind === "prefix"
    ? client.ipam.prefixes.availableIps(pool.id)
    : client.ipam.ipRanges.availableIps(pool.id);
}

/**
 * Lists `count` free addresses of a pool after leaving out its first `skip` usable addresses.
 * The server's list is used as far as it goes (it is the authority, and fast for huge IPv6
 * prefixes); beyond its cap the rest is computed from the pool's child IPs.
 */
async function findFree(
  client: NetBoxClient,
  pool: IpPool,
  count: number,
  skip: number,
  onWarning: ((message: string) => void) | undefined,
): Promise<FreeResult> {
  if (count === 0) return { addresses: [] };
  const skipBelow = pool.usable.start + BigInt(skip);
  const listed = await availableIps(client, pool).list({ limit: count + skip });
  const mine = listed.filter((a) => hostOf(a.address).value >= skipBelow);
  if (mine.length >= count) return { addresses: mine.slice(0, count).map((a) => a.address) };
  // Fewer than asked: the pool is full, or the server capped its answer (MAX_PAGE_SIZE).
  const spans = await computeSpans(client, pool, skip);
  const total = spanSize(spans);
  const computed = iterateFree(spans).take(count).map((ip) => addressText(pool, ip.value))
    .toArray();
  const head = mine.map((a) => a.address);
  const agree = head.every((a, i) => computed[i] === a);
  if (!agree) {
    onWarning?.(
      `the free addresses computed for ${pool.label} differ from NetBox's own list (object ` +
        `permissions hiding some IP addresses?); using NetBox's list where it reaches`,
    );
    const last = head.length ? hostOf(head[head.length - 1]).value : undefined;
    const rest = iterateFree(spans, { after: last }).take(count - head.length)
      .map((ip) => addressText(pool, ip.value)).toArray();
    return { addresses: [...head, ...rest], total };
  }
  return { addresses: computed, total };
}

// --- reserving --------------------------------------------------------------------------------

const MAX_ATTEMPTS = 3;

/**
 * Sends one reservation so that it happens exactly once. When NetBox's answer is lost (it may
 * have created the addresses, or may still create them: a write NetBox did not answer in time can
 * land seconds later), the addresses carrying `marker` are looked up until they are all there or
 * the client's settle window has passed (`settle`) — all there: they are the answer; none for the
 * whole window: nothing was reserved, the request is sent again (at most twice more); some:
 * `OutcomeUnknownError`. Should a late earlier request still land after all (more addresses carry
 * the marker than were asked for), exactly those extra addresses — this run's marker, ids outside
 * the answer kept — are deleted again, and `onWarning` says so. NetBox unreadable:
 * `OutcomeUnknownError`.
 */
async function exactlyOnce(
  client: NetBoxClient,
  pool: IpPool,
  marker: string,
  count: number,
  send: () => Promise<IPAddress[]>,
  onWarning: ((message: string) => void) | undefined,
): Promise<IPAddress[]> {
  const since = new Date();
  const lookFor = `look for addresses whose comments say "${marker}"`;
  for (let attempt = 1;; attempt++) {
    let kept: IPAddress[];
    try {
      kept = await send();
    } catch (err) {
      if (!mayHaveActed(err)) throw err;
      let found: IPAddress[];
      let waitedMs: number;
      try {
        const r = await settle(
          client,
          () => marked(client, pool, marker, since),
          (ips) => ips.length >= count,
        );
        found = r.value;
        waitedMs = r.waitedMs;
      } catch (readErr) {
        throw new OutcomeUnknownError(
          `Cannot tell whether ${count} addresses were reserved in ${pool.label}: NetBox's ` +
            `answer was lost (${(err as Error).message}) and reading back failed ` +
            `(${(readErr as Error).message}); ${lookFor}`,
          { cause: err },
        );
      }
      if (found.length === 0) {
        // Not there for the whole window: nothing was reserved; send again.
        if (attempt < MAX_ATTEMPTS) continue;
        throw new OutcomeUnknownError(
          `Cannot tell whether ${count} addresses were reserved in ${pool.label}: NetBox did ` +
            `not answer ${attempt} times (${(err as Error).message}) and none of them was there ` +
            `after reading back for ${seconds(waitedMs)}; a request may still land: ${lookFor}`,
          { cause: err },
        );
      }
      if (found.length < count) {
        throw new OutcomeUnknownError(
          `Cannot tell whether the reservation in ${pool.label} is complete: NetBox's answer was ` +
            `lost and ${found.length} of ${count} addresses carry its marker after reading back ` +
            `for ${seconds(waitedMs)} (ids ${found.map((ip) => ip.id).join(", ")})`,
          { cause: err },
        );
      }
      kept = found.slice(0, count);
    }
    if (attempt > 1) await removeExtras(client, pool, marker, since, kept, onWarning);
    return kept;
  }
}

/**
 * After a reservation was sent more than once: the addresses carrying its marker that are not
 * the ones kept were made by an earlier request that landed late; they are deleted again (this
 * run made them: its marker, their ids), and `onWarning` names them.
 */
async function removeExtras(
  client: NetBoxClient,
  pool: IpPool,
  marker: string,
  since: Date,
  kept: IPAddress[],
  onWarning: ((message: string) => void) | undefined,
): Promise<void> {
  const keep = new Set(kept.map((ip) => ip.id));
  const extra = (await marked(client, pool, marker, since)).filter((ip) => !keep.has(ip.id));
  if (!extra.length) return;
  await client.ipam.ipAddresses.delete(extra.map((ip) => ip.id));
  onWarning?.(
    `an earlier request of this reservation in ${pool.label} landed late and made ` +
      `${extra.length} more address${extra.length === 1 ? "" : "es"} (${
        extra.map((ip) => `${ip.address} id ${ip.id}`).join(", ")
      }); deleted them again, the reservation holds ${kept.length}`,
  );
}

/** The addresses of the pool that carry a reservation's marker. */
async function marked(
  client: NetBoxClient,
  pool: IpPool,
  marker: string,
  since: Date,
): Promise<IPAddress[]> {
  const inPool = await client.ipam.ipAddresses.all({
    parent: formatCidr(coveringNetwork(pool.usable), { network: true }),
    vrf_id: pool.vrfId,
    // Generous against clock skew: the marker, not the time, decides.
    created__gte: new Date(since.getTime() - 3_600_000).toISOString(),
  });
  return inPool.filter((ip) =>
    ip.comments === marker && contains(pool.usable, hostOf(String(ip.address)))
  ).sort((a, b) => a.id - b.id);
}

/**
 * Creates the addresses: through the locked available-ips POST when nothing free is skipped,
 * else explicitly in one bulk request, retried when a concurrent run took an address.
 */
async function allocate(
  client: NetBoxClient,
  pool: IpPool,
  skip: number,
  bodies: NewIpFields[],
  options: ReserveIpsOptions,
): Promise<IPAddress[]> {
  const skipBelow = pool.usable.start + BigInt(skip);
  const helper = availableIps(client, pool);
  // A marker on what this reservation creates: if NetBox's answer is lost, it finds them again.
  const marker = options.marker ?? `netbox-toolkit reservation ${crypto.randomUUID()}`;
  bodies = bodies.map((b) => ({ ...b, comments: marker }));
  const once = (send: () => Promise<IPAddress[]>) =>
    exactlyOnce(client, pool, marker, bodies.length, send, options.onWarning);
  const first = skip === 0 ? undefined : await firstFree(client, pool);
  if (first === undefined || first >= skipBelow) {
    const created = await once(() => helper.create(bodies as unknown as Record<string, unknown>[]));
    const inSkipped = created.filter((ip) => hostOf(String(ip.address)).value < skipBelow);
    if (inSkipped.length === 0) return created;
    // An address among the skipped ones was freed meanwhile: give these back, go explicit.
    await client.ipam.ipAddresses.delete(created.map((ip) => ip.id));
  }
  for (let attempt = 1;; attempt++) {
    const free = await findFree(client, pool, bodies.length, skip, options.onWarning);
    if (free.addresses.length < bodies.length) {
      throw new AllocationError(
        `Cannot reserve ${bodies.length} addresses in ${pool.label}: insufficient resources`,
        { status: 409, method: "POST", path: "ipam/ip-addresses/", body: null, messages: {} },
      );
    }
    const explicit = bodies.map((b, i) => ({ ...b, address: free.addresses[i], vrf: pool.vrfId }));
    try {
      return await once(() =>
        client.request<IPAddress[]>("POST", "ipam/ip-addresses/", {
          body: explicit,
          action: `reserve ${bodies.length} addresses in ${pool.label}`,
        })
      );
    } catch (err) {
      const duplicate = err instanceof NetBoxHttpError && err.status === 400 &&
        /duplicate/i.test(JSON.stringify(err.body));
      if (!duplicate || attempt >= MAX_ATTEMPTS) throw err;
      options.onRetry?.(attempt, MAX_ATTEMPTS);
    }
  }
}

async function firstFree(client: NetBoxClient, pool: IpPool): Promise<bigint | undefined> {
  const [first] = await availableIps(client, pool).list({ limit: 1 });
  return first ? hostOf(first.address).value : undefined;
}
