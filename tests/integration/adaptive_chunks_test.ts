/**
 * Bulk requests that fit the timeout, on the real NetBox: a proxy in front of it makes every
 * bulk write slow (0.2 s per object before NetBox sees it) and the client's timeout is 12 s, so
 * one 70-object request would take 14 s and time out (NetBox committing it later). The first
 * chunk (sized for 0.2 s per object: 20 objects, 4 s in the proxy alone) always takes more than
 * a third of the timeout, so the chunks shrink, and it leaves NetBox 8 s of its own for 20
 * addresses even on a loaded machine (with 6 s and 10 objects, a loaded 4.3.7 once needed 4 s). The chunks
 * adapt instead: NetBox is read back (every object once), and the proxy's record of request
 * sizes shows several small requests instead of one. (The timeout leaves a busy NetBox's own
 * latency room on a shared test machine: up to a few seconds per request under load.)
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import type { ChunkSizeChange } from "../../lib/client/types.ts";
import { main as importMain } from "../../tasks/bulk-import.ts";
import { type FaultProxy, startFaultProxy } from "../_fault_proxy.ts";
import { dropVrf } from "./_cleanup.ts";
import { netboxTest, type NetBoxTestEnv, uniqueName } from "./_netbox.ts";
import { runTaskMain } from "./_run_task.ts";

const SLOW_MS_PER_OBJECT = 200;
const TIMEOUT_S = 12;
const N = 70;

function slowProxy(env: NetBoxTestEnv): FaultProxy {
  return startFaultProxy({
    target: env.url,
    rate: 0,
    seed: 0,
    slowPerObjectMs: SLOW_MS_PER_OBJECT,
  });
}

/** Sizes of the address creates the proxy forwarded. */
function createSizes(proxy: FaultProxy): number[] {
  return proxy.bulkWrites
    .filter((w) => w.method === "POST" && w.path === "/api/ipam/ip-addresses/")
    .map((w) => w.objects);
}

/** The addresses NetBox holds in a VRF, each with how often it is there. */
async function addressCounts(env: NetBoxTestEnv, vrfId: number): Promise<Map<string, number>> {
  const nb = createClient({ url: env.url, token: env.token, log: () => {} });
  try {
    const ips = await nb.ipam.ipAddresses.all({ vrf_id: vrfId }, { fields: ["address"] });
    const counts = new Map<string, number>();
    for (const ip of ips) counts.set(ip.address, (counts.get(ip.address) ?? 0) + 1);
    return counts;
  } finally {
    nb.close();
  }
}

netboxTest(
  "bulk create through a NetBox slowed to 0.2 s per object with a 12 s timeout: chunks shrink, no timeout, each object once",
  async (env) => {
    const direct = createClient({ url: env.url, token: env.token, log: () => {} });
    const vrf = await direct.ipam.vrfs.create({ name: uniqueName("adaptive") });
    const proxy = slowProxy(env);
    const changes: ChunkSizeChange[] = [];
    try {
      const nb = createClient({
        url: proxy.url,
        token: env.token,
        timeoutMs: TIMEOUT_S * 1000,
        // One request at a time: what a request takes is the proxy and NetBox, not the queue
        // behind its own siblings on a 2-core test machine.
        concurrency: 1,
        log: () => {},
      });
      const bodies = Array.from({ length: N }, (_, i) => ({
        address: `10.79.0.${i + 1}/24`,
        vrf: vrf.id,
        status: "active" as const,
      }));
      const started = Date.now();
      const result = await nb.ipam.ipAddresses.create(bodies, {
        chunkSize: N,
        onChunkSize: (c) => changes.push(c),
      });
      const seconds = (Date.now() - started) / 1000;
      nb.close();
      const sizes = createSizes(proxy);
      console.log(
        `adaptive chunks: ${N} objects in ${seconds.toFixed(1)} s, request sizes ${
          sizes.join(",")
        }; ` +
          changes.map((c) => `${c.objects} took ${(c.ms / 1000).toFixed(1)} s → ${c.size}`)
            .join("; "),
      );
      assert.deepEqual(
        result.failed.map((f) => `${f.index}: ${f.error.message}`),
        [],
        "no item failed (no timeout)",
      );
      assert.deepEqual(
        result.items.map((r) => r.ok && r.value.address),
        bodies.map((b) => b.address),
      );
      // NetBox holds every address once.
      const counts = await addressCounts(env, vrf.id);
      assert.equal(counts.size, N);
      assert.deepEqual([...counts.values()].filter((n) => n !== 1), []);
      // Several requests, each well below the 70 objects that would have taken 14 s.
      assert.equal(sizes.reduce((a, b) => a + b, 0), N, `sizes ${sizes}`);
      assert.ok(sizes.length >= 4, `sizes ${sizes}`);
      assert.ok(sizes.every((n) => n * SLOW_MS_PER_OBJECT < TIMEOUT_S * 1000), `sizes ${sizes}`);
      assert.ok(changes.some((c) => c.size < c.previous), "the chunks shrank");
    } finally {
      await proxy.close(); // NetBox has every held request by then
      await dropVrf(direct, vrf.id);
      direct.close();
    }
  },
);

netboxTest(
  "bulk-import --verbose through a slowed NetBox logs the chunk size it adapts to and imports everything",
  async (env) => {
    const vrf = uniqueName("adaptive-cli");
    const dir = await Deno.makeTempDir({ prefix: "nbtk-adaptive-" });
    const file = `${dir}/inventory.yaml`;
    const n = 40;
    await Deno.writeTextFile(
      file,
      `vrfs:\n  - {name: ${vrf}}\nip_addresses:\n` +
        Array.from({ length: n }, (_, i) => `  - {address: 10.79.1.${i + 1}/24, vrf: ${vrf}}\n`)
          .join(""),
    );
    const proxy = slowProxy(env);
    const direct = createClient({ url: env.url, token: env.token, log: () => {} });
    try {
      const run = await runTaskMain(importMain, [
        file,
        "--format",
        "json",
        "--verbose",
        "--timeout",
        String(TIMEOUT_S),
        "--chunk-size",
        String(n),
        "--concurrency",
        "1",
      ], { url: proxy.url });
      await proxy.close();
      const lines = run.stderr.split("\n").filter((l) => l.startsWith("bulk:"));
      console.log(lines.join("\n"));
      assert.equal(run.code, 0, run.stderr);
      const shrink = new RegExp(
        String.raw`^bulk: POST ipam/ip-addresses/ (\d+) objects? took \d+(\.\d)? s ` +
          String.raw`\(timeout ${TIMEOUT_S} s\): next chunks (\d+) objects?$`,
      );
      const match = lines.map((l) => shrink.exec(l)).find((m) => m && +m[3] < +m[1]);
      assert.ok(match, `no line about smaller address chunks in\n${run.stderr}`);
      const sizes = createSizes(proxy);
      assert.equal(sizes.reduce((a, b) => a + b, 0), n, `sizes ${sizes}`);
      assert.ok(sizes.length > 1 && Math.max(...sizes) < n, `sizes ${sizes}`);
      const found = await direct.ipam.vrfs.find({ name: vrf });
      assert.ok(found);
      const counts = await addressCounts(env, found.id);
      assert.equal(counts.size, n);
      assert.deepEqual([...counts.values()].filter((x) => x !== 1), []);
    } finally {
      await proxy.close();
      const found = await direct.ipam.vrfs.find({ name: vrf }).catch(() => undefined);
      if (found) await dropVrf(direct, found.id);
      direct.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

// The slow suite (`deno task test:slow`): the acceptance run at scale.
if (Deno.env.get("NETBOX_TEST_SLOW") === "1") {
  netboxTest(
    "slow suite: bulk-import of 1,500 addresses through a NetBox slowed to 0.2 s per object with --timeout 10: no timeout, every address once, as without the slowdown",
    async (env) => {
      const vrf = uniqueName("adaptive-1500");
      const dir = await Deno.makeTempDir({ prefix: "nbtk-adaptive-" });
      const file = `${dir}/inventory.yaml`;
      const n = 1500;
      const address = (i: number) => `10.80.${Math.floor(i / 250)}.${(i % 250) + 1}/16`;
      await Deno.writeTextFile(
        file,
        `vrfs:\n  - {name: ${vrf}, enforce_unique: false}\nip_addresses:\n` +
          Array.from(
            { length: n },
            (_, i) => `  - {address: ${address(i)}, vrf: ${vrf}, dns_name: a${i}.slow.example}\n`,
          ).join(""),
      );
      const proxy = slowProxy(env);
      const direct = createClient({ url: env.url, token: env.token, log: () => {} });
      try {
        const started = Date.now();
        const run = await runTaskMain(importMain, [
          ...[file, "--format", "json", "--verbose", "--timeout", "10"],
        ], { url: proxy.url });
        await proxy.close();
        const sizes = createSizes(proxy);
        console.log(
          `1,500 addresses in ${((Date.now() - started) / 1000).toFixed(0)} s, ${sizes.length} ` +
            `requests, sizes ${Math.min(...sizes)}–${Math.max(...sizes)}`,
        );
        assert.equal(run.code, 0, run.stderr.slice(-3000));
        assert.doesNotMatch(run.stderr, /no answer within/);
        const report = JSON.parse(run.stdout);
        assert.equal(report.summary.create, n + 1);
        const found = await direct.ipam.vrfs.find({ name: vrf });
        assert.ok(found);
        const ips = await direct.ipam.ipAddresses.all({ vrf_id: found.id }, {
          fields: ["address", "dns_name"],
        });
        // The same objects as the input: each address once, with its DNS name.
        assert.deepEqual(
          ips.map((ip) => `${ip.address} ${ip.dns_name}`).sort(),
          Array.from({ length: n }, (_, i) => `${address(i)} a${i}.slow.example`).sort(),
        );
      } finally {
        await proxy.close();
        const found = await direct.ipam.vrfs.find({ name: vrf }).catch(() => undefined);
        if (found) await dropVrf(direct, found.id);
        direct.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
