/**
 * The example inventory from the NetBox guide this project started from, loaded into a test
 * NetBox with plain `fetch` (get-or-create, so it is idempotent and safe to run concurrently).
 *
 * Run it as a script (reads `NETBOX_TEST_URL` and `NETBOX_TEST_TOKEN`, prints the ids as JSON):
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-env tests/netbox/seed.ts
 * ```
 *
 * @module
 */

/** Ids of the seeded objects, by a stable key (e.g. `site`, `device:foxtrot`, `ip`). */
export type SeedIds = Record<string, number>;

/** Tags of the inventory (slug = name). */
export const SEED_TAGS = [
  "proxmox",
  "production",
  "production-dns",
  "terraform",
  "docker",
  "proxmox-node",
  "ceph-node",
] as const;

/** The Proxmox nodes and the interfaces each has. */
export const SEED_NODES = ["foxtrot", "golf", "hotel"] as const;
/** Interfaces of each Proxmox node: name and NetBox interface type. */
export const SEED_NODE_INTERFACES = [
  ["enp1s0f0", "10gbase-x-sfpp"],
  ["enp1s0f1", "10gbase-x-sfpp"],
  ["vmbr0", "bridge"],
] as const;

type Json = Record<string, unknown>;
// deno-lint-ignore no-explicit-any
type Body = any; // NetBox JSON, read loosely

class Api {
  constructor(private readonly base: string, private readonly token: string) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; data: Body }> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      Authorization: this.token.startsWith("nbt_") ? `Bearer ${this.token}` : `Token ${this.token}`,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${this.base}/api/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data: unknown = text;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // keep the text (HTML error pages)
    }
    return { status: res.status, data };
  }

  async ok(method: string, path: string, body?: unknown): Promise<Body> {
    const { status, data } = await this.call(method, path, body);
    if (status < 200 || status > 299) {
      throw new Error(
        `Cannot seed NetBox: ${method} /api/${path} answered ${status} ${JSON.stringify(data)}`,
      );
    }
    return data;
  }

  /** The matching object with the lowest id (a few NetBox models allow duplicates). */
  async find(path: string, query: Record<string, string | number>): Promise<Json | undefined> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    const page = await this.ok("GET", `${path}?${qs}&ordering=id&limit=1`);
    return page.results[0];
  }

  /**
   * Get the object matching `query`, or create it from `body`. Concurrent seeds may race: a
   * refused create re-reads, and a create that lost to an older duplicate (VRFs, prefixes and
   * IPs may repeat) is deleted again, so every seed converges on the lowest id.
   */
  async ensure(path: string, query: Record<string, string | number>, body: Json): Promise<Json> {
    const found = await this.find(path, query);
    if (found) return found;
    const { status, data } = await this.call("POST", path, body);
    const winner = await this.find(path, query);
    if (status === 201 && winner && winner.id !== data.id) {
      await this.call("DELETE", `${path}${data.id}/`);
      return winner;
    }
    if (status === 201) return data;
    if (winner) return winner;
    throw new Error(
      `Cannot seed NetBox: POST /api/${path} answered ${status} ${JSON.stringify(data)}`,
    );
  }
}

/**
 * Creates (or finds) the example inventory: tags, site "Matrix Cluster" (`matrix`), Proxmox nodes
 * foxtrot, golf and hotel with interfaces, cluster `matrix`, VM `docker-01` (4 vCPU, 8192 MB
 * memory, 100 GB = 100000 MB disk) with `eth0`, VRF `management`, prefix 192.168.3.0/24 (global
 * table) and IP 192.168.3.10/24 (`docker-01-nexus.spaceships.work`) on docker-01's eth0 as its
 * primary IPv4. Objects that already exist are left as they are.
 *
 * @param url base URL of the NetBox (with or without `/api`)
 * @param token a write-enabled token (v2 `nbt_…` or v1)
 * @returns the ids of the seeded objects
 * @throws {Error} "Cannot seed NetBox: …" when NetBox refuses a request
 */
export async function seedInventory(url: string, token: string): Promise<SeedIds> {
  const api = new Api(url.replace(/\/+$/, "").replace(/\/api$/, ""), token);
  const ids: SeedIds = {};
  const tag = (slug: string) => ({ slug });

  for (const name of SEED_TAGS) {
    ids[`tag:${name}`] = (await api.ensure("extras/tags/", { slug: name }, { name, slug: name }))
      .id as number;
  }

  const site = await api.ensure("dcim/sites/", { slug: "matrix" }, {
    name: "Matrix Cluster",
    slug: "matrix",
    status: "active",
    description: "3-node Proxmox cluster",
    tags: [tag("proxmox"), tag("production")],
  });
  ids.site = site.id as number;

  const manufacturer = await api.ensure("dcim/manufacturers/", { slug: "generic" }, {
    name: "Generic",
    slug: "generic",
  });
  ids.manufacturer = manufacturer.id as number;
  const deviceType = await api.ensure("dcim/device-types/", { slug: "proxmox-server" }, {
    manufacturer: manufacturer.id,
    model: "Proxmox Server",
    slug: "proxmox-server",
  });
  ids.device_type = deviceType.id as number;
  const role = await api.ensure("dcim/device-roles/", { slug: "proxmox-node" }, {
    name: "Proxmox Node",
    slug: "proxmox-node",
    color: "e65100",
    vm_role: false,
  });
  ids.device_role = role.id as number;

  for (const name of SEED_NODES) {
    const device = await api.ensure("dcim/devices/", { name, site_id: site.id as number }, {
      name,
      site: site.id,
      device_type: deviceType.id,
      role: role.id,
      status: "active",
      tags: [tag("proxmox-node"), tag("ceph-node")],
    });
    ids[`device:${name}`] = device.id as number;
    for (const [ifName, type] of SEED_NODE_INTERFACES) {
      const iface = await api.ensure("dcim/interfaces/", {
        device_id: device.id as number,
        name: ifName,
      }, {
        device: device.id,
        name: ifName,
        type,
      });
      ids[`interface:${name}:${ifName}`] = iface.id as number;
    }
  }

  const clusterType = await api.ensure("virtualization/cluster-types/", { slug: "proxmox" }, {
    name: "Proxmox",
    slug: "proxmox",
  });
  ids.cluster_type = clusterType.id as number;
  const cluster = await api.ensure("virtualization/clusters/", { name: "matrix" }, {
    name: "matrix",
    type: clusterType.id,
    status: "active",
    scope_type: "dcim.site",
    scope_id: site.id,
    tags: [tag("proxmox")],
  });
  ids.cluster = cluster.id as number;

  const vm = await api.ensure("virtualization/virtual-machines/", {
    name: "docker-01",
    cluster_id: cluster.id as number,
  }, {
    name: "docker-01",
    cluster: cluster.id,
    status: "active",
    vcpus: 4,
    memory: 8192,
    disk: 100000,
    tags: [tag("docker"), tag("production")],
  });
  ids.vm = vm.id as number;
  const eth0 = await api.ensure("virtualization/interfaces/", {
    virtual_machine_id: vm.id as number,
    name: "eth0",
  }, {
    virtual_machine: vm.id,
    name: "eth0",
  });
  ids.vm_interface = eth0.id as number;

  const vrf = await api.ensure("ipam/vrfs/", { name: "management" }, { name: "management" });
  ids.vrf = vrf.id as number;
  const prefix = await api.ensure("ipam/prefixes/", { prefix: "192.168.3.0/24", vrf_id: "null" }, {
    prefix: "192.168.3.0/24",
    status: "active",
    scope_type: "dcim.site",
    scope_id: site.id,
    tags: [tag("production")],
  });
  ids.prefix = prefix.id as number;
  const ip = await api.ensure(
    "ipam/ip-addresses/",
    { address: "192.168.3.10/24", vrf_id: "null" },
    {
      address: "192.168.3.10/24",
      status: "active",
      dns_name: "docker-01-nexus.spaceships.work",
      assigned_object_type: "virtualization.vminterface",
      assigned_object_id: eth0.id,
      tags: [tag("production-dns"), tag("terraform")],
    },
  );
  ids.ip = ip.id as number;
  const primary = vm.primary_ip4 as { id: number } | null;
  if (!primary && ip.assigned_object_id === eth0.id) {
    await api.ok("PATCH", `virtualization/virtual-machines/${vm.id}/`, { primary_ip4: ip.id });
  }
  return ids;
}

if (import.meta.main) {
  const url = Deno.env.get("NETBOX_TEST_URL");
  const token = Deno.env.get("NETBOX_TEST_TOKEN");
  if (!url || !token) {
    console.error(
      "Cannot seed NetBox: set NETBOX_TEST_URL and NETBOX_TEST_TOKEN (bash tests/netbox/provision.sh env)",
    );
    Deno.exit(2);
  }
  console.log(JSON.stringify(await seedInventory(url, token), null, 2));
}
