/**
 * Renderers of an {@linkcode Inventory}: Ansible's dynamic-inventory JSON (`--list` and
 * `--host NAME`, what an inventory script prints for `ansible-inventory -i`), a static Ansible
 * YAML inventory, and Nornir's SimpleInventory files (hosts, groups, defaults).
 *
 * @module
 */

import { yamlStringify } from "../deps.ts";
import type { Inventory } from "./inventory.ts";

/** The inventory formats. */
export type InventoryFormat = "ansible" | "ansible-yaml" | "nornir";

/** The formats {@linkcode renderInventory} knows. */
export const INVENTORY_FORMATS: readonly InventoryFormat[] = ["ansible", "ansible-yaml", "nornir"];

/** One rendered file: its name (for `--output DIR`) and its text. */
export interface InventoryFile {
  /** `inventory.json`, `inventory.yaml`, or Nornir's `hosts.yaml`, `groups.yaml`, `defaults.yaml`. */
  file: string;
  /** The file's content. */
  text: string;
}

/** Groups no other group holds, sorted. */
function topGroups(inv: Inventory): string[] {
  const held = new Set(inv.groups.flatMap((g) => g.children));
  return inv.groups.map((g) => g.name).filter((n) => !held.has(n));
}

function ungrouped(inv: Inventory): string[] {
  return inv.hosts.filter((h) => h.groups.length === 0).map((h) => h.name);
}

/**
 * Ansible's dynamic-inventory JSON (the answer to `--list`): `_meta.hostvars`, `all` with the
 * top-level groups and `ungrouped`, and each group's `hosts` and `children` (empty lists left
 * out, as `ansible-inventory --list` does).
 *
 * @param inv the inventory
 * @returns the JSON document
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { ansibleList } from "./render.ts";
 * const inv = {
 *   hosts: [{ name: "sw1", kind: "device" as const, id: 1, vars: { ansible_host: "192.0.2.1" }, groups: ["site_a"] }],
 *   groups: [{ name: "site_a", hosts: ["sw1"], children: [] }],
 *   skipped: [],
 * };
 * deepEqual(ansibleList(inv).site_a, { hosts: ["sw1"] });
 * ```
 */
export function ansibleList(inv: Inventory): Record<string, Record<string, unknown>> {
  const doc: Record<string, Record<string, unknown>> = {
    _meta: { hostvars: Object.fromEntries(inv.hosts.map((h) => [h.name, h.vars])) },
    all: { children: [...topGroups(inv), "ungrouped"] },
  };
  for (const g of inv.groups) {
    doc[g.name] = {
      ...(g.hosts.length ? { hosts: g.hosts } : {}),
      ...(g.children.length ? { children: g.children } : {}),
    };
  }
  const rest = ungrouped(inv);
  doc.ungrouped = rest.length ? { hosts: rest } : {};
  return doc;
}

/**
 * The answer to `--host NAME`: that host's variables, `{}` for a host the inventory lacks.
 *
 * @param inv the inventory
 * @param name the host's name
 * @returns its variables
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { ansibleHost } from "./render.ts";
 * deepEqual(ansibleHost({ hosts: [], groups: [], skipped: [] }, "nope"), {});
 * ```
 */
export function ansibleHost(inv: Inventory, name: string): Record<string, unknown> {
  return inv.hosts.find((h) => h.name === name)?.vars ?? {};
}

/**
 * A static Ansible YAML inventory: every host with its variables under `all.hosts`, groups
 * nested under `all.children` as they nest (a group held by several parents is written once
 * and named under the others).
 *
 * @param inv the inventory
 * @returns the YAML document as an object
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { ansibleYaml } from "./render.ts";
 * const inv = {
 *   hosts: [{ name: "sw1", kind: "device" as const, id: 1, vars: {}, groups: ["site_a"] }],
 *   groups: [{ name: "site_a", hosts: ["sw1"], children: [] }],
 *   skipped: [],
 * };
 * deepEqual(ansibleYaml(inv).all.children, { site_a: { hosts: { sw1: null } } });
 * ```
 */
export function ansibleYaml(
  inv: Inventory,
): { all: { hosts?: Record<string, unknown>; children?: Record<string, unknown> } } {
  const byName = new Map(inv.groups.map((g) => [g.name, g]));
  const written = new Set<string>();
  const render = (name: string): Record<string, unknown> | null => {
    if (written.has(name)) return null;
    written.add(name);
    const g = byName.get(name)!;
    const out: Record<string, unknown> = {};
    if (g.hosts.length) out.hosts = Object.fromEntries(g.hosts.map((h) => [h, null]));
    if (g.children.length) {
      out.children = Object.fromEntries(g.children.map((c) => [c, render(c)]));
    }
    return out;
  };
  const children = Object.fromEntries(topGroups(inv).map((n) => [n, render(n)]));
  return {
    all: {
      ...(inv.hosts.length
        ? { hosts: Object.fromEntries(inv.hosts.map((h) => [h.name, h.vars])) }
        : {}),
      ...(Object.keys(children).length ? { children } : {}),
    },
  };
}

/**
 * Nornir's SimpleInventory: `hosts` (hostname from the primary address, platform from
 * NetBox's platform slug, groups, and the variables as `data`), `groups` (each with its parent
 * groups) and empty `defaults`.
 *
 * @param inv the inventory
 * @returns the three documents
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { nornirInventory } from "./render.ts";
 * const inv = {
 *   hosts: [{ name: "sw1", kind: "device" as const, id: 1, address: "192.0.2.1", vars: {}, groups: [] }],
 *   groups: [],
 *   skipped: [],
 * };
 * equal(nornirInventory(inv).hosts.sw1.hostname, "192.0.2.1");
 * ```
 */
export function nornirInventory(inv: Inventory): {
  hosts: Record<string, { hostname?: string; platform?: string; groups: string[]; data: object }>;
  groups: Record<string, { groups: string[]; data: object }>;
  defaults: Record<string, never>;
} {
  const parents = new Map<string, string[]>();
  for (const g of inv.groups) {
    for (const c of g.children) (parents.get(c) ?? parents.set(c, []).get(c)!).push(g.name);
  }
  const hosts = Object.fromEntries(inv.hosts.map((h) => {
    const { ansible_host: _, ...data } = h.vars;
    return [h.name, {
      ...(h.address ? { hostname: h.address } : {}),
      ...(h.platform ? { platform: h.platform } : {}),
      groups: h.groups,
      data,
    }];
  }));
  const groups = Object.fromEntries(
    inv.groups.map((g) => [g.name, { groups: (parents.get(g.name) ?? []).sort(), data: {} }]),
  );
  return { hosts, groups, defaults: {} };
}

const yaml = (doc: unknown) => yamlStringify(doc, { noRefs: true, lineWidth: -1 });

/**
 * Renders an inventory as the files of a format: one for `ansible` (`inventory.json`, the
 * `--list` answer) and `ansible-yaml` (`inventory.yaml`), three for `nornir`.
 *
 * @param inv the inventory
 * @param format the format
 * @returns the files
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { renderInventory } from "./render.ts";
 * const files = renderInventory({ hosts: [], groups: [], skipped: [] }, "nornir");
 * equal(files.map((f) => f.file).join(), "hosts.yaml,groups.yaml,defaults.yaml");
 * ```
 */
export function renderInventory(inv: Inventory, format: InventoryFormat): InventoryFile[] {
  switch (format) {
    case "ansible":
      return [{ file: "inventory.json", text: JSON.stringify(ansibleList(inv), null, 2) + "\n" }];
    case "ansible-yaml":
      return [{ file: "inventory.yaml", text: yaml(ansibleYaml(inv)) }];
    case "nornir": {
      const n = nornirInventory(inv);
      return [
        { file: "hosts.yaml", text: yaml(n.hosts) },
        { file: "groups.yaml", text: yaml(n.groups) },
        { file: "defaults.yaml", text: yaml(n.defaults) },
      ];
    }
  }
}
