/**
 * A front port's rear port, one form on every NetBox: `rear_port: {device: d1, name: rp1}` with
 * `rear_port_position: 2` (default 1). NetBox up to 4.5 has these two fields; from 4.6 on a front
 * port has a list of mappings instead (`rear_ports: [{position, rear_port, rear_port_position}]`),
 * which this rule writes and compares. The same holds for front port templates. A front port
 * mapped to several rear ports or positions (4.6+) is written as that list, its rear ports by
 * natural key: `rear_ports: [{position: 1, rear_port: {device: d1, name: rp1},
 * rear_port_position: 1}, {position: 2, …}]`.
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

/** A mapping as compared: `position:rear port id:rear port position`. */
function mappingKey(m: unknown): string {
  return isObj(m)
    ? `${m.position ?? 1}:${m.rear_port}:${m.rear_port_position ?? 1}`
    : JSON.stringify(m);
}

/** The mappings of `rear_ports` as given: each with a position, a rear port and its position. */
function readMappings(raw: unknown): { position: number; spec: unknown; rear: number }[] | string {
  if (!Array.isArray(raw)) {
    return "rear_ports must be a list of {position, rear_port, rear_port_position}";
  }
  const out = [];
  for (const m of raw) {
    if (!isObj(m) || m.rear_port === undefined || m.rear_port === null) {
      return "each of rear_ports needs a rear_port (and position, rear_port_position: default 1)";
    }
    const position = Number(m.position ?? 1), rear = Number(m.rear_port_position ?? 1);
    if (!Number.isInteger(position) || position < 1 || !Number.isInteger(rear) || rear < 1) {
      return "rear_ports positions must be whole numbers from 1";
    }
    out.push({ position, spec: m.rear_port, rear });
  }
  return out;
}

/** A front port's whole `rear_ports` list (NetBox 4.6+), its rear ports by natural key. */
const mappings = (rearModel: string): CustomFieldHandler => ({
  fetchFields: ["rear_ports"],
  refs: (raw) => {
    const list = readMappings(raw);
    return typeof list === "string" ? [] : list.map((m) => [modelByKey(rearModel), m.spec]);
  },
  apply(s: PlanState, item: Work, field: string) {
    const spec = item.specs.get(field);
    if (spec?.kind !== "custom") return;
    const list = readMappings(spec.raw);
    if (typeof list === "string") {
      item.problems.push({ loc: spec.loc, message: list });
      return;
    }
    if (item.specs.has("rear_port")) {
      item.problems.push({ loc: spec.loc, message: "give rear_port or rear_ports, not both" });
      return;
    }
    const want: { position: number; rear_port: Identity; rear_port_position: number }[] = [];
    for (const m of list) {
      const r = resolve(s, modelByKey(rearModel), m.spec, item);
      if (typeof r === "string" && !r.startsWith("new#")) {
        item.problems.push({ loc: spec.loc, message: r });
        return;
      }
      want.push({ position: m.position, rear_port: r as Identity, rear_port_position: m.rear });
    }
    want.sort((a, b) => a.position - b.position);
    if (item.existing) {
      const cur = Array.isArray(item.existing.rear_ports) ? item.existing.rear_ports : [];
      const a = cur.map(mappingKey).sort().join(), b = want.map(mappingKey).sort().join();
      if (a === b) return;
      item.changes.push({
        field: "rear_ports",
        old: showMappings(cur),
        new: want.map((m) =>
          `${m.position}→${
            typeof m.rear_port === "string" ? "new " : "#"
          }${m.rear_port}:${m.rear_port_position}`
        ).join(", ") || "∅",
      });
    }
    item.body.rear_ports = want.map((m) => {
      const id = m.rear_port;
      if (typeof id === "string") item.deps.add(Number(id.slice(4)));
      const label = typeof id === "string" ? s.items[Number(id.slice(4))]?.label ?? id : String(id);
      return { ...m, rear_port: toBody(id, label) };
    });
  },
});

/** `rear_port_position` is written with `rear_port`. */
const none: CustomFieldHandler = { fetchFields: [], refs: () => [], apply: () => {} };

/** The field rule of `rear_port`/`rear_port_position` of a front port (template) on 4.6+. */
const frontPortRule = (model: string) => ({
  claims: (m: ModelDef, field: string, meta: Record<string, FieldMeta>): boolean =>
    m.key === model && "rear_ports" in meta && !("rear_port" in meta) &&
    (field === "rear_port" || field === "rear_port_position" || field === "rear_ports"),
  read(field: string, raw: unknown, loc: (path: string) => SourceLoc): RuleResult {
    if (field === "rear_ports") {
      const handler = mappings(MODELS_WITH_MAPPINGS[model]);
      return { key: field, spec: { kind: "custom", handler, raw, loc: loc(field) } };
    }
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
 * Every mapping of a front port read from NetBox 4.6+ (`position`, rear port id,
 * `rear_port_position`), by position; undefined on NetBox before 4.6.
 */
export function mappingsOf(
  obj: NetBoxObject,
): { position: number; rear_port: number; rear_port_position: number }[] | undefined {
  if (!Array.isArray(obj.rear_ports)) return undefined;
  return obj.rear_ports.filter(isObj).map((m) => ({
    position: Number(m.position ?? 1),
    rear_port: Number(m.rear_port),
    rear_port_position: Number(m.rear_port_position ?? 1),
  })).sort((a, b) => a.position - b.position);
}

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
        problem: "mapped to several rear ports or positions (written as rear_ports)",
      };
    }
    return { id: m.rear_port, position: Number(m.rear_port_position ?? 1) };
  }
  const rp = obj.rear_port;
  if (!isObj(rp) || typeof rp.id !== "number") return undefined;
  return { id: rp.id, position: Number(obj.rear_port_position ?? 1) };
}
