/**
 * Seeds the benchmark data through the library's bulk create, once per database: a stamp (a tag
 * whose description names the data set) records that a database is complete, so later runs only
 * check it. The data lives in VRFs of its own (`bench-*`), never touching anything else.
 *
 * - `list`: 20,000 IP addresses (VRF `bench-list`, tag, DNS name, description) for the list case,
 *   plus the VRF, tag and prefix the create case imports into (its addresses are deleted after
 *   every rep).
 * - `audit`: 50,000 IP addresses in 5,000 /24 prefixes over 5 VRFs, with some orphans and DNS
 *   names, plus a few devices with interfaces and primary IPs, for `audit-ips`.
 *
 * @module
 */

import { createClient } from "../mod.ts";
import type { Endpoint, NetBoxClient, NetBoxObject } from "../mod.ts";
import type { WritableInterface, WritableIPAddress } from "../lib/client/models.ts";

/** Bump when the generated data changes: a stamp mismatch reseeds. */
const SEED_VERSION = 1;

/** Sizes of the data sets. */
export const LIST_COUNT = 20_000;
export const CREATE_COUNT = 5_000;
export const AUDIT_IPS = 50_000;
export const AUDIT_PREFIXES = 5_000;

/** The VRF, tag and /16 the create case writes into (shared with the generated import file). */
export const CREATE_VRF = "bench-create";
export const CREATE_TAG = "bench-create";
export const CREATE_BASE = "10.128.0.0";

/** Connection to one bench instance. */
export interface Target {
  url: string;
  token: string;
}

type Log = (line: string) => void;

function client(target: Target): NetBoxClient {
  // Seeding writes big chunks to a slow server: a generous timeout (a timed-out POST is not
  // retried, and the server still finishes it; the next run creates only what is missing).
  return createClient({
    url: target.url,
    token: target.token,
    concurrency: 4,
    retries: 2,
    timeoutMs: 600_000,
    retryBudgetMs: 1_200_000,
  });
}

/** The N-th host address from a /16 base, skipping .0 and .255 of every /24. */
export function nthAddress(base: string, n: number): string {
  const [a, b] = base.split(".").map(Number);
  const third = Math.floor(n / 254);
  const fourth = (n % 254) + 1;
  return `${a}.${b + Math.floor(third / 256)}.${third % 256}.${fourth}`;
}

/** The IP addresses of the create case, as API bodies (VRF and tag by id). */
export function createBodies(
  vrfId: number,
  tagId: number,
  count = CREATE_COUNT,
): WritableIPAddress[] {
  return Array.from({ length: count }, (_, n) => ({
    address: `${nthAddress(CREATE_BASE, n)}/16`,
    vrf: vrfId,
    status: "active",
    dns_name: `host-${n}.bench.example.com`,
    tags: [tagId],
  }));
}

async function ensureOne(
  c: NetBoxClient,
  ep: keyof NetBoxClient["ipam"] | "tags",
  filters: Record<string, string>,
  body: Record<string, unknown>,
): Promise<NetBoxObject> {
  const endpoint: Endpoint = ep === "tags" ? c.extras.tags : c.ipam[ep];
  const found = await endpoint.find(filters);
  return found ?? await endpoint.create(body);
}

async function stampOf(c: NetBoxClient, slug: string): Promise<string | undefined> {
  const tag = await c.extras.tags.find({ slug });
  return tag ? String(tag.description ?? "") : undefined;
}

async function setStamp(c: NetBoxClient, slug: string, text: string): Promise<void> {
  const tag = await c.extras.tags.find({ slug });
  if (tag) await c.extras.tags.update(tag.id, { description: text });
  else await c.extras.tags.create({ name: slug, slug, description: text });
}

async function createAll(
  c: NetBoxClient,
  ep: { create(b: Record<string, unknown>[], o?: object): Promise<{ failed: unknown[] }> },
  bodies: Record<string, unknown>[],
  what: string,
  log: Log,
): Promise<void> {
  const t0 = performance.now();
  const res = await ep.create(bodies, { chunkSize: 250, concurrency: 2 });
  if (res.failed.length) {
    const first = res.failed[0] as { messages: unknown; error: Error };
    throw new Error(
      `Cannot seed ${what}: ${res.failed.length} failed, first: ${
        JSON.stringify(first.messages)
      } ${first.error?.message}`,
    );
  }
  log(`seeded ${bodies.length} ${what} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  void c;
}

/** Deletes every IP address of the create case's VRF (left over from an interrupted run). */
export async function clearCreated(target: Target, log: Log = () => {}): Promise<number> {
  const c = client(target);
  try {
    const vrf = await c.ipam.vrfs.find({ name: CREATE_VRF });
    if (!vrf) return 0;
    const ids = (await c.ipam.ipAddresses.all({ vrf_id: vrf.id }, { fields: ["id"] })).map((o) =>
      o.id
    );
    if (ids.length) {
      await c.ipam.ipAddresses.delete(ids, { chunkSize: 1000, concurrency: 2 });
      log(`deleted ${ids.length} addresses of VRF ${CREATE_VRF}`);
    }
    return ids.length;
  } finally {
    c.close();
  }
}

/**
 * Deletes every IP address of the create case's VRF straight in PostgreSQL (with their tag links
 * and search-cache rows): the state the next rep needs, in well under a second. Through the API
 * a bulk delete of 5,000 addresses takes minutes on a loaded 2-core box, which would dominate
 * the run. The change log keeps the history rows (harmless).
 *
 * @param db The instance's database.
 * @returns How many addresses were deleted.
 */
export async function clearCreatedSql(db: string): Promise<number> {
  const sql =
    `WITH ct AS (SELECT id FROM django_content_type WHERE app_label = 'ipam' AND model = 'ipaddress'),
ips AS (SELECT a.id FROM ipam_ipaddress a JOIN ipam_vrf v ON v.id = a.vrf_id WHERE v.name = '${CREATE_VRF}'),
t AS (DELETE FROM extras_taggeditem WHERE content_type_id = (SELECT id FROM ct) AND object_id IN (SELECT id FROM ips)),
c AS (DELETE FROM extras_cachedvalue WHERE object_type_id = (SELECT id FROM ct) AND object_id IN (SELECT id FROM ips)),
d AS (DELETE FROM ipam_ipaddress WHERE id IN (SELECT id FROM ips) RETURNING id)
SELECT count(*) FROM d;`;
  const out = await new Deno.Command("psql", {
    args: [
      "-X",
      "-q",
      "-At",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      "127.0.0.1",
      "-U",
      "postgres",
      "-d",
      db,
      "-c",
      sql,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`Cannot clear the created addresses: ${new TextDecoder().decode(out.stderr)}`);
  }
  return Number(new TextDecoder().decode(out.stdout).trim());
}

/** Ids the create case needs: its VRF and tag. */
export interface CreateRefs {
  vrfId: number;
  tagId: number;
}

/**
 * Seeds the list data set (20,000 addresses) and the create case's VRF, tag and prefix, unless the
 * stamp says it is there. Always removes leftovers of the create case.
 */
export async function seedList(target: Target, log: Log): Promise<CreateRefs> {
  const c = client(target);
  const want = `netbox-toolkit bench list v${SEED_VERSION}: ${LIST_COUNT} ips`;
  try {
    const vrf = await ensureOne(c, "vrfs", { name: CREATE_VRF }, {
      name: CREATE_VRF,
      enforce_unique: true,
    });
    const tag = await ensureOne(c, "tags", { slug: CREATE_TAG }, {
      name: CREATE_TAG,
      slug: CREATE_TAG,
    });
    await ensureOne(c, "prefixes", { prefix: `${CREATE_BASE}/16`, vrf_id: String(vrf.id) }, {
      prefix: `${CREATE_BASE}/16`,
      vrf: vrf.id,
      status: "active",
    });
    await clearCreated(target, log);
    if (await stampOf(c, "bench-seed-list") === want) {
      return { vrfId: vrf.id, tagId: tag.id };
    }
    const listVrf = await ensureOne(c, "vrfs", { name: "bench-list" }, {
      name: "bench-list",
      enforce_unique: true,
    });
    const listTag = await ensureOne(c, "tags", { slug: "bench-list" }, {
      name: "bench-list",
      slug: "bench-list",
    });
    const have = new Set(
      (await c.ipam.ipAddresses.all({ vrf_id: listVrf.id }, { fields: ["address"] })).map((o) =>
        String(o.address)
      ),
    );
    const bodies = Array.from({ length: LIST_COUNT }, (_, n) => ({
      address: `${nthAddress("10.64.0.0", n)}/16`,
      vrf: listVrf.id,
      status: n % 10 === 0 ? "reserved" : "active",
      dns_name: `list-${n}.bench.example.com`,
      description: `bench list address ${n}`,
      tags: [listTag.id],
    })).filter((b) => !have.has(b.address));
    await createAll(c, c.ipam.ipAddresses, bodies, "list addresses", log);
    await setStamp(c, "bench-seed-list", want);
    return { vrfId: vrf.id, tagId: tag.id };
  } finally {
    c.close();
  }
}

/**
 * Seeds the audit data set: 5 VRFs, 5,000 /24 prefixes (1,000 per VRF), 50,000 addresses (10 in
 * each prefix, 1 in 50 outside every prefix), DNS names on most, 100 devices with one interface
 * and a primary IP each.
 */
export async function seedAudit(target: Target, log: Log): Promise<void> {
  const c = client(target);
  const want =
    `netbox-toolkit bench audit v${SEED_VERSION}: ${AUDIT_IPS} ips, ${AUDIT_PREFIXES} prefixes`;
  try {
    if (await stampOf(c, "bench-seed-audit") === want) return;
    let existing = await c.ipam.ipAddresses.count();
    // Another seeder (an earlier run still going) may be filling it: wait for its stamp.
    for (let waited = 0; existing > 0 && waited < 30 * 60_000; waited += 15_000) {
      log(`waiting for another seeder (${existing} addresses so far, no stamp yet)`);
      await new Promise((r) => setTimeout(r, 15_000));
      if (await stampOf(c, "bench-seed-audit") === want) return;
      existing = await c.ipam.ipAddresses.count();
    }
    if (existing > 0) {
      throw new Error(
        `Cannot seed the audit data: the database already holds ${existing} IP addresses without a complete stamp; recreate it with provision.sh up --fresh on the audit port`,
      );
    }
    const vrfs: NetBoxObject[] = [];
    for (let v = 0; v < 5; v++) {
      vrfs.push(
        await ensureOne(c, "vrfs", { name: `audit-${v}` }, {
          name: `audit-${v}`,
          rd: `65000:${v}`,
          enforce_unique: v !== 4,
        }),
      );
    }
    const perVrf = AUDIT_PREFIXES / vrfs.length;
    const prefixes = vrfs.flatMap((vrf, v) =>
      Array.from({ length: perVrf }, (_, p) => ({
        prefix: `10.${v * 8 + Math.floor(p / 256)}.${p % 256}.0/24`,
        vrf: vrf.id,
        status: p % 7 === 0 ? "reserved" : "active",
        description: `audit prefix ${v}/${p}`,
      }))
    );
    await createAll(c, c.ipam.prefixes, prefixes, "prefixes", log);
    const perPrefix = AUDIT_IPS / AUDIT_PREFIXES;
    const ips: Record<string, unknown>[] = [];
    prefixes.forEach((pfx, p) => {
      const [a, b, third] = String(pfx.prefix).split(".");
      for (let h = 0; h < perPrefix; h++) {
        const n = p * perPrefix + h;
        // 1 in 50 lies outside every prefix (an orphan): 172.16.x.y.
        const address = n % 50 === 49
          ? `172.${16 + Math.floor(n / 65_000)}.${Math.floor(n / 250) % 256}.${(n % 250) + 1}/24`
          : `${a}.${b}.${third}.${h * 20 + 1}/24`;
        ips.push({
          address,
          vrf: pfx.vrf,
          status: h === 9 ? "dhcp" : "active",
          dns_name: n % 13 === 0 ? "" : `h${n}.v${pfx.vrf}.audit.example.com`,
        });
      }
    });
    await createAll(c, c.ipam.ipAddresses, ips, "addresses", log);
    await seedDevices(c, vrfs[0], log);
    await setStamp(c, "bench-seed-audit", want);
  } finally {
    c.close();
  }
}

async function seedDevices(c: NetBoxClient, vrf: NetBoxObject, log: Log): Promise<void> {
  const site = await c.dcim.sites.create({ name: "audit-site", slug: "audit-site" });
  const maker = await c.dcim.manufacturers.create({ name: "audit-maker", slug: "audit-maker" });
  const type = await c.dcim.deviceTypes.create({
    manufacturer: maker.id,
    model: "audit-model",
    slug: "audit-model",
  });
  const role = await c.dcim.deviceRoles.create({ name: "audit-role", slug: "audit-role" });
  const devices = Array.from({ length: 100 }, (_, d) => ({
    name: `audit-dev-${d}`,
    site: site.id,
    device_type: type.id,
    role: role.id,
  }));
  const made = await c.dcim.devices.create(devices, { chunkSize: 100 });
  const ifaces = await c.dcim.interfaces.create(
    made.succeeded.map((d): WritableInterface => ({
      device: d.id,
      name: "eth0",
      type: "1000base-t",
    })),
    { chunkSize: 100 },
  );
  const ips = await c.ipam.ipAddresses.create(
    ifaces.succeeded.map((i, d) => ({
      address: `10.250.${d}.1/24`,
      vrf: vrf.id,
      assigned_object_type: "dcim.interface",
      assigned_object_id: i.id,
      dns_name: `audit-dev-${d}.audit.example.com`,
    })),
    { chunkSize: 100 },
  );
  await c.dcim.devices.update(
    ips.succeeded.map((ip, d) => ({ id: made.succeeded[d].id, primary_ip4: ip.id })),
    { chunkSize: 100 },
  );
  log(`seeded 100 devices with interfaces and primary IPs`);
}

if (import.meta.main) {
  const [which, url, tokenVar = "NETBOX_TOKEN"] = Deno.args;
  const target = { url, token: Deno.env.get(tokenVar) ?? "" };
  const log = (l: string) => console.error(`seed: ${l}`);
  if (which === "audit") await seedAudit(target, log);
  else console.log(JSON.stringify(await seedList(target, log)));
}
