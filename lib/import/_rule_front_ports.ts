/**
 * A front port's rear port, one form on every NetBox: `rear_port: {device: d1, name: rp1}` with
 * `rear_port_position: 2` (default 1). NetBox up to 4.5 has these two fields; from 4.6 on a front
 * port has a list of mappings instead (`rear_ports: [{position, rear_port, rear_port_position}]`),
 * which this rule writes and compares. The same holds for front port templates. A front port
 * mapped to several rear ports (4.6+) cannot be written in this form: the export says so.
 *
 * @module
 */

import type { NetBoxObject } from "../client/types.ts";
import { modelByKey, type ModelDef } from "./models.ts";
import type { CustomFieldHandler, Identity, PlanState, Work } from "./_plan_types.ts";
import { isObj, toBody } from "./_plan_state.ts";
import { resolve } from "./_plan_match.ts";
import type { RuleResult } from "./_plan_rules.ts";
import type { FieldMeta } from "./_values.ts";
import type { SourceLoc } from "./parse.ts";

const MODELS_WITH_MAPPINGS: Record<string, string> = {
  "dcim.front-ports": "dcim.rear-ports",
  "dcim.front-port-templates": "dcim.rear-port-templates",
};

function position(item: Work): number | string {
  const p = item.entry.data.rear_port_position ?? 1;
  if (typeof p === "number" && Number.isInteger(p) && p >= 1) return p;
  if (typeof p === "string" && /^[1-9]\d*$/.test(p)) return Number(p);
  return `rear_port_position must be a whole number from 1, not ${JSON.stringify(p)}`;
}

function showMappings(v: unknown): string {
  const list = Array.isArray(v) ? v : [];
  if (!list.length) return "∅";
  return list.map((m) => isObj(m) ? `#${m.rear_port}:${m.rear_port_position}` : "?").join(", ");
}

const mapping = (rearModel: string): CustomFieldHandler => ({
  fetchFields: ["rear_ports"],
  refs: (raw) => raw === null ? [] : [[modelByKey(rearModel), raw]],
  apply(s: PlanState, item: Work, field: string) {
    if (field !== "rear_port") return;
    const spec = item.specs.get(field);
    if (spec?.kind !== "custom") return;
    const target = modelByKey(rearModel);
    const pos = position(item);
    if (typeof pos === "string") {
      item.problems.push({ loc: spec.loc, message: pos });
      return;
    }
    let id: Identity | null = null;
    if (spec.raw !== null) {
      const r = resolve(s, target, spec.raw, item);
      if (typeof r === "string" && !r.startsWith("new#")) {
        item.problems.push({ loc: spec.loc, message: r });
        return;
      }
      id = r as Identity;
    }
    const cur = item.existing?.rear_ports;
    if (item.existing) {
      const list = Array.isArray(cur) ? cur : [];
      const same = id === null ? list.length === 0 : list.length === 1 && isObj(list[0]) &&
        list[0].position === 1 && list[0].rear_port === id && list[0].rear_port_position === pos;
      if (same) return;
      item.changes.push({
        field: "rear_port",
        old: showMappings(cur),
        new: id === null ? "∅" : `${JSON.stringify(spec.raw)}:${pos}`,
      });
    }
    if (typeof id === "string") item.deps.add(Number(id.slice(4)));
    const label = typeof id === "string" ? s.items[Number(id.slice(4))]?.label ?? id : String(id);
    item.body.rear_ports = id === null
      ? []
      : [{ position: 1, rear_port: toBody(id, label), rear_port_position: pos }];
  },
});

/** `rear_port_position` is written with `rear_port`. */
const none: CustomFieldHandler = { fetchFields: [], refs: () => [], apply: () => {} };

/** The field rule of `rear_port`/`rear_port_position` of a front port (template) on 4.6+. */
const frontPortRule = (model: string) => ({
  claims: (m: ModelDef, field: string, meta: Record<string, FieldMeta>): boolean =>
    m.key === model && "rear_ports" in meta && !("rear_port" in meta) &&
    (field === "rear_port" || field === "rear_port_position"),
  read(field: string, raw: unknown, loc: (path: string) => SourceLoc): RuleResult {
    if (
      field === "rear_port" && raw !== null && !["string", "number", "object"].includes(typeof raw)
    ) {
      return {
        problem: "rear_port must be an id, a name or a mapping like {device: d1, name: rp1}",
      };
    }
    if (field === "rear_port" && Array.isArray(raw)) {
      return { problem: "rear_port must be one rear port (a name or a mapping), not a list" };
    }
    const handler = field === "rear_port" ? mapping(MODELS_WITH_MAPPINGS[model]) : none;
    return { key: field, spec: { kind: "custom", handler, raw, loc: loc(field) } };
  },
});

/** The field rules of front ports and front port templates (NetBox 4.6+). */
export const frontPortMapping = frontPortRule("dcim.front-ports");
export const frontPortTemplateMapping = frontPortRule("dcim.front-port-templates");

/**
 * The rear port (id) and position of an exported front port, whichever NetBox it is read from;
 * undefined when it has none; a problem when it has several mappings (NetBox 4.6+).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { rearPortOf } from "./_rule_front_ports.ts";
 * const v47 = { id: 1, url: "", rear_ports: [{ position: 1, rear_port: 5, rear_port_position: 2 }] };
 * const v43 = { id: 1, url: "", rear_port: { id: 5 }, rear_port_position: 2 };
 * assert(JSON.stringify(rearPortOf(v47)) === JSON.stringify(rearPortOf(v43)));
 * ```
 */
export function rearPortOf(
  obj: NetBoxObject,
): { id: number; position: number } | { problem: string } | undefined {
  if (Array.isArray(obj.rear_ports)) {
    const list = obj.rear_ports;
    if (!list.length) return undefined;
    const m = list[0];
    if (list.length > 1 || !isObj(m) || m.position !== 1 || typeof m.rear_port !== "number") {
      return {
        problem: "front ports mapped to several rear ports (or positions) are not importable",
      };
    }
    return { id: m.rear_port, position: Number(m.rear_port_position ?? 1) };
  }
  const rp = obj.rear_port;
  if (!isObj(rp) || typeof rp.id !== "number") return undefined;
  return { id: rp.id, position: Number(obj.rear_port_position ?? 1) };
}
