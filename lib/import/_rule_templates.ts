/**
 * Component templates are written after the devices (and modules) of their type that the same
 * import creates: NetBox copies a type's templates into every device created after them, which
 * would clash with the device's own components given in the input (a whole export imported into
 * an empty NetBox). Each new template item depends on those new devices or modules.
 *
 * @module
 */

import type { PlanState } from "./_plan_types.ts";

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
