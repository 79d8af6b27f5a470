/**
 * assign-primary-ip against the real NetBox. Each test builds its own site, cluster, VM and
 * devices (unique names per run) and its own VRFs for the addresses, so nothing the seed or other
 * tests hold is touched; everything is deleted afterwards.
 *
 * Every write is confirmed by reading NetBox back — the address, DNS name, description, status
 * and interface of the IP, and the exact primary_ip4 / primary_ip6 / oob_ip ids of the device or
 * VM — never by the tool's own report alone.
 */

import assert from "node:assert/strict";
import { main } from "../../tasks/assign-primary-ip.ts";
import { netboxOk } from "../_deno_tasks.ts";
import { seedInventory } from "../netbox/seed.ts";
import { netboxTest, testEnv } from "./_netbox.ts";
import { runTaskMain, writesOf as writeRequests } from "./_run_task.ts";

interface Nb {
  url: string;
  token: string;
}

interface Run {
  code: number;
  // deno-lint-ignore no-explicit-any
  doc: any;
  stderr: string;
  methods: string[];
}

async function run(args: string[]): Promise<Run> {
  // A generous timeout: the shared test server is often busy with other suites.
  const r = await runTaskMain(main, [...args, "--format", "json", "--timeout", "120"]);
  return {
    code: r.code,
    doc: r.stdout ? JSON.parse(r.stdout) : undefined,
    stderr: r.stderr,
    methods: r.requests,
  };
}

const writesOf = (r: Run) => writeRequests(r.methods);

// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

interface Lab {
  nb: Nb;
  s: string;
  /** Second octet for this run's addresses. */
  n: number;
  vrfA: Obj;
  vrfB: Obj;
  site: Obj;
  vm: Obj;
  dev: Obj;
  other: Obj;
  /** The interfaces: the VM's eth0, dev's mgmt0 and eth1, other's eth0. */
  ifaces: { vmEth0: Obj; mgmt0: Obj; eth1: Obj; otherEth0: Obj };
}

/** What NetBox holds for an IP, in the fields the tool writes. */
interface IpState {
  address: string;
  vrf: number | null;
  dns_name: string;
  description: string;
  status: string;
  assigned_object_type: string | null;
  assigned_object_id: number | null;
}

/** Reads an IP back from NetBox. */
async function ipState(nb: Nb, id: number): Promise<IpState> {
  const ip = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/${id}/`);
  return {
    address: ip.address,
    vrf: ip.vrf?.id ?? null,
    dns_name: ip.dns_name,
    description: ip.description,
    status: ip.status.value,
    assigned_object_type: ip.assigned_object_type,
    assigned_object_id: ip.assigned_object_id,
  };
}

/** The ids of the IP addresses NetBox holds for an address in a VRF. */
async function idsOf(nb: Nb, address: string, vrfId: number): Promise<number[]> {
  const list = await netboxOk(
    nb,
    "GET",
    `/api/ipam/ip-addresses/?address=${encodeURIComponent(address)}&vrf_id=${vrfId}`,
  );
  return list.results.map((ip: { id: number }) => ip.id);
}

interface Primaries {
  primary_ip4: number | null;
  primary_ip6: number | null;
  oob_ip?: number | null;
}

/** Reads a device's (with oob_ip) or VM's primary IP ids back from NetBox. */
async function primaries(nb: Nb, kind: "device" | "vm", id: number): Promise<Primaries> {
  const path = kind === "device" ? "dcim/devices" : "virtualization/virtual-machines";
  const obj = await netboxOk(nb, "GET", `/api/${path}/${id}/`);
  const out: Primaries = {
    primary_ip4: obj.primary_ip4?.id ?? null,
    primary_ip6: obj.primary_ip6?.id ?? null,
  };
  if (kind === "device") out.oob_ip = obj.oob_ip?.id ?? null;
  return out;
}

const ON_VM = "virtualization.vminterface";
const ON_DEVICE = "dcim.interface";

/** Builds a small inventory of our own and removes it afterwards. */
async function withLab(fn: (lab: Lab) => Promise<void>): Promise<void> {
  const nb = testEnv();
  const s = crypto.randomUUID().slice(0, 8);
  const n = crypto.getRandomValues(new Uint8Array(1))[0];
  const made: [string, number][] = [];
  const make = async (path: string, body: Obj) => {
    const o = await netboxOk(nb, "POST", `/api/${path}/`, body);
    made.push([path, o.id]);
    return o;
  };
  try {
    const vrfA = await make("ipam/vrfs", { name: `nbtk-api-${s}-a` });
    const vrfB = await make("ipam/vrfs", { name: `nbtk-api-${s}-b` });
    const site = await make("dcim/sites", { name: `nbtk-${s}`, slug: `nbtk-${s}` });
    const type = await make("virtualization/cluster-types", {
      name: `nbtk-${s}`,
      slug: `nbtk-${s}`,
    });
    const cluster = await make("virtualization/clusters", { name: `nbtk-${s}`, type: type.id });
    const vm = await make("virtualization/virtual-machines", {
      name: `docker-01-${s}`,
      cluster: cluster.id,
    });
    const vmEth0 = await netboxOk(nb, "POST", "/api/virtualization/interfaces/", {
      virtual_machine: vm.id,
      name: "eth0",
    });
    const maker = await make("dcim/manufacturers", { name: `nbtk-${s}`, slug: `nbtk-${s}` });
    const dtype = await make("dcim/device-types", {
      manufacturer: maker.id,
      model: `nbtk-${s}`,
      slug: `nbtk-${s}`,
    });
    const role = await make("dcim/device-roles", { name: `nbtk-${s}`, slug: `nbtk-${s}` });
    const device = (name: string) =>
      make("dcim/devices", { name, device_type: dtype.id, role: role.id, site: site.id });
    const dev = await device(`foxtrot-${s}`);
    const other = await device(`golf-${s}`);
    const [mgmt0, eth1, otherEth0] = await netboxOk(nb, "POST", "/api/dcim/interfaces/", [
      { device: dev.id, name: "mgmt0", type: "1000base-t" },
      { device: dev.id, name: "eth1", type: "1000base-t" },
      { device: other.id, name: "eth0", type: "1000base-t" },
    ]);
    const ifaces = { vmEth0, mgmt0, eth1, otherEth0 };
    await fn({ nb, s, n, vrfA, vrfB, site, vm, dev, other, ifaces });
  } finally {
    for (const vrf of made.filter(([p]) => p === "ipam/vrfs")) {
      const ips = await netboxOk(
        nb,
        "GET",
        `/api/ipam/ip-addresses/?vrf_id=${vrf[1]}&limit=0&brief=1`,
      );
      const ids = ips.results.map((r: { id: number }) => ({ id: r.id }));
      if (ids.length) await netboxOk(nb, "DELETE", "/api/ipam/ip-addresses/", ids);
    }
    for (const [path, id] of made.reverse()) {
      await netboxOk(nb, "DELETE", `/api/${path}/${id}/`).catch((err) =>
        console.error(`cleanup: ${err}`)
      );
    }
  }
}

netboxTest(
  "assign-primary-ip: the seed's docker-01 example holds, a re-run only reads",
  async () => {
    const nb = testEnv();
    const seeded = await seedInventory(nb.url, nb.token);
    const args = [
      "--vm",
      "docker-01",
      "--interface",
      "eth0",
      "--address",
      "192.168.3.10/24",
      "--dns-name",
      "docker-01-nexus.spaceships.work",
    ];
    const first = await run(args); // the seed already did it: unchanged (or repaired if altered)
    assert.equal(first.code, 0, first.stderr);
    const vms = await netboxOk(nb, "GET", "/api/virtualization/virtual-machines/?name=docker-01");
    assert.equal(vms.count, 1);
    const vm = vms.results[0];
    const [eth0] = (await netboxOk(
      nb,
      "GET",
      `/api/virtualization/interfaces/?virtual_machine_id=${vm.id}&name=eth0`,
    )).results;
    const ipId = seeded.ip;
    assert.equal(first.doc.items[0].ip_id, ipId, "the seed's address");
    const want: IpState = {
      address: "192.168.3.10/24",
      vrf: null,
      dns_name: "docker-01-nexus.spaceships.work",
      description: "",
      status: "active",
      assigned_object_type: ON_VM,
      assigned_object_id: eth0.id,
    };
    assert.deepEqual(await ipState(nb, ipId), want);
    assert.deepEqual(await primaries(nb, "vm", vm.id), {
      primary_ip4: ipId,
      primary_ip6: vm.primary_ip6?.id ?? null,
    });
    const second = await run(args);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.doc.items[0].actions, ["unchanged"]);
    assert.deepEqual(writesOf(second), []);
    assert.deepEqual(await ipState(nb, ipId), want);
    assert.equal((await primaries(nb, "vm", vm.id)).primary_ip4, ipId);
  },
);

netboxTest(
  "assign-primary-ip: VM primary_ip4, then a second run is unchanged with only GETs",
  async () => {
    await withLab(async ({ nb, s, vrfA, vm, ifaces }) => {
      const args = [
        "--vm",
        `docker-01-${s}`,
        "--interface",
        "eth0",
        "--address",
        "192.168.3.10/24",
        "--vrf",
        vrfA.name,
        "--dns-name",
        "docker-01-nexus.spaceships.work",
        "--description",
        "Nexus registry",
        "--status",
        "reserved",
      ];
      const first = await run(args);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(first.doc.items[0].actions, ["created-ip", "set-primary"]);
      const [ipId] = await idsOf(nb, "192.168.3.10/24", vrfA.id);
      assert.equal(first.doc.items[0].ip_id, ipId, "the report names the IP NetBox holds");
      const want: IpState = {
        address: "192.168.3.10/24",
        vrf: vrfA.id,
        dns_name: "docker-01-nexus.spaceships.work",
        description: "Nexus registry",
        status: "reserved",
        assigned_object_type: ON_VM,
        assigned_object_id: ifaces.vmEth0.id,
      };
      assert.deepEqual(await ipState(nb, ipId), want);
      assert.deepEqual(await primaries(nb, "vm", vm.id), { primary_ip4: ipId, primary_ip6: null });
      const second = await run(args);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(second.doc.items[0].actions, ["unchanged"]);
      assert.deepEqual(writesOf(second), [], "a second run only reads");
      assert.deepEqual(await ipState(nb, ipId), want);
      assert.deepEqual(await primaries(nb, "vm", vm.id), { primary_ip4: ipId, primary_ip6: null });
    });
  },
);

netboxTest(
  "assign-primary-ip: an existing IP keeps its DNS name unless --dns-name changes it",
  async () => {
    await withLab(async ({ nb, s, n, vrfA, vm, ifaces }) => {
      const address = `10.${n}.4.20/24`;
      const ip = await netboxOk(nb, "POST", "/api/ipam/ip-addresses/", {
        address,
        vrf: vrfA.id,
        dns_name: "keep-me.example.com",
        description: "set by hand",
        status: "active",
      });
      const base = ["--vm", `docker-01-${s}`, "--address", address, "--vrf", vrfA.name];
      const want: IpState = {
        address,
        vrf: vrfA.id,
        dns_name: "keep-me.example.com",
        description: "set by hand",
        status: "active",
        assigned_object_type: ON_VM,
        assigned_object_id: ifaces.vmEth0.id,
      };

      // Assigned without --dns-name: its DNS name and description stay as they were.
      const assigned = await run(base);
      assert.equal(assigned.code, 0, assigned.stderr);
      // NetBox first, then the report.
      assert.deepEqual(await ipState(nb, ip.id), want);
      assert.deepEqual(await primaries(nb, "vm", vm.id), { primary_ip4: ip.id, primary_ip6: null });
      assert.deepEqual(assigned.doc.items[0].actions, ["assigned", "set-primary"]);
      assert.equal(assigned.doc.items[0].ip_id, ip.id);

      // Only --description: the description changes, the DNS name does not.
      const described = await run([...base, "--description", "now described"]);
      assert.equal(described.code, 0, described.stderr);
      want.description = "now described";
      assert.deepEqual(await ipState(nb, ip.id), want);
      assert.deepEqual(described.doc.items[0].actions, ["updated-ip"]);

      // --dns-name: the new name, lower-cased, and nothing else changes.
      const renamed = await run([...base, "--dns-name", "New-Name.Example.com"]);
      assert.equal(renamed.code, 0, renamed.stderr);
      want.dns_name = "new-name.example.com";
      assert.deepEqual(await ipState(nb, ip.id), want);
      assert.deepEqual(renamed.doc.items[0].actions, ["updated-ip"]);

      // --status alone: only the status.
      const deprecated = await run([...base, "--status", "deprecated"]);
      assert.equal(deprecated.code, 0, deprecated.stderr);
      want.status = "deprecated";
      assert.deepEqual(await ipState(nb, ip.id), want);
      assert.deepEqual(deprecated.doc.items[0].actions, ["updated-ip"]);
      assert.deepEqual(await primaries(nb, "vm", vm.id), { primary_ip4: ip.id, primary_ip6: null });
      assert.deepEqual(await idsOf(nb, address, vrfA.id), [ip.id], "no second copy was made");
    });
  },
);

netboxTest("assign-primary-ip: an IPv6 address becomes primary_ip6", async () => {
  await withLab(async ({ nb, s, n, vrfA, vm, ifaces }) => {
    // n + 1: never 0, so the address is already in the canonical form NetBox stores (fd00:1::10).
    const address = `fd00:${(n + 1).toString(16)}::10/64`;
    const r = await run(["--vm", `docker-01-${s}`, "--address", address, "--vrf", vrfA.name]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc.items[0].actions, ["created-ip", "set-primary"]);
    const [ipId] = await idsOf(nb, address, vrfA.id);
    assert.equal(r.doc.items[0].ip_id, ipId);
    assert.deepEqual(await ipState(nb, ipId), {
      address,
      vrf: vrfA.id,
      dns_name: "",
      description: "",
      status: "active",
      assigned_object_type: ON_VM,
      assigned_object_id: ifaces.vmEth0.id, // the VM's only interface
    });
    assert.deepEqual(await primaries(nb, "vm", vm.id), { primary_ip4: null, primary_ip6: ipId });
  });
});

netboxTest(
  "assign-primary-ip: a device with --oob gets its oob_ip; a VM is refused with exit 2",
  async () => {
    await withLab(async ({ nb, s, n, vrfA, vm, dev, ifaces }) => {
      const r = await run([
        "--device",
        `foxtrot-${s}`,
        "--site",
        `nbtk-${s}`,
        "--interface",
        "mgmt0",
        "--address",
        `10.${n}.0.5/24`,
        "--vrf",
        vrfA.name,
        "--oob",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.doc.items[0].actions, ["created-ip", "set-oob"]);
      const [ipId] = await idsOf(nb, `10.${n}.0.5/24`, vrfA.id);
      assert.equal(r.doc.items[0].ip_id, ipId);
      const want: IpState = {
        address: `10.${n}.0.5/24`,
        vrf: vrfA.id,
        dns_name: "",
        description: "",
        status: "active",
        assigned_object_type: ON_DEVICE,
        assigned_object_id: ifaces.mgmt0.id,
      };
      assert.deepEqual(await ipState(nb, ipId), want);
      const designated = { primary_ip4: null, primary_ip6: null, oob_ip: ipId };
      assert.deepEqual(await primaries(nb, "device", dev.id), designated, "OOB, not primary");
      const again = await run([
        "--device",
        `foxtrot-${s}`,
        "--interface",
        "mgmt0",
        "--address",
        `10.${n}.0.5/24`,
        "--vrf",
        vrfA.name,
        "--oob",
      ]);
      assert.deepEqual(again.doc.items[0].actions, ["unchanged"]);
      assert.deepEqual(writesOf(again), []);
      assert.deepEqual(await ipState(nb, ipId), want);
      assert.deepEqual(await primaries(nb, "device", dev.id), designated);
      const refused = await run([
        "--vm",
        `docker-01-${s}`,
        "--address",
        `10.${n}.0.6/24`,
        "--vrf",
        vrfA.name,
        "--oob",
      ]);
      assert.equal(refused.code, 2);
      assert.deepEqual(writesOf(refused), []);
      assert.deepEqual(await idsOf(nb, `10.${n}.0.6/24`, vrfA.id), []);
      assert.deepEqual(await primaries(nb, "vm", vm.id), { primary_ip4: null, primary_ip6: null });
    });
  },
);

netboxTest(
  "assign-primary-ip: an IP on another device exits 3 naming it; --move moves it",
  async () => {
    await withLab(async ({ nb, s, n, vrfA, dev, other, ifaces }) => {
      const ip = await netboxOk(nb, "POST", "/api/ipam/ip-addresses/", {
        address: `10.${n}.1.7/24`,
        vrf: vrfA.id,
        dns_name: "golf-eth0.example.com",
        assigned_object_type: ON_DEVICE,
        assigned_object_id: ifaces.otherEth0.id,
      });
      await netboxOk(nb, "PATCH", `/api/dcim/devices/${other.id}/`, { primary_ip4: ip.id });
      const args = [
        "--device",
        `foxtrot-${s}`,
        "--interface",
        "eth1",
        "--address",
        `10.${n}.1.7/24`,
        "--vrf",
        vrfA.name,
      ];
      const before: IpState = {
        address: `10.${n}.1.7/24`,
        vrf: vrfA.id,
        dns_name: "golf-eth0.example.com",
        description: "",
        status: "active",
        assigned_object_type: ON_DEVICE,
        assigned_object_id: ifaces.otherEth0.id,
      };
      const refused = await run(args);
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, new RegExp(`assigned to device golf-${s} interface eth0`));
      assert.deepEqual(writesOf(refused), []);
      assert.deepEqual(await ipState(nb, ip.id), before);
      const none = { primary_ip4: null, primary_ip6: null, oob_ip: null };
      assert.deepEqual(await primaries(nb, "device", other.id), { ...none, primary_ip4: ip.id });
      assert.deepEqual(await primaries(nb, "device", dev.id), none);
      const moved = await run([...args, "--move"]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.deepEqual(moved.doc.items[0].actions, ["cleared-primary", "moved", "set-primary"]);
      assert.deepEqual(await ipState(nb, ip.id), {
        ...before,
        assigned_object_id: ifaces.eth1.id,
      });
      assert.deepEqual(await primaries(nb, "device", other.id), none);
      assert.deepEqual(await primaries(nb, "device", dev.id), { ...none, primary_ip4: ip.id });
    });
  },
);

netboxTest(
  "assign-primary-ip: an address in several VRFs without --vrf exits 3 listing them",
  async () => {
    await withLab(async ({ nb, s, n, vrfA, vrfB, vm }) => {
      const ips: Obj[] = [];
      for (const vrf of [vrfA, vrfB]) {
        ips.push(
          await netboxOk(nb, "POST", "/api/ipam/ip-addresses/", {
            address: `10.${n}.2.9/24`,
            vrf: vrf.id,
          }),
        );
      }
      const r = await run(["--vm", `docker-01-${s}`, "--address", `10.${n}.2.9/24`]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /VRFs/);
      assert.ok(r.stderr.includes(vrfA.name) && r.stderr.includes(vrfB.name), r.stderr);
      assert.deepEqual(writesOf(r), []);
      for (const ip of ips) assert.equal((await ipState(nb, ip.id)).assigned_object_id, null);
      assert.deepEqual(await primaries(nb, "vm", vm.id), { primary_ip4: null, primary_ip6: null });
    });
  },
);

netboxTest(
  "assign-primary-ip: a batch of 20 rows with 2 bad rows does 18, exits 1, names lines",
  async () => {
    await withLab(async ({ nb, s, n, vrfA, site }) => {
      const vms = await netboxOk(
        nb,
        "POST",
        "/api/virtualization/virtual-machines/",
        Array.from({ length: 18 }, (_, i) => ({ name: `batch-${i}-${s}`, site: site.id })),
      );
      try {
        const eth0s: Obj[] = await netboxOk(
          nb,
          "POST",
          "/api/virtualization/interfaces/",
          vms.map((vm: { id: number }) => ({ virtual_machine: vm.id, name: "eth0" })),
        );
        const lines = ["vm,interface,address,vrf,dns_name"];
        vms.forEach((vm: { name: string }, i: number) => {
          lines.push(`${vm.name},eth0,10.${n}.3.${i + 10}/24,${vrfA.name},batch-${i}.example.com`);
          if (i === 4) lines.push(`ghost-${s},eth0,10.${n}.3.200/24,${vrfA.name},`); // line 7
          if (i === 11) lines.push(`${vm.name},eth0,10.${n}.3.201/24,${vrfA.name},bad name`); // line 15
        });
        const dir = await Deno.makeTempDir();
        try {
          await Deno.writeTextFile(`${dir}/rows.csv`, lines.join("\n") + "\n");
          const r = await run(["--file", `${dir}/rows.csv`]);
          assert.equal(r.code, 1, r.stderr);
          assert.equal(r.doc.summary.rows, 20);
          assert.equal(r.doc.summary.done, 18);
          assert.equal(r.doc.summary.failed, 2);
          assert.match(r.stderr, /rows\.csv:7: Cannot find virtual machine "ghost-/);
          assert.match(r.stderr, /rows\.csv:15: .*bad name/);
          // NetBox holds exactly the 18 good rows: each VM's own address on its eth0, primary.
          const held = await netboxOk(
            nb,
            "GET",
            `/api/ipam/ip-addresses/?vrf_id=${vrfA.id}&limit=100&ordering=address`,
          );
          assert.equal(held.count, 18);
          for (const [i, vm] of vms.entries()) {
            const address = `10.${n}.3.${i + 10}/24`;
            const [ipId] = await idsOf(nb, address, vrfA.id);
            assert.ok(ipId, `${address} exists`);
            assert.deepEqual(await ipState(nb, ipId), {
              address,
              vrf: vrfA.id,
              dns_name: `batch-${i}.example.com`,
              description: "",
              status: "active",
              assigned_object_type: ON_VM,
              assigned_object_id: eth0s[i].id,
            }, vm.name);
            assert.deepEqual(
              await primaries(nb, "vm", vm.id),
              { primary_ip4: ipId, primary_ip6: null },
              vm.name,
            );
          }
          assert.deepEqual(await idsOf(nb, `10.${n}.3.200/24`, vrfA.id), []);
          assert.deepEqual(await idsOf(nb, `10.${n}.3.201/24`, vrfA.id), []);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      } finally {
        const ips = await netboxOk(
          nb,
          "GET",
          `/api/ipam/ip-addresses/?vrf_id=${vrfA.id}&limit=0&brief=1`,
        );
        if (ips.count) {
          await netboxOk(
            nb,
            "DELETE",
            "/api/ipam/ip-addresses/",
            ips.results.map((r: { id: number }) => ({ id: r.id })),
          );
        }
        await netboxOk(
          nb,
          "DELETE",
          "/api/virtualization/virtual-machines/",
          vms.map((v: { id: number }) => ({ id: v.id })),
        );
      }
    });
  },
);
