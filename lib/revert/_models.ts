/**
 * From the change log's names to the API's: content types (`dcim.device`, id 23) to list paths
 * (`dcim/devices/`), and which model a logged reference field points to (the import's model
 * table first, then the field's name).
 *
 * @module
 */

import { createEndpoint } from "../client/endpoint.ts";
import { modelPaths } from "../client/model_resolve.ts";
import type { Transport } from "../client/types.ts";
import { lookupModel, modelByKey } from "../import/models.ts";
import type { ObjectTypes } from "./_values.ts";

/** Content types whose list path is not their plural. */
const PATHS: Record<string, string> = {
  "virtualization.vminterface": "virtualization/interfaces/",
  "users.objectpermission": "users/permissions/",
};

/** The list path of a content type on this NetBox, or undefined. */
export async function pathOfModel(
  transport: Transport,
  model: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (PATHS[model]) return PATHS[model];
  const [app, name] = model.split(".");
  for (const path of await modelPaths(transport, signal)) {
    const [a, n] = path.split("/");
    if (a !== app || n === undefined) continue;
    const flat = n.replaceAll("-", "");
    if (
      flat === name || flat === `${name}s` || flat === `${name}es` ||
      (name.endsWith("y") && flat === `${name.slice(0, -1)}ies`)
    ) return path;
  }
  return undefined;
}

/** NetBox's content types (`core/object-types/` from 4.4, `extras/object-types/` before). */
export async function readObjectTypes(
  transport: Transport,
  signal?: AbortSignal,
): Promise<ObjectTypes> {
  const { major, minor } = await transport.status();
  const path = major > 4 || (major === 4 && minor >= 4)
    ? "core/object-types/"
    : "extras/object-types/";
  const rows = await createEndpoint(transport, path).all({}, {
    signal,
    fields: ["id", "app_label", "model"],
  });
  const byId = new Map<number, string>();
  const byName = new Map<string, number>();
  for (const r of rows) {
    const name = `${r.app_label}.${r.model}`;
    byId.set(r.id, name);
    byName.set(name, r.id);
  }
  return { byId, byName };
}

/**
 * The list paths a logged reference field of an object may point to: the generic relation's
 * type, the import's model table, or — for a model the table does not know — the models named
 * like the field (`device` → `dcim/devices/`; `parent` → the object's own model).
 */
export function refTargets(
  path: string,
  field: string,
  data: Record<string, unknown>,
  types: ObjectTypes | undefined,
  pathsByModel: ReadonlyMap<string, string>,
): string[] {
  if (field.endsWith("_id")) {
    const type = data[`${field.slice(0, -3)}_type`];
    if (typeof type === "number") {
      const model = types?.byId.get(type);
      const target = model ? pathsByModel.get(model) : undefined;
      return target ? [target] : [];
    }
  }
  const known = lookupModel(path);
  const ref = known?.refs[field];
  if (ref) return [modelByKey(ref).path];
  if (field === "tags") return [];
  const flat = field.replaceAll("_", "");
  const out: string[] = [];
  for (const [model, p] of pathsByModel) {
    if (model.split(".")[1] === flat) out.push(p);
  }
  if (["parent", "lag", "bridge", "nat_inside"].includes(field)) out.push(path);
  return out;
}
