/**
 * The library calls of lib/ipam/assign.ts against the real NetBox. Each test builds its own VRF,
 * prefix, cluster and VMs (unique names per run), confirms every outcome by reading NetBox back,
 * and deletes what it made.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { InputError, NetBoxChangedError } from "../../lib/client/errors.ts";
import { assignIp, assignIps } from "../../lib/ipam/assign.ts";
import { LookupError } from "../../lib/ipam/lookup.ts";
import {
  deleteIds,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  recordedClient,
  type RecordedRequest,
  serverVersion,
  uniqueName,
  versionAtLeast,
} from "./_netbox.ts";

const octet = () => 1 + (crypto.getRandomValues(new Uint8Array(1))[0] % 250);

/** What each test gets: its VRF, a /28 in it, and two VMs with an `eth0` each. */
interface Lab {
  vrf: { id: number; name: string };
  prefix: { id: number; prefix: string };
  vms: { id: number; name: string; eth0: number }[];
}

const writes = (requests: RecordedRequest[]) =>
  requests.filter((r) => !["GET", "HEAD", "OPTIONS"].includes(r.method))
    .map((r) => `${r.method} ${r.path}`);

/** Builds the lab, runs `fn`, and deletes everything made (addresses in the VRF included). */
async function withLab(env: NetBoxTestEnv, fn: (lab: Lab) => Promise<void>): Promise<void> {
  const name = uniqueName("nbtk-aslib");
  const made: [string, number][] = [];
  const make = async (path: string, body: Record<string, unknown>) => {
    const obj = await fetchOk(env, "POST", `/api/${path}/`, body);
    made.push([path, obj.id]);
    return obj;
  };
  try {
    const vrf = await make("ipam/vrfs", { name, enforce_unique: true });
    const prefix = await make("ipam/prefixes", {
      prefix: `10.${octet()}.${octet()}.0/28`,
      vrf: vrf.id,
      status: "active",
    });
    const type = await make("virtualization/cluster-types", { name, slug: name });
    const cluster = await make("virtualization/clusters", { name, type: type.id });
    const vms = [];
    for (const n of [1, 2]) {
      const vm = await make("virtualization/virtual-machines", {
        name: `${name}-vm${n}`,
        cluster: cluster.id,
      });
      const eth0 = await fetchOk(env, "POST", "/api/virtualization/interfaces/", {
        virtual_machine: vm.id,
        name: "eth0",
      });
      vms.push({ id: vm.id, name: vm.name, eth0: eth0.id });
    }
    await fn({ vrf, prefix, vms });
  } finally {
    const vrfId = made.find(([path]) => path === "ipam/vrfs")?.[1];
    if (vrfId !== undefined) {
      const ips = await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrfId}&limit=0`);
      await deleteIds(env, "ipam/ip-addresses", ips.results.map((r: { id: number }) => r.id));
    }
    for (const [path, id] of made.reverse()) await deleteIds(env, path, [id]);
  }
}

/** The addresses NetBox holds in a VRF, with where they are assigned. */
async function held(env: NetBoxTestEnv, vrfId: number) {
  const list = await fetchOk(
    env,
    "GET",
    `/api/ipam/ip-addresses/?vrf_id=${vrfId}&ordering=address&limit=1000`,
  );
  return list.results.map((ip: Record<string, unknown>) => ({
    id: ip.id,
    address: ip.address,
    dns_name: ip.dns_name,
    status: (ip.status as { value: string }).value,
    assigned_object_type: ip.assigned_object_type,
    assigned_object_id: ip.assigned_object_id,
  }));
}

/** A VM's primary IP ids as NetBox holds them. */
async function primaries(env: NetBoxTestEnv, vmId: number) {
  const vm = await fetchOk(env, "GET", `/api/virtualization/virtual-machines/${vmId}/`);
  return { primary_ip4: vm.primary_ip4?.id ?? null, primary_ip6: vm.primary_ip6?.id ?? null };
}

const VMIF = "virtualization.vminterface";

netboxTest(
  "assignIp allocates from a prefix and sets primary_ip4 in one call; the same call again only reads",
  async (env) => {
    await withLab(env, async ({ vrf, prefix, vms: [vm] }) => {
      const { client, requests } = recordedClient(env);
      try {
        const request = {
          target: { virtualMachine: vm.name },
          interface: "eth0",
          fromPrefix: prefix.prefix,
          vrf: vrf.name,
          dnsName: "Web-01.Example.com",
        };
        const first = await assignIp(client, request);
        assert.deepEqual(first.actions, ["allocated-ip", "set-primary"]);
        const firstAddress = prefix.prefix.replace(/\.0\/28$/, ".1/28");
        const [ip] = await held(env, vrf.id);
        assert.deepEqual(await held(env, vrf.id), [{
          id: ip.id,
          address: firstAddress,
          dns_name: "web-01.example.com",
          status: "active",
          assigned_object_type: VMIF,
          assigned_object_id: vm.eth0,
        }]);
        assert.deepEqual(await primaries(env, vm.id), { primary_ip4: ip.id, primary_ip6: null });
        assert.equal(first.ip_id, ip.id, "the result names the address NetBox holds");
        assert.equal(first.address, firstAddress);
        assert.deepEqual(writes(requests), [
          `POST /api/ipam/prefixes/${prefix.id}/available-ips/`,
          `PATCH /api/virtualization/virtual-machines/${vm.id}/`,
        ]);

        const before = requests.length;
        const again = await assignIp(client, request);
        assert.deepEqual(again.actions, ["unchanged"]);
        assert.deepEqual(again.steps, []);
        assert.equal(again.ip_id, ip.id);
        assert.deepEqual(writes(requests.slice(before)), [], "a second call only reads");
        assert.equal((await held(env, vrf.id)).length, 1, "no second address was allocated");
        assert.deepEqual(await primaries(env, vm.id), { primary_ip4: ip.id, primary_ip6: null });
      } finally {
        client.close();
      }
    });
  },
);

netboxTest("assignIp with dryRun returns the plan and writes nothing", async (env) => {
  await withLab(env, async ({ vrf, prefix, vms: [vm] }) => {
    const { client, requests } = recordedClient(env);
    try {
      const address = prefix.prefix.replace(/\.0\/28$/, ".9/28");
      const seen: string[] = [];
      const plan = await assignIp(client, {
        target: { virtualMachine: vm.id },
        address,
        vrf: vrf.id,
        status: "reserved",
        dryRun: true,
      }, { onStep: (step) => seen.push(step.text) });
      assert.deepEqual(plan.actions, ["created-ip", "set-primary"]);
      assert.deepEqual(plan.steps.map((s) => s.text), [
        `create IP ${address} (VRF ${vrf.name}) on ${vm.name} eth0`,
        `set primary_ip4 of ${vm.name} to ${address}`,
      ]);
      assert.deepEqual(seen, plan.steps.map((s) => s.text), "every step is reported");
      assert.equal(plan.ip_id, null);
      assert.deepEqual(writes(requests), []);
      assert.deepEqual(await held(env, vrf.id), [], "NetBox holds no new address");
      assert.deepEqual(await primaries(env, vm.id), { primary_ip4: null, primary_ip6: null });
    } finally {
      client.close();
    }
  });
});

netboxTest(
  "assignIp refuses a bad address with InputError (exit code 2), sending nothing",
  async (env) => {
    await withLab(env, async ({ vrf, vms: [vm] }) => {
      const { client, requests } = recordedClient(env);
      try {
        for (const address of ["10.0.0.300/24", "10.0.0.5"]) {
          await assert.rejects(
            assignIp(client, { target: { virtualMachine: vm.name }, address, vrf: vrf.name }),
            (err) =>
              err instanceof InputError && err.exitCode === 2 && /Cannot assign/.test(err.message),
          );
        }
        assert.deepEqual(requests, [], "not even a read was sent");
        assert.deepEqual(await held(env, vrf.id), []);
        assert.deepEqual(await primaries(env, vm.id), { primary_ip4: null, primary_ip6: null });
      } finally {
        client.close();
      }
    });
  },
);

netboxTest(
  "assignIps: an address held by another VM fails its item alone; with move it moves",
  async (env) => {
    await withLab(env, async ({ vrf, prefix, vms: [vm1, vm2] }) => {
      const at = (host: number) => prefix.prefix.replace(/\.0\/28$/, `.${host}/28`);
      const taken = await fetchOk(env, "POST", "/api/ipam/ip-addresses/", {
        address: at(5),
        vrf: vrf.id,
        assigned_object_type: VMIF,
        assigned_object_id: vm2.eth0,
      });
      await fetchOk(env, "PATCH", `/api/virtualization/virtual-machines/${vm2.id}/`, {
        primary_ip4: taken.id,
      });
      const { client } = recordedClient(env);
      try {
        const outcomes = await assignIps(client, [
          { target: { virtualMachine: vm1.name }, address: at(5), vrf: vrf.name },
          { target: { virtualMachine: vm1.name }, address: at(6), vrf: vrf.name },
        ], { concurrency: 1 });
        const [refused, done] = outcomes;
        assert.ok(!refused.ok && refused.error instanceof LookupError, "the held address fails");
        assert.equal(refused.error.exitCode, 3);
        assert.match(refused.error.message, new RegExp(`assigned to virtual machine ${vm2.name}`));
        assert.ok(done.ok);
        assert.deepEqual(done.result.actions, ["created-ip", "set-primary"]);
        const held6 = (await held(env, vrf.id)).find((ip: { address: string }) =>
          ip.address === at(6)
        );
        assert.equal(held6?.assigned_object_id, vm1.eth0);
        assert.deepEqual(await primaries(env, vm1.id), {
          primary_ip4: held6.id,
          primary_ip6: null,
        });
        assert.deepEqual(await primaries(env, vm2.id), {
          primary_ip4: taken.id,
          primary_ip6: null,
        });

        const [moved] = await assignIps(client, [
          { target: { virtualMachine: vm1.name }, address: at(5), vrf: vrf.name, move: true },
        ]);
        assert.ok(moved.ok);
        assert.deepEqual(moved.result.actions, ["cleared-primary", "moved", "set-primary"]);
        const now = (await held(env, vrf.id)).find((ip: { id: number }) => ip.id === taken.id);
        assert.equal(now?.assigned_object_id, vm1.eth0);
        assert.deepEqual(await primaries(env, vm2.id), { primary_ip4: null, primary_ip6: null });
        assert.deepEqual(await primaries(env, vm1.id), {
          primary_ip4: taken.id,
          primary_ip6: null,
        });
      } finally {
        client.close();
      }
    });
  },
);

/**
 * A client whose requests to one VM first let "someone else" edit that VM, just before the
 * client's write-side request (the PATCH on NetBox 4.6+, the last_updated check before): `times`
 * such edits at most.
 */
function racingClient(env: NetBoxTestEnv, vmId: number, times: number) {
  const requests: string[] = [];
  let edits = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const vmPath = url.pathname === `/api/virtualization/virtual-machines/${vmId}/`;
    const writeSide = req.method === "PATCH" ||
      url.searchParams.get("fields") === "id,last_updated";
    if (vmPath && writeSide && edits < times) {
      edits++;
      await new Promise((r) => setTimeout(r, 5));
      await fetchOk(env, "PATCH", `/api/virtualization/virtual-machines/${vmId}/`, {
        description: `changed by someone else ${edits}`,
      });
    }
    const res = await globalThis.fetch(req);
    requests.push(`${req.method} ${url.pathname} ${res.status}`);
    return res;
  };
  return {
    client: createClient({ url: env.url, token: env.token, fetch, timeoutMs: 120_000 }),
    requests,
  };
}

netboxTest(
  "assignIp reads again and decides once more when the VM changed between its read and its write",
  (env) =>
    withLab(env, async (lab) => {
      const vm = lab.vms[0];
      const { client, requests } = racingClient(env, vm.id, 1);
      try {
        const base = lab.prefix.prefix.replace(/\.0\/28$/, "");
        const result = await assignIp(client, {
          target: { virtualMachine: vm.id },
          interface: "eth0",
          address: `${base}.5/28`,
          vrf: lab.vrf.name,
        });
        assert.ok(result.actions.includes("created-ip"), result.actions.join());
        assert.ok(result.actions.includes("set-primary"), result.actions.join());
        const after = await fetchOk(env, "GET", `/api/virtualization/virtual-machines/${vm.id}/`);
        assert.equal(after.primary_ip4?.id, result.ip_id);
        assert.equal(after.description, "changed by someone else 1");
        const ips = await held(env, lab.vrf.id);
        assert.equal(ips.length, 1, "the second attempt found the address of the first");
        // NetBox 4.6+ refused the stale PATCH itself; before 4.6 the client saw last_updated move.
        const refused = requests.filter((r) => /^PATCH \S+ 412$/.test(r)).length;
        assert.equal(refused, versionAtLeast(await serverVersion(env), 4, 6) ? 1 : 0);
      } finally {
        client.close();
      }
    }),
);

netboxTest(
  "assignIp stops with NetBoxChangedError (exit 3) when the VM changes again before the second write",
  (env) =>
    withLab(env, async (lab) => {
      const vm = lab.vms[0];
      const { client } = racingClient(env, vm.id, 2);
      try {
        const base = lab.prefix.prefix.replace(/\.0\/28$/, "");
        const err = await assignIp(client, {
          target: { virtualMachine: vm.id },
          interface: "eth0",
          address: `${base}.6/28`,
          vrf: lab.vrf.name,
        }).then(() => undefined, (e) => e);
        assert.ok(err instanceof NetBoxChangedError, String(err));
        assert.equal(err.exitCode, 3);
        assert.match(err.message, /changed by someone else since it was read/);
        assert.deepEqual(await primaries(env, vm.id), { primary_ip4: null, primary_ip6: null });
      } finally {
        client.close();
      }
    }),
);
