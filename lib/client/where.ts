/**
 * The generic write verbs over any list endpoint, for commands and scripts that name objects by
 * id or by filters rather than holding them: {@linkcode getOne} (exactly one match, or an error
 * naming the matches), {@linkcode createObjects}, {@linkcode updateObjects} /
 * {@linkcode updateWhere} and {@linkcode deleteObjects} / {@linkcode deleteWhere}.
 *
 * Every write reads the objects first, so each outcome carries its field diffs and a dry run
 * sends nothing; unchanged objects are not written. The writes go through the bulk helpers
 * (chunks, per-item results, rejected items isolated), optionally only if each object is still as
 * read (`ifMatch`: NetBox's If-Match on 4.6+, `last_updated` before). An update or delete whose
 * answer was lost (timeout, gateway 502/504, reset) is read back until the settle window has
 * passed: confirmed, or `unknown` — never "failed" for a write that may still land.
 *
 * @module
 */

import { bulkCreate, bulkDelete, bulkUpdate } from "./bulk.ts";
import { type FieldChange, fieldChanges } from "./diff.ts";
import { InputError, mayHaveActed, NetBoxError, NotSentError } from "./errors.ts";
import { etagOf } from "./etag.ts";
import { checkFilters } from "./filter_guard.ts";
import { serializeFilters } from "./filters.ts";
import { createEndpoint } from "./endpoint.ts";
import { paginate } from "./paginate.ts";
import { settle } from "./settle.ts";
import type {
  BulkItemResult,
  BulkOptions,
  Filters,
  GetOptions,
  NetBoxObject,
  Transport,
} from "./types.ts";

/**
 * `getOne` found no object or more than one. `matches` holds the first few; `count` how many
 * there are (NetBox's count).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { MatchError } from "./where.ts";
 * const err = new MatchError("Cannot get one object of dcim/devices/: 2 match", [], 2);
 * assert(err.exitCode === 3);
 * ```
 */
export class MatchError extends NetBoxError {
  /** The first matching objects (none when nothing matched). */
  readonly matches: NetBoxObject[];
  /** How many objects match. */
  readonly count: number;
  /** Creates the error. */
  constructor(message: string, matches: NetBoxObject[], count: number) {
    super(message);
    this.matches = matches;
    this.count = count;
  }
}

const describe = (o: NetBoxObject) => `${String(o.display ?? o.name ?? "")} (id ${o.id})`.trim();
const query = (filters: Filters) =>
  [...serializeFilters(filters)].map(([k, v]) => `${k}=${v}`).join("&") || "(no filters)";

/**
 * The one object with this id, or the one object matching the filters.
 *
 * @param transport The client's transport.
 * @param path The list path, e.g. `"dcim/devices/"`.
 * @param selector An id, or filters (checked by the filter guard).
 * @param options `fields`, `omit`, `brief`, `signal`.
 * @returns The object.
 * @throws {MatchError} When no object or several match (naming up to five of them).
 * @throws {FilterError} For a filter name NetBox does not know.
 *
 * @example
 * ```ts
 * import { equal, rejects } from "node:assert/strict";
 * import { getOne } from "./where.ts";
 * import type { Transport } from "./types.ts";
 * const rows = [{ id: 1, url: "", display: "a" }, { id: 2, url: "", display: "b" }];
 * const transport = {
 *   strictFilters: false,
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: (_m: string, _p: string, o: { query: URLSearchParams }) => {
 *     const hits = rows.filter((r) => !o.query.get("display") || r.display === o.query.get("display"));
 *     return Promise.resolve({ count: hits.length, results: hits });
 *   },
 * } as unknown as Transport;
 * equal((await getOne(transport, "dcim/sites/", { display: "b" })).id, 2);
 * await rejects(getOne(transport, "dcim/sites/", {}), /2 objects match \(no filters\): a \(id 1\), b \(id 2\)/);
 * ```
 */
export async function getOne(
  transport: Transport,
  path: string,
  selector: number | Filters,
  options: GetOptions = {},
): Promise<NetBoxObject> {
  if (typeof selector === "number") {
    return await createEndpoint(transport, path).get(selector, options);
  }
  await checkFilters(transport, path, selector, options.signal);
  const params = serializeFilters(selector);
  params.set("limit", "5");
  if (options.fields?.length) {
    params.set("fields", [...new Set(["id", "display", ...options.fields])].join(","));
  }
  if (options.brief) params.set("brief", "true");
  const page = await transport.request<{ count?: number | null; results: NetBoxObject[] }>(
    "GET",
    path,
    { query: params, signal: options.signal, action: `get one object of ${path}` },
  );
  const results = page?.results ?? [];
  if (results.length === 1) return results[0];
  const count = typeof page?.count === "number" ? page.count : results.length;
  if (!results.length) {
    throw new MatchError(
      `Cannot get one object of ${path}: none matches ${query(selector)}`,
      [],
      0,
    );
  }
  throw new MatchError(
    `Cannot get one object of ${path}: ${count} objects match ${query(selector)}: ${
      results.map(describe).join(", ")
    }${count > results.length ? ", …" : ""}; add filters to narrow it down`,
    results,
    count,
  );
}

/** What happened (or, in a dry run, would happen) to one object. */
export interface WriteOutcome {
  /** The item's position in the input (or in the matches). */
  index: number;
  /** `create`, `update` or `delete`. */
  action: "create" | "update" | "delete";
  /**
   * `planned` (dry run), `done`, `unchanged` (nothing to write), `failed` (NetBox refused it),
   * `not-sent` (stopped before it was sent) or `unknown` (its answer was lost and reading back
   * could not confirm it).
   */
  status: "planned" | "done" | "unchanged" | "failed" | "not-sent" | "unknown";
  /** The object's id (a created object's once known). */
  id?: number;
  /** NetBox's display string of the object. */
  display?: string;
  /** The fields written (for a create: every field sent). */
  changes: FieldChange[];
  /** Why it failed or is unknown, with NetBox's field messages. */
  message?: string;
  /** The object as NetBox returned it after the write. */
  object?: NetBoxObject;
}

/** Options of the write verbs. */
export interface WriteOptions extends Omit<BulkOptions, "ifMatch"> {
  /** Plan only: read, diff and report; send no write. @default {false} */
  dryRun?: boolean;
  /**
   * Write each object only if it is unchanged since it was read for the diff (If-Match on
   * NetBox ≥ 4.6, `last_updated` compared before): a changed one fails, the others land.
   * @default {false}
   */
  ifMatch?: boolean;
}

/** Options of {@linkcode deleteObjects} and {@linkcode deleteWhere}. */
export interface DeleteOptions extends WriteOptions {
  /** More objects to delete than this stops before any write (`InputError`). @default {Infinity} */
  maxDeletes?: number;
}

function messageOf(item: Extract<BulkItemResult<unknown>, { ok: false }>): string {
  const fields = Object.entries(item.messages ?? {});
  if (fields.length) {
    return fields.map(([k, v]) =>
      `${k === "__all__" || k === "non_field_errors" ? "" : `${k}: `}${v.join(" ")}`
    )
      .join("; ");
  }
  return item.error?.message ?? "failed";
}

function failure(
  outcome: WriteOutcome,
  item: Extract<BulkItemResult<unknown>, { ok: false }>,
): WriteOutcome {
  if (item.error instanceof NotSentError) {
    return { ...outcome, status: "not-sent", message: item.error.message };
  }
  return { ...outcome, status: "failed", message: messageOf(item) };
}

async function readIds(
  transport: Transport,
  path: string,
  ids: number[],
  signal?: AbortSignal,
): Promise<Map<number, NetBoxObject>> {
  const out = new Map<number, NetBoxObject>();
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    for await (const o of paginate<NetBoxObject>(transport, path, { id: chunk }, { signal })) {
      out.set(o.id, o);
    }
  }
  return out;
}

/**
 * Creates objects in chunks; in a dry run, reports what would be created.
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param bodies The objects' fields as NetBox takes them.
 * @param options Dry run, chunks, progress, stop.
 * @returns One outcome per body, in input order.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { createObjects } from "./where.ts";
 * import type { Transport } from "./types.ts";
 * const planned = await createObjects({} as Transport, "dcim/sites/", [{ name: "a", slug: "a" }], { dryRun: true });
 * equal(planned[0].status, "planned");
 * ```
 */
export async function createObjects(
  transport: Transport,
  path: string,
  bodies: Record<string, unknown>[],
  options: WriteOptions = {},
): Promise<WriteOutcome[]> {
  const base = bodies.map((body, index): WriteOutcome => ({
    index,
    action: "create",
    status: "planned",
    changes: Object.entries(body).map(([field, after]) => ({ field, before: undefined, after })),
  }));
  if (options.dryRun || !bodies.length) return base;
  const result = await bulkCreate<NetBoxObject>(transport, path, bodies, bulkOptions(options));
  return result.items.map((item, i) => {
    if (item.ok) {
      return {
        ...base[i],
        status: "done",
        id: item.value.id,
        display: item.value.display,
        object: item.value,
      };
    }
    if (mayHaveActed(item.error)) {
      return {
        ...base[i],
        status: "unknown",
        message: `NetBox did not answer (${item.error.message}) and may still create it; check ` +
          `before creating it again`,
      };
    }
    return failure(base[i], item);
  });
}

function bulkOptions(options: WriteOptions): BulkOptions {
  const { dryRun: _d, ifMatch: _i, ...rest } = options;
  return rest;
}

/**
 * Updates objects given as `{id, …fields}`: reads them, diffs, and patches only those the write
 * changes (only the changed fields).
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param patches The patches, each with the object's `id`.
 * @param options Dry run, `ifMatch`, chunks, progress, stop.
 * @returns One outcome per patch, in input order (an id NetBox does not have fails).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { updateObjects } from "./where.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   strictFilters: false, pageSize: 1000, concurrency: 1,
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: () => Promise.resolve({ count: 1, next: null, results: [{ id: 12, url: "", status: { value: "active" } }] }),
 * } as unknown as Transport;
 * const [plan] = await updateObjects(transport, "dcim/devices/", [{ id: 12, status: "offline" }], { dryRun: true });
 * deepEqual(plan.changes, [{ field: "status", before: "active", after: "offline" }]);
 * ```
 */
export async function updateObjects(
  transport: Transport,
  path: string,
  patches: ({ id: number } & Record<string, unknown>)[],
  options: WriteOptions = {},
): Promise<WriteOutcome[]> {
  for (const [i, p] of patches.entries()) {
    if (!Number.isInteger(p?.id) || p.id < 1) {
      throw new InputError(`Cannot update ${path}: item ${i + 1} has no valid id`);
    }
  }
  const current = await readIds(
    transport,
    path,
    [...new Set(patches.map((p) => p.id))],
    options.signal,
  );
  return await writeUpdates(
    transport,
    path,
    patches.map((patch) => ({ patch, object: current.get(patch.id) })),
    options,
  );
}

/**
 * Applies the same fields to every object matching the filters (at least one filter).
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param filters Which objects (checked by the filter guard; empty filters are refused).
 * @param fields The fields to set.
 * @param options Dry run, `ifMatch`, chunks, progress, stop.
 * @returns One outcome per matching object.
 * @throws {InputError} Without filters.
 *
 * @example
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { updateWhere } from "./where.ts";
 * import type { Transport } from "./types.ts";
 * await rejects(updateWhere({} as Transport, "dcim/devices/", {}, { status: "offline" }), /at least one filter/);
 * ```
 */
export async function updateWhere(
  transport: Transport,
  path: string,
  filters: Filters,
  fields: Record<string, unknown>,
  options: WriteOptions = {},
): Promise<WriteOutcome[]> {
  requireFilters("update", path, filters);
  const targets: { patch: { id: number } & Record<string, unknown>; object: NetBoxObject }[] = [];
  for await (
    const object of paginate<NetBoxObject>(transport, path, filters, { signal: options.signal })
  ) {
    targets.push({ patch: { ...fields, id: object.id }, object });
  }
  return await writeUpdates(transport, path, targets, options);
}

function requireFilters(verb: string, path: string, filters: Filters): void {
  if (!Object.values(filters).some((v) => v !== undefined)) {
    throw new InputError(
      `Cannot ${verb} by filter in ${path}: give at least one filter (an empty filter matches ` +
        `every object)`,
    );
  }
}

async function writeUpdates(
  transport: Transport,
  path: string,
  targets: { patch: { id: number } & Record<string, unknown>; object?: NetBoxObject }[],
  options: WriteOptions,
): Promise<WriteOutcome[]> {
  const outcomes: WriteOutcome[] = targets.map(({ patch, object }, index) => {
    const base = { index, action: "update" as const, id: patch.id, display: object?.display };
    if (!object) {
      return { ...base, status: "failed", changes: [], message: `no object with id ${patch.id}` };
    }
    const changes = fieldChanges(object, patch);
    return { ...base, status: changes.length ? "planned" : "unchanged", changes };
  });
  const todo = outcomes.filter((o) => o.status === "planned");
  if (options.dryRun || !todo.length) return outcomes;
  const bodies = todo.map((o) => ({
    id: o.id!,
    ...Object.fromEntries(o.changes.map((c) => [c.field, c.after])),
  }));
  const ifMatch = options.ifMatch ? todo.map((o) => etagOf(targets[o.index].object!)) : undefined;
  const result = await bulkUpdate<NetBoxObject>(transport, path, bodies, {
    ...bulkOptions(options),
    ...(ifMatch ? { ifMatch } : {}),
  });
  const doubtful: WriteOutcome[] = [];
  result.items.forEach((item, i) => {
    const o = todo[i];
    if (item.ok) {
      Object.assign(o, {
        status: "done",
        object: item.value,
        display: item.value.display ?? o.display,
      });
    } else if (mayHaveActed(item.error)) {
      Object.assign(o, { status: "unknown", message: item.error.message });
      doubtful.push(o);
    } else {
      Object.assign(o, failure(o, item));
    }
  });
  await confirm(
    transport,
    path,
    doubtful,
    (o, now) => !!now && !fieldChanges(now, bodies[todo.indexOf(o)]).length,
    options.signal,
  );
  return outcomes;
}

/**
 * Reads back writes whose answer was lost until each shows as done or the settle window has
 * passed; the ones that show are `done`, the others stay `unknown` with a message saying so.
 */
async function confirm(
  transport: Transport,
  path: string,
  doubtful: WriteOutcome[],
  done: (o: WriteOutcome, now: NetBoxObject | undefined) => boolean,
  signal?: AbortSignal,
): Promise<void> {
  if (!doubtful.length) return;
  const ids = doubtful.map((o) => o.id!);
  try {
    const r = await settle(
      transport,
      () => readIds(transport, path, ids, signal),
      (now) => doubtful.every((o) => done(o, now.get(o.id!))),
      { signal },
    );
    for (const o of doubtful) {
      if (done(o, r.value.get(o.id!))) {
        Object.assign(o, {
          status: "done",
          message: `confirmed by reading back (NetBox's answer was lost: ${o.message})`,
        });
      } else {
        o.message = `NetBox did not answer (${o.message}) and may still be writing it: not ` +
          `confirmed by reading back; check ${path}${o.id}/`;
      }
    }
  } catch (err) {
    for (const o of doubtful) {
      o.message = `NetBox's answer was lost (${o.message}) and it could not be read back ` +
        `(${(err as Error).message}); check ${path}${o.id}/`;
    }
  }
}

/**
 * Deletes objects by id: reads them first (an id NetBox does not have fails), refuses more than
 * `maxDeletes` before any write.
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param ids The ids.
 * @param options Dry run, `maxDeletes`, chunks, progress, stop.
 * @returns One outcome per id.
 * @throws {InputError} When more than `maxDeletes` objects would be deleted.
 *
 * @example
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { deleteObjects } from "./where.ts";
 * import type { Transport } from "./types.ts";
 * await rejects(deleteObjects({} as Transport, "dcim/devices/", [1, 2], { maxDeletes: 1 }), /more than the limit of 1/);
 * ```
 */
export async function deleteObjects(
  transport: Transport,
  path: string,
  ids: number[],
  options: DeleteOptions = {},
): Promise<WriteOutcome[]> {
  checkLimit(path, ids.length, options.maxDeletes);
  const current = await readIds(transport, path, [...new Set(ids)], options.signal);
  return await writeDeletes(
    transport,
    path,
    ids.map((id) => ({ id, object: current.get(id) })),
    options,
  );
}

/**
 * Deletes every object matching the filters (at least one filter), refusing more than
 * `maxDeletes` before any write.
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param filters Which objects (checked by the filter guard).
 * @param options Dry run, `maxDeletes`, chunks, progress, stop.
 * @returns One outcome per matching object.
 * @throws {InputError} Without filters, or when more than `maxDeletes` objects match.
 */
export async function deleteWhere(
  transport: Transport,
  path: string,
  filters: Filters,
  options: DeleteOptions = {},
): Promise<WriteOutcome[]> {
  requireFilters("delete", path, filters);
  const targets: { id: number; object: NetBoxObject }[] = [];
  for await (
    const object of paginate<NetBoxObject>(transport, path, filters, { signal: options.signal })
  ) {
    targets.push({ id: object.id, object });
  }
  if (!options.dryRun) checkLimit(path, targets.length, options.maxDeletes);
  return await writeDeletes(transport, path, targets, options);
}

function checkLimit(path: string, n: number, limit = Infinity): void {
  if (n <= limit) return;
  throw new InputError(
    `Cannot delete ${n} objects of ${path}: more than the limit of ${limit} (\`maxDeletes\`) ` +
      `allows; nothing was deleted (if they are meant, raise the limit to ${n})`,
  );
}

async function writeDeletes(
  transport: Transport,
  path: string,
  targets: { id: number; object?: NetBoxObject }[],
  options: DeleteOptions,
): Promise<WriteOutcome[]> {
  const outcomes: WriteOutcome[] = targets.map(({ id, object }, index) => ({
    index,
    action: "delete",
    id,
    display: object?.display,
    changes: [],
    ...(object ? { status: "planned" } : { status: "failed", message: `no object with id ${id}` }),
  }));
  const todo = outcomes.filter((o) => o.status === "planned");
  if (options.dryRun || !todo.length) return outcomes;
  const result = await bulkDelete(transport, path, todo.map((o) => o.id!), bulkOptions(options));
  const doubtful: WriteOutcome[] = [];
  result.items.forEach((item, i) => {
    const o = todo[i];
    if (item.ok) o.status = "done";
    else if (mayHaveActed(item.error)) {
      Object.assign(o, { status: "unknown", message: item.error.message });
      doubtful.push(o);
    } else Object.assign(o, failure(o, item));
  });
  await confirm(transport, path, doubtful, (_o, now) => now === undefined, options.signal);
  return outcomes;
}
