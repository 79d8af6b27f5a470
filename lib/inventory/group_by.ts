/**
 * The `group_by` keys of an inventory and the group names they give, as Ansible's
 * `netbox.netbox.nb_inventory` names them, so playbooks written against it keep working:
 * `<key>_<value>` (`site_matrix`, `role_core`, `tag_prod`, `status_active`), the value a slug
 * (a name for racks and clusters), `is_virtual` for the virtual machines alone, and the plural
 * keys of its default `plurals: true` (`sites`, `device_roles`, …) giving `sites_matrix`,
 * `device_roles_core`. Regions, site groups and locations nest: a region's group holds its
 * child regions and its sites' groups, a site's group its top-level locations; a host sits in
 * its location's group, else its site's.
 *
 * @module
 */

import { InputError } from "../client/errors.ts";

/** The singular keys and what each groups by. */
export const GROUP_BY_KEYS: Readonly<Record<string, string>> = {
  site: "the site's slug",
  tenant: "the tenant's slug",
  role: "the device or VM role's slug",
  platform: "the platform's slug",
  tag: "each tag's slug",
  device_type: "the device type's slug (devices)",
  manufacturer: "the device type's manufacturer (devices)",
  rack: "the rack's name (devices)",
  rack_role: "the rack's role (devices)",
  region: "the site's region, nested in its parent regions",
  site_group: "the site's site group, nested in its parents",
  location: "the device's location, nested in its site and parent locations",
  cluster: "the cluster's name",
  cluster_type: "the cluster's type",
  cluster_group: "the cluster's group",
  status: "the status value",
  is_virtual: "one group, is_virtual, of the virtual machines",
};

/** nb_inventory's plural keys (its `plurals: true`, the default) and their singular key. */
export const PLURAL_KEYS: Readonly<Record<string, string>> = {
  sites: "site",
  tenants: "tenant",
  racks: "rack",
  tags: "tag",
  device_roles: "role",
  platforms: "platform",
  device_types: "device_type",
  manufacturers: "manufacturer",
};

/** A parsed `group_by` key: the key as given (the group name's prefix) and its meaning. */
export interface GroupByKey {
  /** The key as given, e.g. `"sites"`: the prefix of the group names. */
  prefix: string;
  /** The singular key, e.g. `"site"`. */
  key: string;
}

/**
 * Checks `group_by` keys: each singular key of {@linkcode GROUP_BY_KEYS} or plural key of
 * {@linkcode PLURAL_KEYS}, at most once.
 *
 * @param keys the keys, e.g. `["site", "role"]`
 * @returns the keys with their meaning
 * @throws {InputError} for an unknown or repeated key
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { parseGroupBy } from "./group_by.ts";
 * equal(parseGroupBy(["device_roles"])[0].key, "role");
 * ```
 */
export function parseGroupBy(keys: readonly string[]): GroupByKey[] {
  const seen = new Set<string>();
  return keys.map((prefix) => {
    const key = PLURAL_KEYS[prefix] ?? (prefix in GROUP_BY_KEYS ? prefix : undefined);
    if (!key) {
      throw new InputError(
        `Cannot group by "${prefix}": expected one of ${
          Object.keys(GROUP_BY_KEYS).join(", ")
        } (or nb_inventory's plural ${Object.keys(PLURAL_KEYS).join(", ")})`,
      );
    }
    if (seen.has(key)) throw new InputError(`Cannot group by "${prefix}": given twice`);
    seen.add(key);
    return { prefix, key };
  });
}

/**
 * A group's name as nb_inventory gives it: `<prefix>_<value>`, or the value alone with
 * `raw` (its `group_names_raw`).
 *
 * @param prefix the group_by key as given
 * @param value the slug or name
 * @param raw leave the prefix out
 * @returns the group name
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { groupName } from "./group_by.ts";
 * equal(groupName("site", "matrix"), "site_matrix");
 * ```
 */
export function groupName(prefix: string, value: string, raw = false): string {
  return raw ? value : `${prefix}_${value}`;
}
