/**
 * The core round trip of the client: URL building, auth header, JSON, per-attempt timeout,
 * retry, error mapping, the version handshake and the request log. Everything else in the
 * library sits on {@linkcode createTransport}.
 *
 * @module
 */

import { serializeFilters } from "./filters.ts";
import { isInsecureUrl, normalizeUrl } from "./config.ts";
import { type AttemptFailure, retry, systemClock } from "./retry.ts";
import { parseRetryAfter } from "./_retry_after.ts";
import { httpError, parseErrorBody } from "./_http_error.ts";
import { redactText, redactValue, tokenSecrets } from "./_redact.ts";
import {
  ConfigError,
  NetBoxError,
  NetBoxHttpError,
  NetBoxNetworkError,
  NetBoxTimeoutError,
} from "./errors.ts";
import { TOOLKIT_VERSION } from "./version.ts";
import {
  BRANCH_HEADER,
  type BranchInfo,
  checkBranchName,
  ensureBranch,
  findBranch,
} from "./branching.ts";
import type {
  ClientOptions,
  NetBoxStatus,
  RequestOptions,
  Transport,
  WriteEvent,
} from "./types.ts";

/**
 * The default `User-Agent` header.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { DEFAULT_USER_AGENT } from "./transport.ts";
 * assert(DEFAULT_USER_AGENT.startsWith("netbox-toolkit/"));
 * ```
 */
export const DEFAULT_USER_AGENT = `netbox-toolkit/${TOOLKIT_VERSION}`;

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** One failed attempt: what the retry policy needs, and how to build the final error. */
class FailedAttempt {
  constructor(
    readonly failure: AttemptFailure | undefined,
    readonly toError: (suffix: string) => Error,
  ) {}
}

/**
 * Creates the transport of a client: one `request()` for every call, the cached
 * `/api/status/` handshake, `canWrite()`, warnings and `close()`. The token lives only in a
 * closure: it never appears in `Deno.inspect`, JSON or any message.
 *
 * @param options Client options; `url` and `token` are required.
 * @returns The transport.
 * @throws {ConfigError} When the URL or token is missing or the URL is not http(s).
 * @throws {RangeError} When a numeric option is out of range.
 *
 * @example A request against a scripted fetch
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createTransport } from "./transport.ts";
 * const fetch = (input: RequestInfo | URL) => {
 *   const body = String(input).endsWith("/api/status/")
 *     ? { "netbox-version": "4.7.3" }
 *     : { count: 1, next: null, previous: null, results: [{ id: 1, name: "Matrix" }] };
 *   return Promise.resolve(Response.json(body));
 * };
 * const transport = createTransport({ url: "https://nb.example.com", token: "nbt_abcdefghijkl.secret", fetch });
 * const page = await transport.request<{ count: number }>("GET", "dcim/sites/", { query: { name: "Matrix" } });
 * assert(page.count === 1);
 * assert((await transport.status()).minor === 7);
 * transport.close();
 * ```
 */
export function createTransport(options: ClientOptions): Transport {
  const {
    timeoutMs = 30_000,
    retries = 4,
    concurrency = 4,
    pageSize = 1000,
    strictFilters = true,
    userAgent = DEFAULT_USER_AGENT,
    verbose = false,
    clock = systemClock,
    retryBudgetMs = 120_000,
    signal: clientSignal,
    onWrite,
  } = options;
  if (typeof options.url !== "string" || options.url.trim() === "") {
    throw new ConfigError("Cannot connect to NetBox: no URL; set NETBOX_URL or pass --url");
  }
  const token = typeof options.token === "string" ? options.token.trim() : "";
  if (token === "") {
    throw new ConfigError(
      "Cannot connect to NetBox: no API token; set NETBOX_TOKEN or NETBOX_TOKEN_FILE, or pass --token-file",
    );
  }
  checkRange("timeoutMs", timeoutMs, 1);
  checkRange("retries", retries, 0, true);
  checkRange("concurrency", concurrency, 1, true);
  checkRange("pageSize", pageSize, 1, true);
  checkRange("retryBudgetMs", retryBudgetMs, 0);
  const settleMs = options.settleMs ?? 2 * timeoutMs;
  checkRange("settleMs", settleMs, 0);

  const baseUrl = normalizeUrl(options.url);
  const apiUrl = `${baseUrl}/api/`;
  const secrets = tokenSecrets(token);
  const tokenVersion: 1 | 2 = token.startsWith("nbt_") ? 2 : 1;
  const authorization = `${tokenVersion === 2 ? "Bearer" : "Token"} ${token}`;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const rawLog = options.log ?? ((line: string) => console.error(line));
  const log = (line: string) => rawLog(redactText(line, secrets));
  const caCerts = options.caCerts?.filter((pem) => pem.trim() !== "") ?? [];
  let httpClient: Deno.HttpClient | undefined;
  const warned = new Set<string>();
  let statusPromise: Promise<NetBoxStatus> | undefined;
  let canWritePromise: Promise<boolean | undefined> | undefined;

  const warn = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    log(message);
  };

  if (isInsecureUrl(baseUrl)) {
    warn(
      `warning: ${baseUrl} is plain http to a non-loopback host: the token travels unencrypted; use https`,
    );
  }

  const clientFor = (): Deno.HttpClient | undefined => {
    if (caCerts.length === 0) return undefined;
    return httpClient ??= Deno.createHttpClient({ caCerts });
  };

  /** One request with retries; the handshake is the caller's business. */
  const send = async (
    method: string,
    apiPath: string,
    url: string,
    action: string,
    requestOptions: RequestOptions,
  ): Promise<unknown> => {
    const body = requestOptions.body === undefined
      ? undefined
      : JSON.stringify(requestOptions.body);
    const headers: Record<string, string> = {
      "Accept": "application/json",
      "User-Agent": userAgent,
      ...requestOptions.headers,
      "Authorization": authorization,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const callerSignals = [requestOptions.signal, clientSignal].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const callerSignal = callerSignals.length > 0 ? AbortSignal.any(callerSignals) : undefined;
    const target = new URL(url);
    const shownPath = target.pathname + target.search;
    let attempts = 0;
    let lastWrite: WriteEvent | undefined;

    const attempt = async (n: number): Promise<unknown> => {
      attempts = n;
      lastWrite = undefined;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = callerSignal ? AbortSignal.any([timeout, callerSignal]) : timeout;
      const started = clock.now();
      const elapsed = () => `${Math.round(clock.now() - started)}ms`;
      const failedFetch = (err: unknown, stage: "send" | "body", status?: number) => {
        if (callerSignal?.aborted) return callerSignal.reason;
        if (verbose) {
          log(`${method} ${shownPath} ${status ?? "-"} failed after ${elapsed()} (attempt ${n})`);
        }
        if (timeout.aborted) {
          return new FailedAttempt({ kind: "timeout" }, (suffix) =>
            new NetBoxTimeoutError(
              `Cannot ${action}: no answer within ${formatSeconds(timeoutMs)}${suffix}`,
              { attempts, cause: err, stage: "timeout" },
            ));
        }
        const described = describeNetworkError(err, stage, target);
        return new FailedAttempt(
          { kind: "network", stage: described.stage },
          (suffix) =>
            new NetBoxNetworkError(
              redactText(`Cannot ${action}: ${described.reason}${suffix}`, secrets),
              { attempts, cause: err, stage: described.stage },
            ),
        );
      };
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(url, { method, headers, body, signal, client: clientFor() });
      } catch (err) {
        // A missing --allow-net is the user's to fix, not a network failure to retry.
        if (err instanceof Deno.errors.NotCapable) throw err;
        throw failedFetch(err, "send");
      }
      try {
        text = await response.text();
      } catch (err) {
        throw failedFetch(err, "body", response.status);
      }
      if (verbose) log(`${method} ${shownPath} ${response.status} ${elapsed()}`);
      const requestId = response.headers.get("X-Request-ID") ?? undefined;
      if (WRITE_METHODS.has(method)) {
        lastWrite = {
          time: new Date(clock.now()).toISOString(),
          ...writeEvent(method, shownPath, response.status, requestId, text, body),
        };
      }
      if (response.ok) {
        requestOptions.onHeaders?.(response.headers);
        return parseOk(response, text, method, shownPath, action, requestId);
      }
      const parsed = parseErrorBody(text, response.headers.get("Content-Type"));
      const safe = {
        body: redactValue(parsed.body, secrets),
        messages: redactValue(parsed.messages, secrets) as Record<string, string[]>,
        summary: redactText(parsed.summary, secrets),
      };
      const failure: AttemptFailure = {
        kind: "status",
        status: response.status,
        retryAfterMs: parseRetryAfter(response.headers.get("Retry-After"), clock.now()),
      };
      // NetBox before 4.5 knows no v2 tokens: `Bearer nbt_…` reads as no credentials at all.
      const apiVersion = /^(\d+)\.(\d+)/.exec(response.headers.get("API-Version") ?? "");
      const v2TooNew = response.status === 403 && tokenVersion === 2 && apiVersion !== null &&
        Number(apiVersion[1]) === 4 && Number(apiVersion[2]) < 5;
      throw new FailedAttempt(failure, (suffix) =>
        httpError({
          status: response.status,
          statusText: response.statusText,
          method,
          path: shownPath,
          apiPath,
          requestId,
          action,
          tokenVersion,
          parsed: safe,
          suffix: v2TooNew
            ? `; NetBox ${apiVersion![0]} knows only v1 tokens (v2 tokens, nbt_…, need NetBox ` +
              `4.5 or newer): use a v1 token${suffix}`
            : suffix,
        }));
    };

    try {
      return await retry(attempt, {
        method,
        retries,
        budgetMs: retryBudgetMs,
        clock,
        signal: callerSignal,
        failureOf: (err) => err instanceof FailedAttempt ? err.failure : undefined,
        onRetry: verbose
          ? ({ attempt: n, delayMs }) =>
            log(`retrying ${method} ${shownPath} in ${delayMs}ms (attempt ${n + 1})`)
          : undefined,
      });
    } catch (err) {
      if (err instanceof FailedAttempt) {
        throw err.toError(attempts > 1 ? ` after ${attempts} attempts` : "");
      }
      throw err;
    } finally {
      if (lastWrite && onWrite) onWrite(lastWrite);
    }
  };

  const loadStatus = (action: string): Promise<NetBoxStatus> => {
    statusPromise ??= send("GET", "status/", `${apiUrl}status/`, action, {})
      .then((raw) => {
        const status = parseStatus(raw, action, baseUrl);
        if (tokenVersion === 1 && (status.major > 4 || (status.major === 4 && status.minor >= 6))) {
          warn(
            `warning: the API token is a v1 token, deprecated since NetBox 4.6 and removed in 5.0 (this server runs ${status.version}); create a v2 token`,
          );
        }
        return status;
      })
      .catch((err) => {
        statusPromise = undefined;
        throw err;
      });
    return statusPromise;
  };

  /** A request on main: no branch header. */
  const requestMain = async <T = unknown>(
    method: string,
    path: string,
    requestOptions: RequestOptions = {},
  ): Promise<T> => {
    const verb = method.toUpperCase();
    const { apiPath, url } = buildUrl(apiUrl, path, requestOptions.query);
    const action = requestOptions.action ?? defaultAction(verb, apiPath);
    if (apiPath !== "status/") await loadStatus(action);
    return await send(verb, apiPath, url, action, requestOptions) as T;
  };

  // NetBox Branching: writes (and reads with branchReads) carry the branch's header. The branch
  // is found or created, and waited for, on first use.
  const branchName = options.branch === undefined ? undefined : checkBranchName(options.branch);
  let branchPromise: Promise<BranchInfo | undefined> | undefined;
  const branch = (): Promise<BranchInfo | undefined> => {
    if (branchName === undefined) return Promise.resolve(undefined);
    branchPromise ??= (async () => {
      const onMain = { request: requestMain, baseUrl };
      if (options.branchCreate === false && !(await findBranch(onMain, branchName))) {
        return undefined;
      }
      return await ensureBranch(onMain, branchName, { signal: clientSignal });
    })().catch((err) => {
      branchPromise = undefined;
      throw err;
    });
    return branchPromise;
  };

  const request = async <T = unknown>(
    method: string,
    path: string,
    requestOptions: RequestOptions = {},
  ): Promise<T> => {
    const verb = method.toUpperCase();
    const inBranch = branchName !== undefined &&
      (options.branchReads || (verb !== "GET" && verb !== "HEAD")) &&
      !/^\/?(api\/)?(status\/|plugins\/branching\/)/.test(path);
    if (!inBranch) return await requestMain<T>(method, path, requestOptions);
    const active = await branch();
    if (!active) return await requestMain<T>(method, path, requestOptions);
    return await requestMain<T>(method, path, {
      ...requestOptions,
      headers: { ...requestOptions.headers, [BRANCH_HEADER]: active.schemaId },
    });
  };

  const canWrite = (): Promise<boolean | undefined> => {
    canWritePromise ??= lookUpWriteEnabled(request, token).catch(() => undefined);
    return canWritePromise;
  };

  return {
    baseUrl,
    apiUrl,
    tokenVersion,
    concurrency,
    pageSize,
    strictFilters,
    settleMs,
    clock,
    timeoutMs,
    logVerbose(line: string) {
      if (verbose) log(line);
    },
    request,
    branchName,
    branch,
    status: () => loadStatus("read the NetBox status"),
    canWrite,
    warn,
    close() {
      httpClient?.close();
      httpClient = undefined;
    },
  };
}

function checkRange(name: string, value: number, min: number, integer = false): void {
  if (typeof value !== "number" || Number.isNaN(value) || value < min) {
    throw new RangeError(`Cannot create the client: ${name} must be >= ${min}, got ${value}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new RangeError(`Cannot create the client: ${name} must be a whole number, got ${value}`);
  }
}

/**
 * Builds the request URL: `path` relative to `/api/` (a leading `/` or `/api/` is stripped; a
 * query string in `path` is kept) plus `query`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { buildUrl } from "./transport.ts";
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
 * import { defaultAction } from "./transport.ts";
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
  method: string,
  path: string,
  action: string,
  requestId: string | undefined,
): unknown {
  if (response.status === 204 || text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    const parsed = parseErrorBody(text, response.headers.get("Content-Type"));
    const what = parsed.summary === "" ? "" : ` (${parsed.summary})`;
    throw new FailedAttempt(undefined, (suffix) =>
      new NetBoxHttpError(
        `Cannot ${action}: the server answered ${response.status} with a body that is not JSON${what}; check that NETBOX_URL points at NetBox${suffix}`,
        {
          status: response.status,
          method,
          path,
          requestId,
          body: parsed.body,
          messages: {},
        },
      ));
  }
}

/**
 * Parses `/api/status/`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseStatus } from "./transport.ts";
 * const status = parseStatus({ "netbox-version": "4.6.8" }, "connect", "https://nb.example.com");
 * assert(status.major === 4 && status.minor === 6 && status.patch === 8);
 * ```
 */
export function parseStatus(raw: unknown, action: string, baseUrl: string): NetBoxStatus {
  const record = raw !== null && typeof raw === "object" ? raw as Record<string, unknown> : {};
  const version = record["netbox-version"];
  const match = typeof version === "string" ? /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version) : null;
  if (!match) {
    throw new NetBoxError(
      `Cannot ${action}: ${baseUrl}/api/status/ has no netbox-version; check that NETBOX_URL points at NetBox`,
    );
  }
  return {
    version: String(version),
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    raw: record,
  };
}

/**
 * Describes a fetch failure. Deno reports network failures as `TypeError("fetch failed")` with
 * the reason in `cause.message`, e.g. "client error (Connect): tcp connect error: Connection
 * refused" or "client error (SendRequest): connection closed before message completed".
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { describeNetworkError } from "./transport.ts";
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

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Finds the token's own entry in `/api/users/tokens/` and returns its `write_enabled`. A v2
 * token is found by its key (`?key=`, the 12 characters after `nbt_`); a v1 token by the last
 * six characters NetBox shows in its masked `display` (an entry without `version`, as on 4.3, is
 * a v1 token). `undefined` when the entry is not
 * visible (no `users.view_token` permission) or not unique.
 */
async function lookUpWriteEnabled(
  request: Transport["request"],
  token: string,
): Promise<boolean | undefined> {
  const key = /^nbt_([^.]+)\./.exec(token)?.[1];
  // NetBox 4.3 has v1 tokens only: its token list has no `version` field (nor filter, so the
  // `version` query is ignored there) and an entry without one is a v1 token.
  const page = await request<{ results?: Record<string, unknown>[] }>("GET", "users/tokens/", {
    query: key ? { key, limit: 2 } : { version: 1, limit: 1000 },
    action: "check whether the token may write",
  });
  const masked = `${"*".repeat(34)}${token.slice(-6)}`;
  const mine = (page.results ?? []).filter((item) =>
    key ? item.key === key : (item.version ?? 1) === 1 && item.display === masked
  );
  const flags = new Set(mine.map((item) => item.write_enabled));
  const [writeEnabled] = flags;
  return flags.size === 1 && typeof writeEnabled === "boolean" ? writeEnabled : undefined;
}
