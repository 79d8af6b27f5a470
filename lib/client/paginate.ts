/**
 * Listing: the re-iterable, streaming `list()` behind every endpoint, `count()`, and the field
 * trimming options shared with `get()`.
 *
 * - Cursor mode (`start=<id>`) on NetBox >= 4.6, offset mode before and whenever `ordering` is
 *   given. Cursor mode yields objects in id order (NetBox's cursor order), offset mode in the
 *   endpoint's default (or the requested) order.
 * - Only the query string of `next` links is followed, never their host (behind a proxy NetBox
 *   may name an internal host).
 * - Parallel fetching (default on) splits the rest of a listing after its first page: into id
 *   ranges in cursor mode (one cheap request finds the count and the highest id), into offsets in
 *   offset mode (from the first page's count). Pages are still yielded in server order, at most
 *   `concurrency` requests are in flight, and only a small window of pages is buffered. A result
 *   that fits in one page costs exactly one request.
 *
 * @module
 */

import { checkFilters } from "./filter_guard.ts";
import { serializeFilters } from "./filters.ts";
import { NetBoxError } from "./errors.ts";
import {
  type HeldPage,
  heldPage,
  nextQuery,
  type Page,
  type Segment,
  windowedPages,
} from "./_page_window.ts";
import { omitter, trimmingQuery, versionAtLeast } from "./query.ts";
import type { Filters, Listing, ListOptions, Transport } from "./types.ts";

/** Keys the paginator sets itself; passing them as filters is a mistake. */
const PAGING_KEYS = ["limit", "offset", "start"];

/**
 * List endpoints whose model has a field filter named `start` (an ASN range's first AS number).
 * NetBox ≥ 4.6 applies `start=<id>` there as the cursor and as that filter at once, and answers
 * with nothing: they are listed by offset.
 */
const OWN_START_FILTER = new Set(["ipam/asn-ranges/"]);

/** Share of the page size a cursor range aims at, so most ranges fit in one request. */
const RANGE_FILL = 0.95;

function rejectPagingKeys(path: string, filters: Filters): void {
  for (const key of PAGING_KEYS) {
    if (filters[key] !== undefined) {
      throw new TypeError(
        `Cannot list ${path}: "${key}" is set by the paginator; use the pageSize option or all()`,
      );
    }
  }
}

function joinQuery(...parts: URLSearchParams[]): URLSearchParams {
  const out = new URLSearchParams();
  for (const part of parts) for (const [k, v] of part) out.append(k, v);
  return out;
}

function withParams(query: URLSearchParams, params: Record<string, string>): URLSearchParams {
  const out = new URLSearchParams(query);
  for (const [k, v] of Object.entries(params)) out.set(k, v);
  return out;
}

interface Run<T> {
  transport: Transport;
  path: string;
  base: URLSearchParams;
  pageSize: number;
  concurrency: number;
  memoryBudget: number;
  parallel: boolean;
  signal: AbortSignal | undefined;
  fetch(query: URLSearchParams, signal?: AbortSignal): Promise<HeldPage<T>>;
}

async function* followNext<T>(run: Run<T>, next: string | null | undefined): AsyncGenerator<T[]> {
  while (next) {
    const page = await run.fetch(nextQuery(next));
    const items = page.items();
    if (!items.length) return;
    yield items;
    next = page.next;
  }
}

/** The page size the server really used: a full page shorter than asked means clamping. */
function effectivePageSize(run: Run<unknown>, next: unknown, length: number): number {
  return next && length > 0 && length < run.pageSize ? length : run.pageSize;
}

function idOf(item: unknown): number | undefined {
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === "number" && Number.isInteger(id) ? id : undefined;
}

/** What the rest of a listing needs of its first page, so the page itself is not kept alive. */
interface FirstPage {
  next: string | null | undefined;
  count: number | null | undefined;
  length: number;
  lastId: number | undefined;
  size: number;
  bytes: number;
}

async function* firstPage<T>(run: Run<T>, query: URLSearchParams, into: FirstPage[]) {
  const page = await run.fetch(query);
  const items = page.items();
  into.push({
    next: page.next,
    count: page.count,
    length: items.length,
    lastId: idOf(items.at(-1)),
    size: effectivePageSize(run, page.next, items.length),
    bytes: page.bytes,
  });
  if (items.length) yield items;
}

function windowOf<T>(run: Run<T>, first: FirstPage) {
  return {
    concurrency: run.concurrency,
    signal: run.signal,
    memoryBudget: run.memoryBudget,
    firstPageBytes: first.bytes,
  };
}

async function* offsetPages<T>(run: Run<T>): AsyncGenerator<T[]> {
  const got: FirstPage[] = [];
  yield* firstPage(run, withParams(run.base, { limit: String(run.pageSize) }), got);
  const [first] = got;
  if (!first.next) return;
  const count = typeof first.count === "number" ? first.count : undefined;
  if (!run.parallel || count === undefined || first.length === 0) {
    return yield* followNext(run, first.next);
  }
  const size = first.size;
  const segments: Segment[] = [];
  for (let offset = first.length; offset < count; offset += size) {
    const query = withParams(run.base, { limit: String(size), offset: String(offset) });
    segments.push({ query, follow: offset + size >= count });
  }
  yield* windowedPages(segments, run.fetch, windowOf(run, first));
}

function hasIdFilter(query: URLSearchParams): boolean {
  for (const key of query.keys()) if (key === "id" || key.startsWith("id__")) return true;
  return false;
}

async function* cursorPages<T>(run: Run<T>): AsyncGenerator<T[]> {
  const got: FirstPage[] = [];
  yield* firstPage(run, withParams(run.base, { start: "0", limit: String(run.pageSize) }), got);
  const [first] = got;
  if (!first.next) return;
  const lastId = first.lastId;
  // A server (or plugin) that ignored `start` answers in offset mode, with a count.
  const cursorAnswer = first.count === null || first.count === undefined;
  if (!run.parallel || lastId === undefined || !cursorAnswer || hasIdFilter(run.base)) {
    return yield* followNext(run, first.next);
  }
  const probe = await run.fetch(
    withParams(run.base, { ordering: "-id", limit: "1", fields: "id" }),
  );
  const maxId = idOf(probe.items()[0]);
  const remaining = (probe.count ?? 0) - first.length;
  if (maxId === undefined || maxId <= lastId || remaining <= 0) {
    return yield* followNext(run, first.next);
  }
  const size = first.size;
  const ranges = Math.max(1, Math.ceil(remaining / Math.max(1, Math.floor(size * RANGE_FILL))));
  const from = lastId + 1;
  const width = Math.max(1, Math.ceil((maxId + 1 - from) / ranges));
  const segments: Segment[] = [];
  for (let lo = from; lo <= maxId; lo += width) {
    const last = lo + width > maxId;
    const params: Record<string, string> = { start: String(lo), limit: String(size) };
    if (!last) params.id__lt = String(lo + width);
    segments.push({
      query: withParams(run.base, params),
      follow: true,
      range: { from: lo, to: last ? undefined : lo + width },
    });
  }
  yield* windowedPages(segments, run.fetch, windowOf(run, first));
}

async function* iterate<T>(
  transport: Transport,
  path: string,
  filters: Filters,
  options: ListOptions,
): AsyncGenerator<T> {
  await checkFilters(transport, path, filters, options.signal);
  const status = await transport.status();
  const { ordering = filters.ordering as string | undefined } = options;
  const filterQuery = serializeFilters({ ...filters, ordering });
  const base = joinQuery(filterQuery, trimmingQuery(options, status));
  const concurrency = options.concurrency ?? transport.concurrency;
  const run: Run<T> = {
    transport,
    path,
    base,
    pageSize: options.pageSize ?? transport.pageSize,
    concurrency,
    memoryBudget: options.memoryBudget ?? transport.memoryBudget ?? Infinity,
    parallel: options.parallel !== false && concurrency > 1,
    signal: options.signal,
    fetch: (query, signal) =>
      transport.request<HeldPage<T> | Page<T>>("GET", path, {
        query,
        signal: signal ?? options.signal,
        action: `list ${path}`,
        parse: (text) => pageOfText<T>(path, text),
      }).then((answer) => heldOf(path, answer)),
  };
  const strip = omitter<T>(options, status);
  const cursor = ordering === undefined && versionAtLeast(status, 4, 6) &&
    !OWN_START_FILTER.has(path);
  for await (const page of cursor ? cursorPages(run) : offsetPages(run)) {
    // Each item leaves the page as it is handed out, so what the consumer dropped is garbage
    // at once: a page kept whole while its items are consumed survives V8's young-generation
    // collections, which then grow the young generation (and RSS) without bound for a long
    // listing. Pages are this generator's own (parsed answers, never shared).
    for (let i = 0; i < page.length; i++) {
      const item = page[i];
      (page as (T | undefined)[])[i] = undefined;
      yield strip(item);
    }
  }
}

function checkPage<T>(path: string, page: Page<T>): Page<T> {
  if (!page || !Array.isArray(page.results)) {
    throw new NetBoxError(`Cannot list ${path}: the answer is not a NetBox list page`);
  }
  return page;
}

/** A transport that parsed the answer itself (one that ignores `parse`) gave a plain page. */
function heldOf<T>(path: string, answer: HeldPage<T> | Page<T>): HeldPage<T> {
  return typeof (answer as HeldPage<T>)?.items === "function"
    ? answer as HeldPage<T>
    : heldPage(checkPage(path, answer as Page<T>));
}

/** The head of a NetBox list answer, up to its results array (the order DRF writes). */
const PAGE_HEAD =
  /^\s*\{\s*"count"\s*:\s*(null|\d+)\s*,\s*"next"\s*:\s*(null|"(?:[^"\\]|\\.)*")\s*,\s*"previous"\s*:\s*(?:null|"(?:[^"\\]|\\.)*")\s*,\s*"results"\s*:\s*\[\s*(\]?)/;

/**
 * A list answer as a {@linkcode HeldPage}: its head (count, next link, whether it is empty) read
 * off the text, its items parsed only when asked for. An answer of another shape is parsed at
 * once (and checked) instead.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { pageOfText } from "./paginate.ts";
 * const page = pageOfText<{ id: number }>("dcim/sites/", '{"count":null,"next":"http://x/api/dcim/sites/?start=3","previous":null,"results":[{"id":1},{"id":2}]}');
 * assert(page.next === "http://x/api/dcim/sites/?start=3" && !page.empty);
 * assert(page.items().map((s) => s.id).join() === "1,2");
 * ```
 */
export function pageOfText<T>(path: string, text: string): HeldPage<T> {
  const head = PAGE_HEAD.exec(text);
  if (!head || !/\]\s*\}\s*$/.test(text.slice(-64))) {
    return heldPage(checkPage(path, JSON.parse(text) as Page<T>));
  }
  let body: string | undefined = text;
  return {
    count: head[1] === "null" ? null : Number(head[1]),
    next: head[2] === "null" ? null : JSON.parse(head[2]) as string,
    empty: head[3] === "]",
    bytes: text.length,
    items() {
      const answer = body;
      if (answer === undefined) throw new Error("A held page's items were already taken");
      body = undefined;
      try {
        return checkPage(path, JSON.parse(answer) as Page<T>).results;
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        throw new NetBoxError(
          `Cannot list ${path}: the server answered with a body that is not JSON (${error.message})`,
        );
      }
    },
  };
}

/**
 * Lists every object of a list endpoint matching `filters`, streaming, as a re-iterable
 * {@linkcode Listing} (each iteration sends its own requests). The filter names are checked
 * first (see `filter_guard.ts`); a typo throws `FilterError` before any list request.
 *
 * @param transport The client's transport.
 * @param path The list path under `/api/`, e.g. `"ipam/prefixes/"`.
 * @param filters The filters (see `serializeFilters`).
 * @param options Field trimming, page size, parallelism, ordering, signal.
 * @returns The listing.
 * @throws {TypeError} When `limit`, `offset` or `start` is passed as a filter.
 * @throws {FilterError} When a filter name is unknown (on iteration).
 *
 * @example Streaming and collecting
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { paginate } from "./paginate.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   pageSize: 1000, concurrency: 4, strictFilters: false,
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: () => Promise.resolve({ count: null, next: null, results: [{ id: 1 }, { id: 2 }] }),
 * } as unknown as Transport;
 * const sites = paginate(transport, "dcim/sites/", { status: "active" });
 * for await (const site of sites) assert(site !== undefined);
 * assert((await sites.all()).length === 2);
 * ```
 */
export function paginate<T = unknown>(
  transport: Transport,
  path: string,
  filters: Filters = {},
  options: ListOptions = {},
): Listing<T> {
  rejectPagingKeys(path, filters);
  const listing: Listing<T> = {
    [Symbol.asyncIterator]: () => iterate<T>(transport, path, filters, options),
    all: () => Array.fromAsync(listing),
  };
  return listing;
}

/**
 * Asks the server how many objects match `filters` (`limit=1&brief=true`, offset mode).
 *
 * @param transport The client's transport.
 * @param path The list path under `/api/`.
 * @param filters The filters.
 * @param options Aborts the request.
 * @returns The count.
 * @throws {FilterError} When a filter name is unknown.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { countObjects } from "./paginate.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   strictFilters: false,
 *   request: () => Promise.resolve({ count: 42, next: "x", results: [{ id: 1 }] }),
 * } as unknown as Transport;
 * assert(await countObjects(transport, "dcim/sites/") === 42);
 * ```
 */
export async function countObjects(
  transport: Transport,
  path: string,
  filters: Filters = {},
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  rejectPagingKeys(path, filters);
  await checkFilters(transport, path, filters, options.signal);
  const query = withParams(serializeFilters(filters), { limit: "1", brief: "true" });
  const page = await transport.request<Page<unknown>>("GET", path, {
    query,
    signal: options.signal,
    action: `count ${path}`,
  });
  if (typeof page?.count !== "number") {
    throw new NetBoxError(`Cannot count ${path}: NetBox did not return a count`);
  }
  return page.count;
}
