import assert from "node:assert/strict";
import { main } from "../../tasks/audit-ips.ts";
import type { TaskIO } from "../../lib/cli/io.ts";
import type { Scheduler } from "../../lib/audit/schedule.ts";
import { FakeNetBox, type Obj } from "../_fake_netbox.ts";

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;
const BASE = "http://127.0.0.1:9";

/**
 * The shared fake NetBox over fixed tables, recording each request's URL; `failRun(n)` makes
 * every request of the n-th audit run answer 400.
 */
function netbox(tables: Record<string, Row[]>) {
  const nb = new FakeNetBox({ host: BASE, tables: tables as Record<string, Obj[]> });
  const requests: URL[] = [];
  let failRun = -1;
  let runs = 0;
  const fetch: typeof globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    requests.push(url);
    if (url.pathname === "/api/ipam/vrfs/") runs++; // the first listing of every run
    if (runs === failRun) {
      return Promise.resolve(Response.json({ detail: "boom" }, { status: 400 }));
    }
    return nb.fetch(input, init);
  };
  return {
    fetch,
    requests,
    /** Makes every request of the n-th audit run fail. */
    failRun(n: number) {
      failRun = n;
    },
  };
}

const tag = [{ slug: "mine", name: "mine" }];
const d1 = { id: 1, name: "d1", url: `${BASE}/api/dcim/devices/1/` };

function inventory(): Record<string, Row[]> {
  return {
    "ipam/vrfs": [{ id: 1, name: "blue", rd: "65000:1" }],
    "ipam/ip-addresses": [
      {
        id: 1,
        url: `${BASE}/api/ipam/ip-addresses/1/`,
        address: "10.0.0.10/24",
        status: { value: "active", label: "Active" },
        dns_name: "d1.example.net",
        assigned_object_type: "dcim.interface",
        assigned_object_id: 11,
        assigned_object: { id: 11, name: "eth0", device: d1 },
        tags: tag,
      },
      {
        id: 2,
        url: `${BASE}/api/ipam/ip-addresses/2/`,
        address: "10.9.0.1/24",
        vrf: { id: 1, name: "blue" },
        status: { value: "reserved", label: "Reserved" },
        dns_name: "",
        tags: tag,
      },
    ],
    "ipam/prefixes": [
      {
        id: 1,
        url: `${BASE}/api/ipam/prefixes/1/`,
        prefix: "10.0.0.0/24",
        status: "active",
        tags: tag,
      },
    ],
    "ipam/ip-ranges": [],
    "dcim/devices": [{ ...d1, status: { value: "active" }, primary_ip4: { id: 1 } }],
    "virtualization/virtual-machines": [],
    "dcim/interfaces": [],
    "virtualization/interfaces": [],
  };
}

function fakeIO(fetch: typeof globalThis.fetch, files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: TaskIO = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: (name) =>
      ({ NETBOX_URL: BASE, NETBOX_TOKEN: "nbt_abcdefghijkl.secretsecretsecret" } as Record<
        string,
        string
      >)[
        name
      ],
    stderrIsTerminal: false,
    fetch,
    readTextFile: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Deno.errors.NotFound(path)),
    now: () => new Date("2026-01-01T00:00:00Z"),
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
}

Deno.test("audit-ips --list-rules prints every rule without contacting NetBox", async () => {
  const nb = netbox(inventory());
  const t = fakeIO(nb.fetch);
  assert.equal(await main(["--list-rules"], t.io), 0);
  for (
    const id of [
      "duplicate-address",
      "prefix-utilization",
      "stale-reserved",
      "dns-forward-mismatch",
    ]
  ) {
    assert.match(t.out(), new RegExp(`^${id} `, "m"));
  }
  assert.match(t.out(), /stale-reserved\s+info\s+off/);
  assert.equal(nb.requests.length, 0);
});

Deno.test("audit-ips reports findings as JSON with a handful of trimmed list calls", async () => {
  const nb = netbox(inventory());
  const t = fakeIO(nb.fetch);
  assert.equal(await main(["--format", "json"], t.io), 0);
  const doc = JSON.parse(t.out());
  assert.equal(doc.netbox.version, "4.7.3");
  assert.equal(doc.summary.findings, 1);
  assert.deepEqual(doc.summary.by_rule, { "orphan-address": 1 });
  assert.equal(doc.summary.needs_attention, false);
  assert.deepEqual(doc.items[0], {
    rule: "orphan-address",
    severity: "warning",
    object_type: "ipam.ipaddress",
    object_id: 2,
    address: "10.9.0.1/24",
    vrf: "blue",
    url: `${BASE}/ipam/ip-addresses/2/`,
    message: "10.9.0.1/24 has no enclosing prefix in VRF blue",
    related: [],
  });
  const lists = nb.requests.filter((u) =>
    !u.pathname.endsWith("/status/") && !u.pathname.includes("schema")
  );
  assert.ok(lists.length <= 10, `${lists.length} list requests`);
  for (const u of lists) assert.ok(u.searchParams.get("fields"), `no fields= on ${u}`);
  assert.match(t.err(), /1 finding \(0 error, 1 warning, 0 info\)/);
});

Deno.test("audit-ips --fail-on decides the exit code", async () => {
  const cases: [string[], number][] = [
    [[], 0],
    [["--fail-on", "warning"], 1],
    [["--fail-on", "info"], 1],
    [["--fail-on", "never"], 0],
    [["--fail-on", "warning", "--disable", "orphan-address"], 0],
  ];
  for (const [args, code] of cases) {
    const t = fakeIO(netbox(inventory()).fetch);
    assert.equal(await main(["--format", "json", ...args], t.io), code, args.join(" "));
  }
});

Deno.test("audit-ips --tag scopes the addresses it reports on", async () => {
  const tables = inventory();
  tables["ipam/ip-addresses"][1].tags = [];
  const nb = netbox(tables);
  const t = fakeIO(nb.fetch);
  assert.equal(await main(["--format", "json", "--tag", "mine", "--fail-on", "warning"], t.io), 0);
  assert.equal(JSON.parse(t.out()).summary.findings, 0);
  const ipCall = nb.requests.find((u) => u.pathname.endsWith("/ip-addresses/"))!;
  assert.equal(ipCall.searchParams.get("tag"), "mine");
});

Deno.test("audit-ips applies a rules file and --dns-pattern", async () => {
  const files = { "rules.yaml": "rules:\n  orphan-address: { severity: error }\n" };
  const t = fakeIO(netbox(inventory()).fetch, files);
  assert.equal(await main(["--format", "json", "--rules", "rules.yaml"], t.io), 1);
  assert.equal(JSON.parse(t.out()).items[0].severity, "error");
  const t2 = fakeIO(netbox(inventory()).fetch);
  await main(["--format", "json", "--dns-pattern", "^[a-z0-9]+\\.example\\.com$"], t2.io);
  assert.deepEqual(
    JSON.parse(t2.out()).items.map((f: Row) => f.rule),
    ["orphan-address", "invalid-dns-name"],
  );
});

Deno.test("audit-ips renders table, csv, markdown and a self-contained html page", async () => {
  const render = async (format: string) => {
    const t = fakeIO(netbox(inventory()).fetch);
    assert.equal(await main(["--format", format], t.io), 0);
    return t.out();
  };
  const table = await render("table");
  assert.match(table, /^1 finding \(0 error, 1 warning, 0 info\)/);
  assert.match(table, /orphan-address\s+warning\s+1/);
  assert.match(
    table,
    /== orphan-address \(1\)\nSEVERITY\s+ADDRESS\s+VRF\s+OBJECT\s+MESSAGE\nwarning\s+10\.9\.0\.1\/24\s+blue/,
  );
  const csv = await render("csv");
  assert.equal(
    csv.split("\n")[0],
    "rule,severity,object_type,object_id,address,vrf,message,url,related",
  );
  assert.match(
    csv.split("\n")[1],
    /^orphan-address,warning,ipam\.ipaddress,2,10\.9\.0\.1\/24,blue,/,
  );
  const md = await render("markdown");
  assert.match(md, /^# IP address audit/);
  assert.match(md, /\| orphan-address \| warning \| 1 \|/);
  const html = await render("html");
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<svg[^>]*aria-label="Prefix utilization"/);
  assert.match(html, /10\.0\.0\.0\/24/);
  assert.doesNotMatch(html, /src=/i);
  assert.doesNotMatch(html, /href="?https?:/i);
  assert.doesNotMatch(html, /<script|<link|@import|url\(/i);
});

Deno.test("audit-ips rejects bad input with exit 2 before any request", async () => {
  const cases: [string[], RegExp][] = [
    [["--fail-on", "sometimes"], /Cannot parse --fail-on/],
    [["--enable", "nonsense"], /Cannot find rule "nonsense"/],
    [["--rules", "missing.yaml"], /Cannot read missing\.yaml/],
    [["--schedule", "every minute"], /Cannot use --schedule/],
    [["--filter", "novalue"], /Cannot parse --filter/],
    [["--max-runs", "2"], /without --schedule/],
    [["--dns-pattern", "("], /Cannot use --dns-pattern/],
  ];
  for (const [args, message] of cases) {
    const nb = netbox(inventory());
    const t = fakeIO(nb.fetch);
    assert.equal(await main(args, t.io), 2, args.join(" "));
    assert.match(t.err(), message);
    assert.equal(nb.requests.length, 0, args.join(" "));
  }
});

Deno.test("audit-ips names an unknown --vrf as a usage error", async () => {
  const t = fakeIO(netbox(inventory()).fetch);
  assert.equal(await main(["--vrf", "purple"], t.io), 2);
  assert.match(t.err(), /Cannot find VRF "purple"/);
});

Deno.test("audit-ips --resolve reports names that do not resolve to their address", async () => {
  const t = fakeIO(netbox(inventory()).fetch);
  const resolver = (name: string, type: string) =>
    Promise.resolve(name === "d1.example.net" && type === "A" ? ["10.0.0.99"] : []);
  assert.equal(await main(["--format", "json", "--resolve"], t.io, { resolver }), 0);
  const items = JSON.parse(t.out()).items as Row[];
  assert.deepEqual(items.map((f) => [f.rule, f.object_id]), [
    ["orphan-address", 2],
    ["dns-forward-mismatch", 1],
  ]);
  assert.match(
    items[1].message,
    /d1\.example\.net resolves to 10\.0\.0\.99 \(A\), not 10\.0\.0\.10/,
  );
});

Deno.test("audit-ips --schedule rewrites --output each run and survives a failing run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const nb = netbox(inventory());
    nb.failRun(2);
    const t = fakeIO(nb.fetch);
    const output = `${dir}/audit.json`;
    // Fires as fast as the loop allows; the loop itself skips ticks while a run is busy.
    const scheduler: Scheduler = (_pattern, fire) => {
      const timer = setInterval(fire, 1);
      return { stop: () => clearInterval(timer) };
    };
    const code = await main(
      ["--format", "json", "--output", output, "--schedule", "* * * * *", "--max-runs", "3"],
      t.io,
      { scheduler },
    );
    assert.equal(code, 0);
    const lines = t.err().split("\n").filter((l) => /^audit-ips: \d{4}-/.test(l));
    assert.equal(lines.length, 3, t.err());
    assert.match(lines[0], /1 finding .* \(run 1\)$/);
    assert.match(lines[1], /run 2 failed: /);
    assert.match(lines[2], /1 finding .* \(run 3\)$/);
    assert.equal(JSON.parse(await Deno.readTextFile(output)).summary.findings, 1);
    assert.equal(t.out(), "");
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(leftovers, ["audit.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit-ips --schedule stops when its signal aborts", async () => {
  const t = fakeIO(netbox(inventory()).fetch);
  const stop = new AbortController();
  const scheduler: Scheduler = (_p, fire) => {
    queueMicrotask(fire);
    return { stop: () => {} };
  };
  const running = main(["--format", "json", "--schedule", "0 0 * * *"], t.io, {
    scheduler,
    signal: stop.signal,
  });
  setTimeout(() => stop.abort(), 0);
  assert.equal(await running, 0);
  assert.match(t.err(), /\(run 1\)/);
});

// ---------------------------------------------------------------------------------------------
// Runs over time (--state), machine formats, fix plans, journal

import { checkJunit, checkPrometheus, sarifErrors } from "../audit/_validate.ts";

Deno.test("audit-ips --help lists every flag of audits over time", async () => {
  const t = fakeIO(netbox(inventory()).fetch);
  assert.equal(await main(["--help"], t.io), 0);
  for (
    const flag of [
      "--state <file>",
      "--fail-on-new <severity>",
      "--fix",
      "--apply",
      "--orphan-tag <slug>",
      "--journal",
      "--forecast",
      "--forecast-threshold <percent>",
      "--forecast-days <days>",
      "--audit-log <file>",
      "sarif",
      "junit",
      "prometheus",
    ]
  ) assert.ok(t.out().includes(flag), flag);
});

Deno.test("audit-ips --state: the second run marks new, persisting and fixed findings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/state.json`;
    const tables = inventory();
    const run = async (now: string, extra: string[] = []) => {
      const t = fakeIO(netbox(tables).fetch);
      t.io.readTextFile = (p) => Deno.readTextFile(p);
      t.io.now = () => new Date(now);
      const code = await main(["--format", "json", "--state", state, ...extra], t.io);
      return { code, doc: t.out() ? JSON.parse(t.out()) : undefined, err: t.err() };
    };
    const first = await run("2026-01-01T00:00:00Z", ["--fail-on-new", "warning"]);
    assert.equal(first.code, 1, "the first run: everything is new");
    assert.deepEqual(first.doc.items.map((i: Row) => [i.rule, i.baseline]), [
      ["orphan-address", "new"],
    ]);
    assert.deepEqual(first.doc.summary.baseline, {
      new: 1,
      persisting: 0,
      fixed: 0,
      previous_run: null,
      state,
    });
    assert.match(first.err, /does not exist yet/);
    // Between the runs: the orphan gets a prefix, a new orphan appears.
    tables["ipam/prefixes"].push({ id: 2, prefix: "10.9.0.0/24", vrf: { id: 1, name: "blue" } });
    tables["ipam/ip-addresses"].push({
      id: 3,
      url: `${BASE}/api/ipam/ip-addresses/3/`,
      address: "10.7.0.1/24",
      status: "reserved",
      tags: tag,
    });
    const second = await run("2026-01-02T00:00:00Z", ["--fail-on-new", "warning"]);
    assert.equal(second.code, 1);
    assert.deepEqual(
      second.doc.items.map((i: Row) => [i.rule, i.object_id, i.baseline, i.first_seen]),
      [["orphan-address", 3, "new", "2026-01-02T00:00:00.000Z"]],
    );
    assert.deepEqual(second.doc.fixed.map((i: Row) => [i.rule, i.object_id, i.first_seen]), [
      ["orphan-address", 2, "2026-01-01T00:00:00.000Z"],
    ]);
    const third = await run("2026-01-03T00:00:00Z", ["--fail-on-new", "warning"]);
    assert.equal(third.code, 0, "nothing new: --fail-on-new passes");
    assert.deepEqual(third.doc.items.map((i: Row) => [i.baseline, i.first_seen]), [
      ["persisting", "2026-01-02T00:00:00.000Z"],
    ]);
    assert.equal(third.doc.fixed.length, 0);
    // An explicit --fail-on still counts next to --fail-on-new.
    assert.equal((await run("2026-01-04T00:00:00Z", ["--fail-on", "warning"])).code, 1);
    const saved = JSON.parse(await Deno.readTextFile(state));
    assert.equal(saved.format, "netbox-toolkit/audit-state");
    assert.equal(saved.netbox_url, BASE);
    assert.deepEqual(Object.keys(saved.findings), ["orphan-address:ipam.ipaddress:3"]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["state.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit-ips --state: a corrupt or foreign state file is exit 2, before any request", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, RegExp][] = [
      ["{ half", /state file .*bad\.json: not JSON/],
      [JSON.stringify({ format: "other" }), /its format is "other"/],
      [
        JSON.stringify({
          format: "netbox-toolkit/audit-state",
          version: 1,
          netbox_url: "https://other.example",
          scope: "everything",
          updated_at: "2026-01-01T00:00:00Z",
          rules: [],
          findings: {},
        }),
        /holds the findings of https:\/\/other\.example, but this run audits http:\/\/127\.0\.0\.1:9/,
      ],
    ];
    for (const [text, message] of cases) {
      const path = `${dir}/bad.json`;
      await Deno.writeTextFile(path, text);
      const nb = netbox(inventory());
      const t = fakeIO(nb.fetch);
      t.io.readTextFile = (p) => Deno.readTextFile(p);
      assert.equal(await main(["--state", path], t.io), 2, text);
      assert.match(t.err(), message);
      assert.equal(nb.requests.length, 0);
      assert.equal(await Deno.readTextFile(path), text, "never silently reset");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit-ips rejects flag combinations that make no sense (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [["--fail-on-new", "error"], /without --state/],
    [["--apply"], /--apply without --fix/],
    [["--state", "s.json", "--fail-on-new", "fatal"], /Cannot parse --fail-on-new/],
    [["--forecast", "--forecast-threshold", "120"], /Cannot parse --forecast-threshold/],
  ];
  for (const [args, message] of cases) {
    const nb = netbox(inventory());
    const t = fakeIO(nb.fetch);
    assert.equal(await main(args, t.io), 2, args.join(" "));
    assert.match(t.err(), message);
  }
});

Deno.test("audit-ips --format sarif, junit and prometheus pass their validators", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/s.json`;
    const render = async (format: string) => {
      const t = fakeIO(netbox(inventory()).fetch);
      t.io.readTextFile = (p) => Deno.readTextFile(p);
      assert.equal(await main(["--format", format, "--state", state], t.io), 0);
      return t.out();
    };
    const sarif = await render("sarif");
    assert.deepEqual(sarifErrors(sarif), []);
    assert.equal(JSON.parse(sarif).runs[0].results[0].baselineState, "new");
    const junit = checkJunit(await render("junit"));
    const cases = junit.testsuites.testsuite[0].testcase;
    assert.ok(cases.length >= 15);
    assert.equal(cases.filter((c: Row) => c.failure).length, 1);
    const prom = checkPrometheus(await render("prometheus"));
    assert.equal(
      prom.get("netbox_audit_findings")!.find((m) => m.labels.rule === "orphan-address")!.value,
      "1",
    );
    assert.equal(
      prom.get("netbox_audit_last_success_timestamp_seconds")![0].value,
      String(Date.parse("2026-01-01T00:00:00Z") / 1000),
    );
    assert.ok(prom.get("netbox_audit_prefix_utilization_ratio")!.length >= 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit-ips --fix prints the plan and sends no write; --dry-run --apply neither", async () => {
  for (const extra of [[], ["--apply", "--dry-run"]]) {
    const tables = { ...inventory(), "extras/tags": [] };
    const nb = netbox(tables);
    const methods: string[] = [];
    const t = fakeIO((input, init) => {
      methods.push(new Request(input, init).method);
      return nb.fetch(input, init);
    });
    assert.equal(await main(["--fix", ...extra], t.io), 0, extra.join(" "));
    assert.ok(
      t.out().includes(
        "Fix plan (dry run; --apply writes it): 1 write, 0 findings left alone\n" +
          "  create tag audit-orphan\n" +
          "  orphan-address: ipam.ipaddress 2 (10.9.0.1/24): tags mine → mine, audit-orphan\n",
      ),
      t.out(),
    );
    assert.ok(methods.length > 5 && methods.every((m) => m === "GET"), methods.join());
    const t2 = fakeIO(netbox(tables).fetch);
    assert.equal(await main(["--fix", "--format", "json", ...extra], t2.io), 0);
    const fixes = JSON.parse(t2.out()).fixes;
    assert.equal(fixes.applied, false);
    assert.deepEqual(fixes.items.map((i: Row) => [i.rule, i.object_id, i.status]), [
      ["orphan-address", 2, "planned"],
    ]);
  }
});
