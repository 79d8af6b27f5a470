/**
 * The MACs of interfaces, for `mac-mismatch`: on NetBox 4.2 and later every MAC address object
 * (`/api/dcim/mac-addresses/`, assigned to a device or VM interface; an interface may have
 * several); before 4.2 the interface's own `mac_address` field.
 *
 * @module
 */

import type { NetBoxClient, NetBoxObject } from "../client/types.ts";

/**
 * Lists the MACs of every interface: `dcim.interface:ID` / `virtualization.vminterface:ID` →
 * MACs in NetBox's form (upper case, colons). One listing on 4.2+, two before.
 */
export async function fetchInterfaceMacs(
  client: Pick<NetBoxClient, "endpoint" | "status">,
  options: { signal?: AbortSignal } = {},
): Promise<Map<string, string[]>> {
  const { signal } = options;
  const out = new Map<string, string[]>();
  const add = (key: string, mac: unknown) => {
    if (typeof mac !== "string" || mac === "") return;
    const list = out.get(key) ?? [];
    list.push(mac.toUpperCase());
    out.set(key, list);
  };
  const { major, minor } = await client.status();
  if (major > 4 || (major === 4 && minor >= 2)) {
    const rows: NetBoxObject[] = await client.endpoint("dcim/mac-addresses/").all({}, {
      fields: ["id", "mac_address", "assigned_object_type", "assigned_object_id"],
      signal,
    });
    for (const r of rows) {
      if (r["assigned_object_type"] && r["assigned_object_id"] !== null) {
        add(`${r["assigned_object_type"]}:${r["assigned_object_id"]}`, r["mac_address"]);
      }
    }
    return out;
  }
  for (
    const [type, path] of [
      ["dcim.interface", "dcim/interfaces/"],
      ["virtualization.vminterface", "virtualization/interfaces/"],
    ]
  ) {
    const rows: NetBoxObject[] = await client.endpoint(path).all({}, {
      fields: ["id", "mac_address"],
      signal,
    });
    for (const r of rows) add(`${type}:${r.id}`, r["mac_address"]);
  }
  return out;
}
