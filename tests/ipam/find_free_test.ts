/**
 * lib/ipam/find_free.ts directly: findFreeIps, findFreeIpsInEachPool, resolvePools and
 * reserveIps against the shared fake NetBox — what a caller gets back, what is thrown, and what
 * NetBox holds afterwards.
 */
import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { AllocationError, InputError, NetBoxHttpError } from "../../lib/client/errors.ts";
import type { NetBoxClient } from "../../lib/client/types.ts";
import {
  findFreeIps,
  findFreeIpsInEachPool,
  PoolExhaustedError,
  reserveIps,
  resolvePools,
} from "../../lib/ipam/find_free.ts";
import { LookupError } from "../../lib/ipam/lookup.ts";
import { FakeNetBox, type FakeNetBoxOptions } from "../_fake_netbox.ts";
import { rejection } from "../_assert.ts";

function clientOf(nb: FakeNetBox, fetch: typeof globalThis.fetch = nb.fetch): NetBoxClient {
  return createClient({ url: nb.host, token: "nbt_abcdefghijkl.0123456789", fetch });
}

/** 192.168.3.0/24 in the global table with .1 and .3 taken. */
function setup(options: FakeNetBoxOptions = {}) {
  const nb = new FakeNetBox(options);
  const prefix = nb.add("prefix", { prefix: "192.168.3.0/24", vrf: null, status: "active" });
  nb.add("ip", { address: "192.168.3.1/24" });
  nb.add("ip", { address: "192.168.3.3/24" });
  return { nb, prefix, client: clientOf(nb) };
}

/** The stored addresses, in id order. */
const stored = (nb: FakeNetBox) => nb.ips().map((ip) => ip.address);

// --- findFreeIps -------------------------------------------------------------------------------

Deno.test("findFreeIps() lists the first free addresses of a prefix in the global table", async () => {
  const { nb, prefix, client } = setup();
  const r = await findFreeIps(client, { prefix: "192.168.3.0/24" }, { count: 3 });
  assert.deepEqual(r.free, ["192.168.3.2/24", "192.168.3.4/24", "192.168.3.5/24"]);
  assert.equal(r.complete, true);
  assert.equal(r.requested, 3);
  assert.equal(r.matched, 1);
  assert.equal(r.pool.object.id, prefix.id);
  assert.equal(r.pool.vrfName, null);
  assert.deepEqual(r.existing, []);
  assert.ok(nb.requests.some((q) => q.includes("vrf_id=null")), "global table: vrf_id=null");
  assert.deepEqual(nb.writes(), []);
});

Deno.test("findFreeIps() counts 1 by default and accepts a CIDR written with host bits", async () => {
  const { client } = setup();
  const r = await findFreeIps(client, { prefix: "192.168.3.77/24" });
  assert.deepEqual(r.free, ["192.168.3.2/24"]);
});

Deno.test("findFreeIps() lists beyond the server's cap by computing the rest", async () => {
  const { client } = setup({ maxPageSize: 50 });
  const r = await findFreeIps(client, { prefix: "192.168.3.0/24" }, { count: 200 });
  assert.equal(r.free.length, 200);
  assert.equal(new Set(r.free).size, 200);
  assert.ok(!r.free.includes("192.168.3.1/24") && !r.free.includes("192.168.3.3/24"));
  assert.equal(r.free[0], "192.168.3.2/24");
  assert.equal(r.free.at(-1), "192.168.3.202/24");
  assert.equal(r.freeTotal, 252n, "254 usable minus 2 taken");
  assert.equal(r.complete, true);
});

Deno.test("findFreeIps() returns what there is, incomplete, when fewer are free", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "10.0.0.0/29", vrf: null });
  const r = await findFreeIps(clientOf(nb), { prefix: "10.0.0.0/29" }, { count: 10 });
  assert.deepEqual(r.free, [1, 2, 3, 4, 5, 6].map((n) => `10.0.0.${n}/29`));
  assert.equal(r.complete, false);
  assert.equal(r.freeTotal, 6n);
});

Deno.test("findFreeIps() skip leaves the first usable addresses out", async () => {
  const { client } = setup();
  const r = await findFreeIps(client, { prefix: "192.168.3.0/24" }, { skip: 4, count: 2 });
  assert.deepEqual(r.free, ["192.168.3.5/24", "192.168.3.6/24"]);
});

Deno.test("findFreeIps() skip beyond the server's cap still skips exactly", async () => {
  const { client } = setup({ maxPageSize: 10 });
  const r = await findFreeIps(client, { prefix: "192.168.3.0/24" }, { skip: 20, count: 3 });
  assert.deepEqual(r.free, ["192.168.3.21/24", "192.168.3.22/24", "192.168.3.23/24"]);
});

Deno.test("findFreeIps() returns the first addresses of an IPv6 /64 without enumerating it", async () => {
  const nb = new FakeNetBox({ maxPageSize: 2 });
  nb.add("prefix", { prefix: "2001:db8:1::/64", vrf: null });
  nb.add("ip", { address: "2001:db8:1::2/64" });
  const r = await findFreeIps(clientOf(nb), { prefix: "2001:db8:1::/64" }, { count: 3 });
  assert.deepEqual(r.free, ["2001:db8:1::1/64", "2001:db8:1::3/64", "2001:db8:1::4/64"]);
  assert.equal(r.freeTotal, 2n ** 64n - 2n, "all but the subnet-router anycast and ::2");
});

Deno.test("findFreeIps() looks the prefix up in the VRF named by RD, name or id", async () => {
  const nb = new FakeNetBox();
  const blue = nb.add("vrf", { name: "blue", rd: "65000:1" });
  nb.add("prefix", { prefix: "10.1.0.0/24", vrf: null });
  const inBlue = nb.add("prefix", { prefix: "10.1.0.0/24", vrf: blue.id });
  nb.add("ip", { address: "10.1.0.1/24", vrf: blue.id });
  const client = clientOf(nb);
  for (const vrf of ["65000:1", "blue", blue.id]) {
    const r = await findFreeIps(client, { prefix: "10.1.0.0/24", vrf });
    assert.equal(r.pool.object.id, inBlue.id, String(vrf));
    assert.equal(r.pool.vrfName, "blue");
    assert.deepEqual(r.free, ["10.1.0.2/24"], String(vrf));
  }
  // The global copy of the prefix does not see the VRF's address.
  const global = await findFreeIps(client, { prefix: "10.1.0.0/24", vrf: null });
  assert.notEqual(global.pool.object.id, inBlue.id);
  assert.deepEqual(global.free, ["10.1.0.1/24"]);
});

Deno.test("findFreeIps() leaves out a populated IP range inside the prefix", async () => {
  const nb = new FakeNetBox({ maxPageSize: 3 });
  nb.add("prefix", { prefix: "10.6.0.0/24", vrf: null });
  nb.add("range", {
    start_address: "10.6.0.2/24",
    end_address: "10.6.0.9/24",
    vrf: null,
    mark_populated: true,
  });
  const r = await findFreeIps(clientOf(nb), { prefix: "10.6.0.0/24" }, { count: 4 });
  assert.deepEqual(r.free, ["10.6.0.1/24", "10.6.0.10/24", "10.6.0.11/24", "10.6.0.12/24"]);
  assert.equal(r.freeTotal, 254n - 8n);
});

Deno.test("findFreeIps() lists the free addresses of an IP range, beyond the server's cap", async () => {
  const nb = new FakeNetBox({ maxPageSize: 2 });
  const range = nb.add("range", {
    start_address: "10.5.0.10/24",
    end_address: "10.5.0.15/24",
    vrf: null,
  });
  nb.add("ip", { address: "10.5.0.11/24" });
  const client = clientOf(nb);
  const r = await findFreeIps(client, { range: "10.5.0.10-10.5.0.15" }, { count: 10 });
  assert.deepEqual(r.free, [
    "10.5.0.10/24",
    "10.5.0.12/24",
    "10.5.0.13/24",
    "10.5.0.14/24",
    "10.5.0.15/24",
  ]);
  assert.equal(r.complete, false);
  assert.equal(r.pool.object.id, range.id);
  const byId = await findFreeIps(client, { rangeId: range.id }, { count: 2, skip: 2 });
  assert.deepEqual(byId.free, ["10.5.0.12/24", "10.5.0.13/24"]);
});

Deno.test("findFreeIps() by prefixId uses that prefix's own VRF", async () => {
  const nb = new FakeNetBox();
  const red = nb.add("vrf", { name: "red" });
  const p = nb.add("prefix", { prefix: "10.7.0.0/30", vrf: red.id });
  nb.add("ip", { address: "10.7.0.1/30" }); // global: does not count
  nb.add("ip", { address: "10.7.0.2/30", vrf: red.id });
  const r = await findFreeIps(clientOf(nb), { prefixId: p.id }, { count: 2 });
  assert.deepEqual(r.free, ["10.7.0.1/30"]);
  assert.equal(r.pool.vrfName, "red");
  assert.equal(r.complete, false);
});

Deno.test("findFreeIps() with filters uses the first matching prefix with enough room", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "10.2.0.0/30", vrf: null, role: "servers" });
  nb.add("prefix", { prefix: "10.3.0.0/24", vrf: null, role: "servers" });
  nb.add("prefix", { prefix: "10.4.0.0/24", vrf: null, role: "clients" });
  const warnings: string[] = [];
  const client = clientOf(nb);
  const r = await findFreeIps(client, { filters: { role: "servers" } }, {
    count: 3,
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(r.matched, 2);
  assert.equal(r.pool.pool.label, "10.3.0.0/24");
  assert.deepEqual(r.free, ["10.3.0.1/24", "10.3.0.2/24", "10.3.0.3/24"]);
  assert.deepEqual(warnings, [] as string[]);
  // None big enough: the first is used, incomplete, with a warning.
  const big = await findFreeIps(client, { filters: { role: "servers" } }, {
    count: 300,
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(big.complete, false);
  assert.deepEqual(warnings, ["no prefix matching role=servers has 300 free addresses"]);
});

Deno.test("findFreeIps() with a dnsName returns the address already holding it", async () => {
  const { nb, client } = setup();
  const web = nb.add("ip", { address: "192.168.3.77/24", dns_name: "web.example.com" });
  nb.add("ip", { address: "10.99.0.1/24", dns_name: "api.example.com" }); // outside the pool
  const r = await findFreeIps(client, { prefix: "192.168.3.0/24" }, { dnsName: "Web.Example.com" });
  assert.deepEqual(r.existing.map((ip) => ip.id), [web.id]);
  assert.deepEqual(r.free, []);
  assert.equal(r.complete, true);
  const other = await findFreeIps(client, { prefix: "192.168.3.0/24" }, {
    dnsName: "api.example.com",
  });
  assert.deepEqual(other.existing, []);
  assert.deepEqual(other.free, ["192.168.3.2/24"]);
});

Deno.test("findFreeIps() names a missing or ambiguous prefix with LookupError (exit 3)", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "10.8.0.0/24", vrf: null });
  const dup = nb.add("prefix", { prefix: "10.8.0.0/24", vrf: null });
  const client = clientOf(nb);
  const missing = await rejection(findFreeIps(client, { prefix: "10.9.0.0/24" }));
  assert.ok(missing instanceof LookupError);
  assert.equal(missing.message, "Cannot find prefix 10.9.0.0/24 in the global table");
  assert.equal(missing.exitCode, 3);
  const two = await rejection(findFreeIps(client, { prefix: "10.8.0.0/24" }));
  assert.ok(two instanceof LookupError);
  assert.match(
    two.message,
    /^Cannot choose prefix 10\.8\.0\.0\/24 in the global table: 2 prefixes match: .*; use prefixId$/,
  );
  assert.equal(two.candidates.length, 2);
  assert.ok(two.candidates.some((c) => c.id === dup.id));
  const vrf = await rejection(findFreeIps(client, { prefix: "10.8.0.0/24", vrf: "nope" }));
  assert.ok(vrf instanceof LookupError, String(vrf));
  assert.match(vrf.message, /nope/);
});

Deno.test("findFreeIps() rejects invalid input with InputError (exit 2) before sending anything", async () => {
  const nb = new FakeNetBox();
  const client = clientOf(nb);
  const cases: [Parameters<typeof findFreeIps>[1], Parameters<typeof findFreeIps>[2], RegExp][] = [
    [{ prefix: "10.0.0.300/24" }, {}, /^Cannot use prefix: /],
    [{ prefix: "10.0.0.0/24" }, { count: 0 }, /count/],
    [{ prefix: "10.0.0.0/24" }, { skip: -1 }, /skip/],
    [{ prefix: "10.0.0.0/24" }, { count: 2, dnsName: "a.example" }, /template/],
    [{ prefix: "10.0.0.0/24" }, { dnsName: "bad name.example" }, /not a valid DNS name/],
    [{ prefixId: 3, vrf: "blue" } as never, {}, /the id names the VRF/],
  ];
  for (const [ref, options, message] of cases) {
    const err = await rejection(findFreeIps(client, ref, options));
    assert.ok(err instanceof InputError, `${JSON.stringify(ref)}: ${err}`);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, message);
  }
  const labelled = await rejection(
    findFreeIps(client, { prefix: "10.0.0.0/24" }, { count: 0, labels: { count: "--count" } }),
  );
  assert.match(labelled.message, /--count/);
  assert.deepEqual(nb.requests, []);
});

// --- resolvePools / findFreeIpsInEachPool --------------------------------------------------------

Deno.test("resolvePools() returns every prefix matching filters, and one for a CIDR", async () => {
  const nb = new FakeNetBox();
  const red = nb.add("vrf", { name: "red" });
  const a = nb.add("prefix", { prefix: "10.2.0.0/30", vrf: null, role: "servers" });
  const b = nb.add("prefix", { prefix: "10.3.0.0/24", vrf: red.id, role: "servers" });
  const client = clientOf(nb);
  const all = await resolvePools(client, { filters: { role: "servers" } });
  assert.deepEqual(all.map((p) => p.object.id), [a.id, b.id]);
  assert.deepEqual(all.map((p) => p.vrfName), [null, "red"]);
  const global = await resolvePools(client, { filters: { role: "servers" }, vrf: null });
  assert.deepEqual(global.map((p) => p.object.id), [a.id]);
  const inRed = await resolvePools(client, { filters: { role: "servers" }, vrf: "red" });
  assert.deepEqual(inRed.map((p) => p.object.id), [b.id]);
  const one = await resolvePools(client, { prefix: "10.3.0.0/24", vrf: "red" });
  assert.deepEqual(one.map((p) => p.pool.label), ["10.3.0.0/24"]);
  const none = await rejection(resolvePools(client, { filters: { role: "nope" } }));
  assert.ok(none instanceof LookupError);
  assert.equal(none.message, "Cannot find a prefix matching role=nope");
  assert.deepEqual(nb.writes(), []);
});

Deno.test("findFreeIpsInEachPool() lists the free addresses of every matching prefix", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "10.2.0.0/30", vrf: null, role: "servers" });
  nb.add("prefix", { prefix: "10.3.0.0/29", vrf: null, role: "servers" });
  nb.add("ip", { address: "10.3.0.1/29" });
  const each = await findFreeIpsInEachPool(clientOf(nb), { filters: { role: "servers" } }, {
    count: 3,
  });
  assert.deepEqual(each.map((p) => [p.pool.pool.label, p.free, p.complete]), [
    ["10.2.0.0/30", ["10.2.0.1/30", "10.2.0.2/30"], false],
    ["10.3.0.0/29", ["10.3.0.2/29", "10.3.0.3/29", "10.3.0.4/29"], true],
  ]);
});

// --- reserveIps --------------------------------------------------------------------------------

Deno.test("reserveIps() creates named, tagged addresses in one locked available-ips POST", async () => {
  const { nb, prefix, client } = setup();
  const tag = nb.add("tag", { name: "production-dns", slug: "production-dns" });
  const r = await reserveIps(client, { prefix: "192.168.3.0/24" }, {
    count: 3,
    dnsName: "k8s-{n:02}-worker.spaceships.work",
    tags: ["production-dns"],
    description: "k8s",
  });
  assert.deepEqual(nb.writes(), [`POST ipam/prefixes/${prefix.id}/available-ips`]);
  assert.deepEqual(r.reserved.map((ip) => [ip.address, ip.dns_name]), [
    ["192.168.3.2/24", "k8s-01-worker.spaceships.work"],
    ["192.168.3.4/24", "k8s-02-worker.spaceships.work"],
    ["192.168.3.5/24", "k8s-03-worker.spaceships.work"],
  ]);
  assert.equal(r.dryRun, false);
  assert.deepEqual(r.existing, []);
  const created = nb.ips().filter((ip) => ip.dns_name.startsWith("k8s-"));
  assert.deepEqual(created.map((ip) => ip.id), r.reserved.map((ip) => ip.id));
  for (const ip of created) {
    assert.deepEqual(ip.tags, [tag.id]);
    assert.equal(ip.status, "active");
    assert.equal(ip.description, "k8s");
  }
});

Deno.test("reserveIps() marks what it creates with one reservation marker in comments", async () => {
  const { nb, client } = setup();
  await reserveIps(client, { prefix: "192.168.3.0/24" }, { count: 2 });
  const comments = nb.table("ip").slice(2).map((ip) => ip.comments);
  assert.equal(comments.length, 2);
  assert.match(comments[0], /^netbox-toolkit reservation [0-9a-f-]{36}$/);
  assert.equal(comments[1], comments[0]);
  await reserveIps(client, { prefix: "192.168.3.0/24" });
  assert.notEqual(nb.table("ip")[4].comments, comments[0], "a new marker per reservation");
});

Deno.test("reserveIps() with an existing dnsName returns it and writes nothing (idempotent)", async () => {
  const { nb, client } = setup();
  const web = nb.add("ip", { address: "192.168.3.77/24", dns_name: "web.example.com" });
  const r = await reserveIps(client, { prefix: "192.168.3.0/24" }, { dnsName: "web.example.com" });
  assert.deepEqual(r.existing.map((ip) => ip.id), [web.id]);
  assert.deepEqual(r.reserved, []);
  assert.deepEqual(nb.writes(), []);
  // Twice in a row gives the same address.
  const again = await reserveIps(client, { prefix: "192.168.3.0/24" }, {
    dnsName: "web.example.com",
  });
  assert.deepEqual(again.existing.map((ip) => ip.id), [web.id]);
  // reuseExisting: false reserves a new one.
  const fresh = await reserveIps(client, { prefix: "192.168.3.0/24" }, {
    dnsName: "web.example.com",
    reuseExisting: false,
  });
  assert.deepEqual(fresh.reserved.map((ip) => ip.address), ["192.168.3.2/24"]);
  assert.equal(nb.ips().filter((ip) => ip.dns_name === "web.example.com").length, 2);
});

Deno.test("reserveIps() with a template reserves only the names not there yet", async () => {
  const { nb, client } = setup();
  const two = nb.add("ip", { address: "192.168.3.50/24", dns_name: "web-02.example.com" });
  const r = await reserveIps(client, { prefix: "192.168.3.0/24" }, {
    count: 3,
    dnsName: "web-{n:02}.example.com",
  });
  assert.deepEqual(r.existing.map((ip) => ip.id), [two.id]);
  assert.deepEqual(r.reserved.map((ip) => [ip.address, ip.dns_name]), [
    ["192.168.3.2/24", "web-01.example.com"],
    ["192.168.3.4/24", "web-03.example.com"],
  ]);
});

Deno.test("reserveIps() that does not fit throws PoolExhaustedError and creates nothing", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "192.168.3.0/29", vrf: null });
  for (const n of [1, 2, 3, 4]) nb.add("ip", { address: `192.168.3.${n}/29` });
  const err = await rejection(reserveIps(clientOf(nb), { prefix: "192.168.3.0/29" }, { count: 5 }));
  assert.ok(err instanceof PoolExhaustedError, String(err));
  assert.equal(err.message, "Cannot reserve 5 addresses in 192.168.3.0/29: 2 free");
  assert.equal(err.free, 2n);
  assert.equal(err.requested, 5);
  // An AllocationError (NetBox's 409 family: exit 3); find-free-ip reports it as exit 1 itself.
  assert.ok(err instanceof AllocationError);
  assert.equal(err.exitCode, 3);
  assert.deepEqual(nb.writes(), []);
  assert.equal(nb.ips().length, 4);
});

Deno.test("reserveIps() turns NetBox's 409 (someone was faster) into PoolExhaustedError with the free count", async () => {
  const nb = new FakeNetBox();
  const prefix = nb.add("prefix", { prefix: "192.168.3.0/29", vrf: null });
  // Another client takes five addresses between our listing and our POST.
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (init?.method === "POST") {
      for (const n of [1, 2, 3, 4, 5]) nb.add("ip", { address: `192.168.3.${n}/29` });
    }
    return nb.fetch(input, init);
  };
  const err = await rejection(
    reserveIps(clientOf(nb, fetch), { prefix: "192.168.3.0/29" }, { count: 2 }),
  );
  assert.ok(err instanceof PoolExhaustedError, String(err));
  assert.equal(err.message, "Cannot reserve 2 addresses in 192.168.3.0/29: 1 free");
  assert.deepEqual(nb.writes(), [`POST ipam/prefixes/${prefix.id}/available-ips`]);
  assert.equal(nb.ips().length, 5, "the 409 created nothing");
});

Deno.test("reserveIps() with skip creates the addresses explicitly past the skipped ones", async () => {
  const { nb, client } = setup();
  const r = await reserveIps(client, { prefix: "192.168.3.0/24" }, { skip: 5, count: 2 });
  assert.deepEqual(r.reserved.map((ip) => ip.address), ["192.168.3.6/24", "192.168.3.7/24"]);
  assert.deepEqual(nb.writes(), ["POST ipam/ip-addresses"]);
  assert.deepEqual(stored(nb), [
    "192.168.3.1/24",
    "192.168.3.3/24",
    "192.168.3.6/24",
    "192.168.3.7/24",
  ]);
});

Deno.test("reserveIps() with skip uses the locked path when the skipped ones are taken", async () => {
  const { nb, prefix, client } = setup();
  const r = await reserveIps(client, { prefix: "192.168.3.0/24" }, { skip: 1, count: 1 });
  assert.deepEqual(r.reserved.map((ip) => ip.address), ["192.168.3.2/24"]);
  assert.deepEqual(nb.writes(), [`POST ipam/prefixes/${prefix.id}/available-ips`]);
});

Deno.test("reserveIps() with skip retries when a concurrent run takes its address", async () => {
  const { nb } = setup();
  let raced = false;
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (init?.method === "POST" && !raced) {
      raced = true;
      nb.add("ip", { address: "192.168.3.6/24", dns_name: "theirs.example" });
    }
    return nb.fetch(input, init);
  };
  const retries: number[] = [];
  const r = await reserveIps(clientOf(nb, fetch), { prefix: "192.168.3.0/24" }, {
    skip: 5,
    count: 1,
    onRetry: (attempt) => retries.push(attempt),
  });
  assert.deepEqual(retries, [1]);
  assert.deepEqual(r.reserved.map((ip) => ip.address), ["192.168.3.7/24"]);
  assert.deepEqual(nb.writes(), ["POST ipam/ip-addresses", "POST ipam/ip-addresses"]);
  assert.equal(nb.ips().filter((ip) => ip.address === "192.168.3.6/24").length, 1);
});

Deno.test("reserveIps() dryRun returns the plan and writes nothing", async () => {
  const { nb, client } = setup();
  const r = await reserveIps(client, { prefix: "192.168.3.0/24" }, {
    count: 2,
    dnsName: "db-{n}.example.com",
    status: "reserved",
    dryRun: true,
  });
  assert.equal(r.dryRun, true);
  assert.deepEqual(r.reserved, []);
  assert.deepEqual(r.planned, [
    { address: "192.168.3.2/24", status: "reserved", dns_name: "db-1.example.com" },
    { address: "192.168.3.4/24", status: "reserved", dns_name: "db-2.example.com" },
  ]);
  assert.deepEqual(nb.writes(), []);
  assert.equal(nb.ips().length, 2);
});

Deno.test("reserveIps() needs existing tags unless createTags", async () => {
  const { nb, client } = setup();
  const err = await rejection(reserveIps(client, { prefix: "192.168.3.0/24" }, { tags: ["nope"] }));
  assert.ok(err instanceof InputError, String(err));
  assert.match(err.message, /^Cannot use tags nope: no such tag in NetBox \(add createTags/);
  assert.deepEqual(nb.writes(), []);
  const r = await reserveIps(client, { prefix: "192.168.3.0/24" }, {
    tags: ["nope"],
    createTags: true,
  });
  assert.deepEqual(r.missingTags, ["nope"]);
  const [tag] = nb.table("tag");
  assert.equal(tag.slug, "nope");
  assert.deepEqual(nb.ip(r.reserved[0].id).tags, [tag.id]);
});

Deno.test("reserveIps() rejects a bad status or role, and slaac for IPv4, before writing", async () => {
  const { nb, client } = setup();
  const status = await rejection(
    reserveIps(client, { prefix: "192.168.3.0/24" }, { status: "up" }),
  );
  assert.ok(status instanceof InputError);
  assert.match(status.message, /^Cannot use status "up": expected one of /);
  const role = await rejection(reserveIps(client, { prefix: "192.168.3.0/24" }, { role: "boss" }));
  assert.ok(role instanceof InputError);
  const slaac = await rejection(
    reserveIps(client, { prefix: "192.168.3.0/24" }, { status: "slaac" }),
  );
  assert.ok(slaac instanceof InputError);
  assert.equal(slaac.message, "Cannot use status slaac for IPv4 addresses");
  assert.deepEqual(nb.writes(), []);
});

Deno.test("reserveIps() with a read-only token is refused by NetBox (403) and nothing is stored", async () => {
  const { nb, client } = setup({ readOnly: true });
  const err = await rejection(reserveIps(client, { prefix: "192.168.3.0/24" }));
  assert.ok(err instanceof NetBoxHttpError, String(err));
  assert.equal(err.status, 403);
  assert.equal(err.exitCode, 3);
  assert.equal(nb.ips().length, 2);
});

Deno.test("reserveIps() in an IP range allocates through the range's available-ips", async () => {
  const nb = new FakeNetBox();
  const range = nb.add("range", {
    start_address: "10.5.0.10/24",
    end_address: "10.5.0.12/24",
    vrf: null,
  });
  nb.add("ip", { address: "10.5.0.10/24" });
  const r = await reserveIps(clientOf(nb), { rangeId: range.id }, { count: 2 });
  assert.deepEqual(r.reserved.map((ip) => ip.address), ["10.5.0.11/24", "10.5.0.12/24"]);
  assert.deepEqual(nb.writes(), [`POST ipam/ip-ranges/${range.id}/available-ips`]);
  const err = await rejection(reserveIps(clientOf(nb), { rangeId: range.id }));
  assert.ok(err instanceof PoolExhaustedError);
  assert.equal(err.message, "Cannot reserve 1 addresses in 10.5.0.10-10.5.0.12: 0 free");
});
