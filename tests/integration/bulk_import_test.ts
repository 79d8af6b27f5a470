/**
 * bulk-import against the real NetBox: the example inventory (YAML and CSV) imports, a second run
 * writes nothing, three changed fields give exactly three updates, and every bad input of the
 * corpus exits 2 at the right position with NetBox unchanged. Names carry a per-run suffix so
 * concurrent runs and the seed inventory do not collide; everything created is deleted.
 *
 * After every import the objects are read back from NetBox (raw API, no toolkit code) into a
 * dump of the fields the inventory sets, references by name instead of id, and compared with
 * what the inventory says: the tool's own summary is never the proof.
 *
 * A module installed by the import on a module type with interface templates: NetBox makes the
 * module's ports, and the file's entries for them set those instead of being created twice.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { MODELS } from "../../lib/import/models.ts";
import { main } from "../../tasks/bulk-import.ts";
import {
  type Body,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  serverVersion,
  testEnv,
  versionAtLeast,
} from "./_netbox.ts";
import { FIXTURES, uniquify, withTempDir } from "./_inventory.ts";
import { runTaskWrites, type WritesRun } from "./_run_task.ts";

/** What NetBox holds of one imported inventory: per model, the fields the inventory sets. */
type Dump = Record<string, Record<string, unknown>[]>;

const slugsOf = (tags: { slug: string }[]) => tags.map((t) => t.slug).sort();

/** GETs every page of a list (the inventory is small: one page). */
async function list(env: NetBoxTestEnv, path: string, query: string): Promise<Body[]> {
  const page = await fetchOk(env, "GET", `/api/${path}/?${query}&limit=1000`);
  assert.equal(page.next, null);
  return page.results;
}

/**
 * Reads the inventory imported with `suffix` back from NetBox: ids are replaced by the names of
 * the objects they point to, every list is sorted, so two imports compare equal exactly when
 * NetBox holds the same data.
 */
async function dump(suffix: string): Promise<Dump> {
  const env = testEnv();
  const q = (key: string, names: string[]) =>
    names.map((n) => `${key}=${encodeURIComponent(`${n}-${suffix}`)}`).join("&");
  const [site] = await list(env, "dcim/sites", q("slug", ["matrix"]));
  const [cluster] = await list(env, "virtualization/clusters", q("name", ["matrix"]));
  const [vrf] = await list(env, "ipam/vrfs", q("name", ["management"]));
  assert.ok(site && cluster && vrf, "the site, the cluster and the VRF exist");
  const out: Dump = {
    tags: (await list(env, "extras/tags", q("slug", PLAIN_TAGS))).map((t) => ({
      name: t.name,
      slug: t.slug,
      color: t.color,
    })),
    sites: [site].map((x) => ({
      name: x.name,
      slug: x.slug,
      status: x.status.value,
      description: x.description,
      tags: slugsOf(x.tags),
    })),
    manufacturers: (await list(env, "dcim/manufacturers", q("slug", ["supermicro"]))).map((
      x,
    ) => ({ name: x.name, slug: x.slug })),
    device_types: (await list(env, "dcim/device-types", q("slug", ["sys-1019"]))).map((x) => ({
      manufacturer: x.manufacturer.slug,
      model: x.model,
      slug: x.slug,
      u_height: x.u_height,
    })),
    device_roles: (await list(env, "dcim/device-roles", q("slug", ["hypervisor"]))).map((x) => ({
      name: x.name,
      slug: x.slug,
      color: x.color,
    })),
    cluster_types: (await list(env, "virtualization/cluster-types", q("slug", ["proxmox-ve"])))
      .map((x) => ({ name: x.name, slug: x.slug })),
    clusters: [cluster].map((x) => ({
      name: x.name,
      type: x.type.slug,
      status: x.status.value,
      scope_type: x.scope_type,
      scope: x.scope?.slug ?? null,
      tags: slugsOf(x.tags),
    })),
    devices: (await list(env, "dcim/devices", `site_id=${site.id}`)).map((x) => ({
      name: x.name,
      site: x.site.slug,
      role: x.role.slug,
      device_type: x.device_type.slug,
      cluster: x.cluster?.name ?? null,
      status: x.status.value,
      tags: slugsOf(x.tags),
      primary_ip4: x.primary_ip4?.address ?? null,
    })),
    interfaces: (await list(env, "dcim/interfaces", `site_id=${site.id}`)).map((x) => ({
      device: x.device.name,
      name: x.name,
      type: x.type.value,
    })),
    virtual_machines:
      (await list(env, "virtualization/virtual-machines", `cluster_id=${cluster.id}`))
        .map((x) => ({
          name: x.name,
          cluster: x.cluster.name,
          status: x.status.value,
          vcpus: Number(x.vcpus),
          memory: x.memory,
          primary_ip4: x.primary_ip4?.address ?? null,
        })),
    vm_interfaces: (await list(env, "virtualization/interfaces", `cluster_id=${cluster.id}`))
      .map((x) => ({ virtual_machine: x.virtual_machine.name, name: x.name })),
    vrfs: [vrf].map((x) => ({
      name: x.name,
      enforce_unique: x.enforce_unique,
      description: x.description,
    })),
    prefixes: (await list(env, "ipam/prefixes", `vrf_id=${vrf.id}`)).map((x) => ({
      prefix: x.prefix,
      vrf: x.vrf.name,
      status: x.status.value,
      scope_type: x.scope_type ?? null,
      scope: x.scope?.slug ?? null,
      description: x.description,
    })),
    ip_addresses: (await list(env, "ipam/ip-addresses", `vrf_id=${vrf.id}`)).map((x) => ({
      address: x.address,
      vrf: x.vrf.name,
      status: x.status.value,
      role: x.role?.value ?? null,
      dns_name: x.dns_name,
      tags: slugsOf(x.tags),
      assigned_object_type: x.assigned_object_type,
      interface: x.assigned_object
        ? `${
          x.assigned_object.device?.name ?? x.assigned_object.virtual_machine?.name
        } ${x.assigned_object.name}`
        : null,
    })),
  };
  return normalise(out);
}

/** Sorts every list of a dump (by its JSON) so the order NetBox lists in does not matter. */
function normalise(d: Dump): Dump {
  return Object.fromEntries(
    Object.entries(d).map(([k, rows]) => [
      k,
      [...rows].sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1),
    ]),
  );
}

/** A dump with the run's suffix replaced by `<s>`, to compare two imports. */
function unsuffixed(d: Dump, suffix: string): Dump {
  return normalise(JSON.parse(JSON.stringify(d).replaceAll(`-${suffix}`, "-<s>")));
}

const PLAIN_TAGS = ["proxmox", "production", "proxmox-node", "ceph-node"];
const GREY = "9e9e9e"; // NetBox's default tag colour

/** What NetBox must hold after importing tests/fixtures/import (plain names; see uniquify). */
const EXPECTED_PLAIN: Dump = {
  tags: [
    { name: "proxmox", slug: "proxmox", color: "ff9800" },
    { name: "production", slug: "production", color: GREY },
    { name: "proxmox-node", slug: "proxmox-node", color: GREY },
    { name: "ceph-node", slug: "ceph-node", color: GREY },
  ],
  sites: [{
    name: "Matrix Cluster",
    slug: "matrix",
    status: "active",
    description: "3-node Proxmox cluster",
    tags: ["production", "proxmox"],
  }],
  manufacturers: [{ name: "Supermicro", slug: "supermicro" }],
  device_types: [{ manufacturer: "supermicro", model: "SYS-1019", slug: "sys-1019", u_height: 1 }],
  device_roles: [{ name: "Hypervisor", slug: "hypervisor", color: "2196f3" }],
  cluster_types: [{ name: "Proxmox VE", slug: "proxmox-ve" }],
  clusters: [{
    name: "matrix",
    type: "proxmox-ve",
    status: "active",
    scope_type: "dcim.site",
    scope: "matrix",
    tags: ["proxmox"],
  }],
  devices: (["foxtrot", "golf", "hotel"] as const).map((name, i) => ({
    name,
    site: "matrix",
    role: "hypervisor",
    device_type: "sys-1019",
    cluster: "matrix",
    status: name === "hotel" ? "planned" : "active",
    tags: name === "hotel" ? ["proxmox-node"] : ["ceph-node", "proxmox-node"],
    primary_ip4: `192.168.3.${5 + i}/24`,
  })),
  interfaces: ["foxtrot", "golf", "hotel"].flatMap((device) => [
    { device, name: "eth0", type: "1000base-t" },
    { device, name: "vmbr0", type: "bridge" },
  ]),
  virtual_machines: [
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
  vm_interfaces: [
    { virtual_machine: "dns01", name: "eth0" },
    { virtual_machine: "monitoring01", name: "eth0" },
  ],
  vrfs: [{
    name: "management",
    enforce_unique: true,
    description: "Out-of-band and hypervisor management",
  }],
  prefixes: [
    {
      prefix: "192.168.3.0/24",
      vrf: "management",
      status: "active",
      scope_type: "dcim.site",
      scope: "matrix",
      description: "Hypervisor management",
    },
    {
      prefix: "192.168.4.0/24",
      vrf: "management",
      status: "reserved",
      scope_type: null,
      scope: null,
      description: "Future VM network",
    },
  ],
  ip_addresses: [
    ...["foxtrot", "golf", "hotel"].map((node, i) => ({
      address: `192.168.3.${5 + i}/24`,
      vrf: "management",
      status: "active",
      role: null,
      dns_name: `${node}.matrix.example.com`,
      tags: ["proxmox"],
      assigned_object_type: "dcim.interface",
      interface: `${node} vmbr0`,
    })),
    ...["dns01", "monitoring01"].map((vm, i) => ({
      address: `192.168.3.${50 + i}/24`,
      vrf: "management",
      status: "active",
      role: null,
      dns_name: `${vm}.matrix.example.com`,
      tags: [],
      assigned_object_type: "virtualization.vminterface",
      interface: `${vm} eth0`,
    })),
    {
      address: "192.168.3.1/24",
      vrf: "management",
      status: "active",
      role: "vip",
      dns_name: "gw.matrix.example.com",
      tags: [],
      assigned_object_type: null,
      interface: null,
    },
  ],
};

/** The expected dump for a run's suffix (the names uniquified like the imported files). */
function expected(suffix: string, edit?: (d: Dump) => void): Dump {
  const d: Dump = JSON.parse(uniquify(JSON.stringify(EXPECTED_PLAIN), suffix));
  edit?.(d);
  return normalise(d);
}

type Run = WritesRun;
const run = (args: string[]): Promise<Run> => runTaskWrites(main, args);

/** Deletes what a run created (from its JSON report), dependents first. */
async function cleanUp(reports: Run[]): Promise<void> {
  const env = testEnv();
  const client = createClient({ url: env.url, token: env.token, log: () => {} });
  const ids = new Map<string, Set<number>>();
  for (const r of reports) {
    if (!r.stdout.trim().startsWith("{")) continue;
    for (const item of JSON.parse(r.stdout).items) {
      if (item.action === "create" && typeof item.id === "number") {
        const set = ids.get(item.model) ?? new Set();
        set.add(item.id);
        ids.set(item.model, set);
      }
    }
  }
  try {
    for (const model of [...MODELS].reverse()) {
      const set = ids.get(model.key);
      if (set?.size) await client.endpoint(model.path).delete([...set]);
    }
  } finally {
    client.close();
  }
}

netboxTest(
  "bulk-import: the example inventory imports, re-runs unchanged, applies 3 edits",
  async () => {
    const s = crypto.randomUUID().slice(0, 6);
    const reports: Run[] = [];
    await withTempDir(async (dir) => {
      try {
        const yaml = uniquify(await Deno.readTextFile(`${FIXTURES}inventory.yaml`), s);
        const file = `${dir}/inventory.yaml`;
        await Deno.writeTextFile(file, yaml);

        const dry = await run([file, "--dry-run", "--format", "json"]);
        assert.equal(dry.code, 0, dry.stderr);
        assert.equal(JSON.parse(dry.stdout).summary.create, 32);
        assert.deepEqual(dry.writes, []);

        const first = await run([file, "--format", "json"]);
        reports.push(first);
        assert.equal(first.code, 0, first.stderr + first.stdout);
        const doc = JSON.parse(first.stdout);
        assert.equal(doc.summary.create, 32, first.stdout);
        assert.equal(doc.summary.failed, 0);
        // NetBox holds the inventory, every field of it.
        const imported = await dump(s);
        assert.deepEqual(imported, expected(s));

        const second = await run([file, "--format", "json"]);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(JSON.parse(second.stdout).summary.unchanged, 32, second.stdout);
        assert.deepEqual(second.writes, [], "a second run makes no write");
        assert.deepEqual(await dump(s), imported);

        const edited = yaml
          .replace("status: planned", "status: active")
          .replace("dns_name: gw.matrix", "dns_name: gateway.matrix")
          .replace("description: Future VM network", "description: VM network");
        await Deno.writeTextFile(file, edited);
        const plan = await run([file, "--dry-run"]);
        assert.equal(plan.code, 0, plan.stderr);
        assert.match(
          plan.stdout,
          /~ update dcim\.devices hotel-\S+ .*\n {4}status: planned → active/,
        );
        assert.match(plan.stdout, /dns_name: gw\.matrix-\S+ → gateway\.matrix-/);
        assert.match(plan.stdout, /description: Future VM network → VM network/);
        assert.match(plan.stdout, /^total\s+0\s+3\s+29\s+0$/m);
        assert.deepEqual(plan.writes, []);

        const apply = await run([file, "--format", "json"]);
        assert.equal(apply.code, 0, apply.stderr);
        assert.equal(JSON.parse(apply.stdout).summary.update, 3);
        assert.deepEqual(apply.writes.sort(), [
          "PATCH /api/dcim/devices/",
          "PATCH /api/ipam/ip-addresses/",
          "PATCH /api/ipam/prefixes/",
        ]);
        // NetBox holds the three edits, and nothing else changed.
        const edited3 = expected(s, (d) => {
          d.devices.find((x) => x.name === `hotel-${s}`)!.status = "active";
          d.ip_addresses.find((x) => x.address === "192.168.3.1/24")!.dns_name =
            `gateway.matrix-${s}.example.com`;
          d.prefixes.find((x) => x.prefix === "192.168.4.0/24")!.description = "VM network";
        });
        assert.deepEqual(await dump(s), edited3);
        const third = await run([file]);
        assert.equal(third.code, 0);
        assert.deepEqual(third.writes, []);
        assert.deepEqual(await dump(s), edited3);
      } finally {
        await cleanUp(reports);
      }
    });
  },
);

netboxTest("bulk-import: the CSV files import to the same result as the YAML", async () => {
  // Two separate imports, each with its own suffix: the CSV files and the YAML file.
  const sCsv = crypto.randomUUID().slice(0, 6);
  const sYaml = crypto.randomUUID().slice(0, 6);
  const reports: Run[] = [];
  await withTempDir(async (dir) => {
    try {
      const files: string[] = [];
      for (
        const e of [...Deno.readDirSync(`${FIXTURES}csv`)].sort((a, b) => a.name < b.name ? -1 : 1)
      ) {
        const text = uniquify(await Deno.readTextFile(`${FIXTURES}csv/${e.name}`), sCsv);
        await Deno.writeTextFile(`${dir}/${e.name}`, text);
        files.push(`${dir}/${e.name}`);
      }
      const csv = await run([...files, "--format", "json"]);
      reports.push(csv);
      assert.equal(csv.code, 0, csv.stderr + csv.stdout);
      assert.equal(JSON.parse(csv.stdout).summary.create, 32);
      const fromCsv = await dump(sCsv);

      const yaml = `${dir}/inventory.yaml`;
      const yamlText = await Deno.readTextFile(`${FIXTURES}inventory.yaml`);
      await Deno.writeTextFile(yaml, uniquify(yamlText, sYaml));
      const fromYamlRun = await run([yaml, "--format", "json"]);
      reports.push(fromYamlRun);
      assert.equal(fromYamlRun.code, 0, fromYamlRun.stderr + fromYamlRun.stdout);
      const fromYaml = await dump(sYaml);

      // What NetBox holds after each import, suffixes aside, is the same, and is the inventory.
      assert.deepEqual(unsuffixed(fromCsv, sCsv), unsuffixed(fromYaml, sYaml));
      assert.deepEqual(fromCsv, expected(sCsv));

      // And the YAML over the CSV import finds nothing to do and changes nothing.
      await Deno.writeTextFile(yaml, uniquify(yamlText, sCsv));
      const same = await run([yaml, "--format", "json"]);
      assert.equal(same.code, 0, same.stderr);
      assert.deepEqual(same.writes, []);
      assert.deepEqual(await dump(sCsv), fromCsv);
    } finally {
      await cleanUp(reports);
    }
  });
});

netboxTest(
  "bulk-import: every bad input exits 2 at the right position and writes nothing",
  async () => {
    const cases = JSON.parse(await Deno.readTextFile(`${FIXTURES}bad/cases.json`)) as {
      file: string;
      model?: string;
      at: string;
      message: string;
    }[];
    for (const c of cases) {
      const file = `${FIXTURES}bad/${c.file}`;
      const r = await run(c.model ? [file, "--model", c.model] : [file]);
      assert.equal(r.code, 2, `${c.file}: exit ${r.code}\n${r.stderr}`);
      const line = r.stderr.split("\n").find((l) => l.startsWith(`${file}:${c.at}: `));
      assert.ok(line, `${c.file}: expected a problem at ${c.at}, got:\n${r.stderr}`);
      assert.ok(line.includes(c.message), `${c.file}: expected "${c.message}" in\n${line}`);
      assert.deepEqual(r.writes, [], c.file);
    }
  },
);

netboxTest(
  "bulk-import: the ports NetBox made on a new module from its type's templates are set, once",
  async () => {
    const env = testEnv();
    const s = `mt${crypto.randomUUID().slice(0, 6)}`;
    const reports: Run[] = [];
    await withTempDir(async (dir) => {
      try {
        // The library: a module type whose interface templates name the module's bay position.
        const library = `${dir}/library.yaml`;
        const card = `{model: ${s} card, manufacturer: ${s}}`;
        await Deno.writeTextFile(
          library,
          `manufacturers: [{name: ${s}, slug: ${s}}]
module_types: [${card}]
interface_templates:
  - {module_type: ${card}, name: "lc{module}/1", type: 10gbase-x-sfpp}
  - {module_type: ${card}, name: "lc{module}/2", type: 10gbase-x-sfpp}
`,
        );
        const lib = await run([library, "--format", "json"]);
        reports.push(lib);
        assert.equal(lib.code, 0, lib.stderr + lib.stdout);

        // A device (on a type of its own) with the card in its bay 1, and the card's ports as
        // export writes them: NetBox makes lc1/1 and lc1/2 when the module is created.
        const d = `{name: ${s}-d, site: ${s}}`;
        const bay = `{device: ${d}, module: null, name: slot1}`;
        const m = `{device: ${d}, module_bay: ${bay}}`;
        const file = `${dir}/device.yaml`;
        await Deno.writeTextFile(
          file,
          `sites: [{name: ${s}, slug: ${s}}]
device_roles: [{name: ${s}, slug: ${s}}]
device_types: [{model: ${s} box, slug: ${s}-box, manufacturer: ${s}}]
devices: [{name: ${s}-d, site: ${s}, role: ${s}, device_type: ${s}-box}]
module_bays: [{device: ${d}, name: slot1, position: "1"}]
modules: [{device: ${d}, module_bay: ${bay}, module_type: ${card}}]
interfaces:
  - {device: ${d}, module: ${m}, name: lc1/1, type: 10gbase-x-sfpp, description: uplink}
  - {device: ${d}, module: ${m}, name: lc1/2, type: 10gbase-x-sfpp, enabled: false}
`,
        );
        const r = await run([file, "--format", "json"]);
        reports.push(r);
        assert.equal(r.code, 0, r.stderr + r.stdout);
        const ports = JSON.parse(r.stdout).items.filter((i: Body) => i.model === "dcim.interfaces");
        assert.equal(ports.length, 2, r.stdout);
        for (const p of ports) {
          assert.equal(p.action, "create", r.stdout);
          assert.match(p.message ?? "", /made by NetBox from the module type's template/);
        }

        // NetBox holds the two ports once each, on the module, with the file's values.
        const [device] = await list(env, "dcim/devices", `name=${s}-d`);
        const [module] = await list(env, "dcim/modules", `device_id=${device.id}`);
        const got = (await list(env, "dcim/interfaces", `device_id=${device.id}`)).map((i) => ({
          name: i.name,
          module: i.module?.id,
          description: i.description,
          enabled: i.enabled,
        })).sort((a, b) => a.name < b.name ? -1 : 1);
        assert.deepEqual(got, [
          { name: "lc1/1", module: module.id, description: "uplink", enabled: true },
          { name: "lc1/2", module: module.id, description: "", enabled: false },
        ]);

        const again = await run([file, "--format", "json"]);
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(again.writes, [], "a second run makes no write");
      } finally {
        await cleanUp(reports);
      }
    });
  },
);

netboxTest(
  "bulk-import: rack groups, VM types and cable bundles (NetBox 4.6+) import; an older NetBox refuses them by line and version, writing nothing",
  async () => {
    const env = testEnv();
    const s = `rg${crypto.randomUUID().slice(0, 6)}`;
    const reports: Run[] = [];
    await withTempDir(async (dir) => {
      try {
        const file = `${dir}/new46.yaml`;
        await Deno.writeTextFile(
          file,
          `sites: [{name: ${s}, slug: ${s}}]
rack_groups: [{name: ${s} row, slug: ${s}-row}]
racks: [{name: R1, site: ${s}, group: ${s}-row}]
virtual_machine_types: [{name: ${s} small, slug: ${s}-small, default_vcpus: 2}]
cable_bundles: [{name: ${s} trunk}]
`,
        );
        const r = await run([file, "--format", "json"]);
        reports.push(r);
        if (!versionAtLeast(await serverVersion(env), 4, 6)) {
          assert.equal(r.code, 2, r.stderr);
          const problems = r.stderr.split("\n").filter((l) => l.startsWith(`${file}:`))
            .map((l) => l.slice(file.length + 1));
          assert.deepEqual(problems, [
            "2:15: dcim.rack-groups needs NetBox ≥ 4.6: this NetBox has no dcim/rack-groups/ " +
            "endpoint",
            '3:36: field "group" of dcim.racks needs NetBox ≥ 4.6 (dcim.rack-groups): this ' +
            "NetBox has no such field",
            "4:25: virtualization.virtual-machine-types needs NetBox ≥ 4.6: this NetBox has no " +
            "virtualization/virtual-machine-types/ endpoint",
            "5:17: dcim.cable-bundles needs NetBox ≥ 4.6: this NetBox has no " +
            "dcim/cable-bundles/ endpoint",
          ]);
          assert.deepEqual(r.writes, []);
          assert.deepEqual(await list(env, "dcim/sites", `slug=${s}`), [], "no site written");
          return;
        }
        assert.equal(r.code, 0, r.stderr + r.stdout);
        const [rack] = await list(env, "dcim/racks", `name=R1&site=${s}`);
        assert.equal(rack.group.slug, `${s}-row`);
        const [type] = await list(env, "virtualization/virtual-machine-types", `slug=${s}-small`);
        assert.equal(Number(type.default_vcpus), 2);
        const bundles = await list(
          env,
          "dcim/cable-bundles",
          `name=${encodeURIComponent(`${s} trunk`)}`,
        );
        assert.equal(bundles.length, 1);
        const again = await run([file, "--format", "json"]);
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(again.writes, [], "a second run makes no write");
      } finally {
        await cleanUp(reports);
      }
    });
  },
);
