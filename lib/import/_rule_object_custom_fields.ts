/**
 * Object and multi-object custom field values by natural key: `custom_fields: {rack: {name: R0,
 * site: matrix}, sites: [matrix, berlin]}`. The custom-field check (`_plan_custom_fields.ts`)
 * finds the field's model from its `related_object_type`; this rule resolves the references
 * like any other (objects created by the same import included, written before) and compares
 * the ids with NetBox's.
 *
 * @module
 */

import type { SourceLoc } from "./parse.ts";
import type { ModelDef } from "./models.ts";
import type { FieldSpec, Identity, PlanState, Work } from "./_plan_types.ts";
import { isObj, toBody } from "./_plan_state.ts";
import { resolve } from "./_plan_match.ts";
import { readShape, sameValue, showValue } from "./_values.ts";

/** The references of one object or multi-object custom field of an entry. */
export interface ObjectValue {
  /** The model of the field's objects. */
  model: ModelDef;
  /** The references as given (ids, slugs or names, mappings of key fields). */
  specs: unknown[];
  /** A multi-object field (a list). */
  many: boolean;
  /** Where the value is. */
  loc: SourceLoc;
}

/**
 * The `custom_fields` spec of an entry with object values: the other values as checked, the
 * object values resolved when the plan resolves references.
 */
export function objectValues(
  values: Record<string, unknown>,
  refs: Record<string, ObjectValue>,
): FieldSpec {
  const raw = { ...values };
  for (const [name, r] of Object.entries(refs)) raw[name] = r.many ? r.specs : r.specs[0];
  const loc = Object.values(refs)[0].loc;
  return {
    kind: "custom",
    raw,
    loc,
    handler: {
      fetchFields: ["custom_fields"],
      refs: () =>
        Object.values(refs).flatMap((r) => r.specs.map((x): [ModelDef, unknown] => [r.model, x])),
      apply(s: PlanState, item: Work) {
        const want: Record<string, unknown> = { ...values };
        const body: Record<string, unknown> = { ...values };
        for (const [name, r] of Object.entries(refs)) {
          const ids: Identity[] = [];
          for (const spec of r.specs) {
            const id = resolve(s, r.model, spec, item);
            if (typeof id === "string" && !id.startsWith("new#")) {
              item.problems.push({ loc: r.loc, message: `custom field "${name}": ${id}` });
              return;
            }
            ids.push(id as Identity);
            if (typeof id === "string") item.deps.add(Number(id.slice(4)));
          }
          const label = (id: Identity) =>
            typeof id === "string" ? s.items[Number(id.slice(4))]?.label ?? id : String(id);
          const bodies = ids.map((id) => toBody(id, label(id)));
          want[name] = r.many ? ids : ids[0];
          body[name] = r.many ? bodies : bodies[0];
        }
        if (item.existing) {
          const cur = isObj(item.existing.custom_fields) ? item.existing.custom_fields : {};
          const same = Object.entries(want).every(([k, v]) =>
            typeof v === "string" && v.startsWith("new#")
              ? false
              : sameValue(v, readShape(cur[k]), k)
          );
          if (same) return;
          item.changes.push({
            field: "custom_fields",
            old: showValue(item.existing.custom_fields),
            new: showValue(raw),
          });
        }
        item.body.custom_fields = body;
      },
    },
  };
}
