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

/** Component templates of a device type: the model's path and the template bodies. */
type Templates = [path: string, bodies: Json[]][];

/** The rack's device types: model, slug, height and their component templates. */
const RACK_TYPES: { model: string; slug: string; u_height: number; templates: Templates }[] = [
  {
    model: "Access Switch",
    slug: "access-switch",
    u_height: 1,
    templates: [
      ["interface-templates", [
        ...[1, 2, 3, 4].map((n) => ({ name: `ge${n}`, type: "1000base-t" })),
        { name: "mgmt0", type: "1000base-t", mgmt_only: true },
      ]],
      ["console-port-templates", [{ name: "console", type: "rj-45" }]],
      ["power-port-templates", [{ name: "psu0", type: "iec-60320-c14" }]],
    ],
  },
  {
    model: "Console Server",
    slug: "console-server",
    u_height: 1,
    templates: [
      ["interface-templates", [{ name: "eth0", type: "1000base-t", mgmt_only: true }]],
      ["console-server-port-templates", [1, 2].map((n) => ({ name: `port${n}`, type: "rj-45" }))],
      ["power-port-templates", [{ name: "psu0", type: "iec-60320-c14" }]],
    ],
  },
  {
    model: "PDU",
    slug: "pdu",
    u_height: 0,
    templates: [
      ["power-port-templates", [{ name: "inlet", type: "iec-60320-c20" }]],
      // Outlets fed by the inlet: `power_port` is filled in by seedRack.
      [
        "power-outlet-templates",
        [1, 2, 3, 4].map((n) => ({
          name: `outlet${n}`,
          type: "iec-60320-c13",
        })),
      ],
    ],
  },
  {
    model: "Patch Panel",
    slug: "patch-panel",
    u_height: 1,
    templates: [
      ["rear-port-templates", [{ name: "rear1", type: "8p8c", positions: 2 }]],
      // Front port n on position n of rear1: filled in by seedRack.
      ["front-port-templates", [1, 2].map((n) => ({ name: `front${n}`, type: "8p8c" }))],
    ],
  },
];

/** The rack's devices: name, type slug, role slug, rack name and position (none: 0U). */
export const SEED_RACK_DEVICES = [
  ["sw1", "access-switch", "network", "R1", 42],
  ["cs1", "console-server", "network", "R1", 41],
  ["pp1", "patch-panel", "network", "R1", 40],
  ["pdu1", "pdu", "power", "R1", null],
  ["pp2", "patch-panel", "network", "R2", 42],
] as const;

/** The rack's cables: both ends as [device, component path, component name]. */
export const SEED_CABLES: [end: [string, string, string], end: [string, string, string]][] = [
  [["sw1", "interfaces", "ge1"], ["pp1", "front-ports", "front1"]],
  [["sw1", "interfaces", "ge2"], ["pp1", "front-ports", "front2"]],
  [["pp1", "rear-ports", "rear1"], ["pp2", "rear-ports", "rear1"]],
  [["pp2", "front-ports", "front1"], ["foxtrot", "interfaces", "enp1s0f0"]],
  [["pp2", "front-ports", "front2"], ["golf", "interfaces", "enp1s0f0"]],
  [["sw1", "interfaces", "ge3"], ["hotel", "interfaces", "enp1s0f0"]],
  [["sw1", "interfaces", "ge4"], ["cs1", "interfaces", "eth0"]],
  [["sw1", "console-ports", "console"], ["cs1", "console-server-ports", "port1"]],
  [["sw1", "power-ports", "psu0"], ["pdu1", "power-outlets", "outlet1"]],
  [["cs1", "power-ports", "psu0"], ["pdu1", "power-outlets", "outlet2"]],
];

/** A cable end's object type, by component path. */
const END_TYPES: Record<string, string> = {
  "interfaces": "dcim.interface",
  "front-ports": "dcim.frontport",
  "rear-ports": "dcim.rearport",
  "console-ports": "dcim.consoleport",
  "console-server-ports": "dcim.consoleserverport",
  "power-ports": "dcim.powerport",
  "power-outlets": "dcim.poweroutlet",
};

/**
 * The demo rack in site matrix: device types with component templates (a switch, a console
 * server, a PDU, a patch panel), racks R1 and R2, the devices (their ports come from the
 * templates) and cables between them and to the Proxmox nodes' first interfaces: interface to
 * interface, console port to console server port, power port to power outlet, and through the
 * patch panels (front ports on the two positions of a rear-to-rear trunk).
 */
async function seedRack(api: Api, ids: SeedIds, site: number, manufacturer: number) {
  // Seeded already when the last cable is there (a seed cables last, after everything else).
  const names = SEED_RACK_DEVICES.map(([n]) => `name=${n}`).join("&");
  const found = await api.ok("GET", `dcim/devices/?site_id=${site}&${names}&limit=100`);
  const [[device, path, name]] = SEED_CABLES[SEED_CABLES.length - 1];
  const last = found.results.find((d: Json) => d.name === device);
  if (last && (await api.find(`dcim/${path}/`, { device_id: last.id as number, name }))?.cable) {
    for (const d of found.results) ids[`device:${d.name}`] = d.id;
    const racks = await api.ok("GET", `dcim/racks/?site_id=${site}&name=R1&name=R2`);
    for (const r of racks.results) ids[`rack:${r.name}`] = r.id;
    return;
  }
  // NetBox 4.6+ maps a front port (template) to its rear port by a list.
  const status = await api.ok("GET", "status/");
  const [major, minor] = String(status["netbox-version"]).split(".").map(Number);
  const mappings = major > 4 || (major === 4 && minor >= 6);
  const roles: Record<string, number> = {};
  for (
    const [slug, name, color] of [["network", "Network", "2196f3"], ["power", "Power", "ff9800"]]
  ) {
    roles[slug] = (await api.ensure("dcim/device-roles/", { slug }, { name, slug, color }))
      .id as number;
  }
  const types: Record<string, number> = {};
  for (const t of RACK_TYPES) {
    const type = await api.ensure("dcim/device-types/", { slug: t.slug }, {
      manufacturer,
      model: t.model,
      slug: t.slug,
      u_height: t.u_height,
    });
    types[t.slug] = type.id as number;
    // Every template before any device of the type: NetBox copies them into new devices.
    const made: Record<string, number> = {};
    for (const [path, bodies] of t.templates) {
      for (const body of bodies) {
        const extra: Json = {};
        if (path === "power-outlet-templates") extra.power_port = made.inlet;
        if (path === "front-port-templates") {
          const n = Number(String(body.name).slice(-1));
          Object.assign(
            extra,
            mappings
              ? { rear_ports: [{ position: 1, rear_port: made.rear1, rear_port_position: n }] }
              : { rear_port: made.rear1, rear_port_position: n },
          );
        }
        const tpl = await api.ensure(`dcim/${path}/`, {
          device_type_id: type.id as number,
          name: String(body.name),
        }, { device_type: type.id, ...body, ...extra });
        made[String(body.name)] = tpl.id as number;
      }
    }
  }
  const racks: Record<string, number> = {};
  for (const name of ["R1", "R2"]) {
    racks[name] = (await api.ensure("dcim/racks/", { site_id: site, name }, {
      name,
      site,
      status: "active",
      u_height: 42,
    })).id as number;
    ids[`rack:${name}`] = racks[name];
  }
  for (const [name, type, role, rack, position] of SEED_RACK_DEVICES) {
    const device = await api.ensure("dcim/devices/", { name, site_id: site }, {
      name,
      site,
      device_type: types[type],
      role: roles[role],
      rack: racks[rack],
      ...(position === null ? {} : { position, face: "front" }),
      status: "active",
    });
    ids[`device:${name}`] = device.id as number;
  }
  for (const [a, b] of SEED_CABLES) {
    const end = async ([device, path, name]: [string, string, string]) => {
      const deviceId = ids[`device:${device}`];
      const found = await api.find(`dcim/${path}/`, { device_id: deviceId, name });
      if (!found) throw new Error(`Cannot seed NetBox: ${device} has no ${path} ${name}`);
      return found;
    };
    const [x, y] = [await end(a), await end(b)];
    if (x.cable) continue;
    const term = (path: string, o: Json) => [{ object_type: END_TYPES[path], object_id: o.id }];
    const { status: code, data } = await api.call("POST", "dcim/cables/", {
      a_terminations: term(a[1], x),
      b_terminations: term(b[1], y),
      status: "connected",
    });
    // A concurrent seed may have cabled it first.
    if (code !== 201 && !(await end(a)).cable) {
      throw new Error(
        `Cannot seed NetBox: POST /api/dcim/cables/ answered ${code} ${JSON.stringify(data)}`,
      );
    }
  }
}

/**
 * Creates (or finds) the example inventory: tags, site "Matrix Cluster" (`matrix`), Proxmox nodes
 * foxtrot, golf and hotel with interfaces, cluster `matrix`, VM `docker-01` (4 vCPU, 8192 MB
 * memory, 100 GB = 100000 MB disk) with `eth0`, VRF `management`, prefix 192.168.3.0/24 (global
 * table) and IP 192.168.3.10/24 (`docker-01-nexus.spaceships.work`) on docker-01's eth0 as its
 * primary IPv4; and a small rack (switch, console server, PDU, two patch panels) cabled to the
 * nodes (see seedRack). Objects that already exist are left as they are.
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

  // Independent objects are looked up (or created) side by side: a seed of an inventory that is
  // there already is a few rounds of GETs, not one GET after the other.
  await Promise.all(SEED_TAGS.map(async (name) => {
    ids[`tag:${name}`] = (await api.ensure("extras/tags/", { slug: name }, { name, slug: name }))
      .id as number;
  }));

  const [site, manufacturer, role] = await Promise.all([
    api.ensure("dcim/sites/", { slug: "matrix" }, {
      name: "Matrix Cluster",
      slug: "matrix",
      status: "active",
      description: "3-node Proxmox cluster",
      tags: [tag("proxmox"), tag("production")],
    }),
    api.ensure("dcim/manufacturers/", { slug: "generic" }, {
      name: "Generic",
      slug: "generic",
    }),
    api.ensure("dcim/device-roles/", { slug: "proxmox-node" }, {
      name: "Proxmox Node",
      slug: "proxmox-node",
      color: "e65100",
      vm_role: false,
    }),
  ]);
  ids.site = site.id as number;
  ids.manufacturer = manufacturer.id as number;
  ids.device_role = role.id as number;
  const deviceType = await api.ensure("dcim/device-types/", { slug: "proxmox-server" }, {
    manufacturer: manufacturer.id,
    model: "Proxmox Server",
    slug: "proxmox-server",
  });
  ids.device_type = deviceType.id as number;

  await Promise.all(SEED_NODES.map(async (name) => {
    const device = await api.ensure("dcim/devices/", { name, site_id: site.id as number }, {
      name,
      site: site.id,
      device_type: deviceType.id,
      role: role.id,
      status: "active",
      tags: [tag("proxmox-node"), tag("ceph-node")],
    });
    ids[`device:${name}`] = device.id as number;
    await Promise.all(SEED_NODE_INTERFACES.map(async ([ifName, type]) => {
      const iface = await api.ensure("dcim/interfaces/", {
        device_id: device.id as number,
        name: ifName,
      }, {
        device: device.id,
        name: ifName,
        type,
      });
      ids[`interface:${name}:${ifName}`] = iface.id as number;
    }));
  }));

  await Promise.all([
    seedRack(api, ids, site.id as number, manufacturer.id as number),
    seedVirtual(api, ids, site.id as number),
  ]);
  return ids;
}

/** The cluster, VM docker-01 with eth0, VRF, prefix and the VM's primary address (see above). */
async function seedVirtual(api: Api, ids: SeedIds, siteId: number): Promise<void> {
  const tag = (slug: string) => ({ slug });
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
    scope_id: siteId,
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
    scope_id: siteId,
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
