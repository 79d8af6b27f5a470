import assert from "node:assert/strict";
import { fitAllocationRate, forecastPrefixes } from "../../lib/audit/forecast.ts";

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("least squares recovers the allocation rate of a noisy history within 10 %", () => {
  const start = Date.parse("2026-01-01T00:00:00Z");
  for (const [rate, seed] of [[0.5, 1], [3, 2], [12, 3], [40, 4]]) {
    const random = rng(seed);
    const gap = 86_400_000 / rate;
    // Jittered arrivals: each within ±40 % of its regular slot (60 of them)…
    const jittered = Array.from(
      { length: 60 },
      (_, i) => new Date(start + (i + (random() - 0.5) * 0.8) * gap),
    );
    // …and Poisson arrivals (exponential gaps, 1000 of them: the fit's error is ~3 %).
    let t = start;
    const poisson: Date[] = [];
    for (let i = 0; i < 1000; i++) {
      t += -Math.log(1 - random()) * gap;
      poisson.push(new Date(t));
    }
    for (const times of [jittered, poisson]) {
      const fit = fitAllocationRate([...times].reverse());
      assert.ok(Math.abs(fit.slope - rate) / rate < 0.1, `rate ${rate}: fitted ${fit.slope}`);
    }
  }
  assert.equal(fitAllocationRate([]).slope, 0);
  assert.equal(fitAllocationRate([new Date(start)]).slope, 0);
  assert.equal(fitAllocationRate([new Date(start), new Date(start)]).slope, 0);
});

Deno.test("forecastPrefixes: only busy prefixes, only creates inside them and in their VRF", () => {
  const now = new Date("2026-02-01T00:00:00Z");
  const day = 86_400_000;
  const ev = (daysAgo: number, address: string, vrfId: number | null) => ({
    time: new Date(now.getTime() - daysAgo * day),
    address,
    vrfId,
  });
  const events = [
    // 2 a day into 10.0.0.0/24 (global) for 10 days
    ...Array.from({ length: 20 }, (_, i) => ev(10 - i / 2, `10.0.0.${i + 1}/24`, null)),
    // the same addresses in VRF 7: must not count for the global prefix
    ...Array.from({ length: 30 }, (_, i) => ev(5 - i / 10, `10.0.0.${i + 1}/24`, 7)),
    ev(1, "10.0.1.1/24", null), // another prefix
    ev(1, "not an address", null),
  ];
  const usage = [
    {
      id: 1,
      prefix: "10.0.0.0/24",
      vrf: null,
      vrf_id: null,
      utilization: 80,
      used: 203,
      size: 254,
      url: null,
    },
    {
      id: 2,
      prefix: "10.0.0.0/24",
      vrf: "v",
      vrf_id: 7,
      utilization: 60,
      used: 152,
      size: 254,
      url: null,
    },
    {
      id: 3,
      prefix: "10.0.1.0/24",
      vrf: null,
      vrf_id: null,
      utilization: 10,
      used: 25,
      size: 254,
      url: null,
    },
  ];
  const out = forecastPrefixes(usage, events, { now, threshold: 50 });
  // Soonest full first: the VRF one (102 left at 10 a day), then the global one.
  assert.deepEqual(out.map((f) => f.id), [2, 1]);
  const g = out.find((f) => f.id === 1)!;
  assert.equal(g.samples, 20);
  assert.ok(Math.abs(g.rate_per_day - 2) < 0.01, String(g.rate_per_day));
  assert.equal(g.full_in_days, 25.5); // 51 left at 2 a day
  const v = out.find((f) => f.id === 2)!;
  assert.equal(v.samples, 30);
  assert.ok(Math.abs(v.rate_per_day - 10) < 0.01);
  // No history: no rate, no date.
  const none = forecastPrefixes(usage, [], { now, threshold: 50 });
  assert.ok(none.every((f) => f.full_in_days === null && f.full_at === null));
});
