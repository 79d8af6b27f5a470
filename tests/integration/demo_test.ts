/**
 * `deno task demo` against a NetBox given by NETBOX_URL: refuses without `--yes` (sending
 * nothing), and with `--yes` loads the example inventory and runs the four tasks, twice without
 * creating anything twice.
 */

import assert from "node:assert/strict";
import { describe, netboxApi, netboxOk, runDeno } from "../_deno_tasks.ts";
import { netboxTest, testEnv } from "./_netbox.ts";
import { seedInventory } from "../netbox/seed.ts";

Deno.test("demo refuses to write to NETBOX_URL without --yes and sends nothing", async () => {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    const result = await runDeno(["task", "--quiet", "demo"], {
      env: { NETBOX_URL: url, NETBOX_TOKEN: "nbt_abcdefghijkl.0123456789" },
    });
    assert.equal(result.code, 2, describe(result));
    assert.match(result.stderr, /--yes/, describe(result));
    assert.match(result.stderr, new RegExp(url.replace(/\./g, "\\.")), describe(result));
    assert.deepEqual(seen, [], "the demo contacted NetBox without --yes");
  } finally {
    await server.shutdown();
  }
});

const DEMO_DNS = "demo-01.spaceships.work";
const FIXTURE_IPS = ["192.168.30.10/24", "192.168.30.11/24"];

netboxTest("demo --yes runs the main job against NETBOX_URL and can run again", async () => {
  const nb = testEnv();
  await seedInventory(nb.url, nb.token);
  const vmBefore = async () => {
    const vms = await netboxOk(nb, "GET", "/api/virtualization/virtual-machines/?name=docker-01");
    return vms.results[0] as { id: number; primary_ip4: { id: number } | null } | undefined;
  };
  const ipBefore = await netboxOk(nb, "GET", "/api/ipam/ip-addresses/?address=192.168.3.10/24");
  const before = await vmBefore();
  try {
    for (const round of [1, 2]) {
      const result = await runDeno(["task", "--quiet", "demo", "--yes"], {
        env: { NETBOX_URL: nb.url, NETBOX_TOKEN: nb.token },
        timeoutMs: 300_000,
      });
      const at = `round ${round}\n${describe(result)}`;
      assert.equal(result.code, 0, at);
      for (const task of ["find-free-ip", "assign-primary-ip", "bulk-import", "audit-ips"]) {
        assert.match(result.stdout, new RegExp(`\\$ deno task ${task} `), at);
      }
      assert.ok(result.stdout.includes(nb.url), at);
      assert.ok(!(result.stdout + result.stderr).includes(nb.token), `token leaked\n${at}`);
      const vm = await vmBefore();
      assert.ok(vm?.primary_ip4, at);
      const primary = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/${vm.primary_ip4.id}/`);
      assert.equal(primary.address, "192.168.3.10/24", at);
      const reserved = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?dns_name=${DEMO_DNS}`);
      assert.equal(reserved.count, 1, `the reservation is not idempotent\n${at}`);
      for (const address of FIXTURE_IPS) {
        const ips = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?address=${address}`);
        assert.equal(ips.count, 1, `${address} not imported exactly once\n${at}`);
      }
    }
  } finally {
    // Put the shared example inventory back the way it was and remove what the demo added.
    if (before && !before.primary_ip4) {
      await netboxApi(nb, "PATCH", `/api/virtualization/virtual-machines/${before.id}/`, {
        primary_ip4: null,
      });
    }
    const remove = async (query: string) => {
      const found = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?${query}`);
      for (const ip of found.results) {
        await netboxApi(nb, "DELETE", `/api/ipam/ip-addresses/${ip.id}/`);
      }
    };
    if (ipBefore.count === 0) await remove("address=192.168.3.10/24");
    await remove(`dns_name=${DEMO_DNS}`);
    for (const address of FIXTURE_IPS) await remove(`address=${address}`);
    const prefixes = await netboxOk(nb, "GET", "/api/ipam/prefixes/?prefix=192.168.30.0/24");
    for (const p of prefixes.results) await netboxApi(nb, "DELETE", `/api/ipam/prefixes/${p.id}/`);
    const tags = await netboxOk(nb, "GET", "/api/extras/tags/?slug=toolkit-demo");
    for (const t of tags.results) await netboxApi(nb, "DELETE", `/api/extras/tags/${t.id}/`);
  }
});
