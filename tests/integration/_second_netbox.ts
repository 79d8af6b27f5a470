/**
 * A second, empty, real NetBox for tests that move data between two NetBoxes (export from A,
 * import into an empty B). Started with `tests/netbox/provision.sh up --fresh` beside the one
 * under test: the same version, the next port, its own database (`<db>_b`, a fresh clone of the
 * same template: seconds) and Redis databases 11/12 (7/8 for versions other than 4.7.3; or
 * NETBOX_TEST_B_REDIS_DB / NETBOX_TEST_B_REDIS_CACHE_DB), the same cache (venv, template).
 * `stop()` runs `down` (the database stays, and the next `up --fresh` clones it again).
 *
 * @module
 */

import { type NetBoxTestEnv, serverVersion } from "./_netbox.ts";

const SCRIPT = new URL("../netbox/provision.sh", import.meta.url).pathname;

/** A running second NetBox. */
export interface SecondNetBox {
  /** Its connection details (tokens from its env file). */
  env: NetBoxTestEnv;
  /** Stops its gunicorn and RQ worker (exactly those `up` started). */
  stop(): Promise<void>;
}

/** An environment variable, unless unset or blank. */
const envVar = (name: string) => Deno.env.get(name)?.trim() || undefined;

/** The provisioning environment of the second NetBox, derived from the one under test. */
async function overrides(a: NetBoxTestEnv): Promise<Record<string, string>> {
  const version = (await serverVersion(a)).version;
  const url = new URL(a.url);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80)) + 1;
  const db = (Deno.env.get("NETBOX_TEST_DB") ?? "").trim() ||
    (version === "4.7.3"
      ? "netbox_toolkit_test"
      : `netbox_toolkit_test_${version.replaceAll(".", "_")}`);
  return {
    NETBOX_TEST_VERSION: version,
    NETBOX_TEST_PORT: String(port),
    NETBOX_TEST_DB: `${db}_b`,
    // Redis databases of their own per version: CI runs the 4.7.3 and the 4.3.7 suites at the
    // same time, and a second NetBox flushes its databases when it starts. Several suites on one
    // machine give each its own (NETBOX_TEST_B_REDIS_DB, NETBOX_TEST_B_REDIS_CACHE_DB).
    NETBOX_TEST_REDIS_DB: envVar("NETBOX_TEST_B_REDIS_DB") ?? (version === "4.7.3" ? "11" : "7"),
    NETBOX_TEST_REDIS_CACHE_DB: envVar("NETBOX_TEST_B_REDIS_CACHE_DB") ??
      (version === "4.7.3" ? "12" : "8"),
    NETBOX_TEST_WORKERS: "2",
  };
}

async function provision(verb: string[], env: Record<string, string>) {
  const out = await new Deno.Command("bash", {
    args: [SCRIPT, ...verb],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/**
 * Starts an empty second NetBox beside `a` and returns its connection details.
 *
 * @param a the NetBox under test
 * @throws {Error} with the provisioning log when it does not come up
 */
export async function startSecondNetBox(a: NetBoxTestEnv): Promise<SecondNetBox> {
  const env = await overrides(a);
  const up = await provision(["up", "--fresh"], env);
  const vars: Record<string, string> = {};
  for (const line of up.stdout.split("\n")) {
    const m = /^(NETBOX_TEST_[A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
  const stop = async () => {
    const down = await provision(["down"], env);
    if (down.code !== 0) console.error(`second NetBox: down failed:\n${down.stderr.slice(-2000)}`);
  };
  if (up.code !== 0 || !vars.NETBOX_TEST_URL || !vars.NETBOX_TEST_TOKEN) {
    await stop();
    throw new Error(
      `Cannot start the second NetBox (exit ${up.code}) with ${JSON.stringify(env)}:\n${
        up.stderr.slice(-3000)
      }`,
    );
  }
  return {
    env: {
      url: vars.NETBOX_TEST_URL.replace(/\/+$/, ""),
      token: vars.NETBOX_TEST_TOKEN,
      tokenV1: vars.NETBOX_TEST_TOKEN_V1 ?? "",
      tokenRo: vars.NETBOX_TEST_TOKEN_RO ?? "",
      tokenRoV1: vars.NETBOX_TEST_TOKEN_RO_V1 ?? "",
      user: vars.NETBOX_TEST_USER ?? "",
      password: vars.NETBOX_TEST_PASSWORD ?? "",
    },
    stop,
  };
}
