/**
 * Modules and the module bays on them. A module bay's key is its name, device and module (null
 * for a bay of the device itself); a module's key is its device and bay. A module in a bay of
 * another module is named by the path of bays down to it:
 * `module: {device: d1, module_bay: {device: d1, module: {device: d1, module_bay: {device: d1,
 * module: null, name: slot1}}, name: sub1}}`.
 *
 * The two models refer to each other (a bay is on a module, a module is in a bay), so neither
 * can be matched before the other: this rule resolves a module bay's `module` and a module's
 * `module_bay` by walking the path through NetBox's objects and the input's own entries, in any
 * order. An entry whose key is an existing object's is that object; otherwise it is new.
 *
 * @module
 */

import type { NetBoxObject } from "../client/types.ts";
import { modelByKey, type ModelDef } from "./models.ts";
import type { CustomFieldHandler, Identity, PlanState, Work } from "./_plan_types.ts";
import { isObj, toBody } from "./_plan_state.ts";
import { resolve } from "./_plan_match.ts";
import type { FieldRule } from "./_plan_rules.ts";
import { readShape, showValue } from "./_values.ts";

const BAYS = "dcim.module-bays";
const MODULES = "dcim.modules";
/** Deeper than this is a circle in the input (NetBox itself nests a few levels). */
const MAX_DEPTH = 16;
const CIRCLE = "module bays and modules nested in a circle";

type Found = Identity | null | string;

const idOf = (v: unknown): number | null => {
  const x = readShape(v);
  return typeof x === "number" ? x : null;
};

const isProblem = (r: Found): r is string => typeof r === "string" && !r.startsWith("new#");

/** The identity an input item stands for: its match, the existing object with its key, or new. */
const memo = new WeakMap<PlanState, Map<number, Found>>();
function identityOfItem(s: PlanState, item: Work): Found {
  if (item.identity !== undefined) return item.identity;
  let m = memo.get(s);
  if (!m) memo.set(s, m = new Map());
  const known = m.get(item.uid);
  if (known !== undefined) return known;
  m.set(item.uid, CIRCLE);
  const d = item.entry.data;
  const r = item.model.key === BAYS
    ? findBay(s, { device: d.device, module: d.module ?? null, name: d.name }, item, 0, item)
    : findModule(s, { device: d.device, module_bay: d.module_bay }, item, 0, item);
  if (r === PENDING) {
    m.delete(item.uid);
    return r;
  }
  const out: Found = isProblem(r) ? r : r === null ? `new#${item.uid}` : r;
  m.set(item.uid, out);
  return out;
}

/** The input's present entries of a model. */
function entriesOf(s: PlanState, model: string): Work[] {
  return (s.byModel.get(model) ?? []).filter((i) =>
    i.state === "present" && i.action !== "invalid"
  );
}

/**
 * The one object with these key fields (a field not given matches any): an existing id, a new
 * entry's `new#uid`, or why not. `self`: the entry being keyed (its own existing object, or null
 * when none).
 */
function pick(
  s: PlanState,
  model: string,
  bucket: string | undefined,
  fits: (o: NetBoxObject) => boolean,
  fitsItem: (i: Work) => boolean,
  shown: string,
  self?: Work,
): Found {
  const ids = new Set<Identity>();
  const b = buckets(s, model);
  const objs = bucket === undefined ? s.existing.get(model) ?? [] : b.existing.get(bucket) ?? [];
  for (const o of objs) if (fits(o)) ids.add(o.id);
  if (self) return ids.size === 1 ? [...ids][0] : ids.size ? ambiguous(model, ids, shown) : null;
  const items = bucket === undefined ? entriesOf(s, model) : b.items.get(bucket) ?? [];
  for (const i of items) {
    if (!fitsItem(i)) continue;
    const id = identityOfItem(s, i);
    if (id === PENDING) continue; // on or in the object being resolved: not it
    if (isProblem(id)) return id;
    if (id !== null) ids.add(id);
  }
  if (ids.size === 1) return [...ids][0];
  if (ids.size > 1) return ambiguous(model, ids, shown);
  return `unknown reference: no ${model} with ${shown}`;
}

/**
 * The existing objects and entries of a model by bucket, so a path is not checked against every
 * bay and module: bays by name, modules by the id of their device.
 */
const bucketMemo = new WeakMap<
  PlanState,
  Map<string, { existing: Map<string, NetBoxObject[]>; items: Map<string, Work[]> }>
>();
function buckets(s: PlanState, model: string) {
  let m = bucketMemo.get(s);
  if (!m) bucketMemo.set(s, m = new Map());
  let b = m.get(model);
  if (b) return b;
  b = { existing: new Map(), items: new Map() };
  const put = <T>(map: Map<string, T[]>, k: string, v: T) => {
    const list = map.get(k);
    if (list) list.push(v);
    else map.set(k, [v]);
  };
  const bays = model === BAYS;
  for (const o of s.existing.get(model) ?? []) {
    put(b.existing, bays ? String(o.name) : String(idOf(o.device)), o);
  }
  for (const i of entriesOf(s, model)) {
    const d = i.entry.data;
    put(b.items, bays ? String(d.name) : String(plain(s, "dcim.devices", d.device, i)), i);
  }
  m.set(model, b);
  return b;
}

function ambiguous(model: string, ids: Set<Identity>, shown: string): string {
  return `ambiguous reference: ${ids.size} ${model} objects match ${shown}`;
}

/** A reference through the ordinary resolver (devices; ids and names). */
function plain(s: PlanState, model: string, spec: unknown, from: Work): Found {
  if (spec === null || spec === undefined) return null;
  return resolve(s, modelByKey(model), spec, from);
}

/**
 * Resolutions of specs, per plan: a path is walked once however often it is named. While a spec
 * is being resolved, an entry whose own path needs it is not that object (it is on or in it):
 * the check answers {@linkcode PENDING}, which matches nothing and is never kept.
 */
const specMemo = new WeakMap<PlanState, Map<string, Found>>();
const PENDING = "pending";
function memoized(
  s: PlanState,
  model: string,
  spec: unknown,
  self: Work | undefined,
  find: () => Found,
): Found {
  if (self) return find();
  let m = specMemo.get(s);
  if (!m) specMemo.set(s, m = new Map());
  const k = `${model} ${JSON.stringify(spec)}`;
  const known = m.get(k);
  if (known !== undefined) return known;
  m.set(k, PENDING);
  const r = find();
  if (r === PENDING) m.delete(k);
  else m.set(k, r);
  return r;
}

/** The module bay a spec names (`{device, module, name}`); null for null. */
export function findBay(
  s: PlanState,
  spec: unknown,
  from: Work,
  depth = 0,
  self?: Work,
): Found {
  return memoized(s, BAYS, spec, self, () => findBayNow(s, spec, from, depth, self));
}

/** The module a spec names (`{device, module_bay}`); null for null. */
export function findModule(
  s: PlanState,
  spec: unknown,
  from: Work,
  depth = 0,
  self?: Work,
): Found {
  return memoized(s, MODULES, spec, self, () => findModuleNow(s, spec, from, depth, self));
}

function findBayNow(
  s: PlanState,
  spec: unknown,
  from: Work,
  depth: number,
  self?: Work,
): Found {
  if (spec === null || spec === undefined) return null;
  if (!isObj(spec)) return plain(s, BAYS, spec, from);
  if (depth > MAX_DEPTH) return CIRCLE;
  const dev = spec.device === undefined ? undefined : plain(s, "dcim.devices", spec.device, from);
  if (dev !== undefined && isProblem(dev)) return dev;
  // A bay without `module` is the device's own (CSV leaves the null out).
  const mod = findModule(s, spec.module ?? null, from, depth + 1);
  if (mod !== undefined && isProblem(mod)) return mod;
  const name = spec.name === undefined ? undefined : String(spec.name);
  if (typeof dev === "string" || typeof mod === "string") {
    // On a new device or module: only a new entry can be this bay.
    if (self) return null;
  }
  return pick(
    s,
    BAYS,
    name,
    (o) =>
      (dev === undefined || idOf(o.device) === dev) &&
      (mod === undefined || idOf(o.module) === mod) &&
      (name === undefined || o.name === name),
    (i) => {
      const d = i.entry.data;
      if (name !== undefined && String(d.name) !== name) return false;
      if (dev !== undefined && plain(s, "dcim.devices", d.device, i) !== dev) return false;
      return mod === undefined || findModule(s, d.module ?? null, i, depth + 1) === mod;
    },
    JSON.stringify(spec),
    self,
  );
}

function findModuleNow(
  s: PlanState,
  spec: unknown,
  from: Work,
  depth: number,
  self?: Work,
): Found {
  if (spec === null || spec === undefined) return null;
  if (!isObj(spec)) return plain(s, MODULES, spec, from);
  if (depth > MAX_DEPTH) return CIRCLE;
  const dev = spec.device === undefined ? undefined : plain(s, "dcim.devices", spec.device, from);
  if (dev !== undefined && isProblem(dev)) return dev;
  const bay = spec.module_bay === undefined
    ? undefined
    : findBay(s, spec.module_bay, from, depth + 1);
  if (bay !== undefined && isProblem(bay)) return bay;
  if ((typeof dev === "string" || typeof bay === "string") && self) return null;
  return pick(
    s,
    MODULES,
    typeof dev === "number" || typeof dev === "string" ? String(dev) : undefined,
    (o) =>
      (dev === undefined || idOf(o.device) === dev) &&
      (bay === undefined || idOf(o.module_bay) === bay),
    (i) => {
      const d = i.entry.data;
      if (dev !== undefined && plain(s, "dcim.devices", d.device, i) !== dev) return false;
      return bay === undefined || findBay(s, d.module_bay ?? null, i, depth + 1) === bay;
    },
    JSON.stringify(spec),
    self,
  );
}

/** A module bay's `module` or a module's `module_bay`, resolved by path. */
const byPath = (field: "module" | "module_bay"): CustomFieldHandler => {
  const target = field === "module" ? MODULES : BAYS;
  const find = (s: PlanState, item: Work, raw: unknown): Found =>
    field === "module" ? findModule(s, raw, item) : findBay(s, raw, item);
  const ensure = (s: PlanState, item: Work): Identity | null | undefined => {
    if (item.resolved.has(field)) return item.resolved.get(field) as Identity | null;
    const spec = item.specs.get(field);
    if (spec?.kind !== "custom") return undefined;
    const r = find(s, item, spec.raw);
    if (isProblem(r)) {
      // An absent entry on a module that does not exist is absent already.
      const gone = item.state === "absent" && r.startsWith("unknown reference");
      if (!gone) item.problems.push({ loc: spec.loc, message: r });
      return undefined;
    }
    item.resolved.set(field, r);
    return r;
  };
  return {
    fetchFields: [field],
    refs: (raw) => raw === null || raw === undefined ? [] : [[modelByKey(target), raw]],
    key(s, item) {
      const r = ensure(s, item);
      return r === undefined ? undefined : r === null ? "∅" : String(r);
    },
    objKey: (obj) => String(idOf(obj[field]) ?? "∅"),
    apply(s, item) {
      const id = ensure(s, item);
      if (id === undefined) return;
      const spec = item.specs.get(field);
      if (item.existing) {
        if (idOf(item.existing[field]) === id) return;
        item.changes.push({
          field,
          old: showValue(item.existing[field]),
          new: `${JSON.stringify(spec?.kind === "custom" ? spec.raw : id)}${
            typeof id === "string" ? " (new)" : ""
          }`,
        });
      }
      if (typeof id === "string") item.deps.add(Number(id.slice(4)));
      const label = typeof id === "string" ? s.items[Number(id.slice(4))]?.label ?? id : String(id);
      item.body[field] = toBody(id, label);
    },
  };
};

/** The field rule of a module's `module_bay` and the `module` of a module bay or port. */
export const modulePaths: FieldRule = {
  claims: (model: ModelDef, field: string) =>
    model.key === MODULES
      ? field === "module_bay"
      : field === "module" && model.refs.module === MODULES,
  read(field, raw, loc) {
    if (raw !== null && !["string", "number", "object"].includes(typeof raw)) {
      return { problem: `${field} must be an id, a name or a mapping` };
    }
    if (Array.isArray(raw)) return { problem: `${field} must be one object, not a list` };
    const handler = byPath(field as "module" | "module_bay");
    return { key: field, spec: { kind: "custom", handler, raw, loc: loc(field) } };
  },
};
