/**
 * What a model looks like on the live NetBox: its fields and their types (`OPTIONS` on the list
 * endpoint: `actions.POST`, shown only to a token that may add the model), the valid values of
 * its choice fields, and its filters with their lookups (the filter index or the live schema).
 *
 * @module
 */

import { NetBoxError } from "./errors.ts";
import { validFilterNames } from "./filter_guard.ts";
import type { Transport } from "./types.ts";

/** One valid value of a choice field. */
export interface ChoiceOption {
  /** What to write, e.g. `"active"`. */
  value: string | number;
  /** What NetBox shows, e.g. `"Active"`. */
  label: string;
}

/** One writable field, as `OPTIONS` describes it. */
export interface FieldInfo {
  /** The field's name. */
  name: string;
  /** DRF's type: `string`, `integer`, `choice`, `field` (a reference), `boolean`, … */
  type: string;
  /** Whether a create must give it. */
  required: boolean;
  /** Whether NetBox ignores it on writes. */
  readOnly: boolean;
  /** The label NetBox shows. */
  label: string;
  /** NetBox's help text, if any. */
  helpText?: string;
  /** The valid values of a choice field. */
  choices?: ChoiceOption[];
}

/** A filter and its lookups (`name` with `ic`, `n`, … means `name__ic`, `name__n`, …). */
export interface FilterInfo {
  /** The bare filter name. */
  name: string;
  /** Its lookup suffixes, sorted. */
  lookups: string[];
}

/** A model's fields and filters. */
export interface ModelSchema {
  /** The list path, e.g. `"dcim/devices/"`. */
  path: string;
  /** Writable fields (empty when the token may not add this model). */
  fields: FieldInfo[];
  /** Filters with their lookups; `undefined` when NetBox does not say (plugin models). */
  filters?: FilterInfo[];
}

interface RawField {
  type?: string;
  required?: boolean;
  read_only?: boolean;
  label?: string;
  help_text?: string;
  choices?: { value: string | number; display_name?: string; display?: string }[];
}

async function optionsOf(
  transport: Transport,
  path: string,
  signal?: AbortSignal,
): Promise<Record<string, RawField>> {
  const doc = await transport.request<{ actions?: Record<string, Record<string, RawField>> }>(
    "OPTIONS",
    path,
    { signal, action: `describe ${path}` },
  );
  const fields = doc?.actions?.POST ?? doc?.actions?.PUT;
  if (!fields) {
    throw new NetBoxError(
      `Cannot describe the fields of ${path}: NetBox shows them only to a token that may add ` +
        `or change this model`,
    );
  }
  return fields;
}

function fieldInfo(name: string, raw: RawField): FieldInfo {
  return {
    name,
    type: raw.type ?? "unknown",
    required: !!raw.required,
    readOnly: !!raw.read_only,
    label: raw.label ?? name,
    ...(raw.help_text ? { helpText: raw.help_text } : {}),
    ...(raw.choices
      ? {
        choices: raw.choices.map((c) => ({
          value: c.value,
          label: String(c.display_name ?? c.display ?? c.value),
        })),
      }
      : {}),
  };
}

/**
 * The valid values of a model's choice fields (`OPTIONS` on the list endpoint).
 *
 * @param transport The client's transport.
 * @param path The list path, e.g. `"dcim/interfaces/"`.
 * @param field One field only (its values), or every choice field.
 * @param signal Aborts the request.
 * @returns The values by field name.
 * @throws {NetBoxError} When the token may not see the fields, or `field` is no choice field
 *   (naming the choice fields).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { choices } from "./meta.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   request: () => Promise.resolve({ actions: { POST: {
 *     status: { type: "choice", choices: [{ value: "active", display_name: "Active" }] },
 *     name: { type: "string" },
 *   } } }),
 * } as unknown as Transport;
 * equal((await choices(transport, "dcim/devices/", "status")).status[0].label, "Active");
 * ```
 */
export async function choices(
  transport: Transport,
  path: string,
  field?: string,
  signal?: AbortSignal,
): Promise<Record<string, ChoiceOption[]>> {
  const fields = await optionsOf(transport, path, signal);
  const out: Record<string, ChoiceOption[]> = {};
  for (const [name, raw] of Object.entries(fields)) {
    if (raw.choices) out[name] = fieldInfo(name, raw).choices!;
  }
  if (field === undefined) return out;
  if (!out[field]) {
    throw new NetBoxError(
      `Cannot list the choices of ${path} field "${field}": ${
        field in fields ? "it is not a choice field" : "no such writable field"
      }; choice fields: ${Object.keys(out).join(", ") || "none"}`,
    );
  }
  return { [field]: out[field] };
}

/**
 * A model's writable fields with types (`OPTIONS`) and its filters with lookups.
 *
 * @param transport The client's transport.
 * @param path The list path.
 * @param signal Aborts the requests.
 * @returns The schema.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { schema } from "./meta.ts";
 * import type { Transport } from "./types.ts";
 * const transport = {
 *   status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
 *   request: () => Promise.resolve({ actions: { POST: { name: { type: "string", required: true } } } }),
 * } as unknown as Transport;
 * const s = await schema(transport, "dcim/sites/");
 * assert(s.fields[0].required && s.filters?.find((f) => f.name === "name")?.lookups.includes("ic"));
 * ```
 */
export async function schema(
  transport: Transport,
  path: string,
  signal?: AbortSignal,
): Promise<ModelSchema> {
  const fields = Object.entries(await optionsOf(transport, path, signal))
    .map(([name, raw]) => fieldInfo(name, raw));
  const names = await validFilterNames(transport, path, signal);
  return { path, fields, ...(names ? { filters: groupFilters(names) } : {}) };
}

const PAGING = new Set(["limit", "offset", "ordering", "q"]);

/** Filter names grouped by base name: `name`, `name__ic`, … → `{ name, lookups: ["ic"] }`. */
function groupFilters(names: Iterable<string>): FilterInfo[] {
  const groups = new Map<string, Set<string>>();
  for (const full of names) {
    if (PAGING.has(full)) continue;
    const at = full.lastIndexOf("__");
    const [base, lookup] = at > 0 ? [full.slice(0, at), full.slice(at + 2)] : [full, undefined];
    if (!groups.has(base)) groups.set(base, new Set());
    if (lookup) groups.get(base)!.add(lookup);
  }
  return [...groups].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([name, lookups]) => ({ name, lookups: [...lookups].sort() }));
}
