/**
 * Allocation out of NetBox's pools: the next free prefixes of a parent prefix
 * ({@linkcode allocatePrefixes}), VLANs of a VLAN group ({@linkcode allocateVlans}) and ASNs of
 * an ASN range ({@linkcode allocateAsns}), each through the pool's `available-*` POST, which
 * NetBox runs under its own advisory lock — concurrent callers never get the same object.
 *
 * - **By key**: with `key`, every allocated object carries a marker in its `comments`
 *   (`netbox-toolkit allocation key=<key> run=<uuid>`); a later call with the same key returns
 *   the objects that hold it instead of allocating again, and only tops up what is missing.
 * - **By policy**: when several pools match (`filters`), they are tried in the policy's order —
 *   `first` (NetBox's), `least-used` (spread) or `most-used` (pack) — skipping pools that are
 *   full, would go above `headroom` percent, or are forecast full within `minDaysLeft` days
 *   (the change-log fit of audit-ips' forecast); NetBox's own 409 also moves on to the next pool.
 *   The result says where the objects came from and why the other pools were skipped.
 * - **Lost answers**: when NetBox's answer to the write is lost, the run's marker is read back
 *   until the objects show up or the client's settle window has passed; all there: confirmed;
 *   otherwise {@linkcode OutcomeUnknownError} — never a second write for the same objects.
 *
 * @module
 */

import { createAvailable } from "../client/available.ts";
import {
  AllocationError,
  InputError,
  mayHaveActed,
  NetBoxHttpError,
  NotSentError,
  OutcomeUnknownError,
} from "../client/errors.ts";
import { settle } from "../client/settle.ts";
import type { Filters, NetBoxClient, NetBoxObject } from "../client/types.ts";
import {
  ASN_POOLS,
  type Capacity,
  filteredPools,
  namedPool,
  parentNet,
  type Pool,
  type PoolKind,
  PREFIX_POOLS,
  VLAN_POOLS,
} from "./_allocate_pools.ts";
import { type ChangeLogCreate, changeLogCreates, fitRate } from "./exhaustion.ts";
import { expandNameTemplate, isNameTemplate } from "./dns_name.ts";
import { resolvePools, type VrfRef } from "./find_free.ts";
import { findOne, LookupError, resolveTags, resolveTenant } from "./lookup.ts";

/**
 * The order pools are tried in when several match: `first` (NetBox's order), `least-used`
 * (lowest utilization first: spreads), `most-used` (highest first: packs).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { ALLOCATION_POLICIES } from "./allocate.ts";
 * assert(ALLOCATION_POLICIES.join() === "first,least-used,most-used");
 * ```
 */
export const ALLOCATION_POLICIES = ["first", "least-used", "most-used"] as const;

/**
 * One of {@linkcode ALLOCATION_POLICIES}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { AllocationPolicy } from "./allocate.ts";
 * const policy: AllocationPolicy = "least-used";
 * assert(policy === "least-used");
 * ```
 */
export type AllocationPolicy = typeof ALLOCATION_POLICIES[number];

/**
 * Options every allocation takes.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { AllocateOptions } from "./allocate.ts";
 * const options: AllocateOptions = { count: 2, key: "dc3-p2p", policy: "most-used", headroom: 90 };
 * assert(options.key === "dc3-p2p");
 * ```
 */
export interface AllocateOptions {
  /** How many objects the key (or this call) holds in the end. @default {1} */
  count?: number;
  /**
   * Makes the call idempotent: objects already carrying the key are returned, and only the
   * missing ones allocated. Letters, digits and `._:/@-`, at most 100.
   */
  key?: string;
  /** The order matching pools are tried in. @default {"first"} */
  policy?: AllocationPolicy;
  /** Skip pools whose utilization would go above this percentage (0 < PCT ≤ 100). */
  headroom?: number;
  /**
   * Skip pools forecast full in fewer than this many days: the rate is fitted by least squares
   * to the objects created inside the pool in the last 90 days of NetBox's change log (the fit
   * audit-ips forecasts prefixes with); the days left are the free room now over that rate. A
   * pool with no rate (fewer than two creates) is not skipped.
   */
  minDaysLeft?: number;
  /** Status of the new objects (NetBox's value, e.g. `active`, `reserved`). */
  status?: string;
  /** Role (prefixes, VLANs) by slug, name or id. */
  role?: string | number;
  /** Tenant by slug, name or id. */
  tenant?: string | number;
  /** Site by slug, name or id: a prefix's scope, a VLAN's site (not for ASNs). */
  site?: string | number;
  /** Description. */
  description?: string;
  /** Tags by name or slug; they must exist. */
  tags?: string[];
  /** More fields as NetBox writes them (e.g. `{ scope_type: "dcim.site", scope_id: 3 }`). */
  fields?: Record<string, unknown>;
  /** Compute what would be allocated; write nothing. @default {false} */
  dryRun?: boolean;
  /** Called once before the first write (not with `dryRun`), e.g. a permission check. */
  beforeWrite?: () => Promise<void> | void;
  /** Once it fires, nothing more is sent (`NotSentError`); a request in flight finishes. */
  stop?: AbortSignal;
  /** Called with warnings (a key holding more objects than asked, a late write removed …). */
  onWarning?: (message: string) => void;
  /** How messages name the options, e.g. `{ count: "--count" }`. */
  labels?: Record<string, string>;
}

/**
 * A parent prefix by CIDR (+ VRF; default the global table), by id, or the prefixes matching
 * list filters (e.g. `{ role: "p2p", site: "dc3" }`).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { PrefixPoolRef } from "./allocate.ts";
 * const refs: PrefixPoolRef[] = [{ parent: "10.0.0.0/16" }, { parentId: 7 }, { filters: { role: "p2p" } }];
 * assert(refs.length === 3);
 * ```
 */
export type PrefixPoolRef =
  | { parent: string; vrf?: VrfRef }
  | { parentId: number }
  | { filters: Filters; vrf?: VrfRef };

/**
 * Options of {@linkcode allocatePrefixes}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { AllocatePrefixesOptions } from "./allocate.ts";
 * const options: AllocatePrefixesOptions = { length: 31, count: 4, key: "dc3-links" };
 * assert(options.length === 31);
 * ```
 */
export interface AllocatePrefixesOptions extends AllocateOptions {
  /** The new prefixes' length, e.g. 30. */
  length: number;
}

/**
 * Options of {@linkcode allocateVlans}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { AllocateVlansOptions } from "./allocate.ts";
 * const options: AllocateVlansOptions = { name: "srv-{n:02}", count: 2 };
 * assert(options.name === "srv-{n:02}");
 * ```
 */
export interface AllocateVlansOptions extends AllocateOptions {
  /** The name; for `count > 1` a template such as `srv-{n:02}` (NetBox needs one per group). */
  name: string;
  /** The number the first name of a `{n}` template gets. @default {1} */
  numberFrom?: number;
}

/**
 * A VLAN group or ASN range by id, name or slug, or the ones matching list filters.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { NamedPoolRef } from "./allocate.ts";
 * const refs: NamedPoolRef[] = [{ pool: "dc3-servers" }, { pool: 4 }, { filters: { rir: "ripe" } }];
 * assert(refs.length === 3);
 * ```
 */
export type NamedPoolRef = { pool: string | number } | { filters: Filters };

/**
 * A pool that was not used, and why.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { SkippedPool } from "./allocate.ts";
 * const s: SkippedPool = { pool: "10.0.0.0/24", id: 7, reason: "full: 0 of 2 fit" };
 * assert(s.reason.startsWith("full"));
 * ```
 */
export interface SkippedPool {
  /** The pool's label. */
  pool: string;
  /** Its id. */
  id: number;
  /** Why: `full: …`, `headroom: …`, `forecast: 12.5 days left (< 30)`, `NetBox: …`. */
  reason: string;
}

/**
 * What an allocation returns.
 *
 * @example The objects a key holds in the end
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import type { AllocationResult } from "./allocate.ts";
 * const held = (r: AllocationResult) => [...r.existing, ...r.allocated].map((o) => o.id);
 * assert(held({ existing: [{ id: 1 }], allocated: [{ id: 2 }] } as AllocationResult).join() === "1,2");
 * ```
 */
export interface AllocationResult<T extends NetBoxObject = NetBoxObject> {
  /** `prefix`, `VLAN` or `ASN`. */
  kind: string;
  /** The key, if any. */
  key?: string;
  /** The `count` asked for. */
  requested: number;
  /** Objects that already held the key: returned, not allocated. */
  existing: T[];
  /** Objects allocated by this call (empty with `dryRun`). */
  allocated: T[];
  /** With `dryRun`: the values NetBox would hand out now (`10.0.0.4/31`, `101`, `64512`). */
  planned: string[];
  /**
   * The pool the new objects came from (none when nothing was needed). `utilization` (percent
   * used before) is known when the pools were measured: several pools, a dry run, a policy other
   * than `first`, `headroom` or `minDaysLeft`; one pool alone gets NetBox's POST alone.
   */
  pool?: { id: number; label: string; utilization?: number };
  /** How many pools matched. */
  matched: number;
  /** Pools tried and not used, with the reason. */
  skipped: SkippedPool[];
  /** Whether this was a dry run. */
  dryRun: boolean;
}

/**
 * No matching pool could satisfy the allocation: each was full, over its headroom, or NetBox
 * answered 409. Nothing was created. Exit code 3.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { PoolsExhaustedError } from "./allocate.ts";
 * const err = new PoolsExhaustedError("VLAN", 2, [{ pool: "g1", id: 1, reason: "full: 0 of 2 fit" }]);
 * assert(err.exitCode === 3 && err.message.includes("g1 (full: 0 of 2 fit)"));
 * ```
 */
export class PoolsExhaustedError extends AllocationError {
  /** The pools and why each was skipped. */
  readonly skipped: SkippedPool[];
  /**
   * Creates the error.
   *
   * @param noun `prefix`, `VLAN` or `ASN`.
   * @param need How many were to be allocated.
   * @param skipped The pools and why each was skipped.
   */
  constructor(noun: string, need: number, skipped: SkippedPool[]) {
    super(
      `Cannot allocate ${need} ${
        need === 1 ? noun : noun === "prefix" ? "prefixes" : `${noun}s`
      }: no pool has room: ${skipped.map((s) => `${s.pool} (${s.reason})`).join(", ")}`,
      { status: 409, method: "POST", path: "-", body: null, messages: {} },
    );
    this.skipped = skipped;
  }
}

const MARKER = "netbox-toolkit allocation";
const KEY_RE = /^[A-Za-z0-9._:/@-]{1,100}$/;

/**
 * The marker an allocation's objects carry in `comments`: the key (if any) and the run.
 *
 * @param key The key, if any.
 * @param run The run's id.
 * @returns The marker text.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { allocationMarker } from "./allocate.ts";
 * assert(allocationMarker("dc3", "r1") === "netbox-toolkit allocation key=dc3 run=r1");
 * assert(allocationMarker(undefined, "r1") === "netbox-toolkit allocation run=r1");
 * ```
 */
export function allocationMarker(key: string | undefined, run: string): string {
  return key === undefined ? `${MARKER} run=${run}` : `${MARKER} key=${key} run=${run}`;
}

/** Whether `comments` carries the key. */
function holdsKey(comments: unknown, key: string): boolean {
  return typeof comments === "string" && comments.startsWith(`${MARKER} key=${key} run=`);
}

// --- validation -------------------------------------------------------------------------------

interface Checked {
  count: number;
  policy: AllocationPolicy;
  headroom?: number;
  minDaysLeft?: number;
  label: (option: string) => string;
}

function check(options: AllocateOptions): Checked {
  const label = (o: string) => options.labels?.[o] ?? o;
  const count = options.count ?? 1;
  if (!Number.isInteger(count) || count < 1) {
    throw new InputError(`Cannot use ${label("count")}: expected an integer >= 1, got ${count}`);
  }
  if (options.key !== undefined && !KEY_RE.test(options.key)) {
    throw new InputError(
      `Cannot use ${label("key")} "${options.key}": expected 1 to 100 letters, digits or ._:/@-`,
    );
  }
  const policy = options.policy ?? "first";
  if (!ALLOCATION_POLICIES.includes(policy)) {
    throw new InputError(
      `Cannot use ${label("policy")} "${policy}": expected one of ${
        ALLOCATION_POLICIES.join(", ")
      }`,
    );
  }
  const h = options.headroom;
  if (h !== undefined && (!Number.isFinite(h) || h <= 0 || h > 100)) {
    throw new InputError(
      `Cannot use ${label("headroom")}: expected a percentage in (0, 100], got ${h}`,
    );
  }
  const d = options.minDaysLeft;
  if (d !== undefined && (!Number.isFinite(d) || d <= 0)) {
    throw new InputError(
      `Cannot use ${label("minDaysLeft")}: expected a number of days > 0, got ${d}`,
    );
  }
  return { count, policy, headroom: h, minDaysLeft: d, label };
}

/** The shared fields of the new objects, references resolved (reads only). */
async function commonFields(
  client: NetBoxClient,
  options: AllocateOptions,
  label: (o: string) => string,
  siteFields: (id: number) => Record<string, unknown> = (id) => ({ site: id }),
): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = { ...options.fields };
  if (options.status !== undefined) body.status = options.status;
  if (options.description !== undefined) body.description = options.description;
  try {
    if (options.tenant !== undefined && options.tenant !== "") {
      body.tenant = (await resolveTenant(client, String(options.tenant))).id;
    }
    if (options.site !== undefined && options.site !== "") {
      const site = await findOne(client.endpoint("dcim/sites/"), String(options.site), [
        "slug",
        "name",
      ], "site");
      Object.assign(body, siteFields(site.id));
    }
    if (options.role !== undefined && options.role !== "") {
      body.role = (await findOne(client.endpoint("ipam/roles/"), String(options.role), [
        "slug",
        "name",
      ], "role")).id;
    }
  } catch (err) {
    if (err instanceof LookupError) throw new InputError(err.message);
    throw err;
  }
  if (options.tags?.length) {
    const { tags, missing } = await resolveTags(client, options.tags, { dryRun: true });
    if (missing.length) {
      throw new InputError(
        `Cannot use ${label("tags")} ${missing.join(", ")}: no such tag in NetBox`,
      );
    }
    body.tags = tags.map((t) => t.id);
  }
  return body;
}

// --- the engine -------------------------------------------------------------------------------

interface Job {
  kind: PoolKind;
  pools: Pool[];
  /** Per pool: a reason it cannot be used at all (e.g. the length does not fit), or nothing. */
  unfit?: (pool: Pool) => string | undefined;
  /** The bodies of `need` new objects, marker set by the engine. */
  bodies: (need: number) => Record<string, unknown>[];
  length?: number;
}

async function run<T extends NetBoxObject>(
  client: NetBoxClient,
  job: Job,
  options: AllocateOptions,
  checked: Checked,
): Promise<AllocationResult<T>> {
  const { kind, pools } = job;
  const { count, key } = { count: checked.count, key: options.key };
  const result: AllocationResult<T> = {
    kind: kind.noun,
    ...(key === undefined ? {} : { key }),
    requested: count,
    existing: [],
    allocated: [],
    planned: [],
    matched: pools.length,
    skipped: [],
    dryRun: !!options.dryRun,
  };
  if (key !== undefined) {
    result.existing = (await held<T>(client, kind, pools, key)).slice(0, count);
    const all = result.existing.length;
    if (all >= count) return result;
  }
  const need = count - result.existing.length;
  // One pool and nothing to weigh: NetBox's locked POST alone (a refusal is measured afterwards,
  // for the reason), so an allocation costs no more requests than the POST itself — measuring a
  // parent prefix first (its available-prefixes) costs about as much as the POST. Several pools
  // are measured first: the ones without room are skipped without a write.
  const direct = pools.length === 1 && !options.dryRun && checked.policy === "first" &&
    checked.headroom === undefined && checked.minDaysLeft === undefined;
  const ordered = direct
    ? fitting(job, result.skipped)
    : await order(client, job, need, checked, result.skipped);
  const bodyTemplate = job.bodies(need);
  let wrote = false;
  for (const { pool, utilization } of ordered) {
    if (options.dryRun) {
      result.planned = await kind.preview(client, pool, need, job.length);
      result.pool = { id: pool.id, label: pool.label, utilization };
      return result;
    }
    if (options.stop?.aborted) {
      throw new NotSentError(
        `Cannot allocate ${need} ${kind.nouns} from ${pool.label}: stopped before it was sent`,
      );
    }
    if (!wrote) await options.beforeWrite?.();
    wrote = true;
    const marker = allocationMarker(key, crypto.randomUUID());
    const bodies = bodyTemplate.map((b) => ({ ...b, comments: marker }));
    try {
      result.allocated = await once<T>(client, kind, pool, marker, bodies);
      result.pool = { id: pool.id, label: pool.label, utilization };
      if (key !== undefined) await oneHolder(client, kind, pools, key, marker, result, options);
      return result;
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      let reason = `NetBox: ${refusal(err)}`;
      if (direct) {
        const c = await kind.capacity(client, pool, need, job.length);
        if (c.fits < need) reason = `full: ${c.fits} of ${need} fit`;
      }
      result.skipped.push({ pool: pool.label, id: pool.id, reason });
    }
  }
  throw new PoolsExhaustedError(kind.noun, need, result.skipped);
}

function refusal(err: NetBoxHttpError): string {
  const detail = (err.body as { detail?: unknown } | null)?.detail;
  return typeof detail === "string" ? detail : err.message;
}

/**
 * Another run with the same key may have allocated at the same time: the key then holds more
 * than `count`. The oldest `count` are the key's; what this run made beyond them (its own
 * marker) is deleted again, and the result names the kept ones as `existing`.
 */
async function oneHolder<T extends NetBoxObject>(
  client: NetBoxClient,
  kind: PoolKind,
  pools: Pool[],
  key: string,
  marker: string,
  result: AllocationResult<T>,
  options: AllocateOptions,
): Promise<void> {
  const holders = await held<T>(client, kind, pools, key);
  if (holders.length <= result.requested) return;
  const keep = holders.slice(0, result.requested);
  const kept = new Set(keep.map((o) => o.id));
  const mine = new Set(result.allocated.map((o) => o.id));
  const extra = holders.filter((o) => !kept.has(o.id) && mine.has(o.id) && o.comments === marker);
  const endpoint = client.endpoint(kind.objectPath);
  for (const o of extra) await endpoint.delete(o.id);
  if (extra.length) {
    options.onWarning?.(
      `another run allocated for key ${key} at the same time; deleted this run's ${extra.length} ` +
        `${extra.length === 1 ? kind.noun : kind.nouns} again (${
          extra.map((o) => `${kind.valueOf(o)} id ${o.id}`).join(", ")
        }): the key holds the ${result.requested} allocated first`,
    );
  }
  result.existing = keep.filter((o) => !mine.has(o.id));
  result.allocated = keep.filter((o) => mine.has(o.id));
}

/** The objects of the pools that carry the key, oldest first. */
async function held<T extends NetBoxObject>(
  client: NetBoxClient,
  kind: PoolKind,
  pools: Pool[],
  key: string,
): Promise<T[]> {
  const endpoint = client.endpoint<T>(kind.objectPath);
  const ids = new Set<number>();
  for (const pool of pools) {
    for await (const o of endpoint.list(kind.members(pool), { fields: ["id", "comments"] })) {
      if (holdsKey(o.comments, key)) ids.add(o.id);
    }
  }
  if (!ids.size) return [];
  const found = await endpoint.all({ id: [...ids] });
  return found.sort((a, b) => a.id - b.id);
}

/** The pools in NetBox's order, unmeasured; those that cannot serve at all land in `skipped`. */
function fitting(job: Job, skipped: SkippedPool[]): { pool: Pool; utilization?: number }[] {
  return job.pools.flatMap((pool) => {
    const unfit = job.unfit?.(pool);
    if (!unfit) return [{ pool }];
    skipped.push({ pool: pool.label, id: pool.id, reason: unfit });
    return [];
  });
}

/** How far back the change log is read for `minDaysLeft` (audit-ips' default window). */
const FORECAST_WINDOW_DAYS = 90;

/**
 * Days until the pool is full at the rate fitted to what was created inside it (one decimal), or
 * `null` when there is no positive rate.
 */
function daysLeft(kind: PoolKind, pool: Pool, c: Capacity, creates: ChangeLogCreate[]) {
  const points = creates.flatMap(({ time, data }) => {
    const amount = kind.took(pool, data);
    return amount > 0 ? [{ time, amount }] : [];
  });
  const fit = fitRate(points);
  if (!(fit.slope > 0)) return null;
  const free = c.size > c.used ? Number(c.size - c.used) : 0;
  return Math.round((free / fit.slope) * 10) / 10;
}

/** The usable pools in the policy's order; the others land in `skipped` with the reason. */
async function order(
  client: NetBoxClient,
  job: Job,
  need: number,
  checked: Checked,
  skipped: SkippedPool[],
): Promise<{ pool: Pool; utilization: number }[]> {
  const usable: { pool: Pool; utilization: number; index: number }[] = [];
  let creates: ChangeLogCreate[] | undefined;
  for (const [index, pool] of job.pools.entries()) {
    const unfit = job.unfit?.(pool);
    if (unfit) {
      skipped.push({ pool: pool.label, id: pool.id, reason: unfit });
      continue;
    }
    const c = await job.kind.capacity(client, pool, need, job.length);
    const utilization = c.size === 0n ? 100 : Number((c.used * 10000n) / c.size) / 100;
    if (c.fits < need) {
      skipped.push({ pool: pool.label, id: pool.id, reason: `full: ${c.fits} of ${need} fit` });
      continue;
    }
    if (checked.headroom !== undefined) {
      const after = c.size === 0n
        ? 100
        : Number(((c.used + c.unit * BigInt(need)) * 10000n) / c.size) / 100;
      if (after > checked.headroom) {
        skipped.push({
          pool: pool.label,
          id: pool.id,
          reason: `headroom: would reach ${after}% (limit ${checked.headroom}%)`,
        });
        continue;
      }
    }
    if (checked.minDaysLeft !== undefined) {
      creates ??= await changeLogCreates(
        client,
        job.kind.changeType,
        new Date(Date.now() - FORECAST_WINDOW_DAYS * 86_400_000),
      );
      const days = daysLeft(job.kind, pool, c, creates);
      if (days !== null && days < checked.minDaysLeft) {
        skipped.push({
          pool: pool.label,
          id: pool.id,
          reason: `forecast: ${days} days left (< ${checked.minDaysLeft})`,
        });
        continue;
      }
    }
    usable.push({ pool, utilization, index });
    // `first` needs no more than the first usable pool (NetBox's 409 moves on, though).
  }
  const by = checked.policy === "least-used"
    ? (a: typeof usable[0], b: typeof usable[0]) =>
      a.utilization - b.utilization || a.index - b.index
    : checked.policy === "most-used"
    ? (a: typeof usable[0], b: typeof usable[0]) =>
      b.utilization - a.utilization || a.index - b.index
    : (a: typeof usable[0], b: typeof usable[0]) => a.index - b.index;
  return usable.sort(by);
}

/**
 * One locked POST of the bodies to the pool. A lost answer: the run's marker is read back until
 * all objects show up (confirmed) or the settle window has passed (unknown) — never sent twice.
 */
async function once<T extends NetBoxObject>(
  client: NetBoxClient,
  kind: PoolKind,
  pool: Pool,
  marker: string,
  bodies: Record<string, unknown>[],
): Promise<T[]> {
  const helper = createAvailable<unknown, T>(client, kind.poolPath, pool.id, kind.available);
  try {
    return await helper.create(bodies);
  } catch (err) {
    if (!mayHaveActed(err)) throw err;
    const endpoint = client.endpoint<T>(kind.objectPath);
    const read = async () =>
      (await endpoint.all(kind.members(pool))).filter((o) => o.comments === marker)
        .sort((a, b) => a.id - b.id);
    let found: T[];
    let waitedMs = 0;
    try {
      const r = await settle(client, read, (objects) => objects.length >= bodies.length);
      found = r.value;
      waitedMs = r.waitedMs;
    } catch (readErr) {
      throw new OutcomeUnknownError(
        `Cannot tell whether ${bodies.length} ${kind.nouns} were allocated from ${pool.label}: ` +
          `NetBox's answer was lost (${(err as Error).message}) and reading back failed ` +
          `(${(readErr as Error).message}); look for comments "${marker}"`,
        { cause: err },
      );
    }
    if (found.length === bodies.length) return found;
    throw new OutcomeUnknownError(
      `Cannot tell whether ${bodies.length} ${kind.nouns} were allocated from ${pool.label}: ` +
        `NetBox's answer was lost (${(err as Error).message}) and ${found.length} carried the ` +
        `marker after reading back for ${Math.round(waitedMs / 100) / 10} s; a request may still ` +
        `land: look for comments "${marker}" before allocating again`,
      { cause: err },
    );
  }
}

// --- the three calls --------------------------------------------------------------------------

/**
 * Allocates the next free prefixes of `length` out of a parent prefix (or the first fitting of
 * the prefixes matching `filters`, in the policy's order), all in one locked request to the
 * parent's `available-prefixes`. With `key`, prefixes already carrying it are returned instead
 * (only the missing ones are allocated).
 *
 * @param client The client.
 * @param ref The parent prefix(es).
 * @param options `length`, `count`, `key`, `policy`, `headroom`, the new prefixes' fields …
 * @returns What the key held, what was allocated and from which pool, which pools were skipped.
 * @throws {InputError} Bad options, an unknown parent, a length outside a single parent (exit 2;
 * nothing written).
 * @throws {PoolsExhaustedError} No matching parent has room (exit 3; nothing written).
 * @throws {OutcomeUnknownError} NetBox's answer was lost and the prefixes did not all show up.
 *
 * @example Two /31s out of a /29, with the in-memory stand-in for NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { allocatePrefixes } from "./allocate.ts";
 * const made: Record<string, unknown>[] = [];
 * const parent = { id: 7, prefix: "192.0.2.0/29", vrf: null, status: "active" };
 * const fetch = (input: string | URL | Request, init?: RequestInit) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   const json = (body: unknown, status = 200) => Promise.resolve(Response.json(body, { status }));
 *   if (url.pathname === "/api/status/") return json({ "netbox-version": "4.7.3" });
 *   if (url.pathname === "/api/ipam/prefixes/7/available-prefixes/") {
 *     if (init?.method !== "POST") return json([{ family: 4, prefix: "192.0.2.0/29", vrf: null }]);
 *     const bodies = JSON.parse(String(init.body)) as Record<string, unknown>[];
 *     const out = bodies.map((b, i) => ({ id: 10 + i, prefix: `192.0.2.${2 * i}/31`, ...b }));
 *     made.push(...out);
 *     return json(out, 201);
 *   }
 *   const results = url.pathname === "/api/ipam/prefixes/" && url.searchParams.get("prefix") ? [parent] : [];
 *   return json({ count: results.length, next: null, results });
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const r = await allocatePrefixes(client, { parent: "192.0.2.0/29" }, { length: 31, count: 2 });
 * assert(r.allocated.map((p) => p.prefix).join() === "192.0.2.0/31,192.0.2.2/31");
 * assert(r.pool?.label === "192.0.2.0/29" && made.length === 2);
 * client.close();
 * ```
 */
export async function allocatePrefixes(
  client: NetBoxClient,
  ref: PrefixPoolRef,
  options: AllocatePrefixesOptions,
): Promise<AllocationResult> {
  const checked = check(options);
  const { label } = checked;
  const length = options.length;
  if (!Number.isInteger(length) || length < 1 || length > 128) {
    throw new InputError(`Cannot use ${label("length")}: expected an integer 1-128, got ${length}`);
  }
  const single = !("filters" in ref);
  let pools: Pool[];
  try {
    const found = await resolvePools(
      client,
      "parentId" in ref
        ? { prefixId: ref.parentId }
        : "parent" in ref
        ? { prefix: ref.parent, ...(ref.vrf === undefined ? {} : { vrf: ref.vrf }) }
        : { filters: ref.filters, ...(ref.vrf === undefined ? {} : { vrf: ref.vrf }) },
      {
        labels: { prefix: label("parent"), prefixId: label("parentId"), filters: label("filters") },
      },
    );
    pools = found.map((p) => ({ id: p.pool.id, label: p.pool.label, object: p.object }));
  } catch (err) {
    if (err instanceof LookupError) throw new InputError(err.message);
    if (err instanceof NetBoxHttpError && err.status === 404 && "parentId" in ref) {
      throw new InputError(`Cannot use ${label("parentId")}: no prefix has id ${ref.parentId}`);
    }
    throw err;
  }
  const unfit = (pool: Pool) => {
    const net = parentNet(pool);
    const bits = net.family === 4 ? 32 : 128;
    return length <= net.prefixLength || length > bits
      ? `length /${length} is outside ${pool.label} (expected ${net.prefixLength + 1}-${bits})`
      : undefined;
  };
  if (single && unfit(pools[0])) {
    throw new InputError(`Cannot use ${label("length")} ${length}: ${unfit(pools[0])}`);
  }
  const fields = await commonFields(client, options, label, (id) => ({
    scope_type: "dcim.site",
    scope_id: id,
  }));
  return await run(
    client,
    {
      kind: PREFIX_POOLS,
      pools,
      unfit,
      length,
      bodies: (need) => Array.from({ length: need }, () => ({ ...fields, prefix_length: length })),
    },
    options,
    checked,
  );
}

/**
 * Allocates the next free VLAN ids of a VLAN group (or the first fitting of the groups matching
 * `filters`, in the policy's order), all in one locked request to its `available-vlans`. Names
 * come from `name` (a `{n}` template for several). With `key`, VLANs already carrying it are
 * returned instead.
 *
 * @param client The client.
 * @param ref The VLAN group(s).
 * @param options `name`, `count`, `key`, `policy`, `headroom`, status/role/tenant/tags …
 * @returns What the key held, what was allocated and from which group, which were skipped.
 * @throws {InputError} Bad options or an unknown group (exit 2; nothing written).
 * @throws {PoolsExhaustedError} No matching group has room (exit 3; nothing written).
 * @throws {OutcomeUnknownError} NetBox's answer was lost and the VLANs did not all show up.
 *
 * @example Bad input is refused before anything is sent
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { InputError } from "../client/errors.ts";
 * import { allocateVlans } from "./allocate.ts";
 * let sent = 0;
 * const fetch = () => (sent++, Promise.resolve(Response.json({})));
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * try {
 *   await allocateVlans(client, { pool: "servers" }, { name: "srv", count: 2 });
 *   assert(false);
 * } catch (err) {
 *   assert(err instanceof InputError && err.exitCode === 2);
 * }
 * assert(sent === 0);
 * client.close();
 * ```
 */
export async function allocateVlans(
  client: NetBoxClient,
  ref: NamedPoolRef,
  options: AllocateVlansOptions,
): Promise<AllocationResult> {
  const checked = check(options);
  const { label, count } = checked;
  const name = options.name;
  if (typeof name !== "string" || name.trim() === "") {
    throw new InputError(`Cannot allocate VLANs without ${label("name")}: NetBox needs a name`);
  }
  if (count > 1 && !isNameTemplate(name)) {
    throw new InputError(
      `Cannot name ${count} VLANs "${name}": use a template such as "srv-{n:02}" for ` +
        `${label("count")} > 1 (names are unique per group)`,
    );
  }
  const from = options.numberFrom ?? 1;
  const pools = await namedPools(client, VLAN_POOLS, ref, "VLAN group", label);
  const fields = await commonFields(client, options, label);
  return await run(
    client,
    {
      kind: VLAN_POOLS,
      pools,
      bodies: (need) =>
        Array.from({ length: need }, (_, i) => ({
          ...fields,
          // The missing ones of a key get the numbers after those it holds.
          name: expandNameTemplate(name, from + (count - need) + i),
        })),
    },
    options,
    checked,
  );
}

/**
 * Allocates the next free AS numbers of an ASN range (or the first fitting of the ranges
 * matching `filters`, in the policy's order), all in one locked request to its
 * `available-asns`; NetBox sets the RIR from the range. With `key`, ASNs already carrying it are
 * returned instead.
 *
 * @param client The client.
 * @param ref The ASN range(s).
 * @param options `count`, `key`, `policy`, `headroom`, tenant/description/tags …
 * @returns What the key held, what was allocated and from which range, which were skipped.
 * @throws {InputError} Bad options or an unknown range (exit 2; nothing written).
 * @throws {PoolsExhaustedError} No matching range has room (exit 3; nothing written).
 * @throws {OutcomeUnknownError} NetBox's answer was lost and the ASNs did not all show up.
 *
 * @example A dry run shows the number NetBox would hand out now
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { allocateAsns } from "./allocate.ts";
 * const range = { id: 3, name: "private", start: 64512, end: 64520 };
 * const fetch = (input: string | URL | Request) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   const json = (body: unknown) => Promise.resolve(Response.json(body));
 *   if (url.pathname === "/api/status/") return json({ "netbox-version": "4.7.3" });
 *   if (url.pathname === "/api/ipam/asn-ranges/3/available-asns/") return json([{ asn: 64513 }]);
 *   const results = url.pathname === "/api/ipam/asn-ranges/" && url.searchParams.get("name") ? [range] : [];
 *   return json({ count: url.pathname === "/api/ipam/asns/" ? 1 : results.length, next: null, results });
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const r = await allocateAsns(client, { pool: "private" }, { dryRun: true });
 * assert(r.planned.join() === "64513" && r.allocated.length === 0);
 * client.close();
 * ```
 */
export async function allocateAsns(
  client: NetBoxClient,
  ref: NamedPoolRef,
  options: AllocateOptions = {},
): Promise<AllocationResult> {
  const checked = check(options);
  const { label } = checked;
  for (const option of ["role", "site", "status"] as const) {
    if (options[option] !== undefined) {
      throw new InputError(`Cannot use ${label(option)} for ASNs: NetBox's ASNs have none`);
    }
  }
  const pools = await namedPools(client, ASN_POOLS, ref, "ASN range", label);
  const fields = await commonFields(client, options, label);
  return await run(
    client,
    {
      kind: ASN_POOLS,
      pools,
      bodies: (need) => Array.from({ length: need }, () => ({ ...fields })),
    },
    options,
    checked,
  );
}

async function namedPools(
  client: NetBoxClient,
  kind: PoolKind,
  ref: NamedPoolRef,
  what: string,
  label: (o: string) => string,
): Promise<Pool[]> {
  if ("filters" in ref) {
    return await filteredPools(
      client,
      kind,
      ref.filters,
      label("filters"),
      (o) => String(o.name ?? `#${o.id}`),
    );
  }
  return [await namedPool(client, kind, ref.pool, what, label("pool"))];
}
