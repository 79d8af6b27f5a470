/**
 * The allocation-rate fit behind exhaustion forecasts: from NetBox's own change log
 * (`/api/core/object-changes/`, the creates of one object type), the cumulative amount allocated
 * against time, fitted by least squares. audit-ips forecasts busy prefixes with it (addresses
 * created inside them); allocation skips pools that it forecasts full too soon
 * (`minDaysLeft`: prefixes, VLANs or ASNs created inside the pool).
 *
 * @module
 */

import type { Filters, NetBoxClient, NetBoxObject } from "../client/types.ts";

/** A straight line `count = intercept + slope × days`. */
export interface RateFit {
  /** Amount (addresses, objects) per day. */
  slope: number;
  /** The count at day 0 (the first sample's time). */
  intercept: number;
  /** Points used. */
  n: number;
}

/**
 * Fits an allocation rate by least squares: the cumulative amount allocated (each point adds its
 * `amount`, in time order) against its time in days.
 *
 * @param points When each allocation happened and how much it took (any order).
 * @returns The slope in amount per day (0 with fewer than two distinct times).
 *
 * @example Four /30s (16 addresses) a day for a week
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { fitRate } from "./exhaustion.ts";
 * const start = Date.parse("2026-01-01T00:00:00Z");
 * const points = Array.from({ length: 28 }, (_, i) => ({ time: new Date(start + i * 21_600_000), amount: 4 }));
 * assert(Math.abs(fitRate(points).slope - 16) < 0.01);
 * ```
 */
export function fitRate(points: readonly { time: Date; amount: number }[]): RateFit {
  const p = points.map((e) => ({ t: e.time.getTime(), amount: e.amount }))
    .sort((a, b) => a.t - b.t);
  const n = p.length;
  const total = p.reduce((s, e) => s + e.amount, 0);
  if (n < 2 || p[0].t === p[n - 1].t) return { slope: 0, intercept: total, n };
  const x = p.map((e) => (e.t - p[0].t) / 86_400_000);
  let sum = 0;
  const y = p.map((e) => (sum += e.amount));
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, n };
}

/**
 * Fits the allocation rate of a series of allocation times by least squares: the i-th
 * allocation (1-based) against its time in days ({@linkcode fitRate} with 1 each).
 *
 * @param times When each address was created (any order).
 * @returns The slope in addresses per day (0 with fewer than two distinct times).
 *
 * @example Ten addresses a day for a week
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { fitAllocationRate } from "./exhaustion.ts";
 * const start = Date.parse("2026-01-01T00:00:00Z");
 * const times = Array.from({ length: 70 }, (_, i) => new Date(start + i * 8_640_000));
 * assert(Math.abs(fitAllocationRate(times).slope - 10) < 0.01);
 * ```
 */
export function fitAllocationRate(times: readonly Date[]): RateFit {
  return fitRate(times.map((time) => ({ time, amount: 1 })));
}

/** One create in NetBox's change log. */
export interface ChangeLogCreate {
  /** When it was created. */
  time: Date;
  /** The object as it was stored (`postchange_data`: references as ids). */
  data: Record<string, unknown>;
}

/**
 * Reads the creates of one object type from NetBox's change log
 * (`/api/core/object-changes/?changed_object_type=<type>&action=create&time_after=…`).
 *
 * @param client The client.
 * @param objectType NetBox's `app_label.model`, e.g. `ipam.ipaddress`, `ipam.prefix`.
 * @param since Only changes after this time.
 * @param signal Aborts the listing.
 * @returns The creates with their stored data, oldest first (rows without data left out).
 *
 * @example
 * ```ts ignore
 * import { createClient } from "../client/client.ts";
 * import { changeLogCreates } from "./exhaustion.ts";
 * const client = createClient({ url: "http://127.0.0.1:8000", token: Deno.env.get("NETBOX_TOKEN")! });
 * const creates = await changeLogCreates(client, "ipam.prefix", new Date(Date.now() - 30 * 86_400_000));
 * console.log(creates.length);
 * ```
 */
export async function changeLogCreates(
  client: Pick<NetBoxClient, "endpoint">,
  objectType: string,
  since: Date,
  signal?: AbortSignal,
): Promise<ChangeLogCreate[]> {
  const filters: Filters = {
    changed_object_type: objectType,
    action: "create",
    time_after: since.toISOString(),
  };
  const rows: NetBoxObject[] = await client.endpoint("core/object-changes/").all(filters, {
    fields: ["id", "time", "postchange_data"],
    signal,
  });
  const out: ChangeLogCreate[] = [];
  for (const row of rows) {
    const data = row["postchange_data"];
    const time = new Date(String(row["time"]));
    if (!data || typeof data !== "object" || Number.isNaN(time.getTime())) continue;
    out.push({ time, data: data as Record<string, unknown> });
  }
  return out.sort((a, b) => a.time.getTime() - b.time.getTime());
}

/**
 * A reference as NetBox stores it in `postchange_data` (an id, or a brief object): its id.
 *
 * @param value The stored reference.
 * @returns Its id, or `null` when unset or not a reference.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { refId } from "./exhaustion.ts";
 * assert(refId(7) === 7 && refId({ id: 7, name: "blue" }) === 7 && refId(null) === null);
 * ```
 */
export function refId(value: unknown): number | null {
  return typeof value === "number"
    ? value
    : value && typeof value === "object" && typeof (value as { id?: unknown }).id === "number"
    ? (value as { id: number }).id
    : null;
}
