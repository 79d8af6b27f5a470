/**
 * find-free-ip against the real NetBox. Every test works in a VRF of its own (unique name per
 * run) so concurrent tests never share free space, and deletes what it created. Every assertion
 * is about that VRF: addresses are read back from NetBox, never taken from the tool's report
 * alone.
 */

import assert from "node:assert/strict";
import type { TaskIO } from "../../lib/cli/io.ts";
import { formatIp, parseCidr } from "../../lib/ipam/ip.ts";
import { main } from "../../tasks/find-free-ip.ts";
import { describe, mapPool, netboxOk, readTaskEntries, runDeno } from "../_deno_tasks.ts";
import { netboxTest, type RecordedRequest, recordingFetch, testEnv } from "./_netbox.ts";
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
  /** Every request, as `METHOD /path`. */
  requests: string[];
}

async function run(args: string[]): Promise<Run> {
  // A generous timeout: the shared test server is often busy with other suites.
  const r = await runTaskMain(main, [...args, "--format", "json", "--timeout", "120"]);
  const doc = r.stdout ? JSON.parse(r.stdout) : undefined;
  return {
    code: r.code,
    doc,
    stderr: r.stderr,
    writes: writesOf(r.requests),
    requests: r.requests,
  };
}

/** What NetBox holds in a VRF, ordered by address. */
async function addressesIn(
  nb: Nb,
  vrfId: number,
): Promise<{ id: number; address: string; dns_name: string; status: string; tags: string[] }[]> {
  const list = await netboxOk(
    nb,
    "GET",
    `/api/ipam/ip-addresses/?vrf_id=${vrfId}&ordering=address&limit=1000`,
  );
  assert.equal(list.next, null);
  return list.results.map((
    ip: {
      id: number;
      address: string;
      dns_name: string;
      status: { value: string };
      tags: { slug: string }[];
    },
  ) => ({
    id: ip.id,
    address: ip.address,
    dns_name: ip.dns_name,
    status: ip.status.value,
    tags: ip.tags.map((t) => t.slug).sort(),
  }));
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
  // The guide's 192.168.3.0/24, in a VRF of our own with the gateway, the nodes and a populated
  // range taken, so the answer is known in advance and nobody else changes it.
  await withPool(() => "192.168.3.0/24", async ({ nb, vrf, prefix }) => {
    await netboxOk(
      nb,
      "POST",
      "/api/ipam/ip-addresses/",
      [1, 2, 5, 9].map((h) => ({ address: `192.168.3.${h}/24`, vrf: vrf.id })),
    );
    await netboxOk(nb, "POST", "/api/ipam/ip-ranges/", {
      start_address: "192.168.3.6/24",
      end_address: "192.168.3.7/24",
      vrf: vrf.id,
      mark_populated: true,
    });
    const expected = [3, 4, 8, 10, 11].map((h) => `192.168.3.${h}/24`);
    assert.deepEqual(await serverFree(nb, prefix.id, 5), expected, "NetBox agrees");
    const r = await run(["--prefix", "192.168.3.0/24", "--vrf", vrf.name, "--count", "5"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc.items.map((i: { address: string }) => i.address), expected);
    assert.deepEqual(r.writes, []);
    assert.equal((await addressesIn(nb, vrf.id)).length, 4, "listing changes nothing");
  });
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
      const server = await serverFree(nb, prefix.id, 1500);
      assert.equal(server.length, 1000, "the server itself caps its answer at MAX_PAGE_SIZE");
      assert.deepEqual(mine.slice(0, 1000), server, "agrees with NetBox where both exist");
      assert.equal(r.doc.summary.free_total, String(2046 - taken.length - 50));
    });
  },
);

netboxTest("find-free-ip: a /64 IPv6 prefix returns the first 10 at once", async () => {
  await withPool(
    (r) => `fd00:${r.toString(16)}:${rand(65535).toString(16)}::/64`,
    async ({ nb, vrf, prefix }) => {
      const r = await run(["--prefix", prefix.prefix, "--vrf", String(vrf.id), "--count", "10"]);
      assert.equal(r.code, 0, r.stderr);
      const net = parseCidr(prefix.prefix);
      const want = Array.from(
        { length: 10 },
        (_, i) => `${formatIp({ family: 6, value: net.first + BigInt(i + 1) })}/64`,
      );
      assert.deepEqual(r.doc.items.map((i: { address: string }) => i.address), want);
      assert.deepEqual(await serverFree(nb, prefix.id, 10), want);
      // At once: one available-ips call answers it, nothing is enumerated.
      assert.deepEqual(
        r.requests.filter((q) => q.includes("/available-ips/")),
        [`GET /api/ipam/prefixes/${prefix.id}/available-ips/`],
      );
      assert.deepEqual(r.requests.filter((q) => q.startsWith("GET /api/ipam/ip-addresses/")), []);
      assert.ok(r.requests.length <= 6, r.requests.join("\n"));
      // And beyond the cap without enumerating 2^64 addresses: a handful of requests.
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
      assert.deepEqual(far.doc.items.map((i: { address: string }) => i.address), [
        `${formatIp({ family: 6, value: net.first + 1000001n })}/64`,
      ]);
      assert.ok(far.requests.length <= 8, far.requests.join("\n"));
      assert.deepEqual(far.writes, []);
    },
  );
});

/** Reserves 3 named, tagged addresses and checks NetBox holds exactly them; then a re-run. */
async function reserveThree(
  nb: Nb,
  vrf: { id: number; name: string },
  prefix: { id: number; prefix: string },
  slug: string,
): Promise<void> {
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
    slug,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.writes, [`POST /api/ipam/prefixes/${prefix.id}/available-ips/`]);
  const base = prefix.prefix.replace(/\.0\/24$/, "");
  const held = await addressesIn(nb, vrf.id);
  assert.deepEqual(
    held.map(({ id: _, ...rest }) => rest),
    [1, 2, 3].map((n) => ({
      address: `${base}.${n}/24`,
      dns_name: `k8s-0${n}-worker.spaceships.work`,
      status: "active",
      tags: [slug],
    })),
  );
  assert.deepEqual(
    r.doc.items.map((i: { id: number; address: string }) => [i.id, i.address]),
    held.map((ip) => [ip.id, ip.address]),
    "the report names what NetBox holds",
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
  assert.equal(again.doc.items[0].id, held[0].id);
  assert.deepEqual(await addressesIn(nb, vrf.id), held, "the re-run changed nothing");
}

netboxTest(
  "find-free-ip: --reserve names 3 addresses, a re-run returns the existing one",
  async () => {
    await withPool((r) => `10.${r}.16.0/24`, async ({ nb, vrf, prefix }) => {
      const slug = `nbtk-ffi-dns-${crypto.randomUUID().slice(0, 8)}`;
      const tag = await netboxOk(nb, "POST", "/api/extras/tags/", { name: slug, slug });
      try {
        await reserveThree(nb, vrf, prefix, slug);
      } finally {
        await netboxOk(nb, "DELETE", `/api/extras/tags/${tag.id}/`);
      }
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
      // NetBox holds exactly the first 100 hosts, once each, and they are the reported ones.
      const base = prefix.prefix.replace(/\.0\/24$/, "");
      const held = (await addressesIn(nb, vrf.id)).map((ip) => ip.address);
      assert.deepEqual(held, Array.from({ length: 100 }, (_, i) => `${base}.${i + 1}/24`));
      assert.deepEqual([...addresses].sort(), [...held].sort());
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
      assert.deepEqual(r.writes, [], "refused before any POST");
      assert.deepEqual(await addressesIn(nb, vrf.id), []);
      // Taking all 6, then one more: refused by the tool's own count, again before any POST
      // (the server's 409 is the next test's race).
      const all = await run(["--prefix-id", String(prefix.id), "--reserve", "--count", "6"]);
      assert.equal(all.code, 0, all.stderr);
      const base = prefix.prefix.replace(/\.0\/29$/, "");
      const six = [1, 2, 3, 4, 5, 6].map((h) => `${base}.${h}/29`);
      assert.deepEqual((await addressesIn(nb, vrf.id)).map((ip) => ip.address), six);
      const more = await run(["--prefix-id", String(prefix.id), "--reserve"]);
      assert.equal(more.code, 1);
      assert.match(more.stderr, /: 0 free/);
      assert.deepEqual(more.writes, []);
      assert.deepEqual((await addressesIn(nb, vrf.id)).map((ip) => ip.address), six);
    });
  },
);

/** One in-process run whose fetch goes through `wrap`; every request and status is recorded. */
async function runWrapped(
  args: string[],
  wrap: (inner: typeof fetch) => typeof fetch,
): Promise<{ code: number; doc: Run["doc"]; stderr: string; requests: RecordedRequest[] }> {
  const env = testEnv();
  const out = { stdout: "", stderr: "" };
  const rec = recordingFetch();
  const vars: Record<string, string> = { NETBOX_URL: env.url, NETBOX_TOKEN: env.token };
  const io: TaskIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env: (name) => vars[name],
    stderrIsTerminal: false,
    fetch: wrap(rec.fetch),
    readTextFile: (path) => Deno.readTextFile(path),
    now: () => new Date(),
  };
  const code = await main([...args, "--format", "json", "--timeout", "120"], io);
  return {
    code,
    doc: out.stdout ? JSON.parse(out.stdout) : undefined,
    stderr: out.stderr,
    requests: rec.requests,
  };
}

netboxTest(
  "find-free-ip: two --reserve runs racing for a /29 — one gets 4, the other NetBox's 409",
  async () => {
    await withPool((r) => `10.${r}.40.0/29`, async ({ nb, vrf, prefix }) => {
      // 6 free; each run asks for 4, so both pass their own count of free addresses, and a
      // barrier holds each run's available-ips POST until both have reached it: both POSTs
      // really reach NetBox, whose lock lets exactly one through.
      let arrived = 0;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const barrier = (inner: typeof fetch): typeof fetch => async (input, init) => {
        const req = new Request(input, init);
        if (req.method === "POST" && new URL(req.url).pathname.endsWith("/available-ips/")) {
          if (++arrived === 2) open();
          await gate;
        }
        return await inner(req);
      };
      const args = ["--prefix", prefix.prefix, "--vrf", vrf.name, "--reserve", "--count", "4"];
      // A run that ends without reaching the barrier opens it, so the other is never stuck.
      const runs = await Promise.all([
        runWrapped(args, barrier).finally(open),
        runWrapped(args, barrier).finally(open),
      ]);
      assert.equal(arrived, 2, "both runs sent their POST");
      const posts = runs.map((run) =>
        run.requests.filter((q) => q.method === "POST").map((q) => `${q.path} ${q.status}`)
      );
      const path = `/api/ipam/prefixes/${prefix.id}/available-ips/`;
      const winner = runs.findIndex((run) => run.code === 0);
      assert.ok(winner >= 0, runs.map((run) => run.stderr).join("\n"));
      const loser = runs[1 - winner];
      assert.deepEqual(posts[winner], [`${path} 201`]);
      assert.deepEqual(posts[1 - winner], [`${path} 409`], "the loser got NetBox's 409");
      assert.equal(loser.code, 1, loser.stderr);
      assert.match(
        loser.stderr,
        new RegExp(`Cannot reserve 4 addresses in ${prefix.prefix.replaceAll(".", "\\.")}: 2 free`),
      );
      assert.equal(loser.doc, undefined, "the loser reports no addresses");
      // NetBox holds exactly the first 4 free addresses, once each: the winner's.
      const base = prefix.prefix.replace(/\.0\/29$/, "");
      const held = await addressesIn(nb, vrf.id);
      assert.deepEqual(held.map((ip) => ip.address), [1, 2, 3, 4].map((h) => `${base}.${h}/29`));
      assert.deepEqual(
        runs[winner].doc.items.map((i: { id: number; address: string }) => [i.id, i.address]),
        held.map((ip) => [ip.id, ip.address]),
      );
      assert.deepEqual(await serverFree(nb, prefix.id, 10), [`${base}.5/29`, `${base}.6/29`]);
    });
  },
);
