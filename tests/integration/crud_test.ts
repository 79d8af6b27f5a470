/**
 * The endpoint verbs against the real NetBox: create, get, find, list, count, update and delete on
 * sites, tags, VRFs, prefixes and IP addresses; field trimming; `available-ips` list + reserve.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import {
  AllocationError,
  FilterError,
  NetBoxError,
  NetBoxHttpError,
} from "../../lib/client/errors.ts";
import type { NetBoxClient } from "../../lib/client/types.ts";
import { dropVrf } from "./_cleanup.ts";
import { netboxTest, testEnv } from "./_netbox.ts";

const suffix = () => crypto.randomUUID().slice(0, 8);

function client(): NetBoxClient {
  const env = testEnv();
  return createClient({ url: env.url, token: env.token, timeoutMs: 120_000, log: () => {} });
}

netboxTest("sites and tags: create, get, find, list, count, update, delete", async () => {
  const nb = client();
  const s = suffix();
  const tag = await nb.extras.tags.create({ name: `crud-${s}`, slug: `crud-${s}` });
  const created: number[] = [];
  try {
    for (const n of [1, 2]) {
      const site = await nb.dcim.sites.create({
        name: `crud-${s}-${n}`,
        slug: `crud-${s}-${n}`,
        status: "planned",
        tags: [{ slug: tag.slug }],
      });
      created.push(site.id);
    }
    const [a, b] = created;
    const got = await nb.dcim.sites.get(a);
    assert.equal(got.name, `crud-${s}-1`);
    assert.deepEqual(await nb.dcim.sites.get(a, { fields: ["id", "slug"] }), {
      id: a,
      slug: `crud-${s}-1`,
    });
    assert.ok(!("comments" in await nb.dcim.sites.get(a, { omit: ["comments"] })));
    assert.equal((await nb.dcim.sites.find({ slug: `crud-${s}-2` }))?.id, b);
    assert.equal(await nb.dcim.sites.find({ slug: `nope-${s}` }), undefined);
    await assert.rejects(nb.dcim.sites.find({ tag: tag.slug as string }), /2 objects match/);
    assert.equal(await nb.dcim.sites.count({ tag: tag.slug as string }), 2);
    const listed = await nb.dcim.sites.all({ tag: tag.slug as string }, { brief: true });
    assert.deepEqual(listed.map((x) => x.id).sort(), [a, b].sort());
    assert.ok(!("status" in listed[0]), "brief objects have no status");
    const updated = await nb.dcim.sites.update(a, { description: "updated" });
    assert.equal(updated.description, "updated");
    await assert.rejects(
      // @ts-expect-error a typo is a compile error; the guard also catches it at run time
      nb.dcim.sites.all({ tga: tag.slug as string }),
      (err) => err instanceof FilterError && err.suggestions.includes("tag"),
    );
    await nb.dcim.sites.delete(a);
    await assert.rejects(
      nb.dcim.sites.get(a),
      (err) => err instanceof NetBoxHttpError && err.status === 404,
    );
    created.shift();
  } finally {
    if (created.length) await nb.dcim.sites.delete(created);
    await nb.extras.tags.delete(tag.id);
    nb.close();
  }
});

netboxTest("VRFs, prefixes and IP addresses: CRUD and available-ips list + reserve", async () => {
  const nb = client();
  const s = suffix();
  const vrf = await nb.ipam.vrfs.create({ name: `crud-${s}`, enforce_unique: true });
  try {
    const prefix = await nb.ipam.prefixes.create({
      prefix: "10.77.0.0/29",
      vrf: vrf.id,
      status: "active",
      description: `crud-${s}`,
    });
    assert.equal(
      (await nb.ipam.prefixes.find({ vrf_id: vrf.id, prefix: "10.77.0.0/29" }))?.id,
      prefix.id,
    );
    const ip = await nb.ipam.ipAddresses.create({ address: "10.77.0.1/29", vrf: vrf.id });
    assert.equal((await nb.ipam.ipAddresses.get(ip.id)).address, "10.77.0.1/29");
    await nb.ipam.ipAddresses.update(ip.id, { dns_name: "Host.Example.COM" });
    assert.equal((await nb.ipam.ipAddresses.get(ip.id)).dns_name, "host.example.com");

    const free = nb.ipam.prefixes.availableIps(prefix.id);
    const listed = await free.list({ limit: 3 });
    assert.deepEqual(listed.map((x) => x.address), [
      "10.77.0.2/29",
      "10.77.0.3/29",
      "10.77.0.4/29",
    ]);
    assert.equal(listed[0].vrf?.id, vrf.id);
    const one = await free.create({ status: "reserved", description: `crud-${s}` });
    assert.equal(one.length, 1);
    assert.equal(one[0].address, "10.77.0.2/29");
    const more = await free.create([{ status: "reserved" }, { status: "reserved" }]);
    assert.deepEqual(more.map((x) => x.address), ["10.77.0.3/29", "10.77.0.4/29"]);
    assert.equal((await free.list()).length, 2); // .5 and .6 remain in a /29
    await assert.rejects(free.create([{}, {}, {}]), AllocationError);
    assert.equal(await nb.ipam.ipAddresses.count({ vrf_id: vrf.id }), 4);

    const ids = (await nb.ipam.ipAddresses.all({ vrf_id: vrf.id })).map((x) => x.id);
    const deleted = await nb.ipam.ipAddresses.delete(ids);
    assert.equal(deleted.succeeded.length, 4);
    await nb.ipam.prefixes.delete(prefix.id);
  } finally {
    await dropVrf(nb, vrf.id);
    nb.close();
  }
});

netboxTest("a VRF with addresses cannot be deleted: the 409 names the blockers", async () => {
  const nb = client();
  const s = suffix();
  const full = await nb.ipam.vrfs.create({ name: `crud-full-${s}` });
  const empty = await nb.ipam.vrfs.create({ name: `crud-empty-${s}` });
  try {
    await nb.ipam.ipAddresses.create({ address: "10.78.0.1/24", vrf: full.id });
    const result = await nb.ipam.vrfs.delete([full.id, empty.id]);
    assert.deepEqual(result.succeeded, [{ id: empty.id }]);
    assert.equal(result.failed.length, 1);
    assert.equal(result.failed[0].index, 0);
    assert.ok(result.failed[0].error instanceof NetBoxError);
    assert.match(result.failed[0].error.message, /dependent objects were found: 10\.78\.0\.1\/24/);
  } finally {
    await dropVrf(nb, full.id);
    await nb.ipam.vrfs.delete([empty.id]);
    nb.close();
  }
});
