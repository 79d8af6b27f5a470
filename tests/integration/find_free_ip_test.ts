/**
 * find-free-ip against the real NetBox. Every test works in a VRF of its own (unique name per
 * run) so concurrent tests never share free space, and deletes what it created; only the seed's
 * 192.168.3.0/24 is read (never written).
 */

import assert from "node:assert/strict";
import { formatIp, parseCidr } from "../../lib/ip.ts";
import { main } from "../../tasks/find-free-ip.ts";
import { describe, mapPool, netboxOk, readTaskEntries, runDeno } from "../_deno_tasks.ts";
import { seedInventory } from "../netbox/seed.ts";
import { netboxTest, testEnv } from "./_netbox.ts";
import { runTaskMain, writesOf } from "./_run_task.ts";

interface Nb {
  url: string;
  token: string;
}

interface Run {
  code: number;
  // deno-lint-ignore no-explicit-any
  doc: any;
  stderr: string;
  writes: string[];
}

async function run(args: string[]): Promise<Run> {
  // A generous timeout: the shared test server is often busy with other suites.
  const r = await runTaskMain(main, [...args, "--format", "json", "--timeout", "120"]);
  const doc = r.stdout ? JSON.parse(r.stdout) : undefined;
  return { code: r.code, doc, stderr: r.stderr, writes: writesOf(r.requests) };
}

const rand = (n: number) => crypto.getRandomValues(new Uint32Array(1))[0] % n;

/** A VRF of our own, a prefix in it, and clean-up of everything in the VRF afterwards. */
async function withPool(
  prefix: (r: number) => string,
  fn: (
    ctx: { nb: Nb; vrf: { id: number; name: string }; prefix: { id: number; prefix: string } },
  ) => Promise<void>,
  prefixFields: Record<string, unknown> = {},
): Promise<void> {
  const nb = testEnv();
  const name = `nbtk-ffi-${crypto.randomUUID().slice(0, 8)}`;
  const vrf = await netboxOk(nb, "POST", "/api/ipam/vrfs/", { name, enforce_unique: true });
  try {
    const p = await netboxOk(nb, "POST", "/api/ipam/prefixes/", {
      prefix: prefix(rand(250) + 1),
      vrf: vrf.id,
      status: "active",
      ...prefixFields,
    });
    await fn({ nb, vrf, prefix: p });
  } finally {
    for (const path of ["ip-addresses", "ip-ranges", "prefixes"]) {
      const rows = await netboxOk(nb, "GET", `/api/ipam/${path}/?vrf_id=${vrf.id}&limit=0&brief=1`);
      const ids = rows.results.map((r: { id: number }) => ({ id: r.id }));
      if (ids.length) await netboxOk(nb, "DELETE", `/api/ipam/${path}/`, ids);
    }
    await netboxOk(nb, "DELETE", `/api/ipam/vrfs/${vrf.id}/`);
  }
}

async function serverFree(nb: Nb, prefixId: number, limit: number): Promise<string[]> {
  const list = await netboxOk(
    nb,
    "GET",
    `/api/ipam/prefixes/${prefixId}/available-ips/?limit=${limit}`,
  );
  return list.map((a: { address: string }) => a.address);
}

netboxTest("find-free-ip: the first 5 free in 192.168.3.0/24 match the server's list", async () => {
  const nb = testEnv();
  await seedInventory(nb.url, nb.token);
  const found = await netboxOk(nb, "GET", "/api/ipam/prefixes/?prefix=192.168.3.0/24&vrf_id=null");
  assert.equal(found.count, 1);
  const before = await serverFree(nb, found.results[0].id, 5);
  const r = await run(["--prefix", "192.168.3.0/24", "--count", "5"]);
  const after = await serverFree(nb, found.results[0].id, 5);
  assert.equal(r.code, 0, r.stderr);
  const mine = r.doc.items.map((i: { address: string }) => i.address);
  // Other tests may change the shared prefix meanwhile: agree with the server before or after.
  assert.ok(
    JSON.stringify(mine) === JSON.stringify(before) ||
      JSON.stringify(mine) === JSON.stringify(after),
    `${mine} vs server ${before} / ${after}`,
  );
  assert.deepEqual(r.writes, []);
});

netboxTest(
  "find-free-ip: 1,500 free from a /21 (beyond the server's cap) are correct",
  async () => {
    await withPool((r) => `10.${r}.8.0/21`, async ({ nb, vrf, prefix }) => {
      const net = parseCidr(prefix.prefix);
      const at = (offset: number) => formatIp({ family: 4, value: net.first + BigInt(offset) });
      // Occupied hosts scattered before and beyond the 1000th, and a populated range.
      const taken = [1, 2, 7, 500, 999, 1000, 1001, 1200, 1499, 1600];
      await netboxOk(
        nb,
        "POST",
        "/api/ipam/ip-addresses/",
        taken.map((o) => ({ address: `${at(o)}/21`, vrf: vrf.id, status: "active" })),
      );
      await netboxOk(nb, "POST", "/api/ipam/ip-ranges/", {
        start_address: `${at(1100)}/21`,
        end_address: `${at(1149)}/21`,
        vrf: vrf.id,
        mark_populated: true,
      });
      const expected: string[] = [];
      for (let o = 1; o <= 2046 && expected.length < 1500; o++) {
        if (taken.includes(o) || (o >= 1100 && o <= 1149)) continue;
        expected.push(`${at(o)}/21`);
      }
      const r = await run(["--prefix", prefix.prefix, "--vrf", vrf.name, "--count", "1500"]);
      assert.equal(r.code, 0, r.stderr);
      const mine = r.doc.items.map((i: { address: string }) => i.address);
      assert.equal(mine.length, 1500);
      assert.deepEqual(mine, expected);
      const server = await serverFree(nb, prefix.id, 1000);
      assert.deepEqual(mine.slice(0, server.length), server, "agrees with NetBox where both exist");
      assert.ok(server.length < 1500, "the server itself caps its answer");
      assert.equal(r.doc.summary.free_total, String(2046 - taken.length - 50));
    });
  },
);

netboxTest("find-free-ip: a /64 IPv6 prefix returns the first 10 at once", async () => {
  await withPool(
    (r) => `fd00:${r.toString(16)}:${rand(65535).toString(16)}::/64`,
    async ({ nb, vrf, prefix }) => {
      const t0 = performance.now();
      const r = await run(["--prefix", prefix.prefix, "--vrf", String(vrf.id), "--count", "10"]);
      const ms = performance.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.doc.items.map((i: { address: string }) => i.address),
        await serverFree(nb, prefix.id, 10),
      );
      assert.ok(ms < 5000, `took ${ms} ms`);
      // And beyond the cap without enumerating: the 1500th is still instant.
      const far = await run([
        "--prefix",
        prefix.prefix,
        "--vrf",
        vrf.name,
        "--count",
        "1",
        "--skip",
        "1000000",
      ]);
      assert.equal(far.code, 0, far.stderr);
      const net = parseCidr(prefix.prefix);
      assert.equal(
        far.doc.items[0].address,
        `${formatIp({ family: 6, value: net.first + 1000001n })}/64`,
      );
    },
  );
});

netboxTest(
  "find-free-ip: --reserve names 3 addresses, a re-run returns the existing one",
  async () => {
    await withPool((r) => `10.${r}.16.0/24`, async ({ nb, vrf, prefix }) => {
      const tags = await netboxOk(nb, "GET", "/api/extras/tags/?slug=production-dns");
      if (tags.count === 0) {
        await netboxOk(nb, "POST", "/api/extras/tags/", {
          name: "production-dns",
          slug: "production-dns",
        })
          .catch(() => {}); // another test may create it at the same moment
      }
      const r = await run([
        "--prefix",
        prefix.prefix,
        "--vrf",
        vrf.name,
        "--reserve",
        "--count",
        "3",
        "--dns-name",
        "k8s-{n:02}-worker.spaceships.work",
        "--tag",
        "production-dns",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.writes, [`POST /api/ipam/prefixes/${prefix.id}/available-ips/`]);
      const ips = await netboxOk(
        nb,
        "GET",
        `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&ordering=address`,
      );
      assert.deepEqual(ips.results.map((ip: { dns_name: string }) => ip.dns_name), [
        "k8s-01-worker.spaceships.work",
        "k8s-02-worker.spaceships.work",
        "k8s-03-worker.spaceships.work",
      ]);
      assert.ok(
        ips.results.every((ip: { tags: { slug: string }[] }) =>
          ip.tags.some((t) => t.slug === "production-dns")
        ),
      );
      assert.ok(
        ips.results.every((ip: { status: { value: string } }) => ip.status.value === "active"),
      );
      const again = await run([
        "--prefix",
        prefix.prefix,
        "--vrf",
        vrf.name,
        "--reserve",
        "--dns-name",
        "k8s-01-worker.spaceships.work",
      ]);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.writes, []);
      assert.equal(again.doc.items.length, 1);
      assert.equal(again.doc.items[0].action, "existing");
      assert.equal(again.doc.items[0].id, ips.results[0].id);
    });
  },
);

netboxTest(
  "find-free-ip: 4 x 25 concurrent --reserve runs give 100 distinct addresses",
  async () => {
    const entry = (await readTaskEntries()).find((e) => e.name === "find-free-ip")!;
    await withPool((r) => `10.${r}.24.0/24`, async ({ nb, vrf, prefix }) => {
      // 4 rounds of 25 task processes at once, each run exactly as its deno.json entry runs it.
      const results = await mapPool(Array.from({ length: 100 }), 25, () =>
        runDeno(
          [
            "run",
            ...entry.denoFlags,
            entry.script,
            "--prefix-id",
            String(prefix.id),
            "--reserve",
            "--format",
            "json",
            "--timeout",
            "120",
          ],
          { env: { NETBOX_URL: nb.url, NETBOX_TOKEN: nb.token }, timeoutMs: 300_000 },
        ));
      for (const result of results) assert.equal(result.code, 0, describe(result));
      const addresses = results.map((res) => JSON.parse(res.stdout).items[0].address);
      assert.equal(new Set(addresses).size, 100);
      const count = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=1`);
      assert.equal(count.count, 100);
    });
  },
);

netboxTest(
  "find-free-ip: reserving more than a /29 holds exits 1 and creates nothing",
  async () => {
    await withPool((r) => `10.${r}.32.0/29`, async ({ nb, vrf, prefix }) => {
      const r = await run([
        "--prefix",
        prefix.prefix,
        "--vrf",
        vrf.name,
        "--reserve",
        "--count",
        "7",
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`Cannot reserve 7 addresses in ${prefix.prefix.replaceAll(".", "\\.")}: 6 free`),
      );
      const count = await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=1`);
      assert.equal(count.count, 0);
      // Taking all 6, then one more: the server's 409 path.
      const all = await run(["--prefix-id", String(prefix.id), "--reserve", "--count", "6"]);
      assert.equal(all.code, 0, all.stderr);
      const more = await run(["--prefix-id", String(prefix.id), "--reserve"]);
      assert.equal(more.code, 1);
      assert.match(more.stderr, /: 0 free/);
      assert.equal(
        (await netboxOk(nb, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=1`)).count,
        6,
      );
    });
  },
);
