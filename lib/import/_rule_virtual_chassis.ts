/**
 * A virtual chassis spans one site: the devices an import puts in one virtual chassis (with
 * `virtual_chassis:`) must be at the same site as each other and as the members it already has
 * in NetBox. A member at another site is one problem naming both sites; nothing is written.
 *
 * @module
 */

import type { PlanState } from "./_plan_types.ts";
import { isObj } from "./_plan_state.ts";

/** Checks the planned devices' virtual chassis (after resolving). */
export function checkVirtualChassisSites(s: PlanState): void {
  const bySite = new Map<string, { site: unknown; label: string }>();
  const siteName = (id: unknown): string => {
    if (typeof id === "string") return s.items[Number(id.slice(4))]?.label ?? id;
    const site = s.byId.get("dcim.sites")?.get(id as number);
    return typeof site?.slug === "string" ? site.slug : `#${id}`;
  };
  // Members already in NetBox, by their chassis.
  for (const d of s.existing.get("dcim.devices") ?? []) {
    const vc = isObj(d.virtual_chassis) ? d.virtual_chassis.id : undefined;
    const site = isObj(d.site) ? d.site.id : undefined;
    if (vc !== undefined && site !== undefined && !bySite.has(String(vc))) {
      bySite.set(String(vc), { site, label: String(d.name) });
    }
  }
  for (const item of s.byModel.get("dcim.devices") ?? []) {
    if (item.state !== "present" || item.action === "invalid") continue;
    const vc = item.resolved.get("virtual_chassis");
    const site = item.resolved.get("site") ??
      (isObj(item.existing?.site) ? item.existing.site.id as number : undefined);
    if (vc === null || vc === undefined || Array.isArray(vc) || site === undefined) continue;
    const first = bySite.get(String(vc));
    if (!first) {
      bySite.set(String(vc), { site, label: item.label });
      continue;
    }
    if (first.site === site) continue;
    const spec = item.specs.get("virtual_chassis");
    item.problems.push({
      loc: spec?.kind === "ref" ? spec.loc : item.entry.loc,
      message: `device ${item.label} is at site ${siteName(site)} but its virtual chassis ` +
        `already has ${first.label} at site ${siteName(first.site)} (a virtual chassis spans ` +
        `one site)`,
    });
  }
}
