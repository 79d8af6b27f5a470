import assert from "node:assert/strict";
import { main } from "../../tasks/bulk-import.ts";
import type { TaskIO } from "../../lib/cli/io.ts";
import { FakeNetBox } from "../_fake_netbox.ts";

const FIXTURES = new URL("../fixtures/import/", import.meta.url).pathname;
const TOKEN = "nbt_abcdefghijkl.0123456789abcdef0123456789abcdef01234567";

type Meta = Record<
  string,
  { type: string; required?: boolean; read_only?: boolean; choices?: { value: string }[] }
>;
const s = (required = false) => ({ type: "string", required });
const slug = { type: "slug", required: true };
const f = (required = false) => ({ type: "field", required });
const ch = (...values: string[]) => ({
  type: "choice",
  choices: values.map((value) => ({ value })),
});
const STATUS = ch("active", "planned", "reserved", "deprecated", "offline", "staged");
const COMMON = { description: s(), tags: f(), custom_fields: { type: "json" }, comments: s() };

/** A subset of NetBox 4.7's OPTIONS metadata for the endpoints the fixtures use. */
const META: Record<string, Meta> = {
  "extras/tags/": { name: s(true), slug, color: s(), description: s() },
  "dcim/sites/": { name: s(true), slug, status: STATUS, region: f(), tenant: f(), ...COMMON },
  "dcim/regions/": { name: s(true), slug, parent: f(), ...COMMON },
  "dcim/manufacturers/": { name: s(true), slug, ...COMMON },
  "dcim/device-types/": {
    manufacturer: f(true),
    model: s(true),
    slug,
    u_height: { type: "decimal" },
    ...COMMON,
  },
  "dcim/device-roles/": { name: s(true), slug, color: s(), ...COMMON },
  "dcim/devices/": {
    name: s(),
    device_type: f(true),
    role: f(true),
    site: f(true),
    cluster: f(),
    status: STATUS,
    primary_ip4: f(),
    primary_ip6: f(),
    oob_ip: f(),
    virtual_chassis: f(),
    vc_position: { type: "integer" },
    ...COMMON,
  },
  "dcim/virtual-chassis/": { name: s(true), master: f(), ...COMMON },
  "dcim/cables/": { a_terminations: { type: "list" }, b_terminations: { type: "list" }, ...COMMON },
  "dcim/interfaces/": {
    device: f(true),
    name: s(true),
    type: ch("1000base-t", "bridge", "virtual"),
    ...COMMON,
  },
  "virtualization/cluster-types/": { name: s(true), slug, ...COMMON },
  "virtualization/clusters/": {
    name: s(true),
    type: f(true),
    status: STATUS,
    scope_type: s(),
    scope_id: { type: "integer" },
    ...COMMON,
  },
  "virtualization/virtual-machines/": {
    name: s(true),
    cluster: f(),
    status: STATUS,
    vcpus: { type: "decimal" },
    memory: { type: "integer" },
    primary_ip4: f(),
    primary_ip6: f(),
    ...COMMON,
  },
  "virtualization/interfaces/": { virtual_machine: f(true), name: s(true), ...COMMON },
  "ipam/vrfs/": { name: s(true), rd: s(), enforce_unique: { type: "boolean" }, ...COMMON },
  "ipam/vlans/": {
    name: s(true),
    vid: { type: "integer", required: true },
    site: f(),
    group: f(),
    ...COMMON,
  },
  "ipam/prefixes/": {
    prefix: s(true),
    vrf: f(),
    status: STATUS,
    scope_type: s(),
    scope_id: { type: "integer" },
    ...COMMON,
  },
  "ipam/ip-addresses/": {
    address: s(true),
    vrf: f(),
    status: ch("active", "reserved", "deprecated", "dhcp", "slaac"),
    role: ch("loopback", "secondary", "anycast", "vip", "vrrp", "hsrp", "glbp", "carp"),
    dns_name: s(),
    assigned_object_type: s(),
    assigned_object_id: { type: "integer" },
    ...COMMON,
  },
};

type Row = Record<string, unknown>;

/**
 * The shared fake NetBox with OPTIONS metadata from `META`, storing writes as sent (references
 * stay ids). Seen with list paths ending in a slash: `tables` holds what was written, `writes`
 * lists every write and `sent` its body.
 */
function netbox() {
  const meta = Object.fromEntries(
    Object.entries(META).map(([path, fields]) => [path.replace(/\/$/, ""), fields]),
  );
  const nb = new FakeNetBox({ meta, storeAsSent: true });
  const slash = (request: string) => request.replace(/^(\S+ [^?]+)/, "$1/");
  return {
    fetch: nb.fetch,
    get tables(): Map<string, Row[]> {
      return new Map(Object.entries(nb.tables).map(([path, rows]) => [`${path}/`, rows]));
    },
    get writes(): string[] {
      return nb.writes().map(slash);
    },
    get sent(): { request: string; body: unknown }[] {
      return nb.sent.map((w) => ({ request: slash(w.request), body: w.body }));
    },
  };
}

/** Reference fields (ids) and the table they point into (`type` and `role`: see refOf). */
const REFS: Record<string, string> = {
  tags: "extras/tags/",
  manufacturer: "dcim/manufacturers/",
  device_type: "dcim/device-types/",
  site: "dcim/sites/",
  region: "dcim/regions/",
  cluster: "virtualization/clusters/",
  device: "dcim/devices/",
  virtual_machine: "virtualization/virtual-machines/",
  vrf: "ipam/vrfs/",
  primary_ip4: "ipam/ip-addresses/",
  primary_ip6: "ipam/ip-addresses/",
  oob_ip: "ipam/ip-addresses/",
};
/** Content types of generic relations (`scope_type`, `assigned_object_type`). */
const CONTENT_TYPES: Record<string, string> = {
  "dcim.site": "dcim/sites/",
  "dcim.interface": "dcim/interfaces/",
  "virtualization.vminterface": "virtualization/interfaces/",
};

/** The table a field of `path` refers to; undefined for plain fields. */
function refOf(path: string, field: string): string | undefined {
  // A cluster's type and a device's role are references; an interface's type and an IP's role
  // are choices.
  if (field === "type") {
    return path === "virtualization/clusters/" ? "virtualization/cluster-types/" : undefined;
  }
  if (field === "role") return path === "dcim/devices/" ? "dcim/device-roles/" : undefined;
  return REFS[field];
}

/**
 * The stored objects with ids normalised away: every object without id/url/display, each
 * reference replaced by the natural key of the object it points to (`<missing …>` when there is
 * none), each table sorted. Two NetBoxes with the same dump hold the same data.
 */
function dump(tables: Map<string, Row[]>): Record<string, Row[]> {
  const find = (path: string, id: unknown) => tables.get(path)?.find((r) => r.id === id);
  const label = (path: string, id: unknown): string => {
    const o = find(path, id);
    if (!o) return `<missing ${path}${id}>`;
    if (path === "dcim/interfaces/") return `${label("dcim/devices/", o.device)} ${o.name}`;
    if (path === "virtualization/interfaces/") {
      return `${label("virtualization/virtual-machines/", o.virtual_machine)} ${o.name}`;
    }
    return String(o.slug ?? o.name ?? o.address ?? o.prefix);
  };
  const out: Record<string, Row[]> = {};
  for (const [path, rows] of [...tables].sort(([a], [b]) => a.localeCompare(b))) {
    if (!rows.length) continue;
    out[path] = rows.map((row) => {
      const o: Row = {};
      for (const [k, v] of Object.entries(row)) {
        if (["id", "url", "display", "created", "last_updated"].includes(k)) continue;
        const ref = refOf(path, k);
        if ((k === "scope_id" || k === "assigned_object_id") && v !== null) {
          const type = row[k === "scope_id" ? "scope_type" : "assigned_object_type"] as string;
          o[k] = label(CONTENT_TYPES[type] ?? `<${type}>/`, v);
        } else if (ref && v !== null) {
          // A list of references (tags) is a set: order does not matter.
          o[k] = Array.isArray(v) ? v.map((id) => label(ref, id)).sort() : label(ref, v);
        } else o[k] = v;
      }
      return o;
    }).sort(byContent);
  }
  return out;
}

/** Orders rows by their content, whatever the order of their keys. */
function byContent(a: Row, b: Row): number {
  const canon = (o: Row) => JSON.stringify(o, Object.keys(o).sort());
  return canon(a).localeCompare(canon(b));
}

/** What importing tests/fixtures/import/inventory.yaml stores, references by natural key. */
const INVENTORY: Record<string, Row[]> = {
  "dcim/device-roles/": [{ name: "Hypervisor", slug: "hypervisor", color: "2196f3" }],
  "dcim/device-types/": [
    { manufacturer: "supermicro", model: "SYS-1019", slug: "sys-1019", u_height: 1 },
  ],
  "dcim/devices/": ["foxtrot", "golf", "hotel"].map((name, i) => ({
    name,
    site: "matrix",
    role: "hypervisor",
    device_type: "sys-1019",
    cluster: "matrix",
    status: name === "hotel" ? "planned" : "active",
    tags: name === "hotel" ? ["proxmox-node"] : ["ceph-node", "proxmox-node"],
    primary_ip4: `192.168.3.${5 + i}/24`,
  })),
  "dcim/interfaces/": ["foxtrot", "golf", "hotel"].flatMap((device) => [
    { device, name: "eth0", type: "1000base-t" },
    { device, name: "vmbr0", type: "bridge" },
  ]),
  "dcim/manufacturers/": [{ name: "Supermicro", slug: "supermicro" }],
  "dcim/sites/": [{
    name: "Matrix Cluster",
    slug: "matrix",
    status: "active",
    description: "3-node Proxmox cluster",
    tags: ["production", "proxmox"],
  }],
  "extras/tags/": [
    { name: "ceph-node", slug: "ceph-node" },
    { name: "production", slug: "production" },
    { name: "proxmox", slug: "proxmox", color: "ff9800" },
    { name: "proxmox-node", slug: "proxmox-node" },
  ],
  "ipam/ip-addresses/": [
    {
      address: "192.168.3.1/24",
      vrf: "management",
      status: "active",
      role: "vip",
      dns_name: "gw.matrix.example.com",
    },
    ...[["foxtrot", 5], ["golf", 6], ["hotel", 7]].map(([device, n]) => ({
      address: `192.168.3.${n}/24`,
      vrf: "management",
      status: "active",
      dns_name: `${device}.matrix.example.com`,
      tags: ["proxmox"],
      assigned_object_type: "dcim.interface",
      assigned_object_id: `${device} vmbr0`,
    })),
    ...[["dns01", 50], ["monitoring01", 51]].map(([vm, n]) => ({
      address: `192.168.3.${n}/24`,
      vrf: "management",
      status: "active",
      dns_name: `${vm}.matrix.example.com`,
      assigned_object_type: "virtualization.vminterface",
      assigned_object_id: `${vm} eth0`,
    })),
  ],
  "ipam/prefixes/": [
    {
      prefix: "192.168.3.0/24",
      vrf: "management",
      status: "active",
      scope_type: "dcim.site",
      scope_id: "matrix",
      description: "Hypervisor management",
    },
    {
      prefix: "192.168.4.0/24",
      vrf: "management",
      status: "reserved",
      description: "Future VM network",
    },
  ],
  "ipam/vrfs/": [{
    name: "management",
    enforce_unique: true,
    description: "Out-of-band and hypervisor management",
  }],
  "virtualization/cluster-types/": [{ name: "Proxmox VE", slug: "proxmox-ve" }],
  "virtualization/clusters/": [{
    name: "matrix",
    type: "proxmox-ve",
    status: "active",
    scope_type: "dcim.site",
    scope_id: "matrix",
    tags: ["proxmox"],
  }],
  "virtualization/interfaces/": [
    { virtual_machine: "dns01", name: "eth0" },
    { virtual_machine: "monitoring01", name: "eth0" },
  ],
  "virtualization/virtual-machines/": [
    {
      name: "dns01",
      cluster: "matrix",
      status: "active",
      vcpus: 2,
      memory: 2048,
      primary_ip4: "192.168.3.50/24",
    },
    {
      name: "monitoring01",
      cluster: "matrix",
      status: "active",
      vcpus: 4,
      memory: 8192,
      primary_ip4: "192.168.3.51/24",
    },
  ],
};

/** Expected data in dump order (each table sorted as {@linkcode dump} does). */
function sorted(data: Record<string, Row[]>): Record<string, Row[]> {
  return Object.fromEntries(
    Object.entries(data).sort(([a], [b]) => a.localeCompare(b)).map((
      [path, rows],
    ) => [path, [...rows].sort(byContent)]),
  );
}

function io(fetch: typeof globalThis.fetch) {
  const out = { stdout: "", stderr: "" };
  const taskIO: TaskIO = {
    stdout: (t) => out.stdout += t,
    stderr: (t) => out.stderr += t,
    env: (name) =>
      ({ NETBOX_URL: "http://127.0.0.1:9", NETBOX_TOKEN: TOKEN } as Record<string, string>)[name],
    stderrIsTerminal: false,
    fetch,
    readTextFile: (path) => Deno.readTextFile(path),
    now: () => new Date(0),
  };
  return { io: taskIO, out };
}

Deno.test("bulk-import refuses every bad input of the corpus with file:line:column and writes nothing", async () => {
  const cases = JSON.parse(await Deno.readTextFile(`${FIXTURES}bad/cases.json`)) as {
    file: string;
    model?: string;
    at: string;
    message: string;
  }[];
  const files = [...Deno.readDirSync(`${FIXTURES}bad`)].map((e) => e.name)
    .filter((name) => name !== "cases.json").sort();
  assert.deepEqual(cases.map((c) => c.file).sort(), files, "one case per bad file");
  for (const c of cases) {
    const nb = netbox();
    const { io: taskIO, out } = io(nb.fetch);
    const file = `${FIXTURES}bad/${c.file}`;
    const args = c.model ? [file, "--model", c.model] : [file];
    const code = await main(args, taskIO);
    assert.equal(code, 2, `${c.file}: exit ${code}\n${out.stderr}`);
    const line = out.stderr.split("\n").find((l) => l.startsWith(`${file}:${c.at}: `));
    assert.ok(line, `${c.file}: expected a problem at ${c.at}, got:\n${out.stderr}`);
    assert.ok(line.includes(c.message), `${c.file}: expected "${c.message}" in\n${line}`);
    assert.match(out.stderr, /nothing was written/);
    assert.deepEqual(nb.writes, [], c.file);
    assert.deepEqual(dump(nb.tables), {}, c.file);
  }
});

Deno.test("bulk-import --dry-run prints the plan and writes nothing", async () => {
  const nb = netbox();
  const { io: taskIO, out } = io(nb.fetch);
  const code = await main([`${FIXTURES}inventory.yaml`, "--dry-run", "--format", "json"], taskIO);
  assert.equal(code, 0, out.stderr);
  const doc = JSON.parse(out.stdout);
  assert.equal(doc.summary.dry_run, true);
  assert.equal(doc.summary.create, 32);
  assert.deepEqual(doc.summary.models["dcim.devices"], {
    create: 3,
    update: 0,
    unchanged: 0,
    failed: 0,
    invalid: 0,
  });
  assert.deepEqual(nb.writes, []);
  assert.deepEqual(dump(nb.tables), {});
});

Deno.test("bulk-import imports the inventory, then a second run writes nothing", async () => {
  const nb = netbox();
  const first = io(nb.fetch);
  assert.equal(await main([`${FIXTURES}inventory.yaml`], first.io), 0, first.out.stderr);
  assert.match(first.out.stdout, /^dcim\.devices\s+3\s+0\s+0\s+0$/m);
  // Every object with every field of the file, references to the right objects; primary IPs
  // (set in the second pass) included.
  assert.deepEqual(dump(nb.tables), sorted(INVENTORY));
  const writes = nb.writes.length;
  const second = io(nb.fetch);
  assert.equal(await main([`${FIXTURES}inventory.yaml`, "--format", "json"], second.io), 0);
  const doc = JSON.parse(second.out.stdout);
  assert.equal(doc.summary.unchanged, 32);
  assert.equal(nb.writes.length, writes, "no write on the second run");
  assert.deepEqual(dump(nb.tables), sorted(INVENTORY));
});

Deno.test("bulk-import applies exactly the changed fields and shows their diff", async () => {
  const nb = netbox();
  assert.equal(await main([`${FIXTURES}inventory.yaml`], io(nb.fetch).io), 0);
  const changed = (await Deno.readTextFile(`${FIXTURES}inventory.yaml`))
    .replace("status: planned", "status: active")
    .replace("dns_name: gw.matrix", "dns_name: gateway.matrix")
    .replace("description: Future VM network", "description: VM network");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/inv.yaml`, changed);
    const dry = io(nb.fetch);
    const before = nb.writes.length;
    assert.equal(await main([`${dir}/inv.yaml`, "--dry-run"], dry.io), 0);
    assert.match(dry.out.stdout, /~ update dcim\.devices hotel .*\n {4}status: planned → active/);
    assert.match(
      dry.out.stdout,
      /dns_name: gw\.matrix\.example\.com → gateway\.matrix\.example\.com/,
    );
    assert.match(dry.out.stdout, /description: Future VM network → VM network/);
    assert.match(dry.out.stdout, /^total\s+0\s+3\s+29\s+0$/m);
    assert.equal(nb.writes.length, before);
    assert.deepEqual(dump(nb.tables), sorted(INVENTORY), "the dry run changed nothing");
    const real = io(nb.fetch);
    assert.equal(await main([`${dir}/inv.yaml`, "--format", "json"], real.io), 0);
    assert.equal(JSON.parse(real.out.stdout).summary.update, 3);
    // The stored data: the three fields changed, nothing else.
    const want = structuredClone(INVENTORY);
    want["dcim/devices/"].find((d) => d.name === "hotel")!.status = "active";
    want["ipam/prefixes/"].find((p) => p.prefix === "192.168.4.0/24")!.description = "VM network";
    want["ipam/ip-addresses/"].find((i) => i.address === "192.168.3.1/24")!.dns_name =
      "gateway.matrix.example.com";
    assert.deepEqual(dump(nb.tables), sorted(want));
    const idOf = (path: string, field: string, value: string) =>
      nb.tables.get(path)!.find((r) => r[field] === value)!.id;
    // One PATCH per model, each with the id and the changed field only.
    assert.deepEqual(nb.sent.slice(before), [
      {
        request: "PATCH dcim/devices/",
        body: [{ id: idOf("dcim/devices/", "name", "hotel"), status: "active" }],
      },
      {
        request: "PATCH ipam/prefixes/",
        body: [{
          id: idOf("ipam/prefixes/", "prefix", "192.168.4.0/24"),
          description: "VM network",
        }],
      },
      {
        request: "PATCH ipam/ip-addresses/",
        body: [{
          id: idOf("ipam/ip-addresses/", "address", "192.168.3.1/24"),
          dns_name: "gateway.matrix.example.com",
        }],
      },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bulk-import imports the CSV files to the same result as the YAML", async () => {
  const yaml = netbox();
  assert.equal(await main([`${FIXTURES}inventory.yaml`], io(yaml.fetch).io), 0);
  const csvFiles = [...Deno.readDirSync(`${FIXTURES}csv`)].map((e) => `${FIXTURES}csv/${e.name}`)
    .sort();
  assert.equal(csvFiles.length, 14);
  const csv = netbox();
  const run = io(csv.fetch);
  assert.equal(await main(csvFiles, run.io), 0, run.out.stderr);
  // The same objects with the same fields and references (ids differ by creation order).
  assert.deepEqual(dump(csv.tables), dump(yaml.tables));
  assert.deepEqual(dump(csv.tables), sorted(INVENTORY));
});
