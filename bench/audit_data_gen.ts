/**
 * Generates audit benchmark data: plain arrays in NetBox's read shape (as `?fields=` listings
 * return them), deterministic for a seed. Default 50,000 IP addresses and 5,000 prefixes over
 * ten VRFs and the global table, with devices, primaries, DNS names and a sprinkling of the
 * defects the audit looks for (so every rule does real work).
 *
 * ```sh
 * deno run --allow-write bench/audit_data_gen.ts --ips 50000 --prefixes 5000 > data.json
 * ```
 *
 * @module
 */

import type { AuditData, AuditHost, AuditIp, AuditPrefix, AuditRange } from "../lib/audit/model.ts";

/** Options of {@linkcode generateAuditData}. */
export interface GenerateOptions {
  /** @default {50000} */
  ips?: number;
  /** @default {5000} */
  prefixes?: number;
  /** @default {1} */
  seed?: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const API = "http://127.0.0.1:8000/api";

/**
 * Builds the data set.
 *
 * @param options Sizes and seed.
 * @returns The audit data.
 *
 * @example
 * ```ts
 * import { generateAuditData } from "./audit_data_gen.ts";
 * const data = generateAuditData({ ips: 1000, prefixes: 100 });
 * console.assert(data.ips.length === 1000 && data.prefixes.length === 100);
 * ```
 */
export function generateAuditData(options: GenerateOptions = {}): AuditData {
  const { ips: nIps = 50_000, prefixes: nPrefixes = 5_000, seed = 1 } = options;
  const random = rng(seed);
  const vrfs = Array.from(
    { length: 10 },
    (_, i) => ({ id: i + 1, name: `vrf-${i + 1}`, rd: `65000:${i + 1}` }),
  );
  const vrfRef = (id: number) => (id === 0 ? null : { id, name: `vrf-${id}` });
  // Per VRF (0 = global): one /8 container and /24 children under 10.<vrf>.x.0
  const containers = vrfs.length + 1;
  const prefixes: AuditPrefix[] = [];
  for (let v = 0; v < containers; v++) {
    prefixes.push({
      id: prefixes.length + 1,
      url: `${API}/ipam/prefixes/${prefixes.length + 1}/`,
      prefix: `${10 + v}.0.0.0/8`,
      vrf: vrfRef(v),
      status: { value: "container", label: "Container" },
      is_pool: false,
      mark_utilized: false,
      tags: [],
    });
  }
  const leaves: { vrf: number; a: number; b: number; len: number }[] = [];
  while (prefixes.length < nPrefixes) {
    const i = leaves.length;
    const vrf = i % containers;
    const a = Math.floor(i / containers / 256) % 256;
    const b = Math.floor(i / containers) % 256;
    const len = random() < 0.1 ? 25 : 24;
    leaves.push({ vrf, a, b, len });
    prefixes.push({
      id: prefixes.length + 1,
      url: `${API}/ipam/prefixes/${prefixes.length + 1}/`,
      prefix: `${10 + vrf}.${a}.${b}.0/${len}`,
      vrf: vrfRef(vrf),
      status: { value: "active", label: "Active" },
      is_pool: random() < 0.05,
      mark_utilized: false,
      tags: random() < 0.01 ? [{ slug: "audit-ignore", name: "audit-ignore" }] : [],
    });
  }
  const devices: AuditHost[] = [];
  const ips: AuditIp[] = [];
  const ranges: AuditRange[] = [];
  const used = new Array<number>(leaves.length).fill(0);
  for (let i = 0; i < nIps; i++) {
    const li = i % leaves.length;
    const leaf = leaves[li];
    const host = (used[li]++ % (leaf.len === 24 ? 253 : 125)) + 2;
    const id = i + 1;
    const roll = random();
    // Defect rates of a reasonably kept NetBox: well under 1 % each.
    let address = `${10 + leaf.vrf}.${leaf.a}.${leaf.b}.${host}/${leaf.len}`;
    if (roll < 0.003 && host > 2) address = `${10 + leaf.vrf}.${leaf.a}.${leaf.b}.2/${leaf.len}`; // duplicate
    else if (roll < 0.005) address = `${10 + leaf.vrf}.${leaf.a}.${leaf.b}.${host}/26`; // mask
    else if (roll < 0.007) address = `172.16.${li % 256}.${host}/24`; // orphan
    const assigned = random() < 0.95;
    let device: AuditHost | undefined;
    if (assigned) {
      if (devices.length === 0 || random() < 0.2) {
        const did = devices.length + 1;
        device = {
          id: did,
          url: `${API}/dcim/devices/${did}/`,
          name: `dev-${did}`,
          status: { value: random() < 0.95 ? "active" : "offline", label: "" },
          primary_ip4: { id },
          primary_ip6: null,
          oob_ip: null,
          virtual_chassis: null,
          tags: [],
        };
        devices.push(device);
      } else device = devices[Math.floor(random() * devices.length)];
    }
    const r2 = random();
    const status = r2 < 0.9 ? "active" : r2 < 0.99 ? "reserved" : "deprecated";
    ips.push({
      id,
      url: `${API}/ipam/ip-addresses/${id}/`,
      display: address,
      address,
      vrf: vrfRef(leaf.vrf),
      tenant: null,
      status: { value: status, label: status },
      role: random() < 0.01 ? { value: "vip", label: "VIP" } : null,
      assigned_object_type: device ? "dcim.interface" : null,
      assigned_object_id: device ? id * 3 : null,
      assigned_object: device
        ? {
          id: id * 3,
          name: "eth0",
          device: { id: device.id, name: device.name ?? undefined, url: device.url },
        }
        : null,
      nat_inside: null,
      dns_name: random() < 0.98 ? `host-${random() < 0.005 ? id - 1 : id}.example.net` : "",
      tags: [],
      created: "2024-01-01T00:00:00Z",
      last_updated: "2024-06-01T00:00:00Z",
    });
  }
  for (let r = 0; r < Math.min(200, leaves.length); r++) {
    const leaf = leaves[r * 7 % leaves.length];
    ranges.push({
      id: r + 1,
      url: `${API}/ipam/ip-ranges/${r + 1}/`,
      start_address: `${10 + leaf.vrf}.${leaf.a}.${leaf.b}.10/${leaf.len}`,
      end_address: `${10 + leaf.vrf}.${leaf.a}.${leaf.b}.50/${leaf.len}`,
      vrf: vrfRef(leaf.vrf),
      mark_utilized: r % 2 === 0,
      tags: [],
    });
  }
  return {
    ips,
    prefixes,
    ranges,
    vrfs,
    interfaces: [],
    vmInterfaces: [],
    devices,
    vms: [],
  };
}

if (import.meta.main) {
  const arg = (name: string, fallback: number) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  };
  const data = generateAuditData({
    ips: arg("--ips", 50_000),
    prefixes: arg("--prefixes", 5_000),
    seed: arg("--seed", 1),
  });
  console.log(JSON.stringify(data));
}
