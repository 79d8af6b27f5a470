/**
 * audit-ips against the real NetBox. Each test builds its own small inventory — a tag, two VRFs
 * (one with `enforce_unique: false` for the duplicates), a site, devices, prefixes and addresses
 * in a random slice of 100.64.0.0/10 — and audits only that (`--tag`), so other engineers' data
 * on the shared server never leaks into the assertions. Everything is deleted afterwards.
 *
 * One defect per rule 1–16 is planted; `half-assigned` cannot be created through NetBox 4.7's
 * API (both fields are required together), so that one row is edited in PostgreSQL directly.
 */

import assert from "node:assert/strict";
import type { Scheduler } from "../../lib/audit/schedule.ts";
import type { TaskIO } from "../../lib/cli/io.ts";
import { createClient } from "../../lib/client/client.ts";
import { Cron } from "../../lib/deps.ts";
import type { WritableInterface } from "../../lib/client/models.ts";
import type { NetBoxClient, NetBoxObject } from "../../lib/client/types.ts";
import { type AuditDeps, main } from "../../tasks/audit-ips.ts";
import { chromiumPath } from "../_browser.ts";
import { seedInventory } from "../netbox/seed.ts";
import { netboxTest, testEnv } from "./_netbox.ts";

const DNS_PATTERN = "^[a-z0-9-]+\\.audit\\.example$";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function audit(
  args: string[],
  options: { deps?: AuditDeps; now?: () => Date; onStderr?: (text: string) => void } = {},
): Promise<Run> {
  const nb = testEnv();
  const out = { stdout: "", stderr: "" };
  const io: TaskIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => {
      out.stderr += t;
      options.onStderr?.(t);
    },
    env: (name) =>
      ({ NETBOX_URL: nb.url, NETBOX_TOKEN: nb.token, NETBOX_TIMEOUT: String(TIMEOUT_S) } as Record<
        string,
        string
      >)[name],
    stderrIsTerminal: false,
    readTextFile: (path) => Deno.readTextFile(path),
    now: options.now ?? (() => new Date()),
  };
  const code = await main(args, io, options.deps);
  return { code, ...out };
}

/** A finding as the JSON report has it. */
interface Item {
  rule: string;
  severity: string;
  object_type: string;
  object_id: number;
}

const OBJECT_TYPE: Record<string, string> = {
  "dcim/devices/": "dcim.device",
  "ipam/ip-addresses/": "ipam.ipaddress",
  "ipam/prefixes/": "ipam.prefix",
  "ipam/vrfs/": "ipam.vrf",
  "dcim/sites/": "dcim.site",
};

/** The findings on objects this fixture created, as sorted `rule type:id` strings. */
function ownFindings(f: Fixture, items: Item[]): string[] {
  const own = new Set(
    f.created.filter((o) => OBJECT_TYPE[o.ep]).map((o) => `${OBJECT_TYPE[o.ep]}:${o.id}`),
  );
  return items.map((i) => `${i.rule} ${i.object_type}:${i.object_id}`)
    .filter((text) => own.has(text.split(" ")[1])).sort();
}

/** What the fixture planted, as sorted `rule type:id` strings, less the rules in `without`. */
function plantedFindings(f: Fixture, without: string[] = []): string[] {
  return [...f.planted].filter(([rule]) => !without.includes(rule))
    .map(([rule, [type, id]]) => `${rule} ${type}:${id}`).sort();
}

/** The server is shared with other tests and can be slow: generous timeouts. */
const TIMEOUT_S = 120;

function client(): NetBoxClient {
  const nb = testEnv();
  return createClient({ url: nb.url, token: nb.token, timeoutMs: TIMEOUT_S * 1000 });
}

/** Everything a fixture created, deleted in reverse dependency order. */
class Fixture {
  readonly sfx = crypto.randomUUID().slice(0, 8);
  readonly tag = `audit-${this.sfx}`;
  readonly created: { ep: string; id: number }[] = [];
  /** Planted defect per rule: [object_type, object_id]. */
  readonly planted = new Map<string, [string, number]>();
  /** Five /24s and a ULA /64 of our own. */
  readonly net: string[];
  readonly v6: string;
  constructor(readonly c: NetBoxClient) {
    const b2 = 64 + Math.floor(Math.random() * 64);
    const b3 = Math.floor(Math.random() * 240);
    this.net = [0, 1, 2, 3, 4].map((k) => `100.${b2}.${b3 + k}`);
    const r = () => Math.floor(Math.random() * 0xffff).toString(16);
    this.v6 = `fd${Math.floor(Math.random() * 256).toString(16).padStart(2, "0")}:${r()}:${r()}`;
  }

  /** Creates objects in one bulk request (the server is shared and can be slow). */
  async make(ep: string, bodies: Record<string, unknown>[]): Promise<NetBoxObject[]> {
    const result = await this.c.endpoint(ep).create(bodies);
    for (const obj of result.succeeded) this.created.push({ ep, id: obj.id });
    if (result.failed.length) {
      throw new Error(`Cannot create ${ep}: ${JSON.stringify(result.failed[0].messages)}`);
    }
    return result.succeeded;
  }

  async cleanup(): Promise<void> {
    // Devices first: their interfaces' addresses and their primaries go with them.
    const order = [
      "dcim/devices/",
      "ipam/ip-addresses/",
      "ipam/prefixes/",
      "dcim/device-types/",
      "dcim/manufacturers/",
      "dcim/device-roles/",
      "dcim/sites/",
      "ipam/vrfs/",
      "extras/tags/",
    ];
    for (const ep of order) {
      const ids = this.created.filter((o) => o.ep === ep).map((o) => o.id);
      if (!ids.length) continue;
      try {
        // Bulk delete skips ids already gone (addresses deleted with their device).
        const result = await this.c.endpoint(ep).delete(ids);
        for (const f of result.failed) {
          if (/skipped/.test(f.error.message)) continue; // gone with its device
          console.error(`cleanup: cannot delete from ${ep}: ${f.error.message}`);
        }
      } catch (err) {
        console.error(`cleanup: cannot delete from ${ep}: ${(err as Error).message}`);
      }
    }
    this.c.close();
  }
}

async function ensureTag(c: NetBoxClient, slug: string): Promise<void> {
  if (await c.extras.tags.find({ slug })) return;
  try {
    await c.extras.tags.create({ name: slug, slug });
  } catch (err) {
    if (!(await c.extras.tags.find({ slug }))) throw err; // lost a race: fine if it exists now
  }
}

/** One address to create: its body, and the rule it plants (if any). */
type IpSpec = [Record<string, unknown>, string?];

/** A clean inventory under our tag, plus (when `defects`) one defect per rule 1–16. */
async function buildFixture(defects: boolean): Promise<Fixture> {
  const f = new Fixture(client());
  const [n1, n2, n3, , n5] = f.net;
  const tags = [{ slug: f.tag }];
  try {
    await f.make("extras/tags/", [{ name: f.tag, slug: f.tag }]);
    await ensureTag(f.c, "audit-ignore");
    const [vrfA, vrfB] = await f.make("ipam/vrfs/", [
      { name: `${f.tag}-a`, enforce_unique: false },
      { name: `${f.tag}-b` },
    ]);
    const [site] = await f.make("dcim/sites/", [{ name: f.tag, slug: f.tag }]);
    const [mf] = await f.make("dcim/manufacturers/", [{ name: f.tag, slug: f.tag }]);
    const [dt] = await f.make("dcim/device-types/", [
      { manufacturer: mf.id, model: f.tag, slug: f.tag },
    ]);
    const [role] = await f.make("dcim/device-roles/", [{ name: f.tag, slug: f.tag }]);
    const names = ["d1", "d9", "d10", "d11"];
    const [d1, d9, d10, d11] = await f.make(
      "dcim/devices/",
      names.map((n) => ({
        name: `${f.tag}-${n}`,
        site: site.id,
        device_type: dt.id,
        role: role.id,
      })),
    );
    const ifaceBodies: WritableInterface[] = [
      { device: d1.id, name: "eth0", type: "virtual" },
      { device: d1.id, name: "eth1", type: "virtual" },
      { device: d1.id, name: "eth2", type: "virtual" },
      { device: d1.id, name: "eth3", type: "virtual", vrf: vrfB.id },
      { device: d9.id, name: "eth0", type: "virtual" },
      { device: d10.id, name: "eth0", type: "virtual" },
      { device: d11.id, name: "eth0", type: "virtual" },
    ];
    const ifaceResult = await f.c.dcim.interfaces.create(ifaceBodies);
    if (ifaceResult.failed.length) throw new Error("Cannot create the interfaces");
    const [eth0, eth1, eth2, eth3, d9eth, d10eth, d11eth] = ifaceResult.succeeded;
    await f.make("ipam/prefixes/", [
      { prefix: `${n1}.0/24`, vrf: vrfA.id, tags },
      { prefix: `${n2}.0/24`, vrf: vrfA.id, tags, is_pool: true },
      { prefix: `${n3}.0/30`, vrf: vrfA.id, tags },
      { prefix: `${f.v6}::/64`, vrf: vrfA.id, tags },
    ]);
    const on = (i: NetBoxObject) => ({
      assigned_object_type: "dcim.interface",
      assigned_object_id: i.id,
    });
    const ip = (address: string, extra: Record<string, unknown> = {}) => ({
      address,
      vrf: vrfA.id,
      tags,
      ...extra,
    });
    const dns = (name: string) => ({ dns_name: `${name}.audit.example` });
    const reserved = { status: "reserved" };
    const specs: IpSpec[] = [
      // The clean part: one device with its primary (the first address), a few more.
      [ip(`${n1}.10/24`, { ...on(eth0), ...dns("d1") })],
      [ip(`${n1}.11/24`, { ...on(eth0), ...dns("d1-second") })],
      [ip(`${n1}.12/24`, reserved)],
      [ip(`${n2}.12/32`, reserved)], // a host mask in a pool: fine
      [ip(`${n1}.13/32`, { role: "loopback", ...on(eth1), ...dns("d1-lo") })],
      // tagged audit-ignore: would be an orphan and unassigned-active
      [ip(`${n5}.200/24`, { tags: [...tags, { slug: "audit-ignore" }] })],
    ];
    if (defects) {
      specs.push(
        // 1 duplicate-address (the newer copy), 2 duplicate-address-mask (host mask in a pool)
        [ip(`${n1}.20/24`, reserved)],
        [ip(`${n1}.20/24`, reserved), "duplicate-address"],
        [ip(`${n2}.5/24`, reserved)],
        [ip(`${n2}.5/32`, reserved), "duplicate-address-mask"],
        // 3 orphan-address, 4 mask-mismatch
        [ip(`${n5}.7/24`, reserved), "orphan-address"],
        [ip(`${n1}.30/25`, reserved), "mask-mismatch"],
        // 5 a loopback /32 on the /24's network ID (NetBox accepts it)
        [
          ip(`${n1}.0/32`, { role: "loopback", ...on(eth1), ...dns("d1-net") }),
          "network-or-broadcast",
        ],
        // 6 missing, 7 invalid (house pattern), 8 duplicate DNS name (d1's)
        [ip(`${n1}.40/24`, on(eth2)), "missing-dns-name"],
        [
          ip(`${n1}.50/24`, { ...reserved, dns_name: "bad_name.audit.example" }),
          "invalid-dns-name",
        ],
        [ip(`${n1}.60/24`, { ...reserved, ...dns("d1") }), "duplicate-dns-name"],
        // 9: d9 gets an address but no primary
        [ip(`${n1}.70/24`, { ...on(d9eth), ...dns("d9") })],
        // 10: d10's primary will be a NAT outside address, then un-NATed
        [ip(`${n1}.80/24`, { ...on(d10eth), ...dns("d10") })],
        // 11: d11's primaries with different names
        [ip(`${n1}.90/24`, { ...on(d11eth), ...dns("d11") })],
        [ip(`${f.v6}::90/64`, { ...on(d11eth), ...dns("d11-v6") })],
        // 12 half-assigned (finished in PostgreSQL below)
        [
          ip(`${n1}.100/24`, { ...reserved, ...on(eth2), ...dns(`half-${f.sfx}`) }),
          "half-assigned",
        ],
        // 13 vrf-mismatch (eth3 is in VRF B), 14 deprecated-in-use, 15 unassigned-active
        [ip(`${n1}.110/24`, { ...on(eth3), ...dns("d1-vrf") }), "vrf-mismatch"],
        [ip(`${n1}.120/24`, { status: "deprecated", ...on(eth0) }), "deprecated-in-use"],
        [ip(`${n1}.130/24`, dns("ua")), "unassigned-active"],
        // 16 prefix-utilization: the /30 (2 usable) full
        [ip(`${n3}.1/30`, reserved)],
        [ip(`${n3}.2/30`, reserved)],
      );
    }
    const ips = await f.make("ipam/ip-addresses/", specs.map(([body]) => body));
    specs.forEach(([, rule], i) => rule && f.planted.set(rule, ["ipam.ipaddress", ips[i].id]));
    const byAddress = (a: string) => ips[specs.findIndex(([b]) => b.address === a)];
    const primaries: Record<string, unknown>[] = [
      { id: d1.id, primary_ip4: byAddress(`${n1}.10/24`).id },
    ];
    if (defects) {
      const [outside] = await f.make("ipam/ip-addresses/", [
        ip(`${n1}.81/24`, { nat_inside: byAddress(`${n1}.80/24`).id, ...dns("d10-nat") }),
      ]);
      primaries.push(
        { id: d10.id, primary_ip4: outside.id },
        {
          id: d11.id,
          primary_ip4: byAddress(`${n1}.90/24`).id,
          primary_ip6: byAddress(`${f.v6}::90/64`).id,
        },
      );
      await f.c.dcim.devices.update(primaries as ({ id: number } & Record<string, unknown>)[]);
      await f.c.ipam.ipAddresses.update(outside.id, { nat_inside: null });
      await plantHalfAssigned(f.planted.get("half-assigned")![1], `half-${f.sfx}.audit.example`);
      f.planted.set("primary-missing", ["dcim.device", d9.id]);
      f.planted.set("primary-not-on-object", ["dcim.device", d10.id]);
      f.planted.set("primary-dns-mismatch", ["dcim.device", d11.id]);
      const p3 = (await f.c.ipam.prefixes.find({ prefix: `${n3}.0/30`, vrf_id: vrfA.id }))!;
      f.planted.set("prefix-utilization", ["ipam.prefix", p3.id]);
    } else {
      await f.c.dcim.devices.update(primaries as ({ id: number } & Record<string, unknown>)[]);
    }
    return f;
  } catch (err) {
    await f.cleanup();
    throw err;
  }
}

/**
 * Clears `assigned_object_id` of one address in NetBox's database (the API refuses it). The
 * database is found by the address's unique DNS name, so a wrong database is never touched.
 */
async function plantHalfAssigned(id: number, marker: string): Promise<void> {
  const candidates = new Set<string>();
  for (const name of ["NETBOX_TEST_DB", "NETBOX_TOOLKIT_DB"]) {
    const fromEnv = Deno.env.get(name);
    if (fromEnv) candidates.add(fromEnv);
  }
  candidates.add("netbox_toolkit_test");
  const list = await psql(
    "postgres",
    "SELECT datname FROM pg_database WHERE datname LIKE 'netbox%'",
  );
  for (const name of list.split("\n").map((s) => s.trim()).filter(Boolean)) candidates.add(name);
  const sql = `UPDATE ipam_ipaddress SET assigned_object_id = NULL WHERE id = ${id} ` +
    `AND dns_name = '${marker}' RETURNING id`;
  for (const db of candidates) {
    const out = await psql(db, sql).catch(() => "");
    if (out.trim().split("\n")[0] === String(id)) return;
  }
  throw new Error(`Cannot plant half-assigned: no NetBox database holds address ${id} (${marker})`);
}

async function psql(db: string, sql: string): Promise<string> {
  const cmd = new Deno.Command("psql", {
    args: ["-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAqc", sql],
    stdout: "piped",
    stderr: "piped",
    env: { PGCONNECT_TIMEOUT: "5" },
  });
  const { code, stdout, stderr } = await cmd.output();
  const dec = new TextDecoder();
  if (code !== 0) throw new Error(`psql ${db}: ${dec.decode(stderr)}`);
  return dec.decode(stdout);
}

netboxTest(
  "audit-ips reports each planted defect exactly once, on the planted object",
  async () => {
    const f = await buildFixture(true);
    try {
      const run = await audit(["--tag", f.tag, "--dns-pattern", DNS_PATTERN, "--format", "json"]);
      const doc = JSON.parse(run.stdout);
      assert.equal(f.planted.size, 16);
      assert.deepEqual(ownFindings(f, doc.items), plantedFindings(f), run.stderr);
      // --tag scopes the audit: nothing outside the fixture is reported
      assert.equal(doc.items.length, 16, JSON.stringify(doc.items));
      assert.equal(run.code, 1); // error findings at the default --fail-on error
      assert.equal(doc.summary.findings, 16);
      assert.match(doc.netbox.version, /^4\./);
      const dup = doc.items.find((i: { rule: string }) => i.rule === "duplicate-address");
      assert.match(dup.url, /^http:\/\/127\.0\.0\.1:\d+\/ipam\/ip-addresses\/\d+\/$/);
      assert.equal(dup.related.length, 1);
    } finally {
      await f.cleanup();
    }
  },
);

netboxTest("audit-ips finds nothing in a clean inventory and exits 0", async () => {
  const f = await buildFixture(false);
  try {
    const run = await audit([
      "--tag",
      f.tag,
      "--dns-pattern",
      DNS_PATTERN,
      "--format",
      "json",
      "--fail-on",
      "info",
    ]);
    const doc = JSON.parse(run.stdout);
    assert.deepEqual(doc.items, [], run.stderr);
    assert.equal(run.code, 0);
  } finally {
    await f.cleanup();
  }
});

netboxTest("audit-ips finds nothing in the seed inventory", async () => {
  const nb = testEnv();
  // A seeding error fails the test: the audit below must run on the whole inventory.
  const seeded = await seedInventory(nb.url, nb.token);
  // The seed lives in the global table; other tests' VRFs holding 192.168.3.0/24 stay out.
  const run = await audit([
    "--parent",
    "192.168.3.0/24",
    "--vrf",
    "global",
    "--format",
    "json",
    "--fail-on",
    "info",
  ]);
  const doc = JSON.parse(run.stdout);
  // The seed's own objects: no finding on any of them.
  const types: Record<string, string> = {
    ip: "ipam.ipaddress",
    prefix: "ipam.prefix",
    vm: "virtualization.virtualmachine",
    device: "dcim.device",
  };
  const own = new Set(
    Object.entries(seeded).flatMap(([key, id]) => {
      const type = types[key.split(":")[0]];
      return type ? [`${type}:${id}`] : [];
    }),
  );
  assert.ok(own.has(`ipam.ipaddress:${seeded.ip}`) && own.has(`ipam.prefix:${seeded.prefix}`));
  const mine = (doc.items as Item[]).filter((i) => own.has(`${i.object_type}:${i.object_id}`));
  assert.deepEqual(mine, [], run.stderr);
  // and the audit really looked at them: the seed's address and prefix were analysed
  assert.ok(doc.summary.analysed.ip_addresses >= 1, JSON.stringify(doc.summary.analysed));
  assert.ok(doc.summary.analysed.prefixes >= 1, JSON.stringify(doc.summary.analysed));
});

netboxTest("audit-ips --fail-on decides the exit code when only warnings are found", async () => {
  const f = await buildFixture(true);
  try {
    const notWarnings = [
      "duplicate-address",
      "network-or-broadcast",
      "primary-not-on-object",
      "half-assigned",
      "prefix-utilization",
      "unassigned-active",
    ];
    const base = [
      "--tag",
      f.tag,
      "--dns-pattern",
      DNS_PATTERN,
      "--format",
      "json",
      ...notWarnings.flatMap((r) => ["--disable", r]),
    ];
    const dflt = await audit(base);
    const doc = JSON.parse(dflt.stdout);
    // Exactly the 10 planted warnings, each on its planted object, and nothing else.
    const want = plantedFindings(f, notWarnings);
    assert.equal(want.length, 10);
    assert.deepEqual(ownFindings(f, doc.items), want, dflt.stderr);
    assert.equal(doc.items.length, 10, JSON.stringify(doc.items));
    assert.ok(doc.items.every((i: Item) => i.severity === "warning"));
    assert.equal(dflt.code, 0);
    const warning = await audit([...base, "--fail-on", "warning"]);
    assert.equal(warning.code, 1, warning.stderr);
    assert.deepEqual(JSON.parse(warning.stdout).items, doc.items);
    const never = await audit([...base, "--fail-on", "never"]);
    assert.equal(never.code, 0, never.stderr);
    assert.deepEqual(JSON.parse(never.stdout).items, doc.items);
  } finally {
    await f.cleanup();
  }
});

netboxTest(
  "audit-ips --format html renders a self-contained page in headless Chromium",
  async () => {
    const f = await buildFixture(true);
    const dir = await Deno.makeTempDir({ prefix: "audit-html-" });
    try {
      const html = `${dir}/audit.html`;
      const run = await audit([
        "--tag",
        f.tag,
        "--dns-pattern",
        DNS_PATTERN,
        "--format",
        "html",
        "--output",
        html,
      ]);
      assert.equal(run.code, 1, run.stderr);
      const text = await Deno.readTextFile(html);
      assert.doesNotMatch(text, /src=/i);
      assert.doesNotMatch(text, /href=["']?https?:/i);
      assert.doesNotMatch(text, /<script|<link|@import|url\(/i);
      assert.match(text, /<svg[^>]*aria-label="Prefix utilization"/);
      assert.match(text, new RegExp(`${f.net[2].replace(/\./g, "\\.")}\\.0/30`));
      const shot = `${dir}/audit.png`;
      const chromium = await new Deno.Command(chromiumPath(), {
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
          `--user-data-dir=${dir}/profile`,
          `--screenshot=${shot}`,
          "--window-size=1200,1600",
          `file://${html}`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(chromium.code, 0, new TextDecoder().decode(chromium.stderr));
      const png = await Deno.readFile(shot);
      assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      assert.ok(png.length > 20_000, `screenshot only ${png.length} bytes`);
      const keep = Deno.env.get("AUDIT_SCREENSHOT");
      if (keep) await Deno.copyFile(shot, keep);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await f.cleanup();
    }
  },
);

netboxTest(
  "audit-ips --schedule re-audits NetBox on each tick of an injected clock, rewriting --output",
  async () => {
    const f = await buildFixture(false);
    const dir = await Deno.makeTempDir({ prefix: "audit-cron-" });
    const stop = new AbortController();
    try {
      // The clock and the scheduler are injected: croner computes the ticks of the real
      // pattern from a fake clock, and the test fires them; nothing waits for the wall clock.
      let now = new Date("2031-03-04T05:06:30.000Z");
      // Each run ends with one summary line on stderr: the test waits for those (and for the
      // scheduler to be registered), woken by every line and by the end of the task.
      const runsDone: string[] = [];
      let waiting: (() => void) | undefined;
      const fires: (() => void)[] = [];
      let stopped = 0;
      const patterns: string[] = [];
      const scheduler: Scheduler = (pattern, tick) => {
        patterns.push(pattern);
        fires.push(() => {
          const cron = new Cron(pattern, { paused: true });
          now = cron.nextRun(now)!;
          cron.stop();
          tick();
        });
        waiting?.();
        return { stop: () => void stopped++ };
      };
      const onStderr = (text: string) => {
        for (const line of text.split("\n")) {
          if (/^audit-ips: \d{4}-.*\(run \d+\)$|run \d+ failed/.test(line)) runsDone.push(line);
        }
        waiting?.();
      };
      let ended = false;
      const until = async (done: () => boolean, what: string) => {
        while (!done()) {
          if (ended) throw new Error(`audit-ips ended before ${what}`);
          await new Promise<void>((resolve) => (waiting = resolve));
        }
      };
      const output = `${dir}/audit.json`;
      const running = audit([
        "--tag",
        f.tag,
        "--format",
        "json",
        "--output",
        output,
        "--schedule",
        "* * * * *",
        "--max-runs",
        "2",
      ], { deps: { scheduler, signal: stop.signal }, now: () => now, onStderr }).finally(() => {
        ended = true;
        waiting?.();
      });
      await until(() => fires.length > 0, "it scheduled anything");
      assert.deepEqual(patterns, ["* * * * *"]);

      fires[0]();
      await until(() => runsDone.length >= 1, "run 1");
      assert.match(runsDone[0], /\(run 1\)$/);
      const first = JSON.parse(await Deno.readTextFile(output));
      assert.equal(first.summary.started_at, "2031-03-04T05:07:00.000Z");
      assert.deepEqual(first.items, []);

      // Between the ticks NetBox changes: the second run must see it.
      const vrf = (await f.c.ipam.vrfs.find({ name: `${f.tag}-a` }))!;
      const [ua] = await f.make("ipam/ip-addresses/", [{
        address: `${f.net[0]}.150/24`,
        vrf: vrf.id,
        tags: [{ slug: f.tag }],
        dns_name: "ua2.audit.example",
      }]);
      fires[0]();
      await until(() => runsDone.length >= 2, "run 2");
      assert.match(runsDone[1], /\(run 2\)$/);
      const second = JSON.parse(await Deno.readTextFile(output));
      assert.equal(second.summary.started_at, "2031-03-04T05:08:00.000Z");
      assert.deepEqual(
        second.items.map((i: Item) => `${i.rule} ${i.object_type}:${i.object_id}`),
        [`unassigned-active ipam.ipaddress:${ua.id}`],
      );

      const result = await running; // --max-runs 2: done after the second run
      assert.equal(result.code, 0, result.stderr);
      assert.equal(stopped, 1, "the schedule was stopped");
      assert.deepEqual(runsDone.map((l) => l.replace(/ in \d+ ms/, "")), [
        "audit-ips: 2031-03-04T05:07:00.000Z 0 findings (0 error, 0 warning, 0 info) (run 1)",
        "audit-ips: 2031-03-04T05:08:00.000Z 1 finding (0 error, 0 warning, 1 info) (run 2)",
      ]);
      assert.equal(result.stdout, "", "--output takes the report");
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["audit.json"]);
    } finally {
      stop.abort();
      await Deno.remove(dir, { recursive: true });
      await f.cleanup();
    }
  },
);
