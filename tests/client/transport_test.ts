import assert from "node:assert/strict";
import { createTransport } from "../../lib/client/transport.ts";
import { normalizeMessages } from "../../lib/client/_http_error.ts";
import {
  AllocationError,
  ConfigError,
  NetBoxAuthError,
  NetBoxError,
  NetBoxHttpError,
  NetBoxNetworkError,
  NetBoxTimeoutError,
} from "../../lib/client/errors.ts";
import type { ClientOptions, WriteEvent } from "../../lib/client/types.ts";
import { fakeClock, type FakeServer, startFakeServer } from "../_fake_server.ts";

const V2 = "nbt_abcdefghijkl.0123456789abcdefghijklmnopqrstuvwxyzABCD";
const V1 = "0123456789abcdef0123456789abcdef01234567";

function transportFor(server: FakeServer, options: Partial<ClientOptions> = {}) {
  const logs: string[] = [];
  const clock = fakeClock();
  const transport = createTransport({
    url: server.url,
    token: V2,
    clock,
    log: (line) => logs.push(line),
    ...options,
  });
  return { transport, logs, clock };
}

async function closedPort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await Promise.resolve();
  return port;
}

Deno.test("request() sends the status handshake once, then the request with auth and JSON headers", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({ body: { count: 0, results: [] } }, { body: { id: 7 } });
  await transport.request("GET", "dcim/sites/", { query: { status: ["active", "planned"] } });
  await transport.request("GET", "/api/dcim/sites/7/");
  assert.deepEqual(server.lines(), [
    "GET /api/status/",
    "GET /api/dcim/sites/?status=active&status=planned",
    "GET /api/dcim/sites/7/",
  ]);
  const headers = server.requests[1].headers;
  assert.equal(headers.get("authorization"), `Bearer ${V2}`);
  assert.equal(headers.get("accept"), "application/json");
  assert.match(headers.get("user-agent") ?? "", /^netbox-toolkit\//);
});

Deno.test("request() uses the Token keyword for v1 tokens and JSON-encodes bodies", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server, { token: V1 });
  server.push({ status: 201, body: { id: 3, name: "x" } });
  const created = await transport.request("POST", "dcim/sites/", { body: { name: "x" } });
  assert.deepEqual(created, { id: 3, name: "x" });
  assert.equal(transport.tokenVersion, 1);
  assert.equal(server.requests[1].headers.get("authorization"), `Token ${V1}`);
  assert.equal(server.requests[1].headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(server.requests[1].body), { name: "x" });
});

Deno.test("request() resolves undefined for 204", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({ status: 204 });
  assert.equal(await transport.request("DELETE", "dcim/sites/3/"), undefined);
});

Deno.test("status() parses netbox-version and is cached", async () => {
  await using server = startFakeServer({ version: "4.6.8" });
  const { transport } = transportFor(server);
  const [a, b] = await Promise.all([transport.status(), transport.status()]);
  assert.equal(a, b);
  assert.deepEqual([a.version, a.major, a.minor, a.patch], ["4.6.8", 4, 6, 8]);
  assert.deepEqual(server.lines(), ["GET /api/status/"]);
});

Deno.test("request() retries a 429 once after the 2 s Retry-After, in fake time", async () => {
  await using server = startFakeServer();
  const { transport, clock } = transportFor(server);
  server.push({ status: 429, headers: { "Retry-After": "2" } }, { body: { ok: 1 } });
  assert.deepEqual(await transport.request("GET", "dcim/sites/"), { ok: 1 });
  assert.deepEqual(server.lines(), [
    "GET /api/status/",
    "GET /api/dcim/sites/",
    "GET /api/dcim/sites/",
  ]);
  assert.deepEqual(clock.sleeps, [2000]);
});

Deno.test("request() does not retry a POST on 500", async () => {
  await using server = startFakeServer();
  const { transport, clock } = transportFor(server);
  server.push({ status: 500, body: { error: "boom", exception: "ValueError" } });
  await assert.rejects(
    transport.request("POST", "dcim/sites/", { body: { name: "x" } }),
    (err: unknown) =>
      err instanceof NetBoxHttpError && err.status === 500 &&
      err.message === "Cannot create dcim/sites/: NetBox failed with ValueError: boom",
  );
  assert.deepEqual(server.lines(), ["GET /api/status/", "POST /api/dcim/sites/"]);
  assert.deepEqual(clock.sleeps, []);
});

Deno.test("request() retries a POST on 503 and returns the created object", async () => {
  await using server = startFakeServer();
  const { transport, clock } = transportFor(server);
  server.push({ status: 503, body: "<html><title>Busy</title></html>" }, {
    status: 201,
    body: { id: 9 },
  });
  assert.deepEqual(await transport.request("POST", "dcim/sites/", { body: {} }), { id: 9 });
  assert.deepEqual(server.lines().slice(1), ["POST /api/dcim/sites/", "POST /api/dcim/sites/"]);
  assert.equal(clock.sleeps.length, 1);
  assert.ok(clock.sleeps[0] >= 125 && clock.sleeps[0] <= 250, `backoff ${clock.sleeps[0]}`);
});

Deno.test("request() retries a GET whose connection was reset", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({ reset: true }, { body: { id: 1 } });
  assert.deepEqual(await transport.request("GET", "dcim/sites/1/"), { id: 1 });
  assert.deepEqual(server.lines().slice(1), ["GET /api/dcim/sites/1/", "GET /api/dcim/sites/1/"]);
});

Deno.test("request() retries a GET whose body broke off", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({ truncate: true, body: { results: [1, 2, 3] } }, { body: { id: 1 } });
  assert.deepEqual(await transport.request("GET", "dcim/sites/1/"), { id: 1 });
  assert.equal(server.requests.length, 3);
});

Deno.test("request() does not retry a POST whose connection was reset", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({ reset: true });
  await assert.rejects(
    transport.request("POST", "dcim/sites/", { body: {} }),
    (err: unknown) =>
      err instanceof NetBoxNetworkError && !(err instanceof NetBoxTimeoutError) &&
      err.attempts === 1 && /^Cannot create dcim\/sites\/: the connection to/.test(err.message),
  );
  assert.deepEqual(server.lines(), ["GET /api/status/", "POST /api/dcim/sites/"]);
});

Deno.test("request() gives up after the retries and says how many attempts", async () => {
  await using server = startFakeServer({ fallback: () => ({ status: 502, body: "Bad gateway" }) });
  const { transport, clock } = transportFor(server);
  await transport.status();
  await assert.rejects(
    transport.request("GET", "dcim/sites/"),
    (err: unknown) =>
      err instanceof NetBoxHttpError && err.status === 502 &&
      err.message ===
        "Cannot list dcim/sites/: NetBox answered 502 Bad Gateway after 5 attempts",
  );
  assert.equal(server.requests.length, 1 + 5);
  assert.equal(clock.sleeps.length, 4);
});

Deno.test("request() stops when the retry budget is spent and says how many attempts", async () => {
  await using server = startFakeServer({
    fallback: () => ({ status: 503, headers: { "Retry-After": "2" } }),
  });
  const { transport, clock } = transportFor(server, { retries: 10, retryBudgetMs: 5000 });
  await transport.status();
  await assert.rejects(
    transport.request("GET", "dcim/sites/"),
    {
      message: "Cannot list dcim/sites/: NetBox answered 503 Service Unavailable after 3 attempts",
    },
  );
  assert.deepEqual(clock.sleeps, [2000, 2000]);
});

Deno.test("request() does not wait for a Retry-After beyond the cap", async () => {
  await using server = startFakeServer();
  const { transport, clock } = transportFor(server);
  server.push({ status: 429, headers: { "Retry-After": "3600" } });
  await assert.rejects(transport.request("GET", "dcim/sites/"), NetBoxHttpError);
  assert.deepEqual(clock.sleeps, []);
});

Deno.test("request() retries a refused connection, also for POST, then reports it", async () => {
  const port = await closedPort();
  const clock = fakeClock();
  const transport = createTransport({
    url: `http://127.0.0.1:${port}`,
    token: V2,
    retries: 2,
    clock,
    log: () => {},
  });
  await assert.rejects(
    transport.request("POST", "dcim/sites/", { body: {} }),
    (err: unknown) =>
      err instanceof NetBoxNetworkError && err.attempts === 3 &&
      err.message ===
        `Cannot create dcim/sites/: connection refused by 127.0.0.1:${port} after 3 attempts`,
  );
  assert.equal(clock.sleeps.length, 2);
});

Deno.test("request() times out a slow answer with NetBoxTimeoutError", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server, { timeoutMs: 100, retries: 1 });
  await transport.status();
  server.push({ hang: true }, { delayMs: 2000, body: {} });
  await assert.rejects(
    transport.request("GET", "dcim/sites/"),
    (err: unknown) =>
      err instanceof NetBoxTimeoutError &&
      err.message === "Cannot list dcim/sites/: no answer within 0.1 s after 2 attempts",
  );
});

Deno.test("request() stops at once when the caller aborts", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  await transport.status();
  server.push({ hang: true });
  const controller = new AbortController();
  const pending = transport.request("GET", "dcim/sites/", { signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(pending, (err: unknown) => (err as Error).name === "AbortError");
  assert.equal(server.requests.length, 2);
});

const auth403 = [
  ["Invalid v2 token", "rejected"],
  ["Invalid v1 token", "rejected"],
  ["Token expired", "rejected"],
  ["Token disabled", "rejected"],
  ["Authentication credentials were not provided.", "rejected"],
  ["You do not have permission to perform this action.", "permission"],
] as const;

for (const [detail, reason] of auth403) {
  Deno.test(`request() classifies 403 "${detail}" as ${reason}`, async () => {
    await using server = startFakeServer();
    const { transport } = transportFor(server);
    await transport.status();
    server.push({ status: 403, body: { detail } });
    await assert.rejects(
      transport.request("GET", "dcim/sites/"),
      (err: unknown) => {
        assert.ok(err instanceof NetBoxAuthError);
        assert.equal(err.reason, reason);
        assert.equal(err.tokenVersion, 2);
        assert.equal(err.status, 403);
        const expected = reason === "rejected"
          ? `Cannot list dcim/sites/: NetBox rejected the v2 token (${detail.replace(/\.$/, "")})`
          : `Cannot list dcim/sites/: the v2 token lacks permission (${detail.replace(/\.$/, "")})`;
        assert.ok(err.message.startsWith(expected), err.message);
        return true;
      },
    );
    assert.equal(server.requests.length, 2, "403 is not retried");
  });
}

Deno.test("request() reports a rejected token already at the status handshake", async () => {
  await using server = startFakeServer({ version: null });
  const { transport } = transportFor(server, { token: V1 });
  server.push({ status: 403, body: { detail: "Invalid v1 token" } });
  await assert.rejects(
    transport.request("GET", "dcim/sites/"),
    {
      message:
        /^Cannot list dcim\/sites\/: NetBox rejected the v1 token \(Invalid v1 token\); check NETBOX_TOKEN/,
    },
  );
  assert.deepEqual(server.lines(), ["GET /api/status/"]);
});

Deno.test("request() maps 409 on available-ips to AllocationError", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({
    status: 409,
    body: { detail: "Insufficient resources are available to satisfy the request" },
  });
  await assert.rejects(
    transport.request("POST", "ipam/prefixes/5/available-ips/", { body: [{}, {}] }),
    (err: unknown) =>
      err instanceof AllocationError && err.status === 409 &&
      err.message ===
        "Cannot create ipam/prefixes/5/available-ips/: Insufficient resources are available to satisfy the request",
  );
});

Deno.test("request() keeps a 409 elsewhere a plain NetBoxHttpError", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({
    status: 409,
    body: { detail: "Unable to delete object. 2 dependent objects were found: a, b" },
  });
  await assert.rejects(
    transport.request("DELETE", "dcim/sites/4/"),
    (err: unknown) =>
      err instanceof NetBoxHttpError && !(err instanceof AllocationError) &&
      err.messages.detail[0].startsWith("Unable to delete object"),
  );
});

const bodies: [string, number, unknown, string, Record<string, string[]>][] = [
  [
    "a field dict",
    400,
    { address: ["Duplicate IP address found in global table: 192.168.3.10/24"] },
    "Cannot create ipam/ip-addresses/: address: Duplicate IP address found in global table: 192.168.3.10/24",
    { address: ["Duplicate IP address found in global table: 192.168.3.10/24"] },
  ],
  [
    "__all__ and a field",
    400,
    { __all__: ["Cannot reassign IP."], dns_name: ["Invalid."] },
    "Cannot create ipam/ip-addresses/: Cannot reassign IP; dns_name: Invalid",
    { __all__: ["Cannot reassign IP."], dns_name: ["Invalid."] },
  ],
  [
    "non_field_errors",
    400,
    { non_field_errors: ["The fields a, b must make a unique set."] },
    "Cannot create ipam/ip-addresses/: The fields a, b must make a unique set",
    { non_field_errors: ["The fields a, b must make a unique set."] },
  ],
  [
    "a bare array",
    400,
    ["Cannot combine start with offset."],
    "Cannot create ipam/ip-addresses/: Cannot combine start with offset",
    { __all__: ["Cannot combine start with offset."] },
  ],
  [
    "a bulk array with a bad item",
    400,
    [{}, { status: ['"bogus" is not a valid choice.'] }],
    'Cannot create ipam/ip-addresses/: [1].status: "bogus" is not a valid choice',
    { "[1].status": ['"bogus" is not a valid choice.'] },
  ],
  [
    "nested custom fields",
    400,
    { custom_fields: { owner: ["Required."] } },
    "Cannot create ipam/ip-addresses/: custom_fields.owner: Required",
    { "custom_fields.owner": ["Required."] },
  ],
  [
    "a detail",
    404,
    { detail: "No IPAddress matches the given query." },
    "Cannot create ipam/ip-addresses/: No IPAddress matches the given query",
    { detail: ["No IPAddress matches the given query."] },
  ],
  [
    "a 500 error with exception",
    500,
    {
      error: "duplicate key value violates unique constraint",
      exception: "IntegrityError",
      netbox_version: "4.7.3",
      python_version: "3.12.3",
    },
    "Cannot create ipam/ip-addresses/: NetBox failed with IntegrityError: duplicate key value violates unique constraint",
    {
      error: ["duplicate key value violates unique constraint"],
      exception: ["IntegrityError"],
      netbox_version: ["4.7.3"],
      python_version: ["3.12.3"],
    },
  ],
  [
    "an HTML page",
    404,
    "<!DOCTYPE html>\n<html><head><title>Page Not Found | NetBox</title></head><body>…</body></html>",
    "Cannot create ipam/ip-addresses/: Page Not Found | NetBox; no such API endpoint",
    {},
  ],
];

for (const [what, status, body, message, messages] of bodies) {
  Deno.test(`request() parses an error body: ${what}`, async () => {
    await using server = startFakeServer();
    const { transport } = transportFor(server);
    server.push({ status, body, headers: { "X-Request-ID": "req-42" } });
    await assert.rejects(
      transport.request("POST", "ipam/ip-addresses/", { body: { address: "192.168.3.10/24" } }),
      (err: unknown) => {
        assert.ok(err instanceof NetBoxHttpError);
        assert.equal(err.message, message);
        assert.deepEqual(err.messages, messages);
        assert.equal(err.status, status);
        assert.equal(err.method, "POST");
        assert.equal(err.path, "/api/ipam/ip-addresses/");
        assert.equal(err.requestId, "req-42");
        if (typeof body === "string") assert.equal(err.body, body);
        else assert.deepEqual(err.body, body);
        return true;
      },
    );
  });
}

Deno.test("request() says when a 200 answer is not JSON", async () => {
  await using server = startFakeServer({ version: null });
  const { transport } = transportFor(server);
  server.push({ body: "<html><title>Login</title></html>" });
  await assert.rejects(
    transport.status(),
    {
      message:
        "Cannot read the NetBox status: the server answered 200 with a body that is not JSON (Login); check that NETBOX_URL points at NetBox",
    },
  );
});

Deno.test("request() logs method, path, status and time when verbose, never headers", async () => {
  await using server = startFakeServer();
  const { transport, logs } = transportFor(server, { verbose: true });
  server.push({ status: 503 }, { body: {} });
  await transport.request("GET", "dcim/sites/", { query: { q: "a" } });
  assert.deepEqual(logs, [
    "GET /api/status/ 200 0ms",
    "GET /api/dcim/sites/?q=a 503 0ms",
    logs[2],
    "GET /api/dcim/sites/?q=a 200 0ms",
  ]);
  assert.match(logs[2], /^retrying GET \/api\/dcim\/sites\/\?q=a in \d+ms \(attempt 2\)$/);
  assert.ok(!logs.join("\n").includes("abcdefghijkl"));
});

Deno.test("request() reports writes with the ids NetBox returned", async () => {
  await using server = startFakeServer();
  const events: WriteEvent[] = [];
  const { transport } = transportFor(server, { onWrite: (e) => events.push(e) });
  server.push(
    { status: 201, body: [{ id: 11 }, { id: 12 }], headers: { "X-Request-ID": "r1" } },
    { status: 204 },
    { status: 204 },
    { status: 400, body: { name: ["bad"] } },
  );
  await transport.request("POST", "dcim/sites/", { body: [{}, {}] });
  await transport.request("DELETE", "dcim/sites/", { body: [{ id: 5 }, { id: 6 }] });
  await transport.request("DELETE", "dcim/sites/8/");
  await assert.rejects(transport.request("PATCH", "dcim/sites/9/", { body: { name: "" } }));
  await transport.request("GET", "dcim/sites/").catch(() => {});
  assert.deepEqual(
    events.map((e) => [e.method, e.path, e.status, e.ids, e.requestId !== undefined]),
    [
      ["POST", "/api/dcim/sites/", 201, [11, 12], true],
      ["DELETE", "/api/dcim/sites/", 204, [5, 6], true],
      ["DELETE", "/api/dcim/sites/8/", 204, [8], true],
      ["PATCH", "/api/dcim/sites/9/", 400, [], true],
    ],
  );
  assert.equal(events[0].requestId, "r1");
  assert.equal(
    events[0].time,
    "2025-01-01T00:00:00.000Z",
    "the time comes from the client's clock",
  );
});

Deno.test("status() warns once about a v1 token on NetBox 4.7", async () => {
  await using server = startFakeServer({ version: "4.7.3" });
  const { transport, logs } = transportFor(server, { token: V1 });
  await transport.status();
  server.push({ body: {} }, { body: {} });
  await transport.request("GET", "dcim/sites/");
  transport.warn(logs[0]);
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^warning: the API token is a v1 token, deprecated since NetBox 4\.6/);
  assert.ok(!logs[0].includes(V1));
});

Deno.test("status() does not warn about a v1 token before 4.6 or a v2 token", async () => {
  await using old = startFakeServer({ version: "4.5.9" });
  const a = transportFor(old, { token: V1 });
  await a.transport.status();
  await using current = startFakeServer({ version: "4.7.3" });
  const b = transportFor(current);
  await b.transport.status();
  assert.deepEqual([...a.logs, ...b.logs], []);
});

Deno.test("status() rejects a server without netbox-version", async () => {
  await using server = startFakeServer({ version: null });
  const { transport } = transportFor(server);
  server.push({ body: { hello: "world" } }, { body: { "netbox-version": "4.7.3" } });
  await assert.rejects(transport.status(), NetBoxError);
  assert.equal((await transport.status()).version, "4.7.3", "a failed handshake is not cached");
});

Deno.test("createTransport() warns about plain http to a non-loopback host", () => {
  const logs: string[] = [];
  createTransport({ url: "http://netbox.example.com/api/", token: V2, log: (l) => logs.push(l) });
  createTransport({ url: "http://127.0.0.1:8000", token: V2, log: (l) => logs.push(l) });
  createTransport({ url: "https://netbox.example.com", token: V2, log: (l) => logs.push(l) });
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^warning: http:\/\/netbox\.example\.com is plain http/);
});

Deno.test("createTransport() requires a URL and a token", () => {
  assert.throws(
    () => createTransport({ url: "", token: V2 }),
    (err: unknown) => err instanceof ConfigError && /NETBOX_URL/.test(err.message),
  );
  assert.throws(
    () => createTransport({ url: "https://nb.example.com", token: "  " }),
    (err: unknown) => err instanceof ConfigError && /NETBOX_TOKEN/.test(err.message),
  );
  assert.throws(
    () => createTransport({ url: "https://nb.example.com", token: V2, retries: -1 }),
    RangeError,
  );
});

Deno.test("createTransport() normalises the URL and exposes defaults", () => {
  const t = createTransport({ url: "https://nb.example.com/api/", token: V2 });
  assert.equal(t.baseUrl, "https://nb.example.com");
  assert.equal(t.apiUrl, "https://nb.example.com/api/");
  assert.deepEqual([t.tokenVersion, t.concurrency, t.pageSize, t.strictFilters], [
    2,
    4,
    1000,
    true,
  ]);
});

Deno.test("createTransport() never shows the token in inspect or JSON", () => {
  const t = createTransport({ url: "https://nb.example.com", token: V2 });
  assert.ok(!Deno.inspect(t, { depth: 10, showHidden: true }).includes("abcdefghijkl"));
  assert.ok(!JSON.stringify(t).includes("abcdefghijkl"));
});

Deno.test("canWrite() finds a v2 token by its key and caches the answer", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({
    body: { count: 1, results: [{ id: 4, version: 2, key: "abcdefghijkl", write_enabled: false }] },
  });
  assert.equal(await transport.canWrite(), false);
  assert.equal(await transport.canWrite(), false);
  assert.deepEqual(server.lines(), [
    "GET /api/status/",
    "GET /api/users/tokens/?key=abcdefghijkl&limit=2",
  ]);
});

Deno.test("canWrite() finds a v1 token by the masked tail NetBox shows", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server, { token: V1 });
  server.push({
    body: {
      results: [
        { id: 1, version: 1, display: `${"*".repeat(34)}999999`, write_enabled: false },
        { id: 2, version: 1, display: `${"*".repeat(34)}${V1.slice(-6)}`, write_enabled: true },
      ],
    },
  });
  assert.equal(await transport.canWrite(), true);
  assert.equal(server.requests[1].path, "/api/users/tokens/?version=1&limit=1000");
});

Deno.test("canWrite() is undefined when the token may not view tokens or is not listed", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({
    status: 403,
    body: { detail: "You do not have permission to perform this action." },
  });
  assert.equal(await transport.canWrite(), undefined);
  await using other = startFakeServer();
  const second = transportFor(other);
  other.push({ body: { results: [{ key: "zzzzzzzzzzzz", write_enabled: true }] } });
  assert.equal(await second.transport.canWrite(), undefined);
});

Deno.test("request() hints at the trailing slash when NetBox answers an HTML 404", async () => {
  await using server = startFakeServer();
  const { transport } = transportFor(server);
  server.push({ status: 404, body: "<html><title>Page Not Found | NetBox</title></html>" });
  await assert.rejects(transport.request("POST", "tenancy/tenants", { body: {} }), {
    message:
      "Cannot create tenancy/tenants: Page Not Found | NetBox; no such API endpoint (API paths end with a slash)",
  });
});

Deno.test("normalizeMessages() keys NetBox 4.7 bulk errors by input index or id", () => {
  const created = normalizeMessages({
    detail: "1 of 3 objects could not be created.",
    errors: [{ index: 1, errors: { address: ["Duplicate IP address found"] } }],
  });
  assert.deepEqual(created, {
    detail: ["1 of 3 objects could not be created."],
    "[1].address": ["Duplicate IP address found"],
  });
  const updated = normalizeMessages({
    detail: "1 of 2 objects could not be found.",
    errors: [{ id: 13, errors: ["Object with ID 13 does not exist"] }],
  });
  assert.deepEqual(updated["[id 13]"], ["Object with ID 13 does not exist"]);
});

Deno.test("request() decodes an answer whose characters are split across the body's chunks", async () => {
  const site = { id: 1, name: "Zürich Ost 東京", description: "naïve ✓" };
  const bytes = new TextEncoder().encode(JSON.stringify(site));
  // A byte stream (read into the transport's own buffer, as fetch's bodies are) and a stream of
  // chunks; one byte at a time, so every multi-byte character arrives in pieces.
  for (const type of ["bytes", undefined] as const) {
    const fetch = (input: string | URL | Request) => {
      if (String(input).endsWith("/api/status/")) {
        return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
      }
      let at = 0;
      const body = new ReadableStream({
        type,
        pull(controller: ReadableByteStreamController | ReadableStreamDefaultController) {
          if (at < bytes.length) return controller.enqueue(bytes.slice(at, ++at));
          controller.close();
          // A byte stream answers a read still waiting at its end (as fetch's bodies do).
          (controller as ReadableByteStreamController).byobRequest?.respond(0);
        },
      } as UnderlyingByteSource);
      return Promise.resolve(
        new Response(body, { headers: { "Content-Type": "application/json" } }),
      );
    };
    const transport = createTransport({ url: "http://127.0.0.1:9", token: V2, fetch });
    assert.deepEqual(await transport.request("GET", "dcim/sites/1/"), site, `stream ${type}`);
  }
});
