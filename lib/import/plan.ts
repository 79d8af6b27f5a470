/**
 * The plan of a bulk import: validates every entry against the endpoint's OPTIONS metadata,
 * resolves references (ids, natural keys, attribute mappings, objects created in the same
 * import), matches entries to existing objects by natural key, and computes per entry whether it
 * is created, updated (with a field diff) or left unchanged. Pure apart from the injected
 * {@linkcode ImportBackend}, so it is tested without a server.
 *
 * @module
 */

import { etagOf } from "../client/etag.ts";
import { mapLimit } from "../client/limit.ts";
import type { Filters, NetBoxObject } from "../client/types.ts";
import { InputError } from "../client/errors.ts";
import type { ImportEntry, ImportProblem, ImportSection, SourceLoc } from "./parse.ts";
import {
  CASCADES,
  lookupModel,
  modelByKey,
  type ModelDef,
  MODELS,
  SCOPE_FIELDS,
  suggestModels,
} from "./models.ts";
import { validateDnsName } from "../ipam/dns_name.ts";
import { slugify } from "../ipam/lookup.ts";
import {
  canonicalCidr,
  CIDR_FIELDS,
  coerce,
  type FieldMeta,
  readShape,
  sameValue,
  showValue,
} from "./_values.ts";

export type { FieldMeta } from "./_values.ts";

/** What the planner needs from NetBox: field metadata and listings. */
export interface ImportBackend {
  /** The writable fields of a list endpoint (`actions.POST` of its OPTIONS); undefined if the endpoint does not exist. */
  fields(path: string): Promise<Record<string, FieldMeta> | undefined>;
  /** Every object matching the filters, with only `fields` when given. */
  list(path: string, filters: Filters, fields?: string[]): Promise<NetBoxObject[]>;
  /**
   * How many objects the endpoint holds. Lets a big import into a much bigger table look its
   * objects up by key instead of listing the table; without it, above 1,000 keys the whole
   * table is listed.
   */
  count?(path: string, filters: Filters): Promise<number>;
}

/** Options of {@linkcode buildPlan}. */
export interface PlanOptions {
  /** `upsert` creates and updates; `create-only` leaves existing objects alone; `update-only` refuses new ones. @default {"upsert"} */
  mode?: "upsert" | "create-only" | "update-only";
  /** Natural key overrides per model key (`--match-on dcim.devices=name`). */
  matchOn?: Record<string, string[]>;
  /** Create tags that do not exist instead of reporting them. @default {false} */
  createMissingTags?: boolean;
  /**
   * The tag (slug or name) that marks what this import manages: every object it creates or
   * updates (of models with tags) gets it added to its tags, and the tag is created if missing.
   * With it, deletes (`_state: absent`, `prune`) only ever touch objects that carry it.
   */
  scopeTag?: string;
  /**
   * Also delete the objects that carry `scopeTag` but that no entry of the input matches, across
   * every model of the model table (and the other endpoints of the input), in reverse dependency
   * order. Needs `scopeTag` and the whole input set; skipped (see `pruneSkipped`) when any entry
   * is invalid. @default {false}
   */
  prune?: boolean;
}

/** A reference to an object created earlier in the same import. */
export class NewRef {
  /** @param uid The planned item. @param label Its name, for messages. */
  constructor(readonly uid: number, readonly label: string) {}
  /** Plain text for JSON output. */
  toJSON(): string {
    return `new:${this.label}`;
  }
}

/** One changed field of an update. */
export interface Change {
  /** The field's name. */
  field: string;
  /** Its value in NetBox, as text. */
  old: string;
  /** Its value in the input, as text. */
  new: string;
}

/** What will happen to one entry. */
export interface PlanItem {
  /** The item's number in this plan. */
  uid: number;
  /** The NetBox model the entry is of. */
  model: ModelDef;
  /** The entry as read, with its source positions. */
  entry: ImportEntry;
  /** A readable name (`foxtrot`, `192.168.3.5/24`). */
  label: string;
  /**
   * `create`, `update` (see `changes`), `unchanged`, `delete` (see `reason`), or `invalid` (see
   * `problems`).
   */
  action: "create" | "update" | "unchanged" | "delete" | "invalid";
  /**
   * Delete: why. `absent`: the entry says `_state: absent`; `prune`: the object carries the
   * scope tag and no entry of the input matches it (such an item has no input position:
   * `entry.loc.line` is 0).
   */
  reason?: "absent" | "prune";
  /** Delete: the object's natural key as text, e.g. `name=foxtrot, site=matrix`. */
  key?: string;
  /** Delete: the tag (slug) the object must still carry when it is deleted (`scopeTag`). */
  requireTag?: string;
  /**
   * Delete: objects NetBox would delete along with it (the addresses on a device's interfaces,
   * the children of a region…) that this import does not delete: as planned, the delete will be
   * refused (`blocked`) unless they are gone by then.
   */
  blockers?: { model?: string; name: string; id: number }[];
  /** The existing object's ETag as read (update): the write happens only if it still holds. */
  etag?: string;
  /** The existing object's id (update/unchanged). */
  id?: number;
  /** Create: every field; update: the changed fields. May hold {@linkcode NewRef}s. */
  body: Record<string, unknown>;
  /** Fields written in a second pass (primary IPs), only when they change. */
  deferred: Record<string, unknown>;
  /** Update: each changed field with its old and new value. */
  changes: Change[];
  /** Why the entry is invalid. */
  problems: ImportProblem[];
  /** Items created in this import that `body` needs first. */
  deps: Set<number>;
  /** Items created in this import that `deferred` needs first. */
  deferredDeps: Set<number>;
}

/** The whole plan: items in write order. */
export interface ImportPlan {
  /** Every entry, in write (dependency) order. */
  items: PlanItem[];
  /** Every problem (also attached to the items), in input order. */
  problems: ImportProblem[];
  /** The options the plan was made with (a re-plan uses the same). */
  options?: PlanOptions;
  /** Why `prune` was asked for but nothing is pruned (the input has invalid entries). */
  pruneSkipped?: string;
}

type Identity = number | `new#${number}`;

type FieldSpec =
  | { kind: "value"; value: unknown; meta?: FieldMeta }
  | { kind: "ref"; target: ModelDef; spec: unknown; loc: SourceLoc }
  | {
    kind: "refs";
    target: ModelDef;
    specs: { spec: unknown; loc: SourceLoc }[];
    /** Keep the existing object's items and add these (the scope tag on an entry without tags). */
    add?: boolean;
  }
  | {
    kind: "generic";
    typeField: string;
    idField: string;
    target: ModelDef;
    spec: unknown;
    loc: SourceLoc;
  };

interface Work extends PlanItem {
  state: "present" | "absent";
  specs: Map<string, FieldSpec>;
  match: string[];
  identity?: Identity;
  existing?: NetBoxObject;
  resolved: Map<string, Identity | Identity[] | null>;
}

const LARGE = new Set([
  "dcim.devices",
  "dcim.interfaces",
  "dcim.racks",
  "ipam.vlans",
  "ipam.prefixes",
  "ipam.ip-ranges",
  "ipam.ip-addresses",
  "virtualization.virtual-machines",
  "virtualization.interfaces",
]);
const CHUNK = 100;
const LIST_ALL_ABOVE = 1000;
/**
 * Above LIST_ALL_ABOVE keys, the table is still looked up by key (in chunks of CHUNK, LOOKUPS at
 * a time) when it holds more than LOOKUP_RATIO times as many objects as the import names: 100,000
 * addresses against 1,000,000 fetch 100,000 rows, not the whole table.
 */
const LOOKUP_RATIO = 2;
const LOOKUPS = 4;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Normalised comparable text of a scalar key value. */
function keyScalar(v: unknown): string {
  if (v === null || v === undefined || v === "") return "∅";
  const s = String(v);
  return canonicalCidr(s, false) ?? s;
}

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

class Planner {
  readonly #items: Work[] = [];
  readonly #problems: ImportProblem[] = [];
  readonly #meta = new Map<string, Record<string, FieldMeta> | undefined>();
  readonly #existing = new Map<string, NetBoxObject[]>();
  readonly #byId = new Map<string, Map<number, NetBoxObject>>();
  readonly #byModel = new Map<string, Work[]>();
  readonly #index = new Map<string, Map<string, (Work | NetBoxObject)[]>>();
  readonly #newTags = new Map<string, Work>();
  readonly #existingIndex = new Map<string, Map<string, NetBoxObject[]>>();
  #uid = 0;
  #pruneSkipped?: string;

  constructor(readonly backend: ImportBackend, readonly options: PlanOptions) {}

  async run(sections: ImportSection[]): Promise<ImportPlan> {
    const models = this.#collect(sections);
    await this.#loadMeta(models);
    for (const item of this.#items) this.#structure(item);
    await this.#fetchExisting();
    const order = [...models.values()].sort((a, b) => a.order - b.order);
    if (!order.some((m) => m.key === "extras.tags")) order.unshift(modelByKey("extras.tags"));
    for (const model of order) {
      this.#matchModel(model);
      this.#resolveModel(model);
    }
    for (const item of this.#items) this.#resolveDeferred(item);
    const scopeSlug = this.#scopeSlug();
    if (scopeSlug) this.#checkAbsentScope(scopeSlug);
    this.#checkDeletedRefs(this.#items.filter((i) => i.action === "delete"), "absent");
    this.#checkCycles();
    this.#propagateInvalid();
    if (this.options.prune && scopeSlug) await this.#prune(scopeSlug);
    await this.#previewCascades();
    const items = this.#writeOrder();
    for (const item of items) {
      if (item.problems.length) item.action = "invalid";
    }
    const problems = items.flatMap((i) => i.problems).concat(this.#problems);
    problems.sort((a, b) =>
      a.loc.file === b.loc.file
        ? a.loc.line - b.loc.line || a.loc.column - b.loc.column
        : a.loc.file < b.loc.file
        ? -1
        : 1
    );
    const plan: ImportPlan = { items: items.map(publicItem), problems: dedupe(problems) };
    if (this.#pruneSkipped) plan.pruneSkipped = this.#pruneSkipped;
    return plan;
  }

  // ------------------------------------------------------------------------------------------
  // input

  #collect(sections: ImportSection[]): Map<string, ModelDef> {
    const models = new Map<string, ModelDef>();
    sections.forEach((section, n) => {
      const model = lookupModel(section.key, 1000 + n);
      if (!model) {
        const hint = suggestModels(section.key);
        this.#problems.push({
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
      for (const entry of section.entries) this.#add(m, entry);
    });
    return models;
  }

  #add(model: ModelDef, entry: ImportEntry): Work {
    const item: Work = {
      state: "present",
      uid: this.#uid++,
      model,
      entry,
      label: labelOf(model, entry.data),
      action: "create",
      body: {},
      deferred: {},
      changes: [],
      problems: [],
      deps: new Set(),
      deferredDeps: new Set(),
      specs: new Map(),
      match: [],
      resolved: new Map(),
    };
    this.#items.push(item);
    const list = this.#byModel.get(model.key) ?? [];
    list.push(item);
    this.#byModel.set(model.key, list);
    return item;
  }

  async #loadMeta(models: Map<string, ModelDef>): Promise<void> {
    const all = [...models.values()];
    const metas = await Promise.all(all.map((m) => this.backend.fields(m.path)));
    all.forEach((m, n) => this.#meta.set(m.key, metas[n]));
    for (const m of all) {
      if (metas[all.indexOf(m)] === undefined) {
        const first = this.#byModel.get(m.key)?.[0];
        this.#problems.push({
          loc: first?.entry.loc ?? { file: "-", line: 1, column: 1 },
          message: `unknown endpoint "${m.path}": NetBox has no such list endpoint`,
        });
        for (const item of this.#byModel.get(m.key) ?? []) item.action = "invalid";
      }
    }
  }

  #problem(item: Work, path: string, message: string, at: "key" | "value" = "value"): void {
    const l = item.entry.locs[path];
    const loc = (at === "key" ? l?.key ?? l?.value : l?.value ?? l?.key) ?? item.entry.loc;
    item.problems.push({ loc, message });
  }

  #loc(item: Work, path: string): SourceLoc {
    const l = item.entry.locs[path];
    return l?.value ?? l?.key ?? item.entry.loc;
  }

  /** Turns the entry's fields into typed specs, reporting unknown fields and bad values. */
  #structure(item: Work): void {
    if (item.action === "invalid") return;
    const meta = this.#meta.get(item.model.key) ?? {};
    const model = item.model;
    const known = !model.key.includes("/") && model.order < 1000;
    const state = item.entry.data._state;
    if (state === "absent" || state === "present") item.state = state;
    else if (state !== undefined) {
      this.#problem(
        item,
        "_state",
        `invalid _state ${JSON.stringify(state)} (expected "present" or "absent")`,
      );
    }
    // An absent entry's fields only identify the object: only its key fields are read.
    const keyFields = item.state === "absent" ? new Set(this.#keyFieldsOf(item)) : undefined;
    for (const [field, raw] of Object.entries(item.entry.data)) {
      if (field === "_state") continue;
      if (keyFields && field !== "_match" && !keyFields.has(field)) {
        const special = (model.key === "ipam.ip-addresses" &&
          (field === "interface" || field === "vminterface")) ||
          (model.scoped && (field === "scope" || field in SCOPE_FIELDS));
        if (!special && !(field in meta) && !(field in model.refs) && field !== "tags") {
          this.#problem(item, field, `unknown field "${field}" for ${model.key}`, "key");
        }
        continue;
      }
      if (field === "_match") {
        const list = Array.isArray(raw) ? raw : [raw];
        const bad = list.filter((f) => typeof f !== "string" || !(f in meta || f in model.refs));
        if (bad.length) {
          this.#problem(item, field, `_match names unknown field(s) ${bad.join(", ")}`);
        } else item.match = list as string[];
        continue;
      }
      if (model.key === "ipam.ip-addresses" && (field === "interface" || field === "vminterface")) {
        this.#assignedObject(item, field, raw);
        continue;
      }
      if (model.scoped && (field === "scope" || (field in SCOPE_FIELDS && !(field in meta)))) {
        this.#scope(item, field, raw);
        continue;
      }
      const m = meta[field];
      const target = field === "tags" ? "extras.tags" : model.refs[field];
      if ((!m || m.read_only) && !(target && model.deferred?.includes(field))) {
        const close = Object.keys(meta).filter((k) => !meta[k].read_only && near(k, field));
        this.#problem(
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
        this.#refSpec(item, field, raw, modelByKey(target));
        continue;
      }
      if (field === "custom_fields") {
        if (!isObj(raw)) this.#problem(item, field, "custom_fields must be a mapping");
        else item.specs.set(field, { kind: "value", value: raw, meta: m });
        continue;
      }
      this.#valueSpec(item, field, raw, m, known);
    }
    if (!item.match.length) item.match = this.#keyFieldsOf(item);
    const scope = this.options.scopeTag;
    if (scope && item.state === "present" && meta.tags && !item.problems.length) {
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
  #keyFieldsOf(item: Work): string[] {
    const given = item.entry.data._match;
    if (given !== undefined) {
      return (Array.isArray(given) ? given : [given]).filter((f) => typeof f === "string");
    }
    const key = this.options.matchOn?.[item.model.key] ?? item.model.naturalKey;
    if (key.length) return key;
    return ["slug", "name"].filter((f) => f in item.entry.data).slice(0, 1);
  }

  #valueSpec(item: Work, field: string, raw: unknown, m: FieldMeta, known: boolean): void {
    if (m.type === "field" && !known) {
      item.specs.set(field, { kind: "value", value: raw, meta: m });
      return;
    }
    if (isObj(raw) && m.type !== "json" && m.type !== "field" && m.type !== "nested object") {
      this.#problem(
        item,
        field,
        `${field} must be a ${m.type === "string" ? "string" : "value"}, not a mapping`,
      );
      return;
    }
    const c = coerce(field, m, raw);
    if (!c.ok) return this.#problem(item, field, c.reason);
    const value = c.value;
    if (CIDR_FIELDS[item.model.key]?.includes(field) && value !== null) {
      const cidr = typeof value === "string" ? canonicalCidr(value) : undefined;
      if (!cidr) {
        return this.#problem(
          item,
          field,
          `invalid CIDR "${String(value)}" for ${field} (expected e.g. 192.0.2.1/24)`,
        );
      }
    }
    if (field === "dns_name" && typeof value === "string" && value !== "") {
      const why = validateDnsName(value);
      if (why) return this.#problem(item, field, why);
    }
    item.specs.set(field, { kind: "value", value, meta: m });
  }

  #refSpec(item: Work, field: string, raw: unknown, target: ModelDef): void {
    const many = field === "tags" || field === "tagged_vlans" || field.endsWith("_targets");
    if (many) {
      const list = raw === null ? [] : Array.isArray(raw) ? raw : [raw];
      const specs = list.map((spec, n) => ({ spec, loc: this.#loc(item, `${field}.${n}`) }));
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
      return this.#problem(item, field, `${field} must be an id, a name or a mapping, not a list`);
    }
    item.specs.set(field, { kind: "ref", target, spec: raw, loc: this.#loc(item, field) });
  }

  #assignedObject(item: Work, field: string, raw: unknown): void {
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
        return this.#problem(item, field, `${field} needs "name" and "device" (or "vm")`);
      }
    } else if (field === "vminterface") target = modelByKey("virtualization.interfaces");
    if (raw !== null && !validRef(raw)) {
      return this.#problem(
        item,
        field,
        `${field} must be an id or a mapping like {device: foxtrot, name: eth0}`,
      );
    }
    item.specs.set("assigned_object", {
      kind: "generic",
      typeField: "assigned_object_type",
      idField: "assigned_object_id",
      target,
      spec,
      loc: this.#loc(item, field),
    });
  }

  #scope(item: Work, field: string, raw: unknown): void {
    let kind = field, spec = raw, path = field;
    if (field === "scope") {
      const keys = isObj(raw) ? Object.keys(raw) : [];
      if (keys.length !== 1 || !(keys[0] in SCOPE_FIELDS)) {
        return this.#problem(
          item,
          field,
          `scope must be one of {site: …}, {region: …}, {location: …}, {site_group: …}`,
        );
      }
      kind = keys[0];
      spec = (raw as Record<string, unknown>)[kind];
      path = `scope.${kind}`;
    }
    const target = modelByKey(SCOPE_FIELDS[kind]);
    item.specs.set("scope", {
      kind: "generic",
      typeField: "scope_type",
      idField: "scope_id",
      target,
      spec,
      loc: this.#loc(item, path),
    });
  }

  // ------------------------------------------------------------------------------------------
  // fetching existing objects

  async #fetchExisting(): Promise<void> {
    const wanted = new Map<
      string,
      { model: ModelDef; values: Set<string>; ids: Set<number>; all: boolean; fields: Set<string> }
    >();
    const want = (model: ModelDef) => {
      let w = wanted.get(model.key);
      if (!w) {
        w = {
          model,
          values: new Set(),
          ids: new Set(),
          all: !LARGE.has(model.key),
          // last_updated: the object's ETag, so an update writes only what was planned against.
          fields: new Set(["id", "display", "last_updated", ...model.naturalKey, ...model.refKey]),
        };
        wanted.set(model.key, w);
      }
      return w;
    };
    const addRef = (target: ModelDef, spec: unknown) => {
      const w = want(target);
      if (typeof spec === "number") w.ids.add(spec);
      else if (typeof spec === "string") w.values.add(spec);
      else if (isObj(spec)) {
        for (const k of Object.keys(spec)) w.fields.add(k);
        const v = spec[target.naturalKey[0]];
        if (typeof v === "string" || typeof v === "number") w.values.add(String(v));
        else w.all = true;
        for (const [k, v2] of Object.entries(spec)) {
          const sub = target.refs[k];
          if (sub && v2 !== null && v2 !== undefined) addRef(modelByKey(sub), v2);
        }
      }
    };
    for (const item of this.#items) {
      if (item.action === "invalid" || item.problems.length) continue;
      const w = want(item.model);
      if (item.model.order >= 1000) w.all = true;
      const first = item.match[0];
      const spec = first ? item.specs.get(first) : undefined;
      const v = spec?.kind === "value" ? spec.value : undefined;
      if (typeof v === "string" || typeof v === "number") w.values.add(String(v));
      else if (first) w.all = true;
      for (const [field, spec] of item.specs) {
        if (spec.kind === "generic") {
          w.fields.add(spec.typeField).add(spec.idField);
          if (spec.typeField === "assigned_object_type") w.fields.add("assigned_object");
        } else w.fields.add(field);
        if (spec.kind === "ref" || spec.kind === "generic") {
          if (spec.spec !== null) addRef(spec.target, spec.spec);
        } else if (spec.kind === "refs") {
          for (const s of spec.specs) addRef(spec.target, s.spec);
        }
      }
      for (const f of item.match) w.fields.add(f);
      if (this.options.scopeTag && this.#meta.get(item.model.key)?.tags) w.fields.add("tags");
    }
    if (this.options.scopeTag) want(modelByKey("extras.tags")).values.add(this.options.scopeTag);
    if (wanted.has("ipam.ip-addresses")) {
      want(modelByKey("ipam.ip-addresses")).fields.add("assigned_object");
    }
    const jobs: Promise<void>[] = [];
    for (const w of wanted.values()) jobs.push(this.#fetchModel(w));
    await Promise.all(jobs);
  }

  async #fetchModel(
    w: {
      model: ModelDef;
      values: Set<string>;
      ids: Set<number>;
      all: boolean;
      fields: Set<string>;
    },
  ): Promise<void> {
    const { model } = w;
    const generic = model.order >= 1000;
    const fields = generic ? undefined : [...w.fields];
    const requests: Filters[] = [];
    let listAll = w.all;
    if (!listAll && w.values.size > LIST_ALL_ABOVE) {
      const total = await this.backend.count?.(model.path, {});
      listAll = total === undefined || total <= LOOKUP_RATIO * w.values.size;
    }
    if (listAll) requests.push({});
    else {
      const values = [...w.values];
      const f = model.naturalKey[0];
      for (let i = 0; i < values.length; i += CHUNK) {
        requests.push({ [f]: values.slice(i, i + CHUNK) });
      }
      const ids = [...w.ids];
      for (let i = 0; i < ids.length; i += CHUNK) requests.push({ id: ids.slice(i, i + CHUNK) });
    }
    const pages = await mapLimit(
      requests,
      LOOKUPS,
      (q) => this.backend.list(model.path, q, fields),
    );
    const byId = new Map<number, NetBoxObject>();
    for (const page of pages) for (const o of page) byId.set(o.id, o);
    this.#byId.set(model.key, byId);
    this.#existing.set(model.key, [...byId.values()]);
  }

  // ------------------------------------------------------------------------------------------
  // matching and resolving

  #matchModel(model: ModelDef): void {
    const seen = new Map<string, Work>();
    for (const item of this.#byModel.get(model.key) ?? []) {
      if (item.action === "invalid" || item.problems.length) {
        item.identity = `new#${item.uid}`;
        continue;
      }
      const key = this.#itemKey(item);
      if (key === undefined) {
        item.identity = `new#${item.uid}`;
        continue;
      }
      const prev = seen.get(key);
      if (prev) {
        const l = prev.entry.loc;
        const at = `${l.file}:${l.line}:${l.column}`;
        item.problems.push({
          loc: item.entry.loc,
          message: prev.state === item.state
            ? `duplicate ${model.key} entry: ${describeKey(item)} is already given at ${at}`
            : `${model.key} ${describeKey(item)} is both present and absent (_state: absent) ` +
              `in the input: here and at ${at}`,
        });
        item.identity = `new#${item.uid}`;
        continue;
      }
      seen.set(key, item);
      const hits = this.#existingWithKey(model, item.match, key);
      if (hits.length > 1) {
        item.problems.push({
          loc: item.entry.loc,
          message: `${
            describeKey(item)
          } matches ${hits.length} existing ${model.key} objects (ids ${
            hits.map((h) => h.id).join(", ")
          }); add _match with more fields`,
        });
      }
      item.existing = hits[0];
      item.identity = item.existing ? item.existing.id : `new#${item.uid}`;
      if (item.existing) item.id = item.existing.id;
      const mode = this.options.mode ?? "upsert";
      if (!item.existing && mode === "update-only" && item.state === "present") {
        item.problems.push({
          loc: item.entry.loc,
          message: `no existing ${model.key} matches ${describeKey(item)} (--mode update-only)`,
        });
      }
    }
  }

  /**
   * The existing objects of `model` whose natural key (over `match`) is `key`, in fetch order.
   * Indexed once per model and key fields: a linear scan per item was O(items × existing), which
   * took minutes for 5,000 addresses against 25,000 existing ones.
   */
  #existingWithKey(model: ModelDef, match: string[], key: string): NetBoxObject[] {
    const sig = `${model.key}\u0000${match.join(",")}`;
    let index = this.#existingIndex.get(sig);
    if (!index) {
      index = new Map();
      for (const o of this.#existing.get(model.key) ?? []) {
        const k = this.#objKey(o, match);
        const list = index.get(k);
        if (list) list.push(o);
        else index.set(k, [o]);
      }
      this.#existingIndex.set(sig, index);
    }
    return index.get(key) ?? [];
  }

  /** The natural-key text of an input item (resolving key references), undefined if unresolvable. */
  #itemKey(item: Work): string | undefined {
    const parts: string[] = [];
    for (const f of item.match) {
      const spec = item.specs.get(f);
      if (spec?.kind === "ref" && item.state === "absent" && spec.spec !== null) {
        // An absent entry whose key refers to an object that does not exist (or is only created
        // by this import) cannot match anything: it is absent already.
        const r = this.#resolve(spec.target, spec.spec, item);
        if (typeof r === "string") {
          if (r.startsWith("ambiguous")) item.problems.push({ loc: spec.loc, message: r });
          return undefined;
        }
        item.resolved.set(f, r);
        parts.push(String(r));
      } else if (spec?.kind === "ref") {
        const id = this.#resolveOne(item, f, spec);
        if (id === undefined) return undefined;
        parts.push(String(id ?? "∅"));
      } else if (spec?.kind === "value") parts.push(keyScalar(spec.value));
      else parts.push("∅");
    }
    return JSON.stringify(parts);
  }

  #objKey(obj: NetBoxObject, match: string[]): string {
    return JSON.stringify(match.map((f) => {
      const v = obj[f];
      if (isObj(v) && typeof v.id === "number") return String(v.id);
      return keyScalar(readShape(v));
    }));
  }

  #resolveOne(
    item: Work,
    field: string,
    spec: { target: ModelDef; spec: unknown; loc: SourceLoc },
  ): Identity | null | undefined {
    if (item.resolved.has(field)) return item.resolved.get(field) as Identity | null;
    if (spec.spec === null) {
      item.resolved.set(field, null);
      return null;
    }
    const r = this.#resolve(spec.target, spec.spec, item);
    if (typeof r === "string" && !r.startsWith("new#")) {
      item.problems.push({ loc: spec.loc, message: r });
      return undefined;
    }
    item.resolved.set(field, r as Identity);
    return r as Identity;
  }

  /** Resolves every reference of the model's items and computes bodies and diffs. */
  #resolveModel(model: ModelDef): void {
    for (const item of this.#byModel.get(model.key) ?? []) {
      if (item.action === "invalid") continue;
      if (item.state === "absent") {
        this.#finishAbsent(item);
        continue;
      }
      for (const [field, spec] of item.specs) {
        if (item.model.deferred?.includes(field)) continue;
        if (spec.kind === "ref" || spec.kind === "generic") {
          const r = this.#resolveOne(item, field, spec);
          if (r === undefined) continue;
          this.#apply(item, field, spec, r);
        } else if (spec.kind === "refs") {
          const ids: Identity[] = [];
          let ok = true;
          for (const s of spec.specs) {
            const r = this.#resolve(spec.target, s.spec, item);
            if (typeof r === "string" && !r.startsWith("new#")) {
              item.problems.push({ loc: s.loc, message: r });
              ok = false;
            } else ids.push(r as Identity);
          }
          if (spec.add && item.existing) {
            ids.unshift(...(readShape(item.existing[field]) as Identity[] ?? []));
          }
          if (ok) item.resolved.set(field, unique(ids));
          if (ok) this.#apply(item, field, spec, unique(ids));
        } else this.#apply(item, field, spec, spec.value);
      }
      this.#finish(item);
    }
  }

  #resolveDeferred(item: Work): void {
    if (item.action === "invalid" || item.state === "absent" || !item.model.deferred) return;
    for (const field of item.model.deferred) {
      const spec = item.specs.get(field);
      if (spec?.kind !== "ref") continue;
      let r: Identity | string | null = null;
      if (spec.spec !== null) r = this.#resolve(spec.target, spec.spec, item, item.identity);
      if (typeof r === "string" && !r.startsWith("new#")) {
        item.problems.push({ loc: spec.loc, message: r });
        continue;
      }
      const id = r as Identity | null;
      item.resolved.set(field, id);
      const value = toBody(id, this.#labelOf(id));
      if (item.existing && sameValue(id, readShape(item.existing[field]))) continue;
      item.deferred[field] = value;
      if (value instanceof NewRef) item.deferredDeps.add(value.uid);
      if (item.existing) {
        item.changes.push({
          field,
          old: showValue(item.existing[field]),
          new: showNew(spec.spec, id),
        });
        if (item.action === "unchanged") item.action = "update";
      }
    }
  }

  /** Adds one field's desired value to the body (create) or to the diff (update). */
  #apply(item: Work, field: string, spec: FieldSpec, value: unknown): void {
    const obj = item.existing;
    const body = (v: unknown): unknown => {
      if (Array.isArray(v) && spec.kind === "refs") {
        return v.map((x) => toBody(x as Identity, this.#labelOf(x as Identity)));
      }
      if (spec.kind === "ref" || spec.kind === "generic") {
        return toBody(v as Identity | null, this.#labelOf(v as Identity));
      }
      return v;
    };
    const deps = (v: unknown) => {
      const list = Array.isArray(v) ? v : [v];
      for (const x of list) {
        if (typeof x === "string" && x.startsWith("new#")) item.deps.add(Number(x.slice(4)));
      }
    };
    if (spec.kind === "generic") {
      const b = body(value);
      if (obj) {
        const same = value === null
          ? obj[spec.idField] === null || obj[spec.idField] === undefined
          : obj[spec.typeField] === spec.target.contentType && obj[spec.idField] === value;
        if (same) return;
        item.changes.push({
          field: spec.typeField === "scope_type" ? "scope" : "assigned_object",
          old: obj[spec.idField] == null ? "∅" : `${obj[spec.typeField]}#${obj[spec.idField]}`,
          new: showNew(spec.spec, value as Identity),
        });
      }
      item.body[spec.typeField] = value === null ? null : spec.target.contentType;
      item.body[spec.idField] = b;
      deps(value);
      return;
    }
    if (obj) {
      let same: boolean;
      if (field === "custom_fields" && isObj(value)) {
        const cur = isObj(obj.custom_fields) ? obj.custom_fields : {};
        same = Object.entries(value).every(([k, v]) => sameValue(v, readShape(cur[k]), k));
      } else if (spec.kind === "value" && isObj(value) && isObj(obj[field])) {
        const cur = obj[field] as Record<string, unknown>;
        same = Object.entries(value).every(([k, v]) => sameValue(v, readShape(cur[k]), k));
      } else same = sameValue(value, readShape(obj[field]), field);
      if (same) return;
      item.changes.push({
        field,
        old: showValue(obj[field]),
        new: spec.kind === "value" ? showValue(value) : showNewMany(spec, value),
      });
    }
    item.body[field] = body(value);
    deps(value);
  }

  #finish(item: Work): void {
    if (!item.existing) {
      item.action = "create";
      const meta = this.#meta.get(item.model.key) ?? {};
      const given = new Set([...item.specs.keys(), ...Object.keys(item.entry.data)].flatMap((k) => {
        const s = item.specs.get(k);
        return s?.kind === "generic" ? [s.typeField, s.idField] : [k];
      }));
      for (const [f, m] of Object.entries(meta)) {
        if (m.required && !m.read_only && !given.has(f)) {
          item.problems.push({
            loc: item.entry.loc,
            message: `missing required field "${f}" for a new ${item.model.key}`,
          });
        }
      }
      return;
    }
    if ((this.options.mode ?? "upsert") === "create-only") {
      item.action = "unchanged";
      item.body = {};
      item.changes = [];
      item.deps.clear();
      return;
    }
    item.action = item.changes.length ? "update" : "unchanged";
  }

  #labelOf(id: Identity | null): string {
    if (typeof id === "string") return this.#items[Number(id.slice(4))]?.label ?? id;
    return String(id);
  }

  /**
   * Resolves a reference to one identity, or returns the problem text. `owner` narrows primary-IP
   * candidates to those assigned to that device/VM.
   */
  #resolve(target: ModelDef, spec: unknown, from: Work, owner?: Identity): Identity | string {
    const what = target.key;
    if (typeof spec === "number") {
      if (this.#byId.get(what)?.has(spec)) return spec;
      return `unknown reference: no ${what} with id ${spec}`;
    }
    let cands: (Work | NetBoxObject)[] = [];
    if (typeof spec === "string") {
      for (const f of target.refKey) {
        cands = this.#lookup(target, f, spec);
        if (cands.length) break;
      }
    } else if (isObj(spec)) {
      const entries = Object.entries(spec);
      const scalar = entries.find(([k, v]) =>
        !target.refs[k] && (typeof v === "string" || typeof v === "number")
      );
      const pool = scalar ? this.#lookup(target, scalar[0], String(scalar[1])) : this.#all(target);
      cands = pool.filter((c) => this.#matchesDict(c, target, spec, from));
    } else return `invalid reference to ${what}: ${JSON.stringify(spec)}`;
    let ids = unique(cands.map((c) => this.#identity(c)));
    if (ids.length > 1 && owner !== undefined) {
      const mine = cands.filter((c) => this.#ownerOf(c) === owner);
      if (mine.length) ids = unique(mine.map((c) => this.#identity(c)));
    }
    if (ids.length === 1) return ids[0];
    const shown = typeof spec === "string"
      ? `${target.refKey.join(" or ")} "${spec}"`
      : JSON.stringify(spec);
    if (ids.length > 1) return `ambiguous reference: ${ids.length} ${what} objects match ${shown}`;
    if (what === "extras.tags" && typeof spec === "string") {
      if (this.options.createMissingTags || spec === this.options.scopeTag) {
        return this.#newTag(spec, from);
      }
      return `unknown tag "${spec}" (create it first, or pass --create-missing-tags)`;
    }
    return `unknown reference: no ${what} with ${shown}`;
  }

  #newTag(name: string, from: Work): Identity {
    const slug = slugify(name);
    let tag = this.#newTags.get(slug);
    if (!tag) {
      tag = this.#add(modelByKey("extras.tags"), {
        loc: from.entry.loc,
        data: { name, slug },
        locs: {},
      });
      tag.identity = `new#${tag.uid}`;
      tag.body = { name, slug };
      tag.action = "create";
      this.#newTags.set(slug, tag);
    }
    return tag.identity!;
  }

  #identity(c: Work | NetBoxObject): Identity {
    return "uid" in c && "entry" in c
      ? (c as Work).identity ?? `new#${(c as Work).uid}`
      : (c as NetBoxObject).id;
  }

  /** The device/VM an IP candidate is assigned to (for primary IP disambiguation). */
  #ownerOf(c: Work | NetBoxObject): Identity | undefined {
    if ("entry" in c && "uid" in c) {
      const iface = (c as Work).resolved.get("assigned_object");
      if (iface === null || iface === undefined || Array.isArray(iface)) return undefined;
      const owner = this.#items.find((i) => i.identity === iface);
      const ifaceObj = typeof iface === "number"
        ? this.#byId.get("dcim.interfaces")?.get(iface) ??
          this.#byId.get("virtualization.interfaces")?.get(iface)
        : undefined;
      const dev = owner?.resolved.get("device") ?? owner?.resolved.get("virtual_machine");
      if (dev !== undefined && !Array.isArray(dev) && dev !== null) return dev;
      const d = ifaceObj?.device ?? ifaceObj?.virtual_machine;
      return isObj(d) && typeof d.id === "number" ? d.id : undefined;
    }
    const a = (c as NetBoxObject).assigned_object;
    if (!isObj(a)) return undefined;
    const d = a.device ?? a.virtual_machine;
    return isObj(d) && typeof d.id === "number" ? d.id : undefined;
  }

  #all(target: ModelDef): (Work | NetBoxObject)[] {
    const items = (this.#byModel.get(target.key) ?? []).filter((i) =>
      !i.existing && i.action !== "invalid" && i.state === "present"
    );
    return [...items, ...(this.#existing.get(target.key) ?? [])];
  }

  /** Input items (not matched to existing objects) and existing objects whose `field` equals `value`. */
  #lookup(target: ModelDef, field: string, value: string): (Work | NetBoxObject)[] {
    const ikey = `${target.key} ${field}`;
    let index = this.#index.get(ikey);
    if (!index) {
      index = new Map();
      for (const c of this.#all(target)) {
        const v = "entry" in c && "uid" in c
          ? (c as Work).entry.data[field]
          : readShape((c as NetBoxObject)[field]);
        if (typeof v !== "string" && typeof v !== "number") continue;
        const k = keyScalar(v);
        const list = index.get(k) ?? [];
        list.push(c);
        index.set(k, list);
      }
      this.#index.set(ikey, index);
    }
    return index.get(keyScalar(value)) ?? [];
  }

  #matchesDict(
    c: Work | NetBoxObject,
    target: ModelDef,
    spec: Record<string, unknown>,
    from: Work,
  ): boolean {
    const isItem = "entry" in c && "uid" in c;
    for (const [k, want] of Object.entries(spec)) {
      const sub = target.refs[k];
      if (sub && !Array.isArray(want)) {
        const id = want === null ? null : this.#resolve(modelByKey(sub), want, from);
        if (typeof id === "string" && !id.startsWith("new#")) return false;
        const have = isItem
          ? (c as Work).resolved.get(k) ?? null
          : readShape((c as NetBoxObject)[k]) ?? null;
        if (have !== id) return false;
      } else {
        const have = isItem ? (c as Work).entry.data[k] : readShape((c as NetBoxObject)[k]);
        if (!sameValue(want, have, k)) return false;
      }
    }
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // deletes

  /** An absent entry: delete what it matches, or nothing when nothing matches. */
  #finishAbsent(item: Work): void {
    item.body = {};
    item.changes = [];
    item.deps.clear();
    // create-only leaves every existing object alone, the absent ones too.
    if (!item.existing || (this.options.mode ?? "upsert") === "create-only") {
      item.action = "unchanged";
      return;
    }
    item.action = "delete";
    item.reason = "absent";
    item.key = describeKey(item);
  }

  /** The slug of the scope tag: as NetBox has it, as the input gives it, or as it will be. */
  #scopeSlug(): string | undefined {
    const scope = this.options.scopeTag;
    if (!scope) return undefined;
    const tags = this.#existing.get("extras.tags") ?? [];
    const hit = tags.find((t) => t.slug === scope) ?? tags.find((t) => t.name === scope);
    if (hit && typeof hit.slug === "string") return hit.slug;
    const given = (this.#byModel.get("extras.tags") ?? []).find((i) =>
      i.entry.data.slug === scope || i.entry.data.name === scope
    );
    if (typeof given?.entry.data.slug === "string") return given.entry.data.slug;
    return slugify(scope);
  }

  /** With a scope tag, `_state: absent` deletes only objects that carry it. */
  #checkAbsentScope(slug: string): void {
    for (const item of this.#items) {
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
  #checkDeletedRefs(deletes: Work[], why: "absent" | "prune"): void {
    const gone = new Map<string, Work>();
    for (const d of deletes) if (d.id !== undefined) gone.set(`${d.model.key} ${d.id}`, d);
    if (!gone.size) return;
    for (const item of this.#items) {
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
  async #prune(slug: string): Promise<void> {
    const bad = () =>
      this.#items.filter((i) => i.problems.length || i.action === "invalid").length +
      this.#problems.length;
    if (bad()) {
      this.#pruneSkipped = "the input has invalid entries: prune needs the whole input, valid, " +
        "so nothing is pruned";
      return;
    }
    // A tag NetBox does not have yet is carried by nothing (and NetBox refuses to filter by it).
    if (!(this.#existing.get("extras.tags") ?? []).some((t) => t.slug === slug)) return;
    const models = new Map<string, ModelDef>();
    for (const m of MODELS) if (m.key !== "extras.tags") models.set(m.key, m);
    for (const i of this.#items) {
      if (!models.has(i.model.key) && this.#meta.get(i.model.key)?.tags) {
        models.set(i.model.key, i.model);
      }
    }
    const matched = new Set(
      this.#items.filter((i) => i.existing).map((i) => `${i.model.key} ${i.existing!.id}`),
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
      return [m, await this.backend.list(m.path, { tag: slug }, fields)] as const;
    }));
    const before = this.#items.length;
    const pruned: Work[] = [];
    for (const [m, objects] of found) {
      for (const o of objects) {
        if (matched.has(`${m.key} ${o.id}`) || !hasTag(o, slug)) continue;
        const item = this.#add(m, { loc: { file: "", line: 0, column: 0 }, data: {}, locs: {} });
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
    this.#checkDeletedRefs(pruned, "prune");
    if (bad()) {
      this.#propagateInvalid();
      this.#items.length = before;
      this.#pruneSkipped = "entries of the input refer to objects prune would delete: nothing " +
        "is pruned";
    }
  }

  /** Deletes that would take objects along that the import keeps (see `PlanItem.blockers`). */
  async #previewCascades(): Promise<void> {
    const deletes = this.#items.filter((i) => i.action === "delete" && !i.problems.length);
    const deleting = new Set(deletes.map((i) => `${i.model.key} ${i.id}`));
    const models = [...new Set(deletes.map((i) => i.model.key))].filter((k) => CASCADES[k]);
    await Promise.all(models.map(async (key) => {
      const c = CASCADES[key];
      const group = deletes.filter((i) => i.model.key === key);
      const byId = new Map(group.map((i) => [i.id!, i]));
      for (let n = 0; n < group.length; n += CHUNK) {
        const ids = group.slice(n, n + CHUNK).map((i) => i.id!);
        for (const o of await this.backend.list(c.path, { [c.filter]: ids }, c.fields)) {
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

  // ------------------------------------------------------------------------------------------
  // ordering and invalid propagation

  #checkCycles(): void {
    const state = new Map<number, 1 | 2>();
    const visit = (item: Work, path: Work[]): void => {
      const s = state.get(item.uid);
      if (s === 2) return;
      if (s === 1) {
        const cycle = path.slice(path.indexOf(item));
        const names = [...cycle, item].map((i) => `${i.model.key} ${i.label}`).join(" → ");
        for (const i of cycle) {
          i.problems.push({ loc: i.entry.loc, message: `circular reference: ${names}` });
        }
        return;
      }
      state.set(item.uid, 1);
      for (const d of item.deps) visit(this.#items[d], [...path, item]);
      state.set(item.uid, 2);
    };
    for (const item of this.#items) visit(item, []);
  }

  #propagateInvalid(): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const item of this.#items) {
        if (item.problems.length || item.action === "invalid") continue;
        for (const d of [...item.deps, ...item.deferredDeps]) {
          const dep = this.#items[d];
          if (dep.problems.length || dep.action === "invalid") {
            const l = dep.entry.loc;
            item.problems.push({
              loc: item.entry.loc,
              message:
                `depends on the invalid ${dep.model.key} entry at ${l.file}:${l.line}:${l.column}`,
            });
            changed = true;
            break;
          }
        }
      }
    }
  }

  /** Items sorted so every item comes after the new items it depends on (then model order). */
  #writeOrder(): Work[] {
    const level = new Map<number, number>();
    const depth = (item: Work, guard: Set<number>): number => {
      const known = level.get(item.uid);
      if (known !== undefined) return known;
      if (guard.has(item.uid)) return 0;
      guard.add(item.uid);
      let l = 0;
      for (const d of item.deps) l = Math.max(l, depth(this.#items[d], guard) + 1);
      level.set(item.uid, l);
      return l;
    };
    for (const item of this.#items) depth(item, new Set());
    return [...this.#items].sort((a, b) =>
      level.get(a.uid)! - level.get(b.uid)! || a.model.order - b.model.order || a.uid - b.uid
    );
  }
}

function validRef(v: unknown): boolean {
  return typeof v === "number" || typeof v === "string" || isObj(v);
}

function unique<T>(list: T[]): T[] {
  return [...new Set(list)];
}

function near(a: string, b: string): boolean {
  if (a.includes(b) || b.includes(a)) return Math.abs(a.length - b.length) <= 3;
  let diff = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) diff++;
  return diff <= 2;
}

function toBody(id: Identity | null, label: string): unknown {
  if (typeof id === "string") return new NewRef(Number(id.slice(4)), label);
  return id;
}

function showNew(spec: unknown, id: Identity | null): string {
  const text = typeof spec === "string" ? spec : spec === null ? "∅" : JSON.stringify(spec);
  return typeof id === "string" ? `${text} (new)` : text;
}

function showNewMany(spec: FieldSpec, value: unknown): string {
  if (spec.kind === "refs" && Array.isArray(value)) {
    return `[${spec.specs.map((s, n) => showNew(s.spec, value[n] as Identity)).join(", ")}]`;
  }
  if (spec.kind === "ref") return showNew(spec.spec, value as Identity);
  return showValue(value);
}

function labelOf(model: ModelDef, data: Record<string, unknown>): string {
  for (const f of [...model.refKey, "name", "slug", "address", "prefix", "vid", "model"]) {
    const v = data[f];
    if (typeof v === "string" || typeof v === "number") {
      let owner = data.device ?? data.virtual_machine;
      if (isObj(owner)) owner = owner.name;
      if (typeof owner === "string" && f === "name") return `${owner} ${v}`;
      return String(v);
    }
  }
  return "(unnamed)";
}

/** Whether an object as read (with `tags`) carries the tag with this slug. */
function hasTag(obj: NetBoxObject, slug: string): boolean {
  const tags = Array.isArray(obj.tags) ? obj.tags : [];
  return tags.some((t) => isObj(t) && t.slug === slug);
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
function objectKey(model: ModelDef, obj: NetBoxObject): string {
  const fields = model.naturalKey.length
    ? model.naturalKey
    : ["slug", "name"].filter((f) => f in obj).slice(0, 1);
  return fields.map((f) => `${f}=${keyText(obj[f])}`).join(", ") || `id=${obj.id}`;
}

/** A readable name of an object as read, like the labels of entries (`foxtrot eth0`). */
function objectLabel(model: ModelDef, obj: NetBoxObject): string {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) data[k] = isObj(v) ? v.name ?? v.display ?? v : v;
  const label = labelOf(model, data);
  return label === "(unnamed)" ? String(obj.display ?? `#${obj.id}`) : label;
}

function describeKey(item: Work): string {
  return item.match.map((f) => {
    const v = item.entry.data[f];
    return `${f}=${v === undefined ? "∅" : typeof v === "string" ? v : JSON.stringify(v)}`;
  }).join(", ");
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
