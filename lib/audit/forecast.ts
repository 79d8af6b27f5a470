/**
 * Exhaustion forecast: from NetBox's own change log (`/api/core/object-changes/`, the creates
 * of `ipam.ipaddress`), fit the allocation rate of each busy prefix by least squares (the
 * cumulative number of addresses created inside it against time) and say when it is full at
 * that rate: "192.168.3.0/24 full in about 12 days".
 *
 * @module
 */

import type { NetBoxClient } from "../client/types.ts";
import { changeLogCreates, fitAllocationRate, refId } from "../ipam/exhaustion.ts";
import { parseCidr } from "../ipam/ip.ts";
import type { PrefixUsage } from "./model.ts";

export { fitAllocationRate } from "../ipam/exhaustion.ts";
export type { RateFit } from "../ipam/exhaustion.ts";

/** The forecast of one prefix. */
export interface PrefixForecast {
  /** The prefix's id in NetBox. */
  id: number;
  /** The prefix (`192.168.3.0/24`). */
  prefix: string;
  /** The VRF's name, or `null` for the global table. */
  vrf: string | null;
  /** The prefix's page in the NetBox web UI. */
  url: string | null;
  /** Percent used now, 0–100. */
  utilization: number;
  /** Addresses (or child space) used now. */
  used: number;
  /** Usable size. */
  size: number;
  /** Addresses created inside it within the window (the points of the fit). */
  samples: number;
  /** The fitted allocation rate, addresses per day (0 when there are fewer than 2 samples). */
  rate_per_day: number;
  /** Days until full at that rate, one decimal; `null` when the rate is not positive. */
  full_in_days: number | null;
  /** When it is full at that rate (ISO 8601), or `null`. */
  full_at: string | null;
  /** The window the fit looked at, in days. */
  window_days: number;
}

/** One create in the change log. */
export interface AllocationEvent {
  /** When it was created. */
  time: Date;
  /** The address created (`10.0.0.5/24`). */
  address: string;
  /** Its VRF id, or `null` for the global table. */
  vrfId: number | null;
}

/** Options of {@linkcode forecastPrefixes} and {@linkcode forecastExhaustion}. */
export interface ForecastOptions {
  /** Prefixes at or above this utilization (percent) are forecast. @default {50} */
  threshold?: number;
  /** How far back the change log is read, in days. @default {90} */
  windowDays?: number;
  /** The current time. @default {new Date()} */
  now?: Date;
}

/**
 * Forecasts exhaustion from allocation events already fetched (pure; see
 * {@linkcode forecastExhaustion} for the version that reads the change log).
 *
 * @param usage Utilization of the prefixes in scope (with `used`, `size` and `vrf_id`).
 * @param events Address creates (any prefix; those outside a prefix are ignored for it).
 * @param options Threshold, window and clock.
 * @returns One forecast per prefix at or above the threshold, soonest full first.
 *
 * @example A /24 at 90 % that gets 5 addresses a day is full in about 5 days
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { forecastPrefixes } from "./forecast.ts";
 * const now = new Date("2026-01-11T00:00:00Z");
 * const events = Array.from({ length: 50 }, (_, i) => ({
 *   time: new Date(now.getTime() - (50 - i) * 4.8 * 3_600_000), address: `10.0.0.${i + 1}/24`, vrfId: null,
 * }));
 * const [f] = forecastPrefixes(
 *   [{ id: 1, prefix: "10.0.0.0/24", vrf: null, vrf_id: null, utilization: 90.16, used: 229, size: 254, url: null }],
 *   events, { now },
 * );
 * assert(Math.abs(f.rate_per_day - 5) < 0.01 && f.full_in_days === 5);
 * ```
 */
export function forecastPrefixes(
  usage: readonly PrefixUsage[],
  events: readonly AllocationEvent[],
  options: ForecastOptions = {},
): PrefixForecast[] {
  const threshold = options.threshold ?? 50;
  const windowDays = options.windowDays ?? 90;
  const now = options.now ?? new Date();
  const parsed = events.flatMap((e) => {
    try {
      const net = parseCidr(e.address);
      return [{ ...e, family: net.family, host: net.address }];
    } catch {
      return [];
    }
  });
  const out: PrefixForecast[] = [];
  for (const u of usage) {
    if (u.utilization < threshold || u.used === undefined || u.size === undefined) continue;
    let net;
    try {
      net = parseCidr(u.prefix);
    } catch {
      continue;
    }
    const vrfId = u.vrf_id ?? null;
    const times = parsed.filter((e) =>
      e.vrfId === vrfId && e.family === net.family && net.first <= e.host && e.host <= net.last
    ).map((e) => e.time);
    const fit = fitAllocationRate(times);
    const remaining = Math.max(0, u.size - u.used);
    const days = fit.slope > 0 ? Math.round((remaining / fit.slope) * 10) / 10 : null;
    out.push({
      id: u.id,
      prefix: u.prefix,
      vrf: u.vrf,
      url: u.url,
      utilization: u.utilization,
      used: u.used,
      size: u.size,
      samples: times.length,
      rate_per_day: Math.round(fit.slope * 1000) / 1000,
      full_in_days: days,
      full_at: days === null ? null : new Date(now.getTime() + days * 86_400_000).toISOString(),
      window_days: windowDays,
    });
  }
  return out.sort((a, b) =>
    (a.full_in_days ?? Infinity) - (b.full_in_days ?? Infinity) || a.id - b.id
  );
}

/**
 * Reads the creates of IP addresses from NetBox's change log
 * (`/api/core/object-changes/?changed_object_type=ipam.ipaddress&action=create&time_after=…`).
 *
 * @param client The client.
 * @param since Only changes after this time.
 * @param signal Aborts the listing.
 * @returns The creates, oldest first.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "../client/client.ts";
 * import { allocationEvents } from "./forecast.ts";
 * const client = createClient({ url: "http://127.0.0.1:8000", token: Deno.env.get("NETBOX_TOKEN")! });
 * const events = await allocationEvents(client, new Date(Date.now() - 30 * 86_400_000));
 * console.log(events.length);
 * ```
 */
export async function allocationEvents(
  client: Pick<NetBoxClient, "endpoint">,
  since: Date,
  signal?: AbortSignal,
): Promise<AllocationEvent[]> {
  const out: AllocationEvent[] = [];
  for (const { time, data } of await changeLogCreates(client, "ipam.ipaddress", since, signal)) {
    if (typeof data["address"] !== "string") continue;
    out.push({ time, address: data["address"], vrfId: refId(data["vrf"]) });
  }
  return out;
}

/**
 * Forecasts when the busy prefixes fill up, from NetBox's change log: reads the address creates
 * of the last `windowDays` and fits each prefix's rate ({@linkcode forecastPrefixes}).
 *
 * @param client The client.
 * @param usage Utilization of the prefixes in scope (an audit's `utilization`).
 * @param options Threshold, window and clock.
 * @returns One forecast per prefix at or above the threshold.
 *
 * @example No prefix is busy: the change log is not even read
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { forecastExhaustion } from "./forecast.ts";
 * const client = { endpoint: () => { throw new Error("not called"); } };
 * assert((await forecastExhaustion(client, [], { threshold: 50 })).length === 0);
 * ```
 */
export async function forecastExhaustion(
  client: Pick<NetBoxClient, "endpoint">,
  usage: readonly PrefixUsage[],
  options: ForecastOptions & { signal?: AbortSignal } = {},
): Promise<PrefixForecast[]> {
  const threshold = options.threshold ?? 50;
  const now = options.now ?? new Date();
  const windowDays = options.windowDays ?? 90;
  if (!usage.some((u) => u.utilization >= threshold)) return [];
  const since = new Date(now.getTime() - windowDays * 86_400_000);
  const events = await allocationEvents(client, since, options.signal);
  return forecastPrefixes(usage, events, { threshold, windowDays, now });
}
