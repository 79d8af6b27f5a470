/**
 * `--branch` (NetBox Branching) against the real NetBox. Where the plugin is installed (the 4.7
 * test server): bulk-import and find-free-ip --reserve write into a branch, main stays untouched
 * (read back raw, without the branch header) while the branch holds every change, a re-run into
 * the branch changes nothing, a dry run creates no branch, and after a merge main holds it all.
 * Where it is not (older servers): `--branch` exits 2 naming the missing plugin, nothing written.
 */

import assert from "node:assert/strict";
import { main as bulkImport } from "../../tasks/bulk-import.ts";
import { main as findFreeIp } from "../../tasks/find-free-ip.ts";
import { createClient } from "../../lib/client/client.ts";
import { BRANCH_HEADER, mergeBranch } from "../../lib/client/branching.ts";
import {
  authHeader,
  type Body,
  deleteIds,
  fetchJson,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  uniqueName,
} from "./_netbox.ts";
import { runTaskMain, writesOf } from "./_run_task.ts";

function inventory(s: string): string {
  return `
sites:
  - { name: Branch Site ${s}, slug: br-site-${s} }
manufacturers:
  - { name: Branch Maker ${s}, slug: br-maker-${s} }
device_roles:
  - { name: Branch Role ${s}, slug: br-role-${s} }
device_types:
  - { manufacturer: br-maker-${s}, model: BR-1 ${s}, slug: br-1-${s} }
devices:
  - { name: br-dev-${s}, site: br-site-${s}, role: br-role-${s}, device_type: br-1-${s} }
interfaces:
  - { device: br-dev-${s}, name: eth0, type: 1000base-t }
vrfs:
  - { name: br-vrf-${s} }
prefixes:
  - { prefix: 10.77.0.0/24, vrf: br-vrf-${s}, status: active }
ip_addresses:
  - address: 10.77.0.10/24
    vrf: br-vrf-${s}
    interface: { device: br-dev-${s}, name: eth0 }
`;
}

/** A raw GET, on main or (with `schemaId`) in a branch. */
async function get(env: NetBoxTestEnv, path: string, schemaId?: string): Promise<Body> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    Authorization: authHeader(env.token),
  };
  if (schemaId) headers[BRANCH_HEADER] = schemaId;
  const res = await fetch(`${env.url}${path}`, { headers });
  const body = await res.json();
  assert.equal(res.status, 200, `GET ${path}: ${JSON.stringify(body)}`);
  return body;
}

/** How many objects of the inventory exist, per model, on main or in the branch. */
async function counts(env: NetBoxTestEnv, s: string, schemaId?: string) {
  const vrfs = await get(env, `/api/ipam/vrfs/?name=br-vrf-${s}`, schemaId);
  const vrf = vrfs.results[0]?.id;
  const devices = await get(env, `/api/dcim/devices/?name=br-dev-${s}`, schemaId);
  const device = devices.results[0]?.id;
  const n = async (path: string) => (await get(env, path, schemaId)).count as number;
  return {
    sites: await n(`/api/dcim/sites/?slug=br-site-${s}`),
    devices: devices.count as number,
    interfaces: device ? await n(`/api/dcim/interfaces/?device_id=${device}`) : 0,
    vrfs: vrfs.count as number,
    prefixes: vrf ? await n(`/api/ipam/prefixes/?vrf_id=${vrf}`) : 0,
    ips: vrf ? await n(`/api/ipam/ip-addresses/?vrf_id=${vrf}`) : 0,
  };
}

const NONE = { sites: 0, devices: 0, interfaces: 0, vrfs: 0, prefixes: 0, ips: 0 };

async function hasPlugin(env: NetBoxTestEnv): Promise<boolean> {
  const res = await fetchJson(env, "GET", "/api/plugins/branching/");
  return res.status === 200;
}

async function findBranchRaw(env: NetBoxTestEnv, name: string): Promise<Body | undefined> {
  const page = await fetchOk(
    env,
    "GET",
    `/api/plugins/branching/branches/?name=${encodeURIComponent(name)}`,
  );
  return page.results.find((b: Body) => b.name === name);
}

/** Deletes what the inventory made on main (after a merge) and the branch. */
async function cleanup(env: NetBoxTestEnv, s: string, branch: string): Promise<void> {
  const ids = async (path: string) =>
    ((await fetchOk(env, "GET", path)).results as Body[]).map((o) => o.id as number);
  const vrf = (await ids(`/api/ipam/vrfs/?name=br-vrf-${s}`))[0];
  if (vrf) {
    await deleteIds(env, "ipam/ip-addresses", await ids(`/api/ipam/ip-addresses/?vrf_id=${vrf}`));
    await deleteIds(env, "ipam/prefixes", await ids(`/api/ipam/prefixes/?vrf_id=${vrf}`));
    await deleteIds(env, "ipam/vrfs", [vrf]);
  }
  await deleteIds(env, "dcim/devices", await ids(`/api/dcim/devices/?name=br-dev-${s}`));
  await deleteIds(env, "dcim/device-types", await ids(`/api/dcim/device-types/?slug=br-1-${s}`));
  await deleteIds(env, "dcim/device-roles", await ids(`/api/dcim/device-roles/?slug=br-role-${s}`));
  await deleteIds(
    env,
    "dcim/manufacturers",
    await ids(`/api/dcim/manufacturers/?slug=br-maker-${s}`),
  );
  await deleteIds(env, "dcim/sites", await ids(`/api/dcim/sites/?slug=br-site-${s}`));
  const b = await findBranchRaw(env, branch).catch(() => undefined);
  if (b) await fetchJson(env, "DELETE", `/api/plugins/branching/branches/${b.id}/`);
}

netboxTest(
  "--branch: writes land in the branch, main is untouched until the merge",
  async (env) => {
    const s = uniqueName("b").slice(2);
    const branch = `nbtk-${s}`;
    const dir = await Deno.makeTempDir();
    const file = `${dir}/inventory.yaml`;
    await Deno.writeTextFile(file, inventory(s));

    if (!(await hasPlugin(env))) {
      // No plugin: a clear refusal before any write.
      const run = await runTaskMain(bulkImport, [file, "--branch", branch]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /has no NetBox Branching plugin/);
      assert.match(run.stderr, new RegExp(`branch "${branch}"`));
      assert.deepEqual(writesOf(run.requests), []);
      assert.deepEqual(await counts(env, s), NONE);
      await Deno.remove(dir, { recursive: true });
      return;
    }

    try {
      // A dry run into a branch that does not exist yet: plans against main, creates nothing.
      const dry = await runTaskMain(bulkImport, [file, "--branch", branch, "--dry-run"]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stderr, /does not exist yet: planned against main/);
      assert.deepEqual(writesOf(dry.requests), []);
      assert.equal(await findBranchRaw(env, branch), undefined);

      // The import: every write carries the branch; main has none of it.
      const run = await runTaskMain(bulkImport, [file, "--branch", branch, "--format", "json"]);
      assert.equal(run.code, 0, run.stderr);
      const doc = JSON.parse(run.stdout);
      const made = await findBranchRaw(env, branch);
      assert.ok(made, "the branch was created");
      assert.equal(made.status.value, "ready");
      const webUrl = `${env.url}/plugins/branching/branches/${made.id}/`;
      assert.equal(doc.netbox.branch.url, webUrl);
      assert.equal(doc.summary.branch_url, webUrl);
      assert.match(
        run.stderr,
        new RegExp(
          `branch ${branch}: changes written there; review and merge at ${
            webUrl.replaceAll(".", "\\.")
          }`,
        ),
      );
      const everything = { sites: 1, devices: 1, interfaces: 1, vrfs: 1, prefixes: 1, ips: 1 };
      assert.deepEqual(await counts(env, s), NONE, "main is untouched");
      assert.deepEqual(await counts(env, s, made.schema_id), everything, "the branch holds it all");

      // A re-run into the same branch plans against the branch: nothing to do.
      const again = await runTaskMain(bulkImport, [file, "--branch", branch, "--format", "json"]);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(
        writesOf(again.requests).filter((r) => !r.includes("/plugins/branching/")),
        [],
        "a re-run into the branch writes nothing",
      );

      // Another writing task into the same branch: the prefix exists only there.
      const reserve = await runTaskMain(findFreeIp, [
        "--prefix",
        "10.77.0.0/24",
        "--vrf",
        `br-vrf-${s}`,
        "--count",
        "2",
        "--reserve",
        "--branch",
        branch,
        "--format",
        "json",
      ]);
      assert.equal(reserve.code, 0, reserve.stderr);
      const reserved = JSON.parse(reserve.stdout).items.map((i: Body) => i.address);
      assert.equal(reserved.length, 2);
      assert.deepEqual(await counts(env, s), NONE, "main is still untouched");
      assert.equal((await counts(env, s, made.schema_id)).ips, 3);

      // Merged: main now holds every change.
      const client = createClient({ url: env.url, token: env.token });
      try {
        const merged = await mergeBranch(client, branch, { timeoutMs: 300_000 });
        assert.equal(merged.status, "merged");
      } finally {
        client.close();
      }
      assert.deepEqual(await counts(env, s), { ...everything, ips: 3 });
      const addresses = (await get(env, `/api/ipam/ip-addresses/?q=10.77.0.&limit=1000`)).results
        .filter((ip: Body) => ip.vrf?.name === `br-vrf-${s}`)
        .map((ip: Body) => ip.address).sort();
      assert.deepEqual(addresses, ["10.77.0.10/24", ...reserved].sort());

      // A merged branch takes no more changes: a clear refusal.
      const late = await runTaskMain(bulkImport, [file, "--branch", branch]);
      assert.equal(late.code, 2, late.stderr);
      assert.match(late.stderr, /it is merged, not ready; choose a new branch name/);
    } finally {
      await cleanup(env, s, branch);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

netboxTest("--branch: a bad branch name exits 2 before anything is sent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/inv.yaml`, inventory("bad-branch-name"));
    for (const name of [" ", "a\x1bb", "x".repeat(101)]) {
      const run = await runTaskMain(bulkImport, [`${dir}/inv.yaml`, "--branch", name]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /Cannot use branch ".*": expected a branch name of 1 to 100/);
      assert.deepEqual(run.requests, []);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
