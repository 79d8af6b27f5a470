/**
 * Carries out a bulk-import plan through the client's bulk helpers: creates and updates in
 * dependency rounds (one bulk call per model and round), substituting the ids of objects created
 * earlier, then the second pass for primary IPs, then the deletes in reverse dependency order (one
 * bulk DELETE per model; an object NetBox refuses to delete because others depend on it is
 * reported `blocked` with those objects, and the rest still goes). Failures keep NetBox's
 * messages and the entry's source position; items that depend on a failed one are not sent.
 *
 * @module
 */

import {
  mayHaveActed,
  NetBoxChangedError,
  NetBoxHttpError,
  NotSentError,
} from "../client/errors.ts";
import { etagOf } from "../client/etag.ts";
import { seconds } from "../base/duration.ts";
import { settle } from "../client/settle.ts";
import type { BulkResult, NetBoxClient, NetBoxObject } from "../client/types.ts";
import { CASCADES, MODELS } from "./models.ts";
import { type ImportPlan, NewRef, type PlanItem } from "./plan.ts";
import { madeFromTemplates, madeFromWhat, templatePatch } from "./_rule_templates.ts";

/** An object that keeps NetBox from deleting another (NetBox's 409 names it). */
export interface Blocker {
  /** The blocker's model (`dcim.devices`), when it could be told from the import's model table. */
  model?: string;
  /** Its name as NetBox printed it. */
  name: string;
  /** Its id. */
  id: number;
}

/** What happened to one entry. */
export interface ItemOutcome {
  /**
   * `deleted`: gone (deleted by this import, or found gone when it came to delete it);
   * `blocked`: NetBox refused the delete because other objects depend on it (see `blockers`);
   * `skipped`: a delete not made because the object no longer carries the scope tag.
   */
  status:
    | "created"
    | "updated"
    | "unchanged"
    | "deleted"
    | "blocked"
    | "skipped"
    | "failed"
    | "invalid"
    | "not-sent"
    | "unknown";
  /** The object's id, when known. */
  id?: number;
  /** NetBox's messages (failed) or the reason it was not sent. */
  message?: string;
  /** The update was refused because someone changed the object since it was planned. */
  changed?: boolean;
  /** Blocked delete: the objects NetBox named as depending on it. */
  blockers?: Blocker[];
  /**
   * The write failed in a way that NetBox may nevertheless have made it (its answer was lost):
   * read back before reporting it (see `applyImport`).
   */
  ambiguous?: boolean;
}

/**
 * What {@linkcode applyPlan} uses of the client: endpoints, and the settle window and clock for
 * reading back a write NetBox did not answer.
 */
export type ApplyClient = Pick<NetBoxClient, "endpoint" | "settleMs" | "clock">;

/** Options of {@linkcode applyPlan}. */
export interface ApplyOptions {
  /** Objects per bulk request. @default {200} */
  chunkSize?: number;
  /** Called after each bulk chunk with (items written, items to write). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Stops gracefully: no new bulk request after it fires, the ones in flight finish; the entries
   * not sent get the status `not-sent` (a re-run completes them).
   */
  stop?: AbortSignal;
  /**
   * Reads back the creates and updates of a round whose answer was lost (`ambiguous`) and sets
   * their outcome (written, not written, unknown) before the next round, so the entries that
   * depend on a write that did land still go in the same run. Without it they are reported
   * `failed` ("not sent: depends on …") and a re-run completes them.
   */
  confirm?: (items: PlanItem[], result: ApplyResult) => Promise<void>;
  /**
   * Outcomes decided before writing, by item uid (a saved plan's entries found stale): those
   * items are not sent, and what depends on them is not sent either.
   */
  refused?: ApplyResult;
}

const NOT_SENT = "not sent: interrupted";

/** The outcome per plan item uid. */
export type ApplyResult = Map<number, ItemOutcome>;

function substitute(value: unknown, ids: Map<number, number>): unknown {
  if (value instanceof NewRef) return ids.get(value.uid) ?? null;
  if (Array.isArray(value)) return value.map((v) => substitute(v, ids));
  // A cable's ends: `[{object_type, object_id: <new>}]`.
  if (
    typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, ids)]));
  }
  return value;
}

function bodyOf(body: Record<string, unknown>, ids: Map<number, number>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) out[k] = substitute(v, ids);
  return out;
}

/** `{"address": ["Duplicate IP"]}` → `address: Duplicate IP`. */
export function formatMessages(messages: Record<string, string[]>, fallback?: Error): string {
  const parts = Object.entries(messages).map(([k, v]) =>
    k === "__all__" || k === "non_field_errors" || k === "detail"
      ? v.join(" ")
      : `${k}: ${v.join(" ")}`
  );
  return parts.length ? parts.join("; ") : fallback?.message ?? "rejected by NetBox";
}

/**
 * Writes the plan. Invalid items are never sent; each other item ends created, updated,
 * unchanged or failed.
 *
 * @param plan The plan from `buildPlan` (with `--continue-on-error`, invalid items are skipped).
 * @param client The client (only `endpoint(path)` is used).
 * @param options Chunk size and progress.
 * @returns The outcome of every item by uid.
 *
 * @example Nothing to write
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { applyPlan } from "./apply.ts";
 * import { systemClock } from "../client/retry.ts";
 * const client = { endpoint: () => { throw new Error("unused"); }, settleMs: 0, clock: systemClock };
 * const result = await applyPlan({ items: [], problems: [] }, client);
 * assert(result.size === 0);
 * ```
 */
export async function applyPlan(
  plan: ImportPlan,
  client: ApplyClient,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const result: ApplyResult = new Map();
  const ids = new Map<number, number>();
  const byUid = new Map(plan.items.map((i) => [i.uid, i]));
  const total =
    plan.items.filter((i) =>
      i.action === "create" || i.action === "update" || i.action === "delete"
    ).length + plan.items.filter((i) => Object.keys(i.deferred).length).length;
  let done = 0;
  const progress = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
  };
  for (const [uid, outcome] of options.refused ?? []) result.set(uid, outcome);
  for (const item of plan.items) {
    if (result.has(item.uid)) continue; // refused before writing
    if (item.action === "invalid") result.set(item.uid, { status: "invalid" });
    else if (item.action === "unchanged") {
      result.set(item.uid, { status: "unchanged", id: item.id });
      if (item.id !== undefined) ids.set(item.uid, item.id);
    } else if (item.action === "update" && item.id !== undefined) ids.set(item.uid, item.id);
  }
  const blocked = (deps: Set<number>): PlanItem | undefined => {
    for (const d of deps) {
      const o = result.get(d);
      if (o && (o.status === "failed" || o.status === "invalid" || o.status === "unknown")) {
        return byUid.get(d);
      }
    }
    return undefined;
  };
  let pending = plan.items.filter((i) =>
    (i.action === "create" || i.action === "update") && !result.has(i.uid)
  );
  while (pending.length) {
    const ready: PlanItem[] = [];
    const later: PlanItem[] = [];
    for (const item of pending) {
      const bad = blocked(item.deps);
      if (bad) {
        const unknown = result.get(bad.uid)?.status === "unknown";
        result.set(item.uid, {
          status: "failed",
          id: item.id,
          message: `not sent: depends on ${bad.model.key} ${bad.label}, ${
            unknown ? "whose write could not be confirmed" : "which failed"
          }`,
        });
      } else if ([...item.deps].every((d) => ids.has(d) && result.has(d))) ready.push(item);
      else later.push(item);
    }
    if (!ready.length) {
      for (const item of later) {
        result.set(item.uid, { status: "failed", message: "not sent: unresolved dependency" });
      }
      break;
    }
    if (options.stop?.aborted) {
      for (const item of [...ready, ...later]) {
        result.set(item.uid, { status: "not-sent", id: item.id, message: NOT_SENT });
      }
      break;
    }
    await writeRound(ready, client, ids, byUid, result, options.chunkSize, progress, options.stop);
    const lost = ready.filter((i) => result.get(i.uid)?.ambiguous);
    if (lost.length && options.confirm && later.length) {
      await options.confirm(lost, result);
      for (const i of lost) {
        const o = result.get(i.uid)!;
        if ((o.status === "created" || o.status === "updated") && o.id !== undefined) {
          ids.set(i.uid, o.id);
        }
      }
    }
    pending = later;
  }
  await writeDeferred(
    plan.items,
    client,
    ids,
    result,
    options.chunkSize,
    progress,
    blocked,
    options.stop,
  );
  await deleteAll(plan.items, client, result, options.chunkSize, progress, options.stop);
  return result;
}

async function writeRound(
  ready: PlanItem[],
  client: Pick<NetBoxClient, "endpoint">,
  ids: Map<number, number>,
  byUid: Map<number, PlanItem>,
  result: ApplyResult,
  chunkSize: number | undefined,
  progress: (n: number) => void,
  stop: AbortSignal | undefined,
): Promise<void> {
  const models = [...new Set(ready.map((i) => i.model.key))];
  for (const key of models) {
    const group = ready.filter((i) => i.model.key === key);
    const endpoint = client.endpoint(group[0].model.path);
    const creates = group.filter((i) => i.action === "create");
    const updates = group.filter((i) => i.action === "update" && Object.keys(i.body).length);
    for (const i of group) {
      if (i.action === "update" && !Object.keys(i.body).length) {
        result.set(i.uid, { status: "updated", id: i.id }); // only deferred fields change
      }
    }
    const opts = { chunkSize, onProgress: undefined, stop };
    // Components NetBox made from the templates of their new device's or module's type are
    // updated instead.
    const made = creates.length
      ? await madeFromTemplates(endpoint, creates, byUid, ids)
      : new Map();
    const fresh = creates.filter((i) => !made.has(i.uid));
    if (fresh.length) {
      const r = await endpoint.create(fresh.map((i) => bodyOf(i.body, ids)), opts);
      record(r, fresh, "created", ids, result);
      progress(fresh.length);
    }
    const copies = creates.filter((i) => made.has(i.uid));
    if (copies.length) {
      const r = await endpoint.update(
        copies.map((i) => ({
          id: made.get(i.uid)!.id,
          ...templatePatch(bodyOf(i.body, ids), made.get(i.uid)!),
        })),
        opts,
      );
      record(r, copies, "created", ids, result);
      for (const i of copies) {
        const o = result.get(i.uid);
        if (o?.status === "created") o.message = madeFromWhat(made.get(i.uid)!);
      }
      progress(copies.length);
    }
    if (updates.length) {
      const r = await endpoint.update(
        updates.map((i) => ({ id: i.id!, ...bodyOf(i.body, ids) })),
        { ...opts, ifMatch: updates.map((i) => i.etag) },
      );
      record(r, updates, "updated", ids, result);
      progress(updates.length);
    }
  }
}

function record(
  r: BulkResult<NetBoxObject>,
  items: PlanItem[],
  status: "created" | "updated",
  ids: Map<number, number>,
  result: ApplyResult,
): void {
  for (const outcome of r.items) {
    const item = items[outcome.index];
    if (outcome.ok) {
      ids.set(item.uid, outcome.value.id);
      result.set(item.uid, { status, id: outcome.value.id });
    } else if (outcome.error instanceof NotSentError) {
      result.set(item.uid, { status: "not-sent", id: item.id, message: NOT_SENT });
    } else if (outcome.error instanceof NetBoxChangedError) {
      result.set(item.uid, {
        status: "failed",
        id: item.id,
        message: "changed by someone else since it was read",
        changed: true,
      });
    } else {
      result.set(item.uid, {
        status: "failed",
        id: item.id,
        message: formatMessages(outcome.messages, outcome.error),
        ...(mayHaveActed(outcome.error) ? { ambiguous: true } : {}),
      });
    }
  }
  for (const id of r.skippedIds) {
    const item = items.find((i) => i.id === id);
    if (item) {
      result.set(item.uid, { status: "failed", id, message: `object ${id} no longer exists` });
    }
  }
}

async function writeDeferred(
  items: PlanItem[],
  client: Pick<NetBoxClient, "endpoint">,
  ids: Map<number, number>,
  result: ApplyResult,
  chunkSize: number | undefined,
  progress: (n: number) => void,
  blocked: (deps: Set<number>) => PlanItem | undefined,
  stop: AbortSignal | undefined,
): Promise<void> {
  const todo = items.filter((i) => {
    if (!Object.keys(i.deferred).length) return false;
    const o = result.get(i.uid);
    return o !== undefined && o.status !== "failed" && o.status !== "invalid" && ids.has(i.uid);
  });
  for (const key of [...new Set(todo.map((i) => i.model.key))]) {
    const group: PlanItem[] = [];
    for (const i of todo.filter((t) => t.model.key === key)) {
      const bad = blocked(i.deferredDeps);
      if (bad) {
        result.set(i.uid, {
          status: "failed",
          id: ids.get(i.uid),
          message: `${
            Object.keys(i.deferred).join(", ")
          } not set: ${bad.model.key} ${bad.label} failed`,
        });
      } else group.push(i);
    }
    if (!group.length) continue;
    const r = await client.endpoint(group[0].model.path).update(
      group.map((i) => ({ id: ids.get(i.uid)!, ...bodyOf(i.deferred, ids) })),
      { chunkSize, stop },
    );
    for (const outcome of r.items) {
      const item = group[outcome.index];
      const before = result.get(item.uid)!;
      if (!outcome.ok && outcome.error instanceof NotSentError) {
        result.set(item.uid, {
          status: "not-sent",
          id: ids.get(item.uid),
          message: `${before.status === "created" ? "created, but " : ""}${
            Object.keys(item.deferred).join(", ")
          } not set: interrupted`,
        });
      } else if (outcome.ok) {
        if (before.status === "unchanged") {
          result.set(item.uid, { status: "updated", id: before.id });
        }
      } else {
        result.set(item.uid, {
          status: "failed",
          id: ids.get(item.uid),
          message: `${before.status === "created" ? "created, but " : ""}${
            Object.keys(item.deferred).join(", ")
          } not set: ${formatMessages(outcome.messages, outcome.error)}`,
          ...(mayHaveActed(outcome.error) ? { ambiguous: true } : {}),
        });
      }
    }
    progress(group.length);
  }
}

/** Deletes, models in reverse dependency order (IPs before interfaces before devices …). */
async function deleteAll(
  items: PlanItem[],
  client: ApplyClient,
  result: ApplyResult,
  chunkSize: number | undefined,
  progress: (n: number) => void,
  stop: AbortSignal | undefined,
): Promise<void> {
  const deletes = items.filter((i) =>
    i.action === "delete" && i.id !== undefined && !result.has(i.uid)
  )
    .sort((a, b) => b.model.order - a.model.order || a.uid - b.uid);
  for (const key of [...new Set(deletes.map((i) => i.model.key))]) {
    const group = deletes.filter((i) => i.model.key === key);
    if (stop?.aborted) {
      for (const i of group) result.set(i.uid, { status: "not-sent", id: i.id, message: NOT_SENT });
      continue;
    }
    const endpoint = client.endpoint(group[0].model.path);
    let todo = await stillTagged(endpoint, group, result);
    todo = await withoutCascades(client, todo, result);
    const doubtful: PlanItem[] = [];
    // A blocked object may only wait for another of the same model (a parent interface, a
    // parent region): delete again what is blocked as long as each pass deletes something.
    for (let pass = 0; todo.length && pass < 5; pass++) {
      const r = await endpoint.delete(todo.map((i) => i.id!), { chunkSize, stop });
      const again: PlanItem[] = [];
      let deleted = 0;
      for (const outcome of r.items) {
        const item = todo[outcome.index];
        if (outcome.ok) {
          deleted++;
          result.set(item.uid, { status: "deleted", id: item.id });
        } else if (r.skippedIds.includes(item.id!)) {
          result.set(item.uid, {
            status: "deleted",
            id: item.id,
            message: "already gone when it came to delete it (deleted with an object it belonged " +
              "to, or by someone else)",
          });
        } else if (outcome.error instanceof NotSentError) {
          result.set(item.uid, { status: "not-sent", id: item.id, message: NOT_SENT });
        } else if (outcome.error instanceof NetBoxHttpError && outcome.error.status === 409) {
          const message = formatMessages(outcome.messages, outcome.error);
          result.set(item.uid, {
            status: "blocked",
            id: item.id,
            message,
            blockers: parseBlockers(message),
          });
          again.push(item);
        } else {
          result.set(item.uid, {
            status: "failed",
            id: item.id,
            message: formatMessages(outcome.messages, outcome.error),
            ...(mayHaveActed(outcome.error) ? { ambiguous: true } : {}),
          });
          if (mayHaveActed(outcome.error)) doubtful.push(item);
        }
      }
      progress(deleted);
      todo = deleted && !stop?.aborted ? again : [];
    }
    const blocked = group.filter((i) => result.get(i.uid)?.status === "blocked");
    await nameBlockers(client, group[0].model.key, blocked, result);
    await readBack(client, endpoint, doubtful, result);
  }
}

/**
 * Of the deletes that must still carry the scope tag, those that do, and of those with an ETag
 * (a saved plan's), those unchanged since; the others are reported (`skipped`: the tag was
 * removed since the plan; `failed`, `changed`: changed since; `deleted`: already gone).
 */
async function stillTagged(
  endpoint: ReturnType<NetBoxClient["endpoint"]>,
  group: PlanItem[],
  result: ApplyResult,
): Promise<PlanItem[]> {
  const checked = group.filter((i) => i.requireTag !== undefined || i.etag !== undefined);
  if (!checked.length) return group;
  // A delete with an ETag (a saved plan's) goes only if the object is as it was planned against.
  const fields = ["id"];
  if (checked.some((i) => i.requireTag !== undefined)) fields.push("tags");
  if (checked.some((i) => i.etag !== undefined)) fields.push("last_updated");
  const now = new Map<number, NetBoxObject>();
  for (let n = 0; n < checked.length; n += 100) {
    const ids = checked.slice(n, n + 100).map((i) => i.id!);
    for (const o of await endpoint.all({ id: ids }, { fields })) now.set(o.id, o);
  }
  return group.filter((item) => {
    if (item.requireTag === undefined && item.etag === undefined) return true;
    const obj = now.get(item.id!);
    if (!obj) {
      result.set(item.uid, {
        status: "deleted",
        id: item.id,
        message: "already gone when it came to delete it",
      });
      return false;
    }
    if (item.etag !== undefined && etagOf(obj) !== item.etag) {
      result.set(item.uid, {
        status: "failed",
        id: item.id,
        message: "not deleted: changed by someone else since the plan was made",
        changed: true,
      });
      return false;
    }
    if (item.requireTag === undefined) return true;
    const tags = Array.isArray(obj.tags) ? obj.tags as { slug?: unknown }[] : [];
    if (tags.some((t) => t?.slug === item.requireTag)) return true;
    result.set(item.uid, {
      status: "skipped",
      id: item.id,
      message: `not deleted: it no longer carries the scope tag "${item.requireTag}" ` +
        "(removed since the plan was made)",
    });
    return false;
  });
}

/**
 * Of the deletes, those that would not take an object along that this import does not delete
 * (nothing without the scope tag is deleted, not even by a cascade); the others are `blocked`,
 * naming those objects.
 */
async function withoutCascades(
  client: Pick<NetBoxClient, "endpoint">,
  todo: PlanItem[],
  result: ApplyResult,
): Promise<PlanItem[]> {
  const c = todo.length ? CASCADES[todo[0].model.key] : undefined;
  if (!c) return todo;
  const deleting = new Set(todo.map((i) => i.id!));
  const held = new Map<number, Blocker[]>();
  for (let n = 0; n < todo.length; n += 100) {
    const ids = todo.slice(n, n + 100).map((i) => i.id!);
    const found = await client.endpoint(c.path).all({ [c.filter]: ids }, { fields: c.fields });
    for (const o of found) {
      const owner = c.owner(o);
      if (typeof owner !== "number") continue;
      if (c.model === todo[0].model.key && deleting.has(o.id)) continue; // a child deleted too
      const list = held.get(owner) ?? [];
      list.push({ model: c.model, name: String(o.address ?? o.name ?? o.display), id: o.id });
      held.set(owner, list);
    }
  }
  return todo.filter((item) => {
    const blockers = held.get(item.id!);
    if (!blockers) return true;
    result.set(item.uid, {
      status: "blocked",
      id: item.id,
      blockers,
      message: `not deleted: NetBox would delete ${
        blockers.map((b) => `${b.model} ${b.name} (id ${b.id})`).join(", ")
      } with it, and this import does not delete ${blockers.length === 1 ? "that" : "those"}`,
    });
    return false;
  });
}

/**
 * The objects NetBox's 409 names: `Unable to delete object. 2 dependent objects were found:
 * foxtrot (12), golf (13)`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseBlockers } from "./apply.ts";
 * deepEqual(
 *   parseBlockers("Unable to delete object. 2 dependent objects were found: a, b (12), c (13)"),
 *   [{ name: "a, b", id: 12 }, { name: "c", id: 13 }],
 * );
 * ```
 */
export function parseBlockers(message: string): Blocker[] {
  const m = /dependent objects? (?:were|was) found:\s*(.*)$/is.exec(message);
  if (!m) return [];
  const out: Blocker[] = [];
  for (const hit of m[1].matchAll(/\s*(.+?) \((\d+)\)(?:,|\.?\s*$)/gs)) {
    out.push({ name: hit[1].trim(), id: Number(hit[2]) });
  }
  return out;
}

/**
 * Tells the model of each blocker where the import's model table can: among the models that
 * refer to the blocked one, the one holding an object with that id that refers to it.
 */
async function nameBlockers(
  client: Pick<NetBoxClient, "endpoint">,
  target: string,
  blocked: PlanItem[],
  result: ApplyResult,
): Promise<void> {
  const scopes: Record<string, string> = {
    "dcim.sites": "site",
    "dcim.regions": "region",
    "dcim.locations": "location",
    "dcim.site-groups": "site_group",
  };
  const referrers: [string, string, string][] = []; // model key, path, filter
  for (const m of MODELS) {
    for (const [field, to] of Object.entries(m.refs)) {
      if (to === target && field !== "tags") referrers.push([m.key, m.path, `${field}_id`]);
    }
    if (m.scoped && scopes[target]) referrers.push([m.key, m.path, `${scopes[target]}_id`]);
  }
  if (!referrers.length) return;
  for (const item of blocked.slice(0, 20)) {
    const o = result.get(item.uid);
    const blockers = o?.blockers ?? [];
    if (o?.status !== "blocked" || !blockers.length) continue;
    const ids = blockers.map((b) => b.id);
    const found = await Promise.all(referrers.map(async ([key, path, filter]) => {
      try {
        const hits = await client.endpoint(path).all({ [filter]: item.id!, id: ids }, {
          fields: ["id"],
        });
        return hits.map((h) => [key, h.id] as const);
      } catch {
        return []; // a filter this NetBox does not know: leave the model untold
      }
    }));
    for (const [key, id] of found.flat()) {
      const b = blockers.find((x) => x.id === id && x.model === undefined);
      if (b) b.model = key;
    }
    o.message = `blocked by ${
      blockers.map((b) => `${b.model ?? "object"} ${b.name} (id ${b.id})`).join(", ")
    }: ${o.message}`;
  }
}

/** Deletes whose answer was lost: gone now (deleted), still there (failed), or unknown. */
async function readBack(
  client: Pick<NetBoxClient, "settleMs" | "clock">,
  endpoint: ReturnType<NetBoxClient["endpoint"]>,
  doubtful: PlanItem[],
  result: ApplyResult,
): Promise<void> {
  if (!doubtful.length) return;
  // A delete NetBox did not answer may still be running there: what is still there is read
  // back again until it is gone or the settle window has passed.
  let present: Set<number> | undefined;
  let waitedMs = 0;
  try {
    const read = async () => {
      const objs = await endpoint.all({ id: doubtful.map((i) => i.id!) }, { fields: ["id"] });
      return new Set(objs.map((o) => o.id));
    };
    const r = await settle(client, read, (ids) => ids.size === 0);
    present = r.value;
    waitedMs = r.waitedMs;
  } catch {
    present = undefined;
  }
  for (const item of doubtful) {
    const before = result.get(item.uid)!;
    if (!present) {
      result.set(item.uid, {
        status: "unknown",
        id: item.id,
        message: `NetBox's answer was lost (${before.message}) and it could not be read back: ` +
          `check ${item.model.key} ${item.label}`,
      });
    } else if (present.has(item.id!)) {
      result.set(item.uid, {
        status: "unknown",
        id: item.id,
        message: `NetBox did not answer (${before.message}) and may still be deleting it: still ` +
          `there after reading back for ${seconds(waitedMs)}; check ${item.model.key} ` +
          `${item.label} (a re-run deletes it or finds it gone)`,
      });
    } else {
      result.set(item.uid, {
        status: "deleted",
        id: item.id,
        message: `deleted (NetBox's answer was lost: ${before.message}; confirmed by reading back)`,
      });
    }
  }
}
