/**
 * The client core against the real NetBox: the status handshake, v1 and v2 tokens, the v1
 * deprecation warning, 403 classification, error bodies and `canWrite()`.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { AllocationError, NetBoxAuthError, NetBoxHttpError } from "../../lib/client/errors.ts";
import type { ClientOptions } from "../../lib/client/types.ts";
import { netboxTest, serverVersion, testEnv } from "./_netbox.ts";

function clientWith(token: string, options: Partial<ClientOptions> = {}) {
  const logs: string[] = [];
  const client = createClient({
    url: testEnv().url,
    token,
    log: (line) => logs.push(line),
    ...options,
  });
  return { client, logs };
}

const suffix = () => crypto.randomUUID().slice(0, 8);

netboxTest("status() reads the NetBox version once per client", async () => {
  const { client: verbose, logs } = clientWith(testEnv().token, { verbose: true });
  const status = await verbose.status();
  assert.match(status.version, /^4\.\d+\.\d+/);
  assert.equal(status.major, 4);
  assert.ok(status.minor >= 3);
  assert.equal(typeof status.raw["django-version"], "string");
  await verbose.request("GET", "dcim/sites/", { query: { limit: 1 } });
  await verbose.request("GET", "dcim/sites/", { query: { limit: 1 } });
  assert.deepEqual(logs.map((l) => l.split(" ").slice(0, 3).join(" ")), [
    "GET /api/status/ 200",
    "GET /api/dcim/sites/?limit=1 200",
    "GET /api/dcim/sites/?limit=1 200",
  ]);
  assert.equal(await verbose.status(), status);
});

netboxTest(
  "the main test token works and draws no warning (v2 from NetBox 4.5, v1 on 4.3)",
  async () => {
    const env = testEnv();
    const { minor } = await serverVersion(env);
    const { client, logs } = clientWith(env.token);
    assert.equal(client.tokenVersion, minor >= 5 ? 2 : 1);
    const page = await client.request<{ results: unknown[] }>("GET", "dcim/sites/", {
      query: { limit: 1 },
    });
    assert.ok(Array.isArray(page.results));
    assert.deepEqual(logs, []);
  },
);

netboxTest("a v1 token works and draws the deprecation warning once on NetBox >= 4.6", async () => {
  const env = testEnv();
  const { minor } = await serverVersion(env);
  assert.notEqual(env.tokenV1, "", "NETBOX_TEST_TOKEN_V1 is set");
  const { client, logs } = clientWith(env.tokenV1);
  assert.equal(client.tokenVersion, 1);
  await client.request("GET", "dcim/sites/", { query: { limit: 1 } });
  await client.request("GET", "ipam/prefixes/", { query: { limit: 1 } });
  if (minor >= 6) {
    assert.equal(logs.length, 1, logs.join("\n"));
    assert.match(logs[0], /v1 token, deprecated since NetBox 4\.6 and removed in 5\.0/);
    assert.ok(!logs[0].includes(env.tokenV1));
  } else {
    assert.deepEqual(logs, [], "no deprecation warning before NetBox 4.6");
  }
});

netboxTest(
  "a wrong v2 token is rejected with NetBoxAuthError naming the token version",
  async () => {
    const { minor } = await serverVersion(testEnv());
    const { client } = clientWith(`nbt_${"x".repeat(12)}.${"y".repeat(40)}`);
    await assert.rejects(client.request("GET", "dcim/sites/"), (err: unknown) => {
      assert.ok(err instanceof NetBoxAuthError, String(err));
      assert.equal(err.reason, "rejected");
      assert.equal(err.tokenVersion, 2);
      assert.equal(err.status, 403);
      if (minor >= 5) {
        assert.match(
          err.message,
          /^Cannot list dcim\/sites\/: NetBox rejected the v2 token \(Invalid v2 token\)/,
        );
      } else {
        // NetBox 4.3 reads `Bearer nbt_…` as no credentials at all; the client says why.
        assert.match(
          err.message,
          /^Cannot list dcim\/sites\/: NetBox rejected the v2 token \(Authentication credentials were not provided\).*NetBox 4\.3 knows only v1 tokens/,
        );
      }
      return true;
    });
  },
);

netboxTest(
  "a wrong v1 token is rejected with NetBoxAuthError naming the token version",
  async () => {
    const { minor } = await serverVersion(testEnv());
    const { client } = clientWith("0".repeat(40));
    await assert.rejects(client.request("GET", "dcim/sites/"), (err: unknown) => {
      assert.ok(err instanceof NetBoxAuthError, String(err));
      assert.equal(err.reason, "rejected");
      assert.equal(err.tokenVersion, 1);
      const detail = minor >= 5 ? "Invalid v1 token" : "Invalid token";
      assert.match(err.message, new RegExp(`NetBox rejected the v1 token \\(${detail}\\)`));
      return true;
    });
  },
);

netboxTest("a write with the read-only token is a permission error", async () => {
  const { client } = clientWith(testEnv().tokenRo);
  await client.request("GET", "tenancy/tenants/", { query: { limit: 1 } });
  const name = `nbt-core-ro-${suffix()}`;
  await assert.rejects(
    client.request("POST", "tenancy/tenants/", { body: { name, slug: name } }),
    (err: unknown) => {
      assert.ok(err instanceof NetBoxAuthError, String(err));
      assert.equal(err.reason, "permission");
      assert.match(
        err.message,
        new RegExp(
          `^Cannot create tenancy/tenants/: the v${client.tokenVersion} token lacks permission ` +
            `\\(You do not have permission to perform this action\\)`,
        ),
      );
      return true;
    },
  );
});

netboxTest("canWrite() tells the write-enabled tokens from the read-only ones", async () => {
  const env = testEnv();
  const tokens = [[env.token, true], [env.tokenV1, true], [env.tokenRo, false], [
    env.tokenRoV1,
    false,
  ]] as const;
  for (const [token, writable] of tokens) {
    assert.notEqual(token, "", "every test token is set");
    const { client } = clientWith(token);
    assert.equal(await client.canWrite(), writable, `v${client.tokenVersion} token`);
  }
});

netboxTest("a validation error carries NetBox's field messages", async () => {
  const { client } = clientWith(testEnv().token);
  await assert.rejects(
    // An invalid choice is a 400 on every version ("not-an-ip" is a 500 on NetBox 4.3 - 4.5).
    client.request("POST", "ipam/ip-addresses/", {
      body: { address: "198.18.251.1/24", status: "bogus" },
    }),
    (err: unknown) => {
      assert.ok(err instanceof NetBoxHttpError, String(err));
      assert.equal(err.status, 400);
      assert.ok(err.messages.status?.length, JSON.stringify(err.messages));
      assert.match(err.message, /^Cannot create ipam\/ip-addresses\/: status: /);
      assert.match(err.requestId ?? "", /^[0-9a-f-]{36}$/);
      return true;
    },
  );
});

netboxTest("a duplicate IP is refused with NetBox's message", async () => {
  const { client } = clientWith(testEnv().token);
  const octet = () => 1 + Math.floor(Math.random() * 250);
  const address = `198.18.${octet()}.${octet()}/32`;
  const created = await client.request<{ id: number }>("POST", "ipam/ip-addresses/", {
    body: { address, description: "netbox-toolkit core test" },
  });
  try {
    await assert.rejects(
      client.request("POST", "ipam/ip-addresses/", { body: { address } }),
      (err: unknown) =>
        err instanceof NetBoxHttpError && err.status === 400 &&
        err.message.startsWith(
          `Cannot create ipam/ip-addresses/: address: Duplicate IP address found in global table: ${address}`,
        ),
    );
  } finally {
    await client.request("DELETE", `ipam/ip-addresses/${created.id}/`);
  }
});

netboxTest("a missing object is a 404 NetBoxHttpError", async () => {
  const { client } = clientWith(testEnv().token);
  await assert.rejects(
    client.request("GET", "dcim/sites/2147483646/"),
    (err: unknown) =>
      err instanceof NetBoxHttpError && err.status === 404 &&
      err.message.startsWith("Cannot get dcim/sites/2147483646/: No Site matches the given query"),
  );
});

netboxTest("an exhausted prefix is an AllocationError", async () => {
  const { client } = clientWith(testEnv().token);
  const third = Math.floor(Math.random() * 250);
  const fourth = Math.floor(Math.random() * 60) * 4;
  const prefix = await client.request<{ id: number }>("POST", "ipam/prefixes/", {
    body: { prefix: `198.19.${third}.${fourth}/30`, description: "netbox-toolkit core test" },
  });
  try {
    await assert.rejects(
      client.request("POST", `ipam/prefixes/${prefix.id}/available-ips/`, {
        body: [{}, {}, {}],
      }),
      (err: unknown) =>
        err instanceof AllocationError && err.status === 409 &&
        /Insufficient resources/.test(err.message),
    );
  } finally {
    await client.request("DELETE", `ipam/prefixes/${prefix.id}/`);
  }
});
