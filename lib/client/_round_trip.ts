/**
 * One round trip of the transport: the request's URL, headers and body, one `fetch` under the
 * per-attempt timeout, the answer parsed or mapped to a {@linkcode FailedAttempt} (what the retry
 * loop needs to decide, and how to build the final error). No retries, no handshake here.
 *
 * @module
 */

import { seconds } from "../base/duration.ts";
import { serializeFilters } from "./filters.ts";
import type { AttemptFailure } from "./retry.ts";
import { parseRetryAfter } from "./_retry_after.ts";
import { httpError, parseErrorBody } from "./_http_error.ts";
import { redactText, redactValue } from "./_redact.ts";
import { NetBoxHttpError, NetBoxNetworkError, NetBoxTimeoutError } from "./errors.ts";
import type { Clock, RequestOptions, WriteEvent } from "./types.ts";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** What every round trip of one client shares. The token lives only in `authorization`. */
export interface Connection {
  /** The `Authorization` header value. */
  readonly authorization: string;
  /** 2 for `nbt_` tokens, else 1. */
  readonly tokenVersion: 1 | 2;
  /** The `User-Agent` header value. */
  readonly userAgent: string;
  /** The per-attempt timeout, in ms. */
  readonly timeoutMs: number;
  /** The fetch implementation. */
  readonly fetch: typeof fetch;
  /** The TLS client for extra CA certificates, created on first use; `undefined` without. */
  readonly httpClient: () => Deno.HttpClient | undefined;
  /** The client's clock. */
  readonly clock: Clock;
  /** Whether each attempt is logged. */
  readonly verbose: boolean;
  /** The request log (already redacting). */
  readonly log: (line: string) => void;
  /** The token's secrets, redacted from every message. */
  readonly secrets: readonly string[];
  /** Aborts every request of the client. */
  readonly signal?: AbortSignal;
}

/** One request, ready to be sent (once or, by the retry loop, again). */
export interface Call {
  readonly method: string;
  readonly apiPath: string;
  readonly url: string;
  /** The path and query shown in logs and errors. */
  readonly shownPath: string;
  readonly target: URL;
  /** The words of "Cannot <action>". */
  readonly action: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** The caller's and the client's signals together; `undefined` without either. */
  readonly callerSignal: AbortSignal | undefined;
  readonly onHeaders: RequestOptions["onHeaders"];
  readonly parse: RequestOptions["parse"];
}

/** What the attempts of one call have done so far. */
export interface AttemptLog {
  /** The number of the latest attempt (1 for the first). */
  attempts: number;
  /** The latest attempt's write, if it was a write that got an answer. */
  lastWrite?: WriteEvent;
}

/** One failed attempt: what the retry policy needs, and how to build the final error. */
export class FailedAttempt {
  constructor(
    readonly failure: AttemptFailure | undefined,
    readonly toError: (suffix: string) => Error,
  ) {}
}

/** Prepares a call: its headers (the token last, so no caller header replaces it) and body. */
export function prepareCall(
  conn: Connection,
  method: string,
  apiPath: string,
  url: string,
  action: string,
  options: RequestOptions,
): Call {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    "Accept": "application/json",
    "User-Agent": conn.userAgent,
    ...options.headers,
    "Authorization": conn.authorization,
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const signals = [options.signal, conn.signal].filter((s): s is AbortSignal => s !== undefined);
  const target = new URL(url);
  return {
    method,
    apiPath,
    url,
    shownPath: target.pathname + target.search,
    target,
    action,
    headers,
    body,
    callerSignal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
    onHeaders: options.onHeaders,
    parse: options.parse,
  };
}

/**
 * One attempt of a call: one fetch under the per-attempt timeout. Resolves to the parsed body;
 * throws a {@linkcode FailedAttempt} (or the caller's abort reason, or a missing permission).
 */
export async function roundTrip(
  conn: Connection,
  call: Call,
  n: number,
  log: AttemptLog,
): Promise<unknown> {
  log.attempts = n;
  log.lastWrite = undefined;
  const timeout = AbortSignal.timeout(conn.timeoutMs);
  const signal = call.callerSignal ? AbortSignal.any([timeout, call.callerSignal]) : timeout;
  const started = conn.clock.now();
  const elapsed = () => `${Math.round(conn.clock.now() - started)}ms`;
  const failed = (err: unknown, stage: "send" | "body", status?: number) => {
    if (call.callerSignal?.aborted) return call.callerSignal.reason;
    if (conn.verbose) {
      conn.log(
        `${call.method} ${call.shownPath} ${
          status ?? "-"
        } failed after ${elapsed()} (attempt ${n})`,
      );
    }
    return failedFetch(conn, call, err, stage, timeout.aborted, log);
  };
  let response: Response;
  let text: string;
  try {
    response = await conn.fetch(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal,
      client: conn.httpClient(),
    });
  } catch (err) {
    // A missing --allow-net is the user's to fix, not a network failure to retry.
    if (err instanceof Deno.errors.NotCapable) throw err;
    throw failed(err, "send");
  }
  try {
    text = await readText(response);
  } catch (err) {
    throw failed(err, "body", response.status);
  }
  if (conn.verbose) conn.log(`${call.method} ${call.shownPath} ${response.status} ${elapsed()}`);
  const requestId = response.headers.get("X-Request-ID") ?? undefined;
  if (WRITE_METHODS.has(call.method)) {
    log.lastWrite = {
      time: new Date(conn.clock.now()).toISOString(),
      ...writeEvent(call.method, call.shownPath, response.status, requestId, text, call.body),
    };
  }
  if (response.ok) {
    call.onHeaders?.(response.headers);
    return parseOk(response, text, call, requestId);
  }
  throw failedStatus(conn, call, response, text, requestId);
}

/** The buffer an answer is read into, a piece at a time (see {@linkcode readText}). */
const READ_CHUNK = 64 * 1024;

/**
 * The text of an answer, read into one buffer of {@linkcode READ_CHUNK} bytes a piece at a time
 * and decoded as it arrives. `Response.text()` copies the whole body into one buffer first, and
 * the chunks a default reader hands out are buffers of their own; for list pages of several
 * hundred KB those buffers come from the C heap and stay there until V8 collects their owners
 * (glibc also serves later large buffers from its heap once it has freed one): 10–20 MB more
 * resident over a long listing. A body that is not a byte stream is read chunk by chunk.
 */
async function readText(response: Response): Promise<string> {
  const body = response.body;
  if (!body) return "";
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let reader: ReadableStreamBYOBReader | undefined;
  try {
    reader = body.getReader({ mode: "byob" });
  } catch {
    for await (const chunk of body) parts.push(decoder.decode(chunk, { stream: true }));
  }
  if (reader) {
    let buffer = new Uint8Array(READ_CHUNK);
    while (true) {
      const { done, value } = await reader.read(buffer);
      if (value) {
        parts.push(decoder.decode(value, { stream: true }));
        buffer = new Uint8Array(value.buffer); // the same memory, handed back for the next piece
      }
      if (done) break;
    }
  }
  parts.push(decoder.decode());
  return parts.length === 2 ? parts[0] + parts[1] : parts.join("");
}

/** A fetch that threw or whose body broke: a timeout or a network failure. */
function failedFetch(
  conn: Connection,
  call: Call,
  err: unknown,
  stage: "send" | "body",
  timedOut: boolean,
  log: AttemptLog,
): FailedAttempt {
  if (timedOut) {
    return new FailedAttempt({ kind: "timeout" }, (suffix) =>
      new NetBoxTimeoutError(
        `Cannot ${call.action}: no answer within ${seconds(conn.timeoutMs)}${suffix}`,
        { attempts: log.attempts, cause: err, stage: "timeout" },
      ));
  }
  const described = describeNetworkError(err, stage, call.target);
  return new FailedAttempt(
    { kind: "network", stage: described.stage },
    (suffix) =>
      new NetBoxNetworkError(
        redactText(`Cannot ${call.action}: ${described.reason}${suffix}`, conn.secrets),
        { attempts: log.attempts, cause: err, stage: described.stage },
      ),
  );
}

/** A non-2xx answer: its status for the retry policy, NetBox's messages for the error. */
function failedStatus(
  conn: Connection,
  call: Call,
  response: Response,
  text: string,
  requestId: string | undefined,
): FailedAttempt {
  const parsed = parseErrorBody(text, response.headers.get("Content-Type"));
  const safe = {
    body: redactValue(parsed.body, conn.secrets),
    messages: redactValue(parsed.messages, conn.secrets) as Record<string, string[]>,
    summary: redactText(parsed.summary, conn.secrets),
  };
  const failure: AttemptFailure = {
    kind: "status",
    status: response.status,
    retryAfterMs: parseRetryAfter(response.headers.get("Retry-After"), conn.clock.now()),
  };
  // NetBox before 4.5 knows no v2 tokens: `Bearer nbt_…` reads as no credentials at all.
  const apiVersion = /^(\d+)\.(\d+)/.exec(response.headers.get("API-Version") ?? "");
  const v2TooNew = response.status === 403 && conn.tokenVersion === 2 && apiVersion !== null &&
    Number(apiVersion[1]) === 4 && Number(apiVersion[2]) < 5;
  return new FailedAttempt(failure, (suffix) =>
    httpError({
      status: response.status,
      statusText: response.statusText,
      method: call.method,
      path: call.shownPath,
      apiPath: call.apiPath,
      requestId,
      action: call.action,
      tokenVersion: conn.tokenVersion,
      parsed: safe,
      suffix: v2TooNew
        ? `; NetBox ${apiVersion![0]} knows only v1 tokens (v2 tokens, nbt_…, need NetBox ` +
          `4.5 or newer): use a v1 token${suffix}`
        : suffix,
    }));
}

/**
 * Builds the request URL: `path` relative to `/api/` (a leading `/` or `/api/` is stripped; a
 * query string in `path` is kept) plus `query`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { buildUrl } from "./_round_trip.ts";
 * const { url, apiPath } = buildUrl("https://nb.example.com/api/", "/api/ipam/prefixes/?limit=5", { status: ["active", "reserved"] });
 * assert(apiPath === "ipam/prefixes/");
 * assert(url === "https://nb.example.com/api/ipam/prefixes/?limit=5&status=active&status=reserved");
 * ```
 */
export function buildUrl(
  apiUrl: string,
  path: string,
  query?: RequestOptions["query"],
): { apiPath: string; url: string } {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw new TypeError(`Cannot request "${path}": the path must be relative to /api/`);
  }
  const [pathPart, queryPart = ""] = splitOnce(path, "?");
  const apiPath = pathPart.replace(/^\/+/, "").replace(/^api\//, "");
  const params = new URLSearchParams(queryPart);
  const extra = query instanceof URLSearchParams ? query : serializeFilters(query ?? {});
  for (const [key, value] of extra) params.append(key, value);
  const search = params.toString();
  return { apiPath, url: `${apiUrl}${apiPath}${search === "" ? "" : `?${search}`}` };
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * The words of "Cannot <action>" for a request: `list dcim/sites/`, `get dcim/sites/5/`,
 * `create …`, `update …`, `delete …`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { defaultAction } from "./_round_trip.ts";
 * assert(defaultAction("GET", "dcim/sites/") === "list dcim/sites/");
 * assert(defaultAction("GET", "dcim/sites/5/") === "get dcim/sites/5/");
 * assert(defaultAction("POST", "ipam/ip-addresses/") === "create ipam/ip-addresses/");
 * ```
 */
export function defaultAction(method: string, apiPath: string): string {
  switch (method.toUpperCase()) {
    case "GET":
    case "HEAD":
      return `${/\/\d+\/$/.test(apiPath) ? "get" : "list"} ${apiPath}`;
    case "POST":
      return `create ${apiPath}`;
    case "PUT":
    case "PATCH":
      return `update ${apiPath}`;
    case "DELETE":
      return `delete ${apiPath}`;
    default:
      return `${method.toUpperCase()} ${apiPath}`;
  }
}

function parseOk(
  response: Response,
  text: string,
  call: Call,
  requestId: string | undefined,
): unknown {
  if (response.status === 204 || text.trim() === "") return undefined;
  try {
    return call.parse ? call.parse(text) : JSON.parse(text);
  } catch {
    const parsed = parseErrorBody(text, response.headers.get("Content-Type"));
    const what = parsed.summary === "" ? "" : ` (${parsed.summary})`;
    throw new FailedAttempt(undefined, (suffix) =>
      new NetBoxHttpError(
        `Cannot ${call.action}: the server answered ${response.status} with a body that is not JSON${what}; check that NETBOX_URL points at NetBox${suffix}`,
        {
          status: response.status,
          method: call.method,
          path: call.shownPath,
          requestId,
          body: parsed.body,
          messages: {},
        },
      ));
  }
}

/**
 * Describes a fetch failure. Deno reports network failures as `TypeError("fetch failed")` with
 * the reason in `cause.message`, e.g. "client error (Connect): tcp connect error: Connection
 * refused" or "client error (SendRequest): connection closed before message completed".
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { describeNetworkError } from "./_round_trip.ts";
 * const err = new TypeError("fetch failed", { cause: new Error("client error (Connect): tcp connect error: Connection refused (os error 111)") });
 * const d = describeNetworkError(err, "send", new URL("http://127.0.0.1:9/api/"));
 * assert(d.stage === "connect" && d.reason === "connection refused by 127.0.0.1:9");
 * ```
 */
export function describeNetworkError(
  err: unknown,
  stage: "send" | "body",
  target: URL,
): { stage: "connect" | "tls" | "reset" | "body"; reason: string } {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  const text = `${err instanceof Error ? err.message : String(err)} ${cause?.message ?? ""}`;
  const host = target.host;
  if (stage === "body") {
    return { stage: "body", reason: `the connection to ${host} broke while reading the answer` };
  }
  if (/certificate|tls|ssl|handshake|corrupt message|InvalidContentType/i.test(text)) {
    const detail = /invalid peer certificate: ([^\n]+)/i.exec(text)?.[1] ?? "TLS failure";
    return {
      stage: "tls",
      reason:
        `TLS to ${host} failed (${detail}); for a private CA pass --ca-cert or set NETBOX_CA_CERT`,
    };
  }
  if (/dns error|failed to lookup|name or service not known|nodename nor servname/i.test(text)) {
    return { stage: "connect", reason: `cannot resolve ${target.hostname}` };
  }
  if (/connection refused/i.test(text)) {
    return { stage: "connect", reason: `connection refused by ${host}` };
  }
  if (/\(Connect\)|unreachable|no route to host/i.test(text)) {
    return { stage: "connect", reason: `cannot connect to ${host}` };
  }
  return { stage: "reset", reason: `the connection to ${host} was closed before NetBox answered` };
}

function writeEvent(
  method: string,
  path: string,
  status: number,
  requestId: string | undefined,
  responseText: string,
  requestBody: string | undefined,
): Omit<WriteEvent, "time"> {
  let ids = idsOf(tryJson(responseText));
  if (ids.length === 0 && method === "DELETE") {
    ids = idsOf(tryJson(requestBody ?? ""));
    const fromPath = /\/(\d+)\/(?:\?.*)?$/.exec(path)?.[1];
    if (ids.length === 0 && fromPath) ids = [Number(fromPath)];
  }
  return { method, path, status, requestId, ids };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function idsOf(value: unknown): number[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) =>
    item !== null && typeof item === "object" && typeof (item as { id?: unknown }).id === "number"
      ? [(item as { id: number }).id]
      : []
  );
}
