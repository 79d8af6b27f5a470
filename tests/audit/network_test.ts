import assert from "node:assert/strict";
import { checkNetwork, seenKey } from "../../lib/audit/network.ts";
import { type Observation, parseObservations } from "../../lib/audit/observed.ts";
import { defaultAuditConfig } from "../../lib/audit/rules.ts";
import type { AuditData, AuditIp } from "../../lib/audit/model.ts";
import { InputError } from "../../lib/client/errors.ts";

const NOW = new Date("2026-12-01T12:00:00Z");
const RULES = ["live-undocumented", "documented-unseen", "mac-mismatch", "status-mismatch"];

function config() {
  const c = defaultAuditConfig();
  for (const r of RULES) c.enabled.add(r);
  return c;
}

function ip(id: number, address: string, extra: Partial<AuditIp> = {}): AuditIp {
  return { id, address, status: "active", tags: [], ...extra };
}

/** 10.0.0.0/24 (global) with a DHCP range .100-.199, VRF blue with 10.0.0.0/24 too. */
function data(ips: AuditIp[]): AuditData {
  return {
    ips,
    prefixes: [
      { id: 1, prefix: "10.0.0.0/24" },
      { id: 2, prefix: "10.0.0.0/24", vrf: { id: 7, name: "blue" } },
      { id: 3, prefix: "10.1.0.0/24" },
    ],
    ranges: [{ id: 1, start_address: "10.0.0.100/24", end_address: "10.0.0.199/24" }],
    vrfs: [{ id: 7, name: "blue" }],
    interfaces: [],
    vmInterfaces: [],
    devices: [],
    vms: [],
  };
}

function neigh(lines: string[], vrf: string | null = null, file = "neigh.txt"): Observation[] {
  return parseObservations(lines.join("\n") + "\n", { file, vrf, now: NOW });
}

const at = (f: { rule: string; address: string | null }) => `${f.rule} ${f.address}`;

Deno.test("checkNetwork() fires each rule exactly where planted", () => {
  const observations = [
    ...neigh([
      "10.0.0.5 dev eth0 lladdr 00:11:22:33:44:05 REACHABLE", // documented, right MAC
      "10.0.0.6 dev eth0 lladdr 00:11:22:33:44:99 REACHABLE", // documented, wrong MAC
      "10.0.0.7 dev eth0 lladdr 00:11:22:33:44:07 REACHABLE", // reserved but live
      "10.0.0.9 dev eth0 lladdr 00:11:22:33:44:09 REACHABLE", // undocumented
      "10.2.0.1 dev eth0 lladdr 00:11:22:33:44:21 REACHABLE", // undocumented, no prefix
    ]),
    ...parseObservations(
      "0 00:11:22:33:44:50 10.0.0.150 a *\n0 00:11:22:33:44:51 10.0.0.51 b *\n",
      { file: "dnsmasq.leases", now: NOW },
    ),
  ];
  const macs = new Map([
    ["dcim.interface:5", ["00:11:22:33:44:05"]],
    ["dcim.interface:6", ["00:11:22:33:44:06", "00:11:22:33:44:66"]],
  ]);
  const onIf = (n: number) => ({
    assigned_object_type: "dcim.interface",
    assigned_object_id: n,
    assigned_object: { id: n, name: "eth0", device: { id: 1, name: "d1" } },
  });
  const { findings, seen, observed } = checkNetwork(
    data([
      ip(5, "10.0.0.5/24", onIf(5)),
      ip(6, "10.0.0.6/24", onIf(6)),
      ip(7, "10.0.0.7/24", { status: "reserved" }),
      ip(8, "10.0.0.8/24"), // active, unseen
      ip(150, "10.0.0.150/24", { status: "dhcp" }),
      ip(51, "10.0.0.51/24", { status: "dhcp" }),
      ip(60, "10.1.0.60/24"), // active, unseen, but its prefix is not observed
    ]),
    config(),
    { observations, now: NOW, unseenDays: 0, interfaceMacs: macs },
  );
  assert.deepEqual(findings.map(at).sort(), [
    "documented-unseen 10.0.0.8/24",
    "live-undocumented 10.0.0.9/24",
    "live-undocumented 10.2.0.1/32",
    "mac-mismatch 10.0.0.6/24",
    "status-mismatch 10.0.0.51/24",
    "status-mismatch 10.0.0.7/24",
  ]);
  const live = findings.find((f) => f.address === "10.0.0.9/24")!;
  assert.equal(live.object_id, 0);
  assert.deepEqual(live.related.map((r) => r.display), ["10.0.0.0/24"]);
  assert.match(live.message, /neigh\.txt:4, MAC 00:11:22:33:44:09/);
  const mac = findings.find((f) => f.rule === "mac-mismatch")!;
  assert.match(
    mac.message,
    /00:11:22:33:44:99 .* interface eth0 of d1 has 00:11:22:33:44:06, 00:11:22:33:44:66/,
  );
  assert.equal(observed, 7);
  assert.equal(seen[seenKey(null, "10.0.0.5")], NOW.toISOString());
});

Deno.test("checkNetwork() counts unseen days from the last sighting kept across runs", () => {
  const observations = neigh(["10.0.0.5 dev eth0 lladdr 00:11:22:33:44:05 REACHABLE"]);
  const ips = [ip(5, "10.0.0.5/24"), ip(8, "10.0.0.8/24"), ip(9, "10.0.0.9/24")];
  const lastSeen = {
    [seenKey(null, "10.0.0.8")]: "2026-11-25T12:00:00.000Z", // 6 days ago
    [seenKey(null, "10.0.0.9")]: "2026-10-01T12:00:00.000Z", // 61 days ago
  };
  const run = (unseenDays: number, since?: string) =>
    checkNetwork(data(ips), config(), {
      observations,
      now: NOW,
      unseenDays,
      lastSeen,
      observedSince: since,
    });
  assert.deepEqual(run(30).findings.map(at), ["documented-unseen 10.0.0.9/24"]);
  assert.match(
    run(30).findings[0].message,
    /last seen 2026-10-01T12:00:00.000Z \(61 days; limit 30\)/,
  );
  assert.deepEqual(run(5).findings.map(at), [
    "documented-unseen 10.0.0.8/24",
    "documented-unseen 10.0.0.9/24",
  ]);
  // The history keeps what this run did not see, and takes this run's sightings.
  const { seen } = run(30);
  assert.equal(seen[seenKey(null, "10.0.0.9")], "2026-10-01T12:00:00.000Z");
  assert.equal(seen[seenKey(null, "10.0.0.5")], NOW.toISOString());
  // Never seen: counted from when observing began.
  const fresh = checkNetwork(data([ip(8, "10.0.0.8/24"), ip(5, "10.0.0.5/24")]), config(), {
    observations,
    now: NOW,
    unseenDays: 30,
    observedSince: "2026-10-15T00:00:00.000Z",
  });
  assert.deepEqual(fresh.findings.map(at), ["documented-unseen 10.0.0.8/24"]);
  assert.match(fresh.findings[0].message, /not been seen since 2026-10-15/);
  // The first run: nothing is unseen for 30 days yet.
  assert.deepEqual(
    checkNetwork(data([ip(8, "10.0.0.8/24"), ip(5, "10.0.0.5/24")]), config(), {
      observations,
      now: NOW,
    }).findings,
    [],
  );
});

Deno.test("checkNetwork() matches observations to their VRF and scope", () => {
  const blue = neigh(["10.0.0.9 dev eth0 lladdr 00:11:22:33:44:09 REACHABLE"], "blue");
  const ips = [ip(1, "10.0.0.9/24")]; // global, not blue
  const { findings } = checkNetwork(data(ips), config(), { observations: blue, now: NOW });
  assert.deepEqual(findings.map((f) => [f.rule, f.address, f.vrf, f.related[0].object_id]), [
    ["live-undocumented", "10.0.0.9/24", "blue", 2],
  ]);
  // --vrf global: blue's sightings are out of scope; --parent elsewhere: all are.
  const inScope = (o: { vrfId?: number | null; parent?: string }) =>
    checkNetwork(data(ips), config(), { observations: blue, now: NOW, ...o }).findings.length;
  assert.equal(inScope({ vrfId: null }), 0);
  assert.equal(inScope({ vrfId: 7 }), 1);
  assert.equal(inScope({ parent: "10.1.0.0/16" }), 0);
  assert.throws(
    () =>
      checkNetwork(data(ips), config(), {
        observations: neigh(["10.0.0.9 dev eth0 lladdr 00:11:22:33:44:09 REACHABLE"], "nope"),
      }),
    (err: unknown) => err instanceof InputError && /Cannot find VRF "nope"/.test(err.message),
  );
});

Deno.test("checkNetwork() skips ignored and exempt addresses and rules that are off", () => {
  const observations = neigh([
    "10.0.0.7 dev eth0 lladdr 00:11:22:33:44:07 REACHABLE",
    "10.0.0.9 dev eth0 lladdr 00:11:22:33:44:09 REACHABLE",
    "2001:db8::9 dev eth0 lladdr 00:11:22:33:44:09 REACHABLE",
  ]);
  const ips = [ip(7, "10.0.0.7/24", { status: "reserved", tags: [{ slug: "audit-ignore" }] })];
  const c = config();
  c.exempt.prefixes.push("10.0.0.9/32");
  const { findings } = checkNetwork(data(ips), c, { observations, now: NOW });
  assert.deepEqual(findings.map(at), ["live-undocumented 2001:db8::9/128"]);
  c.enabled.delete("live-undocumented");
  assert.deepEqual(checkNetwork(data(ips), c, { observations, now: NOW }).findings, []);
});

Deno.test("checkNetwork() leaves a lease inside a range or pool prefix alone", () => {
  const leases = parseObservations(
    "0 00:11:22:33:44:50 10.0.0.100 a *\n0 00:11:22:33:44:51 10.0.0.199 b *\n" +
      "0 00:11:22:33:44:52 10.1.0.5 c *\n0 00:11:22:33:44:53 10.0.0.200 d *\n",
    { file: "leases", now: NOW },
  );
  const d = data([]);
  d.prefixes[2].is_pool = true;
  const c = config();
  c.enabled.delete("live-undocumented");
  const { findings } = checkNetwork(d, c, { observations: leases, now: NOW });
  assert.deepEqual(findings.map(at), ["status-mismatch 10.0.0.200/24"]);
  assert.equal(findings[0].object_id, 0);
});
