/**
 * The plan of a revert: for each object the selected changes touched, the one write that puts it
 * back — a created object deleted, an updated one patched back to its earlier values, a deleted
 * one created again (a new id; the references to it are relinked). Each object is compared with
 * NetBox first: one changed since (by anyone else) is refused, with the difference, unless
 * forced; a created object others now refer to is refused, naming them, unless cascading.
 *
 * The order: deleted objects come back first (what they refer to before them, references that
 * would go in circles set afterwards), then updates are undone, then created objects deleted,
 * each group in reverse order of the original changes.
 *
 * @module
 */

import { NetBoxError, NetBoxHttpError } from "../client/errors.ts";
import type { ErrorKind } from "../client/errors.ts";
import { mapLimit } from "../base/limit.ts";
import { createEndpoint } from "../client/endpoint.ts";
import { checkFilters } from "../client/filter_guard.ts";
import type { NetBoxObject, Transport } from "../client/types.ts";
import { CASCADES, lookupModel, modelByKey, MODELS } from "../import/models.ts";
import type { LoggedChange } from "./changes.ts";
import { pathOfModel, readObjectTypes, refTargets } from "./_models.ts";
import {
  bodyOf,
  driftOf,
  isTypeField,
  loggedDiffers,
  nameOf,
  type ObjectTypes,
  reduce,
} from "./_values.ts";

/** One field of a revert step: its value now and the value the step writes. */
export interface RevertFieldChange {
  /** The field. */
  field: string;
  /** Its value in NetBox now (as the change log writes values: ids, raw choices). */
  before: unknown;
  /** The value the revert writes (`undefined`: the object is deleted). */
  after: unknown;
}

/** One write of a revert. */
export interface RevertStep {
  /** `delete` a created object, `update` one back, `create` a deleted one again. */
  action: "delete" | "update" | "create";
  /** Its content type, `app.model`. */
  model: string;
  /** Its list path, e.g. `dcim/devices/`. */
  path: string;
  /** Its id (for `create`: the id it had before it was deleted). */
  id: number;
  /** A short name. */
  name: string;
  /** The logged fields the step writes (`update`: the earlier values; `create`: the object). */
  data: Record<string, unknown>;
  /** The fields of `data` it writes. */
  fields: string[];
  /** What it changes. */
  changes: RevertFieldChange[];
  /** The request ids of the changes it undoes. */
  request_ids: string[];
  /** Why it cannot be done as is (changed since, others refer to it); absent when it can. */
  refusal?: string;
  /** A refusal overridden by `force`/`cascade`, kept for the report. */
  overridden?: string;
  /** The object as read while planning (an update is sent only if it is still so). */
  current?: NetBoxObject;
}

/** An object the selection touched that needs no write. */
export interface RevertSkip {
  /** Its content type, `app.model`. */
  model: string;
  /** Its id. */
  id: number;
  /** A short name. */
  name: string;
  /** Why no write is needed. */
  reason: string;
}

/** What {@linkcode planRevert} returns. */
export interface RevertPlan {
  /** The writes, in the order they are sent. */
  steps: RevertStep[];
  /** The steps refused (also in `steps`); the plan is applied only when none is. */
  refused: RevertStep[];
  /** Objects needing no write. */
  skipped: RevertSkip[];
  /** How many change-log entries the plan undoes. */
  changes: number;
  /** NetBox's content types, when a generic relation needed them. */
  types?: ObjectTypes;
  /** Content type → list path, for every model of the plan and the models its references name. */
  paths: Map<string, string>;
}

/** Options of {@linkcode planRevert}. */
export interface PlanRevertOptions {
  /** Undo changes even on objects changed since (the later change is overwritten). @default {false} */
  force?: boolean;
  /** Delete created objects even when others now refer to them (NetBox deletes or unlinks those). @default {false} */
  cascade?: boolean;
  /** Aborts the reading. */
  signal?: AbortSignal;
}

/**
 * A revert that cannot go ahead as is: an object changed since, or others refer to an object it
 * would delete. Nothing was written. Exit code 3.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { RevertRefusedError } from "./plan.ts";
 * const err = new RevertRefusedError("Cannot revert: dcim.device web-01 (id 7) changed since");
 * assert(err.exitCode === 3);
 * ```
 */
export class RevertRefusedError extends NetBoxError {
  /** Always `changed`. */
  override get kind(): ErrorKind {
    return "changed";
  }
}

const keyOf = (model: string, id: number) => `${model}:${id}`;

/**
 * Plans the revert of change-log entries (read with `readChanges`), checking each object
 * against NetBox. Reads only.
 *
 * @param transport the client
 * @param changes the entries to undo, oldest first
 * @param options `force`, `cascade`, a stop signal
 * @returns the plan; `refused` lists the steps that stop it
 *
 * @example A created site is deleted again
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { planRevert } from "./plan.ts";
 * import type { Transport } from "../client/types.ts";
 * const site = { id: 7, url: "", display: "Lab", name: "Lab", slug: "lab" };
 * const transport = {
 *   strictFilters: false, concurrency: 1, pageSize: 100, memoryBudget: 1e6,
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: (_m: string, path: string) =>
 *     Promise.resolve(path === "dcim/sites/7/" ? site : { count: 0, next: null, results: [] }),
 * } as unknown as Transport;
 * const plan = await planRevert(transport, [{
 *   id: 1, time: "2026-12-07T18:30:00Z", user_name: "admin", request_id: "4f1c0f6e-2b0a",
 *   action: "create", model: "dcim.site", object_id: 7, prechange: null,
 *   postchange: { name: "Lab", slug: "lab" },
 * }]);
 * equal(plan.steps[0].action, "delete");
 * equal(plan.refused.length, 0);
 * ```
 */
export async function planRevert(
  transport: Transport,
  changes: readonly LoggedChange[],
  options: PlanRevertOptions = {},
): Promise<RevertPlan> {
  const { force = false, cascade = false, signal } = options;
  const ordered = [...changes].sort((a, b) => a.id - b.id);
  const byObject = new Map<string, LoggedChange[]>();
  for (const c of ordered) {
    const k = keyOf(c.model, c.object_id);
    byObject.set(k, [...(byObject.get(k) ?? []), c]);
  }
  const paths = new Map<string, string>();
  for (const model of new Set(ordered.map((c) => c.model))) {
    const path = await pathOfModel(transport, model, signal);
    if (!path) {
      throw new RevertRefusedError(
        `Cannot revert changes of ${model}: NetBox has no API endpoint for it`,
      );
    }
    paths.set(model, path);
  }
  // Content types are read only to write a generic relation back (an update or a delete undone);
  // deleting a created object needs none (its drift check compares the relation's id alone).
  const needsTypes = ordered.some((c) => {
    const data = c.action === "create" ? {} : c.prechange ?? {};
    return Object.entries(data).some(([k, v]) => typeof v === "number" && isTypeField(k, data));
  });
  const types = needsTypes ? await readObjectTypes(transport, signal) : undefined;
  if (types) {
    for (const model of types.byName.keys()) {
      if (paths.has(model)) continue;
      const path = await pathOfModel(transport, model, signal);
      if (path) paths.set(model, path);
    }
  }
  // Also the models the table's references name, for the field-name fallback of relinking.
  for (const m of MODELS) {
    const model = m.contentType ?? undefined;
    if (model && !paths.has(model)) paths.set(model, m.path);
  }

  const creates: { step: RevertStep; at: number }[] = [];
  const updates: { step: RevertStep; at: number }[] = [];
  const deletes: { step: RevertStep; at: number }[] = [];
  const skipped: RevertSkip[] = [];
  for (const [, list] of byObject) {
    const first = list[0];
    const last = list[list.length - 1];
    const path = paths.get(first.model)!;
    const base = {
      model: first.model,
      path,
      id: first.object_id,
      request_ids: [...new Set(list.map((c) => c.request_id))],
    };
    const at = last.id;
    if (first.action === "create" && last.action === "delete") {
      skipped.push({
        ...base,
        name: nameOf(first.postchange, first.object_id),
        reason: "created and deleted again",
      });
    } else if (first.action === "create") {
      const post = last.postchange ?? {};
      deletes.push({
        at,
        step: {
          ...base,
          action: "delete",
          name: nameOf(post, first.object_id),
          data: post,
          fields: Object.keys(post),
          changes: [],
        },
      });
    } else if (last.action === "delete") {
      const pre = first.prechange ?? {};
      const fields = Object.keys(bodyOf(pre, Object.keys(pre), undefined, (_f, id) => id, true));
      creates.push({
        at,
        step: {
          ...base,
          action: "create",
          name: nameOf(pre, first.object_id),
          data: pre,
          fields,
          changes: fields.map((field) => ({ field, before: undefined, after: pre[field] })),
        },
      });
    } else {
      const pre = first.prechange ?? {};
      const post = last.postchange ?? {};
      const fields = [...new Set([...Object.keys(pre), ...Object.keys(post)])]
        .filter((f) => !f.startsWith("_") && loggedDiffers(pre[f], post[f]));
      const name = nameOf(post, first.object_id);
      if (!fields.length) {
        skipped.push({ ...base, name, reason: "updated back to where it was" });
        continue;
      }
      updates.push({
        at,
        step: { ...base, action: "update", name, data: pre, fields, changes: [] },
      });
    }
  }
  const latestFirst = (a: { at: number }, b: { at: number }) => b.at - a.at;
  const steps = [
    ...orderCreates(creates.sort(latestFirst).map((c) => c.step), types, paths),
    ...updates.sort(latestFirst).map((u) => u.step),
    ...deletes.sort(latestFirst).map((d) => d.step),
  ];
  const deleted = new Set(deletes.map((d) => keyOf(d.step.path, d.step.id)));
  // References the plan's updates set back anyway do not hold a deleted object.
  const released = new Set(
    updates.flatMap((u) => u.step.fields.map((f) => `${keyOf(u.step.path, u.step.id)}:${f}`)),
  );
  await mapLimit(steps, transport.concurrency, async (step) => {
    if (step.action === "create") return;
    const last = byObject.get(keyOf(step.model, step.id))!.at(-1)!;
    const current = await readCurrent(transport, step, signal);
    if (current === undefined) {
      if (step.action === "delete") {
        skipped.push({
          model: step.model,
          id: step.id,
          name: step.name,
          reason: "already deleted",
        });
        step.refusal = "";
      } else {
        step.refusal = "deleted since";
      }
      return;
    }
    step.current = current;
    const logged = last.postchange ?? {};
    const drift = driftOf(current, logged, step.fields, types);
    if (step.action === "update") {
      step.changes = step.fields.filter((f) => f in current).map((field) => ({
        field,
        before: reduce(field, current[field]),
        after: step.data[field],
      }));
    }
    if (drift.length) {
      const why = `changed since: ${
        drift.map((d) => `${d.field} ${show(d.logged)} → ${show(d.current)}`).join(", ")
      }`;
      if (force) step.overridden = why;
      else step.refusal = why;
    }
  });
  // Created objects others refer to now: one round of listings per model.
  const toDelete = steps.filter((s) => s.action === "delete" && s.refusal === undefined);
  const byPath = Map.groupBy(toDelete, (s) => s.path);
  await mapLimit([...byPath.values()], transport.concurrency, async (group) => {
    const found = await dependants(transport, group, deleted, released, signal);
    for (const [step, others] of found) {
      const why = `${others.length} other object${others.length === 1 ? "" : "s"} refer to it: ${
        others.slice(0, 5).join(", ")
      }${others.length > 5 ? ", …" : ""}`;
      if (cascade) step.overridden = why;
      else step.refusal = why;
    }
  });
  const kept = steps.filter((s) => s.refusal !== "");
  return {
    steps: kept,
    refused: kept.filter((s) => s.refusal),
    skipped,
    changes: ordered.length,
    ...(types ? { types } : {}),
    paths,
  };
}

/** A value for a one-line message. */
export function show(value: unknown): string {
  if (value === undefined || value === null || value === "") return "(none)";
  return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}

async function readCurrent(
  transport: Transport,
  step: RevertStep,
  signal?: AbortSignal,
): Promise<NetBoxObject | undefined> {
  try {
    return await createEndpoint(transport, step.path).get(step.id, { signal });
  } catch (err) {
    if (err instanceof NetBoxHttpError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * What refers to the objects of one model a plan deletes, by the import's model table
 * (references and cascades): one listing per referring field for all of them.
 */
async function dependants(
  transport: Transport,
  steps: readonly RevertStep[],
  deleted: ReadonlySet<string>,
  released: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<Map<RevertStep, string[]>> {
  const path = steps[0].path;
  const queries: {
    path: string;
    filter: string;
    fields: string[];
    owner: (o: Obj) => unknown;
    field?: string;
  }[] = [];
  // An IPv4 address is never anyone's primary_ip6, nor an IPv6 one a primary_ip4.
  const families = new Set(steps.map((s) => String(s.data.address ?? "").includes(":")));
  for (const m of MODELS) {
    for (const [field, target] of Object.entries(m.refs)) {
      if (modelByKey(target).path !== path) continue;
      if (["tags", "tagged_vlans", "import_targets", "export_targets"].includes(field)) continue;
      if (field === "primary_ip6" && !families.has(true)) continue;
      if (field === "primary_ip4" && path === "ipam/ip-addresses/" && !families.has(false)) {
        continue;
      }
      queries.push({
        path: m.path,
        filter: `${field}_id`,
        fields: ["id", "display", field],
        owner: (o) => reduce(field, o[field]),
        field,
      });
    }
  }
  const cascade = CASCADES[lookupModel(path)?.key ?? ""];
  if (cascade) {
    queries.push({
      path: cascade.path,
      filter: cascade.filter,
      fields: cascade.fields,
      owner: (o) => cascade.owner(o),
    });
  }
  const ids = steps.map((s) => String(s.id));
  const pages = await Promise.all(queries.map(async (q) => {
    try {
      await checkFilters(transport, q.path, { [q.filter]: ids }, signal);
    } catch {
      return []; // a filter this NetBox does not have: it would list the whole table
    }
    const query = new URLSearchParams(ids.map((id) => [q.filter, id]));
    query.set("fields", q.fields.join(","));
    query.set("limit", String(20 * steps.length));
    const page = await transport.request<{ results?: Obj[] }>("GET", q.path, {
      query,
      signal,
      action: `list what refers to ${steps[0].model} ${steps.map((s) => s.name).join(", ")}`,
    });
    return page?.results ?? [];
  }));
  const found = new Map<RevertStep, string[]>();
  for (const step of steps) {
    const seen = new Set<string>();
    const mine: string[] = [];
    for (const [n, q] of queries.entries()) {
      for (const o of pages[n]) {
        if (q.owner(o) !== step.id) continue;
        const k = keyOf(q.path, o.id);
        if (deleted.has(k) || seen.has(k) || (q.path === path && o.id === step.id)) continue;
        if (q.field && released.has(`${k}:${q.field}`)) continue;
        seen.add(k);
        mine.push(
          `${q.path.replace("/", ".").replace(/\/$/, "")} ${o.display ?? o.id} (id ${o.id})`,
        );
      }
    }
    if (mine.length) found.set(step, mine);
  }
  return found;
}

type Obj = NetBoxObject & Record<string, unknown>;

/**
 * Orders the objects to create again so that each comes after the ones it refers to; a
 * reference that would go in a circle is set afterwards (`applyRevert` relinks it).
 */
function orderCreates(
  steps: RevertStep[],
  types: ObjectTypes | undefined,
  paths: ReadonlyMap<string, string>,
): RevertStep[] {
  const keys = new Map(steps.map((s) => [keyOf(s.path, s.id), s]));
  const tagsByName = new Map(
    steps.filter((s) => s.model === "extras.tag").map((s) => [String(s.data.name), s]),
  );
  const needs = new Map<RevertStep, RevertStep[]>();
  for (const s of steps) {
    const deferred = lookupModel(s.path)?.deferred ?? [];
    const deps: RevertStep[] = [];
    for (const field of s.fields) {
      if (deferred.includes(field)) continue;
      const value = s.data[field];
      if (field === "tags" && Array.isArray(value)) {
        for (const t of value) {
          const tag = tagsByName.get(String(t));
          if (tag) deps.push(tag);
        }
        continue;
      }
      const ids = Array.isArray(value) ? value : [value];
      for (const id of ids) {
        if (typeof id !== "number") continue;
        for (const target of refTargets(s.path, field, s.data, types, paths)) {
          const dep = keys.get(keyOf(target, id));
          if (dep && dep !== s) deps.push(dep);
        }
      }
    }
    needs.set(s, deps);
  }
  const out: RevertStep[] = [];
  const placed = new Set<RevertStep>();
  while (out.length < steps.length) {
    const next = steps.find((s) => !placed.has(s) && needs.get(s)!.every((d) => placed.has(d))) ??
      steps.find((s) => !placed.has(s))!; // a circle: its open references are relinked later
    placed.add(next);
    out.push(next);
  }
  return out;
}
