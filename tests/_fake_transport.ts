/**
 * A scripted fake {@linkcode Transport} for unit tests of the data layer: it records every
 * request and answers through a handler. `fakeTable` answers a list request from the shared fake
 * NetBox (`_fake_netbox.ts`).
 *
 * @module
 */

import { NetBoxHttpError } from "../lib/client/errors.ts";
import { serializeFilters } from "../lib/client/filters.ts";
import { systemClock } from "../lib/client/retry.ts";
import type { NetBoxStatus, RequestOptions, Transport } from "../lib/client/types.ts";
import { FakeNetBox } from "./_fake_netbox.ts";

/** One recorded request. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  signal?: AbortSignal;
  /** The request's own headers (`If-Match`, the branch header, …). */
  headers?: Record<string, string>;
}

/** Options of {@linkcode fakeTransport}. */
export interface FakeOptions {
  version?: string;
  concurrency?: number;
  pageSize?: number;
  memoryBudget?: number;
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
  const {
    version = "4.7.3",
    concurrency = 4,
    pageSize = 1000,
    memoryBudget = 4 * 1024 * 1024,
    strictFilters = false,
  } = options;
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
    memoryBudget,
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
      const req = {
        method,
        path,
        query,
        body: opts.body,
        signal: opts.signal,
        headers: opts.headers,
      };
      fake.requests.push(req);
      inFlight++;
      fake.maxInFlight = Math.max(fake.maxInFlight, inFlight);
      try {
        await Promise.resolve(); // let other requests start, as a real server would
        opts.signal?.throwIfAborted();
        const answer = await handler(req);
        // As the real transport: the caller's parser gets the answer's text.
        return (opts.parse && answer !== undefined
          ? opts.parse(JSON.stringify(answer))
          : answer) as T;
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
 * Answers a list request like NetBox would, over `rows` (each with an `id`): the shared fake
 * NetBox's listing (`_fake_netbox.ts`: filters with lookups, `limit`, `offset`, `start`,
 * `ordering`, `fields`, `brief`, MAX_PAGE_SIZE clamping), its 400 thrown as the transport would.
 */
export async function fakeTable(
  rows: { id: number; [k: string]: unknown }[],
  req: FakeRequest,
  options: TableOptions = {},
): Promise<unknown> {
  const { maxPageSize = 1000, cursor = true, host = "http://internal.example:8080" } = options;
  const path = req.path.replace(/^\/|\/$/g, "");
  const nb = new FakeNetBox({
    version: cursor ? "4.7.3" : "4.5.0",
    maxPageSize,
    host,
    tables: { [path]: rows },
  });
  const response = await nb.fetch(`${host}/api/${path}/${req.query.size ? `?${req.query}` : ""}`);
  const body = await response.json();
  if (!response.ok) throw httpError(response.status, "GET", req.path, body);
  return body;
}
