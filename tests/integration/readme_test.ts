/**
 * The README's "Library" section runs: every ```ts script under it is type-checked (all in one
 * `deno check`) and run as a user would (`deno run` with network and environment access only) against the real NetBox with
 * the example inventory loaded, and its output is checked.
 */

import assert from "node:assert/strict";
import { describe, ROOT, runDeno, type RunResult } from "../_deno_tasks.ts";
import { deleteIds, fetchJson, netboxTest, type NetBoxTestEnv } from "./_netbox.ts";
import { seedInventory } from "../netbox/seed.ts";

/** The ```ts blocks of the README's "## Library" section, by the `###` heading above each. */
export function libraryScripts(readme: string): Map<string, string> {
  const start = readme.indexOf("\n## Library\n");
  assert.ok(start >= 0, "README has no ## Library section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const scripts = new Map<string, string>();
  let heading = "Library";
  for (const m of section.matchAll(/^### (.+)$|^```ts\n([\s\S]*?)^```$/gm)) {
    if (m[1]) heading = m[1].trim();
    else scripts.set(heading, m[2]);
  }
  return scripts;
}

const readme = await Deno.readTextFile(`${ROOT}/README.md`);
const scripts = libraryScripts(readme);

/**
 * Every script written to a folder of its own and type-checked together, once (one `deno check`
 * of all of them, as a user's `deno run --check` of each would: the same compiler over the same
 * files, without checking the library once per script); started by the first test that needs it.
 */
let prepared: Promise<{ dir: string; check: RunResult }> | undefined;
function prepareScripts(): Promise<{ dir: string; check: RunResult }> {
  prepared ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "nbtk-readme-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const files: string[] = [];
    for (const [i, source] of [...scripts.values()].entries()) {
      const file = `${dir}/script-${i}.ts`;
      await Deno.writeTextFile(file, source.replaceAll('"./mod.ts"', `"file://${ROOT}/mod.ts"`));
      files.push(file);
    }
    return { dir, check: await runDeno(["check", "--quiet", ...files]) };
  })();
  return prepared;
}

async function runScript(env: NetBoxTestEnv, heading: string): Promise<RunResult> {
  assert.ok(scripts.has(heading), `README: no script under "### ${heading}"`);
  const { dir, check } = await prepareScripts();
  assert.equal(check.code, 0, `README's Library scripts do not type-check:\n${describe(check)}`);
  return await runDeno([
    "run",
    "--no-prompt",
    "--allow-net=127.0.0.1",
    "--allow-env=NETBOX_URL,NETBOX_TOKEN,NETBOX_TOKEN_FILE",
    `${dir}/script-${[...scripts.keys()].indexOf(heading)}.ts`,
  ], { env: { NETBOX_URL: env.url, NETBOX_TOKEN: env.token } });
}

Deno.test("README: the Library section has a script for each library call", () => {
  assert.deepEqual([...scripts.keys()], [
    "Client",
    "Allocate",
    "Assign",
    "Import",
    "Export",
    "Inventory",
    "Audit",
  ]);
});

netboxTest("README Library: Inventory lists the example VM with its cluster group", async (env) => {
  await seedInventory(env.url, env.token);
  const run = await runScript(env, "Inventory");
  assert.equal(run.code, 0, describe(run));
  assert.match(run.stdout, /^docker-01 \S+ (\S+,)*cluster_\S+/m, describe(run));
  assert.match(run.stdout, /^inventory\.json: \d+ bytes$/m, describe(run));
});

netboxTest("README Library: Client lists the example inventory", async (env) => {
  await seedInventory(env.url, env.token);
  const run = await runScript(env, "Client");
  assert.equal(run.code, 0, describe(run));
  assert.match(run.stdout, /^192\.168\.3\.10\/24 docker-01-nexus\.spaceships\.work$/m);
  assert.match(run.stdout, /^docker-01 active$/m);
});

netboxTest(
  "README Library: Import plans, applies, and changes nothing the second time",
  async (env) => {
    await seedInventory(env.url, env.token);
    const cleanup = async () => {
      for (const [path, slug] of [["dcim/sites", "readme-lab"], ["extras/tags", "readme-lab"]]) {
        const found = await fetchJson(env, "GET", `/api/${path}/?slug=${slug}`);
        await deleteIds(env, path, found.body.results.map((o: { id: number }) => o.id));
      }
    };
    await cleanup();
    try {
      const first = await runScript(env, "Import");
      assert.equal(first.code, 0, describe(first));
      assert.match(first.stdout, /^create dcim\.sites readme-lab$/m);
      assert.match(first.stdout, /"create": 2/);
      const site = await fetchJson(env, "GET", "/api/dcim/sites/?slug=readme-lab");
      assert.equal(site.body.count, 1);
      assert.equal(site.body.results[0].status.value, "planned");
      assert.deepEqual(site.body.results[0].tags.map((t: { slug: string }) => t.slug), [
        "readme-lab",
      ]);
      const second = await runScript(env, "Import");
      assert.equal(second.code, 0, describe(second));
      assert.match(second.stdout, /^unchanged dcim\.sites readme-lab$/m);
      assert.doesNotMatch(second.stdout, /^(create|update) /m);
    } finally {
      await cleanup();
    }
  },
);

netboxTest("README Library: Export writes site matrix as import documents", async (env) => {
  await seedInventory(env.url, env.token);
  const run = await runScript(env, "Export");
  assert.equal(run.code, 0, describe(run));
  assert.match(run.stdout, /^tags \d+$/m);
  assert.match(run.stdout, /^sites 1$/m);
  assert.match(run.stdout, /^devices [1-9]\d*$/m);
  assert.match(run.stdout, /^ip_addresses [1-9]\d*$/m);
  assert.match(run.stdout, /^tags:$/m);
  // Planned against the NetBox it came from, the export changes nothing (other tests may touch
  // the shared seed meanwhile: the count is printed, the entries must all be there).
  const plan = /^(\d+) entries, (\d+) would change$/m.exec(run.stdout);
  assert.ok(plan && Number(plan[1]) > 10, describe(run));
});

netboxTest("README Library: Audit prints findings and exits by the threshold", async (env) => {
  await seedInventory(env.url, env.token);
  const run = await runScript(env, "Audit");
  const summary = /^(\d+) findings; needs attention: (true|false)$/m.exec(run.stdout);
  assert.ok(summary, describe(run));
  assert.equal(run.code, summary[2] === "true" ? 1 : 0, describe(run));
});

netboxTest(
  "README Library: Allocate lists free addresses and reserves one, idempotently",
  async (env) => {
    await seedInventory(env.url, env.token);
    const cleanup = async () => {
      const found = await fetchJson(
        env,
        "GET",
        "/api/ipam/ip-addresses/?dns_name=readme-worker.spaceships.work",
      );
      await deleteIds(
        env,
        "ipam/ip-addresses",
        found.body.results.map((o: { id: number }) => o.id),
      );
    };
    await cleanup();
    try {
      const first = await runScript(env, "Allocate");
      assert.equal(first.code, 0, describe(first));
      const free = /^free: (\S+) (\S+) (\S+)$/m.exec(first.stdout);
      assert.ok(free, describe(first));
      assert.ok(!free.slice(1).includes("192.168.3.10/24"), "a used address is listed as free");
      const reserved = /^reserved: (\S+) (\d+)$/m.exec(first.stdout);
      assert.ok(reserved, describe(first));
      const second = await runScript(env, "Allocate");
      assert.equal(second.code, 0, describe(second));
      assert.match(second.stdout, new RegExp(`^reserved: ${reserved[1]} ${reserved[2]}$`, "m"));
      const inNetBox = await fetchJson(
        env,
        "GET",
        "/api/ipam/ip-addresses/?dns_name=readme-worker.spaceships.work",
      );
      assert.equal(inNetBox.body.count, 1);
      assert.equal(inNetBox.body.results[0].status.value, "reserved");
    } finally {
      await cleanup();
    }
  },
);

netboxTest(
  "README Library: Assign is idempotent on the example inventory and its dry run writes nothing",
  async (env) => {
    await seedInventory(env.url, env.token);
    const count = async () =>
      (await fetchJson(env, "GET", "/api/ipam/ip-addresses/?parent=192.168.3.0/24&limit=1")).body
        .count;
    const before = await count();
    const run = await runScript(env, "Assign");
    assert.equal(run.code, 0, describe(run));
    assert.match(run.stdout, /^vm docker-01 eth0 192\.168\.3\.10\/24 unchanged$/m);
    assert.match(run.stdout, /^would: .*eth1/m);
    assert.match(run.stdout, /^would: .*192\.168\.3\.0\/24/m);
    const eth1 = await fetchJson(
      env,
      "GET",
      "/api/virtualization/interfaces/?virtual_machine=docker-01&name=eth1",
    );
    assert.equal(eth1.body.count, 0);
    assert.equal(await count(), before);
    const vm = await fetchJson(env, "GET", "/api/virtualization/virtual-machines/?name=docker-01");
    assert.equal(vm.body.results[0].primary_ip4.address, "192.168.3.10/24");
  },
);
