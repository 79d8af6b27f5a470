/**
 * Carries out a bulk-import plan through the client's bulk helpers: creates and updates in
 * dependency rounds (one bulk call per model and round), substituting the ids of objects created
 * earlier, then the second pass for primary IPs. Failures keep NetBox's messages and the entry's
 * source position; items that depend on a failed one are not sent.
 *
 * @module
 */

import { mayHaveActed, NetBoxChangedError, NotSentError } from "../client/errors.ts";
import type { BulkResult, NetBoxClient, NetBoxObject } from "../client/types.ts";
import { type ImportPlan, NewRef, type PlanItem } from "./plan.ts";

/** What happened to one entry. */
export interface ItemOutcome {
  status: "created" | "updated" | "unchanged" | "failed" | "invalid" | "not-sent" | "unknown";
  /** The object's id, when known. */
  id?: number;
  /** NetBox's messages (failed) or the reason it was not sent. */
  message?: string;
  /** The update was refused because someone changed the object since it was planned. */
  changed?: boolean;
  /**
   * The write failed in a way that NetBox may nevertheless have made it (its answer was lost):
   * read back before reporting it (see `applyImport`).
   */
  ambiguous?: boolean;
}

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
}

const NOT_SENT = "not sent: interrupted";

/** The outcome per plan item uid. */
export type ApplyResult = Map<number, ItemOutcome>;

function substitute(value: unknown, ids: Map<number, number>): unknown {
  if (value instanceof NewRef) return ids.get(value.uid) ?? null;
  if (Array.isArray(value)) return value.map((v) => substitute(v, ids));
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
 * const result = await applyPlan({ items: [], problems: [] }, { endpoint: () => { throw new Error("unused"); } });
 * assert(result.size === 0);
 * ```
 */
export async function applyPlan(
  plan: ImportPlan,
  client: Pick<NetBoxClient, "endpoint">,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const result: ApplyResult = new Map();
  const ids = new Map<number, number>();
  const byUid = new Map(plan.items.map((i) => [i.uid, i]));
  const total = plan.items.filter((i) => i.action === "create" || i.action === "update").length +
    plan.items.filter((i) => Object.keys(i.deferred).length).length;
  let done = 0;
  const progress = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
  };
  for (const item of plan.items) {
    if (item.action === "invalid") result.set(item.uid, { status: "invalid" });
    else if (item.action === "unchanged") {
      result.set(item.uid, { status: "unchanged", id: item.id });
      if (item.id !== undefined) ids.set(item.uid, item.id);
    } else if (item.action === "update" && item.id !== undefined) ids.set(item.uid, item.id);
  }
  const blocked = (deps: Set<number>): PlanItem | undefined => {
    for (const d of deps) {
      const o = result.get(d);
      if (o && (o.status === "failed" || o.status === "invalid")) return byUid.get(d);
    }
    return undefined;
  };
  let pending = plan.items.filter((i) => i.action === "create" || i.action === "update");
  while (pending.length) {
    const ready: PlanItem[] = [];
    const later: PlanItem[] = [];
    for (const item of pending) {
      const bad = blocked(item.deps);
      if (bad) {
        result.set(item.uid, {
          status: "failed",
          id: item.id,
          message: `not sent: depends on ${bad.model.key} ${bad.label}, which failed`,
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
    await writeRound(ready, client, ids, result, options.chunkSize, progress, options.stop);
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
  return result;
}

async function writeRound(
  ready: PlanItem[],
  client: Pick<NetBoxClient, "endpoint">,
  ids: Map<number, number>,
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
    if (creates.length) {
      const r = await endpoint.create(creates.map((i) => bodyOf(i.body, ids)), opts);
      record(r, creates, "created", ids, result);
      progress(creates.length);
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
