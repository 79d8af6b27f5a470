/**
 * Values of NetBox's change log next to values of its API. The change log holds each object as
 * Django serialises it: references as ids, choices as raw values, tags as their names, generic
 * relations as a content-type id plus an object id, decimals as strings. The API nests
 * references and choices. These helpers compare the two and turn logged data back into a body
 * the API accepts.
 *
 * @module
 */

/** Content types by id and by `app.model`, read from NetBox's object types. */
export interface ObjectTypes {
  /** `app.model` by content-type id. */
  byId: ReadonlyMap<number, string>;
  /** Content-type id by `app.model`. */
  byName: ReadonlyMap<string, number>;
}

const isDict = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Logged fields that are not written back (bookkeeping NetBox sets itself). */
const NOT_WRITTEN = new Set(["id", "created", "last_updated"]);

/**
 * Whether `key` of `data` is the type half of a generic relation (`assigned_object_type` beside
 * `assigned_object_id`, `scope_type` beside `scope_id`).
 */
export function isTypeField(key: string, data: Record<string, unknown>): boolean {
  if (!key.endsWith("_type")) return false;
  const base = key.slice(0, -"_type".length);
  return `${base}_id` in data || (base === "object" && "object_id" in data);
}

/** The id half of a generic relation's type field. */
export function idFieldOf(typeField: string): string {
  return `${typeField.slice(0, -"_type".length)}_id`;
}

/** A read value reduced to what the change log holds: ids for references, raw choice values. */
export function reduce(key: string, value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => reduce("", v));
    if (key === "tags") {
      return value.map((t) => (isDict(t) ? t.name : t)).map(String).sort();
    }
    return items;
  }
  if (!isDict(value)) return value;
  if ("value" in value && "label" in value && !("id" in value)) return value.value;
  if (typeof value.id === "number" && ("url" in value || "display" in value)) return value.id;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reduce(k, v)]));
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

/** Whether a current value (reduced) and a logged value mean the same. */
export function sameLogged(current: unknown, logged: unknown): boolean {
  if (current === logged) return true;
  if (current === undefined || current === null || current === "") {
    return logged === undefined || logged === null || logged === "";
  }
  if (logged === undefined || logged === null) return false;
  if (Array.isArray(current) && Array.isArray(logged)) {
    if (current.length !== logged.length) return false;
    const left = [...current];
    return logged.every((l) => {
      const at = left.findIndex((c) => sameLogged(c, l));
      if (at < 0) return false;
      left.splice(at, 1);
      return true;
    });
  }
  if (isDict(current) && isDict(logged)) {
    const keys = new Set([...Object.keys(current), ...Object.keys(logged)]);
    return [...keys].every((k) => sameLogged(current[k], logged[k]));
  }
  const [a, b] = [String(current), String(logged)];
  if (NUMERIC.test(a) && NUMERIC.test(b)) return Number(a) === Number(b);
  if (ISO.test(a) && ISO.test(b)) return Date.parse(a) === Date.parse(b);
  return false;
}

/**
 * The fields of `logged` whose current value differs, as `{ field, logged, current }`. Fields the
 * API does not show are not compared; generic relation types compare by `app.model`.
 */
export function driftOf(
  current: Record<string, unknown>,
  logged: Record<string, unknown>,
  fields: readonly string[],
  types: ObjectTypes | undefined,
): { field: string; logged: unknown; current: unknown }[] {
  const out: { field: string; logged: unknown; current: unknown }[] = [];
  for (const field of fields) {
    // Counters (`device_count`) move with other objects; they are not the object's own data.
    if (!(field in current) || NOT_WRITTEN.has(field) || /_count$/.test(field)) continue;
    let want = logged[field];
    if (typeof want === "number" && isTypeField(field, logged)) {
      if (!types) continue; // the relation's id is compared alone
      want = types.byId.get(want) ?? want;
    }
    const now = reduce(field, current[field]);
    if (!sameLogged(now, want)) out.push({ field, logged: want, current: now });
  }
  return out;
}

/** Maps a logged reference (field, id) to the id to write (a re-created object's new id). */
export type Relink = (field: string, id: number, data: Record<string, unknown>) => number;

/**
 * A logged value as the API takes it: tags as `{name}` dicts, a generic relation's type as
 * `app.model`, references through `relink`.
 */
export function writable(
  field: string,
  value: unknown,
  data: Record<string, unknown>,
  types: ObjectTypes | undefined,
  relink: Relink,
): unknown {
  if (field === "tags" && Array.isArray(value)) {
    return value.map((t) => (typeof t === "string" ? { name: t } : t));
  }
  if (typeof value === "number" && isTypeField(field, data)) {
    return types?.byId.get(value) ?? value;
  }
  if (typeof value === "number" && Number.isInteger(value)) return relink(field, value, data);
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) {
    return value.map((v) => relink(field, v as number, data));
  }
  return value;
}

/**
 * A body for POST/PATCH from logged data: bookkeeping and `_private` fields dropped. A new object
 * (`create`) gets no empty values — NetBox's defaults stand, and file fields (`front_image`),
 * which refuse an empty string, stay unset — and no custom field without a value.
 */
export function bodyOf(
  data: Record<string, unknown>,
  fields: readonly string[],
  types: ObjectTypes | undefined,
  relink: Relink,
  create = false,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.startsWith("_") || NOT_WRITTEN.has(field) || !(field in data)) continue;
    let value = data[field];
    if (create) {
      if (isEmpty(value) || /_count$/.test(field)) continue;
      if (field === "custom_fields" && isDict(value)) {
        value = Object.fromEntries(Object.entries(value).filter(([, v]) => !isEmpty(v)));
        if (!Object.keys(value as object).length) continue;
      }
    }
    body[field] = writable(field, value, data, types, relink);
  }
  return body;
}

const isEmpty = (v: unknown) =>
  v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);

/** Whether two logged values differ (the fields an update changed). */
export function loggedDiffers(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
}

/** A short name for an object from its logged data. */
export function nameOf(data: Record<string, unknown> | null | undefined, id: number): string {
  const d = data ?? {};
  for (const k of ["name", "address", "prefix", "slug", "model", "vid", "start_address", "label"]) {
    const v = d[k];
    if (typeof v === "string" && v !== "" || typeof v === "number") return String(v);
  }
  return `#${id}`;
}

/** Whether an object as read holds every value of a body sent (a lost write that landed). */
export function holds(current: Record<string, unknown>, body: Record<string, unknown>): boolean {
  return Object.entries(body).every(([k, v]) => {
    const sent = k === "tags" && Array.isArray(v)
      ? v.map((t) => (isDict(t) ? t.name : t)).map(String).sort()
      : v;
    return sameLogged(reduce(k, current[k]), sent);
  });
}
