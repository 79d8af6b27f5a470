import assert from "node:assert/strict";
import {
  freeSpans,
  iterateFree,
  occupies,
  populatedSpans,
  prefixPool,
  rangePool,
  skipLeading,
  spanSize,
} from "../../lib/ipam/free_ips.ts";
import { formatIp, hostOf } from "../../lib/ipam/ip.ts";

const text = (it: Iterable<{ family: 4 | 6; value: bigint }>) => [...it].map(formatIp);
const host = (a: string) => hostOf(a).value;

Deno.test("freeSpans() removes child IPs and network/broadcast of an IPv4 prefix", () => {
  const pool = prefixPool({ id: 1, prefix: "192.168.3.0/29", vrf: null });
  const spans = freeSpans(pool.usable, [host("192.168.3.1"), host("192.168.3.3")]);
  assert.deepEqual(text(iterateFree(spans)), [
    "192.168.3.2",
    "192.168.3.4",
    "192.168.3.5",
    "192.168.3.6",
  ]);
});

Deno.test("freeSpans() keeps network and broadcast for pools and /31", () => {
  const pool = prefixPool({ id: 1, prefix: "10.0.0.0/30", is_pool: true, vrf: null });
  assert.deepEqual(text(iterateFree(freeSpans(pool.usable, []))), [
    "10.0.0.0",
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.3",
  ]);
  const p31 = prefixPool({ id: 2, prefix: "10.0.0.0/31", vrf: null });
  assert.equal(spanSize(freeSpans(p31.usable, [])), 2n);
});

Deno.test("freeSpans() drops the first IPv6 address unless pool or /127", () => {
  const pool = prefixPool({ id: 1, prefix: "2001:db8::/64", vrf: null });
  const first = text(iterateFree(freeSpans(pool.usable, [host("2001:db8::2")])).take(3));
  assert.deepEqual(first, ["2001:db8::1", "2001:db8::3", "2001:db8::4"]);
  assert.equal(spanSize(freeSpans(pool.usable, [])), (1n << 64n) - 1n);
});

Deno.test("freeSpans() handles a huge IPv6 prefix without enumerating it", () => {
  const pool = prefixPool({ id: 1, prefix: "2001:db8::/32", vrf: null });
  const spans = freeSpans(pool.usable, [host("2001:db8::1"), pool.usable.end]);
  // One span (bounds only), not 2^96 addresses: work follows the occupied hosts, not the size.
  assert.deepEqual(spans, [{
    family: 6,
    start: host("2001:db8::2"),
    end: host("2001:db8:ffff:ffff:ffff:ffff:ffff:fffe"),
  }]);
  assert.equal(spanSize(spans), (1n << 96n) - 3n);
  // Skipping 10^20 free addresses is arithmetic: 2001:db8::2 + 10^20 (0x5_6bc7_5e2d_6310_0000).
  assert.deepEqual(text(iterateFree(spans, { skip: 10n ** 20n }).take(2)), [
    "2001:db8:0:5:6bc7:5e2d:6310:2",
    "2001:db8:0:5:6bc7:5e2d:6310:3",
  ]);
  assert.deepEqual(text(iterateFree(spans, { skip: spanSize(spans) - 1n })), [
    "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe",
  ]);
});

Deno.test("populatedSpans() counts only populated ranges of the VRF wholly inside the prefix", () => {
  const pool = prefixPool({ id: 1, prefix: "10.0.0.0/24", vrf: { id: 5 } });
  const spans = populatedSpans(pool, [
    {
      id: 1,
      start_address: "10.0.0.10/24",
      end_address: "10.0.0.12/24",
      mark_populated: true,
      vrf: { id: 5 },
    },
    {
      id: 2,
      start_address: "10.0.0.20/24",
      end_address: "10.0.0.29/24",
      mark_populated: false,
      vrf: { id: 5 },
    },
    {
      id: 3,
      start_address: "10.0.0.30/24",
      end_address: "10.0.0.39/24",
      mark_populated: true,
      vrf: null,
    },
    {
      id: 4,
      start_address: "10.0.0.250/16",
      end_address: "10.0.1.5/16",
      mark_populated: true,
      vrf: { id: 5 },
    },
  ]);
  assert.deepEqual(spans, [{ family: 4, start: host("10.0.0.10"), end: host("10.0.0.12") }]);
  const free = freeSpans(pool.usable, [], spans);
  assert.deepEqual(text(iterateFree(free, { skip: 8n }).take(3)), [
    "10.0.0.9",
    "10.0.0.13",
    "10.0.0.14",
  ]);
});

Deno.test("occupies() respects the VRF, except for a global container", () => {
  const inVrf = prefixPool({ id: 1, prefix: "10.0.0.0/24", vrf: { id: 5 } });
  assert.equal(occupies(inVrf, { address: "10.0.0.4/24", vrf: { id: 5 } }), true);
  assert.equal(occupies(inVrf, { address: "10.0.0.4/24", vrf: { id: 6 } }), false);
  assert.equal(occupies(inVrf, { address: "10.0.1.4/16", vrf: { id: 5 } }), false);
  const container = prefixPool({
    id: 2,
    prefix: "10.0.0.0/24",
    vrf: null,
    status: { value: "container" },
  });
  assert.equal(occupies(container, { address: "10.0.0.4/24", vrf: { id: 6 } }), true);
});

Deno.test("rangePool() uses the whole range, and nothing when mark_populated", () => {
  const pool = rangePool({ id: 3, start_address: "10.0.0.10/24", end_address: "10.0.0.12/24" });
  assert.deepEqual(text(iterateFree(freeSpans(pool.usable, [host("10.0.0.11")]))), [
    "10.0.0.10",
    "10.0.0.12",
  ]);
  assert.equal(pool.label, "10.0.0.10-10.0.0.12");
  const full = rangePool({
    id: 4,
    start_address: "10.0.0.10/24",
    end_address: "10.0.0.12/24",
    mark_populated: true,
  });
  assert.equal(spanSize(freeSpans(full.usable, [])), 0n);
});

Deno.test("iterateFree() skips and resumes after a value", () => {
  const spans = [{ family: 4 as const, start: 1n, end: 3n }, {
    family: 4 as const,
    start: 7n,
    end: 9n,
  }];
  assert.deepEqual([...iterateFree(spans, { skip: 2n })].map((a) => a.value), [3n, 7n, 8n, 9n]);
  assert.deepEqual([...iterateFree(spans, { after: 7n })].map((a) => a.value), [8n, 9n]);
  assert.deepEqual([...iterateFree(spans, { skip: 6n })], []);
});

Deno.test("skipLeading() leaves the first N usable addresses out", () => {
  const pool = prefixPool({ id: 1, prefix: "10.0.0.0/24", vrf: null });
  const spans = freeSpans(skipLeading(pool.usable, 2), [host("10.0.0.4")]);
  assert.deepEqual(text(iterateFree(spans).take(2)), ["10.0.0.3", "10.0.0.5"]);
});
