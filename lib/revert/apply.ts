/**
 * Applies a revert plan: one write per step, in the plan's order. Objects created again get new
 * ids; every logged reference to one of them (in the objects created after it, the references
 * set afterwards, the updates undone) is written with the new id. A write whose answer was lost
 * is read back until NetBox's settle window has passed: done, or `unknown` — never "failed" for
 * a write that may still land.
 *
 * @module
 */

import { mayHaveActed, NetBoxError, NetBoxHttpError } from "../client/errors.ts";
import { createEndpoint } from "../client/endpoint.ts";
import { etagOf } from "../client/etag.ts";
import { settle } from "../client/settle.ts";
import type { NetBoxObject, Transport } from "../client/types.ts";
import { lookupModel } from "../import/models.ts";
import { type RevertPlan, RevertRefusedError, type RevertStep } from "./plan.ts";
import { refTargets } from "./_models.ts";
import { bodyOf, holds, isTypeField, type Relink } from "./_values.ts";

/** The outcome of one step. */
export interface RevertItem {
  /** The step's write. */
  action: RevertStep["action"];
  /** Content type of the object. */
  model: string;
  /** Its id (for `create`: the id it had). */
  id: number;
  /** Its short name. */
  name: string;
  /** `create`: the id NetBox gave it. */
  new_id: number | null;
  /** done; failed (NetBox refused, nothing written); unknown (answer lost); not-sent (stopped). */
  outcome: "done" | "failed" | "unknown" | "not-sent";
  /** Why it failed or is unknown. */
  error: string | null;
}

/** Options of {@linkcode applyRevert}. */
export interface ApplyRevertOptions {
  /** Stops sending writes (the one in flight finishes; the rest are `not-sent`). */
  stop?: AbortSignal;
  /** Called before each write. */
  onStep?: (step: RevertStep) => void;
}

/** What {@linkcode applyRevert} returns. */
export interface RevertResult {
  /** One item per step, in the plan's order. */
  items: RevertItem[];
}

const keyOf = (path: string, id: number) => `${path}:${id}`;

/**
 * Applies a plan made by `planRevert`.
 *
 * @param transport the client
 * @param plan the plan (refused steps stop it)
 * @param options a stop signal, a callback per step
 * @returns one outcome per step
 * @throws {RevertRefusedError} when the plan has refused steps (nothing is written)
 *
 * @example Nothing is written for a plan with a refused step
 * ```ts
 * import { rejects } from "node:assert/strict";
 * import { applyRevert, type RevertPlan, type RevertStep } from "./mod.ts";
 * import type { Transport } from "../client/types.ts";
 * const step: RevertStep = {
 *   action: "delete", model: "dcim.site", path: "dcim/sites/", id: 7, name: "Lab", data: {},
 *   fields: [], changes: [], request_ids: [], refusal: "changed since: name \"Lab\" → \"Lab 2\"",
 * };
 * const plan: RevertPlan = { steps: [step], refused: [step], skipped: [], changes: 1, paths: new Map() };
 * await rejects(applyRevert({} as Transport, plan), /changed since/);
 * ```
 */
export async function applyRevert(
  transport: Transport,
  plan: RevertPlan,
  options: ApplyRevertOptions = {},
): Promise<RevertResult> {
  const { stop, onStep } = options;
  if (plan.refused.length) {
    throw new RevertRefusedError(
      `Cannot revert: ${plan.refused.length} object${plan.refused.length === 1 ? "" : "s"} ` +
        `cannot be put back as logged (${describe(plan.refused[0])}: ${plan.refused[0].refusal})`,
    );
  }
  const recreated = new Set(
    plan.steps.filter((s) => s.action === "create").map((s) => keyOf(s.path, s.id)),
  );
  const newIds = new Map<string, number>();
  const pending: { step: RevertStep; fields: string[] }[] = [];

  /** The id to write for a logged reference; undefined while its target is not created yet. */
  const resolve = (path: string, field: string, id: number, data: Record<string, unknown>) => {
    for (const target of refTargets(path, field, data, plan.types, plan.paths)) {
      const k = keyOf(target, id);
      if (newIds.has(k)) return newIds.get(k)!;
      if (recreated.has(k)) return undefined;
    }
    return id;
  };

  const items: RevertItem[] = [];
  const item = (step: RevertStep, outcome: RevertItem["outcome"], error: string | null = null) => {
    const done: RevertItem = {
      action: step.action,
      model: step.model,
      id: step.id,
      name: step.name,
      new_id: newIds.get(keyOf(step.path, step.id)) ?? null,
      outcome,
      error,
    };
    items.push(done);
    return done;
  };

  for (const step of plan.steps) {
    if (stop?.aborted) {
      item(step, "not-sent");
      continue;
    }
    onStep?.(step);
    const endpoint = createEndpoint(transport, step.path);
    try {
      if (step.action === "create") {
        const open: string[] = [];
        const relink: Relink = (field, id, data) => {
          const to = resolve(step.path, field, id, data);
          if (to === undefined) throw new Pending(field);
          return to;
        };
        const body = bodyOf(step.data, step.fields, plan.types, (field, id, data) => {
          try {
            return relink(field, id, data);
          } catch (err) {
            if (!(err instanceof Pending)) throw err;
            open.push(field);
            return id;
          }
        }, true);
        for (const field of new Set(open)) {
          delete body[field];
          if (isTypeField(`${field.slice(0, -3)}_type`, step.data)) {
            delete body[`${field.slice(0, -3)}_type`];
          }
        }
        for (const field of lookupModel(step.path)?.deferred ?? []) {
          if (body[field] !== undefined && body[field] !== null) {
            open.push(field);
            delete body[field];
          }
        }
        let created: NetBoxObject;
        try {
          created = await endpoint.create(body) as NetBoxObject;
        } catch (err) {
          if (!mayHaveActed(err)) throw err;
          // The answer was lost: look for it by its natural key until NetBox has settled.
          const back = await settle(
            transport,
            () => findCreated(transport, step.path, body),
            (o) => o !== undefined,
          );
          if (!back.value) throw err;
          created = back.value;
        }
        newIds.set(keyOf(step.path, step.id), created.id);
        if (open.length) pending.push({ step, fields: [...new Set(open)] });
        item(step, "done");
      } else if (step.action === "update") {
        await flushRelinks();
        const body = bodyOf(
          step.data,
          step.fields,
          plan.types,
          (field, id, data) => resolve(step.path, field, id, data) ?? id,
        );
        try {
          // Only if nobody changed it since it was checked (If-Match on 4.6+, last_updated before).
          const read = step.current && etagOf(step.current) ? { ifMatch: step.current } : {};
          await endpoint.update(step.id, body, read);
        } catch (err) {
          if (!mayHaveActed(err)) throw err;
          const back = await settle(
            transport,
            () => endpoint.get(step.id),
            (o) => holds(o, body),
          );
          if (!back.found) throw err;
        }
        item(step, "done");
      } else {
        await flushRelinks();
        try {
          await endpoint.delete(step.id);
        } catch (err) {
          if (err instanceof NetBoxHttpError && err.status === 404) {
            // gone already: what the step wanted
          } else if (mayHaveActed(err)) {
            const back = await settle(
              transport,
              () => endpoint.get(step.id).then(() => false, (e) => isGone(e)),
              (gone) => gone,
            );
            if (!back.found) throw err;
          } else {
            throw err;
          }
        }
        item(step, "done");
      }
    } catch (err) {
      if (!(err instanceof NetBoxError)) throw err;
      item(step, mayHaveActed(err) ? "unknown" : "failed", err.message);
    }
  }
  await flushRelinks();
  return { items };

  /** Sets the references that waited for objects created after their own. */
  async function flushRelinks(): Promise<void> {
    while (pending.length) {
      const { step, fields } = pending.shift()!;
      const id = newIds.get(keyOf(step.path, step.id))!;
      const body = bodyOf(
        step.data,
        fields,
        plan.types,
        (field, old, data) => resolve(step.path, field, old, data) ?? old,
      );
      for (const field of fields) {
        const typeField = `${field.slice(0, -3)}_type`;
        if (field.endsWith("_id") && isTypeField(typeField, step.data)) {
          Object.assign(body, bodyOf(step.data, [typeField], plan.types, (_f, v) => v));
        }
      }
      const endpoint = createEndpoint(transport, step.path);
      try {
        try {
          await endpoint.update(id, body);
        } catch (err) {
          if (!mayHaveActed(err)) throw err;
          // The answer was lost: read back until the references show or NetBox has settled.
          const back = await settle(
            transport,
            () => endpoint.get(id),
            (o) => holds(o, body),
          );
          if (!back.found) throw err;
        }
      } catch (err) {
        if (!(err instanceof NetBoxError)) throw err;
        const it = items.find((i) =>
          i.action === "create" && i.id === step.id && i.model === step.model
        );
        if (it) {
          it.outcome = mayHaveActed(err) ? "unknown" : "failed";
          it.error = `created as id ${id}, but setting ${fields.join(", ")} failed: ${err.message}`;
        }
      }
    }
  }
}

class Pending extends Error {}

/** The one object holding a created body's natural key (the import's model table), if any. */
async function findCreated(
  transport: Transport,
  path: string,
  body: Record<string, unknown>,
): Promise<NetBoxObject | undefined> {
  const def = lookupModel(path);
  const keys = def?.naturalKey.length ? def.naturalKey : ["slug" in body ? "slug" : "name"];
  const filters: Record<string, string | number> = {};
  for (const key of keys) {
    const value = body[key];
    if (def?.refs[key]) filters[`${key}_id`] = typeof value === "number" ? value : "null";
    else if (typeof value === "string" || typeof value === "number") filters[key] = value;
    else return undefined;
  }
  const found = await createEndpoint(transport, path).all(filters, { fields: ["id"] });
  return found.length === 1 ? found[0] : undefined;
}

function isGone(err: unknown): boolean {
  if (err instanceof NetBoxHttpError && err.status === 404) return true;
  throw err;
}

function describe(step: RevertStep): string {
  return `${step.model} ${step.name} (id ${step.id})`;
}
