/**
 * The planner's shared state and the small helpers every phase uses: a new state, adding an item,
 * problems at a field's position, labels and keys as text.
 *
 * @module
 */

import type { NetBoxObject } from "../client/types.ts";
import type { ImportEntry, SourceLoc } from "./parse.ts";
import type { ModelDef } from "./models.ts";
import { canonicalCidr, showValue } from "./_values.ts";
import {
  type FieldSpec,
  type Identity,
  type ImportBackend,
  NewRef,
  type PlanOptions,
  type PlanState,
  type Work,
} from "./_plan_types.ts";

/** A fresh state for one plan. */
export function createState(backend: ImportBackend, options: PlanOptions): PlanState {
  return {
    backend,
    options,
    items: [],
    problems: [],
    meta: new Map(),
    existing: new Map(),
    byId: new Map(),
    byModel: new Map(),
    index: new Map(),
    newTags: new Map(),
    existingIndex: new Map(),
    nextUid: 0,
  };
}

/** Adds an item (to create, until matched) for an entry of `model`. */
export function add(s: PlanState, model: ModelDef, entry: ImportEntry): Work {
  const item: Work = {
    state: "present",
    uid: s.nextUid++,
    model,
    entry,
    label: labelOf(model, entry.data),
    action: "create",
    body: {},
    deferred: {},
    changes: [],
    problems: [],
    deps: new Set(),
    deferredDeps: new Set(),
    specs: new Map(),
    match: [],
    resolved: new Map(),
  };
  s.items.push(item);
  const list = s.byModel.get(model.key) ?? [];
  list.push(item);
  s.byModel.set(model.key, list);
  return item;
}

/** Adds a problem at the position of `path` (its key or its value) in the item's entry. */
export function problem(
  item: Work,
  path: string,
  message: string,
  at: "key" | "value" = "value",
): void {
  const l = item.entry.locs[path];
  const loc = (at === "key" ? l?.key ?? l?.value : l?.value ?? l?.key) ?? item.entry.loc;
  item.problems.push({ loc, message });
}

/** The position of `path`'s value in the item's entry. */
export function locOf(item: Work, path: string): SourceLoc {
  const l = item.entry.locs[path];
  return l?.value ?? l?.key ?? item.entry.loc;
}

/** Whether a candidate is an item of the input (else an object of NetBox). */
export function isWork(c: Work | NetBoxObject): c is Work {
  return "entry" in c && "uid" in c;
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Normalised comparable text of a scalar key value. */
export function keyScalar(v: unknown): string {
  if (v === null || v === undefined || v === "") return "∅";
  const s = String(v);
  // MAC addresses: NetBox writes them in capitals.
  if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(s)) return s.toUpperCase();
  return canonicalCidr(s, false) ?? s;
}

export function validRef(v: unknown): boolean {
  return typeof v === "number" || typeof v === "string" || isObj(v);
}

export function unique<T>(list: T[]): T[] {
  return [...new Set(list)];
}

export function toBody(id: Identity | null, label: string): unknown {
  if (typeof id === "string") return new NewRef(Number(id.slice(4)), label);
  return id;
}

export function showNew(spec: unknown, id: Identity | null): string {
  const text = typeof spec === "string" ? spec : spec === null ? "∅" : JSON.stringify(spec);
  return typeof id === "string" ? `${text} (new)` : text;
}

export function showNewMany(spec: FieldSpec, value: unknown): string {
  if (spec.kind === "refs" && Array.isArray(value)) {
    return `[${spec.specs.map((s, n) => showNew(s.spec, value[n] as Identity)).join(", ")}]`;
  }
  if (spec.kind === "ref") return showNew(spec.spec, value as Identity);
  return showValue(value);
}

export function labelOf(model: ModelDef, data: Record<string, unknown>): string {
  for (const f of [...model.refKey, "name", "slug", "address", "prefix", "vid", "model"]) {
    const v = data[f];
    if (typeof v === "string" || typeof v === "number") {
      let owner = data.device ?? data.virtual_machine;
      if (isObj(owner)) owner = owner.name;
      if (typeof owner === "string" && f === "name") return `${owner} ${v}`;
      return String(v);
    }
  }
  return "(unnamed)";
}

/** Whether an object as read (with `tags`) carries the tag with this slug. */
export function hasTag(obj: NetBoxObject, slug: string): boolean {
  const tags = Array.isArray(obj.tags) ? obj.tags : [];
  return tags.some((t) => isObj(t) && t.slug === slug);
}

export function describeKey(item: Work): string {
  return item.match.map((f) => {
    const v = item.entry.data[f];
    return `${f}=${v === undefined ? "∅" : typeof v === "string" ? v : JSON.stringify(v)}`;
  }).join(", ");
}
