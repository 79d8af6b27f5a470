/**
 * The client: the transport (one core round trip) plus the typed endpoint table.
 *
 * @module
 */

import { createTransport } from "./transport.ts";
import { createEndpoints } from "./endpoints.ts";
import { resolveConfig } from "./config.ts";
import type { ClientOptions, NetBoxClient } from "./types.ts";

/**
 * Creates a NetBox client. Nothing is sent until the first request; the first request checks
 * the server version (`/api/status/`, once per client).
 *
 * @param options `url` and `token` are required; everything else has a default.
 * @returns The client: `client.ipam.ipAddresses.list(…)`, `client.endpoint("plugins/…")`, …
 * @throws {ConfigError} When the URL or token is missing or the URL is not http(s).
 *
 * @example Listing with a scripted fetch
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "./client.ts";
 * const fetch = (input: RequestInfo | URL) =>
 *   Promise.resolve(Response.json(String(input).endsWith("/api/status/")
 *     ? { "netbox-version": "4.7.3" }
 *     : { id: 1, url: "", name: "Matrix" }));
 * const client = createClient({ url: "https://nb.example.com", token: "nbt_abcdefghijkl.secret", fetch });
 * const site = await client.request<{ name: string }>("GET", "dcim/sites/1/");
 * assert(site.name === "Matrix");
 * client.close();
 * ```
 */
export function createClient(options: ClientOptions): NetBoxClient {
  const transport = createTransport(options);
  // The descriptors, not a spread: a spread would read (and so make) every app of the lazy tree.
  return Object.defineProperties(
    { ...transport },
    Object.getOwnPropertyDescriptors(createEndpoints(transport)),
  ) as NetBoxClient;
}

/** Without these the client cannot start; every other variable is optional. */
const REQUIRED_ENV = new Set(["NETBOX_URL"]);

/**
 * Creates a client from the environment: `NETBOX_URL`, `NETBOX_TOKEN` or `NETBOX_TOKEN_FILE`,
 * `NETBOX_TIMEOUT` (seconds), `NETBOX_RETRIES`, `NETBOX_SETTLE` (seconds), `NETBOX_CA_CERT` (a PEM
 * file). `overrides` win.
 * A script run with `--allow-env=NETBOX_URL,NETBOX_TOKEN` works: optional variables it may not
 * read count as unset.
 *
 * @param overrides Options that win over the environment (e.g. `{ verbose: true }`).
 * @param env Where to read variables. @default {Deno.env}
 * @returns The client.
 * @throws {ConfigError} Naming the variable to set when the URL or token is missing.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { clientFromEnv } from "./client.ts";
 * const vars = new Map([["NETBOX_URL", "https://nb.example.com/api/"], ["NETBOX_TOKEN", "nbt_abcdefghijkl.secret"]]);
 * const client = clientFromEnv({ retries: 2 }, { get: (name) => vars.get(name) });
 * assert(client.apiUrl === "https://nb.example.com/api/");
 * ```
 */
export function clientFromEnv(
  overrides: Partial<ClientOptions> = {},
  env: { get(name: string): string | undefined } = Deno.env,
): NetBoxClient {
  const resolved = resolveConfig(
    { url: overrides.url, token: overrides.token },
    (name) => {
      try {
        return env.get(name);
      } catch (err) {
        if (err instanceof Deno.errors.NotCapable && !REQUIRED_ENV.has(name)) return undefined;
        throw err;
      }
    },
    { names: { url: "`url`", token: "`token`" } },
  );
  const defined = Object.fromEntries(
    Object.entries(overrides).filter(([key, value]) => value !== undefined && key !== "url"),
  );
  return createClient({ ...resolved, ...defined });
}
