import assert from "node:assert/strict";
import { clientFromEnv, createClient } from "../../lib/client/client.ts";
import { ConfigError, NetBoxNetworkError } from "../../lib/client/errors.ts";
import { fakeClock, startFakeServer } from "../_fake_server.ts";

const TOKEN = "nbt_abcdefghijkl.0123456789abcdefghijklmnopqrstuvwxyzABCD";

// A throw-away test CA and a certificate for 127.0.0.1 it signed (valid for 100 years).
// Test fixtures only: they protect nothing.
const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBmDCCAT+gAwIBAgIUHssAiO1ijYZiW+MXP28KHkkWr7IwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWbmV0Ym94LXRvb2xraXQgdGVzdCBDQTAgFw0yNjExMjYyMTM1
NTZaGA8yMTI2MTEwMjIxMzU1NlowITEfMB0GA1UEAwwWbmV0Ym94LXRvb2xraXQg
dGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPOiapydTvNb8ru9qH1P
xL75XZLckqW+I8M6qAyCIoly017rYxhdIZoOAA0G0A2noJ38WDFUB4AMQz5WKZ2y
CQajUzBRMB0GA1UdDgQWBBRSEwRA2XFbSPRyENgclWf4ORhThzAfBgNVHSMEGDAW
gBRSEwRA2XFbSPRyENgclWf4ORhThzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49
BAMCA0cAMEQCICREmK7hMsJtPuwa+0Fza/1XGIv+/nGK1dwGN44/8+1cAiBjAb3G
xhMNvSfz2yGA+neY3co9LtqbTwa+fBof22ifxA==
-----END CERTIFICATE-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBujCCAWCgAwIBAgIUKgs3MMxshsS8rGxBZAY2BI6EuqIwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWbmV0Ym94LXRvb2xraXQgdGVzdCBDQTAgFw0yNjExMjYyMTM1
NTZaGA8yMTI2MTEwMjIxMzU1NlowFDESMBAGA1UEAwwJMTI3LjAuMC4xMFkwEwYH
KoZIzj0CAQYIKoZIzj0DAQcDQgAEtLn5Pman6B27mK3YVWvQeYy4YWCZaevBS/gt
67sq9BRjI5kmzn83ek/3UwHZykjcdxCjuVF8Nl2Qq2fOoi3nl6OBgDB+MA8GA1Ud
EQQIMAaHBH8AAAEwCQYDVR0TBAIwADALBgNVHQ8EBAMCB4AwEwYDVR0lBAwwCgYI
KwYBBQUHAwEwHQYDVR0OBBYEFBMB2tbh8QsbKHrMeuS6rPS3CFQxMB8GA1UdIwQY
MBaAFFITBEDZcVtI9HIQ2ByVZ/g5GFOHMAoGCCqGSM49BAMCA0gAMEUCIBFzngGW
M8+gfKC2SQbZMw0gk7wMi26MlMbljYv72BxiAiEAjKxZpq4sXUMYRpHEw7YA0/Xr
qHvKiokKui1SaLWXjBE=
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyToJ8XgtloCI7QzY
bA90Vqyfl/WkG25eJe3Lyd/LfSahRANCAAS0ufk+ZqfoHbuYrdhVa9B5jLhhYJlp
68FL+C3ruyr0FGMjmSbOfzd6T/dTAdnKSNx3EKO5UXw2XZCrZ86iLeeX
-----END PRIVATE KEY-----
`;

Deno.test("createClient() combines the transport with the endpoint table", async () => {
  await using server = startFakeServer();
  const client = createClient({ url: `${server.url}/api/`, token: TOKEN, log: () => {} });
  server.push({ body: { id: 1, url: `${server.url}/api/dcim/sites/1/`, name: "Matrix" } });
  const site = await client.dcim.sites.get(1);
  assert.equal(site.name, "Matrix");
  assert.equal(client.ipam.ipAddresses.path, "ipam/ip-addresses/");
  assert.equal(client.endpoint("plugins/foo/bars/").path, "plugins/foo/bars/");
  assert.equal(client.apiUrl, `${server.url}/api/`);
  assert.deepEqual(server.lines(), ["GET /api/status/", "GET /api/dcim/sites/1/"]);
  assert.equal(server.requests[1].headers.get("authorization"), `Bearer ${TOKEN}`);
});

Deno.test("createClient() keeps the token out of Deno.inspect and JSON", () => {
  const client = createClient({ url: "https://nb.example.com", token: TOKEN });
  const shown = Deno.inspect(client, { depth: 20, showHidden: true, getters: true });
  assert.ok(shown.includes("https://nb.example.com"), "inspect shows the client");
  for (const text of [shown, JSON.stringify(client), String(client)]) {
    assert.ok(!text.includes(TOKEN) && !text.includes("0123456789abcdefghij"), text);
  }
});

Deno.test("clientFromEnv() reads the environment and lets overrides win", async () => {
  await using server = startFakeServer();
  const vars = new Map([
    ["NETBOX_URL", `${server.url}/api`],
    ["NETBOX_TOKEN", TOKEN],
    ["NETBOX_RETRIES", "0"],
  ]);
  const client = clientFromEnv({ pageSize: 50, log: () => {} }, { get: (name) => vars.get(name) });
  assert.equal(client.baseUrl, server.url);
  assert.equal(client.pageSize, 50);
  server.push({ status: 503 });
  await assert.rejects(client.request("GET", "dcim/sites/"), { status: 503 });
  assert.equal(server.requests.length, 2, "NETBOX_RETRIES=0 means one attempt");
});

Deno.test("clientFromEnv() names the variable to set", () => {
  assert.throws(
    () => clientFromEnv({}, { get: (name) => (name === "NETBOX_URL" ? "https://x.y" : undefined) }),
    (err: unknown) => err instanceof ConfigError && /NETBOX_TOKEN/.test(err.message),
  );
  assert.throws(
    () => clientFromEnv({}, { get: () => undefined }),
    (err: unknown) => err instanceof ConfigError && /NETBOX_URL/.test(err.message),
  );
  const client = clientFromEnv({ url: "https://nb.example.com", token: TOKEN }, {
    get: () => undefined,
  });
  assert.equal(client.baseUrl, "https://nb.example.com");
});

Deno.test("a custom CA certificate lets the client talk TLS to a private server; close() releases it", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: TEST_CERT, key: TEST_KEY, onListen() {} },
    (req) =>
      Response.json(
        new URL(req.url).pathname === "/api/status/" ? { "netbox-version": "4.7.3" } : { id: 1 },
      ),
  );
  try {
    const url = `https://127.0.0.1:${server.addr.port}`;
    const client = createClient({ url, token: TOKEN, caCerts: [TEST_CA] });
    try {
      assert.deepEqual(await client.request("GET", "dcim/sites/1/"), { id: 1 });
    } finally {
      client.close();
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("an untrusted TLS certificate fails at once, without retries, pointing at --ca-cert", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: TEST_CERT, key: TEST_KEY, onListen() {} },
    () => Response.json({ "netbox-version": "4.7.3" }),
  );
  try {
    const clock = fakeClock();
    const client = createClient({
      url: `https://127.0.0.1:${server.addr.port}`,
      token: TOKEN,
      clock,
    });
    await assert.rejects(client.status(), (err: unknown) => {
      assert.ok(err instanceof NetBoxNetworkError, String(err));
      assert.equal(err.attempts, 1);
      assert.match(
        err.message,
        /^Cannot read the NetBox status: TLS to 127\.0\.0\.1:\d+ failed \(UnknownIssuer\); for a private CA pass --ca-cert or set NETBOX_CA_CERT$/,
      );
      return true;
    });
    assert.deepEqual(clock.sleeps, []);
  } finally {
    await server.shutdown();
  }
});

Deno.test("clientFromEnv() runs with --allow-env for the URL and token only; the URL itself must be readable", () => {
  const vars = new Map([["NETBOX_URL", "https://nb.example.com"], [
    "NETBOX_TOKEN",
    "nbt_abcdefghijkl.secret",
  ]]);
  const allowed = (names: string[]) => ({
    get(name: string) {
      if (!names.includes(name)) {
        throw new Deno.errors.NotCapable(`Requires env access to "${name}"`);
      }
      return vars.get(name);
    },
  });
  const client = clientFromEnv({}, allowed(["NETBOX_URL", "NETBOX_TOKEN"]));
  assert.equal(client.apiUrl, "https://nb.example.com/api/");
  client.close();
  assert.throws(() => clientFromEnv({}, allowed(["NETBOX_TOKEN"])), Deno.errors.NotCapable);
});
