/**
 * The planner's second phase: fetching the existing objects the input names (by natural key or
 * id, or whole tables), with only the fields the plan needs.
 *
 * @module
 */

import { mapLimit } from "../base/limit.ts";
import type { Filters, NetBoxObject } from "../client/types.ts";
import { modelByKey, type ModelDef } from "./models.ts";
import type { PlanState } from "./_plan_types.ts";
import { isObj } from "./_plan_state.ts";
import { FETCH_FIELDS } from "./_plan_rules.ts";

/** Tables looked up by key rather than listed whole. */
const LARGE = new Set([
  "dcim.devices",
  "dcim.interfaces",
  "dcim.racks",
  "ipam.vlans",
  "ipam.prefixes",
  "ipam.ip-ranges",
  "ipam.ip-addresses",
  "virtualization.virtual-machines",
  "virtualization.interfaces",
]);
/** Keys (or ids) per lookup request; also the chunk of a cascade preview. */
export const CHUNK = 100;
const LIST_ALL_ABOVE = 1000;
/**
 * Above LIST_ALL_ABOVE keys, the table is still looked up by key (in chunks of CHUNK, LOOKUPS at
 * a time) when it holds more than LOOKUP_RATIO times as many objects as the import names: 100,000
 * addresses against 1,000,000 fetch 100,000 rows, not the whole table.
 */
const LOOKUP_RATIO = 2;
const LOOKUPS = 4;

/** What to fetch of one model. */
interface Wanted {
  model: ModelDef;
  /** Values of the first natural-key field. */
  values: Set<string>;
  ids: Set<number>;
  /** List the whole table. */
  all: boolean;
  fields: Set<string>;
  /** Input fields a rule module reads in NetBox under other names (not requested). */
  virtual: Set<string>;
}

/**
 * Fetches the existing objects the input can match or refer to: by key when the table is large
 * (see `LARGE`), the whole table otherwise, with only the fields the plan compares.
 */
export async function fetchExisting(s: PlanState): Promise<void> {
  const wanted = new Map<string, Wanted>();
  const want = (model: ModelDef) => {
    let w = wanted.get(model.key);
    if (!w) {
      w = {
        model,
        values: new Set(),
        ids: new Set(),
        all: !LARGE.has(model.key),
        // last_updated: the object's ETag, so an update writes only what was planned against.
        fields: new Set(["id", "display", "last_updated", ...model.naturalKey, ...model.refKey]),
        virtual: new Set(),
      };
      wanted.set(model.key, w);
    }
    return w;
  };
  const addRef = (target: ModelDef, spec: unknown) => {
    const w = want(target);
    if (typeof spec === "number") w.ids.add(spec);
    else if (typeof spec === "string") w.values.add(spec);
    else if (isObj(spec)) {
      for (const k of Object.keys(spec)) w.fields.add(k);
      const v = spec[target.naturalKey[0]];
      if (typeof v === "string" || typeof v === "number") w.values.add(String(v));
      else w.all = true;
      for (const [k, v2] of Object.entries(spec)) {
        const sub = target.refs[k];
        if (sub && v2 !== null && v2 !== undefined) addRef(modelByKey(sub), v2);
      }
    }
  };
  for (const item of s.items) {
    // An entry with a bad field still names objects by its good ones: they are fetched, so it is
    // not also told that they do not exist.
    if (item.action === "invalid") continue;
    const w = want(item.model);
    if (item.model.order >= 1000) w.all = true;
    const first = item.match[0];
    const spec = first ? item.specs.get(first) : undefined;
    const v = spec?.kind === "value" ? spec.value : undefined;
    if (typeof v === "string" || typeof v === "number") w.values.add(String(v));
    else if (first) w.all = true;
    for (const [field, spec] of item.specs) {
      if (spec.kind === "generic") {
        w.fields.add(spec.typeField).add(spec.idField);
        for (const f of FETCH_FIELDS[item.model.key] ?? []) w.fields.add(f);
      } else if (spec.kind === "custom") {
        // The field is read in NetBox under other names, unless the handler reads it itself.
        if (!spec.handler.fetchFields.includes(field)) w.virtual.add(field);
        for (const f of spec.handler.fetchFields) w.fields.add(f);
        for (const [target, ref] of spec.handler.refs(spec.raw)) addRef(target, ref);
      } else w.fields.add(field);
      if (spec.kind === "ref" || spec.kind === "generic") {
        if (spec.spec !== null) addRef(spec.target, spec.spec);
      } else if (spec.kind === "refs") {
        for (const one of spec.specs) addRef(spec.target, one.spec);
      }
    }
    for (const f of item.match) w.fields.add(f);
    if (s.options.scopeTag && s.meta.get(item.model.key)?.tags) w.fields.add("tags");
  }
  if (s.options.scopeTag) want(modelByKey("extras.tags")).values.add(s.options.scopeTag);
  for (const [key, extra] of Object.entries(FETCH_FIELDS)) {
    for (const f of extra) wanted.get(key)?.fields.add(f);
  }
  const jobs: Promise<void>[] = [];
  for (const w of wanted.values()) jobs.push(fetchModel(s, w));
  await Promise.all(jobs);
}

async function fetchModel(s: PlanState, w: Wanted): Promise<void> {
  const { model } = w;
  const generic = model.order >= 1000;
  const fields = generic ? undefined : [...w.fields].filter((f) => !w.virtual.has(f));
  const requests: Filters[] = [];
  let listAll = w.all;
  if (!listAll && w.values.size > LIST_ALL_ABOVE) {
    const total = await s.backend.count?.(model.path, {});
    listAll = total === undefined || total <= LOOKUP_RATIO * w.values.size;
  }
  if (listAll) requests.push({});
  else {
    const values = [...w.values];
    const f = model.naturalKey[0];
    for (let i = 0; i < values.length; i += CHUNK) {
      requests.push({ [f]: values.slice(i, i + CHUNK) });
    }
    const ids = [...w.ids];
    for (let i = 0; i < ids.length; i += CHUNK) requests.push({ id: ids.slice(i, i + CHUNK) });
  }
  const pages = await mapLimit(
    requests,
    LOOKUPS,
    (q) => s.backend.list(model.path, q, fields),
  );
  const byId = new Map<number, NetBoxObject>();
  for (const page of pages) for (const o of page) byId.set(o.id, o);
  s.byId.set(model.key, byId);
  s.existing.set(model.key, [...byId.values()]);
}
