/**
 * What the allocate task prints: one row per object (`kind, value, name, id, pool, action,
 * url`; a plan adds its step), the summary, and to standard error the pools skipped and why.
 *
 * @module
 */

import type { NetBoxObject } from "../client/types.ts";
import type { AllocationResult } from "../ipam/allocate.ts";
import type { PlanStepResult } from "../ipam/allocation_plan.ts";
import type { ReserveIpsResult } from "../ipam/find_free.ts";
import { EXIT } from "./exit.ts";
import type { TaskContext } from "./task.ts";

/** The kinds the allocate task hands out. */
export type AllocationKind = "prefix" | "vlan" | "asn" | "ip";
type Kind = AllocationKind;

const COLUMNS = ["kind", "value", "name", "id", "pool", "action", "url"];

function row(kind: Kind, value: string, o: NetBoxObject | undefined, pool: string, action: string) {
  return {
    kind,
    value,
    name: (o?.name as string | undefined) ?? null,
    id: o?.id ?? null,
    pool,
    action,
    url: (o?.url as string | undefined) ?? null,
  };
}

const VALUE: Record<Exclude<Kind, "ip">, (o: NetBoxObject) => string> = {
  prefix: (o) => String(o.prefix),
  vlan: (o) => String(o.vid),
  asn: (o) => String(o.asn),
};

/**
 * Renders an allocation of prefixes, VLANs or ASNs; the skipped pools go to standard error.
 *
 * @param ctx the task's context
 * @param kind the kind
 * @param r the library's result
 * @returns the exit code
 */
export async function reportAllocation(
  ctx: TaskContext,
  kind: Exclude<Kind, "ip">,
  r: AllocationResult,
): Promise<number> {
  const pool = r.pool?.label ?? "";
  const items = [
    ...r.existing.map((o) => row(kind, VALUE[kind](o), o, "", "existing")),
    ...r.allocated.map((o) => row(kind, VALUE[kind](o), o, pool, "allocated")),
    ...r.planned.map((v) => row(kind, v, undefined, pool, "would-allocate")),
  ];
  for (const s of r.skipped) ctx.info(`skipped ${s.pool}: ${s.reason}`);
  if (r.pool) {
    ctx.info(
      `${r.dryRun ? "would allocate" : "allocated"} ${
        r.dryRun ? r.planned.length : r.allocated.length
      } ` +
        `from ${r.pool.label}` +
        (r.pool.utilization === undefined ? "" : ` (${r.pool.utilization}% used before)`),
    );
  }
  if (r.dryRun) {
    ctx.info("dry run: NetBox picks at allocation time; these are the ones free now");
  }
  await ctx.emit({
    summary: {
      kind,
      key: r.key ?? null,
      requested: r.requested,
      existing: r.existing.length,
      allocated: r.allocated.length,
      ...(r.dryRun ? { dry_run: true, planned: r.planned.length } : {}),
      pool: r.pool?.label ?? null,
      pool_id: r.pool?.id ?? null,
      matched: r.matched,
      skipped: r.skipped.map((s) => ({ pool: s.pool, id: s.id, reason: s.reason })),
    },
    items,
  }, { columns: COLUMNS });
  return EXIT.OK;
}

/**
 * Renders an applied (or dry-run) site plan.
 *
 * @param ctx the task's context
 * @param plan the plan file's name
 * @param steps the library's result
 */
export async function reportPlan(
  ctx: TaskContext,
  plan: string,
  steps: PlanStepResult[],
): Promise<void> {
  const items = steps.flatMap((s: PlanStepResult) => [
    ...s.existing.map((o) => ({ step: s.name, ...planRow(s, o, "existing") })),
    ...s.allocated.map((o) => ({ step: s.name, ...planRow(s, o, "allocated") })),
    ...s.planned.map((v) => ({
      step: s.name,
      ...row(s.kind as Kind, v, undefined, s.pool ?? "", "would-allocate"),
    })),
    ...(s.deferred
      ? [{
        step: s.name,
        ...row(s.kind as Kind, "", undefined, "", `would-allocate ${s.deferred}`),
      }]
      : []),
  ]);
  await ctx.emit({
    summary: {
      plan,
      steps: steps.length,
      existing: steps.reduce((n, s) => n + s.existing.length, 0),
      allocated: steps.reduce((n, s) => n + s.allocated.length, 0),
      ...(ctx.dryRun ? { dry_run: true } : {}),
    },
    items,
  }, { columns: ["step", ...COLUMNS] });
}

function planRow(s: PlanStepResult, o: NetBoxObject, action: string) {
  const kind = s.kind as Kind;
  const value = kind === "ip" ? String(o.address) : VALUE[kind](o);
  return row(kind, value, o, action === "existing" ? "" : s.pool ?? "", action);
}

/**
 * Renders an allocation of IP addresses (find-free-ip's reservation).
 *
 * @param ctx the task's context
 * @param r the library's result
 * @param key the key, if any
 * @returns the exit code
 */
export async function reportIpAllocation(
  ctx: TaskContext,
  r: ReserveIpsResult,
  key: string | undefined,
): Promise<number> {
  const pool = r.pool.pool.label;
  const items = [
    ...r.existing.map((ip) => row("ip", String(ip.address), ip, pool, "existing")),
    ...r.reserved.map((ip) => row("ip", String(ip.address), ip, pool, "allocated")),
    ...r.planned.map((p) => row("ip", p.address, undefined, pool, "would-allocate")),
  ];
  for (const item of items) item.name = null;
  await ctx.emit({
    summary: {
      kind: "ip",
      key: key ?? null,
      requested: r.requested,
      existing: r.existing.length,
      allocated: r.reserved.length,
      ...(r.dryRun ? { dry_run: true, planned: r.planned.length } : {}),
      pool,
      pool_id: r.pool.pool.id,
      matched: r.matched,
      skipped: [],
    },
    items,
  }, { columns: COLUMNS });
  return EXIT.OK;
}
