/**
 * Where a model is special to the planner, as a table: input fields that NetBox spells another
 * way (an IP address's `interface`/`vminterface`, the `scope` of scoped models), and the extra
 * fields the planner reads of existing objects. A new special case is a row here (or a rule
 * module registered here), never a branch inside a phase.
 *
 * @module
 */

import {
  CONFIG_CONTEXT_ASSIGNMENTS,
  CONTACT_OBJECTS,
  contentTypeOf,
  modelByKey,
  type ModelDef,
  SCOPE_FIELDS,
} from "./models.ts";
import type { SourceLoc } from "./parse.ts";
import type { FieldMeta } from "./_values.ts";
import type { FieldSpec, PlanState } from "./_plan_types.ts";
import { isObj, validRef } from "./_plan_state.ts";
import { cableEnds } from "./_rule_cables.ts";
import { frontPortMapping, frontPortTemplateMapping } from "./_rule_front_ports.ts";
import { checkVirtualChassisSites } from "./_rule_virtual_chassis.ts";
import { configContextTagSlugs } from "./_rule_config_contexts.ts";
import { templatesAfterInstances } from "./_rule_templates.ts";
import { modulePaths } from "./_rule_modules.ts";
import { INVENTORY_COMPONENTS } from "./_export_fields.ts";

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
    (model.key === "ipam.ip-addresses" || model.key === "dcim.mac-addresses") &&
    (field === "interface" || field === "vminterface"),
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

/**
 * Reads `name: {kind: ref}` (or `kind: ref` given alone) as a generic relation, written as
 * `<name>_type` and `<name>_id` unless `fields` says otherwise.
 */
function genericRead(
  name: string,
  kinds: Record<string, string>,
  fields = { type: `${name}_type`, id: `${name}_id` },
): FieldRule["read"] {
  return (field, raw, loc) => {
    let kind = field, spec = raw, path = field;
    if (field === name) {
      const keys = isObj(raw) ? Object.keys(raw) : [];
      if (keys.length !== 1 || !(keys[0] in kinds)) {
        return {
          problem: `${name} must be one of ${
            Object.keys(kinds).map((k) => `{${k}: …}`).join(", ")
          }`,
        };
      }
      kind = keys[0];
      spec = (raw as Record<string, unknown>)[kind];
      path = `${name}.${kind}`;
    }
    return {
      key: name,
      spec: {
        kind: "generic",
        name,
        typeField: fields.type,
        idField: fields.id,
        target: withContentType(modelByKey(kinds[kind])),
        spec,
        loc: loc(path),
      },
    };
  };
}

/** `scope: {site: matrix}` or `site: matrix` (when NetBox has no `site` field) → `scope`. */
const scope: FieldRule = {
  claims: (model, field, meta) =>
    !!model.scoped && (field === "scope" || (field in SCOPE_FIELDS && !(field in meta))),
  read: genericRead("scope", SCOPE_FIELDS),
};

/** A circuit termination's `termination: {site: …}` or `{provider_network: {…}}`. */
const termination: FieldRule = {
  claims: (model, field) =>
    model.key === "circuits.circuit-terminations" && field === "termination",
  read: genericRead("termination", {
    ...SCOPE_FIELDS,
    provider_network: "circuits.provider-networks",
  }),
};

/** A service's `parent: {device: {…}}`, `{virtual_machine: {…}}` or `{fhrp_group: {…}}`. */
const serviceParent: FieldRule = {
  claims: (model, field) => model.key === "ipam.services" && field === "parent",
  read: genericRead("parent", {
    device: "dcim.devices",
    virtual_machine: "virtualization.virtual-machines",
    fhrp_group: "ipam.fhrp-groups",
  }, { type: "parent_object_type", id: "parent_object_id" }),
};

/** An L2VPN termination's `assigned_object: {interface: …}` (or `vminterface`, `vlan`). */
const l2vpnObject: FieldRule = {
  claims: (model, field) => model.key === "vpn.l2vpn-terminations" && field === "assigned_object",
  read: genericRead("assigned_object", {
    interface: "dcim.interfaces",
    vminterface: "virtualization.interfaces",
    vlan: "ipam.vlans",
  }),
};

/** An event rule's `action_object: {webhook: name}`. */
const eventAction: FieldRule = {
  claims: (model, field) => model.key === "extras.event-rules" && field === "action_object",
  read: genericRead("action_object", { webhook: "extras.webhooks" }),
};

/** A contact assignment's `object: {site: matrix}` (any model of `CONTACT_OBJECTS`). */
const contactObject: FieldRule = {
  claims: (model, field) => model.key === "tenancy.contact-assignments" && field === "object",
  read: genericRead("object", CONTACT_OBJECTS, { type: "object_type", id: "object_id" }),
};

/** An FHRP group assignment's `interface: {device: …, name: …}` (or a VM's interface). */
const fhrpInterface: FieldRule = {
  claims: (model, field) => model.key === "ipam.fhrp-group-assignments" && field === "interface",
  read(field, raw, loc) {
    const r = assignedInterface.read(field, raw, loc);
    if ("problem" in r || r.spec.kind !== "generic") return r;
    return {
      key: "interface",
      spec: {
        ...r.spec,
        name: "interface",
        typeField: "interface_type",
        idField: "interface_id",
        target: withContentType(r.spec.target),
      },
    };
  },
};

/** An inventory item's `component: {interface: {device: …, name: …}}` (or another port, a bay). */
const inventoryComponent: FieldRule = {
  claims: (model, field) => model.key === "dcim.inventory-items" && field === "component",
  read: genericRead(
    "component",
    Object.fromEntries(Object.values(INVENTORY_COMPONENTS).map((t) => [t.kind, t.model])),
  ),
};

/** The model with its content type filled in (`dcim.devices` → `dcim.device`). */
function withContentType(m: ModelDef): ModelDef {
  return m.contentType ? m : { ...m, contentType: contentTypeOf(m.key) };
}

/** The field rules, tried in order; the first that claims a field reads it. */
export const FIELD_RULES: FieldRule[] = [
  assignedInterface,
  scope,
  termination,
  serviceParent,
  fhrpInterface,
  contactObject,
  l2vpnObject,
  eventAction,
  inventoryComponent,
  cableEnds,
  frontPortMapping,
  frontPortTemplateMapping,
  modulePaths,
];

/** Steps over the whole resolved plan: checks adding problems, write-order dependencies. */
export const PLAN_CHECKS: ((s: PlanState) => void)[] = [
  checkVirtualChassisSites,
  templatesAfterInstances,
  configContextTagSlugs,
];

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
  "dcim.mac-addresses": ["assigned_object"],
};

/** More reference fields that hold a list: ASNs, a service's IPs, a config context's objects. */
const MANY_REFS = new Set([
  "asns",
  "wireless_lans",
  "groups",
  "ipaddresses",
  ...Object.keys(CONFIG_CONTEXT_ASSIGNMENTS),
]);

/** Reference fields that hold a list (`tags: [a, b]`). */
export function isManyRef(field: string): boolean {
  return field === "tags" || field === "tagged_vlans" || field.endsWith("_targets") ||
    MANY_REFS.has(field);
}
