/**
 * Fixes of the network rules, private to `fix.ts`: a `live-undocumented` address is created
 * (status and tag as named, in its finding's VRF, with its prefix's mask) unless NetBox has an
 * address with that host in that VRF when the plan is made; a `documented-unseen` address is
 * tagged (tagged ones are acknowledged and no longer reported).
 *
 * @module
 */

import type { NetBoxClient, NetBoxObject } from "../client/types.ts";
import type { Finding } from "./model.ts";
import { findingKey } from "./state.ts";

/** What the network fixes write. */
export interface NetworkFixOptions {
  /** The status of created addresses. @default {"active"} */
  status?: string;
  /** The tag of created addresses. @default {"discovered"} */
  tag?: string;
  /** The tag of unseen addresses. @default {"audit-unseen"} */
  unseenTag?: string;
}

/** A planned write (the shape of `FixItem`, without importing it back). */
export interface NetworkFixItem {
  rule: string;
  key: string;
  object_type: string;
  object_id: number;
  path: string;
  label: string;
  changes: { field: string; old: string; new: string }[];
  body: Record<string, unknown>;
  action?: "create";
}

const IP_PATH = "ipam/ip-addresses/";

function slugs(tags: unknown): string[] {
  return Array.isArray(tags)
    ? tags.map((t) => String((t as { slug?: string }).slug ?? (t as { name?: string }).name ?? ""))
    : [];
}

/**
 * Plans the network fixes of `findings` (only `live-undocumented` and `documented-unseen`),
 * reading NetBox now. Returns the items, the skipped findings with the reason, and the tags used.
 */
export async function planNetworkFixes(
  client: Pick<NetBoxClient, "ipam">,
  findings: readonly Finding[],
  options: NetworkFixOptions & { ignoreTag: string; signal?: AbortSignal },
): Promise<{
  items: NetworkFixItem[];
  skipped: { finding: Finding; reason: string }[];
  tags: string[];
}> {
  const { signal, ignoreTag } = options;
  const status = options.status ?? "active";
  const tag = options.tag ?? "discovered";
  const unseenTag = options.unseenTag ?? "audit-unseen";
  const items: NetworkFixItem[] = [];
  const skipped: { finding: Finding; reason: string }[] = [];
  const tags = new Set<string>();
  const live = findings.filter((f) => f.rule === "live-undocumented" && f.address);
  const unseen = findings.filter((f) => f.rule === "documented-unseen");
  const vrfs: NetBoxObject[] = live.some((f) => f.vrf !== null)
    ? await client.ipam.vrfs.all({}, { fields: ["id", "name"], signal })
    : [];
  for (const f of live) {
    const key = findingKey(f);
    const named = vrfs.filter((v) => v["name"] === f.vrf);
    if (f.vrf !== null && named.length !== 1) {
      skipped.push({ finding: f, reason: `${named.length} VRFs are named ${f.vrf}` });
      continue;
    }
    const vrfId = f.vrf === null ? null : named[0].id;
    const host = f.address!.split("/")[0];
    const have = await client.ipam.ipAddresses.all(
      { address: host, vrf_id: vrfId },
      { fields: ["id", "address"], signal },
    );
    if (have.length) {
      skipped.push({
        finding: f,
        reason: `NetBox has ${host} in that VRF now (${have.map((h) => h.address).join(", ")})`,
      });
      continue;
    }
    tags.add(tag);
    items.push({
      rule: f.rule,
      key,
      object_type: "ipam.ipaddress",
      object_id: 0,
      path: IP_PATH,
      label: f.address!,
      action: "create",
      changes: [
        { field: "address", old: "", new: f.address! },
        { field: "status", old: "", new: status },
        { field: "tags", old: "", new: tag },
      ],
      body: {
        address: f.address,
        vrf: vrfId,
        status,
        tags: [{ slug: tag }],
        description: "Seen on the network (audit-ips --observed)",
      },
    });
  }
  const ids = unseen.map((f) => f.object_id);
  const rows = ids.length
    ? await client.ipam.ipAddresses.all({ id: ids }, { fields: ["id", "address", "tags"], signal })
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const f of unseen) {
    const ip = byId.get(f.object_id);
    const before = ip ? slugs(ip.tags) : [];
    const reason = !ip
      ? "the address no longer exists"
      : before.includes(ignoreTag)
      ? `the address is tagged ${ignoreTag}`
      : before.includes(unseenTag)
      ? `the address is already tagged ${unseenTag}`
      : undefined;
    if (reason) {
      skipped.push({ finding: f, reason });
      continue;
    }
    tags.add(unseenTag);
    const after = [...before, unseenTag];
    items.push({
      rule: f.rule,
      key: findingKey(f),
      object_type: "ipam.ipaddress",
      object_id: f.object_id,
      path: IP_PATH,
      label: String(ip!.address),
      changes: [{ field: "tags", old: before.join(", "), new: after.join(", ") }],
      body: { tags: after.map((slug) => ({ slug })) },
    });
  }
  return { items, skipped, tags: [...tags] };
}
