import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { applyFixes, planFixes, renderFixPlan } from "../../lib/audit/fix.ts";
import { analyzeAudit } from "../../lib/audit/analyze.ts";
import { defaultAuditConfig } from "../../lib/audit/rules.ts";
import type { AuditData } from "../../lib/audit/model.ts";
import { FakeNetBox, type Obj } from "../_fake_netbox.ts";

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

/**
 * The shared fake NetBox over `tables` (keyed by list path with its slash, as the audit data
 * names them), storing writes as sent; `writes` lists them and `tables` shows what it holds.
 */
function netbox(input: Record<string, Row[]>) {
  const nb = new FakeNetBox({ tables: input as Record<string, Obj[]>, storeAsSent: true });
  const tables = new Proxy({} as Record<string, Row[]>, {
    get: (_, path: string) => nb.table(path),
  });
  const client = createClient({
    url: "http://nb.test",
    token: "nbt_abcdefghijkl.secret",
    fetch: nb.fetch,
  });
  return {
    client,
    tables,
    get writes() {
      return nb.sent.map((w) => {
        const [method, path] = w.request.split(" ");
        return { method, path: `${path.split("?")[0]}/`, body: w.body };
      });
    },
  };
}

const dev = (id: number, primary: number | null = null) => ({
  id,
  name: `d${id}`,
  status: "active",
  primary_ip4: primary === null ? null : { id: primary },
  tags: [],
});
const onDev = (device: number, iface: number) => ({
  assigned_object_type: "dcim.interface",
  assigned_object_id: iface,
  assigned_object: { id: iface, device: { id: device, name: `d${device}` } },
});
const ip = (id: number, address: string, extra: Row = {}) => ({
  id,
  address,
  status: "active",
  dns_name: "x.example",
  tags: [],
  vrf: null,
  ...extra,
});

function inventory(): Record<string, Row[]> {
  return {
    "ipam/ip-addresses/": [
      ip(1, "10.1.0.5/24", onDev(1, 11)), // d1: one IPv4 → primary fix
      ip(2, "10.1.0.6/24", onDev(2, 21)), // d2: two IPv4 → ambiguous
      ip(3, "10.1.0.7/24", onDev(2, 22)),
      ip(4, "10.2.0.9/16"), // mask: /16 in the /24 → fix
      ip(5, "10.3.0.9/16"), // mask: in a container → ambiguous
      ip(6, "10.4.0.9/16"), // mask: two equal closest prefixes → ambiguous
      ip(7, "10.2.0.10/32"), // host mask: left alone (not a finding in a pool? here not pool)
      ip(8, "10.9.9.9/24", { tags: [{ slug: "keep", name: "keep" }] }), // orphan → tag
      ip(9, "10.2.0.0/16"), // would become the network ID of 10.2.0.0/24
      ip(10, "10.5.0.9/16"), // mask fix, but another copy of the host exists in NetBox
      ip(12, "10.1.0.8/24", { ...onDev(3, 31), tags: [{ slug: "audit-ignore" }] }),
    ],
    "ipam/prefixes/": [
      { id: 1, prefix: "10.1.0.0/24", vrf: null },
      { id: 2, prefix: "10.2.0.0/24", vrf: null },
      { id: 3, prefix: "10.3.0.0/24", vrf: null, status: "container" },
      { id: 4, prefix: "10.4.0.0/24", vrf: null },
      { id: 5, prefix: "10.4.0.0/24", vrf: null },
      { id: 6, prefix: "10.5.0.0/24", vrf: null },
      { id: 7, prefix: "10.2.0.0/16", vrf: { id: 9 } }, // another VRF: never decides
    ],
    "dcim/devices/": [dev(1), dev(2), dev(3)],
    "extras/tags/": [{ id: 1, slug: "keep", name: "keep" }],
  };
}

function data(tables: Record<string, Row[]>): AuditData {
  return {
    ips: tables["ipam/ip-addresses/"].filter((r) => r.id !== 99) as never,
    prefixes: tables["ipam/prefixes/"].filter((p) => !p.vrf) as never,
    ranges: [],
    vrfs: [],
    interfaces: [],
    vmInterfaces: [],
    devices: tables["dcim/devices/"] as never,
    vms: [],
  };
}

Deno.test("planFixes plans only the unambiguous fixes and says why it skips the rest", async () => {
  const nb = netbox(inventory());
  // Only NetBox knows of this copy of 10.5.0.9 (outside the audit's scope).
  nb.tables["ipam/ip-addresses/"].push(ip(99, "10.5.0.9/28"));
  const d = data(nb.tables);
  const { findings } = analyzeAudit(d, defaultAuditConfig());
  const plan = await planFixes(nb.client, findings);
  const planned = plan.items.map((i) =>
    `${i.rule} ${i.object_id} ${i.changes[0].field}=${i.changes[0].new}`
  );
  assert.deepEqual(planned.sort(), [
    "mask-mismatch 4 address=10.2.0.9/24",
    "orphan-address 8 tags=keep, audit-orphan",
    "primary-missing 1 primary_ip4=10.1.0.5/24",
  ]);
  const skipped = Object.fromEntries(
    plan.skipped.map((s) => [`${s.rule} ${s.object_id}`, s.reason]),
  );
  assert.match(skipped["primary-missing 2"], /2 IPv4 candidates/);
  assert.match(skipped["mask-mismatch 5"], /container/);
  assert.match(skipped["mask-mismatch 6"], /2 prefixes 10\.4\.0\.0\/24 enclose it/);
  assert.match(skipped["mask-mismatch 7"], /host mask/);
  assert.match(skipped["mask-mismatch 9"], /network ID/);
  assert.match(skipped["mask-mismatch 10"], /other address\(es\) with host 10\.5\.0\.9.*99/);
  assert.equal(plan.items.find((i) => i.rule === "primary-missing")!.body.primary_ip4, 1);
  assert.deepEqual(plan.create_tags, ["audit-orphan"]);
  assert.equal(nb.writes.length, 0, "planning writes nothing");
  const text = renderFixPlan(plan);
  assert.match(text, /^Fix plan \(dry run; --apply writes it\): 3 writes/);
  assert.match(
    text,
    /mask-mismatch: ipam\.ipaddress 4 \(10\.2\.0\.9\/16\): address 10\.2\.0\.9\/16 → 10\.2\.0\.9\/24/,
  );
  assert.match(text, /primary_ip4 \(none\) → 10\.1\.0\.5\/24/);
  nb.client.close();
});

Deno.test("planFixes decides on NetBox's current objects, not the audit's snapshot", async () => {
  const nb = netbox(inventory());
  const d = structuredClone(data(nb.tables));
  const { findings } = analyzeAudit(d, defaultAuditConfig());
  // After the audit: someone sets d1's primary, marks the orphan audit-ignore, fixes one mask.
  nb.tables["dcim/devices/"][0].primary_ip4 = { id: 1 };
  nb.tables["ipam/ip-addresses/"][7].tags = [{ slug: "keep" }, { slug: "audit-ignore" }];
  nb.tables["ipam/ip-addresses/"][9].address = "10.5.0.9/24";
  const plan = await planFixes(nb.client, findings);
  assert.deepEqual(plan.items.map((i) => `${i.rule} ${i.object_id}`), ["mask-mismatch 4"]);
  const reasons = Object.fromEntries(
    plan.skipped.map((s) => [`${s.rule} ${s.object_id}`, s.reason]),
  );
  assert.match(reasons["primary-missing 1"], /has a primary IPv4 now/);
  assert.match(reasons["orphan-address 8"], /tagged audit-ignore/);
  assert.match(reasons["mask-mismatch 10"], /mask already matches/);
  nb.client.close();
});

Deno.test("applyFixes creates the tag, patches each endpoint in bulk and reports per item", async () => {
  const nb = netbox(inventory());
  const d = data(nb.tables);
  const { findings } = analyzeAudit(d, defaultAuditConfig());
  const plan = await planFixes(nb.client, findings);
  const result = await applyFixes(nb.client, plan);
  assert.deepEqual(result.created_tags, ["audit-orphan"]);
  assert.ok(result.outcomes.every((o) => o.status === "applied"));
  assert.deepEqual(nb.writes.map((w) => `${w.method} ${w.path}`), [
    "POST extras/tags/",
    "PATCH ipam/ip-addresses/",
    "PATCH dcim/devices/",
  ]);
  assert.equal((nb.writes[1].body as unknown[]).length, 3, "one bulk PATCH for the addresses");
  const byId = new Map(nb.tables["ipam/ip-addresses/"].map((r) => [r.id, r]));
  assert.equal(byId.get(4)!.address, "10.2.0.9/24");
  assert.deepEqual(byId.get(8)!.tags, [{ slug: "keep" }, { slug: "audit-orphan" }]);
  assert.equal(nb.tables["dcim/devices/"][0].primary_ip4, 1);
  assert.match(renderFixPlan(plan, result), /^Fixes applied: 4 writes/);
  nb.client.close();
});
