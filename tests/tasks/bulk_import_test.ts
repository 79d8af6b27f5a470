import assert from "node:assert/strict";
import { main } from "../../tasks/bulk-import.ts";
import type { TaskIO } from "../../lib/cli.ts";

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
    ...COMMON,
  },
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

/** An in-memory NetBox: OPTIONS, filtered lists, bulk POST/PATCH; records every write. */
function fakeNetBox() {
  const tables = new Map<string, Record<string, unknown>[]>();
  const writes: string[] = [];
  let nextId = 1;
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/api\//, "");
    const text = req.body ? await req.text() : "";
    if (path === "status/") return json({ "netbox-version": "4.7.3" });
    const meta = META[path];
    if (!meta) return json({ detail: "Not found." }, 404);
    const rows = tables.get(path) ?? [];
    tables.set(path, rows);
    if (req.method === "OPTIONS") return json({ actions: { POST: meta, PUT: meta } });
    if (req.method === "GET") {
      const results = rows.filter((row) =>
        [...new Set(url.searchParams.keys())].every((k) => {
          if (["limit", "offset", "start", "fields", "brief", "ordering"].includes(k)) return true;
          return url.searchParams.getAll(k).includes(String(row[k]));
        })
      );
      return json({ count: results.length, next: null, previous: null, results });
    }
    writes.push(`${req.method} ${path}`);
    const body = JSON.parse(text) as Record<string, unknown>[];
    if (req.method === "POST") {
      const created = body.map((b) => ({ id: nextId++, url: "", display: "", ...b }));
      rows.push(...created);
      return json(created, 201);
    }
    const updated = body.map((b) => Object.assign(rows.find((r) => r.id === b.id)!, b));
    return json(updated);
  };
  return { fetch: fetch as typeof globalThis.fetch, tables, writes };
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
  assert.ok(cases.length >= 20);
  for (const c of cases) {
    const nb = fakeNetBox();
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
  }
});

Deno.test("bulk-import --dry-run prints the plan and writes nothing", async () => {
  const nb = fakeNetBox();
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
});

Deno.test("bulk-import imports the inventory, then a second run writes nothing", async () => {
  const nb = fakeNetBox();
  const first = io(nb.fetch);
  assert.equal(await main([`${FIXTURES}inventory.yaml`], first.io), 0, first.out.stderr);
  assert.match(first.out.stdout, /^dcim\.devices\s+3\s+0\s+0\s+0$/m);
  const devices = nb.tables.get("dcim/devices/")!;
  const ips = nb.tables.get("ipam/ip-addresses/")!;
  const foxtrot = devices.find((d) => d.name === "foxtrot")!;
  const ip = ips.find((i) => i.address === "192.168.3.5/24")!;
  assert.equal(foxtrot.primary_ip4, ip.id, "primary IP set in the second pass");
  assert.equal(ip.assigned_object_type, "dcim.interface");
  const writes = nb.writes.length;
  const second = io(nb.fetch);
  assert.equal(await main([`${FIXTURES}inventory.yaml`, "--format", "json"], second.io), 0);
  const doc = JSON.parse(second.out.stdout);
  assert.equal(doc.summary.unchanged, 32);
  assert.equal(nb.writes.length, writes, "no write on the second run");
});

Deno.test("bulk-import applies exactly the changed fields and shows their diff", async () => {
  const nb = fakeNetBox();
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
    const real = io(nb.fetch);
    assert.equal(await main([`${dir}/inv.yaml`, "--format", "json"], real.io), 0);
    assert.equal(JSON.parse(real.out.stdout).summary.update, 3);
    assert.deepEqual(nb.writes.slice(before), [
      "PATCH dcim/devices/",
      "PATCH ipam/prefixes/",
      "PATCH ipam/ip-addresses/",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bulk-import imports the CSV files to the same result as the YAML", async () => {
  const yaml = fakeNetBox();
  assert.equal(await main([`${FIXTURES}inventory.yaml`], io(yaml.fetch).io), 0);
  const csvFiles = [...Deno.readDirSync(`${FIXTURES}csv`)].map((e) => `${FIXTURES}csv/${e.name}`)
    .sort();
  const csv = fakeNetBox();
  const run = io(csv.fetch);
  assert.equal(await main(csvFiles, run.io), 0, run.out.stderr);
  // Running the YAML against the CSV-built NetBox changes nothing.
  const again = io(csv.fetch);
  const before = csv.writes.length;
  assert.equal(
    await main([`${FIXTURES}inventory.yaml`, "--format", "json"], again.io),
    0,
    again.out.stderr,
  );
  assert.equal(JSON.parse(again.out.stdout).summary.unchanged, 32, again.out.stdout);
  assert.equal(csv.writes.length, before);
});
