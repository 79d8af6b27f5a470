import assert from "node:assert/strict";
import { main } from "../../tasks/audit-ips.ts";
import type { TaskIO } from "../../lib/cli/io.ts";
import type { Scheduler } from "../../lib/audit/schedule.ts";
import { FakeNetBox, type Obj } from "../_fake_netbox.ts";

const BASE = "http://127.0.0.1:9";

function inventory(): Record<string, Obj[]> {
  const ip = (
    id: number,
    address: string,
    status: string,
    extra: Record<string, unknown> = {},
  ) => ({
    id,
    url: `${BASE}/api/ipam/ip-addresses/${id}/`,
    address,
    status: { value: status, label: status },
    dns_name: "",
    tags: [],
    ...extra,
  });
  return {
    "ipam/vrfs": [{ id: 1, name: "blue", rd: null }],
    "ipam/ip-addresses": [
      ip(1, "10.0.0.1/24", "active", {
        assigned_object_type: "dcim.interface",
        assigned_object_id: 11,
        assigned_object: { id: 11, name: "eth0", device: { id: 1, name: "d1" } },
        dns_name: "d1.example.net",
      }),
      ip(2, "10.0.0.2/24", "reserved"),
      ip(3, "10.0.0.3/24", "active"),
    ],
    "ipam/prefixes": [{ id: 1, url: `${BASE}/api/ipam/prefixes/1/`, prefix: "10.0.0.0/24" }],
    "ipam/ip-ranges": [],
    "dcim/devices": [{ id: 1, name: "d1", status: { value: "active" }, primary_ip4: { id: 1 } }],
    "virtualization/virtual-machines": [],
    "dcim/interfaces": [],
    "virtualization/interfaces": [],
    "dcim/mac-addresses": [
      {
        id: 1,
        mac_address: "00:11:22:33:44:01",
        assigned_object_type: "dcim.interface",
        assigned_object_id: 11,
      },
    ],
  };
}

function setup(files: Record<string, string>) {
  const nb = new FakeNetBox({ host: BASE, tables: inventory() });
  const requests: URL[] = [];
  let now = new Date("2026-12-01T00:00:00Z");
  const out: string[] = [];
  const err: string[] = [];
  const io: TaskIO = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: (name) =>
      ({ NETBOX_URL: BASE, NETBOX_TOKEN: "nbt_abcdefghijkl.secretsecretsecret" } as Record<
        string,
        string
      >)[name],
    stderrIsTerminal: false,
    fetch: (input, init) => {
      requests.push(new URL(input instanceof Request ? input.url : String(input)));
      return nb.fetch(input, init);
    },
    // The observation files are in memory; the state file is a real one.
    readTextFile: (path) => path in files ? Promise.resolve(files[path]) : Deno.readTextFile(path),
    now: () => now,
  };
  return {
    io,
    requests,
    out: () => out.join(""),
    err: () => err.join(""),
    reset: () => (out.length = 0, err.length = 0),
    setNow: (d: string) => now = new Date(d),
  };
}

const ARP = [
  "? (10.0.0.1) at 00:11:22:33:44:99 [ether] on eth0", // wrong MAC
  "? (10.0.0.2) at 00:11:22:33:44:02 [ether] on eth0", // reserved but live
  "? (10.0.0.9) at 00:11:22:33:44:09 [ether] on eth0", // undocumented
  "? (10.0.0.4) at <incomplete> on eth0",
].join("\n") + "\n";

Deno.test("audit-ips --list-rules shows the network rules, off by default", async () => {
  const t = setup({});
  assert.equal(await main(["--list-rules"], t.io), 0);
  for (const id of ["live-undocumented", "documented-unseen", "mac-mismatch", "status-mismatch"]) {
    assert.match(t.out(), new RegExp(`^${id}\\s+\\w+\\s+off `, "m"));
  }
});

Deno.test("audit-ips without --observed runs no network rule", async () => {
  const t = setup({});
  assert.equal(await main(["--format", "json"], t.io), 0);
  const doc = JSON.parse(t.out());
  assert.equal(doc.summary.rules.includes("live-undocumented"), false);
  assert.equal(t.requests.some((u) => u.pathname.includes("mac-addresses")), false);
});

Deno.test("audit-ips --observed reports each network rule where planted", async () => {
  const t = setup({ "arp.txt": ARP });
  const code = await main(
    ["--observed", "arp.txt", "--unseen-days", "0", "--format", "json", "--fail-on", "never"],
    t.io,
  );
  assert.equal(code, 0, t.err());
  const doc = JSON.parse(t.out());
  const network = doc.items.filter((f: { rule: string }) =>
    ["live-undocumented", "documented-unseen", "mac-mismatch", "status-mismatch"].includes(f.rule)
  ).map((f: { rule: string; address: string }) => `${f.rule} ${f.address}`);
  assert.deepEqual(network.sort(), [
    "documented-unseen 10.0.0.3/24",
    "live-undocumented 10.0.0.9/24",
    "mac-mismatch 10.0.0.1/24",
    "status-mismatch 10.0.0.2/24",
  ]);
  const macs = t.requests.filter((u) => u.pathname === "/api/dcim/mac-addresses/");
  assert.ok(macs.length >= 1 && macs.every((u) => u.searchParams.get("fields")));
});

Deno.test("audit-ips --observed with --state keeps last sightings over three runs", async () => {
  const seen3 = "? (10.0.0.3) at 00:11:22:33:44:03 [ether] on eth0\n";
  const files = { "day1.txt": ARP + seen3, "day2.txt": ARP };
  const t = setup(files);
  const state = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.remove(state);
    const run = async (file: string, day: string) => {
      t.reset();
      t.setNow(day);
      const args = [
        "--observed",
        file,
        "--state",
        state,
        "--unseen-days",
        "10",
        "--format",
        "json",
      ];
      assert.equal(await main(args, t.io), 0, t.err());
      return JSON.parse(t.out());
    };
    const unseen = (doc: { items: { rule: string; address: string }[] }) =>
      doc.items.filter((f) => f.rule === "documented-unseen").map((f) => f.address);
    // Day 1: 10.0.0.3 seen. Day 5: not seen, 4 days < 10. Day 20: 19 days since.
    assert.deepEqual(unseen(await run("day1.txt", "2026-12-01T00:00:00Z")), []);
    const kept = JSON.parse(await Deno.readTextFile(state));
    assert.equal(kept.seen["0/10.0.0.3"], "2026-12-01T00:00:00.000Z");
    assert.equal(kept.observed_since, "2026-12-01T00:00:00.000Z");
    assert.deepEqual(unseen(await run("day2.txt", "2026-12-05T00:00:00Z")), []);
    const third = await run("day2.txt", "2026-12-20T00:00:00Z");
    assert.deepEqual(unseen(third), ["10.0.0.3/24"]);
    const f = third.items.find((i: { rule: string }) => i.rule === "documented-unseen");
    assert.match(f.message, /last seen 2026-12-01T00:00:00.000Z \(19 days; limit 10\)/);
    assert.equal(f.baseline, "new");
    // The undocumented address persists under a key of its own (no NetBox id).
    const live = third.items.find((i: { rule: string }) => i.rule === "live-undocumented");
    assert.equal(live.baseline, "persisting");
    assert.equal(live.key, "live-undocumented:global:10.0.0.9/24");
  } finally {
    await Deno.remove(state).catch(() => {});
  }
});

Deno.test("audit-ips --observed refuses bad input with exit 2 before contacting NetBox", async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--observed", "x.txt"], { "x.txt": "hello world\n" }, /x\.txt: not one of the formats/],
    [
      ["--observed", "x.txt"],
      { "x.txt": "10.0.0.1 dev eth0 lladdr 00:11:22:33:44:01 REACHABLE\nbroken\n" },
      /x\.txt:2 \(ip-neigh\)/,
    ],
    [["--observed", "vrf=blue"], {}, /expected FILE or vrf=NAME:FILE/],
    [["--observed", "x.txt", "--observed-format", "pcap"], { "x.txt": ARP }, /--observed-format/],
    [["--observed-format", "csv"], {}, /without --observed/],
    [["--observed", "x.txt", "--tenant", "t"], { "x.txt": ARP }, /with --tenant/],
    [["--observed", "x.txt", "--unseen-days", "-1"], { "x.txt": ARP }, /--unseen-days/],
    [["--observed", "missing.txt"], {}, /Cannot read missing\.txt/],
    [
      ["--observed", "x.txt", "--discovered-status", "live"],
      { "x.txt": ARP },
      /--discovered-status: expected one of active, reserved/,
    ],
  ];
  for (const [args, files, message] of cases) {
    const t = setup(files);
    assert.equal(await main(args, t.io), 2, args.join(" "));
    assert.match(t.err(), message);
    assert.equal(t.requests.length, 0, `${args.join(" ")} contacted NetBox`);
  }
});

Deno.test("audit-ips --observed vrf=NAME:FILE names an unknown VRF (exit 2)", async () => {
  const t = setup({ "x.txt": ARP });
  assert.equal(await main(["--observed", "vrf=green:x.txt"], t.io), 2);
  assert.match(t.err(), /Cannot find VRF "green"/);
});

Deno.test("audit-ips --observed --fix --apply creates the undocumented, tags the unseen, then clean", async () => {
  const t = setup({ "arp.txt": ARP });
  const args = ["--observed", "arp.txt", "--unseen-days", "0", "--format", "json"];
  assert.equal(await main([...args, "--fix"], t.io), 0, t.err());
  const planned = JSON.parse(t.out()).fixes;
  assert.equal(planned.applied, false);
  assert.deepEqual(
    planned.items.map((i: { rule: string; label: string }) => `${i.rule} ${i.label}`),
    ["live-undocumented 10.0.0.9/24", "documented-unseen 10.0.0.3/24"],
  );
  assert.deepEqual(planned.create_tags, ["discovered", "audit-unseen"]);
  t.reset();
  const apply = ["--fix", "--apply", "--discovered-status", "reserved"];
  assert.equal(await main([...args, ...apply], t.io), 0, t.err());
  const applied = JSON.parse(t.out()).fixes;
  assert.deepEqual(applied.items.map((i: { status: string }) => i.status), ["applied", "applied"]);
  // Read back through the audit: the created address carries the status and tag named.
  t.reset();
  assert.equal(await main([...args, "--fail-on", "never"], t.io), 0, t.err());
  const after = JSON.parse(t.out());
  const rules = after.items.map((f: { rule: string; address: string }) => `${f.rule} ${f.address}`);
  assert.equal(rules.some((r: string) => r.startsWith("live-undocumented")), false, rules);
  assert.equal(rules.some((r: string) => r.startsWith("documented-unseen")), false, rules);
  // The new address is reserved and live: status-mismatch says so.
  assert.ok(rules.includes("status-mismatch 10.0.0.9/24"), rules);
});

Deno.test("audit-ips --probe: answers are sightings; bounded by --probe-limit", async () => {
  const t = setup({});
  const tried: string[] = [];
  const connect = (host: string, port: number) => {
    tried.push(`${host}:${port}`);
    return Promise.resolve(host === "10.0.0.2"); // only the reserved one answers
  };
  const args = ["--probe", "tcp:22", "--unseen-days", "0", "--format", "json"];
  assert.equal(await main([...args, "--fail-on", "never"], t.io, { connect }), 0, t.err());
  const doc = JSON.parse(t.out());
  const network = doc.items.filter((f: { rule: string }) =>
    ["live-undocumented", "documented-unseen", "mac-mismatch", "status-mismatch"].includes(f.rule)
  ).map((f: { rule: string; address: string }) => `${f.rule} ${f.address}`).sort();
  assert.deepEqual(network, [
    "documented-unseen 10.0.0.1/24",
    "documented-unseen 10.0.0.3/24",
    "status-mismatch 10.0.0.2/24",
  ]);
  assert.deepEqual(tried.sort(), ["10.0.0.1:22", "10.0.0.2:22", "10.0.0.3:22"]);
  // Three addresses in scope, a limit of two: refused before any probe.
  const u = setup({});
  tried.length = 0;
  assert.equal(await main([...args, "--probe-limit", "2"], u.io, { connect }), 2);
  assert.match(u.err(), /Cannot probe 3 addresses: more than the limit of 2/);
  assert.equal(tried.length, 0);
  const v = setup({});
  assert.equal(await main(["--probe", "udp:53"], v.io, { connect }), 2);
  assert.match(v.err(), /expected tcp:PORT/);
  assert.equal(v.requests.length, 0);
});

Deno.test("audit-ips --ptr reports a PTR that does not name the address; off without it", async () => {
  const asked: string[] = [];
  const ptrResolver = (name: string) => {
    asked.push(name);
    return Promise.resolve(name === "1.0.0.10.in-addr.arpa" ? ["other.example.net."] : []);
  };
  const t = setup({});
  assert.equal(await main(["--ptr", "--format", "json"], t.io, { ptrResolver }), 0, t.err());
  const ptr = JSON.parse(t.out()).items.filter((f: { rule: string }) => f.rule === "ptr-mismatch");
  assert.deepEqual(ptr.map((f: { address: string; message: string }) => [f.address, f.message]), [
    ["10.0.0.1/24", "the PTR of 10.0.0.1 names other.example.net, not its DNS name d1.example.net"],
  ]);
  assert.deepEqual(asked, ["1.0.0.10.in-addr.arpa"]); // the only address with a DNS name
  asked.length = 0;
  const u = setup({});
  assert.equal(await main(["--format", "json"], u.io, { ptrResolver }), 0);
  assert.equal(asked.length, 0);
  const v = setup({});
  assert.equal(await main(["--nameserver", "127.0.0.1"], v.io, { ptrResolver }), 2);
  assert.match(v.err(), /Cannot use --nameserver without --ptr/);
  const w = setup({});
  assert.equal(await main(["--ptr", "--nameserver", "ns.example"], w.io), 2);
  assert.match(w.err(), /Cannot parse --nameserver "ns\.example"/);
  assert.equal(w.requests.filter((r) => !r.pathname.endsWith("/status/")).length, 0);
});

Deno.test("audit-ips --observed renders a finding without a NetBox object in every format", async () => {
  const formats = ["table", "csv", "markdown", "html", "sarif", "junit", "prometheus", "yaml"];
  for (const format of formats) {
    const t = setup({ "arp.txt": ARP });
    const code = await main(
      ["--observed", "arp.txt", "--format", format, "--fail-on", "never"],
      t.io,
    );
    assert.equal(code, 0, `${format}: ${t.err()}`);
    if (format !== "prometheus") assert.match(t.out(), /10\.0\.0\.9/, format);
    else assert.match(t.out(), /rule="live-undocumented"/);
  }
});

Deno.test("audit-ips --observed --schedule reads the observation files again on each run", async () => {
  const files: Record<string, string> = { "arp.txt": ARP };
  const t = setup(files);
  const dir = await Deno.makeTempDir();
  try {
    const output = `${dir}/audit.json`;
    let runs = 0;
    const scheduler: Scheduler = (_pattern, fire) => {
      const timer = setInterval(() => {
        // The second run sees a table without the undocumented address.
        if (++runs === 2) files["arp.txt"] = ARP.replace(/.*10\.0\.0\.9.*\n/, "");
        fire();
      }, 5);
      return { stop: () => clearInterval(timer) };
    };
    const args = ["--observed", "arp.txt", "--format", "json", "--output", output];
    const code = await main(
      [...args, "--fail-on", "never", "--schedule", "* * * * *", "--max-runs", "2"],
      t.io,
      { scheduler },
    );
    assert.equal(code, 0, t.err());
    const doc = JSON.parse(await Deno.readTextFile(output));
    assert.equal(doc.summary.by_rule["live-undocumented"], undefined);
    assert.equal(doc.summary.by_rule["mac-mismatch"], 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
