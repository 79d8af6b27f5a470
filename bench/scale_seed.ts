/**
 * Seeds the `--scale` data straight into NetBox's own tables with SQL (`INSERT … SELECT` from
 * `generate_series`, in one transaction), because through the API every IP address write takes
 * NetBox's global lock (~36 ms each: a million would take ten hours). The rows are written the
 * way NetBox stores them:
 *
 * - `ipam_vrf`, `ipam_prefix`, `ipam_ipaddress` with every NOT NULL column NetBox fills
 *   (`created`, `last_updated`, `custom_field_data = {}`, empty `description`/`comments`,
 *   `dns_name` lower case, host bits of prefixes cleared);
 * - the prefix hierarchy counters `_depth` and `_children`, which NetBox 4.7 keeps in Python
 *   signals (`ipam/signals.py`, no database triggers): recomputed for every prefix with the very
 *   SQL of `PrefixQuerySet.annotate_hierarchy()`;
 * - the global search cache (`extras_cachedvalue`), with the fields, types and weights of
 *   `ipam/search.py` (`IPAddressIndex`, `PrefixIndex`, `VRFIndex`), as NetBox's search backend
 *   writes it on save.
 *
 * Not written: change log rows (`core_objectchange`), which NetBox records for API writes; the
 * bench reads nothing from them.
 *
 * A stamp (a comment on the `ipam_ipaddress` table, naming the seed version and sizes) marks a
 * complete seed, so a later run reuses the database in seconds; the database comment is left to
 * provision.sh (it re-clones a database whose comment is not its template stamp). After seeding,
 * {@linkcode verifyScale} reads the data back through the API.
 *
 * The layout of a step with N addresses (N = 1,000,000 or 100,000):
 * - 10 VRFs `scale-0` … `scale-9` (RD `65100:v`);
 * - N/10 prefixes: the global pool `10.0.0.0/12`, one `10.64.0.0/10` container per VRF, and
 *   /24s under it spread over the VRFs (every 7th `reserved`);
 * - N/2 addresses in the pool, every second host from `10.0.0.2` (`/12`, so the free space is
 *   fragmented into single addresses: the worst case for a free-address search);
 * - N/2 addresses in the VRF /24s, about 5 per /24; 1 in 50 outside every prefix (an orphan, in
 *   172.16.0.0/12), 1 in 13 without DNS name, 1 in 10 `reserved`, 1 in 10 `dhcp`.
 *
 * @module
 */

import { createClient } from "../mod.ts";
import type { InstanceName } from "./_provision.ts";

/** Bump when the generated data changes: a stamp mismatch reseeds. */
export const SCALE_SEED_VERSION = 1;

/** The free-address pool of every step. */
export const POOL_CIDR = "10.0.0.0/12";

/** One size of the scale bench. */
export interface ScaleStep {
  /** `100k` or `1m`. */
  id: string;
  /** Its NetBox instance (database, port). */
  instance: InstanceName;
  /** IP addresses in all. */
  ips: number;
  /** Prefixes in all. */
  prefixes: number;
  /** Addresses inside the pool ({@linkcode POOL_CIDR}). */
  poolIps: number;
}

/** The steps, by id. */
export const STEPS: Record<string, ScaleStep> = {
  "100k": { id: "100k", instance: "scale100k", ips: 100_000, prefixes: 10_000, poolIps: 50_000 },
  "1m": { id: "1m", instance: "scale1m", ips: 1_000_000, prefixes: 100_000, poolIps: 500_000 },
};

type Log = (line: string) => void;

/** Runs SQL through psql against a database (loopback, user postgres); returns stdout. */
export async function psql(db: string, sql: string, args: string[] = []): Promise<string> {
  const child = new Deno.Command("psql", {
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
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { PGOPTIONS: "-c client_min_messages=warning" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(sql));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`Cannot run SQL on ${db}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/** The stamp a complete seed of `step` carries. */
export function stampOf(step: ScaleStep): string {
  return `netbox-toolkit scale seed v${SCALE_SEED_VERSION}: ${step.ips} ips, ${step.prefixes} prefixes, ${step.poolIps} in ${POOL_CIDR}`;
}

/** The stamp the database carries now ('' when none). */
export async function currentStamp(db: string): Promise<string> {
  return await psql(
    db,
    "SELECT coalesce(obj_description('ipam_ipaddress'::regclass, 'pg_class'), '');",
  );
}

/**
 * The seeding SQL of a step (one transaction). Exported for review and tests; parameters are
 * numbers only.
 */
export function seedSql(step: ScaleStep): string {
  const n = step.ips;
  const f = step.poolIps;
  const leaves = step.prefixes - 11;
  const inVrfs = n - f;
  return `
SET synchronous_commit = off;
BEGIN;
CREATE TEMP TABLE ct ON COMMIT DROP AS
  SELECT model, id FROM django_content_type WHERE app_label = 'ipam' AND model IN ('ipaddress', 'prefix', 'vrf');
-- Start clean (a partial earlier seed); the bench database holds nothing else of ours.
COMMENT ON TABLE ipam_ipaddress IS NULL;
DELETE FROM extras_cachedvalue WHERE object_type_id IN (SELECT id FROM ct);
DELETE FROM ipam_ipaddress;
DELETE FROM ipam_prefix;
DELETE FROM ipam_vrf WHERE name LIKE 'scale-%';

INSERT INTO ipam_vrf (created, last_updated, custom_field_data, name, rd, enforce_unique, description, comments)
SELECT now(), now(), '{}', 'scale-' || v, '65100:' || v, true, '', ''
FROM generate_series(0, 9) AS v;
CREATE TEMP TABLE vrfmap ON COMMIT DROP AS
  SELECT substr(name, 7)::int AS v, id FROM ipam_vrf WHERE name LIKE 'scale-%';

INSERT INTO ipam_prefix (created, last_updated, custom_field_data, prefix, status, is_pool, description,
                         vrf_id, _children, _depth, mark_utilized, comments)
SELECT now(), now(), '{}', '${POOL_CIDR}'::cidr, 'active', false, 'scale free-ip pool', NULL, 0, 0, false, '';
INSERT INTO ipam_prefix (created, last_updated, custom_field_data, prefix, status, is_pool, description,
                         vrf_id, _children, _depth, mark_utilized, comments)
SELECT now(), now(), '{}', '10.64.0.0/10'::cidr, 'container', false, '', id, 0, 0, false, ''
FROM vrfmap ORDER BY v;
INSERT INTO ipam_prefix (created, last_updated, custom_field_data, prefix, status, is_pool, description,
                         vrf_id, _children, _depth, mark_utilized, comments)
SELECT now(), now(), '{}',
       set_masklen('10.64.0.0'::inet + ((i / 10) * 256), 24)::cidr,
       CASE WHEN i % 7 = 0 THEN 'reserved' ELSE 'active' END, false, '', m.id, 0, 0, false, ''
FROM generate_series(0, ${leaves - 1}) AS i JOIN vrfmap m ON m.v = i % 10
ORDER BY i;

-- The pool: every second host from 10.0.0.2.
INSERT INTO ipam_ipaddress (created, last_updated, custom_field_data, address, status, role, dns_name,
                            description, vrf_id, comments)
SELECT now(), now(), '{}', set_masklen('10.0.0.0'::inet + 2 * (j + 1), 12), 'active', NULL,
       'f' || j || '.pool.scale.example.com', '', NULL, ''
FROM generate_series(0, ${f - 1}) AS j;

-- The VRFs: about 5 per /24 (hosts .1, .41, .81 …); 1 in 50 an orphan in 172.16.0.0/12.
INSERT INTO ipam_ipaddress (created, last_updated, custom_field_data, address, status, role, dns_name,
                            description, vrf_id, comments)
SELECT now(), now(), '{}',
       CASE WHEN x.m % 50 = 49 THEN set_masklen('172.16.0.0'::inet + x.m, 24)
            ELSE set_masklen('10.64.0.0'::inet + (x.k * 256 + 1 + x.h * 40), 24) END,
       CASE x.m % 10 WHEN 0 THEN 'reserved' WHEN 1 THEN 'dhcp' ELSE 'active' END, NULL,
       CASE WHEN x.m % 13 = 0 THEN '' ELSE 'h' || x.m || '.v' || x.v || '.scale.example.com' END,
       '', vm.id, ''
FROM (
  SELECT m, (m % ${leaves}) / 10 AS k, (m % ${leaves}) % 10 AS v, m / ${leaves} AS h
  FROM generate_series(0, ${inVrfs - 1}) AS m
) AS x JOIN vrfmap vm ON vm.v = x.v
ORDER BY x.m;

ANALYZE ipam_prefix;
ANALYZE ipam_ipaddress;

-- The hierarchy counters, with the SQL of PrefixQuerySet.annotate_hierarchy().
UPDATE ipam_prefix AS p SET
  _depth = (SELECT COUNT(DISTINCT u0.prefix) FROM ipam_prefix u0
            WHERE u0.prefix >> p.prefix AND COALESCE(u0.vrf_id, 0) = COALESCE(p.vrf_id, 0)),
  _children = (SELECT COUNT(u1.prefix) FROM ipam_prefix u1
               WHERE u1.prefix << p.prefix AND COALESCE(u1.vrf_id, 0) = COALESCE(p.vrf_id, 0));

-- The search cache, as CachedValueSearchBackend.cache() writes it.
INSERT INTO extras_cachedvalue (id, timestamp, object_type_id, object_id, field, type, value, weight)
SELECT gen_random_uuid(), now(), (SELECT id FROM ct WHERE model = 'ipaddress'), id, f.field, f.type, f.value, f.weight
FROM ipam_ipaddress,
LATERAL (VALUES ('address', 'inet', address::text, 100), ('dns_name', 'str', dns_name, 300),
                ('description', 'str', description, 500), ('comments', 'str', comments, 5000))
  AS f(field, type, value, weight)
WHERE f.value <> '';
INSERT INTO extras_cachedvalue (id, timestamp, object_type_id, object_id, field, type, value, weight)
SELECT gen_random_uuid(), now(), (SELECT id FROM ct WHERE model = 'prefix'), id, f.field, f.type, f.value, f.weight
FROM ipam_prefix,
LATERAL (VALUES ('prefix', 'cidr', prefix::text, 110), ('description', 'str', description, 500),
                ('comments', 'str', comments, 5000))
  AS f(field, type, value, weight)
WHERE f.value <> '';
INSERT INTO extras_cachedvalue (id, timestamp, object_type_id, object_id, field, type, value, weight)
SELECT gen_random_uuid(), now(), (SELECT id FROM ct WHERE model = 'vrf'), id, f.field, f.type, f.value, f.weight
FROM ipam_vrf,
LATERAL (VALUES ('name', 'str', name::text, 100), ('rd', 'str', coalesce(rd, ''), 200),
                ('description', 'str', description, 500), ('comments', 'str', comments, 5000))
  AS f(field, type, value, weight)
WHERE name LIKE 'scale-%' AND f.value <> '';

COMMENT ON TABLE ipam_ipaddress IS '${stampOf(step)}';
COMMIT;
ANALYZE ipam_vrf;
ANALYZE extras_cachedvalue;
`;
}

/**
 * Seeds a step's database unless its stamp says the seed is complete.
 *
 * @returns Seconds spent seeding (0 when reused).
 */
export async function seedScale(db: string, step: ScaleStep, log: Log): Promise<number> {
  if (await currentStamp(db) === stampOf(step)) {
    log(`${db}: seeded already (${stampOf(step)})`);
    return 0;
  }
  log(`${db}: seeding ${step.ips} addresses, ${step.prefixes} prefixes by SQL`);
  const t0 = performance.now();
  await psql(db, seedSql(step));
  const s = (performance.now() - t0) / 1000;
  log(`${db}: seeded in ${s.toFixed(0)} s`);
  return s;
}

/** What {@linkcode verifyScale} checked. */
export interface Verification {
  checks: string[];
  ms: number;
}

/**
 * Reads the seeded data back through the API: the counts, a sample of addresses and prefixes
 * compared field by field with their rows, the hierarchy counters of the sample against
 * NetBox's own SQL, and the pool's `available-ips` (the odd hosts). Throws on any difference.
 */
export async function verifyScale(
  db: string,
  step: ScaleStep,
  target: { url: string; token: string },
): Promise<Verification> {
  const t0 = performance.now();
  const checks: string[] = [];
  const client = createClient({ url: target.url, token: target.token, timeoutMs: 600_000 });
  const fail = (what: string) => {
    throw new Error(`Cannot trust the scale seed of ${db}: ${what}`);
  };
  try {
    const [ips, prefixes, vrfs] = await Promise.all([
      client.ipam.ipAddresses.count(),
      client.ipam.prefixes.count(),
      client.ipam.vrfs.count({ name__isw: "scale-" }),
    ]);
    if (ips !== step.ips || prefixes !== step.prefixes || vrfs !== 10) {
      fail(`the API counts ${ips} addresses, ${prefixes} prefixes, ${vrfs} VRFs`);
    }
    checks.push(`API counts: ${ips} addresses, ${prefixes} prefixes, ${vrfs} VRFs`);
    // A sample spread over the table (both halves, orphans included).
    const rows = (await psql(
      db,
      `SELECT a.id, a.address::text, coalesce(v.name, ''), a.status, a.dns_name
       FROM ipam_ipaddress a LEFT JOIN ipam_vrf v ON v.id = a.vrf_id
       WHERE a.id % ${
        Math.floor(step.ips / 40)
      } = 7 OR a.id IN (SELECT max(id) FROM ipam_ipaddress) ORDER BY a.id;`,
    )).split("\n").map((l) => l.split("|"));
    const got = await client.ipam.ipAddresses.all({ id: rows.map((r) => Number(r[0])) });
    const byId = new Map(got.map((ip) => [ip.id, ip]));
    for (const [id, address, vrf, status, dns] of rows) {
      const ip = byId.get(Number(id));
      const apiVrf = ip?.vrf?.name ?? "";
      const apiStatus = typeof ip?.status === "object" ? ip.status?.value : ip?.status;
      if (
        !ip || ip.address !== address || apiVrf !== vrf || apiStatus !== status ||
        ip.dns_name !== dns
      ) {
        fail(
          `address ${id} reads back as ${
            JSON.stringify(
              ip && { address: ip.address, vrf: apiVrf, status: apiStatus, dns_name: ip.dns_name },
            )
          }, stored ${address} ${vrf} ${status} ${dns}`,
        );
      }
    }
    checks.push(
      `${rows.length} sampled addresses read back field by field (address, VRF, status, DNS name)`,
    );
    const prows = (await psql(
      db,
      `SELECT p.id, p.prefix::text, coalesce(v.name, ''), p.status,
         (SELECT COUNT(DISTINCT u0.prefix) FROM ipam_prefix u0 WHERE u0.prefix >> p.prefix AND COALESCE(u0.vrf_id, 0) = COALESCE(p.vrf_id, 0)),
         (SELECT COUNT(u1.prefix) FROM ipam_prefix u1 WHERE u1.prefix << p.prefix AND COALESCE(u1.vrf_id, 0) = COALESCE(p.vrf_id, 0))
       FROM ipam_prefix p LEFT JOIN ipam_vrf v ON v.id = p.vrf_id
       WHERE p.id <= 12 OR p.id % ${Math.floor(step.prefixes / 20)} = 3 ORDER BY p.id;`,
    )).split("\n").map((l) => l.split("|"));
    const pgot = await client.ipam.prefixes.all({ id: prows.map((r) => Number(r[0])) });
    const pById = new Map(pgot.map((p) => [p.id, p]));
    for (const [id, prefix, vrf, status, depth, children] of prows) {
      const p = pById.get(Number(id)) as Record<string, unknown> | undefined;
      const pv = (p?.vrf as { name?: string } | null)?.name ?? "";
      const ps = (p?.status as { value?: string } | undefined)?.value;
      if (
        !p || p.prefix !== prefix || pv !== vrf || ps !== status || p._depth !== Number(depth) ||
        p.children !== Number(children)
      ) {
        fail(
          `prefix ${id} reads back as ${
            JSON.stringify(
              p &&
                { prefix: p.prefix, vrf: pv, status: ps, _depth: p._depth, children: p.children },
            )
          }, expected ${prefix} ${vrf} ${status} depth ${depth} children ${children}`,
        );
      }
    }
    checks.push(
      `${prows.length} sampled prefixes read back, _depth and children equal to NetBox's annotate_hierarchy() SQL`,
    );
    const pool = await client.ipam.prefixes.find({ prefix: POOL_CIDR, vrf_id: "null" });
    if (!pool) fail(`no pool prefix ${POOL_CIDR}`);
    const free = await client.ipam.prefixes.availableIps(pool!.id).list({ limit: 3 });
    const want = ["10.0.0.1/12", "10.0.0.3/12", "10.0.0.5/12"];
    if (free.map((a) => a.address).join() !== want.join()) {
      fail(`available-ips of ${POOL_CIDR} starts ${free.map((a) => a.address).join(", ")}`);
    }
    checks.push(`/api/ipam/prefixes/${pool!.id}/available-ips/ answers ${want.join(", ")}`);
    const inPool = await client.ipam.ipAddresses.count({ parent: POOL_CIDR, vrf_id: "null" });
    if (inPool !== step.poolIps) fail(`${inPool} addresses in ${POOL_CIDR}`);
    checks.push(`${inPool} addresses in ${POOL_CIDR} (parent filter)`);
    return { checks, ms: performance.now() - t0 };
  } finally {
    client.close();
  }
}

/** One entry of the import files (also the pynetbox plan's input). */
export interface ImportItem {
  address: string;
  vrf: string;
  status: string;
  dns_name?: string;
  description?: string;
}

/**
 * The import data of a step: `count` IP addresses, half of them existing (from VRFs `scale-0`
 * and `scale-1`, in id order; of those, every second with a changed description), the other
 * half new (VRF `scale-0`, from 10.128.0.1/24 on). A plan of it: count/2 create, count/4
 * update, count/4 unchanged.
 */
export async function importItems(db: string, count: number): Promise<ImportItem[]> {
  const existing = Math.floor(count / 2);
  const rows = (await psql(
    db,
    `SELECT a.address::text, v.name, a.status, a.dns_name FROM ipam_ipaddress a
     JOIN ipam_vrf v ON v.id = a.vrf_id WHERE v.name IN ('scale-0', 'scale-1')
     ORDER BY a.id LIMIT ${existing};`,
  )).split("\n").filter(Boolean).map((l) => l.split("|"));
  if (rows.length < existing) {
    throw new Error(`Cannot build the import data: only ${rows.length} addresses in scale-0/1`);
  }
  const items: ImportItem[] = rows.map(([address, vrf, status, dns], i) => ({
    address,
    vrf,
    status,
    ...(dns ? { dns_name: dns } : {}),
    ...(i % 2 ? { description: "changed by the scale import" } : {}),
  }));
  for (let n = 0; items.length < count; n++) {
    const third = Math.floor(n / 254);
    items.push({
      address: `10.${128 + Math.floor(third / 256)}.${third % 256}.${(n % 254) + 1}/24`,
      vrf: "scale-0",
      status: "active",
      dns_name: `new-${n}.import.scale.example.com`,
    });
  }
  return items;
}

/** The import items as a bulk-import YAML file (flow mappings, one per line). */
export function importYaml(items: ImportItem[]): string {
  const lines = ["ip_addresses:"];
  for (const item of items) {
    const parts = Object.entries(item).map(([k, v]) =>
      `${k}: ${/^[\w./:-]+$/.test(v) ? v : JSON.stringify(v)}`
    );
    lines.push(`  - {${parts.join(", ")}}`);
  }
  return lines.join("\n") + "\n";
}
