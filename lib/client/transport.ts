/**
 * The transport of a client: the core `request()` every call goes through, composed of small
 * private pieces, each with one job:
 *
 * - `_round_trip.ts`: one fetch — URL, headers, body, per-attempt timeout, error mapping;
 * - `_retry_loop.ts`: a call's round trips under the retry policy (`retry.ts`);
 * - `_handshake.ts`: the cached `/api/status/` handshake and the token's write check;
 * - `_branch_route.ts`: NetBox Branching — writes into the client's branch.
 *
 * This file checks the options and wires them together.
 *
 * @module
 */

import { isInsecureUrl, normalizeUrl } from "./config.ts";
import { systemClock } from "./retry.ts";
import { redactText, tokenSecrets } from "./_redact.ts";
import { ConfigError } from "./errors.ts";
import { TOOLKIT_VERSION } from "./version.ts";
import { buildUrl, type Connection, defaultAction } from "./_round_trip.ts";
import { send } from "./_retry_loop.ts";
import { createHandshake, writeCheck } from "./_handshake.ts";
import { createBranchRoute } from "./_branch_route.ts";
import type { ClientOptions, RequestOptions, Transport } from "./types.ts";

export { buildUrl, defaultAction, describeNetworkError } from "./_round_trip.ts";
export { parseStatus } from "./_handshake.ts";

/** `ClientOptions.memoryBudget`'s default: four pages of 1,000 full IP addresses. */
const DEFAULT_MEMORY_BUDGET = 4 * 1024 * 1024;

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
    memoryBudget = DEFAULT_MEMORY_BUDGET,
    strictFilters = true,
    userAgent = DEFAULT_USER_AGENT,
    verbose = false,
    clock = systemClock,
    retryBudgetMs = 120_000,
    signal: clientSignal,
    onWrite,
  } = options;
  const token = checkOptions(options);
  checkRange("timeoutMs", timeoutMs, 1);
  checkRange("retries", retries, 0, true);
  checkRange("concurrency", concurrency, 1, true);
  checkRange("pageSize", pageSize, 1, true);
  checkRange("memoryBudget", memoryBudget, 1, true);
  checkRange("retryBudgetMs", retryBudgetMs, 0);
  const settleMs = options.settleMs ?? 2 * timeoutMs;
  checkRange("settleMs", settleMs, 0);

  const baseUrl = normalizeUrl(options.url);
  const apiUrl = `${baseUrl}/api/`;
  const secrets = tokenSecrets(token);
  const tokenVersion: 1 | 2 = token.startsWith("nbt_") ? 2 : 1;
  const rawLog = options.log ?? ((line: string) => console.error(line));
  const log = (line: string) => rawLog(redactText(line, secrets));
  const caCerts = options.caCerts?.filter((pem) => pem.trim() !== "") ?? [];
  let httpClient: Deno.HttpClient | undefined;
  const warned = new Set<string>();
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

  const conn: Connection = {
    authorization: `${tokenVersion === 2 ? "Bearer" : "Token"} ${token}`,
    tokenVersion,
    userAgent,
    timeoutMs,
    fetch: options.fetch ?? globalThis.fetch,
    httpClient: () =>
      caCerts.length === 0 ? undefined : httpClient ??= Deno.createHttpClient({ caCerts }),
    clock,
    verbose,
    log,
    secrets,
    signal: clientSignal,
  };
  const settings = { retries, retryBudgetMs, onWrite };
  const handshake = createHandshake({
    baseUrl,
    tokenVersion,
    warn,
    fetchStatus: (action) => send(conn, settings, "GET", "status/", `${apiUrl}status/`, action, {}),
  });

  /** A request on main: no branch header. */
  const requestMain = async <T = unknown>(
    method: string,
    path: string,
    requestOptions: RequestOptions = {},
  ): Promise<T> => {
    const verb = method.toUpperCase();
    const { apiPath, url } = buildUrl(apiUrl, path, requestOptions.query);
    const action = requestOptions.action ?? defaultAction(verb, apiPath);
    if (apiPath !== "status/") await handshake.status(action);
    return await send(conn, settings, verb, apiPath, url, action, requestOptions) as T;
  };
  const route = createBranchRoute({ ...options, baseUrl, requestMain });

  return {
    baseUrl,
    apiUrl,
    tokenVersion,
    concurrency,
    pageSize,
    memoryBudget,
    strictFilters,
    settleMs,
    clock,
    timeoutMs,
    logVerbose(line: string) {
      if (verbose) log(line);
    },
    request: route.request,
    branchName: route.branchName,
    branch: route.branch,
    status: () => handshake.status("read the NetBox status"),
    canWrite: writeCheck(route.request, token),
    warn,
    close() {
      httpClient?.close();
      httpClient = undefined;
    },
  };
}

/** Checks the URL and token are given; returns the trimmed token. */
function checkOptions(options: ClientOptions): string {
  if (typeof options.url !== "string" || options.url.trim() === "") {
    throw new ConfigError("Cannot connect to NetBox: no URL; set NETBOX_URL or pass --url");
  }
  const token = typeof options.token === "string" ? options.token.trim() : "";
  if (token === "") {
    throw new ConfigError(
      "Cannot connect to NetBox: no API token; set NETBOX_TOKEN or NETBOX_TOKEN_FILE, or pass --token-file",
    );
  }
  return token;
}

function checkRange(name: string, value: number, min: number, integer = false): void {
  if (typeof value !== "number" || Number.isNaN(value) || value < min) {
    throw new RangeError(`Cannot create the client: ${name} must be >= ${min}, got ${value}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new RangeError(`Cannot create the client: ${name} must be a whole number, got ${value}`);
  }
}
