/**
 * Component templates are written after the devices (and modules) of their type that the same
 * import creates: NetBox copies a type's templates into every device created after them, which
 * would clash with the device's own components given in the input (a whole export imported into
 * an empty NetBox). Each new template item depends on those new devices or modules.
 *
 * Templates that already exist are copied into the devices the import creates: the import's
 * components of those devices are then matched to the copies by device and name and updated
 * ({@linkcode madeFromTemplates}, called by the apply).
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

/**
 * The new device of a component's create when NetBox may have made that component already: the
 * device is created by the same import with a type that exists in NetBox, whose templates NetBox
 * copies into it (a type created by the import gets its templates after its devices, above).
 */
function newDeviceOf(item: PlanItem, byUid: Map<number, PlanItem>): NewRef | undefined {
  if (item.action !== "create" || !FROM_TEMPLATES.has(item.model.key)) return undefined;
  const device = item.body.device;
  if (!(device instanceof NewRef)) return undefined;
  const parent = byUid.get(device.uid);
  const made = parent?.model.key === "dcim.devices" && parent.action === "create" &&
    typeof parent.body.device_type === "number";
  return made ? device : undefined;
}

/**
 * Of the creates of one component model, those NetBox already made from the device type's
 * templates when it created their device earlier in this import: matched by device and name, so
 * the import updates them to what the input says instead of creating them a second time (which
 * NetBox refuses). A listing that fails finds nothing (the creates then go as planned).
 *
 * @param endpoint The model's endpoint.
 * @param creates The creates of that model about to be sent.
 * @param byUid Every plan item by uid.
 * @param ids The ids of the objects created so far, by item uid.
 * @returns The existing component by item uid (its id, name, device, and a front port's
 *   `rear_ports` on NetBox 4.6+).
 */
export async function madeFromTemplates(
  endpoint: Pick<Endpoint<NetBoxObject>, "all">,
  creates: PlanItem[],
  byUid: Map<number, PlanItem>,
  ids: Map<number, number>,
): Promise<Map<number, NetBoxObject>> {
  const wanted = new Map<string, number>(); // `device id name` → uid
  const deviceIds = new Set<number>();
  for (const item of creates) {
    const device = newDeviceOf(item, byUid);
    const id = device && ids.get(device.uid);
    if (id === undefined) continue;
    wanted.set(`${id} ${item.body.name}`, item.uid);
    deviceIds.add(id);
  }
  const found = new Map<number, NetBoxObject>();
  const devices = [...deviceIds];
  const fields = ["id", "name", "device"];
  if (creates.some((i) => "rear_ports" in i.body)) fields.push("rear_ports");
  for (let n = 0; n < devices.length; n += 100) {
    const objs = await endpoint.all({ device_id: devices.slice(n, n + 100) }, { fields })
      .catch(() => []);
    for (const o of objs) {
      const device = o.device as { id?: unknown } | null;
      const uid = wanted.get(`${device?.id} ${o.name}`);
      if (uid !== undefined) found.set(uid, o);
    }
  }
  return found;
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
