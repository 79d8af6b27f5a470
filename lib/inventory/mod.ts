/**
 * Inventories for the tools that configure the network: NetBox's devices and virtual machines
 * as Ansible's dynamic-inventory JSON, a static Ansible YAML inventory, or Nornir's
 * SimpleInventory files. Group names and host variables follow Ansible's
 * `netbox.netbox.nb_inventory` (with `plurals: false`), so playbooks written against it keep
 * working; every model is read in one streamed, field-trimmed listing and joined in memory, so
 * requests grow with pages, never with hosts.
 *
 * @example Render an inventory that needs no NetBox
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderInventory } from "./mod.ts";
 *
 * const inv = {
 *   hosts: [{ name: "sw1", kind: "device" as const, id: 1, vars: { ansible_host: "192.0.2.1" }, groups: ["site_matrix"] }],
 *   groups: [{ name: "site_matrix", hosts: ["sw1"], children: [] }],
 *   skipped: [],
 * };
 * const [file] = renderInventory(inv, "ansible");
 * assert(JSON.parse(file.text).site_matrix.hosts[0] === "sw1");
 * ```
 *
 * @module
 */

export { buildInventory, InventoryFilterError } from "./inventory.ts";
export type {
  BuildInventoryOptions,
  Inventory,
  InventoryGroup,
  InventoryHost,
  SkippedHost,
} from "./inventory.ts";
export { GROUP_BY_KEYS, groupName, parseGroupBy, PLURAL_KEYS } from "./group_by.ts";
export type { GroupByKey } from "./group_by.ts";
export {
  ansibleHost,
  ansibleList,
  ansibleYaml,
  INVENTORY_FORMATS,
  nornirInventory,
  renderInventory,
} from "./render.ts";
export type { InventoryFile, InventoryFormat } from "./render.ts";
