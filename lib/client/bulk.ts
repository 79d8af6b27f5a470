/**
 * Bulk writes: create, update and delete many objects in chunks, with per-item results in input
 * order. Each NetBox bulk call is one all-or-nothing transaction, so a rejected chunk is split
 * until the bad items are isolated and the good ones still land:
 *
 * - bulk create answers a 400 with per-item errors (an array aligned with the request before
 *   NetBox 4.7, `{"errors": [{"index", "errors"}]}` in 4.7): the bad items are marked failed with
 *   their messages and the good ones resent at once; when the answer is one dict without index
 *   (devices before 4.7, bulk update before 4.7) the chunk is bisected;
 * - a 500 that NetBox itself answered (its JSON error body: the view raised, so the transaction
 *   was rolled back) is bisected too: a unique-constraint clash inside one chunk
 *   (IntegrityError), or an item NetBox 4.3 – 4.5 cannot even validate (`"address":
 *   "not-an-ip"` raises `KeyError: 'data'` there); a single item left is failed with the error;
 * - other failures (403, 5xx, network, timeout) mark the chunk's items failed with the error;
 * - a 409 on delete (dependent objects): NetBox >= 4.7 lists the refused ids, older versions
 *   only the first problem, so the refused objects are found (by id, or by bisection) and each
 *   is deleted through its detail URL, whose 409 names the blockers; the others still go.
 *
 * Bulk update and delete report ids NetBox did not act on because they do not exist (or are not
 * visible): NetBox >= 4.7 refuses the call with a per-id error list (`{"detail", "errors": [{id,
 * errors}]}`), which is used to mark those items and resend the rest at once; older versions skip
 * such ids silently, so update compares the returned ids with the ones sent and delete (a 204
 * without body) first lists the chunk's ids (`?id=…`) and only deletes those that exist. These
 * ids are marked failed and listed in `skippedIds`.
 *
 * Chunks fit the client's timeout: they are cut one at a time, when a request slot frees up,
 * at a size the requests measured so far allow (see `_chunk_size.ts`). A request that takes more
 * than about a third of the timeout shrinks the next chunks (down to 1 object), fast ones grow
 * them back; `chunkSize` is the upper bound.
 *
 * @module
 */

import { type ChunkSizer, createChunkSizer, formatChunkSizeChange } from "./_chunk_size.ts";
import { normalizeMessages } from "./_http_error.ts";
import { NetBoxChangedError, NetBoxError, NetBoxHttpError, NotSentError } from "./errors.ts";
import { etagOf } from "./etag.ts";
import { versionAtLeast } from "./query.ts";
import { systemClock } from "./retry.ts";
import type {
  BulkItemResult,
  BulkOptions,
  BulkResult,
  RequestOptions,
  Transport,
} from "./types.ts";

/** Objects per request unless `chunkSize` says otherwise. */
export const DEFAULT_CHUNK_SIZE = 200;

interface Entry<I> {
  index: number;
  input: I;
}

interface Ctx<T> {
  transport: Transport;
  path: string;
  signal?: AbortSignal;
  out: BulkItemResult<T>[];
  skipped: number[];
  /** Updates: the ETag each input was read with. */
  ifMatch?: readonly (string | undefined)[];
}

type ChunkFn<I, T> = (ctx: Ctx<T>, entries: Entry<I>[]) => Promise<void>;

function ok<T>(ctx: Ctx<T>, index: number, value: T): void {
  ctx.out[index] = { index, ok: true, value };
}

function fail<T>(
  ctx: Ctx<T>,
  index: number,
  error: Error,
  messages: Record<string, string[]> = (error as Partial<NetBoxHttpError>).messages ?? {},
): void {
  ctx.out[index] = { index, ok: false, messages, error };
}

function failAll<T>(ctx: Ctx<T>, entries: Entry<unknown>[], error: unknown): void {
  const err = error instanceof Error ? error : new NetBoxError(String(error));
  for (const e of entries) fail(ctx, e.index, err);
}

function summarize(messages: Record<string, string[]>): string {
  return Object.entries(messages)
    .map(([k, v]) => {
      const text = v.map((m) => m.trim().replace(/\.$/, "")).join(", ");
      return k === "__all__" || k === "detail" || k === "non_field_errors" ? text : `${k}: ${text}`;
    })
    .join("; ");
}

/** An error for one item, carrying that item's messages. */
function itemError(
  err: NetBoxHttpError,
  verb: string,
  ctxPath: string,
  index: number,
  body: unknown,
  messages: Record<string, string[]>,
): NetBoxHttpError {
  return new NetBoxHttpError(
    `Cannot ${verb} item ${index} in ${ctxPath}: ${summarize(messages) || err.message}`,
    {
      status: err.status,
      method: err.method,
      path: err.path,
      requestId: err.requestId,
      body,
      messages,
    },
  );
}

function skippedError(verb: string, path: string, id: number): NetBoxError {
  return new NetBoxError(
    `Cannot ${verb} ${path}${id}/: NetBox skipped it (no such object, or not visible to this token)`,
  );
}

/** Whether a 500 body reports a unique-constraint clash (safe to split: nothing was written). */
/**
 * A 500 answered by NetBox's own error handler (`{"error", "exception", "netbox_version"}`), not
 * by a proxy: the view raised inside its transaction, so nothing of the request was written.
 */
function isNetBoxException(err: NetBoxHttpError): boolean {
  const body = err.body as { exception?: unknown; netbox_version?: unknown } | null;
  return err.status === 500 && typeof body?.exception === "string" &&
    typeof body?.netbox_version === "string";
}

/** The entries whose object's last_updated no longer matches the ETag it was read with. */
async function changedSince<T>(ctx: Ctx<T>, entries: Entry<Patch>[]): Promise<Entry<Patch>[]> {
  const query = new URLSearchParams({ fields: "id,last_updated", limit: String(entries.length) });
  for (const e of entries) query.append("id", String(e.input.id));
  const page = await ctx.transport.request<{ results?: { id: number; last_updated?: string }[] }>(
    "GET",
    ctx.path,
    { query, signal: ctx.signal, action: `read ${entries.length} objects of ${ctx.path}` },
  );
  const now = new Map((page?.results ?? []).map((o) => [o.id, etagOf(o)]));
  return entries.filter((e) => {
    const want = ctx.ifMatch?.[e.index];
    return want !== undefined && now.has(e.input.id) && now.get(e.input.id) !== want;
  });
}

function changedError(path: string, id: number): NetBoxChangedError {
  return new NetBoxChangedError(
    `Cannot update ${path}${id}/: changed by someone else since it was read (last_updated differs)`,
    { status: 412, method: "PATCH", path: `/api/${path}`, body: {}, messages: {} },
  );
}

async function bisect<I, T>(ctx: Ctx<T>, entries: Entry<I>[], fn: ChunkFn<I, T>): Promise<void> {
  const half = Math.ceil(entries.length / 2);
  await fn(ctx, entries.slice(0, half));
  await fn(ctx, entries.slice(half));
}

/**
 * Per-item error dicts of a bulk-create 400, aligned with the request (`null` for good items), or
 * undefined when the answer does not say which item failed. Two shapes: an array aligned with
 * the request, `{}` for good items (NetBox < 4.7), and `{"detail": "1 of 3 objects could not be
 * created.", "errors": [{"index": 0, "errors": {"address": […]}}]}` (NetBox 4.7).
 */
function perItemErrors(
  body: unknown,
  length: number,
): (Record<string, unknown> | null)[] | undefined {
  const isDict = (x: unknown): x is Record<string, unknown> =>
    x !== null && typeof x === "object" && !Array.isArray(x);
  if (Array.isArray(body)) {
    if (body.length !== length || !body.every(isDict)) return undefined;
    return body.map((x) => (Object.keys(x).length ? x : null));
  }
  const errors = isDict(body) ? body.errors : undefined;
  if (!Array.isArray(errors)) return undefined;
  const out: (Record<string, unknown> | null)[] = new Array(length).fill(null);
  for (const e of errors) {
    const index = isDict(e) ? e.index : undefined;
    if (typeof index !== "number" || index < 0 || index >= length) return undefined;
    out[index] = isDict(e.errors) ? e.errors : { __all__: [String(e.errors)] };
  }
  return out;
}

const createChunk: ChunkFn<Record<string, unknown>, unknown> = async (ctx, entries) => {
  if (entries.length === 0) return;
  try {
    const created = await ctx.transport.request<unknown[]>("POST", ctx.path, {
      body: entries.map((e) => e.input),
      signal: ctx.signal,
      action: `create ${entries.length} objects in ${ctx.path}`,
    });
    if (!Array.isArray(created) || created.length !== entries.length) {
      throw new NetBoxError(`Cannot create objects in ${ctx.path}: NetBox's answer is not a list`);
    }
    entries.forEach((e, i) => ok(ctx, e.index, created[i]));
  } catch (err) {
    if (!(err instanceof NetBoxHttpError)) return failAll(ctx, entries, err);
    if (err.status === 400) {
      const items = perItemErrors(err.body, entries.length);
      if (items && items.some((x) => x !== null)) {
        const good: typeof entries = [];
        entries.forEach((e, i) => {
          const body = items[i];
          if (body === null) {
            good.push(e);
            return;
          }
          const messages = normalizeMessages(body);
          fail(ctx, e.index, itemError(err, "create", ctx.path, e.index, body, messages), messages);
        });
        return createChunk(ctx, good);
      }
    }
    const splittable = err.status === 400 || isNetBoxException(err);
    if (splittable && entries.length > 1) return bisect(ctx, entries, createChunk);
    if (err.status === 400 && entries.length === 1) {
      const e = entries[0];
      const messages = err.messages;
      return fail(ctx, e.index, itemError(err, "create", ctx.path, e.index, err.body, messages));
    }
    if (isNetBoxException(err) && entries.length === 1) {
      // The item NetBox could not even validate (4.3 - 4.5 raise on e.g. an unparseable
      // address): its own failure, with what NetBox raised.
      const e = entries[0];
      const body = err.body as { exception: string; error?: unknown };
      const messages = {
        __all__: [`NetBox failed on this item with ${body.exception}: ${String(body.error ?? "")}`],
      };
      return fail(
        ctx,
        e.index,
        itemError(err, "create", ctx.path, e.index, err.body, messages),
        messages,
      );
    }
    failAll(ctx, entries, err);
  }
};

type Patch = { id: number } & Record<string, unknown>;

const updateChunk: ChunkFn<Patch, unknown> = async (ctx, entries): Promise<void> => {
  if (entries.length === 0) return;
  const headers: Record<string, string> = {};
  const expected = ctx.ifMatch && entries.flatMap((e) => ctx.ifMatch![e.index] ?? []);
  if (expected?.length) {
    if (versionAtLeast(await ctx.transport.status(), 4, 6)) {
      headers["If-Match"] = expected.join(", ");
    } else {
      // NetBox before 4.6 knows no If-Match: compare last_updated just before writing.
      const changed = await changedSince(ctx, entries);
      for (const e of changed) fail(ctx, e.index, changedError(ctx.path, e.input.id));
      entries = entries.filter((e) => !changed.includes(e));
      if (entries.length === 0) return;
    }
  }
  try {
    const updated = await ctx.transport.request<unknown[]>("PATCH", ctx.path, {
      body: entries.map((e) => e.input),
      signal: ctx.signal,
      action: `update ${entries.length} objects in ${ctx.path}`,
      headers,
    });
    if (!Array.isArray(updated)) {
      throw new NetBoxError(`Cannot update objects in ${ctx.path}: NetBox's answer is not a list`);
    }
    const byId = new Map(updated.map((o) => [(o as { id?: number })?.id, o]));
    for (const e of entries) {
      const value = byId.get(e.input.id);
      if (value !== undefined) ok(ctx, e.index, value);
      else {
        ctx.skipped.push(e.input.id);
        fail(ctx, e.index, skippedError("update", ctx.path, e.input.id));
      }
    }
  } catch (err) {
    if (!(err instanceof NetBoxHttpError)) return failAll(ctx, entries, err);
    const byId = err.status === 400 ? perIdErrors(err.body) : undefined;
    if (byId && entries.some((e) => byId.has(e.input.id))) {
      for (const e of entries) {
        const messages = byId.get(e.input.id);
        if (!messages) continue;
        if (isMissing(messages)) {
          ctx.skipped.push(e.input.id);
          fail(ctx, e.index, skippedError("update", ctx.path, e.input.id), messages);
        } else {
          fail(
            ctx,
            e.index,
            itemError(err, "update", ctx.path, e.index, messages, messages),
            messages,
          );
        }
      }
      return updateChunk(ctx, entries.filter((e) => !byId.has(e.input.id)));
    }
    // 412: one of them changed since it was read; halving finds it, the others still land.
    const splittable = err.status === 400 || err.status === 412 || isNetBoxException(err);
    if (splittable && entries.length > 1) return bisect(ctx, entries, updateChunk);
    if (err.status === 400) {
      const e = entries[0];
      return fail(
        ctx,
        e.index,
        itemError(err, "update", ctx.path, e.index, err.body, err.messages),
      );
    }
    failAll(ctx, entries, err);
  }
};

/** The ids among `ids` that the list endpoint shows (one `?id=…` request, following `next`). */
async function existingIds(ctx: Ctx<unknown>, ids: number[]): Promise<Set<number>> {
  const found = new Set<number>();
  let query: URLSearchParams | undefined = new URLSearchParams();
  for (const id of ids) query.append("id", String(id));
  query.set("fields", "id");
  query.set("limit", String(ids.length));
  while (query) {
    const page: { next?: string | null; results?: { id: number }[] } = await ctx.transport
      .request("GET", ctx.path, {
        query,
        signal: ctx.signal,
        action: `check which of ${ids.length} objects exist in ${ctx.path}`,
      });
    for (const o of page?.results ?? []) found.add(o.id);
    query = page?.next && page.results?.length
      ? new URL(page.next, "http://ignored.invalid/").searchParams
      : undefined;
  }
  return found;
}

/**
 * Per-object errors of a bulk update/delete answer (NetBox >= 4.7): `{"detail": "1 of 2 objects
 * could not be found.", "errors": [{"id": 13, "errors": {"id": ["Object with ID 13 does not
 * exist"]}}]}`. The whole call was rolled back.
 */
function perIdErrors(body: unknown): Map<number, Record<string, string[]>> | undefined {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return undefined;
  const out = new Map<number, Record<string, string[]>>();
  for (const e of errors) {
    const { id, errors: messages } = (e ?? {}) as { id?: unknown; errors?: unknown };
    if (typeof id === "number") out.set(id, normalizeMessages(messages ?? {}));
  }
  return out.size ? out : undefined;
}

/** Whether per-object messages say the object does not exist (or is not visible). */
function isMissing(messages: Record<string, string[]>): boolean {
  return (messages.id ?? []).some((m) => /does not exist|not found/i.test(m));
}

/** Deletes one object through its detail URL, whose 409 names the blocking objects. */
async function deleteOne(ctx: Ctx<{ id: number }>, e: Entry<number>): Promise<void> {
  const url = `${ctx.path}${e.input}/`;
  try {
    await ctx.transport.request("DELETE", url, { signal: ctx.signal, action: `delete ${url}` });
    ok(ctx, e.index, { id: e.input });
  } catch (err) {
    if (err instanceof NetBoxHttpError && err.status === 404) {
      ctx.skipped.push(e.input); // gone since the existence check
      return fail(ctx, e.index, skippedError("delete", ctx.path, e.input));
    }
    if (err instanceof NetBoxHttpError && (err.status === 409 || err.status === 400)) {
      const error = itemError(err, "delete", ctx.path, e.index, err.body, err.messages);
      return fail(ctx, e.index, error, err.messages);
    }
    failAll(ctx, [e], err);
  }
}

const deleteExisting: ChunkFn<number, { id: number }> = async (ctx, entries) => {
  if (entries.length === 0) return;
  if (entries.length === 1) return deleteOne(ctx, entries[0]);
  try {
    await ctx.transport.request("DELETE", ctx.path, {
      body: entries.map((e) => ({ id: e.input })),
      signal: ctx.signal,
      action: `delete ${entries.length} objects in ${ctx.path}`,
    });
    for (const e of entries) ok(ctx, e.index, { id: e.input });
  } catch (err) {
    if (!(err instanceof NetBoxHttpError)) return failAll(ctx, entries, err);
    const byId = err.status === 409 || err.status === 400 ? perIdErrors(err.body) : undefined;
    if (byId && entries.some((e) => byId.has(e.input))) {
      // The whole call was rolled back: report missing ids, ask about each refused object on
      // its own (its 409 names the blockers), and delete the others at once.
      for (const e of entries) {
        const messages = byId.get(e.input);
        if (!messages) continue;
        if (isMissing(messages)) {
          ctx.skipped.push(e.input);
          fail(ctx, e.index, skippedError("delete", ctx.path, e.input), messages);
        } else await deleteOne(ctx, e);
      }
      return deleteExisting(ctx, entries.filter((e) => !byId.has(e.input)));
    }
    const splittable = err.status === 409 || err.status === 400 ||
      isNetBoxException(err);
    if (splittable) return bisect(ctx, entries, deleteExisting);
    failAll(ctx, entries, err);
  }
};

const deleteChunk: ChunkFn<number, { id: number }> = async (ctx, entries) => {
  let exists: Set<number>;
  try {
    // NetBox >= 4.7 names unknown ids in a 400 (handled in deleteExisting); older versions skip
    // them silently and answer 204, so ask which exist first.
    const status = await ctx.transport.status();
    if (status.major > 4 || (status.major === 4 && status.minor >= 7)) {
      return await deleteExisting(ctx, entries);
    }
    exists = await existingIds(ctx as Ctx<unknown>, entries.map((e) => e.input));
  } catch (err) {
    return failAll(ctx, entries, err);
  }
  const present = entries.filter((e) => exists.has(e.input));
  for (const e of entries) {
    if (exists.has(e.input)) continue;
    ctx.skipped.push(e.input);
    fail(ctx, e.index, skippedError("delete", ctx.path, e.input));
  }
  await deleteExisting(ctx, present);
};

/**
 * The transport the chunk functions use: each bulk write request (a list body) is timed by the
 * sizer; reads and single-object requests pass through untouched.
 */
function measured(transport: Transport, sizer: ChunkSizer): Transport {
  const request = <R>(method: string, path: string, options?: RequestOptions): Promise<R> => {
    const body = options?.body;
    if (!Array.isArray(body) || method === "GET") {
      return transport.request<R>(method, path, options);
    }
    return sizer.measure(method, body.length, () => transport.request<R>(method, path, options));
  };
  return Object.assign(Object.create(transport), { request }) as Transport;
}

async function runBulk<I, T>(
  transport: Transport,
  path: string,
  inputs: I[],
  fn: ChunkFn<I, T>,
  options: BulkOptions,
): Promise<BulkResult<T>> {
  const { chunkSize = DEFAULT_CHUNK_SIZE, concurrency = transport.concurrency, signal } = options;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`Cannot write in bulk: chunkSize ${chunkSize} is not a positive integer`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `Cannot write in bulk: concurrency ${concurrency} is not a positive integer`,
    );
  }
  const sizer = createChunkSizer({
    max: chunkSize,
    timeoutMs: transport.timeoutMs,
    clock: transport.clock ?? systemClock,
    path,
    onChange(change) {
      transport.logVerbose?.(formatChunkSizeChange(change));
      options.onChunkSize?.(change);
    },
  });
  const ctx: Ctx<T> = {
    transport: measured(transport, sizer),
    path,
    signal,
    out: new Array(inputs.length),
    skipped: [],
    ifMatch: options.ifMatch,
  };
  // Chunks are cut when a slot frees up, at the size the requests measured so far allow.
  let next = 0;
  let done = 0;
  const take = (n: number): Entry<I>[] => {
    const chunk = inputs.slice(next, next + n).map((input, j) => ({ index: next + j, input }));
    next += chunk.length;
    return chunk;
  };
  const runChunk = async () => {
    let chunk: Entry<I>[];
    if (signal?.aborted) {
      chunk = take(inputs.length);
      const reason = signal.reason instanceof Error
        ? signal.reason
        : new Error(String(signal.reason));
      failAll(ctx, chunk, reason);
    } else if (options.stop?.aborted) {
      chunk = take(inputs.length);
      failAll(ctx, chunk, new NotSentError(`Cannot write ${path}: stopped before it was sent`));
    } else {
      chunk = take(sizer.size);
      await fn(ctx, chunk);
    }
    done += chunk.length;
    options.onProgress?.(done, inputs.length);
  };
  const worker = async () => {
    while (next < inputs.length) await runChunk();
  };
  // The first chunk goes alone (sized for a slow NetBox): its time sizes the ones after it.
  if (transport.timeoutMs !== undefined && inputs.length > 0) await runChunk();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const items = ctx.out;
  return {
    items,
    succeeded: items.flatMap((r) => (r.ok ? [r.value] : [])),
    failed: items.filter((r): r is Extract<BulkItemResult<T>, { ok: false }> => !r.ok),
    skippedIds: ctx.skipped.sort((a, b) => a - b),
  };
}

function checkId(path: string, id: unknown, index: number): number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1) {
    throw new TypeError(`Cannot write ${path} in bulk: item ${index} has no valid id (${id})`);
  }
  return id;
}

/**
 * Creates many objects in chunks (`POST` of a list), isolating rejected items.
 *
 * @param transport The client's transport.
 * @param path The list path, e.g. `"dcim/sites/"`.
 * @param bodies The objects to create.
 * @param options Chunk size, concurrency, progress, signal.
 * @returns One result per input item, in input order; never throws for item failures.
 *
 * @example Creating sites
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { bulkCreate } from "./bulk.ts";
 * import type { Transport } from "./types.ts";
 * let id = 0;
 * const transport = {
 *   concurrency: 4,
 *   request: (_m: string, _p: string, o: { body: object[] }) =>
 *     Promise.resolve(o.body.map((b) => ({ ...b, id: ++id }))),
 * } as unknown as Transport;
 * const result = await bulkCreate(transport, "dcim/sites/", [{ name: "a", slug: "a" }]);
 * assert(result.succeeded.length === 1 && result.failed.length === 0);
 * ```
 */
export function bulkCreate<T = unknown>(
  transport: Transport,
  path: string,
  bodies: Record<string, unknown>[],
  options: BulkOptions = {},
): Promise<BulkResult<T>> {
  return runBulk(
    transport,
    path,
    bodies,
    createChunk as ChunkFn<Record<string, unknown>, T>,
    options,
  );
}

/**
 * Patches many objects in chunks (`PATCH` of a list of `{id, …}`), isolating rejected items and
 * reporting ids NetBox skipped.
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param items The patches, each with the object's `id`.
 * @param options Chunk size, concurrency, progress, signal.
 * @returns One result per input item, in input order, and `skippedIds`.
 * @throws {TypeError} When an item has no valid id (before anything is sent).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { bulkUpdate } from "./bulk.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   concurrency: 4,
 *   request: (_m: string, _p: string, o: { body: { id: number }[] }) =>
 *     Promise.resolve(o.body.filter((b) => b.id !== 99)),
 * } as unknown as Transport;
 * const result = await bulkUpdate(transport, "dcim/sites/", [{ id: 1, description: "x" }, { id: 99, description: "y" }]);
 * assert(result.skippedIds[0] === 99);
 * ```
 */
export function bulkUpdate<T = unknown>(
  transport: Transport,
  path: string,
  items: ({ id: number } & Record<string, unknown>)[],
  options: BulkOptions = {},
): Promise<BulkResult<T>> {
  items.forEach((item, i) => checkId(path, item?.id, i));
  return runBulk(transport, path, items, updateChunk as ChunkFn<Patch, T>, options);
}

/**
 * Deletes many objects in chunks (`DELETE` of a list of `{id}`), after one `?id=…` list request
 * per chunk to find ids NetBox would silently skip; objects with dependents (409) are isolated
 * and reported with NetBox's message naming the blockers.
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param ids The ids to delete.
 * @param options Chunk size, concurrency, progress, signal.
 * @returns One result per id, in input order, and `skippedIds`.
 * @throws {TypeError} When an id is not a positive integer (before anything is sent).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { bulkDelete } from "./bulk.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   concurrency: 4,
 *   status: () => Promise.resolve({ version: "4.6.8", major: 4, minor: 6, patch: 8, raw: {} }),
 *   request: (m: string) => Promise.resolve(m === "GET" ? { results: [{ id: 1 }] } : undefined),
 * } as unknown as Transport;
 * // Before NetBox 4.7 an unknown id is silently skipped by the server: reported in skippedIds.
 * const result = await bulkDelete(transport, "dcim/sites/", [1, 2]);
 * assert(result.succeeded.length === 1 && result.skippedIds[0] === 2);
 * ```
 */
export function bulkDelete(
  transport: Transport,
  path: string,
  ids: number[],
  options: BulkOptions = {},
): Promise<BulkResult<{ id: number }>> {
  ids.forEach((id, i) => checkId(path, id, i));
  return runBulk(transport, path, ids, deleteChunk, options);
}
