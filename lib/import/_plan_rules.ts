/**
 * Where a model is special to the planner, as a table: input fields that NetBox spells another
 * way (an IP address's `interface`/`vminterface`, the `scope` of scoped models), and the extra
 * fields the planner reads of existing objects. A new special case is a row here (or a rule
 * module registered here), never a branch inside a phase.
 *
 * @module
 */

import { modelByKey, type ModelDef, SCOPE_FIELDS } from "./models.ts";
import type { SourceLoc } from "./parse.ts";
import type { FieldMeta } from "./_values.ts";
import type { FieldSpec } from "./_plan_types.ts";
import { isObj, validRef } from "./_plan_state.ts";

/** What a rule makes of a field: the spec under its key, or why the value is wrong. */
export type RuleResult = { key: string; spec: FieldSpec } | { problem: string };

/** An input field of some models that the planner reads by a rule of its own. */
export interface FieldRule {
  /** Whether the rule reads `field` of an entry of `model` (`meta`: its writable fields). */
  claims(model: ModelDef, field: string, meta: Record<string, FieldMeta>): boolean;
  /** Reads the raw value; `loc` gives the position of a path of the entry. */
  read(field: string, raw: unknown, loc: (path: string) => SourceLoc): RuleResult;
}

/** `interface: {device: foxtrot, name: eth0}` (or `vminterface`, `vm:`) → `assigned_object`. */
const assignedInterface: FieldRule = {
  claims: (model, field) =>
    model.key === "ipam.ip-addresses" && (field === "interface" || field === "vminterface"),
  read(field, raw, loc) {
    let target = modelByKey("dcim.interfaces");
    let spec: unknown = raw;
    if (isObj(raw)) {
      const vm = raw.vm ?? raw.virtual_machine;
      if (field === "vminterface" || vm !== undefined) {
        target = modelByKey("virtualization.interfaces");
        const { vm: _v, ...rest } = raw;
        spec = vm === undefined ? rest : { ...rest, virtual_machine: vm };
      }
      const s = spec as Record<string, unknown>;
      if (!("name" in s) || !("device" in s || "virtual_machine" in s)) {
        return { problem: `${field} needs "name" and "device" (or "vm")` };
      }
    } else if (field === "vminterface") target = modelByKey("virtualization.interfaces");
    if (raw !== null && !validRef(raw)) {
      return { problem: `${field} must be an id or a mapping like {device: foxtrot, name: eth0}` };
    }
    return {
      key: "assigned_object",
      spec: {
        kind: "generic",
        name: "assigned_object",
        typeField: "assigned_object_type",
        idField: "assigned_object_id",
        target,
        spec,
        loc: loc(field),
      },
    };
  },
};

/** `scope: {site: matrix}` or `site: matrix` (when NetBox has no `site` field) → `scope`. */
const scope: FieldRule = {
  claims: (model, field, meta) =>
    !!model.scoped && (field === "scope" || (field in SCOPE_FIELDS && !(field in meta))),
  read(field, raw, loc) {
    let kind = field, spec = raw, path = field;
    if (field === "scope") {
      const keys = isObj(raw) ? Object.keys(raw) : [];
      if (keys.length !== 1 || !(keys[0] in SCOPE_FIELDS)) {
        return {
          problem: `scope must be one of {site: …}, {region: …}, {location: …}, {site_group: …}`,
        };
      }
      kind = keys[0];
      spec = (raw as Record<string, unknown>)[kind];
      path = `scope.${kind}`;
    }
    return {
      key: "scope",
      spec: {
        kind: "generic",
        name: "scope",
        typeField: "scope_type",
        idField: "scope_id",
        target: modelByKey(SCOPE_FIELDS[kind]),
        spec,
        loc: loc(path),
      },
    };
  },
};

/** The field rules, tried in order; the first that claims a field reads it. */
export const FIELD_RULES: FieldRule[] = [assignedInterface, scope];

/** The rule that reads `field` of an entry of `model`, if any. */
export function ruleFor(
  model: ModelDef,
  field: string,
  meta: Record<string, FieldMeta>,
): FieldRule | undefined {
  return FIELD_RULES.find((r) => r.claims(model, field, meta));
}

/**
 * Fields read of every existing object of a model besides its keys and the input's fields:
 * an address's interface tells whose primary IP it can be.
 */
export const FETCH_FIELDS: Record<string, string[]> = {
  "ipam.ip-addresses": ["assigned_object"],
};

/** Reference fields that hold a list (`tags: [a, b]`). */
export function isManyRef(field: string): boolean {
  return field === "tags" || field === "tagged_vlans" || field.endsWith("_targets");
}
