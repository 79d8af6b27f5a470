/**
 * Bulk writes against the real NetBox: 1,000 creates with 3 invalid items, updates and deletes
 * with unknown ids.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import type { NetBoxHttpError } from "../../lib/client/errors.ts";
import type { WritableIPAddress } from "../../lib/client/models.ts";
import type { NetBoxClient, NetBoxObject } from "../../lib/client/types.ts";
import { dropVrf } from "./_cleanup.ts";
import { netboxTest, serverVersion, testEnv } from "./_netbox.ts";

function client(): NetBoxClient {
  const env = testEnv();
  return createClient({ url: env.url, token: env.token, timeoutMs: 120_000, log: () => {} });
}

const BAD = [17, 500, 998];

netboxTest(
  "bulk create of 1,000 IPs with 3 invalid ones creates 997 and reports the 3",
  async () => {
    const nb = client();
    const vrf = await nb.ipam.vrfs.create({ name: `bulk-${crypto.randomUUID().slice(0, 8)}` });
    try {
      const bodies = Array.from({ length: 1000 }, (_, i): WritableIPAddress => ({
        address: `10.201.${(i + 1) >> 8}.${(i + 1) & 255}/16`,
        vrf: vrf.id,
        status: "active",
      }));
      bodies[BAD[0]].address = "not-an-address";
      // @ts-expect-error NetBox must refuse a status it does not know (the compiler does too)
      bodies[BAD[1]].status = "bogus";
      bodies[BAD[2]].dns_name = "not a dns name!";
      const result = await nb.ipam.ipAddresses.create(bodies);
      assert.equal(result.succeeded.length, 997);
      assert.deepEqual(result.failed.map((f) => f.index), BAD);
      const { major, minor } = await serverVersion(testEnv());
      if (major === 4 && minor <= 5) {
        // NetBox 4.3 - 4.5 cannot validate "not-an-address": a 500 (KeyError: 'data') for the
        // whole chunk, which the library splits until that item stands alone.
        assert.equal((result.failed[0].error as NetBoxHttpError).status, 500);
        assert.match(result.failed[0].messages.__all__?.[0] ?? "", /KeyError: 'data'/);
      } else {
        assert.ok(
          result.failed[0].messages.address?.length,
          JSON.stringify(result.failed[0].messages),
        );
      }
      assert.ok(
        result.failed[1].messages.status?.length,
        JSON.stringify(result.failed[1].messages),
      );
      assert.ok(
        result.failed[2].messages.dns_name?.length,
        JSON.stringify(result.failed[2].messages),
      );
      for (const f of result.failed) {
        assert.ok(Object.keys(f.messages).length > 0);
        assert.match(
          f.error.message,
          new RegExp(`^Cannot create item ${f.index} in ipam/ip-addresses/`),
        );
      }
      assert.equal(await nb.ipam.ipAddresses.count({ vrf_id: vrf.id }), 997);
      result.items.forEach((item, i) => assert.equal(item.index, i));
      const good = result.items[4];
      assert.ok(good.ok && (good.value as NetBoxObject).address === bodies[4].address);
    } finally {
      await dropVrf(nb, vrf.id);
      nb.close();
    }
  },
);

netboxTest("bulk update and delete report the ids NetBox skipped", async () => {
  const nb = client();
  const s = crypto.randomUUID().slice(0, 8);
  const created = await nb.extras.tags.create(
    [1, 2, 3].map((n) => ({ name: `bulk-${s}-${n}`, slug: `bulk-${s}-${n}` })),
  );
  assert.equal(created.failed.length, 0);
  const ids = created.succeeded.map((t) => (t as NetBoxObject).id);
  const unknown = 2_000_000_000;
  try {
    const updated = await nb.extras.tags.update([
      { id: ids[0], description: "one" },
      { id: unknown, description: "ghost" },
      { id: ids[2], description: "three" },
    ]);
    assert.deepEqual(updated.skippedIds, [unknown]);
    assert.equal(updated.succeeded.length, 2);
    assert.equal(updated.failed[0].index, 1);
    assert.equal((await nb.extras.tags.get(ids[2])).description, "three");

    const invalid = await nb.extras.tags.update([
      { id: ids[0], color: "zzzzzz" },
      { id: ids[1], description: "two" },
    ]);
    assert.deepEqual(invalid.failed.map((f) => f.index), [0]);
    assert.ok(invalid.failed[0].messages.color?.length, JSON.stringify(invalid.failed[0].messages));
    assert.equal((await nb.extras.tags.get(ids[1])).description, "two");

    const deleted = await nb.extras.tags.delete([ids[0], unknown, ids[1], ids[2]]);
    assert.deepEqual(deleted.skippedIds, [unknown]);
    assert.deepEqual(deleted.succeeded, [{ id: ids[0] }, { id: ids[1] }, { id: ids[2] }]);
    assert.equal(deleted.failed[0].index, 1);
    assert.equal(await nb.extras.tags.count({ id: ids }), 0);
  } finally {
    await nb.extras.tags.delete(ids).catch((err) => console.error(`cleanup failed: ${err}`));
    nb.close();
  }
});
