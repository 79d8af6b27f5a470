/**
 * The token never leaks: a client with a known token provokes every error class (config, auth,
 * HTTP 400/404, allocation 409, network refused, timeout, a server echoing the token back) with
 * the request log on, and the token appears in no message, `String(err)`, `Deno.inspect(err)`,
 * `Deno.inspect(client)`, JSON or log line.
 */

import assert from "node:assert/strict";
import { clientFromEnv, createClient } from "../../lib/client/client.ts";
import {
  AllocationError,
  ConfigError,
  NetBoxAuthError,
  NetBoxError,
  NetBoxHttpError,
  NetBoxNetworkError,
  NetBoxTimeoutError,
} from "../../lib/client/errors.ts";
import type { ClientOptions, NetBoxClient } from "../../lib/client/types.ts";
import { startFakeServer } from "../_fake_server.ts";
import { netboxTest, testEnv } from "./_netbox.ts";

/** Every way an error or client can be turned into text. */
function renderings(value: unknown): string[] {
  const out = [
    String(value),
    Deno.inspect(value, { depth: 20, showHidden: true, getters: true }),
    safeJson(value),
  ];
  if (value instanceof Error) {
    out.push(value.message, value.stack ?? "");
    out.push(safeJson({ ...value, message: value.message, cause: String(value.cause) }));
    let cause = value.cause;
    while (cause !== undefined) {
      out.push(String(cause), Deno.inspect(cause, { depth: 20, showHidden: true }));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  }
  return out;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}

function assertNoSecret(token: string, what: string, ...values: unknown[]): void {
  const secret = token.startsWith("nbt_") ? token.slice(token.indexOf(".") + 1) : token;
  for (const value of values) {
    for (const text of renderings(value)) {
      assert.ok(!text.includes(token), `${what}: the token appears in\n${text}`);
      assert.ok(!text.includes(secret), `${what}: the token secret appears in\n${text}`);
    }
  }
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected an exception");
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

function withLogs(options: ClientOptions): { client: NetBoxClient; logs: string[] } {
  const logs: string[] = [];
  const client = createClient({ verbose: true, ...options, log: (line) => logs.push(line) });
  return { client, logs };
}

const KNOWN = `nbt_leaktestkey1.${"s3cr3t".repeat(7)}`;

Deno.test("config errors never show the token", () => {
  const vars = new Map([["NETBOX_TOKEN", KNOWN]]);
  const missingUrl = thrown(() => clientFromEnv({}, { get: (name) => vars.get(name) }));
  assert.ok(missingUrl instanceof ConfigError);
  const badUrl = thrown(() => createClient({ url: "ftp://netbox.example.com", token: KNOWN }));
  assert.ok(badUrl instanceof ConfigError);
  assertNoSecret(KNOWN, "config", missingUrl, badUrl);
});

Deno.test("network, timeout and echoed-token errors never show the token", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const refused = withLogs({ url: `http://127.0.0.1:${port}`, token: KNOWN, retries: 0 });
  const refusedErr = await caught(refused.client.request("GET", "dcim/sites/"));
  assert.ok(refusedErr instanceof NetBoxNetworkError, String(refusedErr));

  await using server = startFakeServer();
  // The timeout only has to end a request that never gets an answer: generous, so that a loaded
  // machine answering the status handshake slowly does not trip it.
  const slow = withLogs({ url: server.url, token: KNOWN, retries: 0, timeoutMs: 2_000 });
  await slow.client.status();
  server.push({ hang: true });
  const timeoutErr = await caught(slow.client.request("GET", "dcim/sites/"));
  assert.ok(timeoutErr instanceof NetBoxTimeoutError, String(timeoutErr));

  // A misconfigured proxy or a debug page may echo request headers back.
  const echo = withLogs({ url: server.url, token: KNOWN, retries: 0 });
  server.push({
    status: 500,
    body:
      `<html><title>Authorization: Bearer ${KNOWN}</title><pre>HTTP_AUTHORIZATION = 'Bearer ${KNOWN}'</pre></html>`,
  }, {
    status: 400,
    body: { detail: `bad token ${KNOWN}`, [KNOWN]: [KNOWN] },
  });
  const echoedHtml = await caught(echo.client.request("GET", "dcim/sites/"));
  const echoedJson = await caught(echo.client.request("POST", "dcim/sites/", { body: {} }));
  assert.ok(echoedHtml instanceof NetBoxHttpError && echoedJson instanceof NetBoxHttpError);
  assert.ok(server.requests.some((r) => r.headers.get("authorization") === `Bearer ${KNOWN}`));

  assertNoSecret(
    KNOWN,
    "network",
    refusedErr,
    timeoutErr,
    echoedHtml,
    echoedJson,
    refused.client,
    slow.client,
    echo.client,
    refused.logs,
    slow.logs,
    echo.logs,
  );
  assert.ok(refused.logs.length + slow.logs.length + echo.logs.length > 0, "verbose logged");
});

netboxTest("auth errors from NetBox never show the token", async () => {
  const { client, logs } = withLogs({ url: testEnv().url, token: KNOWN });
  const err = await caught(client.request("GET", "dcim/sites/"));
  assert.ok(err instanceof NetBoxAuthError && err.reason === "rejected", String(err));
  const v1 = "1234567890abcdef1234567890abcdef12345678";
  const legacy = withLogs({ url: testEnv().url, token: v1 });
  const v1Err = await caught(legacy.client.request("GET", "dcim/sites/"));
  assert.ok(v1Err instanceof NetBoxAuthError, String(v1Err));
  assertNoSecret(KNOWN, "auth v2", err, client, logs);
  assertNoSecret(v1, "auth v1", v1Err, legacy.client, legacy.logs);
});

netboxTest("HTTP 400, 403, 404 and 409 errors from NetBox never show the real token", async () => {
  const env = testEnv();
  const { client, logs } = withLogs({ url: env.url, token: env.token });
  const bad = await caught(
    // An invalid choice is a 400 on every version ("not-an-ip" is a 500 on NetBox 4.3 - 4.5).
    client.request("POST", "ipam/ip-addresses/", {
      body: { address: "198.18.250.1/24", status: "bogus" },
    }),
  );
  assert.ok(bad instanceof NetBoxHttpError && bad.status === 400, String(bad));
  const missing = await caught(client.request("GET", "dcim/sites/2147483646/"));
  assert.ok(missing instanceof NetBoxHttpError && missing.status === 404, String(missing));

  const ro = withLogs({ url: env.url, token: env.tokenRo });
  const denied = await caught(
    ro.client.request("POST", "tenancy/tenants/", { body: { name: "x", slug: "x" } }),
  );
  assert.ok(denied instanceof NetBoxAuthError && denied.reason === "permission", String(denied));

  const third = Math.floor(Math.random() * 250);
  const prefix = await client.request<{ id: number }>("POST", "ipam/prefixes/", {
    body: {
      prefix: `198.19.${third}.${Math.floor(Math.random() * 60) * 4}/30`,
      description: "netbox-toolkit leak test",
    },
  });
  let exhausted: unknown;
  try {
    exhausted = await caught(
      client.request("POST", `ipam/prefixes/${prefix.id}/available-ips/`, { body: [{}, {}, {}] }),
    );
  } finally {
    await client.request("DELETE", `ipam/prefixes/${prefix.id}/`);
  }
  assert.ok(exhausted instanceof AllocationError, String(exhausted));
  for (const err of [bad, missing, denied, exhausted]) assert.ok(err instanceof NetBoxError);
  assertNoSecret(env.token, "http", bad, missing, exhausted, client, logs);
  assertNoSecret(env.tokenRo, "http ro", denied, ro.client, ro.logs);
});
