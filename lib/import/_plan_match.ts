/**
 * The planner's third phase, matching: each entry to the existing object with its natural key
 * (duplicates and ambiguous keys are problems), and the reference resolver every later step uses
 * (ids, names/slugs, attribute mappings, objects created by this import).
 *
 * @module
 */

import type { NetBoxObject } from "../client/types.ts";
import type { SourceLoc } from "./parse.ts";
import { modelByKey, type ModelDef } from "./models.ts";
import { slugify } from "../ipam/lookup.ts";
import { readShape, sameValue } from "./_values.ts";
import type { Identity, PlanState, Work } from "./_plan_types.ts";
import { add, describeKey, isObj, keyScalar, unique } from "./_plan_state.ts";

/** Matches the model's items to existing objects by natural key; sets `existing` and `identity`. */
export function matchModel(s: PlanState, model: ModelDef): void {
  const seen = new Map<string, Work>();
  for (const item of s.byModel.get(model.key) ?? []) {
    if (item.action === "invalid" || item.problems.length) {
      item.identity = `new#${item.uid}`;
      continue;
    }
    const key = itemKey(s, item);
    if (key === undefined) {
      item.identity = `new#${item.uid}`;
      continue;
    }
    const prev = seen.get(key);
    if (prev) {
      const l = prev.entry.loc;
      const at = `${l.file}:${l.line}:${l.column}`;
      item.problems.push({
        loc: item.entry.loc,
        message: prev.state === item.state
          ? `duplicate ${model.key} entry: ${describeKey(item)} is already given at ${at}`
          : `${model.key} ${describeKey(item)} is both present and absent (_state: absent) ` +
            `in the input: here and at ${at}`,
      });
      item.identity = `new#${item.uid}`;
      continue;
    }
    seen.set(key, item);
    const hits = existingWithKey(s, model, item, key);
    if (hits.length > 1) {
      item.problems.push({
        loc: item.entry.loc,
        message: `${describeKey(item)} matches ${hits.length} existing ${model.key} objects (ids ${
          hits.map((h) => h.id).join(", ")
        }); add _match with more fields`,
      });
    }
    item.existing = hits[0];
    item.identity = item.existing ? item.existing.id : `new#${item.uid}`;
    if (item.existing) item.id = item.existing.id;
    const mode = s.options.mode ?? "upsert";
    if (!item.existing && mode === "update-only" && item.state === "present") {
      item.problems.push({
        loc: item.entry.loc,
        message: `no existing ${model.key} matches ${describeKey(item)} (--mode update-only)`,
      });
    }
  }
}

/**
 * The existing objects of `model` whose natural key (over `match`) is `key`, in fetch order.
 * Indexed once per model and key fields: a linear scan per item was O(items × existing), which
 * took minutes for 5,000 addresses against 25,000 existing ones.
 */
function existingWithKey(
  s: PlanState,
  model: ModelDef,
  item: Work,
  key: string,
): NetBoxObject[] {
  const match = item.match;
  const sig = `${model.key}\u0000${match.join(",")}`;
  let index = s.existingIndex.get(sig);
  if (!index) {
    index = new Map();
    for (const o of s.existing.get(model.key) ?? []) {
      const k = objKey(o, match, item);
      const list = index.get(k);
      if (list) list.push(o);
      else index.set(k, [o]);
    }
    s.existingIndex.set(sig, index);
  }
  return index.get(key) ?? [];
}

/** The natural-key text of an input item (resolving key references), undefined if unresolvable. */
function itemKey(s: PlanState, item: Work): string | undefined {
  const parts: string[] = [];
  for (const f of item.match) {
    const spec = item.specs.get(f);
    if (spec?.kind === "ref" && item.state === "absent" && spec.spec !== null) {
      // An absent entry whose key refers to an object that does not exist (or is only created
      // by this import) cannot match anything: it is absent already.
      const r = resolve(s, spec.target, spec.spec, item);
      if (typeof r === "string") {
        if (r.startsWith("ambiguous")) item.problems.push({ loc: spec.loc, message: r });
        return undefined;
      }
      item.resolved.set(f, r);
      parts.push(String(r));
    } else if (spec?.kind === "ref") {
      const id = resolveOne(s, item, f, spec);
      if (id === undefined) return undefined;
      parts.push(String(id ?? "∅"));
    } else if (spec?.kind === "value") parts.push(keyScalar(spec.value));
    else if (spec?.kind === "generic") {
      // A generic key field (a service's parent): its content type and id.
      const id = resolveOne(s, item, f, spec);
      if (id === undefined) return undefined;
      parts.push(id === null ? "∅" : `${spec.target.contentType}#${id}`);
    } else if (spec?.kind === "custom" && spec.handler.key) {
      const k = spec.handler.key(s, item, f);
      if (k === undefined) return undefined;
      parts.push(k);
    } else parts.push("∅");
  }
  return JSON.stringify(parts);
}

function objKey(obj: NetBoxObject, match: string[], item: Work): string {
  return JSON.stringify(match.map((f) => {
    const spec = item.specs.get(f);
    if (spec?.kind === "custom" && spec.handler.objKey) return spec.handler.objKey(obj, f);
    if (spec?.kind === "generic") {
      const id = obj[spec.idField];
      return id === null || id === undefined ? "∅" : `${obj[spec.typeField]}#${id}`;
    }
    const v = obj[f];
    if (isObj(v) && typeof v.id === "number") return String(v.id);
    return keyScalar(readShape(v));
  }));
}

export function resolveOne(
  s: PlanState,
  item: Work,
  field: string,
  spec: { target: ModelDef; spec: unknown; loc: SourceLoc },
): Identity | null | undefined {
  if (item.resolved.has(field)) return item.resolved.get(field) as Identity | null;
  if (spec.spec === null) {
    item.resolved.set(field, null);
    return null;
  }
  const r = resolve(s, spec.target, spec.spec, item);
  if (typeof r === "string" && !r.startsWith("new#")) {
    item.problems.push({ loc: spec.loc, message: r });
    return undefined;
  }
  item.resolved.set(field, r as Identity);
  return r as Identity;
}
/**
 * Resolves a reference to one identity, or returns the problem text. `owner` narrows primary-IP
 * candidates to those assigned to that device/VM.
 */
export function resolve(
  s: PlanState,
  target: ModelDef,
  spec: unknown,
  from: Work,
  owner?: Identity,
): Identity | string {
  const what = target.key;
  if (typeof spec === "number") {
    if (s.byId.get(what)?.has(spec)) return spec;
    return `unknown reference: no ${what} with id ${spec}`;
  }
  let cands: (Work | NetBoxObject)[] = [];
  if (typeof spec === "string") {
    for (const f of target.refKey) {
      cands = lookup(s, target, f, spec);
      if (cands.length) break;
    }
  } else if (isObj(spec)) {
    const entries = Object.entries(spec);
    const scalar = entries.find(([k, v]) =>
      !target.refs[k] && (typeof v === "string" || typeof v === "number")
    );
    const pool = scalar ? lookup(s, target, scalar[0], String(scalar[1])) : all(s, target);
    cands = pool.filter((c) => matchesDict(s, c, target, spec, from));
  } else return `invalid reference to ${what}: ${JSON.stringify(spec)}`;
  let ids = unique(cands.map((c) => identityOf(c)));
  if (ids.length > 1 && owner !== undefined) {
    const mine = cands.filter((c) => ownerOf(s, c) === owner);
    if (mine.length) ids = unique(mine.map((c) => identityOf(c)));
  }
  if (ids.length === 1) return ids[0];
  const shown = typeof spec === "string"
    ? `${target.refKey.join(" or ")} "${spec}"`
    : JSON.stringify(spec);
  if (ids.length > 1) return `ambiguous reference: ${ids.length} ${what} objects match ${shown}`;
  if (what === "extras.tags" && typeof spec === "string") {
    if (s.options.createMissingTags || spec === s.options.scopeTag) {
      return newTag(s, spec, from);
    }
    return `unknown tag "${spec}" (create it first, or pass --create-missing-tags)`;
  }
  return `unknown reference: no ${what} with ${shown}`;
}

function newTag(s: PlanState, name: string, from: Work): Identity {
  const slug = slugify(name);
  let tag = s.newTags.get(slug);
  if (!tag) {
    tag = add(s, modelByKey("extras.tags"), {
      loc: from.entry.loc,
      data: { name, slug },
      locs: {},
    });
    tag.identity = `new#${tag.uid}`;
    tag.body = { name, slug };
    tag.action = "create";
    s.newTags.set(slug, tag);
  }
  return tag.identity!;
}

function identityOf(c: Work | NetBoxObject): Identity {
  return "uid" in c && "entry" in c
    ? (c as Work).identity ?? `new#${(c as Work).uid}`
    : (c as NetBoxObject).id;
}

/** The device/VM an IP candidate is assigned to (for primary IP disambiguation). */
function ownerOf(s: PlanState, c: Work | NetBoxObject): Identity | undefined {
  if ("entry" in c && "uid" in c) {
    const iface = (c as Work).resolved.get("assigned_object");
    if (iface === null || iface === undefined || Array.isArray(iface)) return undefined;
    const owner = s.items.find((i) => i.identity === iface);
    const ifaceObj = typeof iface === "number"
      ? s.byId.get("dcim.interfaces")?.get(iface) ??
        s.byId.get("virtualization.interfaces")?.get(iface)
      : undefined;
    const dev = owner?.resolved.get("device") ?? owner?.resolved.get("virtual_machine");
    if (dev !== undefined && !Array.isArray(dev) && dev !== null) return dev;
    const d = ifaceObj?.device ?? ifaceObj?.virtual_machine;
    return isObj(d) && typeof d.id === "number" ? d.id : undefined;
  }
  const a = (c as NetBoxObject).assigned_object;
  if (!isObj(a)) return undefined;
  const d = a.device ?? a.virtual_machine;
  return isObj(d) && typeof d.id === "number" ? d.id : undefined;
}

function all(s: PlanState, target: ModelDef): (Work | NetBoxObject)[] {
  const items = (s.byModel.get(target.key) ?? []).filter((i) =>
    !i.existing && i.action !== "invalid" && i.state === "present"
  );
  return [...items, ...(s.existing.get(target.key) ?? [])];
}

/** Input items (not matched to existing objects) and existing objects whose `field` equals `value`. */
function lookup(
  s: PlanState,
  target: ModelDef,
  field: string,
  value: string,
): (Work | NetBoxObject)[] {
  const ikey = `${target.key} ${field}`;
  let index = s.index.get(ikey);
  if (!index) {
    index = new Map();
    for (const c of all(s, target)) {
      const v = "entry" in c && "uid" in c
        ? (c as Work).entry.data[field]
        : readShape((c as NetBoxObject)[field]);
      if (typeof v !== "string" && typeof v !== "number") continue;
      const k = keyScalar(v);
      const list = index.get(k) ?? [];
      list.push(c);
      index.set(k, list);
    }
    s.index.set(ikey, index);
  }
  return index.get(keyScalar(value)) ?? [];
}

function matchesDict(
  s: PlanState,
  c: Work | NetBoxObject,
  target: ModelDef,
  spec: Record<string, unknown>,
  from: Work,
): boolean {
  const isItem = "entry" in c && "uid" in c;
  for (const [k, want] of Object.entries(spec)) {
    const sub = target.refs[k];
    if (sub && !Array.isArray(want)) {
      const id = want === null ? null : resolve(s, modelByKey(sub), want, from);
      if (typeof id === "string" && !id.startsWith("new#")) return false;
      const have = isItem
        ? (c as Work).resolved.get(k) ?? null
        : readShape((c as NetBoxObject)[k]) ?? null;
      if (have !== id) return false;
    } else {
      const have = isItem ? (c as Work).entry.data[k] : readShape((c as NetBoxObject)[k]);
      if (!sameValue(want, have, k)) return false;
    }
  }
  return true;
}
