/**
 * revert against the real NetBox: a small bulk-import undone from its audit log leaves NetBox as
 * before, and the revert of that revert brings the run's result back (ids aside); a prune undone
 * brings the deleted device, interface and address back with their references and tags;
 * assign-primary-ip undone restores the old primary; an object edited by someone else after the
 * run is refused (exit 3, nothing written) unless --force; bad input (an unknown request id, an
 * empty window, a malformed log, a log of another NetBox) is one line, exit 2.
 * NetBox is read back (raw API) after every run. Names carry a per-test suffix; everything
 * created is deleted.
 */

import assert from "node:assert/strict";
import { main as importMain } from "../../tasks/bulk-import.ts";
import { main as assignMain } from "../../tasks/assign-primary-ip.ts";
import { main as revertMain } from "../../tasks/revert.ts";
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

const revert = (args: string[]): Promise<WritesRun> => runTaskWrites(revertMain, args);
const at = (r: WritesRun) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

function inventory(s: string, net: number, keepAll: boolean): string {
  const both = <T>(keep: T, gone: T): T[] => keepAll ? [keep, gone] : [keep];
  return [
    "manufacturers:",
    `  - {name: ${s}-mf, slug: ${s}-mf}`,
    "device_roles:",
    `  - {name: ${s}-role, slug: ${s}-role}`,
    "device_types:",
    `  - {manufacturer: ${s}-mf, model: ${s}-type, slug: ${s}-type}`,
    "sites:",
    `  - {name: ${s}-site, slug: ${s}-site}`,
    "devices:",
    ...both(
      `  - {name: ${s}-keep, site: ${s}-site, role: ${s}-role, device_type: ${s}-type, primary_ip4: 10.${net}.1.1/24}`,
      `  - {name: ${s}-gone, site: ${s}-site, role: ${s}-role, device_type: ${s}-type, primary_ip4: 10.${net}.1.2/24}`,
    ),
    "interfaces:",
    ...both(
      `  - {device: ${s}-keep, name: eth0, type: virtual}`,
      `  - {device: ${s}-gone, name: eth0, type: virtual}`,
    ),
    "ip_addresses:",
    ...both(
      `  - {address: 10.${net}.1.1/24, interface: {device: ${s}-keep, name: eth0}}`,
      `  - {address: 10.${net}.1.2/24, interface: {device: ${s}-gone, name: eth0}}`,
    ),
  ].join("\n") + "\n";
}

/** What the test's objects look like in NetBox, ids aside (raw API). */
async function dump(env: NetBoxTestEnv, s: string, net: number): Promise<Record<string, string[]>> {
  const list = async (path: string, query: string) =>
    (await fetchOk(env, "GET", `/api/${path}/?${query}&limit=1000`)).results as Body[];
  const tags = (o: Body) => (o.tags ?? []).map((t: Body) => t.slug).sort().join("+");
  const devices = await list("dcim/devices", `name__isw=${s}`);
  const ids = devices.map((d) => `device_id=${d.id}`).join("&");
  return {
    tags: (await list("extras/tags", `slug__isw=${s}`)).map((t) => t.slug).sort(),
    manufacturers: (await list("dcim/manufacturers", `slug__isw=${s}`)).map((o) =>
      `${o.slug} ${tags(o)}`
    ),
    sites: (await list("dcim/sites", `slug__isw=${s}`)).map((o) => `${o.slug} ${tags(o)}`),
    devices: devices.map((d) =>
      `${d.name} ${d.site?.name} ${d.device_type?.model} ${d.primary_ip4?.address ?? "-"} ${
        tags(d)
      }`
    ).sort(),
    interfaces: ids
      ? (await list("dcim/interfaces", ids)).map((i) => `${i.device?.name} ${i.name} ${tags(i)}`)
        .sort()
      : [],
    addresses: (await list("ipam/ip-addresses", `parent=10.${net}.0.0/16`)).map((a) =>
      `${a.address} ${a.assigned_object?.device?.name ?? "-"} ${a.assigned_object?.name ?? "-"} ${
        tags(a)
      }`
    ).sort(),
  };
}

/** Deletes what a test left behind, dependants first; logs instead of throwing. */
async function cleanUp(env: NetBoxTestEnv, s: string, net: number) {
  const ids = async (path: string, query: string) =>
    ((await fetchJson(env, "GET", `/api/${path}/?${query}&limit=1000&fields=id`)).body?.results ??
      []).map((o: Body) => ({ id: o.id }));
  for (
    const [path, query] of [
      ["ipam/ip-addresses", `parent=10.${net}.0.0/16`],
      ["dcim/devices", `name__isw=${s}`],
      ["dcim/device-types", `slug__isw=${s}`],
      ["dcim/manufacturers", `slug__isw=${s}`],
      ["dcim/device-roles", `slug__isw=${s}`],
      ["dcim/sites", `slug__isw=${s}`],
      ["extras/tags", `slug__isw=${s}`],
    ]
  ) {
    const found = await ids(path, query);
    if (!found.length) continue;
    const r = await fetchJson(env, "DELETE", `/api/${path}/`, found);
    if (r.status !== 204) console.error(`cleanup ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

netboxTest(
  "revert: an import undone leaves NetBox as before and its revert brings it back; a prune undone brings back the deleted objects with references and tags; assign-primary-ip undone restores the old primary; an object edited since is refused (exit 3, nothing written) unless --force",
  async (env) => {
    const s = uniqueName("rvt");
    const net = 100 + Math.floor(Math.random() * 150);
    const scope = `${s}-scope`;
    await withTempDir(async (dir) => {
      try {
        const file = `${dir}/inventory.yaml`;
        await Deno.writeTextFile(file, inventory(s, net, true));
        const before = await dump(env, s, net);
        const run = await runTaskWrites(importMain, [
          file,
          "--scope-tag",
          scope,
          "--audit-log",
          `${dir}/run.log`,
        ]);
        assert.equal(run.code, 0, at(run));
        const imported = await dump(env, s, net);
        assert.deepEqual(imported.devices, [
          `${s}-gone ${s}-site ${s}-type 10.${net}.1.2/24 ${scope}`,
          `${s}-keep ${s}-site ${s}-type 10.${net}.1.1/24 ${scope}`,
        ]);

        const undo = await revert([
          "--from-audit-log",
          `${dir}/run.log`,
          "--audit-log",
          `${dir}/undo.log`,
        ]);
        assert.equal(undo.code, 0, at(undo));
        assert.deepEqual(await dump(env, s, net), before, at(undo));

        // The revert of the revert: the run's result again, new ids.
        const redo = await revert(["--from-audit-log", `${dir}/undo.log`]);
        assert.equal(redo.code, 0, at(redo));
        assert.deepEqual(await dump(env, s, net), imported, at(redo));

        // A prune: the "gone" device, its interface and address leave NetBox.
        await Deno.writeTextFile(file, inventory(s, net, false));
        const prune = await runTaskWrites(importMain, [
          file,
          "--scope-tag",
          scope,
          "--prune",
          "--audit-log",
          `${dir}/prune.log`,
        ]);
        assert.equal(prune.code, 0, at(prune));
        assert.equal((await dump(env, s, net)).devices.length, 1);
        const back = await revert(["--from-audit-log", `${dir}/prune.log`]);
        assert.equal(back.code, 0, at(back));
        assert.deepEqual(await dump(env, s, net), imported, at(back));

        // assign-primary-ip moves the primary of the kept device to a new address.
        const device = (await fetchOk(env, "GET", `/api/dcim/devices/?name=${s}-keep`)).results[0];
        const assign = await runTaskWrites(assignMain, [
          "--device",
          `${s}-keep`,
          "--interface",
          "eth0",
          "--address",
          `10.${net}.1.9/24`,
          "--audit-log",
          `${dir}/assign.log`,
        ]);
        assert.equal(assign.code, 0, at(assign));
        const moved = await fetchOk(env, "GET", `/api/dcim/devices/${device.id}/`);
        assert.equal(moved.primary_ip4?.address, `10.${net}.1.9/24`);

        // The dry run prints every write with its diff and sends none.
        const dry = await revert(["--from-audit-log", `${dir}/assign.log`, "--dry-run"]);
        assert.equal(dry.code, 0, at(dry));
        assert.deepEqual(dry.writes, []);
        assert.match(
          dry.stderr,
          new RegExp(
            `would PATCH dcim/devices/${device.id}/ \\(dcim\\.device ${s}-keep \\(id ${device.id}\\)\\): ` +
              `primary_ip4 ${moved.primary_ip4.id} → ${device.primary_ip4.id}\n` +
              `would DELETE ipam/ip-addresses/${moved.primary_ip4.id}/ `,
          ),
        );

        // Someone else edits the new address after the run: refused, nothing written.
        await fetchOk(env, "PATCH", `/api/ipam/ip-addresses/${moved.primary_ip4.id}/`, {
          description: "edited by hand",
        });
        const refused = await revert(["--from-audit-log", `${dir}/assign.log`]);
        assert.equal(refused.code, 3, at(refused));
        assert.deepEqual(refused.writes, [], at(refused));
        assert.match(
          refused.stderr,
          /refused: ipam\.ipaddress 10\.\d+\.1\.9\/24 \(id \d+\): changed since: description \(none\) → "edited by hand"/,
        );
        assert.equal(
          (await fetchOk(env, "GET", `/api/dcim/devices/${device.id}/`)).primary_ip4?.address,
          `10.${net}.1.9/24`,
          "nothing was undone",
        );

        const forced = await revert(["--from-audit-log", `${dir}/assign.log`, "--force"]);
        assert.equal(forced.code, 0, at(forced));
        const restored = await fetchOk(env, "GET", `/api/dcim/devices/${device.id}/`);
        assert.equal(restored.primary_ip4?.address, `10.${net}.1.1/24`);
        const gone = await fetchJson(env, "GET", `/api/ipam/ip-addresses/${moved.primary_ip4.id}/`);
        assert.equal(gone.status, 404, "the address the run created is deleted");
      } finally {
        await cleanUp(env, s, net);
      }
    }, "nbtk-revert-");
  },
);

netboxTest(
  "revert: an unknown request id, an empty time window and a malformed log are one line each, exit 2",
  async () => {
    await withTempDir(async (dir) => {
      const unknown = await revert(["--request-id", crypto.randomUUID()]);
      assert.equal(unknown.code, 2, at(unknown));
      assert.match(
        unknown.stderr,
        /^error: Cannot revert: NetBox's change log has no change with request id [0-9a-f-]+\n$/,
      );
      const empty = await revert([
        "--since",
        "2001-01-01T00:00:00Z",
        "--until",
        "2001-01-02T00:00:00Z",
        "--user",
        "admin",
      ]);
      assert.equal(empty.code, 2, at(empty));
      assert.match(
        empty.stderr,
        /^error: Cannot revert: NetBox's change log has no change by admin between 2001/,
      );
      await Deno.writeTextFile(
        `${dir}/bad.log`,
        '{"method":"POST","status":201,"requestId":"x"}\nnot json\n',
      );
      const bad = await revert(["--from-audit-log", `${dir}/bad.log`]);
      assert.equal(bad.code, 2, at(bad));
      assert.equal(
        bad.stderr,
        `error: Cannot read audit log ${dir}/bad.log:2: not a JSON line (expected one write per line)\n`,
      );
      // A log of another NetBox: its request ids are in no change of this one.
      const other = [crypto.randomUUID(), crypto.randomUUID()];
      await Deno.writeTextFile(
        `${dir}/other.log`,
        other.map((id, n) =>
          JSON.stringify({
            time: new Date().toISOString(),
            method: "POST",
            path: "/api/dcim/sites/",
            status: 201,
            requestId: id,
            ids: [90000 + n],
          }) + "\n"
        ).join(""),
      );
      const foreign = await revert(["--from-audit-log", `${dir}/other.log`]);
      assert.equal(foreign.code, 2, at(foreign));
      assert.match(
        foreign.stderr,
        /^error: Cannot revert: NetBox's change log has no change with request id [0-9a-f-]+ \(nor 1 more\)\n$/,
      );
      for (const r of [unknown, empty, bad, foreign]) assert.deepEqual(r.writes, []);
    }, "nbtk-revert-");
  },
);
