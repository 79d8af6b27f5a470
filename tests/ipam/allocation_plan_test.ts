/**
 * lib/ipam/allocation_plan.ts against the fake NetBox: a site plan in dependency order, again
 * with nothing written, all or none when a step fails, and plans refused before anything is
 * sent (cycles, unknown references, missing values).
 */
import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { InputError } from "../../lib/client/errors.ts";
import type { NetBoxClient } from "../../lib/client/types.ts";
import {
  AllocationPlanError,
  applyAllocationPlan,
  parseAllocationPlan,
} from "../../lib/ipam/allocation_plan.ts";
import { FakeNetBox } from "../_fake_netbox.ts";
import { rejection } from "../_assert.ts";

const PLAN = `
key: "site-{site}"
allocations:
  - {name: gw, kind: ip, parent_id: "{servers.id}", dns_name: "gw.{site}.example.com"}
  - {name: servers, kind: prefix, parent: 10.40.0.0/16, length: 24, description: "{site} servers"}
  - {name: links, kind: prefix, filter: {role: p2p}, length: 31, count: 2}
  - {name: vlan, kind: vlan, group: "{site}-vlans", vlan_name: "srv-{servers}"}
  - {name: asn, kind: asn, range: private}
`;

function setup(asnRoom = true) {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "10.40.0.0/16", status: "container" });
  const role = nb.add("role", { name: "p2p", slug: "p2p" });
  nb.add("prefix", { prefix: "10.41.0.0/29", status: "container", role: role.id });
  nb.add("vlangroup", { name: "dc3-vlans", slug: "dc3-vlans", vid_ranges: [[10, 20]] });
  nb.add("ipam/asn-ranges", { name: "private", slug: "private", start: 64600, end: 64601 });
  if (!asnRoom) {
    nb.add("ipam/asns", { asn: 64600 });
    nb.add("ipam/asns", { asn: 64601 });
  }
  const client: NetBoxClient = createClient({
    url: nb.host,
    token: "nbt_abcdefghijkl.0123456789",
    fetch: nb.fetch,
  });
  return { nb, client };
}

const marked = (nb: FakeNetBox) =>
  ["prefix", "vlan", "ipam/asns", "ip"].flatMap((t) =>
    nb.table(t).filter((o) => String(o.comments ?? "").startsWith("netbox-toolkit allocation"))
  );

Deno.test("applyAllocationPlan() runs the steps in dependency order with references; again, nothing is written", async () => {
  const { nb, client } = setup();
  const plan = parseAllocationPlan(PLAN, "dc3.yaml");
  const steps = await applyAllocationPlan(client, plan, { set: { site: "dc3" } });
  assert.deepEqual(steps.map((s) => `${s.name}=${s.values.join(" ")}`), [
    "servers=10.40.0.0/24",
    "gw=10.40.0.1/24",
    "links=10.41.0.0/31 10.41.0.2/31",
    "vlan=10",
    "asn=64600",
  ]);
  assert.equal(nb.table("vlan")[0].name, "srv-10.40.0.0/24");
  assert.equal(nb.table("ip")[0].dns_name, "gw.dc3.example.com");
  assert.ok(
    String(nb.table("ip")[0].comments).startsWith("netbox-toolkit allocation key=site-dc3.gw "),
  );
  const writes = nb.writes().length;
  const again = await applyAllocationPlan(client, plan, { set: { site: "dc3" } });
  assert.ok(again.every((s) => s.allocated.length === 0 && s.existing.length > 0));
  assert.equal(nb.writes().length, writes);
  client.close();
});

Deno.test("applyAllocationPlan() is all or none: the 5th step's pool is full, the four before are deleted again", async () => {
  const { nb, client } = setup(false);
  const plan = parseAllocationPlan(PLAN);
  const err = await rejection(applyAllocationPlan(client, plan, { set: { site: "dc3" } }));
  assert.ok(err instanceof AllocationPlanError, String(err));
  assert.equal(err.step, "asn");
  assert.equal(err.exitCode, 3);
  assert.equal(err.rolledBack.length, 5); // vlan, 2 links, gw, servers
  assert.match(err.message, /step "asn" failed: Cannot allocate 1 ASN: no pool has room: private/);
  assert.deepEqual(marked(nb), []);
  client.close();
});

Deno.test("applyAllocationPlan() --dry-run writes nothing and defers steps that need a step not made yet", async () => {
  const { nb, client } = setup();
  const steps = await applyAllocationPlan(client, parseAllocationPlan(PLAN), {
    set: { site: "dc3" },
    dryRun: true,
  });
  assert.deepEqual(
    steps.map((s) => `${s.name}=${s.planned.join(" ")}${s.deferred ? ` (${s.deferred})` : ""}`),
    [
      "servers=10.40.0.0/24",
      "gw= (after servers is made)",
      "links=10.41.0.0/31 10.41.0.2/31",
      "vlan= (after servers is made)",
      "asn=64600",
    ],
  );
  assert.deepEqual(nb.writes(), []);
  client.close();
});

Deno.test("parseAllocationPlan() and applyAllocationPlan() refuse a cycle, an unknown field, a missing value — nothing sent", async () => {
  const cycle = `key: k
allocations:
  - {name: a, kind: ip, parent_id: "{b.id}"}
  - {name: b, kind: prefix, parent_id: "{a.id}", length: 30}`;
  assert.throws(
    () => parseAllocationPlan(cycle, "p.yaml"),
    (e: Error) =>
      e instanceof InputError &&
      e.message === "Cannot use p.yaml: the allocations refer to each other in a cycle: a → b → a",
  );
  assert.throws(
    () => parseAllocationPlan("key: k\nallocations: [{name: a, kind: asn, colour: red}]", "p.yaml"),
    /allocation "a": unknown field "colour"/,
  );
  assert.throws(
    () => parseAllocationPlan("key: k\nallocations: [{name: a, kind: subnet}]", "p.yaml"),
    /allocation "a": expected kind prefix, vlan, asn, ip/,
  );
  const { nb, client } = setup();
  const err = await rejection(applyAllocationPlan(client, parseAllocationPlan(PLAN), {}));
  assert.ok(err instanceof InputError);
  assert.match(err.message, /no value for \{site\} \(give it with --set site=…\)/);
  assert.deepEqual(nb.requests, []);
  client.close();
});

Deno.test("the README's site plan is a valid plan", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const block = readme.slice(readme.indexOf("**Site plans, all or none.**")).match(
    /```yaml\n([\s\S]*?)```/,
  );
  assert.ok(block, "no yaml block after **Site plans, all or none.**");
  const plan = parseAllocationPlan(block[1], "README.md");
  assert.deepEqual(plan.steps.map((s) => s.kind), ["prefix", "prefix", "vlan", "asn", "ip"]);
});
