/**
 * Cables, identified by their ends rather than an id: `a: [{device: d1, interface: eth0}]`,
 * `b: [{power_panel: p1, power_feed: f1}]`. The two ends are one natural key, compared as sets
 * and with A and B in either order: swapping them is not a change. An end that does not exist
 * is one problem naming it. The import side is a field rule ({@linkcode cableEnds}); the export
 * side writes the same form ({@linkcode cableEndsOf}).
 *
 * @module
 */

import type { NetBoxObject } from "../client/types.ts";
import { modelByKey, type ModelDef, MODELS } from "./models.ts";
import type { CustomFieldHandler, FieldSpec, Identity, PlanState, Work } from "./_plan_types.ts";
import { isObj, toBody } from "./_plan_state.ts";
import { resolve } from "./_plan_match.ts";
import type { RuleResult } from "./_plan_rules.ts";
import type { SourceLoc } from "./parse.ts";

/** One kind of cable end: the key naming it, its model, content type and parent field. */
export interface EndKind {
  /** The key of the end's mapping that names the object (`interface`, `power_feed`). */
  key: string;
  /** The model (`dcim.interfaces`). */
  model: string;
  /** NetBox's content type (`dcim.interface`). */
  type: string;
  /** The parent key of the mapping (`device`, `power_panel`, `circuit`). */
  parent: string;
  /** The model field the named value is (`name`; `term_side` for circuit terminations). */
  field: string;
}

const device = (key: string, model: string, type: string): EndKind => ({
  key,
  model,
  type,
  parent: "device",
  field: "name",
});

/** The ends a cable can have. Circuit terminations count when the model table has them. */
export const END_KINDS: readonly EndKind[] = [
  device("interface", "dcim.interfaces", "dcim.interface"),
  device("console_port", "dcim.console-ports", "dcim.consoleport"),
  device("console_server_port", "dcim.console-server-ports", "dcim.consoleserverport"),
  device("power_port", "dcim.power-ports", "dcim.powerport"),
  device("power_outlet", "dcim.power-outlets", "dcim.poweroutlet"),
  device("front_port", "dcim.front-ports", "dcim.frontport"),
  device("rear_port", "dcim.rear-ports", "dcim.rearport"),
  {
    key: "power_feed",
    model: "dcim.power-feeds",
    type: "dcim.powerfeed",
    parent: "power_panel",
    field: "name",
  },
  {
    key: "term_side",
    model: "circuits.circuit-terminations",
    type: "circuits.circuittermination",
    parent: "circuit",
    field: "term_side",
  },
].filter((k) => MODELS.some((m) => m.key === k.model));

const EXAMPLE = "{device: d1, interface: eth0}";

/** One end as read: its kind and the reference to its object. */
interface End {
  kind: EndKind;
  target: ModelDef;
  spec: Record<string, unknown>;
  /** The end as given, for messages. */
  shown: string;
}

/**
 * Reads one side (`a` or `b`): a list of end mappings (or one mapping).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { readEnds } from "./_rule_cables.ts";
 * const r = readEnds("a", [{ device: "d1", interface: "eth0" }]);
 * assert(Array.isArray(r) && r[0].target.key === "dcim.interfaces");
 * assert(typeof readEnds("a", [{ device: "d1" }]) === "string");
 * ```
 */
export function readEnds(side: string, raw: unknown): End[] | string {
  const list = Array.isArray(raw) ? raw : [raw];
  if (!list.length) return `${side} must name at least one end, like [${EXAMPLE}]`;
  const out: End[] = [];
  for (const [n, one] of list.entries()) {
    const kinds = isObj(one) ? END_KINDS.filter((k) => k.key in one) : [];
    if (!isObj(one) || kinds.length !== 1) {
      return `${side}[${n}] must be one end like ${EXAMPLE} (one of ${
        END_KINDS.map((k) => k.key).join(", ")
      }, with ${[...new Set(END_KINDS.map((k) => k.parent))].join("/")})`;
    }
    const kind = kinds[0];
    const rest = Object.keys(one).filter((k) => k !== kind.key && k !== kind.parent);
    if (!(kind.parent in one) || rest.length) {
      return `${side}[${n}]: a ${kind.key} end takes exactly ${kind.parent} and ${kind.key}`;
    }
    const value = one[kind.key];
    if (typeof value !== "string" && typeof value !== "number") {
      return `${side}[${n}].${kind.key} must be a name`;
    }
    out.push({
      kind,
      target: modelByKey(kind.model),
      spec: { [kind.parent]: one[kind.parent], [kind.field]: value },
      shown: `${kind.parent} ${show(one[kind.parent])} ${kind.key} ${value}`,
    });
  }
  return out;
}

function show(v: unknown): string {
  if (isObj(v)) {
    const name = v.name ?? v.cid ?? v.slug;
    return typeof name === "string" ? name : JSON.stringify(v);
  }
  return String(v);
}

/**
 * The key of a cable from its two sides, each a list of `type:id`: each side sorted, then the
 * sides sorted, so the order of ends and of A and B does not matter.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { cableKey } from "./_rule_cables.ts";
 * const k = cableKey(["dcim.interface:2", "dcim.interface:1"], ["dcim.interface:9"]);
 * assert(k === cableKey(["dcim.interface:9"], ["dcim.interface:1", "dcim.interface:2"]));
 * ```
 */
export function cableKey(a: string[], b: string[]): string {
  const sides = [[...a].sort(), [...b].sort()].map((s) => s.join(","));
  return sides.sort().join(" | ");
}

/** The `type:id` ends of an existing cable's side (`a_terminations`). */
function objEnds(obj: NetBoxObject, side: "a" | "b"): string[] {
  const list = obj[`${side}_terminations`];
  return (Array.isArray(list) ? list : []).map((t) =>
    isObj(t) ? `${t.object_type}:${t.object_id}` : "?"
  );
}

type Side = { side: "a" | "b"; ends: End[]; loc: SourceLoc };

function sidesOf(item: Work): Side[] {
  const out: Side[] = [];
  for (const side of ["a", "b"] as const) {
    const spec = item.specs.get(side);
    if (spec?.kind !== "custom") continue;
    const ends = readEnds(side, spec.raw);
    if (typeof ends !== "string") out.push({ side, ends, loc: spec.loc });
  }
  return out;
}

/** Each item's resolved ends by side, once per plan item. */
const RESOLVED = new WeakMap<Work, Record<"a" | "b", Identity[]> | null>();

function resolveEnds(s: PlanState, item: Work): Record<"a" | "b", Identity[]> | null {
  if (RESOLVED.has(item)) return RESOLVED.get(item)!;
  const sides = sidesOf(item);
  let out: Record<"a" | "b", Identity[]> | null = { a: [], b: [] };
  if (sides.length < 2) {
    item.problems.push({
      loc: item.entry.loc,
      message: `a cable needs both ends, a and b (like a: [${EXAMPLE}])`,
    });
    out = null;
  }
  for (const { side, ends, loc } of sides) {
    for (const [n, end] of ends.entries()) {
      const r = resolve(s, end.target, end.spec, item);
      if (typeof r === "string" && !r.startsWith("new#")) {
        const why = r.startsWith("ambiguous") ? r : "does not exist";
        item.problems.push({ loc, message: `cable end ${side}[${n}] (${end.shown}) ${why}` });
        out = null;
      } else out?.[side].push(r as Identity);
    }
  }
  RESOLVED.set(item, out);
  return out;
}

function typed(item: Work, side: "a" | "b", ids: Identity[]): string[] {
  const ends = sidesOf(item).find((x) => x.side === side)?.ends ?? [];
  return ids.map((id, n) => `${ends[n].kind.type}:${id}`);
}

const endsHandler: CustomFieldHandler = {
  fetchFields: ["a_terminations", "b_terminations"],
  refs(raw) {
    const ends = readEnds("a", raw);
    return typeof ends === "string" ? [] : ends.map((e) => [e.target, e.spec]);
  },
  key(s, item) {
    const ids = resolveEnds(s, item);
    if (!ids) return undefined;
    return cableKey(typed(item, "a", ids.a), typed(item, "b", ids.b));
  },
  objKey: (obj) => cableKey(objEnds(obj, "a"), objEnds(obj, "b")),
  apply(s, item, field) {
    // The ends are the key: a matched cable has the same ends (either way round).
    if (item.existing || field !== "a") return;
    const ids = resolveEnds(s, item);
    if (!ids) return;
    const labels = new Map(s.items.map((i) => [`new#${i.uid}`, i.label]));
    for (const side of ["a", "b"] as const) {
      const ends = sidesOf(item).find((x) => x.side === side)!.ends;
      item.body[`${side}_terminations`] = ids[side].map((id, n) => {
        if (typeof id === "string") item.deps.add(Number(id.slice(4)));
        return {
          object_type: ends[n].kind.type,
          object_id: toBody(id, labels.get(String(id)) ?? String(id)),
        };
      });
    }
  },
};

/** The field rule: `a:`/`b:` of a cable (also spelled `a_terminations`/`b_terminations`). */
export const cableEnds = {
  claims: (model: ModelDef, field: string): boolean =>
    model.key === "dcim.cables" &&
    ["a", "b", "a_terminations", "b_terminations"].includes(field),
  read(field: string, raw: unknown, loc: (path: string) => SourceLoc): RuleResult {
    const side = field[0] as "a" | "b";
    const ends = readEnds(side, raw);
    if (typeof ends === "string") return { problem: ends };
    const spec: FieldSpec = { kind: "custom", handler: endsHandler, raw, loc: loc(field) };
    return { key: side, spec };
  },
};

/** One side of an exported cable: its end, or its ends. */
export type CableSide = Record<string, unknown> | Record<string, unknown>[];

/** Writes an export's reference to an object, or undefined when it cannot be named. */
export type RefWriter = (model: string, id: number) => unknown;

/**
 * The `a`/`b` sides of an exported cable, each side's ends sorted and the sides in a stable
 * order (the smaller first), so a cable exports the same whichever end NetBox calls A; a side of
 * one end as that end, of several as a list; or the reason it cannot be written.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { cableEndsOf } from "./_rule_cables.ts";
 * const cable = {
 *   id: 1,
 *   url: "",
 *   display: "",
 *   a_terminations: [{ object_type: "dcim.interface", object_id: 7 }],
 *   b_terminations: [{ object_type: "dcim.interface", object_id: 3 }],
 * };
 * const names: Record<number, string> = { 7: "eth1", 3: "eth0" };
 * const r = cableEndsOf(cable, (_m, id) => ({ device: "d1", name: names[id] }));
 * assert(JSON.stringify(r) === JSON.stringify({
 *   a: { device: "d1", interface: "eth0" },
 *   b: { device: "d1", interface: "eth1" },
 * }));
 * ```
 */
export function cableEndsOf(
  obj: NetBoxObject,
  refTo: RefWriter,
): { a: CableSide; b: CableSide } | { problem: string } {
  const sides: Record<string, unknown>[][] = [];
  for (const side of ["a", "b"] as const) {
    const list = obj[`${side}_terminations`];
    const ends: Record<string, unknown>[] = [];
    for (const t of Array.isArray(list) ? list : []) {
      const kind = isObj(t) ? END_KINDS.find((k) => k.type === t.object_type) : undefined;
      if (!kind || !isObj(t) || typeof t.object_id !== "number") {
        return {
          problem: `a cable end of type ${isObj(t) ? t.object_type : "?"} is not importable`,
        };
      }
      const ref = refTo(kind.model, t.object_id);
      if (!isObj(ref)) return { problem: `the cable end ${kind.model} cannot be named` };
      ends.push({ [kind.parent]: ref[kind.parent], [kind.key]: ref[kind.field] });
    }
    ends.sort((x, y) => compare(x, y));
    sides.push(ends);
  }
  sides.sort((x, y) => compare(x, y));
  // A side of one end is written as that end (it fits a CSV row: `a.device.name`, …).
  const one = (side: Record<string, unknown>[]) => side.length === 1 ? side[0] : side;
  return { a: one(sides[0]), b: one(sides[1]) };
}

function compare(x: unknown, y: unknown): number {
  const a = JSON.stringify(x), b = JSON.stringify(y);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The objects an exported cable's ends are (to read them): `[model, id]`. */
export function cableEndRefs(obj: NetBoxObject): { model: string; id: number }[] {
  const out: { model: string; id: number }[] = [];
  for (const side of ["a_terminations", "b_terminations"]) {
    const list = obj[side];
    for (const t of Array.isArray(list) ? list : []) {
      const kind = isObj(t) ? END_KINDS.find((k) => k.type === t.object_type) : undefined;
      if (kind && isObj(t) && typeof t.object_id === "number") {
        out.push({ model: kind.model, id: t.object_id });
      }
    }
  }
  return out;
}
