/**
 * lib/ipam/allocate.ts against the shared fake NetBox: keys, policies, full pools, lost answers
 * and bad input — what a caller gets back, what is thrown, and what NetBox holds afterwards.
 */
import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { InputError, OutcomeUnknownError } from "../../lib/client/errors.ts";
import type { NetBoxClient } from "../../lib/client/types.ts";
import {
  allocateAsns,
  allocatePrefixes,
  allocateVlans,
  PoolsExhaustedError,
} from "../../lib/ipam/allocate.ts";
import { FakeNetBox } from "../_fake_netbox.ts";
import { rejection } from "../_assert.ts";

/** The error a promise rejects with, checked to be of that class. */
async function refused<E extends Error>(
  p: Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  cls: new (...args: any[]) => E,
): Promise<E> {
  const err = await rejection(p);
  assert(err instanceof cls, `expected ${cls.name}, got ${err}`);
  return err;
}

function clientOf(nb: FakeNetBox, fetch: typeof globalThis.fetch = nb.fetch): NetBoxClient {
  return createClient({ url: nb.host, token: "nbt_abcdefghijkl.0123456789", fetch });
}

/** Two p2p parents: a /28 with half its room used, and an empty /28. */
function prefixes() {
  const nb = new FakeNetBox();
  const role = nb.add("role", { name: "p2p", slug: "p2p" });
  const busy = nb.add("prefix", { prefix: "10.9.0.0/28", status: "container", role: role.id });
  const empty = nb.add("prefix", { prefix: "10.9.1.0/28", status: "container", role: role.id });
  nb.add("prefix", { prefix: "10.9.0.0/29", status: "active" });
  return { nb, busy, empty, client: clientOf(nb) };
}

const held = (nb: FakeNetBox, path: string) =>
  nb.table(path).filter((o) => String(o.comments ?? "").startsWith("netbox-toolkit allocation"));

Deno.test("allocatePrefixes() with a key: the second call returns the same prefixes and writes nothing", async () => {
  const { nb, busy, client } = prefixes();
  const options = { length: 31, count: 2, key: "links-a" };
  const first = await allocatePrefixes(client, { parentId: busy.id }, options);
  assert.deepEqual(first.allocated.map((p) => p.prefix), ["10.9.0.8/31", "10.9.0.10/31"]);
  const writes = nb.writes().length;
  const again = await allocatePrefixes(client, { parentId: busy.id }, options);
  assert.deepEqual(again.existing.map((p) => p.id), first.allocated.map((p) => p.id));
  assert.equal(again.allocated.length, 0);
  assert.equal(nb.writes().length, writes);
  // A bigger count tops the key up.
  const more = await allocatePrefixes(client, { parentId: busy.id }, { ...options, count: 3 });
  assert.equal(more.existing.length, 2);
  assert.deepEqual(more.allocated.map((p) => p.prefix), ["10.9.0.12/31"]);
  assert.equal(held(nb, "prefix").length, 3);
  client.close();
});

Deno.test("allocatePrefixes() from one parent with nothing to weigh: the parent's lookup and the locked POST, nothing else", async () => {
  const { nb, busy, client } = prefixes();
  const r = await allocatePrefixes(client, { parentId: busy.id }, { length: 30 });
  assert.deepEqual(r.allocated.map((p) => p.prefix), ["10.9.0.8/30"]);
  assert.equal(r.pool?.utilization, undefined);
  assert.deepEqual(nb.requests.map((q) => q.replace(/\?.*/, "")), [
    "GET status",
    `GET ipam/prefixes/${busy.id}`,
    `POST ipam/prefixes/${busy.id}/available-prefixes`,
  ]);
  // A policy measures the pools first (and says how full the one used was).
  const least = await allocatePrefixes(client, { parentId: busy.id }, {
    length: 30,
    policy: "least-used",
  });
  assert.equal(least.pool?.utilization, 75);
  assert.ok(
    nb.requests.some((q) => q.startsWith(`GET ipam/prefixes/${busy.id}/available-prefixes`)),
  );
  client.close();
});

Deno.test("allocatePrefixes() policies: first, least-used and most-used pick their pool; headroom skips", async () => {
  const { nb, client } = prefixes();
  const ref = { filters: { role: "p2p" } };
  const dry = { length: 30, dryRun: true };
  const first = await allocatePrefixes(client, ref, dry);
  assert.equal(first.pool?.label, "10.9.0.0/28");
  assert.deepEqual(first.planned, ["10.9.0.8/30"]);
  const least = await allocatePrefixes(client, ref, { ...dry, policy: "least-used" });
  assert.equal(least.pool?.label, "10.9.1.0/28");
  assert.deepEqual(least.planned, ["10.9.1.0/30"]);
  const most = await allocatePrefixes(client, ref, { ...dry, policy: "most-used" });
  assert.equal(most.pool?.label, "10.9.0.0/28");
  const roomy = await allocatePrefixes(client, ref, { ...dry, headroom: 60 });
  assert.equal(roomy.pool?.label, "10.9.1.0/28");
  assert.deepEqual(roomy.skipped.map((s) => s.pool), ["10.9.0.0/28"]);
  assert.match(roomy.skipped[0].reason, /^headroom: would reach 75% \(limit 60%\)/);
  assert.equal(nb.writes().length, 0);
  client.close();
});

/** Change-log rows (`core/object-changes`) of creates, `daysAgo` before now. */
function creates(nb: FakeNetBox, type: string, rows: [number, Record<string, unknown>][]) {
  const now = Date.now();
  nb.load(
    "core/object-changes",
    rows.map(([daysAgo, data], i) => ({
      id: 9000 + nb.table("core/object-changes").length + i,
      time: new Date(now - daysAgo * 86_400_000).toISOString(),
      action: { value: "create", label: "Created" },
      changed_object_type: type,
      postchange_data: data,
    })),
  );
}

Deno.test("allocatePrefixes() --min-days-left: a parent forecast full too soon is skipped, from the change-log fit", async () => {
  const { nb, client } = prefixes();
  // 10.9.0.0/28 (8 of 16 free): a /31 (2 addresses) a day for 5 days → 2 a day → 4 days left.
  creates(nb, "ipam.prefix", [
    ...[5, 4, 3, 2, 1].map((d, i): [number, Record<string, unknown>] => [
      d,
      { prefix: `10.9.0.${8 + 2 * (i % 4)}/31`, vrf: null },
    ]),
    // Not the global parent's: another VRF, the other parent itself, outside both.
    ...[5, 4, 3, 2, 1].map((d): [number, Record<string, unknown>] => [
      d,
      { prefix: "10.9.1.0/31", vrf: 7 },
    ]),
    [3, { prefix: "10.9.1.0/28", vrf: null }],
    [2, { prefix: "10.9.1.0/30", vrf: null }],
    [2, { prefix: "10.10.0.0/31", vrf: null }],
  ]);
  const ref = { filters: { role: "p2p" } };
  const dry = { length: 30, dryRun: true };
  const soon = await allocatePrefixes(client, ref, { ...dry, minDaysLeft: 30 });
  assert.equal(soon.pool?.label, "10.9.1.0/28");
  assert.deepEqual(soon.skipped.map((s) => `${s.pool}: ${s.reason}`), [
    "10.9.0.0/28: forecast: 4 days left (< 30)",
  ]);
  // 10.9.1.0/28 had one create of its own: no rate, never skipped by the forecast.
  const later = await allocatePrefixes(client, ref, { ...dry, minDaysLeft: 3.5 });
  assert.equal(later.pool?.label, "10.9.0.0/28");
  assert.deepEqual(later.skipped, []);
  // Only asked for when the option is given: one listing of the prefix creates per call.
  const reads = nb.requests.filter((r) => r.startsWith("GET core/object-changes"));
  assert.equal(reads.length, 2);
  assert.match(reads[0], /changed_object_type=ipam\.prefix/);
  assert.match(reads[0], /action=create/);
  await allocatePrefixes(client, ref, dry);
  assert.equal(nb.requests.filter((r) => r.startsWith("GET core/object-changes")).length, 2);
  for (const bad of [0, -1, NaN]) {
    await refused(allocatePrefixes(client, ref, { ...dry, minDaysLeft: bad }), InputError);
  }
  assert.equal(nb.writes().length, 0);
  client.close();
});

Deno.test("allocateVlans() --min-days-left: the VLANs created in each group give its rate; all too soon is exit 3", async () => {
  const nb = new FakeNetBox();
  const busy = nb.add("vlangroup", { name: "g-busy", slug: "g-busy", vid_ranges: [[10, 29]] });
  const calm = nb.add("vlangroup", { name: "g-calm", slug: "g-calm", vid_ranges: [[30, 49]] });
  for (let vid = 10; vid < 20; vid++) nb.add("vlan", { vid, name: `b${vid}`, group: busy.id });
  // g-busy: 10 VLANs in 4.5 days (2 a day), 10 free → 5 days left; g-calm: 2 in 10 days (0.1
  // a day), 20 free → 200 days.
  creates(nb, "ipam.vlan", [
    ...Array.from({ length: 10 }, (_, i): [number, Record<string, unknown>] => [
      5 - i / 2,
      { vid: 10 + i, group: busy.id },
    ]),
    [10, { vid: 30, group: calm.id }],
    [0, { vid: 31, group: calm.id }],
  ]);
  const client = clientOf(nb);
  const ref = { filters: { name: ["g-busy", "g-calm"] } };
  const r = await allocateVlans(client, ref, { name: "x", minDaysLeft: 7, dryRun: true });
  assert.equal(r.pool?.label, "g-calm");
  assert.deepEqual(r.skipped.map((s) => `${s.pool}: ${s.reason}`), [
    "g-busy: forecast: 5 days left (< 7)",
  ]);
  const err = await refused(
    allocateVlans(client, ref, { name: "x", minDaysLeft: 365 }),
    PoolsExhaustedError,
  );
  assert.match(
    err.message,
    /g-busy \(forecast: 5 days left \(< 365\)\), g-calm \(forecast: 200 days left \(< 365\)\)/,
  );
  assert.equal(nb.writes().length, 0);
  client.close();
});

Deno.test("allocatePrefixes() skips a full parent and says why; none with room is PoolsExhaustedError", async () => {
  const { nb, client } = prefixes();
  const r = await allocatePrefixes(client, { filters: { role: "p2p" } }, { length: 29, count: 2 });
  assert.equal(r.pool?.label, "10.9.1.0/28");
  assert.deepEqual(r.skipped, [{
    pool: "10.9.0.0/28",
    id: r.skipped[0].id,
    reason: "full: 1 of 2 fit",
  }]);
  const writes = nb.writes().length;
  const err = await refused(
    allocatePrefixes(client, { filters: { role: "p2p" } }, { length: 29, count: 2 }),
    PoolsExhaustedError,
  );
  assert.equal(err.exitCode, 3);
  // Several pools are measured first: none with room, nothing sent.
  assert.equal(nb.writes().length, writes);
  assert.match(
    err.message,
    /10\.9\.0\.0\/28 \(full: 1 of 2 fit\), 10\.9\.1\.0\/28 \(full: 0 of 2 fit\)/,
  );
  assert.equal(held(nb, "prefix").length, 2);
  client.close();
});

Deno.test("allocatePrefixes() refuses bad input before writing: a length outside the parent, --count 0, an unknown parent", async () => {
  const { nb, busy, client } = prefixes();
  const outside = await refused(
    allocatePrefixes(client, { parentId: busy.id }, { length: 24, labels: { length: "--length" } }),
    InputError,
  );
  assert.equal(
    outside.message,
    "Cannot use --length 24: length /24 is outside 10.9.0.0/28 (expected 29-32)",
  );
  await refused(
    allocatePrefixes(client, { parentId: busy.id }, { length: 31, count: 0 }),
    InputError,
  );
  await refused(allocatePrefixes(client, { parent: "10.77.0.0/16" }, { length: 31 }), InputError);
  await refused(allocatePrefixes(client, { parentId: 999 }, { length: 31 }), InputError);
  await refused(
    allocatePrefixes(client, { parentId: busy.id }, { length: 31, key: "a b" }),
    InputError,
  );
  assert.equal(nb.writes().length, 0);
  client.close();
});

Deno.test("allocateVlans(): a full group is skipped for the next; names from the template; all full names both", async () => {
  const nb = new FakeNetBox();
  const full = nb.add("vlangroup", { name: "g-full", slug: "g-full", vid_ranges: [[10, 11]] });
  nb.add("vlangroup", { name: "g-next", slug: "g-next", vid_ranges: [[20, 22]] });
  nb.add("vlan", { vid: 10, name: "x10", group: full.id });
  nb.add("vlan", { vid: 11, name: "x11", group: full.id });
  const client = clientOf(nb);
  const ref = { filters: { name: ["g-full", "g-next"] } };
  const r = await allocateVlans(client, ref, { name: "srv-{n:02}", count: 2, key: "k1" });
  assert.deepEqual(r.allocated.map((v) => [v.vid, v.name]), [[20, "srv-01"], [21, "srv-02"]]);
  assert.deepEqual(r.skipped.map((s) => `${s.pool}: ${s.reason}`), ["g-full: full: 0 of 2 fit"]);
  const again = await allocateVlans(client, ref, { name: "srv-{n:02}", count: 2, key: "k1" });
  assert.deepEqual(again.existing.map((v) => v.vid), [20, 21]);
  const err = await refused(
    allocateVlans(client, ref, { name: "y-{n}", count: 2 }),
    PoolsExhaustedError,
  );
  assert.match(
    err.message,
    /^Cannot allocate 2 VLANs: no pool has room: g-full \(full: 0 of 2 fit\), g-next \(full: 1 of 2 fit\)$/,
  );
  await refused(allocateVlans(client, { pool: "nope" }, { name: "z" }), InputError);
  client.close();
});

Deno.test("allocateAsns(): NetBox's 409 moves on to the next range", async () => {
  const nb = new FakeNetBox();
  const a = nb.add("ipam/asn-ranges", {
    name: "r-a",
    slug: "r-a",
    start: 64600,
    end: 64601,
    rir: null,
  });
  nb.add("ipam/asn-ranges", { name: "r-b", slug: "r-b", start: 64700, end: 64709, rir: null });
  // The count says r-a has room; NetBox's lock then finds it taken (a concurrent allocation).
  const fetch: typeof globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (
      init?.method === "POST" && url.pathname === `/api/ipam/asn-ranges/${a.id}/available-asns/`
    ) {
      return Promise.resolve(
        Response.json({ detail: "Insufficient resources are available to satisfy the request" }, {
          status: 409,
        }),
      );
    }
    return nb.fetch(input, init);
  };
  const client = clientOf(nb, fetch);
  const r = await allocateAsns(client, { filters: { name: ["r-a", "r-b"] } }, { count: 2 });
  assert.deepEqual(r.allocated.map((o) => o.asn), [64700, 64701]);
  assert.equal(r.pool?.label, "r-b");
  assert.deepEqual(r.skipped.map((s) => s.reason), [
    "NetBox: Insufficient resources are available to satisfy the request",
  ]);
  assert.deepEqual(nb.table("ipam/asns").map((o) => o.asn), [64700, 64701]);
  client.close();
});

/** A NetBox whose answers to available-* POSTs are lost; it acts on them only when `lands`. */
function lostAnswers(lands: boolean) {
  const nb = new FakeNetBox();
  const g = nb.add("vlangroup", { name: "g", slug: "g", vid_ranges: [[100, 199]] });
  let posts = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (init?.method === "POST" && url.pathname.endsWith("/available-vlans/")) {
      posts++;
      if (lands) await nb.fetch(input, init);
      throw new TypeError("connection reset by peer");
    }
    return nb.fetch(input, init);
  };
  const client = createClient({
    url: nb.host,
    token: "nbt_abcdefghijkl.0123456789",
    fetch,
    retries: 0,
    settleMs: 0,
  });
  return { nb, g, client, posts: () => posts };
}

Deno.test("allocateVlans() after a lost answer: the run's marker proves the write landed (sent once)", async () => {
  const { nb, client, posts } = lostAnswers(true);
  const r = await allocateVlans(client, { pool: "g" }, { name: "v-{n}", count: 2, key: "lost" });
  assert.deepEqual(r.allocated.map((v) => v.vid), [100, 101]);
  assert.equal(posts(), 1);
  assert.equal(nb.table("vlan").length, 2);
  client.close();
});

Deno.test("allocateVlans() after a lost answer that never shows up: unknown, never sent twice", async () => {
  const { nb, client, posts } = lostAnswers(false);
  const err = await refused(
    allocateVlans(client, { pool: "g" }, { name: "v-{n}", count: 2, key: "lost" }),
    OutcomeUnknownError,
  );
  assert.equal(err.exitCode, 1);
  assert.match(err.message, /look for comments "netbox-toolkit allocation key=lost run=/);
  assert.equal(posts(), 1);
  assert.equal(nb.table("vlan").length, 0);
  client.close();
});

Deno.test("allocatePrefixes() with a key another run allocated for at the same time: the key keeps the first, this run's are deleted again", async () => {
  const { nb, busy } = prefixes();
  let raced = false;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (!raced && init?.method === "POST" && url.pathname.endsWith("/available-prefixes/")) {
      raced = true; // the other run's request lands first
      const body = JSON.stringify([{
        prefix_length: 31,
        comments: "netbox-toolkit allocation key=race run=other",
      }]);
      await nb.fetch(input, { ...init, body });
    }
    return nb.fetch(input, init);
  };
  const client = clientOf(nb, fetch);
  const warnings: string[] = [];
  const r = await allocatePrefixes(client, { parentId: busy.id }, {
    length: 31,
    key: "race",
    onWarning: (m) => warnings.push(m),
  });
  assert.deepEqual(r.existing.map((p) => p.prefix), ["10.9.0.8/31"]);
  assert.deepEqual(r.allocated, []);
  assert.deepEqual(held(nb, "prefix").map((p) => p.prefix), ["10.9.0.8/31"]);
  assert.match(
    warnings[0],
    /another run allocated for key race at the same time; deleted this run's 1 prefix again \(10\.9\.0\.10\/31 id \d+\)/,
  );
  client.close();
});
