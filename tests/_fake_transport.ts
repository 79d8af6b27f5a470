/**
 * A scripted fake {@linkcode Transport} for unit tests of the data layer: it records every
 * request and answers through a handler. `fakeTable` simulates a NetBox list endpoint (offset and
 * cursor pagination, `id` filters, `ordering=-id`, `fields`, MAX_PAGE_SIZE clamping).
 *
 * @module
 */

import { NetBoxHttpError } from "../lib/client/errors.ts";
import { serializeFilters } from "../lib/client/filters.ts";
import { systemClock } from "../lib/client/retry.ts";
import type { NetBoxStatus, RequestOptions, Transport } from "../lib/client/types.ts";

/** One recorded request. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  signal?: AbortSignal;
}

/** Options of {@linkcode fakeTransport}. */
export interface FakeOptions {
  version?: string;
  concurrency?: number;
  pageSize?: number;
  strictFilters?: boolean;
}

/** A fake transport plus what it recorded. */
export interface FakeTransport extends Transport {
  requests: FakeRequest[];
  warnings: string[];
  /** Requests in flight at the busiest moment. */
  maxInFlight: number;
  /** `"GET ipam/prefixes/?a=1"` lines, for compact assertions. */
  lines(): string[];
}

/** The answer of a handler: a JSON body, or an HTTP error to throw. */
export type FakeHandler = (req: FakeRequest) => unknown | Promise<unknown>;

/** Builds a fake transport answering through `handler`. */
export function fakeTransport(handler: FakeHandler, options: FakeOptions = {}): FakeTransport {
  const { version = "4.7.3", concurrency = 4, pageSize = 1000, strictFilters = false } = options;
  const [major, minor, patch] = version.split(".").map(Number);
  const status: NetBoxStatus = {
    version,
    major,
    minor,
    patch,
    raw: { "netbox-version": version },
  };
  let inFlight = 0;
  const fake: FakeTransport = {
    baseUrl: "http://127.0.0.1:1",
    apiUrl: "http://127.0.0.1:1/api/",
    tokenVersion: 2,
    concurrency,
    pageSize,
    strictFilters,
    settleMs: 0,
    clock: systemClock,
    requests: [],
    warnings: [],
    maxInFlight: 0,
    branchName: undefined,
    branch: () => Promise.resolve(undefined),
    async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
      const query = opts.query instanceof URLSearchParams
        ? new URLSearchParams(opts.query)
        : serializeFilters(opts.query ?? {});
      const req = { method, path, query, body: opts.body, signal: opts.signal };
      fake.requests.push(req);
      inFlight++;
      fake.maxInFlight = Math.max(fake.maxInFlight, inFlight);
      try {
        await Promise.resolve(); // let other requests start, as a real server would
        opts.signal?.throwIfAborted();
        return await handler(req) as T;
      } finally {
        inFlight--;
      }
    },
    status: () => Promise.resolve(status),
    canWrite: () => Promise.resolve(true),
    warn(message: string) {
      if (!fake.warnings.includes(message)) fake.warnings.push(message);
    },
    close() {},
    lines: () =>
      fake.requests.map((r) => `${r.method} ${r.path}${r.query.size ? "?" + r.query : ""}`),
  };
  return fake;
}

/** An HTTP error as the real transport would throw it. */
export function httpError(
  status: number,
  method: string,
  path: string,
  body: unknown,
): NetBoxHttpError {
  const messages: Record<string, string[]> = {};
  if (body && typeof body === "object" && !Array.isArray(body)) {
    for (const [k, v] of Object.entries(body)) messages[k] = Array.isArray(v) ? v : [String(v)];
  }
  return new NetBoxHttpError(`Cannot ${method} ${path}: HTTP ${status}`, {
    status,
    method,
    path,
    body,
    messages,
  });
}

/** Options of {@linkcode fakeTable}. */
export interface TableOptions {
  /** The server's MAX_PAGE_SIZE. @default {1000} */
  maxPageSize?: number;
  /** Whether the server knows `start=` (NetBox >= 4.6). @default {true} */
  cursor?: boolean;
  /** Host named in `next` links. @default {"http://internal.example:8080"} */
  host?: string;
}

/**
 * Answers a list request like NetBox would, over `rows` (each with an `id`), in id order.
 * Supports `limit`, `offset`, `start`, `id`, `id__lt`, `id__gte`, `ordering=-id|id`, `fields`.
 */
export function fakeTable(
  rows: { id: number; [k: string]: unknown }[],
  req: FakeRequest,
  options: TableOptions = {},
): unknown {
  const { maxPageSize = 1000, cursor = true, host = "http://internal.example:8080" } = options;
  const q = req.query;
  let items = [...rows].sort((a, b) => a.id - b.id);
  const ids = q.getAll("id").map(Number);
  if (ids.length) items = items.filter((r) => ids.includes(r.id));
  for (const v of q.getAll("id__lt")) items = items.filter((r) => r.id < Number(v));
  for (const v of q.getAll("id__gte")) items = items.filter((r) => r.id >= Number(v));
  if (q.get("ordering") === "-id") items.reverse();
  const rawLimit = Number(q.get("limit") ?? 50);
  const limit = Math.min(rawLimit === 0 ? maxPageSize : rawLimit, maxPageSize);
  const fields = q.get("fields")?.split(",");
  const shape = (r: Record<string, unknown>) =>
    fields ? Object.fromEntries(fields.filter((f) => f in r).map((f) => [f, r[f]])) : r;
  const link = (params: Record<string, string>) => {
    const next = new URLSearchParams(q);
    for (const [k, v] of Object.entries(params)) next.set(k, v);
    return `${host}/api/${req.path}?${next}`;
  };
  if (cursor && q.has("start")) {
    if (q.has("offset") || q.has("ordering")) {
      throw httpError(400, "GET", req.path, ["start cannot be combined with offset/ordering"]);
    }
    const start = Number(q.get("start"));
    const page = items.filter((r) => r.id >= start).slice(0, limit);
    const full = page.length === limit;
    return {
      count: null,
      next: full ? link({ start: String(page[page.length - 1].id + 1) }) : null,
      previous: null,
      results: page.map(shape),
    };
  }
  const offset = Number(q.get("offset") ?? 0);
  const page = items.slice(offset, offset + limit);
  const more = offset + limit < items.length;
  return {
    count: items.length,
    next: more ? link({ offset: String(offset + limit), limit: String(limit) }) : null,
    previous: null,
    results: page.map(shape),
  };
}
