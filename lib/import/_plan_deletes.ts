/**
 * The planner's deletes: `_state: absent` entries, the scope tag they must carry, references to
 * what is deleted, `prune` (what carries the scope tag and no entry matches), and the objects a
 * delete would take along (cascades).
 *
 * @module
 */

import { FilterError, NetBoxHttpError } from "../client/errors.ts";
import type { NetBoxObject } from "../client/types.ts";
import type { SourceLoc } from "./parse.ts";
import { CASCADES, type ModelDef, MODELS } from "./models.ts";
import { slugify } from "../ipam/lookup.ts";
import type { PlanState, Work } from "./_plan_types.ts";
import { add, describeKey, hasTag, isObj, labelOf, unique } from "./_plan_state.ts";
import { CHUNK } from "./_plan_fetch.ts";
import { propagateInvalid } from "./_plan_order.ts";

export function finishAbsent(s: PlanState, item: Work): void {
  item.body = {};
  item.changes = [];
  item.deps.clear();
  // create-only leaves every existing object alone, the absent ones too.
  if (!item.existing || (s.options.mode ?? "upsert") === "create-only") {
    item.action = "unchanged";
    return;
  }
  item.action = "delete";
  item.reason = "absent";
  item.key = describeKey(item);
}

/** The slug of the scope tag: as NetBox has it, as the input gives it, or as it will be. */
export function scopeSlug(s: PlanState): string | undefined {
  const scope = s.options.scopeTag;
  if (!scope) return undefined;
  const tags = s.existing.get("extras.tags") ?? [];
  const hit = tags.find((t) => t.slug === scope) ?? tags.find((t) => t.name === scope);
  if (hit && typeof hit.slug === "string") return hit.slug;
  const given = (s.byModel.get("extras.tags") ?? []).find((i) =>
    i.entry.data.slug === scope || i.entry.data.name === scope
  );
  if (typeof given?.entry.data.slug === "string") return given.entry.data.slug;
  return slugify(scope);
}

/** With a scope tag, `_state: absent` deletes only objects that carry it. */
export function checkAbsentScope(s: PlanState, slug: string): void {
  for (const item of s.items) {
    if (item.action !== "delete" || item.problems.length) continue;
    item.requireTag = slug;
    if (!hasTag(item.existing!, slug)) {
      item.problems.push({
        loc: item.entry.loc,
        message: `${item.model.key} ${item.label} (id ${item.id}) does not carry the scope ` +
          `tag "${slug}": not deleted (this import manages only objects tagged "${slug}")`,
      });
    }
  }
}

/**
 * Entries that stay must not refer to objects this import deletes: NetBox would refuse the
 * delete, or clear the reference, and the next run would not find the object.
 */
export function checkDeletedRefs(s: PlanState, deletes: Work[], why: "absent" | "prune"): void {
  const gone = new Map<string, Work>();
  for (const d of deletes) if (d.id !== undefined) gone.set(`${d.model.key} ${d.id}`, d);
  if (!gone.size) return;
  for (const item of s.items) {
    if (item.state !== "present" || item.action === "invalid") continue;
    const refs: [ModelDef, unknown, SourceLoc][] = [];
    for (const [field, spec] of item.specs) {
      const r = item.resolved.get(field);
      if (spec.kind === "ref" || spec.kind === "generic") refs.push([spec.target, r, spec.loc]);
      else if (spec.kind === "refs" && Array.isArray(r)) {
        r.forEach((id, n) => refs.push([spec.target, id, spec.specs[n]?.loc ?? item.entry.loc]));
      }
    }
    for (const [target, id, loc] of refs) {
      const d = typeof id === "number" ? gone.get(`${target.key} ${id}`) : undefined;
      if (!d) continue;
      const l = d.entry.loc;
      item.problems.push({
        loc,
        message: why === "absent"
          ? `refers to ${target.key} ${d.label}, which the input deletes (_state: absent at ` +
            `${l.file}:${l.line}:${l.column})`
          : `refers to ${target.key} ${d.label}, which carries the scope tag ` +
            `"${d.requireTag}" but is in no file, so --prune would delete it: add it to the files`,
      });
    }
  }
}

/** The objects carrying the scope tag that no entry matches: deletes, "pruned". */
export async function prune(s: PlanState, slug: string): Promise<void> {
  const bad = () =>
    s.items.filter((i) => i.problems.length || i.action === "invalid").length +
    s.problems.length;
  if (bad()) {
    s.pruneSkipped = "the input has invalid entries: prune needs the whole input, valid, " +
      "so nothing is pruned";
    return;
  }
  // A tag NetBox does not have yet is carried by nothing (and NetBox refuses to filter by it).
  if (!(s.existing.get("extras.tags") ?? []).some((t) => t.slug === slug)) return;
  const models = new Map<string, ModelDef>();
  for (const m of MODELS) if (m.key !== "extras.tags") models.set(m.key, m);
  for (const i of s.items) {
    if (!models.has(i.model.key) && s.meta.get(i.model.key)?.tags) {
      models.set(i.model.key, i.model);
    }
  }
  const matched = new Set(
    s.items.filter((i) => i.existing).map((i) => `${i.model.key} ${i.existing!.id}`),
  );
  const found = await Promise.all([...models.values()].map(async (m) => {
    const generic = m.order >= 1000;
    const fields = generic ? undefined : unique([
      "id",
      "display",
      "last_updated",
      "tags",
      ...m.naturalKey,
      ...m.refKey,
      ...["device", "virtual_machine"].filter((f) => f in m.refs),
    ]);
    // A model NetBox cannot tag (no `tag` filter: custom fields, templates) carries no scope tag;
    // nor does one of a newer NetBox (`since`) on an older one (its endpoint is missing).
    const tagged = await s.backend.list(m.path, { tag: slug }, fields).catch((err) => {
      if (err instanceof FilterError) return [];
      if (m.since && err instanceof NetBoxHttpError && err.status === 404) return [];
      throw err;
    });
    return [m, tagged] as const;
  }));
  const before = s.items.length;
  const pruned: Work[] = [];
  for (const [m, objects] of found) {
    for (const o of objects) {
      if (matched.has(`${m.key} ${o.id}`) || !hasTag(o, slug)) continue;
      const item = add(s, m, { loc: { file: "", line: 0, column: 0 }, data: {}, locs: {} });
      item.action = "delete";
      item.reason = "prune";
      item.id = o.id;
      item.existing = o;
      item.label = objectLabel(m, o);
      item.key = objectKey(m, o);
      item.requireTag = slug;
      pruned.push(item);
    }
  }
  checkDeletedRefs(s, pruned, "prune");
  if (bad()) {
    propagateInvalid(s);
    s.items.length = before;
    s.pruneSkipped = "entries of the input refer to objects prune would delete: nothing " +
      "is pruned";
  }
}

/** Deletes that would take objects along that the import keeps (see `PlanItem.blockers`). */
export async function previewCascades(s: PlanState): Promise<void> {
  const deletes = s.items.filter((i) => i.action === "delete" && !i.problems.length);
  const deleting = new Set(deletes.map((i) => `${i.model.key} ${i.id}`));
  const models = [...new Set(deletes.map((i) => i.model.key))].filter((k) => CASCADES[k]);
  await Promise.all(models.map(async (key) => {
    const c = CASCADES[key];
    const group = deletes.filter((i) => i.model.key === key);
    const byId = new Map(group.map((i) => [i.id!, i]));
    for (let n = 0; n < group.length; n += CHUNK) {
      const ids = group.slice(n, n + CHUNK).map((i) => i.id!);
      for (const o of await s.backend.list(c.path, { [c.filter]: ids }, c.fields)) {
        const item = byId.get(c.owner(o) as number);
        if (!item || deleting.has(`${c.model} ${o.id}`)) continue;
        (item.blockers ??= []).push({
          model: c.model,
          name: String(o.address ?? o.name ?? o.display),
          id: o.id,
        });
      }
    }
  }));
}

/** A key field's value of an object as read, as text: nested objects by slug, else name. */
function keyText(v: unknown): string {
  if (v === null || v === undefined || v === "") return "∅";
  if (isObj(v)) {
    for (const k of ["slug", "name", "address", "prefix", "display"]) {
      if (typeof v[k] === "string" || typeof v[k] === "number") return String(v[k]);
    }
    return typeof v.id === "number" ? `#${v.id}` : JSON.stringify(v);
  }
  return String(v);
}

/** The natural key of an object as read: `name=foxtrot, site=matrix`. */
export function objectKey(model: ModelDef, obj: NetBoxObject): string {
  const fields = model.naturalKey.length
    ? model.naturalKey
    : ["slug", "name"].filter((f) => f in obj).slice(0, 1);
  return fields.map((f) => `${f}=${keyText(obj[f])}`).join(", ") || `id=${obj.id}`;
}

/** A readable name of an object as read, like the labels of entries (`foxtrot eth0`). */
export function objectLabel(model: ModelDef, obj: NetBoxObject): string {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) data[k] = isObj(v) ? v.name ?? v.display ?? v : v;
  const label = labelOf(model, data);
  return label === "(unnamed)" ? String(obj.display ?? `#${obj.id}`) : label;
}
