/**
 * The planner's fourth phase, resolving: every reference of an entry to an identity, then the
 * body of a create or the field diff of an update (or unchanged); the deferred fields (primary
 * IPs) after every model.
 *
 * @module
 */

import type { ModelDef } from "./models.ts";
import { readShape, sameValue, showValue } from "./_values.ts";
import type { FieldSpec, Identity, PlanState, Work } from "./_plan_types.ts";
import { isObj, showNew, showNewMany, toBody, unique } from "./_plan_state.ts";
import { resolve, resolveOne } from "./_plan_match.ts";
import { finishAbsent } from "./_plan_deletes.ts";
import { NewRef } from "./_plan_types.ts";

/** Resolves every reference of the model's items and computes bodies and diffs. */
export function resolveModel(s: PlanState, model: ModelDef): void {
  for (const item of s.byModel.get(model.key) ?? []) {
    if (item.action === "invalid") continue;
    if (item.state === "absent") {
      finishAbsent(s, item);
      continue;
    }
    for (const [field, spec] of item.specs) {
      if (item.model.deferred?.includes(field)) continue;
      if (spec.kind === "custom") spec.handler.apply(s, item, field);
      else if (spec.kind === "ref" || spec.kind === "generic") {
        const r = resolveOne(s, item, field, spec);
        if (r === undefined) continue;
        apply(s, item, field, spec, r);
      } else if (spec.kind === "refs") {
        const ids: Identity[] = [];
        let ok = true;
        for (const one of spec.specs) {
          const r = resolve(s, spec.target, one.spec, item);
          if (typeof r === "string" && !r.startsWith("new#")) {
            item.problems.push({ loc: one.loc, message: r });
            ok = false;
          } else ids.push(r as Identity);
        }
        if (spec.add && item.existing) {
          ids.unshift(...(readShape(item.existing[field]) as Identity[] ?? []));
        }
        if (ok) item.resolved.set(field, unique(ids));
        if (ok) apply(s, item, field, spec, unique(ids));
      } else apply(s, item, field, spec, spec.value);
    }
    finish(s, item);
  }
}

export function resolveDeferred(s: PlanState, item: Work): void {
  if (item.action === "invalid" || item.state === "absent" || !item.model.deferred) return;
  for (const field of item.model.deferred) {
    const spec = item.specs.get(field);
    if (spec?.kind !== "ref") continue;
    let r: Identity | string | null = null;
    if (spec.spec !== null) r = resolve(s, spec.target, spec.spec, item, item.identity);
    if (typeof r === "string" && !r.startsWith("new#")) {
      item.problems.push({ loc: spec.loc, message: r });
      continue;
    }
    const id = r as Identity | null;
    item.resolved.set(field, id);
    const value = toBody(id, itemLabel(s, id));
    if (item.existing && sameValue(id, readShape(item.existing[field]))) continue;
    item.deferred[field] = value;
    if (value instanceof NewRef) item.deferredDeps.add(value.uid);
    if (item.existing) {
      item.changes.push({
        field,
        old: showValue(item.existing[field]),
        new: showNew(spec.spec, id),
      });
      if (item.action === "unchanged") item.action = "update";
    }
  }
}

/** Adds one field's desired value to the body (create) or to the diff (update). */
function apply(s: PlanState, item: Work, field: string, spec: FieldSpec, value: unknown): void {
  const obj = item.existing;
  const body = (v: unknown): unknown => {
    if (Array.isArray(v) && spec.kind === "refs") {
      return v.map((x) => toBody(x as Identity, itemLabel(s, x as Identity)));
    }
    if (spec.kind === "ref" || spec.kind === "generic") {
      return toBody(v as Identity | null, itemLabel(s, v as Identity));
    }
    return v;
  };
  const deps = (v: unknown) => {
    const list = Array.isArray(v) ? v : [v];
    for (const x of list) {
      if (typeof x === "string" && x.startsWith("new#")) item.deps.add(Number(x.slice(4)));
    }
  };
  if (spec.kind === "generic") {
    const b = body(value);
    if (obj) {
      const same = value === null
        ? obj[spec.idField] === null || obj[spec.idField] === undefined
        : obj[spec.typeField] === spec.target.contentType && obj[spec.idField] === value;
      if (same) return;
      item.changes.push({
        field: spec.name,
        old: obj[spec.idField] == null ? "∅" : `${obj[spec.typeField]}#${obj[spec.idField]}`,
        new: showNew(spec.spec, value as Identity),
      });
    }
    item.body[spec.typeField] = value === null ? null : spec.target.contentType;
    item.body[spec.idField] = b;
    deps(value);
    return;
  }
  if (obj) {
    let same: boolean;
    if (field === "custom_fields" && isObj(value)) {
      const cur = isObj(obj.custom_fields) ? obj.custom_fields : {};
      same = Object.entries(value).every(([k, v]) => sameValue(v, readShape(cur[k]), k));
    } else if (spec.kind === "value" && isObj(value) && isObj(obj[field])) {
      const cur = obj[field] as Record<string, unknown>;
      same = Object.entries(value).every(([k, v]) => sameValue(v, readShape(cur[k]), k));
    } else same = sameValue(value, readShape(obj[field]), field);
    if (same) return;
    item.changes.push({
      field,
      old: showValue(obj[field]),
      new: spec.kind === "value" ? showValue(value) : showNewMany(spec, value),
    });
  }
  item.body[field] = body(value);
  deps(value);
}

function finish(s: PlanState, item: Work): void {
  if (!item.existing) {
    item.action = "create";
    const meta = s.meta.get(item.model.key) ?? {};
    const given = new Set([...item.specs.keys(), ...Object.keys(item.entry.data)].flatMap((k) => {
      const s = item.specs.get(k);
      return s?.kind === "generic" ? [s.typeField, s.idField] : [k];
    }));
    for (const [f, m] of Object.entries(meta)) {
      if (m.required && !m.read_only && !given.has(f)) {
        item.problems.push({
          loc: item.entry.loc,
          message: `missing required field "${f}" for a new ${item.model.key}`,
        });
      }
    }
    return;
  }
  if ((s.options.mode ?? "upsert") === "create-only") {
    item.action = "unchanged";
    item.body = {};
    item.changes = [];
    item.deps.clear();
    return;
  }
  item.action = item.changes.length ? "update" : "unchanged";
}

function itemLabel(s: PlanState, id: Identity | null): string {
  if (typeof id === "string") return s.items[Number(id.slice(4))]?.label ?? id;
  return String(id);
}
