/**
 * export against the real NetBox: the example inventory and a generated inventory across every model
 * are imported with bulk-import, exported, and
 *
 * - the export imported back (`bulk-import --dry-run`) into the same NetBox plans 0 changes;
 * - the export imported into a second, empty, real NetBox (tests/integration/_second_netbox.ts)
 *   and exported from there is byte-for-byte the same document;
 * - a read-only token is enough and nothing but GET is sent; bad flags exit 2 with one clear
 *   line naming the flag.
 *
 * The demo site (`--site matrix` of the seed inventory, tests/netbox/seed.ts: a rack of device
 * types with component templates, ports of every kind and cables) takes the same round trip, into
 * a B that already has the device types and their templates (the library imported first): NetBox
 * makes the devices' ports from the templates and the import updates them instead of creating
 * them twice.
 *
 * The generated inventory has 12 devices and one or a few objects of every other model (about 320
 * objects), imported in chunks of 10 and exported in pages of 10, so chunking and parallel paging are exercised with few objects; the
 * slow suite (`deno task test:slow`, NETBOX_TEST_SLOW=1) runs it with 200 devices (2,000+
 * objects) at the default chunk and page sizes.
 *
 * Names carry a per-run suffix (example inventory) or prefix (generated), so concurrent runs do
 * not collide; everything created in the NetBox under test is deleted.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import type { TaskIO } from "../../lib/cli/io.ts";
import { hasSince, MODELS } from "../../lib/import/models.ts";
import { EXPORT_FIELDS } from "../../lib/import/export.ts";
import { main as bulkImport } from "../../tasks/bulk-import.ts";
import { main as exportTask } from "../../tasks/export.ts";
import { yamlParse } from "../../lib/deps.ts";
import { describe, readTaskEntries, runDeno, taskEntry } from "../_deno_tasks.ts";
import { SEED_CABLES, SEED_RACK_DEVICES, seedInventory } from "../netbox/seed.ts";
import {
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  serverVersion,
  testEnv,
  uniqueName,
  versionAtLeast,
} from "./_netbox.ts";
import { FIXTURES, uniquify, withTempDir } from "./_inventory.ts";
import { runTaskMain, type TaskRun } from "./_run_task.ts";
import { startSecondNetBox } from "./_second_netbox.ts";

/** Runs a task's main() in-process against `env` with `token`, recording every request. */
function runMain(
  main: (args: string[], io: TaskIO) => Promise<number>,
  args: string[],
  env: NetBoxTestEnv,
  token = env.token,
): Promise<TaskRun> {
  return runTaskMain(main, args, { url: env.url, token });
}

const at = (r: TaskRun) => `exit ${r.code}\nstderr: ${r.stderr.slice(-3000)}`;

/** Imports files for real; asserts exit 0 and returns the JSON report. */
/** The slow suite's scale (NETBOX_TEST_SLOW=1): 2,000+ objects at the default sizes. */
const SLOW = Deno.env.get("NETBOX_TEST_SLOW") === "1";
/** Objects per bulk request and per page: small, so few objects still make many of each. */
const CHUNK = SLOW ? "100" : "10";
const PAGE = SLOW ? [] : ["--page-size", "10"];

async function importFiles(env: NetBoxTestEnv, files: string[]) {
  const r = await runMain(
    bulkImport,
    // A busy NetBox can take more than 30 s for a bulk request of interfaces or addresses.
    [...files, "--format", "json", "--chunk-size", CHUNK, "--timeout", "120"],
    env,
  );
  assert.equal(r.code, 0, at(r));
  return JSON.parse(r.stdout);
}

/** `bulk-import --dry-run` of files; returns the JSON report's summary and items. */
async function dryRun(env: NetBoxTestEnv, files: string[]) {
  const r = await runMain(
    bulkImport,
    [...files, "--dry-run", "--format", "json", "--timeout", "120"],
    env,
  );
  assert.equal(r.code, 0, at(r));
  return JSON.parse(r.stdout);
}

/** Asserts a dry-run plans nothing: every item unchanged. */
function assertNoChanges(report: { items: { action: string; model: string; name: string }[] }) {
  const changed = report.items.filter((i) => i.action !== "unchanged");
  assert.deepEqual(
    changed.slice(0, 10).map((i) => `${i.action} ${i.model} ${i.name}`),
    [],
    `${changed.length} entries would change`,
  );
}

/** Runs export; asserts exit 0 and no write; returns the document text. */
async function exportText(env: NetBoxTestEnv, args: string[], token = env.token) {
  const r = await runMain(exportTask, [...args, ...PAGE, "--timeout", "120"], env, token);
  assert.equal(r.code, 0, at(r));
  assert.deepEqual(r.requests.filter((q) => !q.startsWith("GET ")), [], "export sent a write");
  return r;
}

/** Asserts two documents are the same bytes; a failure shows the first differing lines. */
function assertSameText(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const x = actual.split("\n"), y = expected.split("\n");
  let n = 0;
  while (n < x.length && x[n] === y[n]) n++;
  const around = (lines: string[]) => lines.slice(Math.max(0, n - 8), n + 8).join("\n");
  assert.fail(
    `${what} differs from line ${n + 1}:\n--- got\n${around(x)}\n--- expected\n${around(y)}`,
  );
}

/**
 * Asserts the generated export carries modules by their path of bays, an inventory item's
 * component, a module type's profile and attributes, object custom fields by natural key, and
 * (4.6+, 4.7+) a front port's several rear ports, rack groups, VM types, cable bundles, an ASN's
 * role and a service's port mappings.
 */
function assertCarried(
  text: string,
  p: string,
  v: { multiMappings: boolean; portMappings: boolean; new46: boolean },
): void {
  type E = Record<string, unknown>;
  const doc = yamlParse(text) as Record<string, E[]>;
  const d0 = { name: `${p}-dev0`, site: `${p}-s0` };
  const on = (section: string, name: string) =>
    doc[section].find((e) => (e.device as E).name === d0.name && e.name === name)!;
  const m1 = { device: d0, module_bay: { device: d0, module: null, name: "slot1" } };
  assert.deepEqual(on("interfaces", "eth2").module, m1);
  assert.deepEqual(
    doc.module_bays.filter((b) => b.name === "slot1").map((b) => b.module ?? null),
    [null, m1],
    "a bay of the device and one of its module, both slot1",
  );
  assert.deepEqual(doc.modules[1].module_bay, { device: d0, module: m1, name: "slot1" });
  assert.deepEqual(on("inventory_items", "optic0").component, {
    interface: { device: d0, name: "eth2" },
  });
  assert.deepEqual(doc.module_type_profiles, [{
    name: `${p} Optic`,
    schema: { properties: { speed: { type: "integer" } } },
    description: "optics",
    tags: [p],
  }]);
  const card = doc.module_types.find((e) => e.model === `${p} Card`)!;
  assert.deepEqual([card.profile, card.attributes], [`${p} Optic`, { speed: 10 }]);
  const cf = customFieldPrefix(p);
  const dev0 = doc.devices.find((e) => e.name === d0.name)!;
  assert.deepEqual((dev0.custom_fields as E)[`${cf}_rack`], { name: "R0", site: `${p}-s0` });
  const sites = doc.prefixes.map((e) => (e.custom_fields as E | undefined)?.[`${cf}_sites`]);
  assert.deepEqual(sites.filter(Boolean), [[`${p}-s0`, `${p}-s1`]]);
  if (v.multiMappings) {
    const rear = (name: string) => ({ device: { name: `${p}-dev10`, site: `${p}-s0` }, name });
    const fp1 = doc.front_ports.find((e) => e.name === "fp1")!;
    assert.deepEqual(fp1.rear_ports, [
      { position: 1, rear_port: rear("rp0"), rear_port_position: 1 },
      { position: 2, rear_port: rear("rp1"), rear_port_position: 1 },
    ]);
  }
  if (v.new46) assertNewIn46(doc, p);
  if (v.portMappings) {
    const dns = doc.services.find((e) => e.name === "dns")!;
    assert.deepEqual(dns.port_mappings, ["tcp/53", "udp/53"]);
    assertNewIn47(doc, p);
  }
}

/**
 * NetBox 4.6's new models, one object each, and the fields naming them: a rack group on rack R0,
 * a VM type on the first VM, a cable bundle on the rear-port cable, an IPAM role on the ASN.
 */
function newIn46(p: string, doc: Record<string, unknown[]>): void {
  type E = Record<string, unknown>;
  const T = [p];
  doc.rack_groups = [{ name: `${p} Row A`, slug: `${p}-row-a`, tags: T }];
  Object.assign(doc.racks[0] as E, { group: `${p}-row-a` });
  doc.virtual_machine_types = [{
    name: `${p} Small`,
    slug: `${p}-small`,
    default_platform: `${p}-os1`,
    default_vcpus: 2,
    default_memory: 2048,
    tags: T,
  }];
  Object.assign(doc.virtual_machines[0] as E, { virtual_machine_type: `${p}-small` });
  doc.cable_bundles = [{ name: `${p} trunk`, description: "rear ports", tags: T }];
  Object.assign(doc.cables[3] as E, { bundle: `${p} trunk` });
  Object.assign(doc.asns[0] as E, { role: `${p}-ipr0` });
}

/** The objects and fields of newIn46() as an export has them. */
function assertNewIn46(doc: Record<string, Record<string, unknown>[]>, p: string): void {
  assert.deepEqual(doc.rack_groups, [{ name: `${p} Row A`, slug: `${p}-row-a`, tags: [p] }]);
  assert.equal(doc.racks.find((e) => e.name === "R0")!.group, `${p}-row-a`);
  assert.deepEqual(doc.virtual_machine_types, [{
    name: `${p} Small`,
    slug: `${p}-small`,
    default_platform: `${p}-os1`,
    default_vcpus: 2,
    default_memory: 2048,
    tags: [p],
  }]);
  const vm0 = doc.virtual_machines.find((e) => e.name === `${p}-vm0`)!;
  assert.equal(vm0.virtual_machine_type, `${p}-small`);
  // NetBox fills an empty platform of a new VM from its type's default.
  assert.equal(vm0.platform, `${p}-os1`);
  assert.deepEqual(doc.cable_bundles, [{
    name: `${p} trunk`,
    description: "rear ports",
    tags: [p],
  }]);
  assert.deepEqual(doc.cables.filter((c) => c.bundle).map((c) => [c.type, c.bundle]), [
    ["smf", `${p} trunk`],
  ]);
  assert.equal(doc.asns[0].role, `${p}-ipr0`);
}

/**
 * NetBox 4.7's new fields on models the round trip has: a disabled empty module bay and device
 * bay, a disabled power outlet, cooling of device types, module types, racks and rack types, a
 * device type's end of life, a VM started on boot, a custom field sorting nulls last and a choice
 * set's colours.
 */
function newIn47(p: string, doc: Record<string, unknown[]>): void {
  type E = Record<string, unknown>;
  const T = [p];
  doc.module_bays.push({
    device: { name: `${p}-dev0`, site: `${p}-s0` },
    name: "slot9",
    enabled: false,
    tags: T,
  });
  Object.assign(doc.device_bays[0] as E, { enabled: false });
  Object.assign(doc.power_outlets[0] as E, { status: "disabled" });
  Object.assign(doc.device_types[0] as E, { cooling_method: "air", end_of_life: "2031-12-31" });
  Object.assign(doc.module_types[0] as E, { cooling_method: "liquid" });
  Object.assign(doc.racks[1] as E, { cooling_capability: "hybrid", cooling_capacity: 12.5 });
  Object.assign(doc.rack_types[0] as E, { cooling_capability: "air-only" });
  Object.assign(doc.virtual_machines[0] as E, { start_on_boot: "on" });
  const cf = customFieldPrefix(p);
  Object.assign((doc.custom_fields as E[]).find((f) => f.name === `${cf}_int`)!, {
    nulls_first: false,
  });
  Object.assign(doc.custom_field_choice_sets[0] as E, {
    choice_colors: { red: "red", blue: "indigo" },
  });
}

/** The fields of newIn47() as A's export has them. */
function assertNewIn47(doc: Record<string, Record<string, unknown>[]>, p: string): void {
  const one = (section: string, pick: (e: Record<string, unknown>) => boolean) => {
    const found = doc[section].find(pick);
    assert.ok(found, `${section}: not in the export`);
    return found;
  };
  assert.equal(one("module_bays", (e) => e.name === "slot9").enabled, false);
  assert.equal(one("device_bays", (e) => e.name === "bay1").enabled, false);
  assert.equal(one("power_outlets", (e) => e.name === "out0").status, "disabled");
  const type0 = one("device_types", (e) => e.cooling_method === "air");
  assert.equal(type0.end_of_life, "2031-12-31");
  assert.equal(one("module_types", (e) => e.model === `${p} Card`).cooling_method, "liquid");
  const rack = one("racks", (e) => e.cooling_capability === "hybrid");
  assert.equal(Number(rack.cooling_capacity), 12.5);
  assert.equal(one("rack_types", (e) => e.slug === `${p}-rack`).cooling_capability, "air-only");
  assert.equal(one("virtual_machines", (e) => e.name === `${p}-vm0`).start_on_boot, "on");
  const cf = customFieldPrefix(p);
  assert.equal(one("custom_fields", (e) => e.name === `${cf}_int`).nulls_first, false);
  assert.deepEqual(
    one("custom_field_choice_sets", (e) => e.name === `${p} colours`).choice_colors,
    { blue: "indigo", red: "red" },
  );
}

/** Counts of entries per section of a YAML/JSON export. */
function countsOf(text: string): Record<string, number> {
  const doc = yamlParse(text) as Record<string, unknown[]>;
  return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, v.length]));
}

// ---------------------------------------------------------------------------------------------
// the generated inventory

/**
 * 2,000+ objects across every model (with 200 devices), every one tagged `p` (tags aside). Each
 * device brings five interfaces and two addresses: fewer devices, a smaller inventory.
 */
export function generated(
  p: string,
  deviceCount = 200,
  options: { multiMappings?: boolean; portMappings?: boolean; new46?: boolean } = {},
): { doc: Record<string, unknown[]>; total: number } {
  const rnd = 10000 + Math.floor(Math.random() * 50000);
  // The CI's small inventory has every model and variant with fewer VLANs, VMs and prefixes.
  const n = (big: number, small: number) => deviceCount >= 100 ? big : small;
  const g0 = n(50, 12);
  const T = [p];
  const doc: Record<string, unknown[]> = {};
  const add = (k: string, items: unknown[]) => (doc[k] = items);
  add("tags", [
    { name: p, slug: p, color: "4caf50", description: "export round trip" },
    { name: `${p}-a`, slug: `${p}-a`, object_types: ["dcim.device", "dcim.interface"] },
    { name: `${p}-b`, slug: `${p}-b`, color: "ff9800" },
  ]);
  add("tenant_groups", [{ name: `${p} tg`, slug: `${p}-tg`, tags: T }]);
  add(
    "tenants",
    Array.from({ length: 8 }, (_, i) => ({
      name: `${p} tenant ${i}`,
      slug: `${p}-t${i}`,
      group: `${p}-tg`,
      tags: T,
    })),
  );
  add("regions", [
    { name: `${p} eu`, slug: `${p}-eu`, tags: T },
    { name: `${p} de`, slug: `${p}-de`, parent: `${p}-eu`, tags: T },
  ]);
  add("site_groups", [{ name: `${p} edge`, slug: `${p}-edge`, tags: T }]);
  const sites = Array.from({ length: 10 }, (_, i) => `${p}-s${i}`);
  add(
    "sites",
    sites.map((slug, i) => ({
      name: `${p} Site ${i}`,
      slug,
      status: i % 3 === 0 ? "planned" : "active",
      region: `${p}-de`,
      group: `${p}-edge`,
      tenant: `${p}-t${i % 8}`,
      time_zone: "Europe/Berlin",
      latitude: Number((50.1 + i / 100).toFixed(2)),
      description: `site ${i}, "quoted", 'single', #hash: colon`,
      tags: i % 2 ? [p, `${p}-b`] : T,
    })),
  );
  add(
    "locations",
    sites.map((site, i) => ({ name: `Room ${i}`, slug: `${p}-room-${i}`, site, tags: T })),
  );
  add(
    "manufacturers",
    [0, 1, 2].map((i) => ({ name: `${p} Vendor ${i}`, slug: `${p}-v${i}`, tags: T })),
  );
  add(
    "device_roles",
    [0, 1, 2].map((i) => ({
      name: `${p} Role ${i}`,
      slug: `${p}-r${i}`,
      color: ["f44336", "2196f3", "9e9e9e"][i],
      vm_role: i !== 0,
      tags: T,
    })),
  );
  add(
    "platforms",
    [0, 1, 2].map((i) => ({
      name: `${p} OS ${i}`,
      slug: `${p}-os${i}`,
      manufacturer: `${p}-v${i}`,
      tags: T,
    })),
  );
  add(
    "device_types",
    [0, 1, 2, 3].map((i) => ({
      manufacturer: `${p}-v${i % 3}`,
      model: `${p} Box ${i}`,
      slug: `${p}-box${i}`,
      u_height: i === 3 ? 2 : 1,
      is_full_depth: i !== 1,
      tags: T,
    })),
  );
  add("rack_roles", [{ name: `${p} Racks`, slug: `${p}-racks`, color: "795548", tags: T }]);
  add(
    "racks",
    sites.map((site, i) => ({
      name: `R${i}`,
      site,
      location: { slug: `${p}-room-${i}`, site },
      role: `${p}-racks`,
      u_height: i % 2 ? 48 : 42,
      tags: T,
    })),
  );
  const targets = [0, 1].map((i) => `65001:${rnd}${i}`);
  add(
    "ipam.route-targets",
    targets.map((name) => ({ name, tenant: `${p}-t1`, tags: T })),
  );
  const vrfs = [0, 1, 2].map((i) => `${p}-vrf${i}`);
  add(
    "vrfs",
    vrfs.map((name, i) => ({
      name,
      rd: i === 0 ? `65000:${rnd}` : undefined,
      enforce_unique: i !== 2,
      tenant: `${p}-t0`,
      // Route-target lists: both, one, none.
      import_targets: i === 0 ? targets : i === 1 ? [targets[1]] : undefined,
      export_targets: i === 0 ? [targets[0]] : undefined,
      tags: T,
    })),
  );
  add(
    "ipam.roles",
    [0, 1].map((i) => ({ name: `${p} IP role ${i}`, slug: `${p}-ipr${i}`, tags: T })),
  );
  add("vlan_groups", [
    { name: `${p} global`, slug: `${p}-vg0`, tags: T },
    { name: `${p} site0`, slug: `${p}-vg1`, scope: { site: sites[0] }, tags: T },
  ]);
  const vlans: Record<string, unknown>[] = [];
  for (let v = 0; v < g0; v++) {
    vlans.push({ vid: 100 + v, name: `g0-${v}`, group: `${p}-vg0`, tags: T });
  }
  for (let v = 0; v < n(25, 3); v++) {
    vlans.push({
      vid: 200 + v,
      name: `g1-${v}`,
      group: `${p}-vg1`,
      status: "reserved",
      tags: T,
    });
  }
  for (let v = 0; v < n(25, 3); v++) {
    vlans.push({ vid: 300 + v, name: `s1-${v}`, site: sites[1], role: `${p}-ipr0`, tags: T });
  }
  // Q-in-Q: a service VLAN, a customer VLAN in it, and interfaces carrying it (below).
  const svlan = { vid: 400, group: `${p}-vg0` };
  vlans.push(
    { ...svlan, name: "svlan", qinq_role: "svlan", tags: T },
    { vid: 401, name: "cvlan", group: `${p}-vg0`, qinq_role: "cvlan", qinq_svlan: svlan, tags: T },
  );
  add("vlans", vlans);
  add("cluster_types", [{ name: `${p} KVM`, slug: `${p}-kvm`, tags: T }]);
  add("cluster_groups", [{ name: `${p} CG`, slug: `${p}-cg`, tags: T }]);
  const clusters = [0, 1, 2, 3].map((i) => `${p}-c${i}`);
  add(
    "clusters",
    clusters.map((name, i) => ({
      name,
      type: `${p}-kvm`,
      group: `${p}-cg`,
      scope: { site: sites[i] },
      tags: T,
    })),
  );
  const devices: Record<string, unknown>[] = [];
  const interfaces: Record<string, unknown>[] = [];
  const ips: Record<string, unknown>[] = [];
  for (let d = 0; d < deviceCount; d++) {
    const site = sites[d % 10];
    const name = `${p}-dev${d}`;
    const dev = { name, site };
    const vrf = vrfs[d % 3];
    const a = `10.${d >> 6}.${(d & 63) * 4}`;
    devices.push({
      name,
      site,
      device_type: `${p}-box${d % 4}`,
      role: `${p}-r${d % 3}`,
      // A platform's manufacturer must be the device type's.
      platform: d % 5 ? `${p}-os${(d % 4) % 3}` : undefined,
      tenant: d % 4 ? `${p}-t${d % 8}` : undefined,
      status: d % 7 ? "active" : "offline",
      serial: `SN${rnd}${d}`,
      rack: d % 10 === 0 ? { name: `R${d % 10}`, site } : undefined,
      primary_ip4: { address: `${a}.1/30`, vrf },
      tags: d % 2 ? [p, `${p}-a`] : T,
    });
    interfaces.push(
      {
        device: dev,
        name: "eth0",
        type: "1000base-t",
        mode: "access",
        untagged_vlan: { vid: 100 + (d % g0), group: `${p}-vg0` },
        tags: T,
      },
      { device: dev, name: "bond0", type: "lag", mtu: 9000, tags: T },
      {
        device: dev,
        name: "eth1",
        type: "10gbase-x-sfpp",
        lag: { device: dev, name: "bond0" },
        tags: T,
      },
      {
        device: dev,
        name: "eth2",
        type: "10gbase-x-sfpp",
        lag: { device: dev, name: "bond0" },
        enabled: d % 3 !== 0,
        tags: T,
      },
      {
        device: dev,
        name: "mgmt0",
        type: "1000base-t",
        mgmt_only: true,
        description: "out of band",
        // Bridged on every tenth device.
        bridge: d % 10 === 0 ? { device: dev, name: "br0" } : undefined,
        tags: T,
      },
    );
    if (d % 10 === 0) interfaces.push({ device: dev, name: "br0", type: "bridge", tags: T });
    if (d % 10 === 1) {
      interfaces.push({
        device: dev,
        name: "qinq0",
        type: "10gbase-x-sfpp",
        mode: "q-in-q",
        qinq_svlan: svlan,
        tags: T,
      });
    }
    ips.push({
      address: `${a}.1/30`,
      vrf,
      interface: { device: dev, name: "eth0" },
      dns_name: `${name}.example.com`,
      tags: T,
    });
    ips.push({
      address: `${a}.2/30`,
      vrf,
      interface: { device: dev, name: "bond0" },
      status: "reserved",
      tags: T,
    });
  }
  add("devices", devices);
  add("interfaces", interfaces);
  const vms = Array.from({ length: n(60, 12) }, (_, i) => ({
    name: `${p}-vm${i}`,
    cluster: clusters[i % 4],
    role: `${p}-r${1 + (i % 2)}`,
    vcpus: 1 + (i % 4),
    memory: 1024 * (1 + (i % 8)),
    primary_ip4: { address: `172.16.${i}.10/24`, vrf: vrfs[0] },
    tags: T,
  }));
  add("virtual_machines", vms);
  add(
    "vm_interfaces",
    vms.flatMap((vm, i) => {
      const owner = { name: vm.name, cluster: vm.cluster };
      const eth0 = {
        virtual_machine: owner,
        name: "eth0",
        mtu: 1500,
        // Bridged on every tenth VM; Q-in-Q on the next.
        bridge: i % 10 === 0 ? { virtual_machine: owner, name: "br0" } : undefined,
        mode: i % 10 === 1 ? "q-in-q" : undefined,
        qinq_svlan: i % 10 === 1 ? svlan : undefined,
        tags: T,
      };
      return i % 10 === 0 ? [{ virtual_machine: owner, name: "br0", tags: T }, eth0] : [eth0];
    }),
  );
  for (const [i, vm] of vms.entries()) {
    ips.push({
      address: `172.16.${i}.10/24`,
      vrf: vrfs[0],
      interface: { vm: { name: vm.name, cluster: vm.cluster }, name: "eth0" },
      tags: T,
    });
  }
  add("ip_addresses", ips);
  const prefixes: Record<string, unknown>[] = [];
  for (let i = 0; i < n(60, 16); i++) {
    prefixes.push({
      prefix: `10.${100 + (i >> 4)}.${(i & 15) * 16}.0/20`,
      vrf: vrfs[i % 3],
      scope: i % 2 ? { site: sites[i % 10] } : undefined,
      status: i % 5 ? "active" : "container",
      role: i % 3 ? `${p}-ipr${i % 2}` : undefined,
      is_pool: i % 7 === 0,
      tags: T,
    });
  }
  add("prefixes", prefixes);
  add(
    "ip_ranges",
    [0, 1, 2, 3].map((i) => ({
      start_address: `192.0.2.${10 + i * 20}/24`,
      end_address: `192.0.2.${19 + i * 20}/24`,
      vrf: vrfs[1],
      tags: T,
    })),
  );
  // Custom fields: a choice set and fields of seven types, with values on a site, a device and
  // a prefix (their definitions come along as dependencies of the export); the object fields'
  // values by natural key (a rack, sites).
  const cf = customFieldPrefix(p);
  add("custom_field_choice_sets", [
    { name: `${p} colours`, extra_choices: [["red", "Red"], ["blue", "Blue"]] },
  ]);
  add("custom_fields", [
    { name: `${cf}_text`, type: "text", object_types: ["dcim.site"], label: `${p} note` },
    {
      name: `${cf}_int`,
      type: "integer",
      object_types: ["dcim.device", "dcim.site"],
      validation_minimum: 0,
    },
    { name: `${cf}_flag`, type: "boolean", object_types: ["dcim.device"] },
    {
      name: `${cf}_colour`,
      type: "select",
      object_types: ["dcim.site"],
      choice_set: `${p} colours`,
    },
    {
      name: `${cf}_colours`,
      type: "multiselect",
      object_types: ["ipam.prefix"],
      choice_set: `${p} colours`,
    },
    {
      name: `${cf}_rack`,
      type: "object",
      related_object_type: "dcim.rack",
      object_types: ["dcim.device"],
    },
    {
      name: `${cf}_sites`,
      type: "multiobject",
      related_object_type: "dcim.site",
      object_types: ["ipam.prefix"],
    },
  ]);
  const first = (k: string) => doc[k][0] as Record<string, unknown>;
  Object.assign(first("sites"), {
    custom_fields: { [`${cf}_text`]: "cage 4", [`${cf}_int`]: 42, [`${cf}_colour`]: "red" },
  });
  Object.assign(first("devices"), {
    custom_fields: {
      [`${cf}_int`]: 7,
      [`${cf}_flag`]: true,
      [`${cf}_rack`]: { name: "R0", site: `${p}-s0` },
    },
  });
  Object.assign(first("prefixes"), {
    custom_fields: { [`${cf}_colours`]: ["blue", "red"], [`${cf}_sites`]: [`${p}-s1`, `${p}-s0`] },
  });
  // IPAM numbering: a RIR, an aggregate, an ASN range and an ASN (on a site and a provider);
  // values from the run's random number, so concurrent runs do not overlap.
  const asn = 4200000000 + rnd * 10;
  add("rirs", [{ name: `${p} RIR`, slug: `${p}-rir`, is_private: true, tags: T }]);
  add("aggregates", [
    { prefix: `2001:db8:${rnd.toString(16)}::/48`, rir: `${p}-rir`, tenant: `${p}-t0`, tags: T },
  ]);
  add("asn_ranges", [
    { name: `${p} ASNs`, slug: `${p}-asns`, rir: `${p}-rir`, start: asn, end: asn + 9, tags: T },
  ]);
  add("asns", [{ asn: asn + 1, rir: `${p}-rir`, description: "transit", tags: T }]);
  Object.assign(first("sites"), { asns: [{ asn: asn + 1 }] });
  // A service (from a template's ports) and an FHRP group on the first device's eth0.
  const dev0 = { name: `${p}-dev0`, site: sites[0] };
  const fhrp = { protocol: "other", group_id: 1000 + (rnd % 30000) };
  add("fhrp_groups", [{ ...fhrp, name: `${p} VIP`, tags: T }]);
  add("fhrp_group_assignments", [
    { group: fhrp, interface: { device: dev0, name: "eth0" }, priority: 200 },
  ]);
  add("service_templates", [{ name: `${p} ssh`, protocol: "tcp", ports: [22], tags: T }]);
  add("services", [{
    parent: { device: dev0 },
    name: "ssh",
    protocol: "tcp",
    ports: [22, 2222],
    ipaddresses: [{ address: "10.0.0.1/30", vrf: vrfs[0] }],
    tags: T,
  }]);
  if (options.portMappings) {
    // NetBox 4.7+: a multi-protocol service has port mappings only.
    doc.services.push({
      parent: { device: dev0 },
      name: "dns",
      port_mappings: ["udp/53", "tcp/53"],
      tags: T,
    });
  }
  // Circuits: a provider with an account and a network, a circuit from a site to the network.
  const provider = `${p}-carrier`;
  add("providers", [{ name: `${p} Carrier`, slug: provider, asns: [{ asn: asn + 1 }], tags: T }]);
  add("provider_accounts", [{ provider, name: "main", account: `${p}-acct`, tags: T }]);
  add("provider_networks", [{ provider, name: `${p} MPLS`, tags: T }]);
  add("circuit_types", [{ name: `${p} Transit`, slug: `${p}-transit`, color: "aa1409", tags: T }]);
  const circuit = { cid: `${p}-C1`, provider };
  add("circuits", [{
    ...circuit,
    provider_account: { account: `${p}-acct`, provider },
    type: `${p}-transit`,
    commit_rate: 10000,
    tags: T,
  }]);
  add("circuit_terminations", [
    { circuit, term_side: "A", termination: { site: sites[0] }, port_speed: 10000, tags: T },
    {
      circuit,
      term_side: "Z",
      termination: { provider_network: { name: `${p} MPLS`, provider } },
      tags: T,
    },
  ]);
  physical(p, doc, rnd, options.multiMappings ?? false);
  if (options.new46) newIn46(p, doc);
  if (options.portMappings) newIn47(p, doc);
  // A config template (on a device role) and a config context assigned by site and role.
  add("config_templates", [
    { name: `${p} tmpl`, template_code: "hostname {{ device.name }}\n", tags: T },
  ]);
  Object.assign(first("device_roles"), { config_template: `${p} tmpl` });
  add("config_contexts", [{
    name: `${p} ctx`,
    weight: 2000,
    sites: [sites[0]],
    roles: [`${p}-r0`],
    data: { ntp: ["192.0.2.1"], syslog: { port: 514 } },
    tags: T,
  }]);
  // A wireless LAN on two wireless interfaces joined by a wireless link; an L2VPN on a VLAN; a
  // webhook and a (disabled) event rule naming it.
  const wlan = { ssid: `${p}-wifi`, group: `${p}-wlg` };
  add("wireless_lan_groups", [{ name: `${p} WLG`, slug: `${p}-wlg`, tags: T }]);
  add("wireless_lans", [{ ...wlan, auth_type: "wpa-personal", tags: T }]);
  const wlan0 = (d: number) => ({
    device: { name: `${p}-dev${d}`, site: sites[d] },
    name: "wlan0",
  });
  doc.interfaces.push(
    ...[0, 1].map((d) => ({ ...wlan0(d), type: "ieee802.11ac", wireless_lans: [wlan], tags: T })),
  );
  add("wireless_links", [
    { interface_a: wlan0(0), interface_b: wlan0(1), ssid: `${p}-wifi`, tags: T },
  ]);
  add("l2vpns", [{
    name: `${p} EVPN`,
    slug: `${p}-evpn`,
    type: "vxlan",
    identifier: rnd,
    tags: T,
  }]);
  add("l2vpn_terminations", [
    { l2vpn: `${p}-evpn`, assigned_object: { vlan: { vid: 100, group: `${p}-vg0` } }, tags: T },
  ]);
  add("webhooks", [{ name: `${p} hook`, payload_url: "http://127.0.0.1:9/hook", tags: T }]);
  add("event_rules", [{
    name: `${p} on site`,
    object_types: ["dcim.site"],
    event_types: ["object_created"],
    enabled: false,
    action_type: "webhook",
    action_object: { webhook: `${p} hook` },
    tags: T,
  }]);
  // A contact in a group, assigned to a site in a role.
  add("contact_groups", [{ name: `${p} Ops`, slug: `${p}-ops`, tags: T }]);
  add("contact_roles", [{ name: `${p} Owner`, slug: `${p}-owner`, tags: T }]);
  add("contacts", [{ name: `${p} NOC`, groups: [`${p}-ops`], email: "noc@example.com", tags: T }]);
  add("contact_assignments", [{
    contact: `${p} NOC`,
    object: { site: sites[0] },
    role: `${p}-owner`,
    priority: "primary",
    tags: T,
  }]);
  const clean = JSON.parse(JSON.stringify(doc)); // undefined fields out
  const total = Object.values(clean).reduce((n: number, v) => n + (v as unknown[]).length, 0);
  return { doc: clean, total };
}

/**
 * The DCIM physical models, with the fewest objects: on the two devices of site 0 (dev0, dev10)
 * a virtual chassis, ports of every kind with four cables (interfaces, console, power feed, rear
 * to rear), a front port on position 2 of its rear port, a module in a bay with a bay of the same
 * name and a module in that, an interface on a module, inventory items standing for a console
 * port and an interface, and a MAC address as an interface's primary MAC; a rack type on rack R0;
 * a device bay (its type a parent type); a module type with a profile and attributes; and the
 * templates of one device type and one module type.
 */
function physical(
  p: string,
  doc: Record<string, unknown[]>,
  rnd: number,
  multiMappings: boolean,
): void {
  const T = [p];
  const site = `${p}-s0`;
  const d0 = { name: `${p}-dev0`, site }, d10 = { name: `${p}-dev10`, site };
  const at = (name: string) =>
    (doc.devices as Record<string, unknown>[]).find((d) => d.name === name)!;
  const add = (k: string, items: unknown[]) => (doc[k] = items);
  add("rack_types", [{
    model: `${p} Rack`,
    slug: `${p}-rack`,
    manufacturer: `${p}-v0`,
    form_factor: "4-post-cabinet",
    width: 19,
    u_height: 42,
    tags: T,
  }]);
  (doc.racks[0] as Record<string, unknown>).rack_type = `${p}-rack`;
  (doc.device_types[3] as Record<string, unknown>).subdevice_role = "parent";
  const moduleType = { model: `${p} Card`, manufacturer: `${p}-v0` };
  add("module_type_profiles", [{
    name: `${p} Optic`,
    schema: { properties: { speed: { type: "integer" } } },
    description: "optics",
    tags: T,
  }]);
  add("module_types", [{
    ...moduleType,
    profile: `${p} Optic`,
    part_number: "LC-1",
    attributes: { speed: 10 },
    tags: T,
  }]);
  add("inventory_item_roles", [{ name: `${p} CPU`, slug: `${p}-cpu`, color: "00bcd4", tags: T }]);
  const panel = { name: "PP1", site };
  add("power_panels", [{ ...panel, tags: T }]);
  add("power_feeds", [{ name: "F1", power_panel: panel, rack: { name: "R0", site }, tags: T }]);
  add("virtual_chassis", [{ name: `${p}-vc`, domain: "stack", master: d0, tags: T }]);
  Object.assign(at(d0.name), { virtual_chassis: `${p}-vc`, vc_position: 1, vc_priority: 10 });
  Object.assign(at(d10.name), { virtual_chassis: `${p}-vc`, vc_position: 2 });
  // A module in a bay, a bay of the same name on it and a module in that one; a port (eth2) on
  // the first module.
  const bay = { device: d0, module: null, name: "slot1" };
  const m1 = { device: d0, module_bay: bay };
  const bayOnM1 = { device: d0, module: m1, name: "slot1" };
  add("module_bays", [{ device: d0, name: "slot1", tags: T }, { ...bayOnM1, tags: T }]);
  add("modules", [
    { ...m1, module_type: moduleType, serial: `M${rnd}`, tags: T },
    { device: d0, module_bay: bayOnM1, module_type: moduleType, serial: `N${rnd}`, tags: T },
  ]);
  const ifaceOf = (dev: { name: string }, name: string) =>
    (doc.interfaces as Record<string, unknown>[]).find((i) =>
      (i.device as Record<string, unknown>).name === dev.name && i.name === name
    )!;
  ifaceOf(d0, "eth2").module = m1;
  add("console_ports", [{ device: d0, name: "con0", type: "rj-45", tags: T }]);
  add("console_server_ports", [{ device: d10, name: "cs0", type: "rj-45", speed: 9600, tags: T }]);
  add("power_ports", [
    { device: d0, name: "psu0", type: "iec-60320-c14", maximum_draw: 300, tags: T },
    { device: d10, name: "psu0", type: "iec-60320-c14", tags: T },
  ]);
  add("power_outlets", [{
    device: d10,
    name: "out0",
    type: "iec-60320-c13",
    power_port: { device: d10, name: "psu0" },
    feed_leg: "A",
    tags: T,
  }]);
  add("rear_ports", [
    { device: d0, name: "rp0", type: "lc", positions: 2, tags: T },
    { device: d10, name: "rp0", type: "lc", tags: T },
  ]);
  add("front_ports", [{
    device: d0,
    name: "fp0",
    type: "lc",
    rear_port: { device: d0, name: "rp0" },
    rear_port_position: 2,
    tags: T,
  }]);
  if (multiMappings) {
    // NetBox 4.6+: a front port of two positions on two rear ports.
    doc.rear_ports.push({ device: d10, name: "rp1", type: "lc", tags: T });
    doc.front_ports.push({
      device: d10,
      name: "fp1",
      type: "lc",
      positions: 2,
      rear_ports: [
        { position: 1, rear_port: { device: d10, name: "rp0" }, rear_port_position: 1 },
        { position: 2, rear_port: { device: d10, name: "rp1" }, rear_port_position: 1 },
      ],
      tags: T,
    });
  }
  add("device_bays", [{ device: { name: `${p}-dev3`, site: `${p}-s3` }, name: "bay1", tags: T }]);
  add("inventory_items", [{
    device: d0,
    name: "cpu0",
    role: `${p}-cpu`,
    manufacturer: `${p}-v0`,
    serial: `I${rnd}`,
    component: { console_port: { device: d0, name: "con0" } },
    tags: T,
  }, {
    device: d0,
    name: "optic0",
    component: { interface: { device: d0, name: "eth2" } },
    tags: T,
  }]);
  const hex = (rnd % 65536).toString(16).toUpperCase().padStart(4, "0");
  const mac = `02:00:00:00:${hex.slice(0, 2)}:${hex.slice(2)}`;
  add("mac_addresses", [{ mac_address: mac, interface: { device: d0, name: "eth0" }, tags: T }]);
  ifaceOf(d0, "eth0").primary_mac_address = mac;
  add("cables", [
    { a: { device: d0, interface: "mgmt0" }, b: { device: d10, interface: "mgmt0" }, tags: T },
    {
      a: [{ device: d10, console_server_port: "cs0" }],
      b: [{ device: d0, console_port: "con0" }],
      type: "cat6",
      label: "console",
      tags: T,
    },
    {
      a: { power_panel: panel, power_feed: "F1" },
      b: { device: d10, power_port: "psu0" },
      status: "planned",
      tags: T,
    },
    {
      a: { device: d0, rear_port: "rp0" },
      b: { device: d10, rear_port: "rp0" },
      type: "smf",
      length: 12.5,
      length_unit: "m",
      color: "ffeb3b",
      tags: T,
    },
  ]);
  const dt = `${p}-box1`;
  const tpl = (name: string, extra: Record<string, unknown> = {}) => ({
    device_type: dt,
    name,
    ...extra,
  });
  add("console_port_templates", [tpl("con", { type: "rj-45" })]);
  add("console_server_port_templates", [tpl("cs", { type: "rj-45" })]);
  add("power_port_templates", [tpl("psu", { type: "iec-60320-c14" })]);
  add("power_outlet_templates", [
    tpl("out", { type: "iec-60320-c13", power_port: { device_type: dt, name: "psu" } }),
  ]);
  add("interface_templates", [
    tpl("eth0", { type: "1000base-t", mgmt_only: true }),
    { module_type: moduleType, name: "lc0", type: "10gbase-x-sfpp" },
  ]);
  add("rear_port_templates", [tpl("rp", { type: "lc", positions: 2 })]);
  add("front_port_templates", [
    tpl("fp", { type: "lc", rear_port: { device_type: dt, name: "rp" }, rear_port_position: 2 }),
  ]);
  add("device_bay_templates", [{ device_type: `${p}-box3`, name: "bay" }]);
  add("module_bay_templates", [tpl("slot")]);
}

/** Custom field names allow no "-": the generated inventory's prefix for them. */
function customFieldPrefix(p: string): string {
  return p.replaceAll("-", "_");
}

/** Deletes everything tagged `tag` (dependents first), then the tags. Logs, never throws. */
export async function dropTagged(env: NetBoxTestEnv, tags: string[]): Promise<void> {
  const client = createClient({
    url: env.url,
    token: env.token,
    timeoutMs: 120_000,
    log: () => {},
  });
  try {
    const present: string[] = [];
    for (const tag of tags) {
      if ((await client.extras.tags.all({ slug: tag }, { fields: ["id"] })).length) {
        present.push(tag);
      }
    }
    // One listing per model for all the tags (NetBox ORs the values), all listed at once; the
    // deletes then go in reverse dependency order.
    const status = await client.status();
    const tagged = [...MODELS].reverse().filter((m) =>
      m.key !== "extras.tags" && EXPORT_FIELDS[m.key]?.includes("tags") &&
      hasSince(m.since, status)
    );
    const found = present.length
      ? await Promise.all(
        tagged.map((m) => client.endpoint(m.path).all({ tag: present }, { fields: ["id"] })),
      )
      : [];
    for (const [n, model] of tagged.entries()) {
      const ids = [...new Set((found[n] ?? []).map((o) => o.id))];
      if (!ids.length) continue;
      await client.endpoint(model.path).delete(ids, { chunkSize: 250 }).catch((err) =>
        console.error(`cleanup of ${model.key} failed: ${(err as Error).message.slice(0, 300)}`)
      );
    }
    for (const tag of tags) {
      const found = await client.extras.tags.all({ slug: tag }, { fields: ["id"] });
      if (found.length) await client.extras.tags.delete(found.map((t) => t.id));
    }
    // The generated custom fields and choice sets (untagged models), by name.
    const cf = customFieldPrefix(tags[0]);
    for (
      const [path, prefix] of [
        ["extras/custom-fields/", `${cf}_`],
        ["extras/custom-field-choice-sets/", `${tags[0]} `],
      ]
    ) {
      const all = await client.endpoint(path).all({}, { fields: ["id", "name"] });
      const mine = all.filter((o) => String(o.name).startsWith(prefix)).map((o) => o.id);
      if (mine.length) await client.endpoint(path).delete(mine);
    }
  } catch (err) {
    console.error(`cleanup of ${tags.join(", ")} failed: ${(err as Error).message.slice(0, 300)}`);
  } finally {
    client.close();
  }
}

/** Deletes the example inventory imported with `suffix` (objects by name). Logs, never throws. */
export async function dropExample(env: NetBoxTestEnv, suffix: string): Promise<void> {
  const client = createClient({
    url: env.url,
    token: env.token,
    timeoutMs: 120_000,
    log: () => {},
  });
  const s = suffix;
  try {
    const del = async (path: string, filters: Record<string, string | number>) => {
      const found = await client.endpoint(path).all(filters, { fields: ["id"] });
      if (found.length) await client.endpoint(path).delete(found.map((o) => o.id));
    };
    const vrf = await client.ipam.vrfs.find({ name: `management-${s}` });
    if (vrf) {
      await del("ipam/ip-addresses/", { vrf_id: vrf.id });
      await del("ipam/prefixes/", { vrf_id: vrf.id });
    }
    for (const vm of [`dns01-${s}`, `monitoring01-${s}`]) {
      await del("virtualization/virtual-machines/", { name: vm });
    }
    for (const d of [`foxtrot-${s}`, `golf-${s}`, `hotel-${s}`]) {
      await del("dcim/devices/", { name: d });
    }
    await del("virtualization/clusters/", { name: `matrix-${s}` });
    await del("virtualization/cluster-types/", { slug: `proxmox-ve-${s}` });
    await del("dcim/device-types/", { slug: `sys-1019-${s}` });
    await del("dcim/manufacturers/", { slug: `supermicro-${s}` });
    await del("dcim/device-roles/", { slug: `hypervisor-${s}` });
    await del("dcim/sites/", { slug: `matrix-${s}` });
    if (vrf) await client.ipam.vrfs.delete(vrf.id);
    for (const t of ["proxmox", "production", "proxmox-node", "ceph-node"]) {
      await del("extras/tags/", { slug: `${t}-${s}` });
    }
  } catch (err) {
    console.error(`cleanup of suffix ${s} failed: ${(err as Error).message.slice(0, 300)}`);
  } finally {
    client.close();
  }
}

/** A cable end of an export as `device kind name` (`sw1 console_port console`). */
function endKey(end: unknown): string {
  const e = (Array.isArray(end) ? end[0] : end) as Record<string, unknown>;
  const kind = Object.keys(e).find((k) => k !== "device")!;
  return `${(e.device as { name: string }).name} ${kind} ${e[kind]}`;
}

/** The section name of a component path of the seed (`console-ports` → `console_port`). */
const kindOf = (path: string) => path.replace(/s$/, "").replaceAll("-", "_");

/**
 * Asserts the export of the demo site has its rack: every cable of the seed (by its two ends),
 * the ports on both sides of each, the patch panels' front ports on the positions of their rear
 * port, and the device types' templates.
 */
function assertDemoRack(doc: Record<string, Record<string, unknown>[]>): void {
  const cables = (doc.cables ?? []).map((c) => [endKey(c.a), endKey(c.b)].sort().join(" | "));
  for (const [a, b] of SEED_CABLES) {
    const want = [a, b].map(([d, path, name]) => `${d} ${kindOf(path)} ${name}`).sort().join(" | ");
    assert.ok(cables.includes(want), `cable ${want} is not exported: ${cables.join("; ")}`);
  }
  const rack = new Set<string>(SEED_RACK_DEVICES.map(([name]) => name));
  const on = (section: string) =>
    (doc[section] ?? []).filter((x) => rack.has((x.device as { name: string }).name)).length;
  assert.deepEqual(
    Object.fromEntries(
      ["interfaces", "console_ports", "console_server_ports", "power_ports", "power_outlets"]
        .concat(["rear_ports", "front_ports"]).map((k) => [k, on(k)]),
    ),
    {
      interfaces: 6,
      console_ports: 1,
      console_server_ports: 2,
      power_ports: 3,
      power_outlets: 4,
      rear_ports: 2,
      front_ports: 4,
    },
  );
  const front = doc.front_ports.find((f) =>
    (f.device as { name: string }).name === "pp2" && f.name === "front2"
  );
  assert.deepEqual(
    { rear_port: front?.rear_port, position: front?.rear_port_position },
    { rear_port: { device: { name: "pp2", site: "matrix" }, name: "rear1" }, position: 2 },
  );
  for (const k of ["interface", "console_port", "power_outlet", "rear_port", "front_port"]) {
    assert.ok(doc[`${k}_templates`]?.length, `no ${k}_templates in the export`);
  }
}

const ms = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------

netboxTest(
  "export: example + generated inventory (every model; 2,000+ objects in the slow suite) round-trip: dry-run 0 changes, A → empty B → identical export",
  async () => {
    const a = testEnv();
    const suffix = crypto.randomUUID().slice(0, 8);
    const p = uniqueName("nbtk-exp");
    // The second NetBox starts while A is filled.
    const started = performance.now();
    const second = startSecondNetBox(a);
    second.catch(() => {}); // awaited below; no unhandled rejection meanwhile
    await withTempDir(async (dir) => {
      try {
        // 1. Both inventories into A (and the seed inventory, the demo site).
        let t = performance.now();
        await seedInventory(a.url, a.token);
        const example = `${dir}/example.yaml`;
        await Deno.writeTextFile(
          example,
          uniquify(await Deno.readTextFile(`${FIXTURES}inventory.yaml`), suffix),
        );
        // 12 devices (about 320 objects) in small chunks and pages; the slow suite: 2,000+.
        const multiMappings = versionAtLeast(await serverVersion(a), 4, 6);
        const version = await serverVersion(a);
        const new46 = versionAtLeast(version, 4, 6);
        const gen = generated(p, SLOW ? 200 : 12, {
          multiMappings,
          portMappings: versionAtLeast(version, 4, 7),
          new46,
        });
        assert.ok(gen.total >= (SLOW ? 2000 : 250), `only ${gen.total} generated objects`);
        assert.ok(Object.keys(gen.doc).length >= 10);
        const genFile = `${dir}/generated.json`;
        await Deno.writeTextFile(genFile, JSON.stringify(gen.doc, null, 1));
        const imported = await importFiles(a, [example, genFile]);
        assert.equal(imported.summary.create, gen.total + 32, JSON.stringify(imported.summary));
        console.error(`imported ${gen.total} + 32 objects into A in ${ms(t)}`);

        // 2. Export from A: YAML (example: a site and a VRF; generated: a tag), JSON, CSV.
        t = performance.now();
        const exArgs = ["--site", `matrix-${suffix}`, "--vrf", `management-${suffix}`];
        const genArgs = ["--tag", p];
        const exA = (await exportText(a, exArgs)).stdout;
        const genRun = await exportText(a, genArgs);
        const genA = genRun.stdout;
        console.error(`exported from A in ${ms(t)}: ${genRun.stderr.trim().split("\n").pop()}`);

        // What the user sees: the example inventory written by natural keys, defaults left out.
        const ex = yamlParse(exA) as Record<string, Record<string, unknown>[]>;
        assert.deepEqual(countsOf(exA), {
          tags: 4,
          sites: 1,
          manufacturers: 1,
          device_roles: 1,
          device_types: 1,
          vrfs: 1,
          cluster_types: 1,
          clusters: 1,
          devices: 3,
          interfaces: 6,
          virtual_machines: 2,
          vm_interfaces: 2,
          prefixes: 2,
          ip_addresses: 6,
        });
        assert.deepEqual(ex.devices[2], {
          name: `hotel-${suffix}`,
          site: `matrix-${suffix}`,
          device_type: `sys-1019-${suffix}`,
          role: `hypervisor-${suffix}`,
          status: "planned",
          cluster: `matrix-${suffix}`,
          primary_ip4: { address: "192.168.3.7/24", vrf: `management-${suffix}` },
          tags: [`proxmox-node-${suffix}`],
        });
        assert.deepEqual(ex.ip_addresses[1], {
          address: "192.168.3.5/24",
          vrf: `management-${suffix}`,
          interface: {
            device: { name: `foxtrot-${suffix}`, site: `matrix-${suffix}` },
            name: "vmbr0",
          },
          dns_name: `foxtrot-${suffix}.matrix-${suffix}.example.com`,
          tags: [`proxmox-${suffix}`],
        });
        assert.doesNotMatch(exA, /\b(id|url|display|created|last_updated):/);
        const counts = countsOf(genA);
        const expected = Object.fromEntries(
          Object.entries(gen.doc).map(([k, v]) => [k, v.length]),
        );
        // Section names as written: the generator's are aliases of the same models.
        assert.equal(
          Object.values(counts).reduce((n, c) => n + c, 0),
          gen.total,
          `counts ${JSON.stringify(counts)} vs ${JSON.stringify(expected)}`,
        );
        console.error(`generated export counts: ${JSON.stringify(counts)}`);
        // What the export carries by natural key (B's identical export below: B holds it too).
        assertCarried(genA, p, {
          multiMappings,
          portMappings: versionAtLeast(version, 4, 7),
          new46,
        });
        // An older NetBox is not asked for the models it lacks.
        const newPaths =
          /\/api\/(dcim\/rack-groups|dcim\/cable-bundles|virtualization\/virtual-machine-types)\//;
        assert.equal(genRun.requests.some((q) => newPaths.test(q)), new46, "new models listed");

        // 3. Round trip into the same NetBox: 0 changes.
        t = performance.now();
        await Deno.writeTextFile(`${dir}/exA.yaml`, exA);
        await Deno.writeTextFile(`${dir}/genA.yaml`, genA);
        const planEx = await dryRun(a, [`${dir}/exA.yaml`]);
        assertNoChanges(planEx);
        assert.equal(planEx.summary.unchanged, 32);
        const planGen = await dryRun(a, [`${dir}/genA.yaml`]);
        assertNoChanges(planGen);
        assert.equal(planGen.summary.unchanged, gen.total);
        // JSON and CSV of the generated inventory plan 0 changes too.
        const genJson = (await exportText(a, [...genArgs, "--format", "json"])).stdout;
        assert.deepEqual(JSON.parse(genJson), yamlParse(genA));
        await exportText(a, [...genArgs, "--format", "csv", "--output", `${dir}/csv`]);
        const csvFiles = [...Deno.readDirSync(`${dir}/csv`)].map((e) => `${dir}/csv/${e.name}`)
          .sort();
        assert.equal(csvFiles.length, Object.keys(counts).length);
        const planCsv = await dryRun(a, csvFiles);
        assertNoChanges(planCsv);
        assert.equal(planCsv.summary.unchanged, gen.total);
        console.error(`dry-runs (YAML ×2, CSV) on A: 0 changes, ${ms(t)}`);

        // The demo site: its rack, ports and cables are exported, and plan 0 changes on A.
        t = performance.now();
        const demoA = (await exportText(a, ["--site", "matrix"])).stdout;
        const demo = yamlParse(demoA) as Record<string, Record<string, unknown>[]>;
        assertDemoRack(demo);
        await Deno.writeTextFile(`${dir}/demo.yaml`, demoA);
        const planDemo = await dryRun(a, [`${dir}/demo.yaml`]);
        assertNoChanges(planDemo);
        const demoTotal = Object.values(demo).reduce((n, v) => n + v.length, 0);
        assert.equal(planDemo.items.length, demoTotal);
        // Its device types with their templates, for B's library.
        const library = Object.fromEntries(
          Object.entries(demo).filter(([k]) =>
            k === "manufacturers" || k === "device_types" || k.endsWith("_templates")
          ),
        );
        await Deno.writeTextFile(`${dir}/library.json`, JSON.stringify(library));
        console.error(`demo site: exported and planned on A in ${ms(t)}`);

        // 4. A → empty B → export from B: the same documents.
        t = performance.now();
        const b = await second.then((s) => s.env);
        console.error(`second NetBox up (${b.url}) after ${ms(started)}`);
        const intoB = await importFiles(b, [`${dir}/exA.yaml`, `${dir}/genA.yaml`]);
        assert.equal(intoB.summary.create, gen.total + 32, JSON.stringify(intoB.summary));
        console.error(`imported the exports into B in ${ms(t)}`);
        assertSameText((await exportText(b, exArgs)).stdout, exA, "example export of B");
        assertSameText((await exportText(b, genArgs)).stdout, genA, "generated export of B");
        assertNoChanges(await dryRun(b, [`${dir}/exA.yaml`, `${dir}/genA.yaml`]));

        // The demo site into B, whose device types already have their templates: NetBox makes
        // the new devices' ports, which the import matches by device and name and updates.
        t = performance.now();
        const lib = await importFiles(b, [`${dir}/library.json`]);
        const libTotal = Object.values(library).reduce((n, v) => n + v.length, 0);
        assert.equal(lib.summary.create, libTotal, JSON.stringify(lib.summary));
        const intoBDemo = await importFiles(b, [`${dir}/demo.yaml`]);
        assert.equal(intoBDemo.summary.failed, 0, JSON.stringify(intoBDemo.summary));
        assert.equal(intoBDemo.summary.create, demoTotal - libTotal);
        const fromTemplates = (intoBDemo.items as { action: string; message: string | null }[])
          .filter((i) =>
            i.action === "create" && /from the device type's template/.test(i.message ?? "")
          );
        assert.equal(fromTemplates.length, 22, "ports made from the templates and updated");
        // Read back from B: each port once, cabled as in A.
        const sw1 = await fetchOk(b, "GET", "/api/dcim/devices/?name=sw1&site=matrix");
        const ports = await fetchOk(
          b,
          "GET",
          `/api/dcim/interfaces/?device_id=${sw1.results[0].id}`,
        );
        assert.deepEqual(
          ports.results.map((i: { name: string; cable: unknown }) => [i.name, i.cable !== null]),
          [["ge1", true], ["ge2", true], ["ge3", true], ["ge4", true], ["mgmt0", false]],
        );
        assertSameText((await exportText(b, ["--site", "matrix"])).stdout, demoA, "demo site of B");
        console.error(`demo site: A → B (library first) → identical export in ${ms(t)}`);
      } finally {
        await second.then((s) => s.stop()).catch((err) =>
          console.error(`second NetBox: ${(err as Error).message.slice(0, 2000)}`)
        );
        const t = performance.now();
        await dropTagged(a, [p, `${p}-a`, `${p}-b`]);
        await dropExample(a, suffix);
        console.error(`cleanup of A in ${ms(t)}; whole test ${ms(started)}`);
      }
    });
  },
);

const entries = await readTaskEntries();

netboxTest("export works with a read-only token and its deno.json permissions", async () => {
  const env = testEnv();
  await seedInventory(env.url, env.token);
  const entry = taskEntry(entries, "export");
  const result = await runDeno(
    [
      "run",
      ...entry.denoFlags,
      entry.script,
      "--verbose",
      "--model",
      "prefixes",
      "--filter",
      "prefix=192.168.3.0/24",
      "--format",
      "json",
    ],
    { env: { NETBOX_URL: env.url, NETBOX_TOKEN: env.tokenRo } },
  );
  assert.equal(result.code, 0, describe(result));
  const doc = JSON.parse(result.stdout);
  assert.ok(doc.prefixes.some((x: { prefix: string }) => x.prefix === "192.168.3.0/24"));
  assert.match(result.stderr, /\bGET\b/);
  assert.doesNotMatch(result.stderr, /\b(POST|PUT|PATCH|DELETE)\b/, describe(result));
});

netboxTest("export: bad flags exit 2 with one line naming the flag", async () => {
  const env = testEnv();
  const cases: [string[], RegExp][] = [
    [
      ["--model", "devicez"],
      /Cannot parse --model: unknown model "devicez" \(did you mean devices\?\)/,
    ],
    [
      ["--model", "devices", "--filter", "site"],
      /Cannot parse --filter "site": expected key=value/,
    ],
    [
      ["--model", "devices", "--filter", "sitee=matrix"],
      /--filter sitee=matrix for dcim\.devices: .*sitee/,
    ],
    [
      ["--model", "devices", "--filter", "site=no-such-site-xyz"],
      /--filter site=no-such-site-xyz for dcim\.devices: NetBox refused/,
    ],
    [
      ["--site", "no-such-site-xyz"],
      /Cannot use --site no-such-site-xyz: no site with slug "no-such-site-xyz" exists in NetBox/,
    ],
    [["--format", "table"], /unknown --format "table"; expected one of yaml, json, csv/],
    [["--format", "csv"], /Cannot write CSV: several models/],
  ];
  for (const [args, message] of cases) {
    const r = await runMain(exportTask, args, env, env.tokenRo || env.token);
    assert.equal(r.code, 2, `${args.join(" ")}: ${at(r)}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0], message, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
});
