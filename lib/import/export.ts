/**
 * Exporting NetBox objects as the documents `bulk-import` reads: {@linkcode exportDocuments}
 * reads the chosen models (or a whole site, tenant, VRF or tag with what it references) and
 * turns every object into an import entry — references by natural key, never by id; no ids,
 * URLs, display texts or computed fields; fields at NetBox's defaults left out — and
 * {@linkcode renderExport} writes them as YAML, JSON or CSV with a stable order (sections in
 * dependency order, entries by natural key, fields in a fixed order), so that `git diff` of two
 * exports shows only real changes. Reads only: a read-only token is enough.
 *
 * References are written the way the import resolves them: a slug for models keyed by slug
 * (`site: matrix`, `tags: [proxmox]`), a name for VRFs and clusters, and a mapping of every
 * natural-key field (null included) for models with composite keys:
 * `device: {name: foxtrot, site: matrix}`, `interface: {device: {…}, name: vmbr0}`,
 * `primary_ip4: {address: 192.168.3.5/24, vrf: management}`, `untagged_vlan: {vid: 10, group: null, site: matrix}`.
 *
 * @module
 */

import { csvStringify, yamlStringify } from "../deps.ts";
import { FilterError, InputError, NetBoxHttpError } from "../client/errors.ts";
import type { Filters, NetBoxClient, NetBoxObject } from "../client/types.ts";
import { parseCidr } from "../ipam/ip.ts";
import {
  DEVICE_COMPONENTS,
  hasSince,
  lookupModel,
  modelByKey,
  type ModelDef,
  modelOfContentType,
  MODELS,
  suggestModels,
} from "./models.ts";
import type { ImportDocument } from "./import.ts";
import {
  ASSIGNED_TYPES,
  DEFAULTS,
  EXPORT_FIELDS,
  genericField,
  MODEL_DEFAULTS,
  NOT_EXPORTED,
  OWNED,
  REF_FIELDS,
  sectionName,
} from "./_export_fields.ts";
import { cableEndRefs, cableEndsOf } from "./_rule_cables.ts";
import { mappingsOf, rearPortOf } from "./_rule_front_ports.ts";

/** Which objects to export: the union of everything each field names. */
export interface ExportScope {
  /** Sites by slug: the site, its locations, racks, devices (with interfaces, their IPs, ports,
   * bays, modules, inventory items and MAC addresses), power panels and feeds, cables, clusters
   * (with their VMs), VMs, VLANs, VLAN groups, prefixes and the IPs inside them. */
  sites?: readonly string[];
  /** Tenants by slug: the tenant and every object assigned to it; devices and VMs with their
   * interfaces and the IPs on them. */
  tenants?: readonly string[];
  /** Tags by slug: every object carrying the tag. */
  tags?: readonly string[];
  /** VRFs by name: the VRF, its prefixes, IP ranges and IP addresses. */
  vrfs?: readonly string[];
}

/** Options of {@linkcode exportDocuments}. */
export interface ExportOptions {
  /**
   * The models to export, by any name the import accepts (`dcim.devices`, `devices`,
   * `ip_addresses`). @default every model the import knows
   */
  models?: readonly string[];
  /** Filters sent with the listing of every chosen model (`{ site: "matrix" }`). */
  filters?: Filters;
  /** A whole site, tenant, VRF or tag instead of (or within) the chosen models. */
  scope?: ExportScope;
  /**
   * Also export the objects the exported ones reference (site → region, tenant, tags; device →
   * role, type, manufacturer, platform; IP → VRF, interface; …), recursively, so the documents
   * import into an empty NetBox. @default {true with a scope, false without}
   */
  dependencies?: boolean;
  /** Objects per page. @default {1000} */
  pageSize?: number;
}

/** The entries of one model, ready to render. */
export interface ExportSection {
  /** The model. */
  model: ModelDef;
  /** The section key written (`sites`, `ip_addresses`, `vm_interfaces`). */
  name: string;
  /** The entries, sorted by natural key. */
  entries: Record<string, unknown>[];
}

/** Data that could not be exported (the import has no way to refer to it). */
export interface ExportWarning {
  /** The model key. */
  model: string;
  /** The field. */
  field: string;
  /** How many objects have it set. */
  count: number;
  /** One of them. */
  example: string;
  /** Why it is left out. */
  reason: string;
}

/** What {@linkcode exportDocuments} returns. */
export interface ExportResult {
  /** Non-empty sections in dependency order. */
  sections: ExportSection[];
  /** Every field left out because the import cannot express it, counted per model and field. */
  warnings: ExportWarning[];
}

/** A filter NetBox (or the client's filter guard) refused for one model; exit code 2. */
export class ExportFilterError extends InputError {
  /** The model whose listing refused it. */
  readonly model: string;
  /** What was wrong, from the guard or NetBox. */
  readonly reason: string;
  /** Creates the error. */
  constructor(model: string, reason: string) {
    super(`Cannot export ${model}: ${reason}`);
    this.model = model;
    this.reason = reason;
  }
}

/** A scope object (site, tenant, tag, VRF) that does not exist; exit code 2. */
export class ExportScopeError extends InputError {
  /** Which scope list named it. */
  readonly scope: keyof ExportScope;
  /** The slug or name given. */
  readonly value: string;
  /** Creates the error. */
  constructor(scope: keyof ExportScope, value: string, what: string) {
    super(`Cannot export: no ${what} exists in NetBox`);
    this.scope = scope;
    this.value = value;
  }
}

// ---------------------------------------------------------------------------------------------
// the field table: ./_export_fields.ts

export { EXPORT_FIELDS, sectionName } from "./_export_fields.ts";

// ---------------------------------------------------------------------------------------------
// reading NetBox

type Obj = NetBoxObject;
type Ref = { model: string; id: number; nested?: Record<string, unknown> };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The API fields to request for a model. */
function apiFields(model: ModelDef): string[] {
  const out = new Set(["id"]);
  for (const f of EXPORT_FIELDS[model.key] ?? []) {
    const g = genericField(model.key, f);
    if (g) out.add(g.type).add(g.id).add(f);
    else if (f === "assigned_object") {
      out.add("assigned_object_type").add("assigned_object_id").add("assigned_object");
    } else out.add(f);
  }
  for (const f of Object.keys(NOT_EXPORTED[model.key] ?? {})) out.add(f);
  const rule = EXPORT_RULES[model.key];
  if (rule) {
    for (const f of rule.fields) out.delete(f);
    for (const f of rule.api) out.add(f);
  }
  out.add("owner");
  return [...out];
}

/** Object and multi-object custom fields: name → the model of their objects. */
type ObjectFields = Map<string, string>;

/** The object-like values of an object's custom fields: `[name, value]`. */
function objectValuesOf(obj: Obj): [string, Record<string, unknown>][] {
  const cf = obj.custom_fields;
  if (!isObj(cf)) return [];
  return Object.entries(cf).flatMap(([name, v]) =>
    (Array.isArray(v) ? v : [v]).filter((x): x is Record<string, unknown> =>
      isObj(x) && typeof x.id === "number"
    ).map((x) => [name, x] as [string, Record<string, unknown>])
  );
}

/** The references of one object's exported fields. */
function refsOf(model: ModelDef, obj: Obj, objectFields: ObjectFields): Ref[] {
  const out: Ref[] = [];
  const add = (target: string, v: unknown) => {
    if (isObj(v) && typeof v.id === "number") out.push({ model: target, id: v.id, nested: v });
  };
  for (const field of EXPORT_FIELDS[model.key] ?? []) {
    const v = obj[field];
    const g = genericField(model.key, field);
    if (g) {
      const t = g.types[String(obj[g.type])];
      const id = obj[g.id];
      if (t && typeof id === "number") {
        out.push({ model: t.model, id, nested: isObj(v) ? v : undefined });
      }
      continue;
    }
    if (field === "assigned_object") {
      const t = ASSIGNED_TYPES[String(obj.assigned_object_type)];
      if (t && typeof obj.assigned_object_id === "number") {
        out.push({ model: t.model, id: obj.assigned_object_id });
      }
      continue;
    }
    const target = field === "tags" ? "extras.tags" : model.refs[field];
    if (!target) continue;
    if (Array.isArray(v)) { for (const x of v) add(target, x); }
    else add(target, v);
  }
  out.push(...EXPORT_RULES[model.key]?.refs(obj) ?? []);
  for (const [name, v] of objectValuesOf(obj)) {
    const target = objectFields.get(name);
    if (target) out.push({ model: target, id: v.id as number, nested: v });
  }
  return out;
}

/**
 * The objects a reference to `obj` needs to be written: the composite-key objects its own key
 * names (an interface needs its device, a circuit termination its circuit).
 */
function keyRefsOf(model: ModelDef, obj: Obj): Ref[] {
  const out: Ref[] = [];
  for (const f of REF_FIELDS[model.key] ?? []) {
    const target = model.refs[f], v = obj[f];
    if (target && target in REF_FIELDS && isObj(v) && typeof v.id === "number") {
      out.push({ model: target, id: v.id });
    }
  }
  return out;
}

/** What a reference to an object of `model` can be written from: the nested object alone? */
function nestedIsEnough(model: string): boolean {
  return !(model in REF_FIELDS);
}

class Store {
  readonly objects = new Map<string, Map<number, Obj>>();
  readonly included = new Map<string, Set<number>>();
  get(model: string, id: number): Obj | undefined {
    return this.objects.get(model)?.get(id);
  }
  put(model: string, obj: Obj, include: boolean): void {
    let m = this.objects.get(model);
    if (!m) this.objects.set(model, m = new Map());
    m.set(obj.id, obj);
    if (include) this.include(model, obj.id);
  }
  include(model: string, id: number): void {
    let s = this.included.get(model);
    if (!s) this.included.set(model, s = new Set());
    s.add(id);
  }
  isIncluded(model: string, id: number): boolean {
    return this.included.get(model)?.has(id) ?? false;
  }
}

const ID_CHUNK = 100;

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Resolves model names to the known models; throws InputError naming the unknown one. */
export function resolveExportModels(names: readonly string[]): ModelDef[] {
  const out = new Map<string, ModelDef>();
  for (const name of names) {
    const m = lookupModel(name);
    if (!m || !(m.key in EXPORT_FIELDS)) {
      const hint = suggestModels(name);
      throw new InputError(
        `Cannot export: unknown model "${name}"${
          hint.length ? ` (did you mean ${hint[0]}?)` : ""
        }; expected one of ${MODELS.map(sectionName).join(", ")}`,
      );
    }
    out.set(m.key, m);
  }
  return [...out.values()].sort((a, b) => a.order - b.order);
}

/**
 * Reads the chosen objects from NetBox and turns them into import entries.
 *
 * @param client the client (a read-only token is enough)
 * @param options models, filters, scope, dependencies
 * @returns the sections (non-empty, in dependency order) and warnings about data the import
 *   cannot express
 * @throws {InputError} for an unknown model, or one the NetBox is too old for (exit code 2)
 * @throws {ExportScopeError} for a scope object that does not exist (exit code 2)
 * @throws {ExportFilterError} when NetBox or the filter guard refuses a filter (exit code 2)
 *
 * @example Export one site with everything it needs, as YAML
 * ```ts ignore
 * import { clientFromEnv, exportDocuments, renderExport } from "../../mod.ts";
 * const client = clientFromEnv();
 * const result = await exportDocuments(client, { scope: { sites: ["matrix"] } });
 * const [doc] = renderExport(result, "yaml");
 * await Deno.writeTextFile("matrix.yaml", doc.text);
 * ```
 */
export async function exportDocuments(
  client: NetBoxClient,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const scope = options.scope ?? {};
  const scoped = ["sites", "tenants", "tags", "vrfs"].some((k) =>
    (scope[k as keyof ExportScope]?.length ?? 0) > 0
  );
  // Models of a newer NetBox (`since`) are not asked for; named explicitly, they are refused.
  const status = await client.status();
  const models = options.models?.length
    ? resolveExportModels(options.models)
    : MODELS.filter((m) => m.key in EXPORT_FIELDS && hasSince(m.since, status));
  for (const m of models) {
    if (!hasSince(m.since, status)) {
      throw new InputError(
        `Cannot export ${m.key}: it needs NetBox ≥ ${m.since} (this server runs ${status.version})`,
      );
    }
  }
  const wanted = new Set(models.map((m) => m.key));
  const deps = options.dependencies ?? scoped;
  const pageSize = options.pageSize ?? 1000;
  const userFilters = options.filters ?? {};
  const store = new Store();

  const list = async (model: ModelDef, filters: Filters, user: boolean): Promise<Obj[]> => {
    const all = { ...filters, ...(user ? userFilters : {}) };
    try {
      return await client.endpoint(model.path).all(all, { fields: apiFields(model), pageSize });
    } catch (err) {
      if (user && err instanceof FilterError) throw new ExportFilterError(model.key, err.message);
      if (user && err instanceof NetBoxHttpError && err.status === 400) {
        const said = Object.entries(err.messages ?? {}).map(([k, v]) =>
          `${k}: ${Array.isArray(v) ? v.join(" ") : String(v)}`
        ).join("; ");
        throw new ExportFilterError(
          model.key,
          `NetBox refused the filters (${said || err.message})`,
        );
      }
      throw err;
    }
  };
  const byIds = async (model: ModelDef, key: "id" | string, ids: (number | string)[]) => {
    const pages = await Promise.all(
      chunks(ids, ID_CHUNK).map((c) => list(model, { [key]: c }, false)),
    );
    return pages.flat();
  };

  // 1. The objects asked for.
  if (!scoped) {
    await Promise.all(models.map(async (m) => {
      for (const o of await list(m, {}, true)) store.put(m.key, o, true);
    }));
  } else {
    await collectScope(client, scope, models, wanted, store, list, byIds);
    // Untagged objects owned by chosen ones (an FHRP group's assignments) come along.
    await Promise.all(
      Object.entries(OWNED).map(async ([parent, { model, filter }]) => {
        const ids = [...(store.included.get(parent) ?? [])];
        if (!wanted.has(model) || !ids.length) return;
        for (const o of await byIds(modelByKey(model), filter, ids)) store.put(model, o, true);
      }),
    );
  }

  // 2. What they reference: exported too (dependencies), or only read to write the reference.
  // Custom field values name their definitions: with dependencies, those are exported too.
  const cfSeen = new Set<string>();
  const objectFields: ObjectFields = new Map();
  const objectFieldsSeen = new Set<string>();
  for (;;) {
    await objectFieldsOf(client, store, objectFields, objectFieldsSeen);
    const missing = new Map<string, Set<number>>();
    const need = (r: Ref, include: boolean) => {
      if (store.get(r.model, r.id)) {
        if (include && !store.isIncluded(r.model, r.id)) {
          store.include(r.model, r.id);
          changed = true;
        }
        return;
      }
      if (!include && nestedIsEnough(r.model) && r.nested) return;
      let s = missing.get(r.model);
      if (!s) missing.set(r.model, s = new Set());
      s.add(r.id);
    };
    let changed = false;
    for (const [key, ids] of [...store.objects]) {
      const model = modelByKey(key);
      for (const [id, obj] of ids) {
        const inc = store.isIncluded(key, id);
        if (inc) { for (const r of refsOf(model, obj, objectFields)) need(r, deps); }
        for (const r of keyRefsOf(model, obj)) need(r, deps && inc);
      }
    }
    const cfNames = deps ? customFieldNames(store).filter((n) => !cfSeen.has(n)) : [];
    if (!missing.size && !changed && !cfNames.length) break;
    for (const n of cfNames) cfSeen.add(n);
    if (cfNames.length) {
      const cf = modelByKey("extras.custom-fields");
      for (const o of await byIds(cf, "name", cfNames)) {
        store.put(cf.key, o, true);
      }
    }
    await Promise.all([...missing].map(async ([key, ids]) => {
      const model = modelByKey(key);
      for (const o of await byIds(model, "id", [...ids])) store.put(key, o, deps);
    }));
  }

  // 2b. With a scope and dependencies: the component templates of the device and module types.
  if (scoped && deps) {
    const types = (key: string) => [...(store.included.get(key) ?? [])];
    await Promise.all(
      MODELS.filter((m) => m.key.startsWith("dcim.") && m.key.endsWith("-templates")).map(
        async (m) => {
          if (!wanted.has(m.key)) return;
          const found = [
            ...(await byIds(m, "device_type_id", types("dcim.device-types"))),
            ...(m.refs.module_type
              ? await byIds(m, "module_type_id", types("dcim.module-types"))
              : []),
          ];
          for (const o of found) store.put(m.key, o, true);
        },
      ),
    );
  }

  // 3. Entries.
  const warnings = new Warnings();
  const sections: ExportSection[] = [];
  for (const model of MODELS) {
    const ids = store.included.get(model.key);
    if (!ids?.size) continue;
    if (!deps && !wanted.has(model.key)) continue;
    const entries: Record<string, unknown>[] = [];
    for (const id of ids) {
      const obj = store.get(model.key, id)!;
      const entry = toEntry(model, obj, store, warnings, objectFields);
      if (entry) entries.push(entry);
    }
    sortEntries(model, entries);
    sections.push({ model, name: sectionName(model), entries });
  }
  return { sections, warnings: warnings.list() };
}

/**
 * Adds to `out` the object and multi-object custom fields the objects read have values of, with
 * the model of their objects (from `related_object_type`); one listing for the names not `seen`.
 */
async function objectFieldsOf(
  client: NetBoxClient,
  store: Store,
  out: ObjectFields,
  seen: Set<string>,
): Promise<void> {
  const names = new Set<string>();
  for (const objs of store.objects.values()) {
    for (const o of objs.values()) {
      for (const [name] of objectValuesOf(o)) if (!seen.has(name)) names.add(name);
    }
  }
  if (!names.size) return;
  for (const n of names) seen.add(n);
  const defs = await client.endpoint("extras/custom-fields/").all(
    { name: [...names].sort() },
    { fields: ["id", "name", "related_object_type"] },
  );
  for (const d of defs) {
    const ct = String(d.related_object_type ?? "");
    const m = modelOfContentType(ct);
    if (m && m.key in EXPORT_FIELDS) out.set(String(d.name), m.key);
  }
}

/** The names of the custom fields the included objects have a value for. */
function customFieldNames(store: Store): string[] {
  const names = new Set<string>();
  for (const [key, ids] of store.included) {
    for (const id of ids) {
      const cf = store.get(key, id)?.custom_fields;
      if (!isObj(cf)) continue;
      for (const [name, v] of Object.entries(cf)) if (!isEmpty(v)) names.add(name);
    }
  }
  return [...names].sort();
}

type Lister = (model: ModelDef, filters: Filters, user: boolean) => Promise<Obj[]>;
type IdLister = (model: ModelDef, key: string, ids: (number | string)[]) => Promise<Obj[]>;

/** Lists the objects of a scope (and their children) into the store. */
async function collectScope(
  client: NetBoxClient,
  scope: ExportScope,
  models: ModelDef[],
  wanted: Set<string>,
  store: Store,
  list: Lister,
  byIds: IdLister,
): Promise<void> {
  const m = (key: string) => modelByKey(key);
  const take = (key: string, objs: Obj[]) => {
    for (const o of objs) store.put(key, o, wanted.has(key));
  };
  const has = (key: string) => wanted.has(key);
  const must = async (kind: keyof ExportScope, path: string, filters: Filters, what: string) => {
    const hit = await client.endpoint(path).all(filters, { fields: ["id", "slug", "name"] });
    if (!hit.length) throw new ExportScopeError(kind, String(Object.values(filters)[0]), what);
    return hit;
  };
  // Every scope object is checked before the first listing starts.
  const listings: [string, Filters][] = [];
  const run = (key: string, filters: Filters) => {
    if (has(key)) listings.push([key, filters]);
  };
  for (const slug of scope.sites ?? []) {
    const [site] = await must("sites", "dcim/sites/", { slug }, `site with slug "${slug}"`);
    run("dcim.sites", { id: site.id });
    for (
      const key of [
        "dcim.locations",
        "dcim.racks",
        "dcim.devices",
        "dcim.interfaces",
        "virtualization.clusters",
        "virtualization.virtual-machines",
        "ipam.vlans",
        "ipam.prefixes",
        "dcim.power-panels",
        "dcim.power-feeds",
        "dcim.cables",
      ]
    ) run(key, { site_id: site.id });
    run("ipam.vlan-groups", { site: site.id }); // its `site` filter takes the id
  }
  for (const slug of scope.tenants ?? []) {
    const [tenant] = await must(
      "tenants",
      "tenancy/tenants/",
      { slug },
      `tenant with slug "${slug}"`,
    );
    run("tenancy.tenants", { id: tenant.id });
    for (const model of models) {
      if (model.refs.tenant) run(model.key, { tenant_id: tenant.id });
    }
  }
  for (const slug of scope.tags ?? []) {
    const [tag] = await must("tags", "extras/tags/", { slug }, `tag with slug "${slug}"`);
    run("extras.tags", { id: tag.id });
    for (const model of models) {
      // Models without tags (custom fields, assignments) have no tag filter.
      if (model.key !== "extras.tags" && EXPORT_FIELDS[model.key]?.includes("tags")) {
        run(model.key, { tag_id: tag.id });
      }
    }
  }
  for (const name of scope.vrfs ?? []) {
    const [vrf] = await must("vrfs", "ipam/vrfs/", { name }, `VRF named "${name}"`);
    run("ipam.vrfs", { id: vrf.id });
    for (const key of ["ipam.prefixes", "ipam.ip-ranges", "ipam.ip-addresses"]) {
      run(key, { vrf_id: vrf.id });
    }
  }
  await Promise.all(
    listings.map(async ([key, filters]) => take(key, await list(m(key), filters, true))),
  );

  // Children: the VMs of a site's clusters, the interfaces of devices and VMs, their IPs, and
  // the IPs inside a site's prefixes.
  const ids = (key: string) => [...(store.included.get(key) ?? [])];
  const children = async (key: string, filterKey: string, parents: number[]) => {
    if (!has(key) || !parents.length) return;
    take(key, await byIds(m(key), filterKey, parents));
  };
  if (scope.sites?.length) {
    await children("virtualization.virtual-machines", "cluster_id", ids("virtualization.clusters"));
  }
  if (scope.sites?.length || scope.tenants?.length) {
    const devices = ids("dcim.devices"), vms = ids("virtualization.virtual-machines");
    await Promise.all([
      children("dcim.interfaces", "device_id", devices),
      ...DEVICE_PARTS.map((key) => children(key, "device_id", devices)),
      children("virtualization.interfaces", "virtual_machine_id", vms),
      children("ipam.ip-addresses", "device_id", devices),
      children("ipam.ip-addresses", "virtual_machine_id", vms),
    ]);
  }
  if (scope.sites?.length && has("ipam.ip-addresses")) {
    const site = new Set(ids("dcim.sites"));
    const prefixes = [...(store.objects.get("ipam.prefixes")?.values() ?? [])].filter((p) =>
      p.scope_type === "dcim.site" && site.has(p.scope_id as number)
    );
    await Promise.all(prefixes.map(async (p) => {
      const vrf = isObj(p.vrf) ? p.vrf.id : null;
      take(
        "ipam.ip-addresses",
        await list(
          m("ipam.ip-addresses"),
          { parent: String(p.prefix), vrf_id: vrf as number },
          false,
        ),
      );
    }));
  }
}

// ---------------------------------------------------------------------------------------------
// entries

/** The parts of a device a site or tenant scope exports with it. */
const DEVICE_PARTS = [...DEVICE_COMPONENTS, "dcim.mac-addresses"];

/** Fields a rule module writes: a cable's ends, a front port's rear port (any NetBox version). */
interface ExportRule {
  /** The export fields it writes. */
  fields: string[];
  /** The API fields it reads. */
  api: string[];
  /** The objects it refers to (read so they can be named). */
  refs(obj: Obj): Ref[];
  /** The fields' values, or undefined when the object cannot be exported (warned). */
  write(
    obj: Obj,
    refTo: (model: string, id: number) => unknown,
    warn: (field: string, why: string) => void,
  ): Record<string, unknown> | undefined;
}

function frontPortRule(rearModel: string): ExportRule {
  return {
    fields: ["rear_port", "rear_port_position", "rear_ports"],
    api: ["rear_port", "rear_port_position", "rear_ports"],
    refs(obj) {
      const rp = rearPortOf(obj);
      if (rp && "problem" in rp) {
        return (mappingsOf(obj) ?? []).map((m) => ({ model: rearModel, id: m.rear_port }));
      }
      return rp ? [{ model: rearModel, id: rp.id }] : [];
    },
    write(obj, refTo, warn) {
      const rp = rearPortOf(obj);
      if (!rp) return {};
      if ("problem" in rp) {
        // Several rear ports or positions (NetBox 4.6+): the whole list, by position.
        const list = [];
        for (const m of mappingsOf(obj) ?? []) {
          const ref = refTo(rearModel, m.rear_port);
          if (ref === undefined) {
            warn("rear_ports", `the referenced ${rearModel} cannot be named`);
            return {};
          }
          list.push({ ...m, rear_port: ref });
        }
        return { rear_ports: list };
      }
      const ref = refTo(rearModel, rp.id);
      if (ref === undefined) {
        warn("rear_port", `the referenced ${rearModel} cannot be named`);
        return {};
      }
      return { rear_port: ref, ...(rp.position !== 1 ? { rear_port_position: rp.position } : {}) };
    },
  };
}

/**
 * A service's (or template's) ports on NetBox 4.7+: a multi-protocol service has no `protocol`
 * and `ports`, only `port_mappings` (`["tcp/80", "udp/53"]`), written then (sorted).
 */
const portMappings: ExportRule = {
  fields: ["port_mappings"],
  api: ["port_mappings"],
  refs: () => [],
  write(obj) {
    const list = obj.port_mappings;
    if (!Array.isArray(list) || !list.length || (obj.protocol ?? null) !== null) return {};
    return { port_mappings: list.map(String).sort(compareText) };
  },
};

const EXPORT_RULES: Record<string, ExportRule> = {
  "ipam.services": portMappings,
  "ipam.service-templates": portMappings,
  "dcim.cables": {
    fields: ["a", "b"],
    api: ["a_terminations", "b_terminations"],
    refs: (obj) => cableEndRefs(obj),
    write(obj, refTo, warn) {
      const ends = cableEndsOf(obj, refTo);
      if ("problem" in ends) {
        warn("a_terminations", ends.problem);
        return undefined;
      }
      return ends;
    },
  },
  "dcim.front-ports": frontPortRule("dcim.rear-ports"),
  "dcim.front-port-templates": frontPortRule("dcim.rear-port-templates"),
};

class Warnings {
  readonly #by = new Map<string, ExportWarning>();
  add(model: string, field: string, label: string, reason: string): void {
    const k = `${model}\u0000${field}`;
    const w = this.#by.get(k);
    if (w) w.count++;
    else this.#by.set(k, { model, field, count: 1, example: label, reason });
  }
  list(): ExportWarning[] {
    return [...this.#by.values()].sort((a, b) =>
      modelByKey(a.model).order - modelByKey(b.model).order || (a.field < b.field ? -1 : 1)
    );
  }
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObj(v)) return Object.keys(v).length === 0;
  return false;
}

/** Choice objects to their value; JSON objects with their keys sorted. */
function plainValue(v: unknown): unknown {
  if (isObj(v)) {
    if ("value" in v && "label" in v) return v.value;
    return sortDeep(v);
  }
  if (Array.isArray(v)) return v.map(sortDeep);
  return v;
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (isObj(v)) {
    return Object.fromEntries(
      Object.keys(v).sort().map((k) => [k, sortDeep(v[k])]),
    );
  }
  return v;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function labelOfObj(model: ModelDef, obj: Obj): string {
  for (const f of ["name", "slug", "address", "prefix", "start_address", "model", "vid"]) {
    const v = obj[f];
    if (typeof v === "string" || typeof v === "number") {
      const owner = obj.device ?? obj.virtual_machine;
      if (isObj(owner) && typeof owner.name === "string" && f === "name") {
        return `${owner.name} ${v}`;
      }
      return String(v);
    }
  }
  return `${model.key} #${obj.id}`;
}

/**
 * The natural-key reference to an object, as the import resolves it; undefined when it cannot
 * be written (an unnamed device, an object the token may not read).
 */
function refTo(
  model: string,
  id: number,
  nested: Record<string, unknown> | undefined,
  store: Store,
): unknown {
  const def = modelByKey(model);
  const obj = store.get(model, id) ?? nested;
  if (!obj) return undefined;
  const fields = REF_FIELDS[model];
  if (!fields) {
    const key = def.naturalKey[0] ?? "name";
    const v = obj[key];
    return typeof v === "string" && v !== "" ? v : undefined;
  }
  if (!store.get(model, id)) return undefined;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = obj[f];
    const target = def.refs[f];
    if (target) {
      if (v === null || v === undefined) out[f] = null;
      else if (isObj(v) && typeof v.id === "number") {
        const r = refTo(target, v.id, v, store);
        if (r === undefined) return undefined;
        out[f] = r;
      } else return undefined;
    } else {
      if (v === null || v === undefined || v === "") return undefined;
      out[f] = plainValue(v);
    }
  }
  return out;
}

function toEntry(
  model: ModelDef,
  obj: Obj,
  store: Store,
  warnings: Warnings,
  objectFields: ObjectFields,
): Record<string, unknown> | undefined {
  const label = labelOfObj(model, obj);
  const rule = EXPORT_RULES[model.key];
  const ruled = rule?.write(
    obj,
    (m, id) => refTo(m, id, undefined, store),
    (field, why) => warnings.add(model.key, field, label, why),
  );
  if (rule && !ruled) return undefined;
  for (const f of model.naturalKey) {
    if (model.refs[f] || rule?.fields.includes(f)) continue;
    if (obj[f] === null || obj[f] === undefined || obj[f] === "") {
      warnings.add(model.key, f, label, `objects without ${f} cannot be matched on import`);
      return undefined;
    }
  }
  const entry: Record<string, unknown> = {};
  const defaults = { ...DEFAULTS, ...MODEL_DEFAULTS[model.key] };
  const ref = (field: string, target: string, v: unknown): unknown => {
    if (!isObj(v) || typeof v.id !== "number") return undefined;
    const r = refTo(target, v.id, v, store);
    if (r === undefined) {
      warnings.add(model.key, field, label, `the referenced ${target} cannot be named`);
    }
    return r;
  };
  for (const field of EXPORT_FIELDS[model.key]) {
    if (rule?.fields.includes(field)) {
      if (ruled?.[field] !== undefined) entry[field] = ruled[field];
      continue;
    }
    const v = obj[field];
    const g = genericField(model.key, field);
    if (g) {
      const type = obj[g.type], id = obj[g.id];
      if (type === null || type === undefined) continue;
      const t = g.types[String(type)];
      if (!t || typeof id !== "number") {
        warnings.add(model.key, field, label, `${field} type ${type} is not importable`);
        continue;
      }
      const r = refTo(t.model, id, isObj(v) ? v : undefined, store);
      if (r === undefined) {
        warnings.add(model.key, field, label, `the referenced ${t.model} cannot be named`);
      } else entry[field] = g.flat ? r : { [t.kind]: r };
      continue;
    }
    if (field === "assigned_object") {
      if (obj.assigned_object_type === null || obj.assigned_object_type === undefined) continue;
      const t = ASSIGNED_TYPES[String(obj.assigned_object_type)];
      if (!t || typeof obj.assigned_object_id !== "number") {
        warnings.add(
          model.key,
          "assigned_object",
          label,
          `assignment to ${obj.assigned_object_type} is not importable`,
        );
        continue;
      }
      const r = refTo(t.model, obj.assigned_object_id, undefined, store);
      if (r === undefined) {
        warnings.add(model.key, t.kind, label, `the assigned ${t.model} cannot be named`);
      } else entry[t.kind] = r;
      continue;
    }
    if (v === undefined) continue;
    if (field === "tags") {
      // Config contexts list their tags by slug.
      const slugs = (Array.isArray(v) ? v : [])
        .map((t) => typeof t === "string" ? t : isObj(t) ? t.slug : undefined)
        .filter((s): s is string => typeof s === "string").sort(compareText);
      if (slugs.length) entry.tags = slugs;
      continue;
    }
    if (field === "custom_fields") {
      const cf = customFields(v, (name, x) => {
        const target = objectFields.get(name);
        const r = target ? refTo(target, x.id as number, x, store) : undefined;
        if (r === undefined) {
          warnings.add(
            model.key,
            `custom_fields.${name}`,
            label,
            target
              ? `the referenced ${target} cannot be named`
              : "its objects' model has no natural key here; not exported",
          );
        }
        return r;
      });
      if (cf) entry.custom_fields = cf;
      continue;
    }
    const target = model.refs[field];
    if (target) {
      if (Array.isArray(v)) {
        const refs = v.map((x) => ref(field, target, x)).filter((x) => x !== undefined);
        refs.sort((a, b) => compareValues(a, b));
        if (refs.length) entry[field] = refs;
      } else if (v !== null) {
        const r = ref(field, target, v);
        if (r !== undefined) entry[field] = r;
      }
      continue;
    }
    const value = plainValue(v);
    if (isEmpty(value)) continue;
    if (field in defaults && sameJson(value, defaults[field])) continue;
    if (field === "object_types" && Array.isArray(value)) {
      entry[field] = [...value].sort(compareText);
      continue;
    }
    entry[field] = value;
  }
  for (const f of model.naturalKey) {
    if (model.refs[f] && !isEmpty(obj[f]) && entry[f] === undefined) {
      warnings.add(model.key, f, label, `objects whose ${f} cannot be named are not exported`);
      return undefined;
    }
  }
  for (const [field, what] of Object.entries(NOT_EXPORTED[model.key] ?? {})) {
    if (!isEmpty(obj[field])) {
      warnings.add(model.key, field, label, `the import has no natural key for ${what}`);
    }
  }
  if (!isEmpty(obj.owner)) {
    warnings.add(model.key, "owner", label, "the import has no natural key for owners");
  }
  return entry;
}

/** Custom field values as written; object values by `ref` (undefined: the field is left out). */
function customFields(
  v: unknown,
  ref: (name: string, x: Record<string, unknown>) => unknown,
): Record<string, unknown> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(v).sort()) {
    const x = v[name];
    if (x === null || x === undefined || x === "") continue;
    const objectLike = (y: unknown): y is Record<string, unknown> =>
      isObj(y) && typeof y.id === "number";
    if (objectLike(x)) {
      const r = ref(name, x);
      if (r !== undefined) out[name] = r;
      continue;
    }
    if (Array.isArray(x) && x.some(objectLike)) {
      const refs = x.map((y) => objectLike(y) ? ref(name, y) : undefined);
      if (refs.every((r) => r !== undefined)) out[name] = refs.sort(compareValues);
      continue;
    }
    // NetBox 4.7 reads select values as {value, label}: the value is what the import writes.
    out[name] = Array.isArray(x) ? x.map(plainValue) : plainValue(x);
  }
  return Object.keys(out).length ? out : undefined;
}

// ---------------------------------------------------------------------------------------------
// ordering

/** Natural text order: digit runs compare as numbers (`eth2` < `eth10`), then code units. */
function compareText(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [], rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i], y = rb[i];
    if (x === y) continue;
    const nx = /^\d/.test(x), ny = /^\d/.test(y);
    if (nx && ny) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cidrOf(v: string): { family: number; value: bigint; len: number } | undefined {
  if (!/^[0-9a-fA-F:.]+\/\d+$/.test(v)) return undefined;
  try {
    const n = parseCidr(v);
    return { family: n.family, value: n.address, len: n.prefixLength };
  } catch {
    return undefined;
  }
}

/** Orders values: empty first, numbers numerically, CIDRs by address, text naturally. */
function compareValues(a: unknown, b: unknown): number {
  const ea = a === null || a === undefined, eb = b === null || b === undefined;
  if (ea || eb) return ea && eb ? 0 : ea ? -1 : 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") {
    const ca = cidrOf(a), cb = cidrOf(b);
    if (ca && cb) {
      if (ca.family !== cb.family) return ca.family - cb.family;
      if (ca.value !== cb.value) return ca.value < cb.value ? -1 : 1;
      return ca.len - cb.len;
    }
    return compareText(a, b);
  }
  if (isObj(a) && isObj(b)) {
    // Mappings of different fields (a cable's interface end and its console-port end) by their
    // field names first, so the order is the same whatever order the objects came in.
    const keys = Object.keys(a);
    const fa = [...keys].sort().join(), fb = Object.keys(b).sort().join();
    if (fa !== fb) return compareText(fa, fb);
    // Parents first: a mapping's last key is its parent (site, device, vrf, …).
    for (const k of keys.reverse()) {
      const c = compareValues(a[k], b[k]);
      if (c) return c;
    }
    return 0;
  }
  return compareText(JSON.stringify(a), JSON.stringify(b));
}

/** Sorts entries by natural key, parents first (site, then name; VRF, then address). */
export function sortEntries(model: ModelDef, entries: Record<string, unknown>[]): void {
  const key = [...model.naturalKey].reverse();
  const sortKey = (e: Record<string, unknown>) => key.map((f) => e[f] ?? null);
  entries.sort((a, b) => {
    const ka = sortKey(a), kb = sortKey(b);
    for (let i = 0; i < ka.length; i++) {
      const c = compareValues(ka[i], kb[i]);
      if (c) return c;
    }
    return compareText(JSON.stringify(a), JSON.stringify(b));
  });
}

// ---------------------------------------------------------------------------------------------
// rendering

/** The formats {@linkcode renderExport} writes. */
export type ExportFormat = "yaml" | "json" | "csv";

/**
 * Renders an export as import documents: one YAML or JSON document (`export.yaml`) with a
 * section per model, or one CSV document per model (`01-tags.csv`, `02-sites.csv`, …, each
 * with its `model`). The text is stable: the same NetBox content always gives the same bytes.
 *
 * CSV cannot express everything: lists other than `tags` (`tagged_vlans`, list custom fields)
 * and JSON values (`local_context_data`) are left out of the CSV and listed in `dropped`; a
 * `null` inside a reference mapping (`vrf: null`) is left out (an empty cell means "not given").
 *
 * @param result what {@linkcode exportDocuments} returned
 * @param format `yaml`, `json` or `csv`
 * @param options `sections`: which sections; with CSV, `emptyModels` adds an empty file (header
 *   only) for each of these models that has no entries
 * @returns the documents, ready for `planImport` or to be written to files
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderExport } from "./export.ts";
 * import { modelByKey } from "./models.ts";
 * const result = {
 *   sections: [{ model: modelByKey("dcim.sites"), name: "sites", entries: [{ name: "Matrix", slug: "matrix", tags: ["a", "b"] }] }],
 *   warnings: [],
 * };
 * const [yaml] = renderExport(result, "yaml");
 * assert(yaml.text === "sites:\n  - name: Matrix\n    slug: matrix\n    tags: [a, b]\n");
 * const [csv] = renderExport(result, "csv");
 * assert(csv.file === "01-sites.csv" && csv.model === "dcim.sites");
 * assert(csv.text === "name,slug,tags\nMatrix,matrix,\"a,b\"\n");
 * ```
 */
export function renderExport(
  result: Pick<ExportResult, "sections">,
  format: ExportFormat,
  options: { emptyModels?: readonly ModelDef[] } = {},
): (ImportDocument & { file: string; dropped?: string[] })[] {
  if (format === "csv") {
    const sections = [...result.sections];
    for (const model of options.emptyModels ?? []) {
      if (!sections.some((s) => s.model.key === model.key)) {
        sections.push({ model, name: sectionName(model), entries: [] });
      }
    }
    sections.sort((a, b) => a.model.order - b.model.order);
    const width = String(sections.length).length < 2 ? 2 : String(sections.length).length;
    return sections.map((s, n) => {
      const { text, dropped } = renderCsv(s);
      return {
        text,
        file: `${String(n + 1).padStart(width, "0")}-${s.name}.csv`,
        format: "csv" as const,
        model: s.model.key,
        ...(dropped.length ? { dropped } : {}),
      };
    });
  }
  const doc: Record<string, unknown> = {};
  for (const s of result.sections) if (s.entries.length) doc[s.name] = s.entries;
  if (format === "json") {
    return [{ text: JSON.stringify(doc, null, 2) + "\n", file: "export.json", format: "json" }];
  }
  const text = Object.keys(doc).length === 0 ? "{}\n" : yamlStringify(doc, {
    lineWidth: -1,
    noRefs: true,
    flowLevel: 3,
  });
  return [{ text, file: "export.yaml", format: "yaml" }];
}

/** Flattens one entry to dotted CSV cells; adds the fields it cannot express to `dropped`. */
function flatten(
  entry: Record<string, unknown>,
  out: Map<string, string>,
  dropped: Set<string>,
): void {
  const walk = (path: string, v: unknown, top: string, cells: Map<string, string>): boolean => {
    if (Array.isArray(v)) {
      if (path === "tags" && v.every((x) => typeof x === "string" && !x.includes(","))) {
        cells.set(path, v.join(","));
        return true;
      }
      return false;
    }
    if (isObj(v)) {
      if (top === "local_context_data") return false;
      for (const [k, x] of Object.entries(v)) {
        // An empty cell means "not given": a null inside a reference is left out.
        if (x === null || x === undefined) continue;
        if (!walk(`${path}.${k}`, x, top, cells)) return false;
      }
      return true;
    }
    if (v === null || v === undefined) return false;
    cells.set(path, typeof v === "string" ? v : String(v));
    return true;
  };
  for (const [field, v] of Object.entries(entry)) {
    const cells = new Map<string, string>();
    if (walk(field, v, field, cells)) { for (const [k, x] of cells) out.set(k, x); }
    else dropped.add(field);
  }
}

function renderCsv(section: ExportSection): { text: string; dropped: string[] } {
  const dropped = new Set<string>();
  const rows = section.entries.map((e) => {
    const cells = new Map<string, string>();
    flatten(e, cells, dropped);
    return cells;
  });
  // A field some entries cannot express is dropped from every row: the column means one thing.
  for (const row of rows) {
    for (const k of [...row.keys()]) {
      if (dropped.has(k.split(".")[0])) row.delete(k);
    }
  }
  const order = EXPORT_FIELDS[section.model.key] ?? [];
  const rank = (col: string) => {
    const top = col.split(".")[0];
    const i = order.indexOf(top === "interface" || top === "vminterface" ? "assigned_object" : top);
    return i < 0 ? order.length : i;
  };
  const seen: string[] = [];
  for (const row of rows) for (const k of row.keys()) if (!seen.includes(k)) seen.push(k);
  const columns = seen.map((c, n) => ({ c, n })).sort((a, b) => rank(a.c) - rank(b.c) || a.n - b.n)
    .map((x) => x.c);
  if (!columns.length) columns.push(...section.model.naturalKey);
  const text = csvStringify(
    rows.map((r) => columns.map((c) => r.get(c) ?? "")),
    { header: true, columns, eof: true },
  );
  return { text, dropped: [...dropped].sort() };
}
