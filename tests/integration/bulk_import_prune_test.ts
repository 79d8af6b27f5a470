/**
 * Deletes in bulk-import against the real NetBox: `_state: absent` deletes and is idempotent;
 * `--prune --scope-tag` deletes exactly the scoped objects that left the files, across models, in
 * reverse dependency order, and nothing untagged or tagged by another scope; `--dry-run` lists
 * every deletion and deletes nothing; a blocked delete names its blocker while the rest goes; bad
 * input writes nothing; a re-run writes nothing. NetBox is read back (raw API) after every run.
 * Names carry a per-test suffix; everything created is deleted.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { applyImport, planImport } from "../../lib/import/import.ts";
import { hasSince, MODELS } from "../../lib/import/models.ts";
import { main } from "../../tasks/bulk-import.ts";
import {
  type Body,
  fetchJson,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  uniqueName,
} from "./_netbox.ts";
import { withTempDir } from "./_inventory.ts";
import { runTaskWrites, type WritesRun } from "./_run_task.ts";

type Run = WritesRun;
const run = (args: string[]): Promise<Run> => runTaskWrites(main, args);

const json = (r: Run): Body => {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
};

/** The ids of the objects of a list path matching a query (raw API). */
async function ids(env: NetBoxTestEnv, path: string, query: string): Promise<number[]> {
  const page = await fetchOk(env, "GET", `/api/${path}/?${query}&limit=1000&fields=id`);
  return page.results.map((o: Body) => o.id).sort((a: number, b: number) => a - b);
}

/** Whether the object exists (raw API). */
async function exists(env: NetBoxTestEnv, path: string, id: number): Promise<boolean> {
  const r = await fetchJson(env, "GET", `/api/${path}/${id}/`);
  if (r.status !== 200 && r.status !== 404) throw new Error(`GET ${path}/${id}: ${r.status}`);
  return r.status === 200;
}

/**
 * Deletes every object carrying one of the tags or created through the API in a test, in
 * reverse dependency order, then the tags; logs instead of throwing.
 */
async function cleanUp(env: NetBoxTestEnv, tags: string[], extra: [string, number][] = []) {
  const client = createClient({ url: env.url, token: env.token, log: () => {} });
  try {
    for (const [path, id] of extra) await client.endpoint(path).delete(id).catch(() => {});
    // NetBox refuses to filter by a tag it does not have: only the tags that exist.
    const t = await client.extras.tags.all({ slug: tags }, { fields: ["id", "slug"] });
    const status = await client.status();
    const models = [...MODELS].reverse().filter((m) =>
      m.key !== "extras.tags" && hasSince(m.since, status)
    );
    const found = t.length
      ? await Promise.allSettled(
        models.map((m) =>
          client.endpoint(m.path).all({ tag: t.map((x) => String(x.slug)) }, { fields: ["id"] })
        ),
      )
      : [];
    for (const [n, m] of models.entries()) {
      const f = found[n];
      if (f?.status === "rejected") console.error(`cleanup ${m.key}: ${f.reason}`);
      if (f?.status !== "fulfilled" || !f.value.length) continue;
      const r = await client.endpoint(m.path).delete(f.value.map((o) => o.id));
      for (const x of r.failed) console.error(`cleanup ${m.key}: ${x.error.message}`);
    }
    if (t.length) await client.extras.tags.delete(t.map((x) => x.id));
  } catch (err) {
    console.error(`cleanup failed: ${(err as Error).message.slice(0, 300)}`);
  } finally {
    client.close();
  }
}

netboxTest(
  "bulk-import: _state: absent deletes the object, and a re-run writes nothing",
  async (env) => {
    const s = uniqueName("abs");
    await withTempDir(async (dir) => {
      const file = `${dir}/sites.yaml`;
      try {
        await Deno.writeTextFile(
          file,
          `tags:\n  - {name: ${s}, slug: ${s}}\n` +
            `sites:\n  - {name: ${s}-a, slug: ${s}-a, tags: [${s}]}\n` +
            `  - {name: ${s}-b, slug: ${s}-b, tags: [${s}]}\n`,
        );
        const first = await run([file, "--format", "json"]);
        assert.equal(first.code, 0, first.stderr);
        const [a] = await ids(env, "dcim/sites", `slug=${s}-a`);
        const [b] = await ids(env, "dcim/sites", `slug=${s}-b`);
        assert.ok(a && b, "both sites exist");

        // b is absent now; its other fields (a status NetBox does not know) only identify it.
        await Deno.writeTextFile(
          file,
          `tags:\n  - {name: ${s}, slug: ${s}}\n` +
            `sites:\n  - {name: ${s}-a, slug: ${s}-a, tags: [${s}]}\n` +
            `  - {slug: ${s}-b, status: no-such-status, _state: absent}\n`,
        );
        const dry = await run([file, "--dry-run", "--format", "json"]);
        assert.equal(dry.code, 0, dry.stderr);
        assert.deepEqual(dry.writes, []);
        const planned = json(dry).items.filter((i: Body) => i.action === "delete");
        assert.deepEqual(planned.map((i: Body) => [i.model, i.id, i.key, i.reason]), [
          ["dcim.sites", b, `slug=${s}-b`, "_state: absent"],
        ]);
        assert.equal(planned[0].location, `${file}:5:5`);
        assert.ok(await exists(env, "dcim/sites", b), "the dry run deleted nothing");

        const second = await run([file, "--format", "json"]);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(json(second).summary.delete, 1);
        // One object: through its detail URL (whose 409 would name the blockers).
        assert.deepEqual(second.writes, [`DELETE /api/dcim/sites/${b}/`]);
        assert.ok(!(await exists(env, "dcim/sites", b)), "b is gone");
        assert.ok(await exists(env, "dcim/sites", a), "a is still there");

        const third = await run([file, "--format", "json"]);
        assert.equal(third.code, 0, third.stderr);
        assert.deepEqual(third.writes, [], "absent and gone: nothing to do");
        assert.equal(json(third).summary.delete, 0);
        assert.equal(json(third).summary.unchanged, 3);
        assert.ok(await exists(env, "dcim/sites", a));
      } finally {
        await cleanUp(env, [s]);
      }
    });
  },
);

/** The managed inventory: two of everything, `gone` ones are dropped from the files later. */
function inventory(s: string, net: number, keepAll: boolean): string {
  const both = <T>(keep: T, gone: T): T[] => keepAll ? [keep, gone] : [keep];
  const lines = [
    "manufacturers:",
    `  - {name: ${s}-mf, slug: ${s}-mf}`,
    "device_roles:",
    `  - {name: ${s}-role, slug: ${s}-role}`,
    "device_types:",
    `  - {manufacturer: ${s}-mf, model: ${s}-type, slug: ${s}-type}`,
    "sites:",
    ...both(`  - {name: ${s}-keep, slug: ${s}-keep}`, `  - {name: ${s}-gone, slug: ${s}-gone}`),
    "vrfs:",
    `  - {name: ${s}-vrf}`,
    "vlans:",
    ...both(
      `  - {vid: 101, name: ${s}-v101, site: ${s}-keep}`,
      `  - {vid: 102, name: ${s}-v102, site: ${s}-keep}`,
    ),
    "devices:",
    ...both(
      `  - {name: ${s}-dev-keep, site: ${s}-keep, role: ${s}-role, device_type: ${s}-type}`,
      `  - {name: ${s}-dev-gone, site: ${s}-keep, role: ${s}-role, device_type: ${s}-type}`,
    ),
    "interfaces:",
    ...both(
      `  - {device: ${s}-dev-keep, name: eth0, type: virtual}`,
      `  - {device: ${s}-dev-gone, name: eth0, type: virtual}`,
    ),
    "prefixes:",
    ...both(
      `  - {prefix: 10.${net}.1.0/24, vrf: ${s}-vrf}`,
      `  - {prefix: 10.${net}.2.0/24, vrf: ${s}-vrf}`,
    ),
    "ip_addresses:",
    ...both(
      `  - {address: 10.${net}.1.1/24, vrf: ${s}-vrf, interface: {device: ${s}-dev-keep, name: eth0}}`,
      `  - {address: 10.${net}.1.2/24, vrf: ${s}-vrf, interface: {device: ${s}-dev-gone, name: eth0}}`,
    ),
  ];
  return lines.join("\n") + "\n";
}

netboxTest(
  "bulk-import --prune --scope-tag deletes exactly the scoped objects that left the files",
  async (env) => {
    const s = uniqueName("prn");
    const scope = `${s}-scope`, other = `${s}-other`;
    const net = 100 + Math.floor(Math.random() * 150);
    const extra: [string, number][] = [];
    await withTempDir(async (dir) => {
      const file = `${dir}/inventory.yaml`;
      const audit = `${dir}/audit.jsonl`;
      try {
        await Deno.writeTextFile(file, inventory(s, net, true));
        const first = await run([file, "--scope-tag", scope, "--format", "json"]);
        assert.equal(first.code, 0, first.stderr + first.stdout);
        assert.equal(json(first).summary.create, 17, first.stdout); // 16 objects + the scope tag
        // Every managed object carries the scope tag (read back).
        const managed: Record<string, number[]> = {
          "dcim/sites": await ids(env, "dcim/sites", `tag=${scope}`),
          "dcim/devices": await ids(env, "dcim/devices", `tag=${scope}`),
          "dcim/interfaces": await ids(env, "dcim/interfaces", `tag=${scope}`),
          "ipam/ip-addresses": await ids(env, "ipam/ip-addresses", `tag=${scope}`),
          "ipam/prefixes": await ids(env, "ipam/prefixes", `tag=${scope}`),
          "ipam/vlans": await ids(env, "ipam/vlans", `tag=${scope}`),
        };
        for (const [path, list] of Object.entries(managed)) {
          assert.equal(list.length, 2, `${path} tagged ${scope}: ${list}`);
        }
        // The same files again: still nothing to do, scope tag included.
        const again = await run([file, "--scope-tag", scope, "--prune", "--format", "json"]);
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(again.writes, []);

        // Not ours: an untagged site and prefix of the same shape, and a site and a prefix
        // carrying another scope tag.
        const otherTag = await fetchOk(env, "POST", "/api/extras/tags/", {
          name: other,
          slug: other,
        });
        extra.push(["extras/tags/", otherTag.id]);
        const [vrf] = await ids(env, "ipam/vrfs", `name=${s}-vrf`);
        const untaggedSite = await fetchOk(env, "POST", "/api/dcim/sites/", {
          name: `${s}-untagged`,
          slug: `${s}-untagged`,
        });
        const otherSite = await fetchOk(env, "POST", "/api/dcim/sites/", {
          name: `${s}-other`,
          slug: `${s}-other`,
          tags: [otherTag.id],
        });
        const untaggedPrefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
          prefix: `10.${net}.3.0/24`,
          vrf,
        });
        const otherPrefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
          prefix: `10.${net}.4.0/24`,
          vrf,
          tags: [otherTag.id],
        });
        extra.unshift(
          ["ipam/prefixes/", untaggedPrefix.id],
          ["ipam/prefixes/", otherPrefix.id],
          ["dcim/sites/", untaggedSite.id],
          ["dcim/sites/", otherSite.id],
        );

        // The files without the "gone" objects: a device with its interface and address, a
        // site, a VLAN and a prefix left them.
        await Deno.writeTextFile(file, inventory(s, net, false));
        const gone = async (): Promise<Record<string, number[]>> => ({
          "ipam/ip-addresses": await ids(env, "ipam/ip-addresses", `address=10.${net}.1.2/24`),
          "ipam/prefixes": await ids(env, "ipam/prefixes", `prefix=10.${net}.2.0/24&vrf_id=${vrf}`),
          "dcim/interfaces": await ids(env, "dcim/interfaces", `device=${s}-dev-gone`),
          "dcim/devices": await ids(env, "dcim/devices", `name=${s}-dev-gone`),
          "ipam/vlans": await ids(env, "ipam/vlans", `name=${s}-v102`),
          "dcim/sites": await ids(env, "dcim/sites", `slug=${s}-gone`),
        });
        const goneIds = await gone();
        for (const [path, list] of Object.entries(goneIds)) assert.equal(list.length, 1, path);
        const everything = async () =>
          Object.fromEntries(
            await Promise.all(
              Object.keys(managed).map(async (p) =>
                [p, await ids(env, p, `tag=${scope}`)] as const
              ),
            ),
          );
        const before = await everything();

        // Dry run, every format: the six deletions with model, key, id and why; nothing deleted.
        const args = [file, "--scope-tag", scope, "--prune", "--dry-run"];
        const dry = await run([...args, "--format", "json"]);
        assert.equal(dry.code, 0, dry.stderr);
        assert.deepEqual(dry.writes, []);
        const doc = json(dry);
        assert.equal(doc.summary.delete, 6);
        const deletions = doc.items.filter((i: Body) => i.action === "delete");
        assert.deepEqual(
          deletions.map((i: Body) => [i.model, i.id, i.reason]),
          [
            ["ipam.ip-addresses", goneIds["ipam/ip-addresses"][0], "pruned: not in files"],
            ["ipam.prefixes", goneIds["ipam/prefixes"][0], "pruned: not in files"],
            ["dcim.interfaces", goneIds["dcim/interfaces"][0], "pruned: not in files"],
            ["dcim.devices", goneIds["dcim/devices"][0], "pruned: not in files"],
            ["ipam.vlans", goneIds["ipam/vlans"][0], "pruned: not in files"],
            ["dcim.sites", goneIds["dcim/sites"][0], "pruned: not in files"],
          ],
          "deleted in reverse dependency order, listed first",
        );
        assert.deepEqual(doc.items.slice(0, 6), deletions);
        assert.equal(
          deletions.find((i: Body) => i.model === "dcim.interfaces").key,
          `name=eth0, device=${s}-dev-gone`,
        );
        const text = await run(args);
        assert.match(text.stdout, /^MODEL\s+CREATE\s+UPDATE\s+DELETE\s+UNCHANGED\s+INVALID$/m);
        assert.match(text.stdout, /^total\s+0\s+0\s+6\s+10\s+0$/m);
        assert.match(
          text.stdout,
          new RegExp(
            `^- delete dcim\\.sites ${s}-gone {2}\\(slug=${s}-gone id ${
              goneIds["dcim/sites"][0]
            }; pruned: not in files\\)$`,
            "m",
          ),
        );
        assert.equal(text.stdout.match(/^- delete /gm)?.length, 6, text.stdout);
        const yaml = await run([...args, "--format", "yaml"]);
        assert.equal(yaml.stdout.match(/reason: 'pruned: not in files'/g)?.length, 6, yaml.stdout);
        const csv = await run([...args, "--format", "csv"]);
        const rows = csv.stdout.trim().split("\n");
        assert.equal(rows[0], "model,name,action,id,key,reason,location,changes,message");
        assert.equal(rows.filter((r) => r.includes(",delete,")).length, 6, csv.stdout);
        assert.deepEqual(await everything(), before, "the dry runs deleted nothing");

        // The real thing, with an audit log.
        const pruned = await run([...args.slice(0, -1), "--format", "json", "--audit-log", audit]);
        assert.equal(pruned.code, 0, pruned.stderr + pruned.stdout);
        assert.equal(json(pruned).summary.delete, 6);
        assert.deepEqual(
          // One object per model here: each through its detail URL.
          pruned.writes.filter((w) => w.startsWith("DELETE")).map((w) => w.replace(/\d+\/$/, "")),
          [
            "DELETE /api/ipam/ip-addresses/",
            "DELETE /api/ipam/prefixes/",
            "DELETE /api/dcim/interfaces/",
            "DELETE /api/dcim/devices/",
            "DELETE /api/ipam/vlans/",
            "DELETE /api/dcim/sites/",
          ],
          "one DELETE per model, in reverse dependency order",
        );
        assert.deepEqual(pruned.writes.filter((w) => !w.startsWith("DELETE")), []);
        // Read back: exactly the six are gone.
        for (const [path, [id]] of Object.entries(goneIds)) {
          assert.ok(!(await exists(env, path, id)), `${path} ${id} is gone`);
        }
        const after = await everything();
        for (const [path, list] of Object.entries(before)) {
          const want = list.filter((id) => !goneIds[path].includes(id));
          assert.deepEqual(after[path], want, path);
        }
        for (const [path, id] of extra.slice(0, 4)) {
          assert.ok(await exists(env, path.replace(/\/$/, ""), id), `${path}${id} not ours: kept`);
        }
        // Each delete is in the audit log.
        const lines = (await Deno.readTextFile(audit)).trim().split("\n").map((l) => JSON.parse(l));
        const deleted = lines.filter((l) => l.method === "DELETE").flatMap((l) => l.ids);
        for (const [path, [id]] of Object.entries(goneIds)) {
          assert.ok(deleted.includes(id), `${path} ${id} not in the audit log`);
        }

        // And again: nothing left to do.
        const rerun = await run([...args.slice(0, -1), "--format", "json"]);
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.deepEqual(rerun.writes, []);
        assert.equal(json(rerun).summary.delete, 0);
        assert.deepEqual(await everything(), after);
      } finally {
        await cleanUp(env, [scope, other], extra);
      }
    });
  },
);

netboxTest(
  "bulk-import --prune: a blocked delete names its blocker, the rest still goes (exit 3)",
  async (env) => {
    const s = uniqueName("blk");
    const scope = `${s}-scope`;
    const extra: [string, number][] = [];
    await withTempDir(async (dir) => {
      const file = `${dir}/inventory.yaml`;
      const base = `manufacturers:\n  - {name: ${s}-mf, slug: ${s}-mf}\n` +
        `device_roles:\n  - {name: ${s}-role, slug: ${s}-role}\n` +
        `device_types:\n  - {manufacturer: ${s}-mf, model: ${s}-type, slug: ${s}-type}\n`;
      try {
        await Deno.writeTextFile(
          file,
          base + `sites:\n  - {name: ${s}-held, slug: ${s}-held}\n` +
            `  - {name: ${s}-free, slug: ${s}-free}\n`,
        );
        const first = await run([file, "--scope-tag", scope, "--format", "json"]);
        assert.equal(first.code, 0, first.stderr);
        const [held] = await ids(env, "dcim/sites", `slug=${s}-held`);
        const [free] = await ids(env, "dcim/sites", `slug=${s}-free`);
        const [role] = await ids(env, "dcim/device-roles", `slug=${s}-role`);
        const [type] = await ids(env, "dcim/device-types", `slug=${s}-type`);
        // Someone puts an (untagged, so not ours) device into the held site.
        const device = await fetchOk(env, "POST", "/api/dcim/devices/", {
          name: `${s}-someones`,
          site: held,
          role,
          device_type: type,
        });
        extra.push(["dcim/devices/", device.id]);

        await Deno.writeTextFile(file, base); // both sites left the files
        const r = await run([file, "--scope-tag", scope, "--prune", "--format", "json"]);
        assert.equal(r.code, 3, r.stderr + r.stdout);
        const doc = json(r);
        assert.equal(doc.summary.delete, 1);
        assert.equal(doc.summary.blocked, 1);
        const blocked = doc.items.find((i: Body) => i.action === "blocked");
        assert.equal(blocked.id, held);
        assert.deepEqual(blocked.blockers, [{
          name: `${s}-someones`,
          id: device.id,
          model: "dcim.devices",
        }]);
        assert.match(blocked.message, new RegExp(`blocked by dcim\\.devices ${s}-someones`));
        assert.match(r.stderr, new RegExp(`dcim\\.sites ${s}-held: blocked by dcim\\.devices`));
        assert.match(r.stderr, /Cannot delete 1 object: NetBox refused/);
        // Read back: the free site is gone, the held one and the device are there.
        assert.ok(!(await exists(env, "dcim/sites", free)));
        assert.ok(await exists(env, "dcim/sites", held));
        assert.ok(await exists(env, "dcim/devices", device.id));
      } finally {
        await cleanUp(env, [scope], extra);
      }
    });
  },
);

netboxTest(
  "bulk-import --prune never deletes the addresses of a pruned device that are not its own",
  async (env) => {
    // NetBox deletes an interface's IP addresses with it: an untagged address on a pruned
    // device's interface blocks the device.
    const s = uniqueName("cas");
    const scope = `${s}-scope`;
    const extra: [string, number][] = [];
    await withTempDir(async (dir) => {
      const file = `${dir}/inventory.yaml`;
      const base = `manufacturers:\n  - {name: ${s}-mf, slug: ${s}-mf}\n` +
        `device_roles:\n  - {name: ${s}-role, slug: ${s}-role}\n` +
        `device_types:\n  - {manufacturer: ${s}-mf, model: ${s}-type, slug: ${s}-type}\n` +
        `sites:\n  - {name: ${s}, slug: ${s}}\n`;
      try {
        await Deno.writeTextFile(
          file,
          base +
            `devices:\n  - {name: ${s}-dev, site: ${s}, role: ${s}-role, device_type: ${s}-type}\n` +
            `interfaces:\n  - {device: ${s}-dev, name: eth0, type: virtual}\n`,
        );
        const first = await run([file, "--scope-tag", scope, "--format", "json"]);
        assert.equal(first.code, 0, first.stderr);
        const [dev] = await ids(env, "dcim/devices", `name=${s}-dev`);
        const [iface] = await ids(env, "dcim/interfaces", `device_id=${dev}`);
        const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name: `${s}-vrf` });
        const ip = await fetchOk(env, "POST", "/api/ipam/ip-addresses/", {
          address: "10.77.0.1/24",
          vrf: vrf.id,
          assigned_object_type: "dcim.interface",
          assigned_object_id: iface,
        });
        extra.push(["ipam/ip-addresses/", ip.id], ["ipam/vrfs/", vrf.id]);

        await Deno.writeTextFile(file, base);
        // The dry run says so already.
        const dry = await run([
          file,
          "--scope-tag",
          scope,
          "--prune",
          "--dry-run",
          "--format",
          "json",
        ]);
        assert.equal(dry.code, 0, dry.stderr);
        const planned = json(dry).items.find((i: Body) => i.model === "dcim.devices");
        assert.equal(planned.action, "delete");
        assert.deepEqual(planned.blockers, [{
          model: "ipam.ip-addresses",
          name: "10.77.0.1/24",
          id: ip.id,
        }]);
        assert.match(
          planned.message,
          /^will be refused: NetBox would delete ipam\.ip-addresses 10\.77\.0\.1\/24/,
        );
        const r = await run([file, "--scope-tag", scope, "--prune", "--format", "json"]);
        assert.equal(r.code, 3, r.stderr + r.stdout);
        const doc = json(r);
        const byModel = Object.fromEntries(doc.items.map((i: Body) => [i.model, i]));
        assert.equal(byModel["dcim.interfaces"].action, "blocked");
        assert.deepEqual(byModel["dcim.interfaces"].blockers, [{
          model: "ipam.ip-addresses",
          name: "10.77.0.1/24",
          id: ip.id,
        }]);
        assert.equal(byModel["dcim.devices"].action, "blocked");
        assert.ok(await exists(env, "ipam/ip-addresses", ip.id), "the address is not ours: kept");
        assert.ok(await exists(env, "dcim/interfaces", iface));
        assert.ok(await exists(env, "dcim/devices", dev));
      } finally {
        await cleanUp(env, [scope], extra);
      }
    });
  },
);

netboxTest(
  "bulk-import: bad _state input and --prune without --scope-tag write nothing",
  async (env) => {
    const s = uniqueName("bad");
    await withTempDir(async (dir) => {
      const file = `${dir}/sites.yaml`;
      try {
        await fetchOk(env, "POST", "/api/dcim/sites/", { name: s, slug: s });
        const cases: [string, string[], RegExp][] = [
          [
            `sites:\n  - {name: x-${s}, slug: x-${s}}\n  - {slug: ${s}, _state: deleted}\n`,
            [],
            new RegExp(
              `${file}:3:\\d+: invalid _state "deleted" \\(expected "present" or "absent"\\)`,
            ),
          ],
          [
            `sites:\n  - {name: ${s}, slug: ${s}}\n  - {slug: ${s}, _state: absent}\n`,
            [],
            new RegExp(`${file}:3:5: dcim\\.sites slug=${s} is both present and absent`),
          ],
          [
            `sites:\n  - {name: x-${s}, slug: x-${s}}\n`,
            ["--prune"],
            /Cannot prune without --scope-tag/,
          ],
          [
            // With a scope tag, an absent entry may only delete an object carrying it.
            `sites:\n  - {name: x-${s}, slug: x-${s}}\n  - {slug: ${s}, _state: absent}\n`,
            ["--scope-tag", `${s}-scope`],
            new RegExp(`does not carry the scope tag "${s}-scope"`),
          ],
        ];
        for (const [text, flags, want] of cases) {
          await Deno.writeTextFile(file, text);
          const r = await run([file, ...flags]);
          assert.equal(r.code, 2, `${text}\n${r.stderr}`);
          assert.match(r.stderr, want);
          assert.deepEqual(r.writes, [], text);
        }
        assert.deepEqual(await ids(env, "dcim/sites", `slug=x-${s}`), []);
        assert.equal((await ids(env, "dcim/sites", `slug=${s}`)).length, 1);
        assert.deepEqual(await ids(env, "extras/tags", `slug=${s}-scope`), []);
      } finally {
        await cleanUp(env, [`${s}-scope`], []);
        const left = await ids(env, "dcim/sites", `slug=${s}`);
        for (const id of left) await fetchJson(env, "DELETE", `/api/dcim/sites/${id}/`);
      }
    });
  },
);

netboxTest(
  "applyImport: a scoped object whose tag was removed after the plan is skipped, not deleted",
  async (env) => {
    const s = uniqueName("skp");
    const scope = `${s}-scope`;
    const client = createClient({ url: env.url, token: env.token, log: () => {} });
    try {
      const doc = (sites: string[]) => ({
        text: `sites:\n${sites.map((x) => `  - {name: ${x}, slug: ${x}}\n`).join("")}`,
        file: "sites.yaml",
      });
      const made = await applyImport(
        client,
        await planImport(client, [doc([`${s}-a`, `${s}-b`, `${s}-c`])], { scopeTag: scope }),
      );
      assert.equal(made.summary.create, 4);
      const plan = await planImport(client, [doc([`${s}-a`])], { scopeTag: scope, prune: true });
      assert.deepEqual(
        plan.items.filter((i) => i.action === "delete").map((i) => i.label).sort(),
        [`${s}-b`, `${s}-c`],
      );
      // Meanwhile someone takes b out of the scope.
      const [b] = await ids(env, "dcim/sites", `slug=${s}-b`);
      await fetchOk(env, "PATCH", `/api/dcim/sites/${b}/`, { tags: [] });
      const report = await applyImport(client, plan);
      assert.equal(report.summary.delete, 1);
      assert.equal(report.summary.skipped, 1);
      const skipped = report.items.find((i) => i.action === "skipped")!;
      assert.equal(skipped.id, b);
      assert.match(String(skipped.message), /no longer carries the scope tag/);
      assert.ok(await exists(env, "dcim/sites", b), "b is kept");
      assert.deepEqual(await ids(env, "dcim/sites", `slug=${s}-c`), []);
      await fetchJson(env, "DELETE", `/api/dcim/sites/${b}/`);
    } finally {
      client.close();
      await cleanUp(env, [scope]);
    }
  },
);
