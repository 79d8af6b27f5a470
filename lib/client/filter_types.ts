/**
 * The filter types of the client: filter values, the common query parameters and the typed
 * filters of each list endpoint. The generated `models.ts` builds on them; `types.ts` re-exports
 * them, so imports run one way (types → models → filter_types).
 *
 * @module
 */

/** A filter value: arrays become repeated keys, `null` becomes `"null"`, `undefined` is dropped. */
export type FilterValue =
  | string
  | number
  | boolean
  | Date
  | null
  | undefined
  | ReadonlyArray<string | number | boolean | Date | null>;

/** Query filters for list requests, e.g. `{ site: "matrix", status: ["active", "reserved"] }`. */
export type Filters = Record<string, FilterValue>;

/**
 * Query parameters every list endpoint accepts besides its filters (the same names the filter
 * guard always lets through).
 */
export type CommonFilterName =
  | "limit"
  | "offset"
  | "start"
  | "brief"
  | "fields"
  | "omit"
  | "exclude"
  | "ordering"
  | "q"
  | "format"
  | "export"
  | "filter"
  | "filter_id";

/** A filter name and its lookups, e.g. `WithLookups<"name", "ic" | "n">` is `name | name__ic | name__n`. */
export type WithLookups<Base extends string, Lookup extends string> =
  | Base
  | `${Base}__${Lookup}`;

/** A filter on a choice field: one value, any of several, or `null` (blank). */
export type ChoiceFilter<V> = V | readonly V[] | null | undefined;

/**
 * The typed filters of one list endpoint (see `models.ts`): each of its filter names is an
 * optional key, with the {@linkcode CommonFilterName}s and `cf_<custom field>` names. Any other
 * key is a compile error (an excess property), e.g. `{ stie: "x" }`. `Typed` narrows the value
 * type of some names (choice filters).
 */
export type FiltersOf<Names extends string, Typed extends object = Record<never, never>> =
  & { [K in Exclude<Names | CommonFilterName, keyof Typed>]?: FilterValue }
  & { [name: `cf_${string}`]: FilterValue }
  & Typed;
