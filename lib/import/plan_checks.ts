/**
 * Checks of an import plan before anything is written: the delete brake — a plan that deletes
 * more objects than the caller allows stops (one wrong glob in a NetBox-as-code job, `--prune`
 * given one file of twenty, would otherwise empty a site; the caller raises the limit explicitly
 * when the deletes are meant) — and the permissions the plan's writes need.
 *
 * @module
 */

import { InputError } from "../client/errors.ts";
import type { ModelWrite } from "../client/permissions.ts";
import { escapeControls } from "../base/safe_text.ts";
import type { ImportPlan, PlanItem } from "./plan.ts";

/** One delete of a plan, as {@linkcode DeleteLimitError} lists it. */
export interface PlannedDelete {
  /** The model (`dcim.sites`). */
  model: string;
  /** The object's readable name. */
  label: string;
  /** Its id. */
  id?: number;
  /** Its natural key as text (`slug=matrix`), when known. */
  key?: string;
  /** Why: `absent` (`_state: absent`) or `prune`. */
  reason?: "absent" | "prune";
}

/**
 * A plan deletes more objects than allowed: nothing was written (exit code 2).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { DeleteLimitError } from "./plan_checks.ts";
 * const err = new DeleteLimitError([{ model: "dcim.sites", label: "a", id: 1 }], 0);
 * assert(err.exitCode === 2 && err.deletes.length === 1 && err.limit === 0);
 * ```
 */
export class DeleteLimitError extends InputError {
  /** Every delete of the plan, in the order they would be made. */
  readonly deletes: PlannedDelete[];
  /** The limit that was exceeded. */
  readonly limit: number;
  /** Creates the error. */
  constructor(deletes: PlannedDelete[], limit: number) {
    super(
      `Cannot import: the plan deletes ${deletes.length} object${
        deletes.length === 1 ? "" : "s"
      }, more than the limit of ${limit} allows; nothing was written`,
    );
    this.deletes = deletes;
    this.limit = limit;
  }
}

/**
 * The deletes of a plan (`_state: absent` entries and pruned objects), in reverse dependency
 * order as they would be made.
 *
 * @param plan the plan
 * @returns one row per delete
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { plannedDeletes } from "./plan_checks.ts";
 * assert(plannedDeletes({ items: [], problems: [] }).length === 0);
 * ```
 */
export function plannedDeletes(plan: ImportPlan): PlannedDelete[] {
  return plan.items.filter((i) => i.action === "delete")
    .sort((a, b) => b.model.order - a.model.order || a.uid - b.uid)
    .map((i) => ({
      model: i.model.key,
      label: i.label,
      ...(i.id !== undefined ? { id: i.id } : {}),
      ...(i.key !== undefined ? { key: i.key } : {}),
      ...(i.reason !== undefined ? { reason: i.reason } : {}),
    }));
}

/**
 * Refuses a plan that deletes more than `limit` objects.
 *
 * @param plan the plan
 * @param limit the most deletes allowed; `undefined` or `Infinity`: no limit
 * @throws {DeleteLimitError} when the plan deletes more (exit code 2)
 * @throws {RangeError} when `limit` is negative or not an integer
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { checkDeleteLimit } from "./plan_checks.ts";
 * checkDeleteLimit({ items: [], problems: [] }, 0); // nothing to delete: fine
 * assert(true);
 * ```
 */
export function checkDeleteLimit(plan: ImportPlan, limit: number | undefined): void {
  if (limit === undefined || limit === Infinity) return;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`Cannot check deletes: maxDeletes ${limit} is not a whole number ≥ 0`);
  }
  const deletes = plannedDeletes(plan);
  if (deletes.length > limit) throw new DeleteLimitError(deletes, limit);
}

/**
 * The permissions a plan's creates and updates need (model and add/change), for a check before
 * writing.
 *
 * @param plan the plan
 * @returns one entry per model and action
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { writesOfPlan } from "./plan_checks.ts";
 * assert(writesOfPlan({ items: [], problems: [] }).length === 0);
 * ```
 */
export function writesOfPlan(plan: ImportPlan): ModelWrite[] {
  const needed = new Map<string, ModelWrite>();
  for (const item of plan.items) {
    if (item.action !== "create" && item.action !== "update") continue;
    const action = item.action === "create" ? "add" : "change";
    needed.set(`${action} ${item.model.path}`, { path: item.model.path, action });
    if (Object.keys(item.deferred).length) {
      needed.set(`change ${item.model.path}`, { path: item.model.path, action: "change" });
    }
  }
  return [...needed.values()];
}

/**
 * The deletes of a plan as text, one line each: `delete dcim.sites matrix (slug=matrix, id 7,
 * prune)`; names shown with control characters visible.
 *
 * @param deletes the deletes (`plannedDeletes`, or `DeleteLimitError.deletes`)
 * @returns the lines, each ending in a line feed
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderDeletes } from "./plan_checks.ts";
 * assert(renderDeletes([{ model: "dcim.sites", label: "a", id: 7, key: "slug=a", reason: "prune" }]) ===
 *   "delete dcim.sites a (slug=a, id 7, prune)\n");
 * ```
 */
export function renderDeletes(deletes: readonly PlannedDelete[]): string {
  return deletes.map((d) => {
    const why = d.reason === "prune" ? "prune" : "_state: absent";
    return escapeControls(
      `delete ${d.model} ${d.label} (${d.key ? `${d.key}, ` : ""}id ${d.id}, ${why})`,
    ) + "\n";
  }).join("");
}

/**
 * The items of a plan that write (create, update, delete), in write order.
 *
 * @param plan the plan
 * @returns those items
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { plannedWrites } from "./plan_checks.ts";
 * assert(plannedWrites({ items: [], problems: [] }).length === 0);
 * ```
 */
export function plannedWrites(plan: ImportPlan): PlanItem[] {
  return plan.items.filter((i) => ["create", "update", "delete"].includes(i.action));
}

/**
 * Whether applying the plan writes anything: a create, update or delete, or a second-pass field
 * (primary IP) of an unchanged object.
 *
 * @param plan the plan
 * @returns true when it writes
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { planWrites } from "./plan_checks.ts";
 * assert(!planWrites({ items: [], problems: [] }));
 * ```
 */
export function planWrites(plan: ImportPlan): boolean {
  return plannedWrites(plan).length > 0 ||
    plan.items.some((i) => Object.keys(i.deferred).length > 0);
}
