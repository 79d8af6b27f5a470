/**
 * Listing against the real NetBox: 3,000 IP addresses (bulk-created in a VRF of their own) listed
 * sequentially and in parallel, in cursor mode and in offset mode, give identical results.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client.ts";
import type { NetBoxClient, NetBoxObject } from "../../lib/types.ts";
import { dropVrf } from "./_cleanup.ts";
import { netboxTest, testEnv } from "./_netbox.ts";

const COUNT = 3000;

function client(options: { verbose?: boolean; log?: (line: string) => void } = {}): NetBoxClient {
  const env = testEnv();
  return createClient({
    url: env.url,
    token: env.token,
    timeoutMs: 120_000,
    log: () => {},
    ...options,
  });
}

function addresses(n: number): string[] {
  // 10.200.0.0/20 holds 4,096 hosts; skip every 7th to leave gaps in the data
  const out: string[] = [];
  for (let i = 1; out.length < n; i++) {
    if (i % 7 === 0) continue;
    out.push(`10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/16`);
  }
  return out;
}

const ids = (items: NetBoxObject[]) => items.map((x) => x.id);

netboxTest("listing 3,000 IPs sequentially and in parallel gives identical results", async () => {
  const lines: string[] = [];
  const nb = client({ verbose: true, log: (line) => lines.push(line) });
  const vrf = await nb.ipam.vrfs.create({ name: `list-${crypto.randomUUID().slice(0, 8)}` });
  try {
    const bodies = addresses(COUNT).map((address) => ({ address, vrf: vrf.id, status: "active" }));
    const created = await nb.ipam.ipAddresses.create(bodies, { chunkSize: 250 });
    assert.equal(created.failed.length, 0, created.failed[0]?.error.message);
    // Make the id space uneven: delete a run of 400 in the middle.
    const gap = created.succeeded.slice(1200, 1600).map((x) => (x as NetBoxObject).id);
    assert.equal((await nb.ipam.ipAddresses.delete(gap)).failed.length, 0);
    const expected = COUNT - gap.length;
    const filters = { vrf_id: vrf.id };

    for (const pageSize of [1000, 150]) {
      const sequential = await nb.ipam.ipAddresses.all(filters, { parallel: false, pageSize });
      lines.length = 0;
      const parallel = await nb.ipam.ipAddresses.all(filters, { pageSize, concurrency: 4 });
      assert.equal(sequential.length, expected);
      assert.deepEqual(ids(parallel), ids(sequential), `cursor mode, page size ${pageSize}`);
      assert.deepEqual(parallel, sequential);
      assert.ok(lines.some((l) => l.includes("id__lt=")), "the listing was split into id ranges");
      assert.deepEqual(ids(sequential), [...ids(sequential)].sort((a, b) => a - b));
    }

    const ordering = "-address";
    const seqOffset = await nb.ipam.ipAddresses.all(filters, {
      ordering,
      parallel: false,
      pageSize: 400,
    });
    const parOffset = await nb.ipam.ipAddresses.all(filters, { ordering, pageSize: 400 });
    assert.equal(seqOffset.length, expected);
    assert.deepEqual(ids(parOffset), ids(seqOffset), "offset mode");

    let streamed = 0;
    for await (const ip of nb.ipam.ipAddresses.list(filters, { fields: ["id", "address"] })) {
      assert.deepEqual(Object.keys(ip).sort(), ["address", "id"]);
      if (++streamed === 1500) break;
    }
    assert.equal(await nb.ipam.ipAddresses.count(filters), expected);
  } finally {
    await dropVrf(nb, vrf.id);
    nb.close();
  }
});

netboxTest(
  "a page size above the server maximum is clamped and the listing stays complete",
  async () => {
    const nb = client();
    const all = await nb.ipam.vrfs.all({}, { pageSize: 5000, parallel: false });
    assert.equal(all.length, await nb.ipam.vrfs.count());
    nb.close();
  },
);
