/**
 * audit-ips over time against the real NetBox: the state file across runs with planted changes
 * in between, the machine formats through their validators, `--fix --apply` on planted defects,
 * `--journal` idempotency, and the exhaustion forecast on a seeded change-log history.
 *
 * Each test builds its own uniquely named VRF (and, where needed, site, device type, role and
 * devices) and audits only that VRF (`--vrf`), so other tests' data on the shared server never
 * leaks into the assertions. Everything is deleted afterwards.
 */

import assert from "node:assert/strict";
import type { TaskIO } from "../../lib/cli/io.ts";
import { createClient } from "../../lib/client/client.ts";
import type { NetBoxClient, NetBoxObject } from "../../lib/client/types.ts";
import { main } from "../../tasks/audit-ips.ts";
import { main as revertMain } from "../../tasks/revert.ts";
import { runTaskWrites } from "./_run_task.ts";
import { checkJunit, checkPrometheus, sarifErrors } from "../audit/_validate.ts";
import { netboxTest, testEnv } from "./_netbox.ts";

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

const TIMEOUT_S = 120;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Every request that writes (not GET, HEAD or OPTIONS), as `METHOD /path`. */
  writes: string[];
}

async function audit(args: string[]): Promise<Run> {
  const nb = testEnv();
  const out = { stdout: "", stderr: "" };
  const writes: string[] = [];
  const vars: Record<string, string> = {
    NETBOX_URL: nb.url,
    NETBOX_TOKEN: nb.token,
    NETBOX_TIMEOUT: String(TIMEOUT_S),
  };
  const io: TaskIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env: (name) => vars[name],
    stderrIsTerminal: false,
    fetch: (input, init) => {
      const req = new Request(input, init);
      if (!["GET", "HEAD", "OPTIONS"].includes(req.method)) {
        writes.push(`${req.method} ${new URL(req.url).pathname}`);
      }
      return fetch(req);
    },
    readTextFile: (path) => Deno.readTextFile(path),
    now: () => new Date(),
  };
  const code = await main(args, io);
  return { code, ...out, writes };
}

/** `rule type:id` of every finding in a JSON report (or a list of items). */
const keys = (items: Row[]) => items.map((i) => `${i.rule} ${i.object_type}:${i.object_id}`).sort();

/** Objects a test created, deleted in reverse dependency order. */
class Fixture {
  readonly sfx = crypto.randomUUID().slice(0, 8);
  readonly name = `nbtk-time-${this.sfx}`;
  readonly created: { ep: string; id: number }[] = [];
  /** A /24 of our own in 100.64.0.0/10 (inside our VRF anyway). */
  readonly net: string;
  readonly c: NetBoxClient;
  vrf!: NetBoxObject;
  constructor() {
    const nb = testEnv();
    this.c = createClient({ url: nb.url, token: nb.token, timeoutMs: TIMEOUT_S * 1000 });
    this.net = `100.${64 + Math.floor(Math.random() * 64)}.${Math.floor(Math.random() * 250)}`;
  }

  async make(ep: string, bodies: Row[]): Promise<NetBoxObject[]> {
    const result = await this.c.endpoint(ep).create(bodies);
    for (const obj of result.succeeded) this.created.push({ ep, id: obj.id });
    if (result.failed.length) {
      throw new Error(`Cannot create ${ep}: ${JSON.stringify(result.failed[0].messages)}`);
    }
    return result.succeeded;
  }

  async init(): Promise<this> {
    [this.vrf] = await this.make("ipam/vrfs/", [{ name: this.name, enforce_unique: false }]);
    return this;
  }

  ip(address: string, extra: Row = {}): Row {
    return { address, vrf: this.vrf.id, status: "active", ...extra };
  }

  /** A device with one interface per entry of `ifaces`; returns the device and interface ids. */
  async device(n: number, ifaces: number): Promise<{ id: number; ifaces: number[] }> {
    if (!this.created.some((o) => o.ep === "dcim/sites/")) {
      const [site] = await this.make("dcim/sites/", [{ name: this.name, slug: this.name }]);
      const [mf] = await this.make("dcim/manufacturers/", [{ name: this.name, slug: this.name }]);
      const [dt] = await this.make("dcim/device-types/", [
        { manufacturer: mf.id, model: this.name, slug: this.name },
      ]);
      const [role] = await this.make("dcim/device-roles/", [{ name: this.name, slug: this.name }]);
      Object.assign(this, { site: site.id, dt: dt.id, role: role.id });
    }
    const self = this as unknown as { site: number; dt: number; role: number };
    const [dev] = await this.make("dcim/devices/", [{
      name: `${this.name}-d${n}`,
      site: self.site,
      device_type: self.dt,
      role: self.role,
      status: "active",
    }]);
    const made = await this.make(
      "dcim/interfaces/",
      Array.from(
        { length: ifaces },
        (_, i) => ({ device: dev.id, name: `eth${i}`, type: "virtual" }),
      ),
    );
    return { id: dev.id, ifaces: made.map((i) => i.id) };
  }

  async cleanup(): Promise<void> {
    const order = [
      "extras/journal-entries/",
      "dcim/devices/",
      "ipam/ip-addresses/",
      "ipam/prefixes/",
      "dcim/device-types/",
      "dcim/manufacturers/",
      "dcim/device-roles/",
      "dcim/sites/",
    ];
    try {
      // Journal entries our runs wrote on our objects, and addresses created by other means.
      const ips = await this.c.ipam.ipAddresses.all({ vrf_id: this.vrf.id }, { fields: ["id"] });
      for (const ip of ips) {
        if (!this.created.some((o) => o.ep === "ipam/ip-addresses/" && o.id === ip.id)) {
          this.created.push({ ep: "ipam/ip-addresses/", id: ip.id });
        }
      }
      const ipIds = this.created.filter((o) => o.ep === "ipam/ip-addresses/").map((o) => o.id);
      const devIds = this.created.filter((o) => o.ep === "dcim/devices/").map((o) => o.id);
      for (const [type, ids] of [["ipam.ipaddress", ipIds], ["dcim.device", devIds]] as const) {
        if (!ids.length) continue;
        const entries = await this.c.endpoint("extras/journal-entries/").all(
          { assigned_object_type: type, assigned_object_id: ids },
          { fields: ["id"] },
        );
        for (const e of entries) this.created.push({ ep: "extras/journal-entries/", id: e.id });
      }
    } catch (err) {
      console.error(`cleanup: ${(err as Error).message}`);
    }
    for (const ep of order) {
      const ids = [...new Set(this.created.filter((o) => o.ep === ep).map((o) => o.id))];
      if (!ids.length) continue;
      try {
        const result = await this.c.endpoint(ep).delete(ids);
        for (const f of result.failed) {
          if (!/skipped/.test(f.error.message)) console.error(`cleanup ${ep}: ${f.error.message}`);
        }
      } catch (err) {
        console.error(`cleanup ${ep}: ${(err as Error).message}`);
      }
    }
    try {
      await this.c.ipam.vrfs.delete(this.vrf.id);
    } catch (err) {
      console.error(`cleanup VRF: ${(err as Error).message}`);
    }
    this.c.close();
  }
}

netboxTest(
  "audit-ips --state: two runs with planted changes report exactly the new and the fixed findings",
  async () => {
    const f = await new Fixture().init();
    const dir = await Deno.makeTempDir();
    try {
      const n = f.net;
      const state = `${dir}/state.json`;
      await f.make("ipam/prefixes/", [{ prefix: `${n}.0/24`, vrf: f.vrf.id }]);
      const [orphan, mask, dupA, dupB] = await f.make("ipam/ip-addresses/", [
        f.ip("198.51.100.7/24", { status: "reserved" }),
        f.ip(`${n}.20/16`, { status: "reserved" }),
        f.ip(`${n}.30/24`, { status: "reserved" }),
        f.ip(`${n}.30/24`, { status: "reserved" }),
      ]);
      const args = ["--vrf", f.name, "--state", state, "--format", "json"];
      const first = await audit([...args, "--fail-on-new", "error"]);
      assert.equal(first.code, 1, first.stderr); // the duplicate is a new error
      const doc1 = JSON.parse(first.stdout);
      assert.deepEqual(keys(doc1.items), [
        `duplicate-address ipam.ipaddress:${Math.max(dupA.id, dupB.id)}`,
        `mask-mismatch ipam.ipaddress:${mask.id}`,
        `orphan-address ipam.ipaddress:${orphan.id}`,
      ]);
      assert.ok(doc1.items.every((i: Row) => i.baseline === "new"));
      assert.deepEqual(first.writes, [], "an audit writes nothing to NetBox");

      // Planted changes: the orphan is deleted (fixed), a new orphan and a new duplicate appear.
      await f.c.ipam.ipAddresses.delete(orphan.id);
      const [orphan2, dupC] = await f.make("ipam/ip-addresses/", [
        f.ip("198.51.100.8/24", { status: "reserved" }),
        f.ip(`${n}.20/24`, { status: "reserved" }), // with mask's host: not a duplicate (masks differ)
      ]);
      const [dupD] = await f.make("ipam/ip-addresses/", [
        f.ip(`${n}.40/24`, { status: "reserved" }),
      ]);
      const [dupE] = await f.make("ipam/ip-addresses/", [
        f.ip(`${n}.40/24`, { status: "reserved" }),
      ]);
      const second = await audit([...args, "--fail-on-new", "error"]);
      assert.equal(second.code, 1, second.stderr);
      const doc2 = JSON.parse(second.stdout);
      const byState = (s: string) => keys(doc2.items.filter((i: Row) => i.baseline === s));
      assert.deepEqual(byState("new"), [
        `duplicate-address ipam.ipaddress:${Math.max(dupD.id, dupE.id)}`,
        `duplicate-address-mask ipam.ipaddress:${Math.max(mask.id, dupC.id)}`,
        `orphan-address ipam.ipaddress:${orphan2.id}`,
      ]);
      assert.deepEqual(byState("persisting"), [
        `duplicate-address ipam.ipaddress:${Math.max(dupA.id, dupB.id)}`,
        `mask-mismatch ipam.ipaddress:${mask.id}`,
      ]);
      assert.deepEqual(keys(doc2.fixed), [`orphan-address ipam.ipaddress:${orphan.id}`]);
      for (const i of doc2.items.filter((x: Row) => x.baseline === "persisting")) {
        assert.equal(i.first_seen, doc1.summary.started_at);
      }
      assert.deepEqual(doc2.summary.baseline, {
        new: 3,
        persisting: 2,
        fixed: 1,
        previous_run: doc1.summary.started_at,
        state,
      });

      // Third run, no change: nothing new, nothing fixed, --fail-on-new passes.
      const third = await audit([...args, "--fail-on-new", "error"]);
      assert.equal(third.code, 0, third.stderr);
      const doc3 = JSON.parse(third.stdout);
      assert.equal(doc3.summary.baseline.new, 0);
      assert.equal(doc3.fixed.length, 0);

      // The machine formats of a tracked run pass their validators.
      const sarif = await audit(["--vrf", f.name, "--state", state, "--format", "sarif"]);
      assert.deepEqual(sarifErrors(sarif.stdout), []);
      const results = JSON.parse(sarif.stdout).runs[0].results;
      assert.equal(results.length, 5);
      assert.ok(results.every((r: Row) => r.baselineState === "unchanged"));
      assert.ok(results.every((r: Row) => r.locations[0].logicalLocations[0].kind === "resource"));
      const junit = checkJunit(
        (await audit(["--vrf", f.name, "--state", state, "--format", "junit"])).stdout,
      );
      assert.equal(junit.testsuites.testsuite[0]["@_failures"], "5");
      const prom = checkPrometheus(
        (await audit(["--vrf", f.name, "--state", state, "--format", "prometheus"])).stdout,
      );
      assert.equal(
        prom.get("netbox_audit_findings")!.find((m) =>
          m.labels.rule === "duplicate-address" && m.labels.severity === "error"
        )!.value,
        "2",
      );
      assert.ok(
        prom.get("netbox_audit_prefix_utilization_ratio")!.some((m) =>
          m.labels.prefix === `${n}.0/24` && m.labels.vrf === f.name
        ),
      );

      // A state of another scope is refused (exit 2) and left as it was.
      const before = await Deno.readTextFile(state);
      const other = await audit(["--vrf", "global", "--state", state, "--format", "json"]);
      assert.equal(other.code, 2);
      assert.match(other.stderr, /written for scope "vrf=nbtk-time-/);
      assert.equal(await Deno.readTextFile(state), before);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await f.cleanup();
    }
  },
);

netboxTest(
  "audit-ips --journal writes one entry per new error finding, and never the same one twice",
  async () => {
    const f = await new Fixture().init();
    try {
      const n = f.net;
      await f.make("ipam/prefixes/", [{ prefix: `${n}.0/24`, vrf: f.vrf.id }]);
      const [a, b] = await f.make("ipam/ip-addresses/", [
        f.ip(`${n}.30/24`, { status: "reserved" }),
        f.ip(`${n}.30/24`, { status: "reserved" }),
      ]);
      await f.make("ipam/ip-addresses/", [f.ip("198.51.100.9/24", { status: "reserved" })]);
      const subject = Math.max(a.id, b.id);
      const entries = () =>
        f.c.endpoint("extras/journal-entries/").all({
          assigned_object_type: "ipam.ipaddress",
          assigned_object_id: [a.id, b.id],
        });
      // --dry-run writes nothing.
      const dry = await audit(["--vrf", f.name, "--journal", "--dry-run", "--format", "json"]);
      assert.deepEqual(dry.writes, []);
      assert.equal((await entries()).length, 0);
      // Without a state every finding is new: the first run journals the error, not the warning.
      const first = await audit(["--vrf", f.name, "--journal", "--format", "json"]);
      assert.equal(first.code, 1, first.stderr);
      assert.deepEqual(first.writes, ["POST /api/extras/journal-entries/"]);
      const journal1 = JSON.parse(first.stdout).journal;
      assert.deepEqual(journal1.map((j: Row) => [j.key, j.status]), [
        [`duplicate-address:ipam.ipaddress:${subject}`, "created"],
      ]);
      const made = await entries();
      assert.equal(made.length, 1);
      assert.equal(made[0]["assigned_object_id"], subject);
      assert.equal((made[0]["kind"] as Row).value, "danger");
      assert.match(
        String(made[0]["comments"]),
        new RegExp(
          `^\\[netbox-toolkit audit-ips duplicate-address:ipam\\.ipaddress:${subject}\\] error: `,
        ),
      );
      // Again: the entry is there, nothing is written.
      const second = await audit(["--vrf", f.name, "--journal", "--format", "json"]);
      assert.deepEqual(second.writes, []);
      assert.deepEqual(JSON.parse(second.stdout).journal.map((j: Row) => j.status), ["exists"]);
      assert.equal((await entries()).length, 1);
    } finally {
      await f.cleanup();
    }
  },
);

netboxTest(
  "audit-ips --fix --apply fixes the planted defects, leaves the ambiguous one, touches nothing else",
  async () => {
    const f = await new Fixture().init();
    const dir = await Deno.makeTempDir();
    try {
      const n = f.net;
      const [prefix] = await f.make("ipam/prefixes/", [{ prefix: `${n}.0/24`, vrf: f.vrf.id }]);
      const d1 = await f.device(1, 1); // one IPv4: primary fixable
      const d2 = await f.device(2, 2); // two IPv4: ambiguous
      const iface = (id: number) => ({
        assigned_object_type: "dcim.interface",
        assigned_object_id: id,
        dns_name: `h${id}.example.net`,
      });
      const [p1, p2a, p2b, mask, orphan, clean] = await f.make("ipam/ip-addresses/", [
        f.ip(`${n}.11/24`, iface(d1.ifaces[0])),
        f.ip(`${n}.21/24`, iface(d2.ifaces[0])),
        f.ip(`${n}.22/24`, iface(d2.ifaces[1])),
        f.ip(`${n}.50/16`, { status: "reserved" }),
        f.ip("198.51.100.10/24", { status: "reserved" }),
        f.ip(`${n}.60/24`, { status: "reserved", description: "bystander" }),
      ]);
      const snapshot = async () => ({
        ips: new Map(
          (await f.c.ipam.ipAddresses.all({ vrf_id: f.vrf.id })).map((o) => [o.id, o as Row]),
        ),
        devices: new Map(
          (await f.c.dcim.devices.all({ id: [d1.id, d2.id] })).map((o) => [o.id, o as Row]),
        ),
        prefix: await f.c.ipam.prefixes.get(prefix.id) as Row,
      });
      const before = await snapshot();
      const planted = [
        `mask-mismatch ipam.ipaddress:${mask.id}`,
        `orphan-address ipam.ipaddress:${orphan.id}`,
        `primary-missing dcim.device:${d1.id}`,
        `primary-missing dcim.device:${d2.id}`,
      ];
      const audited = async () =>
        keys(JSON.parse((await audit(["--vrf", f.name, "--format", "json"])).stdout).items);
      assert.deepEqual(await audited(), planted);

      // Dry run: the plan, no write.
      const dry = await audit(["--vrf", f.name, "--fix"]);
      assert.deepEqual(dry.writes, []);
      assert.match(dry.stdout, /Fix plan \(dry run; --apply writes it\): 3 writes/);
      assert.ok(
        dry.stdout.includes(
          `mask-mismatch: ipam.ipaddress ${mask.id} (${n}.50/16): address ${n}.50/16 → ${n}.50/24`,
        ),
        dry.stdout,
      );
      assert.ok(dry.stdout.includes(
        `primary-missing: dcim.device ${d1.id} (${f.name}-d1): primary_ip4 (none) → ${n}.11/24`,
      ));
      assert.match(
        dry.stdout,
        new RegExp(`skipped primary-missing: dcim\\.device ${d2.id}: 2 IPv4`),
      );
      assert.deepEqual(await snapshot(), before);

      // Apply, with an audit log.
      const log = `${dir}/audit.log`;
      const applied = await audit(["--vrf", f.name, "--fix", "--apply", "--audit-log", log]);
      assert.equal(applied.code, 0, applied.stderr + applied.stdout);
      assert.match(applied.stdout, /Fixes applied: 3 writes/);
      assert.doesNotMatch(applied.stdout, /failed/);
      const logged = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(
        logged.filter((l) => l.method === "PATCH").map((l) => l.path).sort(),
        ["/api/dcim/devices/", "/api/ipam/ip-addresses/"],
      );
      assert.ok(
        applied.writes.every((w) => /PATCH|POST \/api\/extras\/tags\//.test(w)),
        applied.writes.join(),
      );

      // Re-audit: only the ambiguous finding is left.
      assert.deepEqual(await audited(), [`primary-missing dcim.device:${d2.id}`]);

      // Read back: exactly the planned fields changed.
      const after = await snapshot();
      const strip = (o: Row | undefined, ...fields: string[]) => {
        const copy = { ...o };
        for (const k of ["last_updated", ...fields]) delete copy[k];
        return copy;
      };
      for (const [id, was] of before.ips) {
        const now = after.ips.get(id)!;
        if (id === mask.id) {
          assert.equal(now.address, `${n}.50/24`);
          assert.deepEqual(strip(now, "address", "display"), strip(was, "address", "display"));
        } else if (id === orphan.id) {
          assert.deepEqual((now.tags as Row[]).map((t) => t.slug), ["audit-orphan"]);
          assert.deepEqual(strip(now, "tags"), strip(was, "tags"));
        } else assert.deepEqual(strip(now), strip(was), `address ${id} untouched`);
      }
      assert.equal(after.devices.get(d1.id)!.primary_ip4.id, p1.id);
      assert.deepEqual(
        strip(after.devices.get(d1.id), "primary_ip4", "primary_ip"),
        strip(before.devices.get(d1.id), "primary_ip4", "primary_ip"),
      );
      assert.deepEqual(strip(after.devices.get(d2.id)), strip(before.devices.get(d2.id)));
      assert.deepEqual(strip(after.prefix), strip(before.prefix));
      assert.ok([p2a, p2b, clean].every((o) => after.ips.has(o.id)));

      // Nothing left to fix: a second apply writes nothing.
      const again = await audit(["--vrf", f.name, "--fix", "--apply"]);
      assert.deepEqual(again.writes, []);

      // revert undoes the fixes from their audit log: NetBox as before them.
      const undo = await runTaskWrites(revertMain, ["--from-audit-log", log]);
      assert.equal(undo.code, 0, undo.stderr + undo.stdout);
      assert.ok(undo.writes.some((w) => w.startsWith("PATCH")), undo.writes.join());
      const reverted = await snapshot();
      for (const [id, was] of before.ips) {
        assert.deepEqual(strip(reverted.ips.get(id)), strip(was), `address ${id} as before`);
      }
      for (const [id, was] of before.devices) {
        assert.deepEqual(strip(reverted.devices.get(id)), strip(was), `device ${id} as before`);
      }
      assert.deepEqual(await audited(), planted);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await f.cleanup();
    }
  },
);

/**
 * Runs SQL on this NetBox's own database (`NETBOX_TEST_DB`, written by provision.sh) and says
 * whether it changed exactly `expect` rows; `false` without database access.
 */
async function backdate(sql: string, expect: number): Promise<boolean> {
  const db = Deno.env.get("NETBOX_TEST_DB");
  if (!db) return false;
  const out = await psql(db, sql).catch(() => undefined);
  if (out === undefined) return false;
  const rows = out.trim().split("\n").filter(Boolean).length;
  if (rows !== expect) throw new Error(`backdate: ${rows} rows of ${expect} changed in ${db}`);
  return true;
}

async function psql(db: string, sql: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("psql", {
    args: ["-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAqc", sql],
    stdout: "piped",
    stderr: "piped",
    env: { PGCONNECT_TIMEOUT: "5" },
  }).output();
  const dec = new TextDecoder();
  if (code !== 0) throw new Error(`psql ${db}: ${dec.decode(stderr)}`);
  return dec.decode(stdout);
}

netboxTest(
  "audit-ips --forecast matches a seeded allocation history within 10 %",
  async () => {
    const f = await new Fixture().init();
    try {
      const n = f.net;
      // A /26: 62 usable addresses; 50 created at 2 a day over 25 days → 12 left, ~6 days.
      await f.make("ipam/prefixes/", [{ prefix: `${n}.0/26`, vrf: f.vrf.id }]);
      const ips = await f.make(
        "ipam/ip-addresses/",
        Array.from({ length: 50 }, (_, i) => f.ip(`${n}.${i + 1}/26`, { status: "reserved" })),
      );
      const now = Date.now();
      const values = ips.map((ip, i) =>
        `(${ip.id}, '${ip["address"]}', ${((25 - i / 2) * 86_400).toFixed(0)})`
      ).join(",");
      const sql = `UPDATE core_objectchange c SET time = now() - make_interval(secs => v.ago)
        FROM (VALUES ${values}) AS v(id, repr, ago)
        WHERE c.action = 'create' AND c.changed_object_id = v.id AND c.object_repr = v.repr
          AND c.changed_object_type_id = (SELECT id FROM django_content_type
            WHERE app_label = 'ipam' AND model = 'ipaddress')
          AND c.postchange_data->>'vrf' = '${f.vrf.id}'
        RETURNING c.id`;
      let expectRate = 2;
      let expectDays = 6;
      if (!(await backdate(sql, 50))) {
        // No database access: fit on what the test creates now, at its real times, and check
        // the forecast against an independent least-squares fit of the change log's times.
        console.error("forecast test: cannot backdate the change log; fitting on real creates");
        for (let i = 0; i < 8; i++) {
          await new Promise((r) => setTimeout(r, 400));
          await f.make("ipam/ip-addresses/", [f.ip(`${n}.${51 + i}/26`, { status: "reserved" })]);
        }
        const creates = await f.c.endpoint("core/object-changes/").all({
          changed_object_type: "ipam.ipaddress",
          action: "create",
          time_after: new Date(now - 3_600_000).toISOString(),
        }, { fields: ["time", "postchange_data"] });
        const t = creates.filter((c) => (c["postchange_data"] as Row)?.vrf === f.vrf.id)
          .map((c) => (Date.parse(String(c["time"])) - now) / 86_400_000).sort((a, b) => a - b);
        const mean = t.reduce((a, b) => a + b, 0) / t.length;
        const my = (t.length + 1) / 2;
        const sxy = t.reduce((acc, x, i) => acc + (x - mean) * (i + 1 - my), 0);
        const sxx = t.reduce((acc, x) => acc + (x - mean) ** 2, 0);
        expectRate = sxy / sxx;
        expectDays = (62 - t.length) / expectRate;
      }
      const run = await audit(["--vrf", f.name, "--forecast", "--format", "json"]);
      const doc = JSON.parse(run.stdout);
      const [fc] = doc.forecast;
      assert.equal(fc.prefix, `${n}.0/26`, run.stderr);
      assert.ok(
        Math.abs(fc.rate_per_day - expectRate) / expectRate < 0.1,
        `rate ${fc.rate_per_day}, expected ${expectRate}`,
      );
      assert.ok(
        Math.abs(fc.full_in_days - expectDays) / expectDays < 0.1,
        `full in ${fc.full_in_days} days, expected ${expectDays}`,
      );
      const finding = doc.items.find((i: Row) => i.rule === "prefix-exhaustion");
      assert.match(
        finding.message,
        new RegExp(`^${n.replaceAll(".", "\\.")}\\.0/26 .* full in about \\d+ days`),
      );
      // The same forecast as a Prometheus gauge.
      const prom = checkPrometheus(
        (await audit(["--vrf", f.name, "--forecast", "--format", "prometheus"])).stdout,
      );
      const gauge = prom.get("netbox_audit_prefix_full_in_days")!.find((m) =>
        m.labels.prefix === `${n}.0/26`
      )!;
      assert.ok(Math.abs(Number(gauge.value) - expectDays) / expectDays < 0.1, gauge.value);
      // A busy prefix without the flag: no forecast, no change-log read.
      const plain = JSON.parse((await audit(["--vrf", f.name, "--format", "json"])).stdout);
      assert.equal(plain.forecast, undefined);
    } finally {
      await f.cleanup();
    }
  },
);
