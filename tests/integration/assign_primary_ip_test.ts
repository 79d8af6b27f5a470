/**
 * assign-primary-ip against the real NetBox. Each test builds its own site, cluster, VM and
 * devices (unique names per run) and its own VRFs for the addresses, so nothing the seed or other
 * tests hold is touched; everything is deleted afterwards.
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
}

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
    await netboxOk(nb, "POST", "/api/virtualization/interfaces/", {
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
    await netboxOk(nb, "POST", "/api/dcim/interfaces/", [
      { device: dev.id, name: "mgmt0", type: "1000base-t" },
      { device: dev.id, name: "eth1", type: "1000base-t" },
      { device: other.id, name: "eth0", type: "1000base-t" },
    ]);
    await fn({ nb, s, n, vrfA, vrfB, site, vm, dev, other });
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
    await seedInventory(nb.url, nb.token);
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
    const vm = (await netboxOk(nb, "GET", "/api/virtualization/virtual-machines/?name=docker-01"))
      .results[0];
    assert.equal(vm.primary_ip4.id, first.doc.items[0].ip_id);
    const second = await run(args);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.doc.items[0].actions, ["unchanged"]);
    assert.deepEqual(writesOf(second), []);
  },
);

netboxTest(
  "assign-primary-ip: VM primary_ip4, then a second run is unchanged with only GETs",
  async () => {
    await withLab(async ({ nb, s, vrfA, vm }) => {
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
      ];
      const first = await run(args);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(first.doc.items[0].actions, ["created-ip", "set-primary"]);
      const ipId = first.doc.items[0].ip_id;
      const fresh = await netboxOk(nb, "GET", `/api/virtualization/virtual-machines/${vm.id}/`);
      assert.equal(fresh.primary_ip4.id, ipId);
      const ip = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/${ipId}/`);
      assert.equal(ip.dns_name, "docker-01-nexus.spaceships.work");
      assert.equal(ip.assigned_object.virtual_machine.id, vm.id);
      assert.equal(ip.vrf.id, vrfA.id);
      const second = await run(args);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(second.doc.items[0].actions, ["unchanged"]);
      assert.deepEqual(writesOf(second), [], "a second run only reads");
    });
  },
);

netboxTest("assign-primary-ip: an IPv6 address becomes primary_ip6", async () => {
  await withLab(async ({ nb, s, n, vrfA, vm }) => {
    const r = await run([
      "--vm",
      `docker-01-${s}`,
      "--address",
      `fd00:${n.toString(16)}::10/64`,
      "--vrf",
      vrfA.name,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const fresh = await netboxOk(nb, "GET", `/api/virtualization/virtual-machines/${vm.id}/`);
    assert.equal(fresh.primary_ip6.id, r.doc.items[0].ip_id);
    assert.equal(fresh.primary_ip4, null);
  });
});

netboxTest(
  "assign-primary-ip: a device with --oob gets its oob_ip; a VM is refused with exit 2",
  async () => {
    await withLab(async ({ nb, s, n, vrfA, dev }) => {
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
      const fresh = await netboxOk(nb, "GET", `/api/dcim/devices/${dev.id}/`);
      assert.equal(fresh.oob_ip.id, r.doc.items[0].ip_id);
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
      const vm = await run(["--vm", `docker-01-${s}`, "--address", `10.${n}.0.6/24`, "--oob"]);
      assert.equal(vm.code, 2);
      assert.deepEqual(writesOf(vm), []);
    });
  },
);

netboxTest(
  "assign-primary-ip: an IP on another device exits 3 naming it; --move moves it",
  async () => {
    await withLab(async ({ nb, s, n, vrfA, dev, other }) => {
      const [otherEth0] =
        (await netboxOk(nb, "GET", `/api/dcim/interfaces/?device_id=${other.id}`)).results;
      const ip = await netboxOk(nb, "POST", "/api/ipam/ip-addresses/", {
        address: `10.${n}.1.7/24`,
        vrf: vrfA.id,
        assigned_object_type: "dcim.interface",
        assigned_object_id: otherEth0.id,
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
      const refused = await run(args);
      assert.equal(refused.code, 3);
      assert.match(refused.stderr, new RegExp(`assigned to device golf-${s} interface eth0`));
      assert.deepEqual(writesOf(refused), []);
      const moved = await run([...args, "--move"]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.deepEqual(moved.doc.items[0].actions, ["cleared-primary", "moved", "set-primary"]);
      const after = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/${ip.id}/`);
      assert.equal(after.assigned_object.device.id, dev.id);
      assert.equal((await netboxOk(nb, "GET", `/api/dcim/devices/${other.id}/`)).primary_ip4, null);
      assert.equal(
        (await netboxOk(nb, "GET", `/api/dcim/devices/${dev.id}/`)).primary_ip4.id,
        ip.id,
      );
    });
  },
);

netboxTest(
  "assign-primary-ip: an address in several VRFs without --vrf exits 3 listing them",
  async () => {
    await withLab(async ({ nb, s, n, vrfA, vrfB }) => {
      for (const vrf of [vrfA, vrfB]) {
        await netboxOk(nb, "POST", "/api/ipam/ip-addresses/", {
          address: `10.${n}.2.9/24`,
          vrf: vrf.id,
        });
      }
      const r = await run(["--vm", `docker-01-${s}`, "--address", `10.${n}.2.9/24`]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /VRFs/);
      assert.ok(r.stderr.includes(vrfA.name) && r.stderr.includes(vrfB.name), r.stderr);
      assert.deepEqual(writesOf(r), []);
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
        await netboxOk(
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
          for (const vm of vms) {
            const fresh = await netboxOk(
              nb,
              "GET",
              `/api/virtualization/virtual-machines/${vm.id}/`,
            );
            assert.ok(fresh.primary_ip4, `${vm.name} has a primary IPv4`);
          }
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
