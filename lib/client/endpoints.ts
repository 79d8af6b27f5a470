/**
 * The typed endpoint table of the client (`client.dcim.sites`, `client.ipam.prefixes`, …) and
 * `client.endpoint(path)` for any other list endpoint (plugins included).
 *
 * @module
 */

import { createAvailable } from "./available.ts";
import { createEndpoint } from "./endpoint.ts";
import type { IPAddress, ModelsByPath } from "./models.ts";
import type {
  AvailableIp,
  EndpointOf,
  IpRangeEndpoint,
  NetBoxClient,
  NetBoxObject,
  PrefixEndpoint,
  Transport,
  VlanGroupEndpoint,
} from "./types.ts";

/** Everything of {@linkcode NetBoxClient} that is not the transport. */
export type Endpoints = Omit<NetBoxClient, keyof Transport>;

/**
 * Builds the endpoint table over a transport. Pure: creating it sends nothing.
 *
 * @param transport The client's transport.
 * @returns `endpoint(path)` plus the `dcim`, `ipam`, `virtualization`, `tenancy` and `extras`
 *   tables.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createEndpoints } from "./endpoints.ts";
 * import type { Transport } from "./types.ts";
 * const endpoints = createEndpoints({} as Transport);
 * assert(endpoints.ipam.ipAddresses.path === "ipam/ip-addresses/");
 * assert(endpoints.endpoint("plugins/foo/bars").path === "plugins/foo/bars/");
 * ```
 */
export function createEndpoints(transport: Transport): Endpoints {
  // The path picks the generated types (`models.ts`), so a path and its types cannot disagree.
  const at = <P extends keyof ModelsByPath>(path: P): EndpointOf<P> =>
    createEndpoint(transport, path);
  const prefixes = at("ipam/prefixes/");
  const ipRanges = at("ipam/ip-ranges/");
  const vlanGroups = at("ipam/vlan-groups/");
  const prefixEndpoint: PrefixEndpoint = {
    ...prefixes,
    availableIps: (id) =>
      createAvailable<AvailableIp, IPAddress>(transport, prefixes.path, id, "available-ips"),
    availablePrefixes: (id) => createAvailable(transport, prefixes.path, id, "available-prefixes"),
  };
  const ipRangeEndpoint: IpRangeEndpoint = {
    ...ipRanges,
    availableIps: (id) =>
      createAvailable<AvailableIp, IPAddress>(transport, ipRanges.path, id, "available-ips"),
  };
  const vlanGroupEndpoint: VlanGroupEndpoint = {
    ...vlanGroups,
    availableVlans: (id) => createAvailable(transport, vlanGroups.path, id, "available-vlans"),
  };
  return {
    endpoint: <T extends NetBoxObject = NetBoxObject>(path: string) =>
      createEndpoint<T>(transport, path),
    dcim: {
      sites: at("dcim/sites/"),
      regions: at("dcim/regions/"),
      locations: at("dcim/locations/"),
      racks: at("dcim/racks/"),
      manufacturers: at("dcim/manufacturers/"),
      deviceTypes: at("dcim/device-types/"),
      deviceRoles: at("dcim/device-roles/"),
      platforms: at("dcim/platforms/"),
      devices: at("dcim/devices/"),
      interfaces: at("dcim/interfaces/"),
    },
    ipam: {
      vrfs: at("ipam/vrfs/"),
      prefixes: prefixEndpoint,
      ipRanges: ipRangeEndpoint,
      ipAddresses: at("ipam/ip-addresses/"),
      vlans: at("ipam/vlans/"),
      vlanGroups: vlanGroupEndpoint,
      roles: at("ipam/roles/"),
    },
    virtualization: {
      clusterTypes: at("virtualization/cluster-types/"),
      clusters: at("virtualization/clusters/"),
      virtualMachines: at("virtualization/virtual-machines/"),
      interfaces: at("virtualization/interfaces/"),
    },
    tenancy: { tenants: at("tenancy/tenants/") },
    extras: { tags: at("extras/tags/") },
  };
}
