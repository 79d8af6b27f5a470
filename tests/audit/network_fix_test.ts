import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { planFixes } from "../../lib/audit/fix.ts";
import type { Finding } from "../../lib/audit/model.ts";
import { FakeNetBox } from "../_fake_netbox.ts";

const BASE = "http://127.0.0.1:9";

function client(ips: { id: number; address: string; vrf?: unknown; tags?: unknown[] }[]) {
  const nb = new FakeNetBox({
    host: BASE,
    tables: {
      "ipam/vrfs": [{ id: 4, name: "blue" }],
      "ipam/ip-addresses": ips.map((i) => ({ vrf: null, tags: [], status: "active", ...i })),
      "extras/tags": [{ id: 1, name: "discovered", slug: "discovered" }],
    },
  });
  return createClient({ url: BASE, token: "nbt_abcdefghijkl.secretsecret", fetch: nb.fetch });
}

function live(address: string, vrf: string | null): Finding {
  return {
    rule: "live-undocumented",
    severity: "warning",
    object_type: "ipam.ipaddress",
    object_id: 0,
    address,
    vrf,
    url: null,
    message: "live",
    related: [],
  };
}

Deno.test("planFixes() never creates an address NetBox has in that VRF when planning", async () => {
  const c = client([{ id: 1, address: "10.0.0.9/24" }]);
  try {
    const plan = await planFixes(c, [
      live("10.0.0.9/24", null), // NetBox has it now (made since the audit)
      live("10.0.0.9/24", "blue"), // not in blue: created there
      live("10.0.0.10/24", "green"), // no such VRF
    ]);
    assert.deepEqual(plan.items.map((i) => [i.label, i.body.vrf, i.body.status]), [
      ["10.0.0.9/24", 4, "active"],
    ]);
    assert.deepEqual(plan.skipped.map((s) => s.reason), [
      "NetBox has 10.0.0.9 in that VRF now (10.0.0.9/24)",
      "0 VRFs are named green",
    ]);
    assert.deepEqual(plan.create_tags, []); // "discovered" exists
  } finally {
    c.close();
  }
});

Deno.test("planFixes() tags documented-unseen addresses once, never ignored ones", async () => {
  const c = client([
    { id: 1, address: "10.0.0.1/24" },
    { id: 2, address: "10.0.0.2/24", tags: [{ slug: "audit-unseen", name: "audit-unseen" }] },
    { id: 3, address: "10.0.0.3/24", tags: [{ slug: "audit-ignore", name: "audit-ignore" }] },
  ]);
  const unseen = (id: number): Finding => ({
    ...live(`10.0.0.${id}/24`, null),
    rule: "documented-unseen",
    object_id: id,
  });
  try {
    const plan = await planFixes(c, [unseen(1), unseen(2), unseen(3)]);
    assert.deepEqual(plan.items.map((i) => [i.object_id, i.body]), [
      [1, { tags: [{ slug: "audit-unseen" }] }],
    ]);
    assert.deepEqual(plan.skipped.map((s) => s.reason), [
      "the address is already tagged audit-unseen",
      "the address is tagged audit-ignore",
    ]);
    assert.deepEqual(plan.create_tags, ["audit-unseen"]);
  } finally {
    c.close();
  }
});
