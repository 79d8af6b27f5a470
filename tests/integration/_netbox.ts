/**
 * Helpers for integration tests against a real NetBox.
 *
 * The NetBox comes from `bash tests/netbox/provision.sh up`, whose env file sets the
 * `NETBOX_TEST_*` variables; any disposable NetBox 4.x will do (never a production one).
 * Without the variables every {@link netboxTest} is ignored with a loud notice on stderr,
 * except under `CI=true`, where a missing NetBox fails the test.
 *
 * @module
 */

import { createClient } from "../../lib/client/client.ts";
import type { NetBoxClient } from "../../lib/client/types.ts";

/** Connection details of the NetBox the integration tests run against. */
export interface NetBoxTestEnv {
  /** Base URL, e.g. `http://127.0.0.1:18080` (no `/api`, no trailing slash). */
  url: string;
  /** Write-enabled v2 token (`nbt_<key>.<token>`), sent as `Bearer`. */
  token: string;
  /** Write-enabled legacy v1 token (40 chars), sent as `Token`; may be empty. */
  tokenV1: string;
  /** Read-only token: v2 from NetBox 4.5 on, v1 on 4.3; may be empty. */
  tokenRo: string;
  /** Read-only legacy v1 token; may be empty. */
  tokenRoV1: string;
  /** Login of the token owner (for the web UI); may be empty. */
  user: string;
  /** Password of {@link NetBoxTestEnv.user}; may be empty. */
  password: string;
}

const HOW_TO =
  "run `bash tests/netbox/provision.sh up` and load its env file (set -a; source <(bash tests/netbox/provision.sh env); set +a), or set NETBOX_TEST_URL and NETBOX_TEST_TOKEN for a disposable NetBox 4.x";

function read(name: string): string {
  return (Deno.env.get(name) ?? "").trim();
}

/**
 * The test NetBox from `NETBOX_TEST_*`, or undefined when `NETBOX_TEST_URL` or
 * `NETBOX_TEST_TOKEN` is unset.
 *
 * @returns the connection details, or undefined
 */
export function maybeTestEnv(): NetBoxTestEnv | undefined {
  const url = read("NETBOX_TEST_URL").replace(/\/+$/, "").replace(/\/api$/, "");
  const token = read("NETBOX_TEST_TOKEN");
  if (!url || !token) return undefined;
  return {
    url,
    token,
    tokenV1: read("NETBOX_TEST_TOKEN_V1"),
    tokenRo: read("NETBOX_TEST_TOKEN_RO"),
    tokenRoV1: read("NETBOX_TEST_TOKEN_RO_V1"),
    user: read("NETBOX_TEST_USER"),
    password: read("NETBOX_TEST_PASSWORD"),
  };
}

/**
 * The test NetBox from `NETBOX_TEST_*`. Call it inside a {@link netboxTest}, which only runs
 * when the variables are set.
 *
 * @returns the connection details
 * @throws {Error} when `NETBOX_TEST_URL` or `NETBOX_TEST_TOKEN` is unset
 */
export function testEnv(): NetBoxTestEnv {
  const env = maybeTestEnv();
  if (!env) {
    throw new Error(
      `Cannot reach the test NetBox: NETBOX_TEST_URL/NETBOX_TEST_TOKEN unset; ${HOW_TO}`,
    );
  }
  return env;
}

function underCi(): boolean {
  return ["true", "1"].includes(read("CI").toLowerCase());
}

let noticed = false;

/**
 * Registers a `Deno.test` that needs the real NetBox. Without `NETBOX_TEST_URL`/`NETBOX_TEST_TOKEN`
 * it is ignored with a notice on stderr; under `CI=true` it runs and fails instead.
 *
 * @param name the test name
 * @param fn the test body; receives the connection details
 */
export function netboxTest(name: string, fn: (env: NetBoxTestEnv) => Promise<void>): void {
  const env = maybeTestEnv();
  if (!env && !underCi() && !noticed) {
    noticed = true;
    console.error(
      `\n!!! NetBox integration tests are IGNORED: NETBOX_TEST_URL/NETBOX_TEST_TOKEN unset.\n!!! To run them, ${HOW_TO}.\n`,
    );
  }
  Deno.test({
    name,
    ignore: !env && !underCi(),
    fn: async () => {
      if (!env) {
        throw new Error(
          `Cannot run a NetBox integration test under CI=true without a NetBox: ${HOW_TO}`,
        );
      }
      await fn(env);
    },
  });
}

/** The version of the test NetBox, as numbers (from `/api/status/`). */
export interface ServerVersion {
  /** e.g. `"4.3.7"`. */
  version: string;
  major: number;
  minor: number;
  patch: number;
}

const versions = new Map<string, Promise<ServerVersion>>();

/**
 * The version the test NetBox reports (`GET /api/status/`), read once per URL. Tests branch on it
 * where NetBox really differs between releases, and assert what that release does.
 *
 * @param env the test NetBox
 */
export function serverVersion(env: NetBoxTestEnv): Promise<ServerVersion> {
  let v = versions.get(env.url);
  if (!v) {
    v = fetchOk(env, "GET", "/api/status/").then((status) => {
      const version = String(status["netbox-version"]);
      const [major, minor, patch] = version.split(/[.-]/).map((n) => Number(n));
      return { version, major, minor, patch: patch || 0 };
    });
    versions.set(env.url, v);
  }
  return v;
}

/**
 * A name no other test (or concurrent run) uses: `<prefix>-<8 random hex chars>`, lower case,
 * valid as a NetBox slug.
 *
 * @param prefix what the name starts with, e.g. `nbtk-site`
 * @returns the unique name
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
}

/** A NetBox JSON body, read loosely in tests. */
// deno-lint-ignore no-explicit-any
export type Body = any;

/** A raw NetBox answer from {@link fetchJson}. */
export interface RawResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** Parsed JSON body, the text when it is not JSON, or null for an empty body. */
  body: Body;
}

/** The Authorization header value for a token: `Bearer` for v2 (`nbt_…`), else `Token`. */
export function authHeader(token: string): string {
  return token.startsWith("nbt_") ? `Bearer ${token}` : `Token ${token}`;
}

/**
 * One raw request to the test NetBox, independent of the library (for checking NetBox's state).
 * The body is always consumed.
 *
 * @param env the test NetBox
 * @param method HTTP method
 * @param path path under the base URL, e.g. `/api/dcim/sites/?slug=x`
 * @param body JSON body to send
 * @param token the token to use (default: the write-enabled v2 token)
 * @returns status, headers and the parsed body
 */
export async function fetchJson(
  env: NetBoxTestEnv,
  method: string,
  path: string,
  body?: unknown,
  token: string = env.token,
): Promise<RawResponse> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = authHeader(token);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${env.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text === "" ? null : text;
  try {
    if (text !== "") parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. an HTML 404): keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * Like {@link fetchJson} but throws unless the status is 2xx; returns the parsed body.
 *
 * @throws {Error} naming the method, path and status (never the token)
 */
export async function fetchOk(
  env: NetBoxTestEnv,
  method: string,
  path: string,
  body?: unknown,
): Promise<Body> {
  const res = await fetchJson(env, method, path, body);
  if (res.status < 200 || res.status > 299) {
    throw new Error(`Cannot ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/**
 * Whether a {@link ServerVersion} is at least `major.minor.patch`.
 *
 * @param v the server's version
 * @returns true when `v` is that release or a later one
 */
export function versionAtLeast(v: ServerVersion, major: number, minor: number, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

/** One request seen by {@link recordingFetch}, with what the server answered. */
export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. `/api/extras/tags/`. */
  path: string;
  /** The query string's parameters. */
  query: URLSearchParams;
  /** HTTP status of the answer. */
  status: number;
  /** `results.length` of a list page (offset or cursor), else undefined. */
  results?: number;
  /** `next` of a list page, else undefined. */
  next?: string | null;
}

/**
 * A client on the test NetBox whose requests are recorded (a generous timeout: the shared test
 * server is often busy with other suites).
 */
export function recordedClient(
  env: NetBoxTestEnv,
): { client: NetBoxClient; requests: RecordedRequest[] } {
  const rec = recordingFetch();
  const client = createClient({
    url: env.url,
    token: env.token,
    fetch: rec.fetch,
    timeoutMs: 120_000,
  });
  return { client, requests: rec.requests };
}

/**
 * A fetch for `createClient({ fetch })` or a task's `TaskIO.fetch` that records every request
 * and the status (and, for list pages, the number of results and `next`) of its answer: tests
 * count requests instead of timing them.
 *
 * @returns the fetch and the list it appends to
 */
export function recordingFetch(): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const recording: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const res = await fetch(req);
    const entry: RecordedRequest = {
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      status: res.status,
    };
    requests.push(entry);
    if ((res.headers.get("content-type") ?? "").includes("json")) {
      try {
        const body = await res.clone().json();
        if (body && typeof body === "object" && Array.isArray(body.results)) {
          entry.results = body.results.length;
          entry.next = body.next ?? null;
        }
      } catch {
        // not JSON after all: nothing to record
      }
    }
    return res;
  };
  return { fetch: recording, requests };
}

/**
 * Creates `n` objects named (and slugged) `<prefix>-00001` … at a list endpoint that takes just
 * `name` and `slug` (cheap objects for paging tests: `ipam/rirs` deletes fastest), in bulk, and
 * returns their ids in creation order. Delete them with {@link deleteIds}.
 *
 * @param env the test NetBox
 * @param path the list path under `/api/`, e.g. `ipam/rirs`
 * @param prefix a unique name prefix (e.g. from {@link uniqueName})
 * @param n how many
 * @returns the ids
 */
export async function createNamed(
  env: NetBoxTestEnv,
  path: string,
  prefix: string,
  n: number,
): Promise<number[]> {
  const ids: number[] = [];
  try {
    for (let start = 0; start < n; start += 250) {
      const bodies = Array.from({ length: Math.min(250, n - start) }, (_, i) => {
        const name = `${prefix}-${String(start + i + 1).padStart(5, "0")}`;
        return { name, slug: name };
      });
      const made: { id: number }[] = await fetchOk(env, "POST", `/api/${path}/`, bodies);
      ids.push(...made.map((t) => t.id));
    }
  } catch (err) {
    await deleteIds(env, path, ids);
    throw err;
  }
  return ids;
}

/** Deletes objects by id in bulk; logs instead of throwing (never masks a test failure). */
export async function deleteIds(env: NetBoxTestEnv, path: string, ids: number[]): Promise<void> {
  for (let start = 0; start < ids.length; start += 250) {
    const chunk = ids.slice(start, start + 250).map((id) => ({ id }));
    const res = await fetchJson(env, "DELETE", `/api/${path}/`, chunk).catch((err) => err);
    if (!(res && res.status === 204)) {
      console.error(`cleanup: cannot delete ${path}: ${JSON.stringify(res?.body ?? String(res))}`);
    }
  }
}
