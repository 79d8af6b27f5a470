/**
 * The planner's custom-field check, after input: every `custom_fields` value of an entry is
 * checked against its definition — in the input (`custom_fields:` section) or in NetBox — for
 * its existence, the models it applies to and its type (text, integer, decimal, boolean, date,
 * URL, JSON, select and multi-select with their choices, objects). A CSV cell (`"42"`,
 * `"true"`) becomes the field's type. An entry whose values use a definition of the input is
 * written after it. Object and multi-object values are ids or references by natural key (`{name:
 * R0, site: matrix}`, a slug), resolved like any reference (`_rule_object_custom_fields.ts`).
 *
 * @module
 */

import type { NetBoxObject } from "../client/types.ts";
import type { PlanState, Work } from "./_plan_types.ts";
import { isObj, locOf } from "./_plan_state.ts";
import { contentTypeOf, modelOfContentType } from "./models.ts";
import { type ObjectValue, objectValues } from "./_rule_object_custom_fields.ts";

/** One custom field as the check needs it. */
interface Definition {
  type: string;
  objectTypes: string[] | undefined;
  /** The choice set's name, if any. */
  choiceSet: string | undefined;
  /** The content type of an object field's objects (`dcim.rack`). */
  relatedType?: string;
  /** The item of the input that defines it. */
  item?: Work;
}

const CF = "extras.custom-fields";
const SETS = "extras.custom-field-choice-sets";

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (isObj(v)) {
    if (typeof v.value === "string") return v.value;
    if (typeof v.name === "string") return v.name;
  }
  return undefined;
}

function valuesOf(choices: unknown): string[] | undefined {
  if (!Array.isArray(choices)) return undefined;
  return choices.map((c) => Array.isArray(c) ? String(c[0]) : String(c));
}

/** Checks and coerces the custom-field values of every entry (see the module doc). */
export async function checkCustomFields(s: PlanState): Promise<void> {
  const users = s.items.filter((i) =>
    i.action !== "invalid" && i.state === "present" &&
    i.specs.get("custom_fields")?.kind === "value"
  );
  if (!users.length) return;
  const [fields, sets] = await Promise.all([
    s.backend.list("extras/custom-fields/", {}, [
      "id",
      "name",
      "type",
      "object_types",
      "choice_set",
      "related_object_type",
    ]),
    s.backend.list("extras/custom-field-choice-sets/", {}, [
      "id",
      "name",
      "base_choices",
      "extra_choices",
    ]),
  ]);
  const defs = new Map<string, Definition>();
  for (const f of fields as NetBoxObject[]) {
    defs.set(String(f.name), {
      type: text(f.type) ?? "",
      objectTypes: Array.isArray(f.object_types) ? f.object_types.map(String) : undefined,
      choiceSet: text(f.choice_set),
      relatedType: text(f.related_object_type),
    });
  }
  const choices = new Map<string, string[] | undefined>();
  for (const c of sets as NetBoxObject[]) {
    choices.set(String(c.name), c.base_choices ? undefined : valuesOf(c.extra_choices));
  }
  for (const item of s.byModel.get(SETS) ?? []) {
    const d = item.entry.data;
    if (item.state !== "present" || typeof d.name !== "string") continue;
    choices.set(d.name, d.base_choices ? undefined : valuesOf(d.extra_choices));
  }
  for (const item of s.byModel.get(CF) ?? []) {
    const d = item.entry.data;
    if (item.state !== "present" || typeof d.name !== "string") continue;
    const old = defs.get(d.name);
    defs.set(d.name, {
      type: text(d.type) ?? old?.type ?? "",
      objectTypes: Array.isArray(d.object_types) ? d.object_types.map(String) : old?.objectTypes,
      choiceSet: d.choice_set === undefined ? old?.choiceSet : text(d.choice_set),
      relatedType: d.related_object_type === undefined
        ? old?.relatedType
        : text(d.related_object_type),
      item,
    });
  }
  for (const item of users) {
    const spec = item.specs.get("custom_fields");
    if (spec?.kind !== "value" || !isObj(spec.value)) continue;
    const out: Record<string, unknown> = {};
    const refs: Record<string, ObjectValue> = {};
    const ct = contentTypeOf(item.model.key, item.model.contentType);
    for (const [name, raw] of Object.entries(spec.value)) {
      const loc = locOf(item, `custom_fields.${name}`);
      const def = defs.get(name);
      if (!def) {
        item.problems.push({
          loc,
          message: `unknown custom field "${name}": NetBox has none of that name ` +
            `(define it in a custom_fields section of the input)`,
        });
        continue;
      }
      if (def.objectTypes && !def.objectTypes.includes(ct) && item.model.order < 1000) {
        item.problems.push({
          loc,
          message: `custom field "${name}" does not apply to ${ct} (its object_types: ${
            def.objectTypes.join(", ") || "none"
          })`,
        });
        continue;
      }
      if (def.item) item.deps.add(def.item.uid);
      const r = coerceValue(name, def, raw, def.choiceSet ? choices.get(def.choiceSet) : []);
      if ("problem" in r) item.problems.push({ loc, message: r.problem });
      else if ("ref" in r) {
        const v = r.ref(def.relatedType);
        if (typeof v === "string") item.problems.push({ loc, message: v });
        else refs[name] = { ...v, loc };
      } else out[name] = r.value;
    }
    spec.value = out;
    if (Object.keys(refs).length) {
      item.specs.set("custom_fields", objectValues(out, refs));
    }
  }
}

function shown(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (isObj(v)) return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A value of references, resolved once the field's model is known. */
type Ref = { ref: (relatedType: string | undefined) => Omit<ObjectValue, "loc"> | string };

function objectRef(name: string, specs: unknown[], many: boolean): Ref {
  return {
    ref: (relatedType) => {
      const model = relatedType ? modelOfContentType(relatedType) : undefined;
      if (!model) {
        return `custom field "${name}": its objects (${relatedType ?? "unknown"}) cannot be ` +
          "named by natural key; give ids";
      }
      return { model, specs, many };
    },
  };
}

/** The value as the field's type, or the problem. */
function coerceValue(
  name: string,
  def: Definition,
  raw: unknown,
  choices: string[] | undefined,
): { value: unknown } | { problem: string } | Ref {
  if (raw === null || raw === "") return { value: null };
  const bad = (want: string) => ({
    problem: `custom field "${name}" (type ${def.type}) must be ${want}, not ${shown(raw)}`,
  });
  const str = typeof raw === "string" ? raw.trim() : undefined;
  switch (def.type) {
    case "text":
    case "longtext":
    case "url":
      if (typeof raw === "number") return { value: String(raw) };
      return typeof raw === "string" ? { value: raw } : bad("text");
    case "integer":
      if (typeof raw === "number" && Number.isInteger(raw)) return { value: raw };
      if (str !== undefined && /^-?\d+$/.test(str)) return { value: Number(str) };
      return bad("an integer");
    case "decimal":
      if (typeof raw === "number" && Number.isFinite(raw)) return { value: raw };
      if (str && !isNaN(Number(str))) return { value: Number(str) };
      return bad("a number");
    case "boolean":
      if (typeof raw === "boolean") return { value: raw };
      if (str && ["true", "yes", "1"].includes(str.toLowerCase())) return { value: true };
      if (str && ["false", "no", "0"].includes(str.toLowerCase())) return { value: false };
      return bad("true or false");
    case "date":
      return str !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(str)
        ? { value: str }
        : bad("a date like 2026-01-31");
    case "datetime":
      return str !== undefined ? { value: str } : bad("a date and time");
    case "select": {
      if (typeof raw !== "string" && typeof raw !== "number") return bad("one choice");
      const v = String(raw);
      if (choices && !choices.includes(v)) {
        return {
          problem: `custom field "${name}": invalid choice "${v}" (one of ${choices.join(", ")})`,
        };
      }
      return { value: v };
    }
    case "multiselect": {
      const list = Array.isArray(raw) ? raw : str !== undefined ? str.split(",") : undefined;
      if (!list || list.some((x) => typeof x !== "string" && typeof x !== "number")) {
        return bad("a list of choices");
      }
      const vs = list.map((x) => String(x).trim());
      const wrong = choices ? vs.filter((v) => !choices.includes(v)) : [];
      if (wrong.length) {
        return {
          problem: `custom field "${name}": invalid choice "${wrong[0]}" (one of ${
            choices!.join(", ")
          })`,
        };
      }
      return { value: vs };
    }
    case "object":
      if (typeof raw === "number" && Number.isInteger(raw)) return { value: raw };
      if (str !== undefined && /^\d+$/.test(str)) return { value: Number(str) };
      if (typeof raw === "string" || isObj(raw)) return objectRef(name, [raw], false);
      return bad("an object id or reference");
    case "multiobject":
      if (Array.isArray(raw) && raw.every((x) => typeof x === "number")) return { value: raw };
      if (
        Array.isArray(raw) &&
        raw.every((x) => typeof x === "string" || isObj(x) || typeof x === "number")
      ) {
        return objectRef(name, raw, true);
      }
      return bad("a list of object ids or references");
    default:
      return { value: raw };
  }
}
