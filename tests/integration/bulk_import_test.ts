/**
 * bulk-import against the real NetBox: the example inventory (YAML and CSV) imports, a second run
 * writes nothing, three changed fields give exactly three updates, and every bad input of the
 * corpus exits 2 at the right position with NetBox unchanged. Names carry a per-run suffix so
 * concurrent runs and the seed inventory do not collide; everything created is deleted.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client.ts";
import { MODELS } from "../../lib/import_models.ts";
import { main } from "../../tasks/bulk-import.ts";
import { netboxTest, testEnv } from "./_netbox.ts";
import { runTaskMain, writesOf } from "./_run_task.ts";

const FIXTURES = new URL("../fixtures/import/", import.meta.url).pathname;
const WORDS = [
  "Matrix Cluster",
  "Proxmox VE",
  "proxmox-node",
  "proxmox-ve",
  "ceph-node",
  "proxmox",
  "production",
  "matrix",
  "Supermicro",
  "supermicro",
  "sys-1019",
  "SYS-1019",
  "Hypervisor",
  "hypervisor",
  "foxtrot",
  "golf",
  "hotel",
  "dns01",
  "monitoring01",
  "management",
];

/** Appends `-<suffix>` to every name of the example inventory. */
function uniquify(text: string, suffix: string): string {
  const re = new RegExp(`\\b(${WORDS.join("|")})\\b`, "g");
  return text.replace(re, `$1-${suffix}`);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  writes: string[];
}

async function run(args: string[]): Promise<Run> {
  const r = await runTaskMain(main, args);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, writes: writesOf(r.requests) };
}

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

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bulk-import-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
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

        const env = testEnv();
        const client = createClient({ url: env.url, token: env.token, log: () => {} });
        try {
          const dev = await client.dcim.devices.find({ name: `foxtrot-${s}` });
          assert.equal((dev?.primary_ip4 as { address: string }).address, "192.168.3.5/24");
          const vm = await client.virtualization.virtualMachines.find({ name: `dns01-${s}` });
          assert.equal((vm?.primary_ip4 as { address: string }).address, "192.168.3.50/24");
          // The `vrf` filter takes an RD; the VRF is found by name first.
          const vrf = await client.ipam.vrfs.find({ name: `management-${s}` });
          assert.ok(vrf, "the VRF was imported");
          const ip = await client.ipam.ipAddresses.find({
            address: "192.168.3.5/24",
            vrf_id: vrf.id,
          });
          assert.equal(ip?.assigned_object_type, "dcim.interface");
          assert.equal(ip?.dns_name, `foxtrot-${s}.matrix-${s}.example.com`);
          const prefix = await client.ipam.prefixes.find({
            prefix: "192.168.3.0/24",
            vrf_id: vrf.id,
          });
          assert.equal(prefix?.scope_type, "dcim.site");
        } finally {
          client.close();
        }

        const second = await run([file, "--format", "json"]);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(JSON.parse(second.stdout).summary.unchanged, 32, second.stdout);
        assert.deepEqual(second.writes, [], "a second run makes no write");

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
        const third = await run([file]);
        assert.equal(third.code, 0);
        assert.deepEqual(third.writes, []);
      } finally {
        await cleanUp(reports);
      }
    });
  },
);

netboxTest("bulk-import: the CSV files import to the same result as the YAML", async () => {
  const s = crypto.randomUUID().slice(0, 6);
  const reports: Run[] = [];
  await withTempDir(async (dir) => {
    try {
      const files: string[] = [];
      for (
        const e of [...Deno.readDirSync(`${FIXTURES}csv`)].sort((a, b) => a.name < b.name ? -1 : 1)
      ) {
        const text = uniquify(await Deno.readTextFile(`${FIXTURES}csv/${e.name}`), s);
        await Deno.writeTextFile(`${dir}/${e.name}`, text);
        files.push(`${dir}/${e.name}`);
      }
      const csv = await run([...files, "--format", "json"]);
      reports.push(csv);
      assert.equal(csv.code, 0, csv.stderr + csv.stdout);
      assert.equal(JSON.parse(csv.stdout).summary.create, 32);
      const yaml = `${dir}/inventory.yaml`;
      await Deno.writeTextFile(
        yaml,
        uniquify(await Deno.readTextFile(`${FIXTURES}inventory.yaml`), s),
      );
      const same = await run([yaml, "--format", "json"]);
      assert.equal(same.code, 0, same.stderr);
      assert.equal(JSON.parse(same.stdout).summary.unchanged, 32, same.stdout);
      assert.deepEqual(same.writes, []);
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
