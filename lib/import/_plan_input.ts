/**
 * The planner's first phase, input: the sections' models, their endpoints' writable fields, and
 * each entry's fields read into typed specs (values checked, references shaped), with a problem
 * at the field's position for whatever is wrong.
 *
 * @module
 */

import { lookupModel, missingSince, modelByKey, type ModelDef, suggestModels } from "./models.ts";
import type { ImportSection } from "./parse.ts";
import { validateDnsName } from "../ipam/dns_name.ts";
import { canonicalCidr, CIDR_FIELDS, coerce, type FieldMeta } from "./_values.ts";
import type { PlanState, Work } from "./_plan_types.ts";
import { add, isObj, locOf, problem, validRef } from "./_plan_state.ts";
import { isManyRef, ruleFor } from "./_plan_rules.ts";
import { TAGS_BY_SLUG } from "./_rule_config_contexts.ts";

/** Reads the sections into items, one per entry; returns the models they are of. */
export function collect(s: PlanState, sections: ImportSection[]): Map<string, ModelDef> {
  const models = new Map<string, ModelDef>();
  sections.forEach((section, n) => {
    const model = lookupModel(section.key, 1000 + n);
    if (!model) {
      const hint = suggestModels(section.key);
      s.problems.push({
        loc: section.loc,
        message: `unknown model "${section.key}"${
          hint.length ? ` (did you mean ${hint[0]}?)` : ""
        }`,
      });
      return;
    }
    const known = models.get(model.key);
    const m = known ?? model;
    models.set(m.key, m);
    for (const entry of section.entries) add(s, m, entry);
  });
  return models;
}

export async function loadMeta(s: PlanState, models: Map<string, ModelDef>): Promise<void> {
  const all = [...models.values()];
  const metas = await Promise.all(all.map((m) => s.backend.fields(m.path)));
  all.forEach((m, n) => s.meta.set(m.key, metas[n]));
  for (const m of all) {
    if (metas[all.indexOf(m)] === undefined) {
      const first = s.byModel.get(m.key)?.[0];
      const newer = missingSince(m);
      s.problems.push({
        loc: first?.entry.loc ?? { file: "-", line: 1, column: 1 },
        message: newer
          ? `${newer}: this NetBox has no ${m.path} endpoint`
          : `unknown endpoint "${m.path}": NetBox has no such list endpoint`,
      });
      for (const item of s.byModel.get(m.key) ?? []) item.action = "invalid";
    }
  }
}

/** Turns the entry's fields into typed specs, reporting unknown fields and bad values. */
export function structure(s: PlanState, item: Work): void {
  if (item.action === "invalid") return;
  const meta = s.meta.get(item.model.key) ?? {};
  const model = item.model;
  const known = !model.key.includes("/") && model.order < 1000;
  const state = item.entry.data._state;
  if (state === "absent" || state === "present") item.state = state;
  else if (state !== undefined) {
    problem(
      item,
      "_state",
      `invalid _state ${JSON.stringify(state)} (expected "present" or "absent")`,
    );
  }
  // An absent entry's fields only identify the object: only its key fields are read.
  const keyFields = item.state === "absent" ? new Set(keyFieldsOf(s, item)) : undefined;
  for (const [field, raw] of Object.entries(item.entry.data)) {
    if (field === "_state") continue;
    if (keyFields && field !== "_match" && !keyFields.has(field)) {
      const special = ruleFor(model, field, meta) !== undefined;
      if (!special && !(field in meta) && !(field in model.refs) && field !== "tags") {
        problem(item, field, `unknown field "${field}" for ${model.key}`, "key");
      }
      continue;
    }
    if (field === "_match") {
      const list = Array.isArray(raw) ? raw : [raw];
      const bad = list.filter((f) => typeof f !== "string" || !(f in meta || f in model.refs));
      if (bad.length) {
        problem(item, field, `_match names unknown field(s) ${bad.join(", ")}`);
      } else item.match = list as string[];
      continue;
    }
    const rule = ruleFor(model, field, meta);
    if (rule) {
      const r = rule.read(field, raw, (path) => locOf(item, path));
      if ("problem" in r) problem(item, field, r.problem);
      else item.specs.set(r.key, r.spec);
      continue;
    }
    const m = meta[field];
    const target = field === "tags" ? "extras.tags" : model.refs[field];
    if ((!m || m.read_only) && !(target && model.deferred?.includes(field))) {
      const newer = !m ? missingSince(model, field) : undefined;
      if (newer) {
        problem(item, field, `${newer}: this NetBox has no such field`, "key");
        continue;
      }
      const close = Object.keys(meta).filter((k) => !meta[k].read_only && near(k, field));
      problem(
        item,
        field,
        `unknown field "${field}" for ${model.key}${
          close.length ? ` (did you mean ${close[0]}?)` : ""
        }`,
        "key",
      );
      continue;
    }
    if (target) {
      refSpec(item, field, raw, modelByKey(target));
      continue;
    }
    if (field === "custom_fields") {
      if (!isObj(raw)) problem(item, field, "custom_fields must be a mapping");
      else item.specs.set(field, { kind: "value", value: raw, meta: m });
      continue;
    }
    valueSpec(item, field, raw, m, known);
  }
  if (!item.match.length) item.match = keyFieldsOf(s, item);
  const scope = s.options.scopeTag;
  if (
    scope && item.state === "present" && meta.tags && !item.problems.length &&
    !TAGS_BY_SLUG.has(model.key)
  ) {
    const spec = item.specs.get("tags");
    const loc = item.entry.locs.tags?.key ?? item.entry.loc;
    if (spec?.kind === "refs") spec.specs.push({ spec: scope, loc });
    else {
      const target = modelByKey("extras.tags");
      item.specs.set("tags", { kind: "refs", target, specs: [{ spec: scope, loc }], add: true });
    }
  }
}

/** The fields an entry is matched by: `_match`, else `--match-on`, else the natural key. */
export function keyFieldsOf(s: PlanState, item: Work): string[] {
  const given = item.entry.data._match;
  if (given !== undefined) {
    return (Array.isArray(given) ? given : [given]).filter((f) => typeof f === "string");
  }
  const key = s.options.matchOn?.[item.model.key] ?? item.model.naturalKey;
  if (key.length) return key;
  return ["slug", "name"].filter((f) => f in item.entry.data).slice(0, 1);
}

function valueSpec(item: Work, field: string, raw: unknown, m: FieldMeta, known: boolean): void {
  if (m.type === "field" && !known) {
    item.specs.set(field, { kind: "value", value: raw, meta: m });
    return;
  }
  if (isObj(raw) && m.type !== "json" && m.type !== "field" && m.type !== "nested object") {
    problem(
      item,
      field,
      `${field} must be a ${m.type === "string" ? "string" : "value"}, not a mapping`,
    );
    return;
  }
  const c = coerce(field, m, raw);
  if (!c.ok) return problem(item, field, c.reason);
  const value = c.value;
  if (CIDR_FIELDS[item.model.key]?.includes(field) && value !== null) {
    const cidr = typeof value === "string" ? canonicalCidr(value) : undefined;
    if (!cidr) {
      return problem(
        item,
        field,
        `invalid CIDR "${String(value)}" for ${field} (expected e.g. 192.0.2.1/24)`,
      );
    }
  }
  if (field === "dns_name" && typeof value === "string" && value !== "") {
    const why = validateDnsName(value);
    if (why) return problem(item, field, why);
  }
  item.specs.set(field, { kind: "value", value, meta: m });
}

function refSpec(item: Work, field: string, raw: unknown, target: ModelDef): void {
  if (isManyRef(field)) {
    const list = raw === null ? [] : Array.isArray(raw) ? raw : [raw];
    const specs = list.map((spec, n) => ({ spec, loc: locOf(item, `${field}.${n}`) }));
    for (const { spec, loc } of specs) {
      if (!validRef(spec)) {
        item.problems.push({ loc, message: `${field} items must be ids, names or mappings` });
        return;
      }
    }
    item.specs.set(field, { kind: "refs", target, specs });
    return;
  }
  if (raw !== null && !validRef(raw)) {
    return problem(item, field, `${field} must be an id, a name or a mapping, not a list`);
  }
  item.specs.set(field, { kind: "ref", target, spec: raw, loc: locOf(item, field) });
}

/** Whether `b` (a field the input gives) is probably a typo of `a`. */
function near(a: string, b: string): boolean {
  if (a.includes(b) || b.includes(a)) return Math.abs(a.length - b.length) <= 3;
  let diff = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) diff++;
  return diff <= 2;
}
