/**
 * The client's typed tree (`client.circuits.circuits`, `client.ipam.prefixes`, … — every list
 * endpoint of NetBox's core API, from the generated `_endpoint_table.ts`) and
 * `client.endpoint(path)` for any other list endpoint (plugins included).
 *
 * The tree is lazy: an app's object is made when it is first used, and an endpoint when it is
 * first used, once each; creating a client makes none of the 140.
 *
 * @module
 */

import { ENDPOINT_SINCE, ENDPOINT_TABLE } from "./_endpoint_table.ts";
import { createAvailable } from "./available.ts";
import { createEndpoint } from "./endpoint.ts";
import { NetBoxError } from "./errors.ts";
import { versionAtLeast } from "./query.ts";
import type { IPAddress } from "./models.ts";
import type {
  AvailableIp,
  Endpoint,
  NetBoxClient,
  NetBoxObject,
  NetBoxStatus,
  RequestOptions,
  Transport,
} from "./types.ts";

/** Everything of {@linkcode NetBoxClient} that is not the transport. */
export type Endpoints = Omit<NetBoxClient, keyof Transport>;

/** The detail helpers some endpoints carry (`prefixes.availableIps(id)`, …), by list path. */
const DETAIL_HELPERS: Record<
  string,
  (transport: Transport, path: string) => Record<string, (id: number) => unknown>
> = {
  "ipam/prefixes/": (transport, path) => ({
    availableIps: (id) =>
      createAvailable<AvailableIp, IPAddress>(transport, path, id, "available-ips"),
    availablePrefixes: (id) => createAvailable(transport, path, id, "available-prefixes"),
  }),
  "ipam/ip-ranges/": (transport, path) => ({
    availableIps: (id) =>
      createAvailable<AvailableIp, IPAddress>(transport, path, id, "available-ips"),
  }),
  "ipam/vlan-groups/": (transport, path) => ({
    availableVlans: (id) => createAvailable(transport, path, id, "available-vlans"),
  }),
};

/** Defines `key` on `target` as made by `make` on first read, then kept. */
function lazy(target: object, key: string, make: () => unknown): void {
  let value: unknown;
  Object.defineProperty(target, key, {
    enumerable: true,
    get: () => value ??= make(),
  });
}

/**
 * The transport of an endpoint that NetBox has only since `since`: every request (and the
 * status the endpoint's verbs read first) refuses on an older server, before anything is sent
 * to the endpoint.
 */
function requiringVersion(transport: Transport, path: string, since: string): Transport {
  const [major, minor] = since.split(".").map(Number);
  const check = (status: NetBoxStatus): NetBoxStatus => {
    if (!versionAtLeast(status, major, minor)) {
      throw new NetBoxError(
        `Cannot use /api/${path}: it needs NetBox ≥ ${since} (this server runs ${status.version})`,
      );
    }
    return status;
  };
  return {
    ...transport,
    status: async () => check(await transport.status()),
    request: async <T = unknown>(method: string, url: string, options?: RequestOptions) => {
      check(await transport.status());
      return await transport.request<T>(method, url, options);
    },
  };
}

/** The endpoint of one path of the table, with its version guard and detail helpers. */
function typedEndpoint(transport: Transport, path: string): Endpoint {
  const since = ENDPOINT_SINCE[path];
  const guarded = since ? requiringVersion(transport, path, since) : transport;
  const endpoint = createEndpoint(guarded, path);
  const helpers = DETAIL_HELPERS[path];
  return helpers ? { ...endpoint, ...helpers(guarded, endpoint.path) } : endpoint;
}

/**
 * Builds the typed tree over a transport. Pure and lazy: creating it sends nothing and makes no
 * endpoint until one is used.
 *
 * @param transport The client's transport.
 * @returns `endpoint(path)` plus one object per app of NetBox's API (`circuits`, `core`, `dcim`,
 *   `extras`, `ipam`, `tenancy`, `users`, `virtualization`, `vpn`, `wireless`).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createEndpoints } from "./endpoints.ts";
 * import type { Transport } from "./types.ts";
 * const endpoints = createEndpoints({} as Transport);
 * assert(endpoints.ipam.ipAddresses.path === "ipam/ip-addresses/");
 * assert(endpoints.vpn.tunnels.path === "vpn/tunnels/");
 * assert(endpoints.endpoint("plugins/foo/bars").path === "plugins/foo/bars/");
 * ```
 */
export function createEndpoints(transport: Transport): Endpoints {
  const tree: Record<string, unknown> = {
    endpoint: <T extends NetBoxObject = NetBoxObject>(path: string) =>
      createEndpoint<T>(transport, path),
  };
  for (const [app, paths] of Object.entries(ENDPOINT_TABLE)) {
    lazy(tree, app, () => {
      const endpoints = {};
      for (const [name, path] of Object.entries(paths as Record<string, string>)) {
        lazy(endpoints, name, () => typedEndpoint(transport, path));
      }
      return Object.freeze(endpoints);
    });
  }
  return tree as unknown as Endpoints;
}
