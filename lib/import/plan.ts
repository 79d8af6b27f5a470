/**
 * The plan of a bulk import: validates every entry against the endpoint's OPTIONS metadata,
 * resolves references (ids, natural keys, attribute mappings, objects created in the same
 * import), matches entries to existing objects by natural key, and computes per entry whether it
 * is created, updated (with a field diff) or left unchanged. Pure apart from the injected
 * {@linkcode ImportBackend}, so it is tested without a server.
 *
 * The planner runs in phases over one shared state (`_plan_types.ts`, `_plan_state.ts`): input
 * (`_plan_input.ts`), fetching existing objects (`_plan_fetch.ts`), matching
 * (`_plan_match.ts`) and resolving (`_plan_resolve.ts`), deletes (`_plan_deletes.ts`) and
 * ordering (`_plan_order.ts`); what is special about a model is a row of `_plan_rules.ts`.
 *
 * @module
 */

import { etagOf } from "../client/etag.ts";
import { InputError } from "../client/errors.ts";
import type { ImportProblem, ImportSection } from "./parse.ts";
import { modelByKey } from "./models.ts";
import type { ImportBackend, ImportPlan, PlanItem, PlanOptions, Work } from "./_plan_types.ts";
import { createState } from "./_plan_state.ts";
import { collect, loadMeta, structure } from "./_plan_input.ts";
import { fetchExisting } from "./_plan_fetch.ts";
import { checkCustomFields } from "./_plan_custom_fields.ts";
import { matchModel } from "./_plan_match.ts";
import { resolveDeferred, resolveModel } from "./_plan_resolve.ts";
import {
  checkAbsentScope,
  checkDeletedRefs,
  previewCascades,
  prune,
  scopeSlug,
} from "./_plan_deletes.ts";
import { checkCycles, propagateInvalid, writeOrder } from "./_plan_order.ts";
import { PLAN_CHECKS } from "./_plan_rules.ts";

export type { FieldMeta } from "./_values.ts";
export type { Change, ImportBackend, ImportPlan, PlanItem, PlanOptions } from "./_plan_types.ts";
export { NewRef } from "./_plan_types.ts";

/**
 * Builds the import plan.
 *
 * @param sections The parsed input, all files in order.
 * @param backend Field metadata and listings from NetBox.
 * @param options Mode, match overrides, tag creation.
 * @returns The plan; check `problems` before writing anything.
 *
 * @example Planning the creation of a site on an empty NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { buildPlan } from "./plan.ts";
 * import { parseImport } from "./parse.ts";
 * const sections = parseImport("sites:\n  - {name: Matrix, slug: matrix}\n", { file: "a.yaml", format: "yaml" });
 * const backend = {
 *   fields: () => Promise.resolve({ name: { type: "string", required: true }, slug: { type: "slug", required: true } }),
 *   list: () => Promise.resolve([]),
 * };
 * const plan = await buildPlan(sections, backend);
 * assert(plan.items[0].action === "create" && plan.problems.length === 0);
 * ```
 */
export async function buildPlan(
  sections: ImportSection[],
  backend: ImportBackend,
  options: PlanOptions = {},
): Promise<ImportPlan> {
  if (options.prune && !options.scopeTag) {
    throw new InputError(
      "Cannot plan the import: prune needs a scope tag (the tag this import sets on what it " +
        "manages); without one it cannot tell which objects are its own",
    );
  }
  const plan = await new Planner(backend, options).run(sections);
  return { ...plan, options };
}

/** The planner: {@linkcode Planner.run} is the pipeline of its phases. */
class Planner {
  constructor(readonly backend: ImportBackend, readonly options: PlanOptions) {}

  async run(sections: ImportSection[]): Promise<ImportPlan> {
    const s = createState(this.backend, this.options);
    // input
    const models = collect(s, sections);
    await loadMeta(s, models);
    for (const item of s.items) structure(s, item);
    await checkCustomFields(s);
    // fetching existing objects
    await fetchExisting(s);
    // matching and resolving, model by model in dependency order
    const order = [...models.values()].sort((a, b) => a.order - b.order);
    if (!order.some((m) => m.key === "extras.tags")) order.unshift(modelByKey("extras.tags"));
    for (const model of order) {
      matchModel(s, model);
      resolveModel(s, model);
    }
    for (const item of s.items) resolveDeferred(s, item);
    for (const check of PLAN_CHECKS) check(s);
    // deletes
    const slug = scopeSlug(s);
    if (slug) checkAbsentScope(s, slug);
    checkDeletedRefs(s, s.items.filter((i) => i.action === "delete"), "absent");
    checkCycles(s);
    propagateInvalid(s);
    if (this.options.prune && slug) await prune(s, slug);
    await previewCascades(s);
    // ordering
    const items = writeOrder(s);
    for (const item of items) {
      if (item.problems.length) item.action = "invalid";
    }
    const problems = items.flatMap((i) => i.problems).concat(s.problems);
    const plan: ImportPlan = {
      items: items.map(publicItem),
      problems: dedupe(sortProblems(problems)),
    };
    if (s.pruneSkipped) plan.pruneSkipped = s.pruneSkipped;
    return plan;
  }
}

/** Problems in input order: by file, line, column. */
function sortProblems(problems: ImportProblem[]): ImportProblem[] {
  return problems.sort((a, b) =>
    a.loc.file === b.loc.file
      ? a.loc.line - b.loc.line || a.loc.column - b.loc.column
      : a.loc.file < b.loc.file
      ? -1
      : 1
  );
}

function dedupe(problems: ImportProblem[]): ImportProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.loc.file}:${p.loc.line}:${p.loc.column}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function publicItem(w: Work): PlanItem {
  const { specs: _s, match: _m, identity: _i, existing: _e, resolved: _r, state: _t, ...item } = w;
  const etag = w.action === "update" && w.existing ? etagOf(w.existing) : undefined;
  return etag ? { ...item, etag } : item;
}
