/**
 * Listing against the real NetBox: 600 IP addresses (bulk-created in a VRF of their own) listed
 * sequentially and in parallel, with page sizes that split them into many pages, in cursor mode and in offset mode, give identical results; 1,050
 * RIRs of our own listed with a page size above the server's maximum (1,000) are clamped and
 * still complete; ASN ranges, whose `start` filter is also NetBox's cursor, are listed in full.
 * Every assertion is about objects the test created.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import type { WritableIPAddress } from "../../lib/client/models.ts";
import type { NetBoxClient, NetBoxObject } from "../../lib/client/types.ts";
import { dropVrf } from "./_cleanup.ts";
import {
  createNamed,
  deleteIds,
  fetchOk,
  netboxTest,
  type RecordedRequest,
  recordingFetch,
  serverVersion,
  testEnv,
  uniqueName,
  versionAtLeast,
} from "./_netbox.ts";

const COUNT = 600;

function client(
  options: { verbose?: boolean; log?: (line: string) => void; fetch?: typeof fetch } = {},
): NetBoxClient {
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

/** `10.200.1.2/16` → its 32-bit number. */
const ipNumber = (address: string) =>
  address.split("/")[0].split(".").reduce((n, octet) => n * 256 + Number(octet), 0);

netboxTest("listing 600 IPs sequentially and in parallel gives identical results", async () => {
  const lines: string[] = [];
  const nb = client({ verbose: true, log: (line) => lines.push(line) });
  // Cursor paging (start=<id>) exists from NetBox 4.6; before, the client lists by offset.
  const cursor = versionAtLeast(await serverVersion(testEnv()), 4, 6);
  const vrf = await nb.ipam.vrfs.create({ name: `list-${crypto.randomUUID().slice(0, 8)}` });
  try {
    const bodies = addresses(COUNT).map((address): WritableIPAddress => ({
      address,
      vrf: vrf.id,
      status: "active",
    }));
    const created = await nb.ipam.ipAddresses.create(bodies, { chunkSize: 100 });
    assert.equal(created.failed.length, 0, created.failed[0]?.error.message);
    // Make the id space uneven: delete a run of 80 in the middle.
    const gap = created.succeeded.slice(240, 320).map((x) => (x as NetBoxObject).id);
    assert.equal((await nb.ipam.ipAddresses.delete(gap)).failed.length, 0);
    const expected = COUNT - gap.length;
    const filters = { vrf_id: vrf.id };

    for (const pageSize of [200, 30]) {
      const sequential = await nb.ipam.ipAddresses.all(filters, { parallel: false, pageSize });
      lines.length = 0;
      const parallel = await nb.ipam.ipAddresses.all(filters, { pageSize, concurrency: 4 });
      assert.equal(sequential.length, expected);
      assert.deepEqual(
        ids(parallel),
        ids(sequential),
        `${cursor ? "cursor" : "offset"} mode, page size ${pageSize}`,
      );
      assert.deepEqual(parallel, sequential);
      if (cursor) {
        assert.ok(lines.some((l) => l.includes("id__lt=")), "the listing was split into id ranges");
        assert.ok(!lines.some((l) => /[?&]offset=/.test(l)), "cursor mode never sends offset");
      } else {
        assert.ok(lines.some((l) => /[?&]offset=\d/.test(l)), "the listing was split by offset");
        assert.ok(!lines.some((l) => /[?&]start=/.test(l)), "no cursor before NetBox 4.6");
      }
      if (cursor) {
        // Cursor mode lists in id order.
        assert.deepEqual(ids(sequential), [...ids(sequential)].sort((a, b) => a - b));
      } else {
        // Offset mode keeps NetBox's default ordering: by address (ids follow the order in
        // which the parallel bulk chunks arrived, not the addresses).
        const numbers = sequential.map((x) => ipNumber(String(x.address)));
        assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
      }
    }

    const ordering = "-address";
    const seqOffset = await nb.ipam.ipAddresses.all(filters, {
      ordering,
      parallel: false,
      pageSize: 80,
    });
    const parOffset = await nb.ipam.ipAddresses.all(filters, { ordering, pageSize: 80 });
    assert.equal(seqOffset.length, expected);
    assert.deepEqual(ids(parOffset), ids(seqOffset), "offset mode");

    let streamed = 0;
    for await (const ip of nb.ipam.ipAddresses.list(filters, { fields: ["id", "address"] })) {
      assert.deepEqual(Object.keys(ip).sort(), ["address", "id"]);
      if (++streamed === 300) break;
    }
    assert.equal(await nb.ipam.ipAddresses.count(filters), expected);
  } finally {
    await dropVrf(nb, vrf.id);
    nb.close();
  }
});

/** The list requests of a recording (not the status handshake, the schema or OPTIONS). */
const listRequests = (requests: RecordedRequest[], path: string) =>
  requests.filter((r) => r.method === "GET" && r.path === path);

netboxTest(
  "a page size above the server maximum is clamped (by NetBox, and the client's listing stays complete)",
  async () => {
    const env = testEnv();
    const cursor = versionAtLeast(await serverVersion(env), 4, 6);
    // 1,050 RIRs of our own (cheap to create and delete): more than the server's MAX_PAGE_SIZE
    // (1,000, NetBox's default, which provision.sh keeps), so a page size of 5,000 really is
    // clamped.
    const COUNT = 1050;
    const prefix = uniqueName("nbtk-clamp");
    const created = await createNamed(env, "ipam/rirs", prefix, COUNT);
    const rec = recordingFetch();
    const nb = client({ fetch: rec.fetch });
    const rirs = () => nb.endpoint("ipam/rirs/");
    try {
      assert.equal(created.length, COUNT);
      const want = [...created].sort((a, b) => a - b);
      const filters = { slug__isw: `${prefix}-` };
      const path = "/api/ipam/rirs/";

      // NetBox itself: limit=5000 gives MAX_PAGE_SIZE rows and a next link with limit=1000 …
      const q = `slug__isw=${prefix}-`;
      const big = await fetchOk(env, "GET", `${path}?${q}&limit=5000&brief=1`);
      assert.equal(big.count, COUNT);
      assert.equal(big.results.length, 1000, "limit=5000 is clamped to MAX_PAGE_SIZE");
      const next = new URL(big.next).searchParams;
      assert.equal(next.get("limit"), "1000");
      assert.equal(next.get("offset"), "1000");
      const restPage = await fetchOk(env, "GET", `${path}?${next}`);
      assert.equal(restPage.results.length, 50);
      assert.equal(restPage.next, null);
      assert.match(restPage.previous, /[?&]limit=1000(&|$)/);
      const seen = [...big.results, ...restPage.results].map((t: { id: number }) => t.id);
      assert.deepEqual(seen.sort((a, b) => a - b), want);
      // … and limit=0 means MAX_PAGE_SIZE rows, not everything.
      const zero = await fetchOk(env, "GET", `${path}?${q}&limit=0&brief=1`);
      assert.equal(zero.results.length, 1000);

      const sequential = await rirs().all(filters, { pageSize: 5000, parallel: false });
      assert.deepEqual(ids(sequential).sort((a, b) => a - b), want, "sequential: all ours, once");
      let pages = listRequests(rec.requests, path);
      // Asked for 5,000, the server sent 1,000 and a next link; the rest came in one more page.
      assert.equal(pages[0].query.get("limit"), "5000");
      assert.equal(pages[0].query.get(cursor ? "start" : "offset"), cursor ? "0" : null);
      assert.deepEqual(pages.map((p) => p.results), [1000, 50], "clamped to 1,000 a page");
      assert.equal(pages.length, 2);
      assert.ok(pages[0].next, "the clamped first page links to the rest");
      assert.equal(new URL(pages[0].next!).searchParams.get("limit"), "1000");
      assert.equal(pages[1].next, null);

      rec.requests.length = 0;
      const parallel = await rirs().all(filters, { pageSize: 5000, concurrency: 4 });
      assert.deepEqual(ids(parallel).sort((a, b) => a - b), want, "parallel: all ours, once");
      assert.deepEqual(ids(parallel), ids(sequential), "same order as the sequential listing");
      pages = listRequests(rec.requests, path);
      assert.equal(pages[0].query.get("limit"), "5000");
      assert.equal(pages[0].results, 1000);
      // After the clamped first page the client asks for the size the server really uses.
      const rest = pages.slice(1).filter((p) => p.query.get("fields") !== "id");
      assert.ok(rest.length >= 1);
      for (const p of rest) assert.equal(p.query.get("limit"), "1000", p.query.toString());
      if (cursor) {
        // one probe for the highest id (ordering=-id, fields=id), then one id range of 50
        const probes = pages.filter((p) => p.query.get("fields") === "id");
        assert.equal(probes.length, 1);
        assert.equal(probes[0].query.get("ordering"), "-id");
        assert.deepEqual(rest.map((p) => p.results), [50]);
        assert.equal(rest[0].query.get("start"), String(want[999] + 1));
      } else {
        assert.deepEqual(rest.map((p) => [p.query.get("offset"), p.results]), [["1000", 50]]);
      }
      assert.equal(await rirs().count(filters), COUNT);
    } finally {
      nb.close();
      await deleteIds(env, "ipam/rirs", created);
    }
  },
);

netboxTest(
  "ASN ranges are listed in full although their own filter `start` is the cursor's name",
  async () => {
    const env = testEnv();
    const name = uniqueName("nbtk-asnr");
    const rir = await fetchOk(env, "POST", "/api/ipam/rirs/", { name, slug: name });
    const ranges: { id: number }[] = [];
    const nb = client();
    try {
      for (const [i, start] of [[1, 4200000000], [2, 4200000100]] as const) {
        ranges.push(
          await fetchOk(env, "POST", "/api/ipam/asn-ranges/", {
            name: `${name}-${i}`,
            slug: `${name}-${i}`,
            rir: rir.id,
            start,
            end: start + 9,
          }),
        );
      }
      const listed = await nb.endpoint("ipam/asn-ranges/").all({ rir_id: rir.id });
      assert.deepEqual(
        ids(listed).sort((a, b) => a - b),
        ranges.map((r) => r.id).sort((a, b) => a - b),
      );
      assert.equal(await nb.endpoint("ipam/asn-ranges/").count({ rir_id: rir.id }), 2);
    } finally {
      nb.close();
      await deleteIds(env, "ipam/asn-ranges", ranges.map((r) => r.id));
      await deleteIds(env, "ipam/rirs", [rir.id]);
    }
  },
);
