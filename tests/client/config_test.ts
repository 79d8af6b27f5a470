import assert from "node:assert/strict";
import { isInsecureUrl, normalizeUrl, resolveConfig } from "../../lib/client/config.ts";
import { ConfigError } from "../../lib/client/errors.ts";

const TOKEN = "nbt_abcdefghijkl.0123456789abcdefghijklmnopqrstuvwxyzABCD";

function envOf(vars: Record<string, string>) {
  const read: string[] = [];
  const get = (name: string) => {
    read.push(name);
    return vars[name];
  };
  return { get, read };
}

Deno.test("normalizeUrl() accepts the URL with or without /api and trailing slashes", () => {
  for (
    const url of [
      "https://nb.example.com",
      "https://nb.example.com/",
      "https://nb.example.com/api",
      "https://nb.example.com/api/",
      "  https://nb.example.com/api//  ",
      "https://nb.example.com/?x=1#top",
    ]
  ) {
    assert.equal(normalizeUrl(url), "https://nb.example.com", url);
  }
  assert.equal(normalizeUrl("http://127.0.0.1:8000/netbox/api/"), "http://127.0.0.1:8000/netbox");
  assert.equal(normalizeUrl("HTTPS://NB.Example.com:443/"), "https://nb.example.com");
});

Deno.test("normalizeUrl() rejects non-http(s), relative URLs and embedded credentials", () => {
  for (const url of ["ftp://nb.example.com", "nb.example.com", "file:///etc/passwd", ""]) {
    assert.throws(() => normalizeUrl(url), ConfigError, url);
  }
  assert.throws(
    () => normalizeUrl("https://admin:hunter22@nb.example.com"),
    (err: unknown) =>
      err instanceof ConfigError && /credentials/.test(err.message) &&
      !err.message.includes("hunter22"),
  );
});

Deno.test("isInsecureUrl() flags plain http except to loopback", () => {
  assert.equal(isInsecureUrl("http://netbox.example.com"), true);
  assert.equal(isInsecureUrl("http://10.0.0.5:8000"), true);
  assert.equal(isInsecureUrl("http://127.0.0.1:8000"), false);
  assert.equal(isInsecureUrl("http://[::1]:8000"), false);
  assert.equal(isInsecureUrl("http://localhost:8000"), false);
  assert.equal(isInsecureUrl("https://netbox.example.com"), false);
});

Deno.test("resolveConfig() reads the environment through the getter", () => {
  const env = envOf({
    NETBOX_URL: "https://nb.example.com/api/",
    NETBOX_TOKEN: ` ${TOKEN}\n`,
    NETBOX_TIMEOUT: "12.5",
    NETBOX_RETRIES: "2",
  });
  assert.deepEqual(resolveConfig({}, env.get), {
    url: "https://nb.example.com",
    token: TOKEN,
    timeoutMs: 12_500,
    retries: 2,
  });
  assert.ok(env.read.every((name) => name.startsWith("NETBOX_")));
});

Deno.test("resolveConfig() lets flags win over the environment", () => {
  const env = envOf({
    NETBOX_URL: "https://env.example.com",
    NETBOX_TOKEN: "env-token-000000000000000000000000000000",
    NETBOX_TIMEOUT: "5",
    NETBOX_RETRIES: "1",
  });
  const options = resolveConfig({
    url: "https://flag.example.com",
    token: TOKEN,
    timeoutSec: 60,
    retries: "0",
    concurrency: 8,
  }, env.get);
  assert.deepEqual(options, {
    url: "https://flag.example.com",
    token: TOKEN,
    timeoutMs: 60_000,
    retries: 0,
    concurrency: 8,
  });
});

Deno.test("resolveConfig() names NETBOX_URL and --url when the URL is missing", () => {
  assert.throws(() => resolveConfig({}, envOf({ NETBOX_TOKEN: TOKEN }).get), {
    name: "ConfigError",
    message: "Cannot connect to NetBox: no URL; set NETBOX_URL or pass --url",
  });
});

Deno.test("resolveConfig() names the token variables and flag when the token is missing", () => {
  assert.throws(
    () => resolveConfig({}, envOf({ NETBOX_URL: "https://nb.example.com", NETBOX_TOKEN: " " }).get),
    {
      name: "ConfigError",
      message:
        "Cannot connect to NetBox: no API token; set NETBOX_TOKEN or NETBOX_TOKEN_FILE, or pass --token-file",
    },
  );
});

Deno.test("resolveConfig() reads and trims the token file, which wins over NETBOX_TOKEN", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/token`;
    await Deno.writeTextFile(file, `${TOKEN}\n`);
    const env = envOf({
      NETBOX_URL: "https://nb.example.com",
      NETBOX_TOKEN: "other",
      NETBOX_TOKEN_FILE: file,
    });
    assert.equal(resolveConfig({}, env.get).token, TOKEN);
    assert.equal(
      resolveConfig({ tokenFile: file }, envOf({ NETBOX_URL: "https://x.y" }).get).token,
      TOKEN,
    );
    await Deno.writeTextFile(file, "\n");
    assert.throws(() => resolveConfig({}, env.get), {
      name: "ConfigError",
      message: `Cannot read the token file ${file} (NETBOX_TOKEN_FILE): it is empty`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveConfig() names the flag or variable of an unreadable file", () => {
  const env = envOf({ NETBOX_URL: "https://nb.example.com", NETBOX_TOKEN: TOKEN });
  assert.throws(() => resolveConfig({ tokenFile: "/nonexistent/token" }, env.get), {
    name: "ConfigError",
    message: "Cannot read the token file /nonexistent/token (--token-file): no such file",
  });
  const caEnv = envOf({
    ...{ NETBOX_URL: "https://x.y", NETBOX_TOKEN: TOKEN },
    NETBOX_CA_CERT: "/nonexistent/ca.pem",
  });
  assert.throws(() => resolveConfig({}, caEnv.get), {
    name: "ConfigError",
    message: "Cannot read the CA certificate /nonexistent/ca.pem (NETBOX_CA_CERT): no such file",
  });
});

Deno.test("resolveConfig() reads the CA certificate file into caCerts", async () => {
  const file = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(
      file,
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    );
    const options = resolveConfig(
      { caCertPath: file },
      envOf({ NETBOX_URL: "https://nb.example.com", NETBOX_TOKEN: TOKEN }).get,
    );
    assert.deepEqual(options.caCerts, [
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    ]);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("resolveConfig() rejects bad numbers naming the flag or variable", () => {
  const base = { NETBOX_URL: "https://nb.example.com", NETBOX_TOKEN: TOKEN };
  const cases: [Record<string, string>, Parameters<typeof resolveConfig>[0], string][] = [
    [
      { NETBOX_TIMEOUT: "soon" },
      {},
      'Cannot use NETBOX_TIMEOUT="soon": expected a number of seconds > 0',
    ],
    [{}, { timeoutSec: "0" }, 'Cannot use --timeout="0": expected a number of seconds > 0'],
    [
      { NETBOX_RETRIES: "2.5" },
      {},
      'Cannot use NETBOX_RETRIES="2.5": expected a whole number >= 0',
    ],
    [{}, { retries: -1 }, 'Cannot use --retries="-1": expected a whole number >= 0'],
    [{}, { concurrency: "0" }, 'Cannot use --concurrency="0": expected a whole number >= 1'],
  ];
  for (const [vars, flags, message] of cases) {
    assert.throws(() => resolveConfig(flags, envOf({ ...base, ...vars }).get), {
      name: "ConfigError",
      message,
    });
  }
});

Deno.test("resolveConfig() rejects a URL with a bad scheme as ConfigError", () => {
  assert.throws(
    () => resolveConfig({ url: "ftp://nb.example.com" }, envOf({ NETBOX_TOKEN: TOKEN }).get),
    ConfigError,
  );
});
