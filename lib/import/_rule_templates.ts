/**
 * Component templates are written after the devices (and modules) of their type that the same
 * import creates: NetBox copies a type's templates into every device created after them, which
 * would clash with the device's own components given in the input (a whole export imported into
 * an empty NetBox). Each new template item depends on those new devices or modules.
 *
 * Templates that already exist are copied into the devices and modules the import creates: the
 * import's components of those devices and modules are then matched to the copies by device and
 * name (and module) and updated ({@linkcode madeFromTemplates}, called by the apply).
 *
 * @module
 */

import type { Endpoint, NetBoxObject } from "../client/types.ts";
import { NewRef, type PlanItem, type PlanState } from "./_plan_types.ts";
import { DEVICE_COMPONENTS } from "./models.ts";

/** Makes each new template item depend on the new devices/modules of its type. */
export function templatesAfterInstances(s: PlanState): void {
  const byType = new Map<string, number[]>();
  const note = (model: string, field: string) => {
    for (const item of s.byModel.get(model) ?? []) {
      if (item.existing || item.state !== "present" || item.action === "invalid") continue;
      const type = item.resolved.get(field);
      if (type === undefined || type === null || Array.isArray(type)) continue;
      const k = `${field} ${type}`;
      byType.set(k, [...byType.get(k) ?? [], item.uid]);
    }
  };
  note("dcim.devices", "device_type");
  note("dcim.modules", "module_type");
  if (!byType.size) return;
  for (const [key, items] of s.byModel) {
    if (!key.startsWith("dcim.") || !key.endsWith("-templates")) continue;
    for (const item of items) {
      if (item.existing || item.state !== "present" || item.action === "invalid") continue;
      for (const field of ["device_type", "module_type"]) {
        const type = item.resolved.get(field);
        if (type === undefined || type === null || Array.isArray(type)) continue;
        for (const uid of byType.get(`${field} ${type}`) ?? []) item.deps.add(uid);
      }
    }
  }
}

/**
 * The device components NetBox makes from a device type's templates when it creates a device:
 * interfaces and the other components, but not modules (installed, not templated) and not
 * inventory items (not matched here).
 */
const FROM_TEMPLATES = new Set([
  "dcim.interfaces",
  ...DEVICE_COMPONENTS.filter((k) => k !== "dcim.modules" && k !== "dcim.inventory-items"),
]);

/** Whether a reference names a create of `model` in this import, on a type that exists. */
function madeOnType(
  ref: unknown,
  model: string,
  typeField: string,
  byUid: Map<number, PlanItem>,
): boolean {
  if (!(ref instanceof NewRef)) return false;
  const parent = byUid.get(ref.uid);
  return parent?.model.key === model && parent.action === "create" &&
    typeof parent.body[typeField] === "number";
}

/** An id in a body (a created item's by its uid), or undefined. */
function idIn(v: unknown, ids: Map<number, number>): number | undefined {
  return v instanceof NewRef ? ids.get(v.uid) : typeof v === "number" ? v : undefined;
}

/** The id of the module an object NetBox returned is on, or null. */
function moduleOf(o: NetBoxObject): number | null {
  const m = o.module as { id?: unknown } | number | null | undefined;
  const id = typeof m === "object" ? m?.id : m;
  return typeof id === "number" ? id : null;
}

/**
 * Where NetBox may have made a component's create already: a device created by the same import
 * with a type that exists (NetBox copies the device type's templates into it), or a module
 * created by the same import with a type that exists (NetBox copies the module type's templates
 * into it, on the module's device). A type created by the import gets its templates after its
 * devices and modules, above. The answer: the device's id, and whether an object NetBox holds on
 * it by the entry's name is the component: one made with the new device (on no module, or on
 * any for an entry that names no module), or one made with the entry's new module.
 */
function madeWith(
  item: PlanItem,
  byUid: Map<number, PlanItem>,
  ids: Map<number, number>,
): { device: number; fits: (o: NetBoxObject) => boolean } | undefined {
  if (item.action !== "create" || !FROM_TEMPLATES.has(item.model.key)) return undefined;
  const device = idIn(item.body.device, ids);
  if (device === undefined) return undefined;
  const onModule = item.body.module !== undefined && item.body.module !== null;
  const withDevice = madeOnType(item.body.device, "dcim.devices", "device_type", byUid);
  const module = madeOnType(item.body.module, "dcim.modules", "module_type", byUid)
    ? idIn(item.body.module, ids)
    : undefined;
  if (!withDevice && module === undefined) return undefined;
  return {
    device,
    fits: (o) =>
      (withDevice && (!onModule || moduleOf(o) === null)) ||
      (module !== undefined && moduleOf(o) === module),
  };
}

/**
 * Of the creates of one component model, those NetBox already made from the templates of a
 * device type or module type when it created their device or module earlier in this import:
 * matched by device and name (and the module, for a component on a new module), so the import
 * updates them to what the input says instead of creating them a second time (which NetBox
 * refuses). A listing that fails finds nothing (the creates then go as planned).
 *
 * @param endpoint The model's endpoint.
 * @param creates The creates of that model about to be sent.
 * @param byUid Every plan item by uid.
 * @param ids The ids of the objects created so far, by item uid.
 * @returns The existing component by item uid (its id, name, device, module, and a front port's
 *   `rear_ports` on NetBox 4.6+).
 */
export async function madeFromTemplates(
  endpoint: Pick<Endpoint<NetBoxObject>, "all">,
  creates: PlanItem[],
  byUid: Map<number, PlanItem>,
  ids: Map<number, number>,
): Promise<Map<number, NetBoxObject>> {
  const wanted = new Map<string, [number, (o: NetBoxObject) => boolean]>(); // `device name`
  const deviceIds = new Set<number>();
  for (const item of creates) {
    const made = madeWith(item, byUid, ids);
    if (!made) continue;
    wanted.set(`${made.device} ${item.body.name}`, [item.uid, made.fits]);
    deviceIds.add(made.device);
  }
  const found = new Map<number, NetBoxObject>();
  const devices = [...deviceIds];
  const fields = ["id", "name", "device", "module"];
  if (creates.some((i) => "rear_ports" in i.body)) fields.push("rear_ports");
  for (let n = 0; n < devices.length; n += 100) {
    const objs = await endpoint.all({ device_id: devices.slice(n, n + 100) }, { fields })
      .catch(() => []);
    for (const o of objs) {
      const device = o.device as { id?: unknown } | null;
      const want = wanted.get(`${device?.id} ${o.name}`);
      if (want && want[1](o)) found.set(want[0], o);
    }
  }
  return found;
}

/** Whose template NetBox made a component from, as the apply reports it. */
export function madeFromWhat(made: NetBoxObject): string {
  const type = moduleOf(made) === null ? "device type" : "module type";
  return `made by NetBox from the ${type}'s template, then set to the entry's values`;
}

/**
 * The update of a port NetBox made from a template: the create's body, without a front port's
 * rear port mapping (NetBox 4.6+) when the template made the same one (NetBox refuses to write
 * a mapping again that exists).
 *
 * @param body The create's body, ids substituted.
 * @param made The port as NetBox made it.
 */
export function templatePatch(
  body: Record<string, unknown>,
  made: NetBoxObject,
): Record<string, unknown> {
  const { rear_ports: want, ...rest } = body;
  if (want === undefined) return body;
  const key = (v: unknown) =>
    JSON.stringify(
      (Array.isArray(v) ? v : []).map((m) => {
        const x = m as Record<string, unknown>;
        const rp = x.rear_port as { id?: unknown } | number;
        return [x.position, typeof rp === "object" ? rp?.id : rp, x.rear_port_position];
      }),
    );
  return key(want) === key(made.rear_ports) ? rest : body;
}
