import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { InputError } from "../../lib/client/errors.ts";
import {
  ansibleList,
  ansibleYaml,
  buildInventory,
  InventoryFilterError,
  nornirInventory,
} from "../../lib/inventory/mod.ts";
import type { FakeNetBox, Obj } from "../_fake_netbox.ts";
import { fixture, status } from "./_fixture.ts";

const client = (nb: FakeNetBox) =>
  createClient({ url: nb.host, token: "nbt_abcdefghijkl.0123456789", fetch: nb.fetch, retries: 0 });

Deno.test("buildInventory() names and nests groups as nb_inventory does", async () => {
  const nb = fixture();
  const c = client(nb);
  const inv = await buildInventory(c, {
    groupBy: ["site", "region", "site_group", "location", "role", "tag", "tenant", "platform"]
      .concat([
        "cluster",
        "cluster_type",
        "rack",
        "rack_role",
        "manufacturer",
        "status",
        "is_virtual",
      ]),
  });
  c.close();
  const groups = Object.fromEntries(inv.groups.map((g) => [g.name, g]));
  assert.deepEqual(Object.keys(groups), [
    "cluster_kvm one",
    "cluster_type_kvm",
    "is_virtual",
    "location_floor1",
    "location_room1",
    "manufacturer_acme",
    "platform_eos",
    "rack_R 1",
    "rack_role_network",
    "region_eu",
    "region_world",
    "role_core",
    "site_group_edge",
    "site_matrix",
    "status_active",
    "tag_bgp",
    "tag_prod",
    "tenant_acme-corp",
  ]);
  // A host with a location sits in the location's group, nested in its parents and its site.
  assert.deepEqual(groups.location_room1.hosts, ["core1"]);
  assert.deepEqual(groups.location_floor1.children, ["location_room1"]);
  assert.deepEqual(groups.site_matrix, {
    name: "site_matrix",
    hosts: ["vm1"],
    children: ["location_floor1"],
  });
  assert.deepEqual(groups.region_eu.children, ["site_matrix"]);
  assert.deepEqual(groups.region_world.children, ["region_eu"]);
  assert.deepEqual(groups.site_group_edge.children, ["site_matrix"]);
  assert.deepEqual(groups.is_virtual.hosts, ["vm1"]);
  assert.deepEqual(groups.role_core.hosts, ["core1", "vm1"]);
  assert.deepEqual(inv.hosts.map((h) => h.name), ["core1", "vm1"]);
  assert.deepEqual(inv.skipped.map((s) => `${s.name}: ${s.reason}`), [
    "core1-member: virtual chassis member",
    "noip: no primary IP",
  ]);
});

Deno.test("buildInventory() sets nb_inventory's host variables, IPv4 first unless preferIpv6", async () => {
  const nb = fixture();
  const c = client(nb);
  const inv = await buildInventory(c, {
    compose: { owner: "custom_fields.owner", what: "description" },
  });
  const v6 = await buildInventory(c, { preferIpv6: true });
  c.close();
  assert.deepEqual(inv.hosts[0].vars, {
    ansible_host: "192.0.2.1",
    custom_fields: { owner: "net" },
    device_type: "sw48",
    is_virtual: false,
    locations: ["room1", "floor1"],
    manufacturer: "acme",
    owner: "net",
    platform: "eos",
    primary_ip4: "192.0.2.1",
    primary_ip6: "2001:db8::1",
    rack: "R 1",
    rack_role: "network",
    regions: ["eu", "world"],
    role: "core",
    serial: "",
    site: "matrix",
    site_groups: ["edge"],
    status,
    tags: ["prod", "bgp"],
    tenant: "acme-corp",
    what: "desc core1",
  });
  assert.deepEqual(inv.hosts[1].vars, {
    ansible_host: "2001:db8::10",
    cluster: "kvm one",
    cluster_group: "lab",
    cluster_type: "kvm",
    custom_fields: {},
    disk: 10,
    is_virtual: true,
    local_context_data: { a: 1 },
    locations: [],
    memory: 2048,
    primary_ip6: "2001:db8::10",
    regions: ["eu", "world"],
    role: "core",
    serial: "",
    site: "matrix",
    site_groups: ["edge"],
    status,
    tags: [],
  });
  assert.equal(v6.hosts[0].vars.ansible_host, "2001:db8::1");
  // Only the fields used are asked for, and config contexts are not rendered unless wanted.
  const devices = nb.requests.find((r) => r.startsWith("GET dcim/devices?"))!;
  assert.match(devices, /fields=id%2Cname%2C.*description/);
  assert.match(devices, /exclude=config_context/);
});

Deno.test("buildInventory() keeps hosts without an address with includeNoIp, and adds config contexts", async () => {
  const nb = fixture();
  const c = client(nb);
  const inv = await buildInventory(c, { includeNoIp: true, configContext: true, vms: false });
  c.close();
  assert.deepEqual(inv.hosts.map((h) => h.name), ["core1", "noip"]);
  assert.equal(inv.hosts[1].vars.ansible_host, undefined);
  assert.deepEqual(inv.hosts[1].vars.config_context, { ntp: "10.0.0.1" });
  assert.ok(!nb.requests.some((r) => r.startsWith("GET virtualization/virtual-machines")));
});

Deno.test("buildInventory() attaches interfaces and their addresses; a chassis member's go to its master", async () => {
  const nb = fixture();
  const c = client(nb);
  const inv = await buildInventory(c, { interfaces: true });
  const filtered = await buildInventory(c, { interfaces: true, filters: { role: "core" } });
  c.close();
  for (const i of [inv, filtered]) {
    const core1 = i.hosts[0].vars.interfaces as Obj[];
    assert.deepEqual(core1.map((x) => x.name), ["eth0", "eth1"]);
    assert.deepEqual(core1[0].tags, ["prod"]);
    assert.deepEqual(core1[0].ip_addresses, [{
      id: 1000,
      address: "192.0.2.1/24",
      dns_name: "core1.example.net",
    }]);
    assert.equal(i.hosts[0].vars.dns_name, "core1.example.net");
    const vm = i.hosts[1].vars.interfaces as Obj[];
    assert.deepEqual(vm.map((x) => [x.name, x.ip_addresses.map((a: Obj) => a.address)]), [[
      "veth0",
      ["2001:db8::10/64"],
    ]]);
    assert.equal(i.hosts[1].vars.dns_name, undefined);
  }
  // Filtered hosts: interfaces and addresses asked for by host ids, not one request per host.
  assert.ok(
    nb.requests.some((r) =>
      r.startsWith("GET dcim/interfaces?") && r.includes("device_id=100&device_id=101")
    ),
  );
});

Deno.test("buildInventory() asks for filtered hosts' interfaces and addresses by ids, a few hundred ids a request", async () => {
  const nb = fixture(298);
  nb.load(
    "dcim/interfaces",
    Array.from({ length: 298 }, (_, i) => ({
      id: 600 + i,
      name: "eth0",
      device: { id: 200 + i },
      tags: [],
    })),
  );
  const c = client(nb);
  const inv = await buildInventory(c, {
    interfaces: true,
    includeNoIp: true,
    filters: { role: "access" },
  });
  c.close();
  // Every filtered host (noip and the 298 extras) has its interfaces; nothing of the others.
  assert.equal(inv.hosts.length, 299);
  const extras = inv.hosts.filter((h) => h.name.startsWith("extra"));
  assert.ok(extras.every((h) => (h.vars.interfaces as Obj[]).map((x) => x.name).join() === "eth0"));
  assert.deepEqual(inv.hosts.find((h) => h.name === "noip")?.vars.interfaces, []);
  const asked = (path: string) =>
    nb.requests.filter((r) => r.startsWith(`GET ${path}?`)).map((r) =>
      new URLSearchParams(r.slice(r.indexOf("?") + 1)).getAll("device_id").map(Number)
    );
  for (const path of ["dcim/interfaces", "ipam/ip-addresses"]) {
    const chunks = asked(path);
    // 299 ids of three digits: three requests, each id asked for once, each query within 3,000
    // characters of ids.
    assert.equal(chunks.length, 3, path);
    assert.deepEqual(chunks.flat().sort((a, b) => a - b), [102, ...extras.map((h) => h.id)]);
    assert.ok(chunks.every((ids) => ids.length * "device_id=200&".length <= 3000), path);
  }
});

Deno.test("buildInventory() makes as many requests for 3 hosts as for 300", async () => {
  const count = async (extra: number) => {
    const nb = fixture(extra);
    const c = client(nb);
    const inv = await buildInventory(c, { interfaces: true, groupBy: ["site", "region"] });
    c.close();
    return {
      hosts: inv.hosts.length,
      gets: nb.requests.filter((r) => r.startsWith("GET ")).length,
    };
  };
  const small = await count(0);
  const large = await count(298);
  assert.deepEqual([small.hosts, large.hosts], [2, 300]);
  assert.equal(large.gets, small.gets);
  assert.ok(small.gets <= 13, `${small.gets} requests`);
});

Deno.test("buildInventory() refuses an unknown group key, a bad compose and a filter NetBox would ignore", async () => {
  const nb = fixture();
  const c = client(nb);
  await assert.rejects(
    buildInventory(c, { groupBy: ["sitee"] }),
    (err: Error) =>
      err instanceof InputError &&
      /Cannot group by "sitee": expected one of site, /.test(err.message),
  );
  await assert.rejects(buildInventory(c, { compose: { x: "a..b" } }), InputError);
  await assert.rejects(
    buildInventory(c, { filters: { stie: "matrix" } }),
    (err: Error) =>
      err instanceof InventoryFilterError && /unknown filter "stie"/.test(err.message),
  );
  // rack_id filters devices but not VMs: refused for the VMs, fine for devices alone.
  await assert.rejects(
    buildInventory(c, { filters: { rack_id: "30" } }),
    (err: Error) => err instanceof InventoryFilterError && err.listing === "virtual machines",
  );
  const racked = await buildInventory(c, { vms: false, filters: { rack_id: "30" } });
  assert.deepEqual(racked.hosts.map((h) => h.name), ["core1"]);
  c.close();
  assert.ok(!nb.requests.some((r) => r.includes("stie")), "the unknown filter was never sent");
});

Deno.test("nb_inventory's plural keys give its plural group names; group_names_raw drops the prefix", async () => {
  const nb = fixture();
  const c = client(nb);
  const plural = await buildInventory(c, { groupBy: ["sites", "device_roles", "tags"] });
  const raw = await buildInventory(c, { groupBy: ["role"], rawGroupNames: true });
  c.close();
  assert.deepEqual(plural.groups.map((g) => g.name), [
    "device_roles_core",
    "sites_matrix",
    "tags_bgp",
    "tags_prod",
  ]);
  assert.deepEqual(raw.groups.map((g) => g.name), ["core"]);
});

Deno.test("the renderers: Ansible list and YAML nest groups; Nornir groups name their parents", async () => {
  const nb = fixture();
  const c = client(nb);
  const inv = await buildInventory(c, {
    groupBy: ["site", "region", "location", "is_virtual"],
    includeNoIp: true,
  });
  c.close();
  const list = ansibleList(inv);
  assert.deepEqual(list.all, {
    children: ["is_virtual", "region_world", "site_zion", "ungrouped"],
  });
  assert.deepEqual(list.region_world, { children: ["region_eu"] });
  assert.deepEqual(list.site_zion, { hosts: ["noip"] });
  assert.deepEqual(list.ungrouped, {});
  assert.equal((list._meta.hostvars as Obj).core1.ansible_host, "192.0.2.1");
  const yaml = ansibleYaml(inv);
  assert.deepEqual(yaml.all.children, {
    is_virtual: { hosts: { vm1: null } },
    region_world: {
      children: {
        region_eu: {
          children: {
            site_matrix: {
              hosts: { vm1: null },
              children: {
                location_floor1: { children: { location_room1: { hosts: { core1: null } } } },
              },
            },
          },
        },
      },
    },
    site_zion: { hosts: { noip: null } },
  });
  const nornir = nornirInventory(inv);
  assert.deepEqual(nornir.hosts.core1.groups, ["location_room1"]);
  assert.equal(nornir.hosts.core1.hostname, "192.0.2.1");
  assert.equal(nornir.hosts.core1.platform, "eos");
  assert.equal(nornir.hosts.noip.hostname, undefined);
  assert.deepEqual(nornir.groups.site_matrix.groups, ["region_eu"]);
  assert.deepEqual(nornir.groups.location_floor1.groups, ["site_matrix"]);
});

Deno.test("buildInventory() adds services, virtual disks and nb_inventory's plural variables", async () => {
  const nb = fixture();
  // A device id equal to a VM id must not mix their services or disks up.
  nb.load("ipam/services", [
    {
      id: 1,
      name: "ssh",
      protocol: { value: "tcp" },
      ports: [22],
      parent_object_type: "dcim.device",
      parent_object_id: 100,
    },
    {
      id: 2,
      name: "dns",
      protocol: { value: "udp" },
      ports: [53],
      parent_object_type: "virtualization.virtualmachine",
      parent_object_id: 300,
    },
    // NetBox before 4.3: the device or virtual machine field.
    { id: 3, name: "http", protocol: { value: "tcp" }, ports: [80], virtual_machine: { id: 300 } },
  ]);
  nb.load("virtualization/virtual-disks", [
    { id: 7, name: "root", size: 10, virtual_machine: { id: 300 } },
  ]);
  const c = client(nb);
  const inv = await buildInventory(c, {
    includeNoIp: true,
    services: true,
    virtualDisks: true,
    plurals: true,
  });
  c.close();
  const vars = Object.fromEntries(inv.hosts.map((h) => [h.name, h.vars]));
  assert.deepEqual((vars.core1.services as { name: string }[]).map((s) => s.name), ["ssh"]);
  assert.deepEqual((vars.vm1.services as { name: string }[]).map((s) => s.name), ["dns", "http"]);
  assert.deepEqual(vars.noip.services, []);
  assert.deepEqual(vars.vm1.virtual_disks, [
    { id: 7, name: "root", size: 10, virtual_machine: { id: 300 } },
  ]);
  assert.deepEqual(vars.core1.virtual_disks, []);
  // plurals: one-element lists under nb_inventory's plural names; the rest as without.
  assert.deepEqual(vars.core1.sites, ["matrix"]);
  assert.deepEqual(vars.core1.device_roles, ["core"]);
  assert.deepEqual(vars.core1.platforms, ["eos"]);
  assert.deepEqual(vars.core1.tenants, ["acme-corp"]);
  assert.deepEqual(vars.core1.device_types, ["sw48"]);
  assert.deepEqual(vars.core1.manufacturers, ["acme"]);
  assert.deepEqual(vars.core1.racks, ["R 1"]);
  assert.deepEqual(vars.core1.tags, ["prod", "bgp"]);
  assert.equal(vars.core1.rack_role, "network");
  assert.deepEqual(vars.core1.local_context_data, [null]);
  assert.deepEqual(vars.vm1.local_context_data, [{ a: 1 }]);
  for (const singular of ["site", "role", "platform", "tenant", "device_type", "rack"]) {
    assert.equal(singular in vars.core1, false, singular);
  }
  // Without the options nothing of it.
  const c2 = client(nb);
  const plain = await buildInventory(c2, { includeNoIp: true });
  c2.close();
  const core1 = plain.hosts.find((h) => h.name === "core1")!.vars;
  assert.equal("services" in core1, false);
  assert.equal("virtual_disks" in core1, false);
  assert.equal(core1.site, "matrix");
});
