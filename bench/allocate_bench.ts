/**
 * The allocate case of `deno task bench --cases allocate`: 100 `/30`s allocated one at a time out
 * of a `/16` that holds 20,000 prefixes — the library (`allocatePrefixes` in a loop, one call per
 * prefix) against pynetbox (`nb.ipam.prefixes.get(id).available_prefixes.create(...)` in a
 * loop), in the same run, reps interleaved; beside them the library with `policy: least-used`,
 * which measures the parent before each POST ({@linkcode MEASURED_COUNT} prefixes a run). NetBox takes its advisory lock and computes the free
 * space of the parent on every POST; that is the server's cost, and ours must add nothing to it.
 *
 * The data lives in the `list` bench instance's database, in a VRF of its own
 * ({@linkcode ALLOC_VRF}), seeded straight into NetBox's tables by SQL (see
 * {@linkcode allocateSeedSql}; an API seed takes minutes on a loaded box, and the layout is
 * checked through the API afterwards, {@linkcode verifyAllocateSeed}). Every variant's 100
 * prefixes are checked (distinct, inside the parent, clear of the seed) and deleted again through
 * the API (one bulk DELETE, not timed), so every rep starts equal.
 *
 * Layout of the parent `10.200.0.0/16`: 12,000 `/31` links, each followed by a free `/31` (the
 * first 48,000 addresses), then 8,000 `/32` loopbacks back to back — so the free space is 12,000
 * fragments too small for a `/30`, and the `/30`s come out of the 9,536 addresses at the end,
 * from `10.200.218.192/30`.
 *
 * @module
 */

import { createClient } from "../mod.ts";
import { fmtMs, loadAvg, median, type Sample, timed, type Variant } from "./_measure.ts";
import type { Instance } from "./_provision.ts";
import type { Check, Row } from "./_report.ts";
import { psql } from "./scale_seed.ts";

/** The VRF holding the parent and its children. */
export const ALLOC_VRF = "bench-allocate";
/** The parent prefix. */
export const ALLOC_PARENT = "10.200.0.0/16";
/** Children seeded into the parent. */
export const ALLOC_CHILDREN = 20_000;
/** `/31` links among them (each followed by a free `/31`); the rest are `/32`s. */
export const ALLOC_LINKS = 12_000;
/** Prefixes allocated per variant and rep. */
export const ALLOC_COUNT = 100;
/** Their length. */
export const ALLOC_LENGTH = 30;
/** Prefixes the measuring variant (`policy: least-used`) allocates per rep: a fifth, for time. */
export const MEASURED_COUNT = 20;

const BASE = 0x0ac80000; // 10.200.0.0

function dotted(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/**
 * The i-th seeded child of the parent (0-based): a `/31` at every fourth address for the first
 * {@linkcode ALLOC_LINKS}, then `/32`s back to back.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { seededChild } from "./allocate_bench.ts";
 * assert(seededChild(1) === "10.200.0.4/31" && seededChild(12000) === "10.200.187.128/32");
 * ```
 */
export function seededChild(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= ALLOC_CHILDREN) {
    throw new RangeError(`Cannot name seeded child ${i}: expected 0 to ${ALLOC_CHILDREN - 1}`);
  }
  return i < ALLOC_LINKS
    ? `${dotted(BASE + 4 * i)}/31`
    : `${dotted(BASE + 4 * ALLOC_LINKS + (i - ALLOC_LINKS))}/32`;
}

/** The first address after the seed (offset in the parent): where the `/30`s start. */
export const FIRST_FREE_OFFSET = 4 * ALLOC_LINKS + (ALLOC_CHILDREN - ALLOC_LINKS);

/**
 * Checks one variant's allocations: `want` distinct `/30`s (network addresses), inside the
 * parent, after the seed, none overlapping another.
 *
 * @returns The problems found (empty when the allocations are sound).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { allocationProblems } from "./allocate_bench.ts";
 * assert(allocationProblems(["10.200.218.192/30", "10.200.218.196/30"], 2).length === 0);
 * assert(allocationProblems(["10.200.0.0/30"], 1)[0].includes("seeded"));
 * ```
 */
export function allocationProblems(prefixes: readonly string[], want: number): string[] {
  const problems: string[] = [];
  if (prefixes.length !== want) problems.push(`${prefixes.length} prefixes, expected ${want}`);
  const seen = new Set<number>();
  for (const p of prefixes) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(p);
    if (!m) {
      problems.push(`${p}: not an IPv4 prefix`);
      continue;
    }
    const addr = ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
    const offset = addr - BASE;
    if (Number(m[5]) !== ALLOC_LENGTH) problems.push(`${p}: expected a /${ALLOC_LENGTH}`);
    else if (offset < 0 || offset > 65_532) problems.push(`${p}: outside ${ALLOC_PARENT}`);
    else if (offset % 4) problems.push(`${p}: not a network address`);
    else if (offset < FIRST_FREE_OFFSET) problems.push(`${p}: overlaps the seeded children`);
    else if (seen.has(offset)) problems.push(`${p}: allocated twice`);
    seen.add(offset);
  }
  return problems;
}

/**
 * The seeding SQL (one transaction): the VRF if missing, its prefixes replaced by the parent
 * (`container`) and the children, written the way NetBox stores them (every NOT NULL column,
 * the hierarchy counters `_depth`/`_children`, the search cache rows of `ipam/search.py`'s
 * `PrefixIndex` and `VRFIndex`). No change-log rows (NetBox records those for API writes).
 */
export function allocateSeedSql(): string {
  const cols = "created, last_updated, custom_field_data, prefix, status, is_pool, description, " +
    "vrf_id, _children, _depth, mark_utilized, comments";
  return `
SET synchronous_commit = off;
BEGIN;
CREATE TEMP TABLE ct ON COMMIT DROP AS
  SELECT model, id FROM django_content_type WHERE app_label = 'ipam' AND model IN ('prefix', 'vrf');
INSERT INTO ipam_vrf (created, last_updated, custom_field_data, name, rd, enforce_unique, description, comments)
SELECT now(), now(), '{}', '${ALLOC_VRF}', NULL, true, '', ''
WHERE NOT EXISTS (SELECT 1 FROM ipam_vrf WHERE name = '${ALLOC_VRF}');
CREATE TEMP TABLE v ON COMMIT DROP AS SELECT id FROM ipam_vrf WHERE name = '${ALLOC_VRF}';
DELETE FROM extras_cachedvalue
  WHERE (object_type_id = (SELECT id FROM ct WHERE model = 'prefix')
         AND object_id IN (SELECT id FROM ipam_prefix WHERE vrf_id = (SELECT id FROM v)))
     OR (object_type_id = (SELECT id FROM ct WHERE model = 'vrf') AND object_id = (SELECT id FROM v));
DELETE FROM ipam_prefix WHERE vrf_id = (SELECT id FROM v);
INSERT INTO ipam_prefix (${cols})
SELECT now(), now(), '{}', '${ALLOC_PARENT}'::cidr, 'container', false, 'bench allocate parent',
       (SELECT id FROM v), ${ALLOC_CHILDREN}, 0, false, '';
INSERT INTO ipam_prefix (${cols})
SELECT now(), now(), '{}',
       CASE WHEN i < ${ALLOC_LINKS} THEN set_masklen('10.200.0.0'::inet + 4 * i, 31)::cidr
            ELSE set_masklen('10.200.0.0'::inet + (${
    4 * ALLOC_LINKS
  } + i - ${ALLOC_LINKS}), 32)::cidr END,
       'active', false, '', (SELECT id FROM v), 0, 1, false, ''
FROM generate_series(0, ${ALLOC_CHILDREN - 1}) AS i ORDER BY i;
INSERT INTO extras_cachedvalue (id, timestamp, object_type_id, object_id, field, type, value, weight)
SELECT gen_random_uuid(), now(), (SELECT id FROM ct WHERE model = 'prefix'), id, f.field, f.type, f.value, f.weight
FROM ipam_prefix,
LATERAL (VALUES ('prefix', 'cidr', prefix::text, 110), ('description', 'str', description, 500))
  AS f(field, type, value, weight)
WHERE vrf_id = (SELECT id FROM v) AND f.value <> '';
INSERT INTO extras_cachedvalue (id, timestamp, object_type_id, object_id, field, type, value, weight)
SELECT gen_random_uuid(), now(), (SELECT id FROM ct WHERE model = 'vrf'), id, 'name', 'str', name::text, 100
FROM ipam_vrf WHERE id = (SELECT id FROM v);
COMMIT;
ANALYZE ipam_prefix;
`;
}

type Log = (line: string) => void;

/** The seed's state in the database: `children|parents|others` of the VRF. */
async function seedState(db: string): Promise<string> {
  return await psql(
    db,
    `SELECT count(*) FILTER (WHERE masklen(prefix) IN (31, 32)) || '|' ||
            count(*) FILTER (WHERE prefix = '${ALLOC_PARENT}'::cidr) || '|' ||
            count(*) FILTER (WHERE masklen(prefix) NOT IN (16, 31, 32))
     FROM ipam_prefix WHERE vrf_id = (SELECT id FROM ipam_vrf WHERE name = '${ALLOC_VRF}');`,
  );
}

/** Deletes what earlier allocations left in the parent (through the API); returns how many. */
async function clearAllocated(db: string, inst: Instance): Promise<number> {
  const ids = (await psql(
    db,
    `SELECT id FROM ipam_prefix WHERE masklen(prefix) NOT IN (16, 31, 32)
       AND vrf_id = (SELECT id FROM ipam_vrf WHERE name = '${ALLOC_VRF}');`,
  )).split("\n").filter(Boolean).map(Number);
  if (!ids.length) return 0;
  const client = createClient({ url: inst.url, token: inst.token, timeoutMs: 600_000 });
  try {
    await client.ipam.prefixes.delete(ids);
  } finally {
    client.close();
  }
  return ids.length;
}

/**
 * Seeds the parent and its children unless they are there already, clears leftover
 * allocations, and returns the parent's id.
 */
export async function seedAllocate(db: string, inst: Instance, log: Log): Promise<number> {
  const left = await clearAllocated(db, inst);
  if (left) log(`allocate: deleted ${left} prefixes left by an earlier run`);
  if (await seedState(db) !== `${ALLOC_CHILDREN}|1|0`) {
    log(`allocate: seeding ${ALLOC_PARENT} with ${ALLOC_CHILDREN} prefixes by SQL`);
    const t0 = performance.now();
    await psql(db, allocateSeedSql());
    log(`allocate: seeded in ${fmtMs(performance.now() - t0)}`);
  }
  return Number(
    await psql(
      db,
      `SELECT p.id FROM ipam_prefix p JOIN ipam_vrf v ON v.id = p.vrf_id
       WHERE v.name = '${ALLOC_VRF}' AND p.prefix = '${ALLOC_PARENT}'::cidr;`,
    ),
  );
}

/**
 * Reads the seed back through the API: the parent, the number of prefixes inside it, a sample
 * of children against {@linkcode seededChild}, and the parent's free space (`available-prefixes`:
 * the 12,000 free `/31`s and the free end from the first `/30`). Throws on any difference.
 *
 * @returns What was checked.
 */
export async function verifyAllocateSeed(inst: Instance, parentId: number): Promise<string[]> {
  const client = createClient({ url: inst.url, token: inst.token, timeoutMs: 600_000 });
  const fail = (what: string) => {
    throw new Error(`Cannot trust the allocate seed: ${what}`);
  };
  try {
    const parent = await client.ipam.prefixes.get(parentId);
    if (parent.prefix !== ALLOC_PARENT || parent.vrf?.name !== ALLOC_VRF) {
      fail(`prefix ${parentId} reads back as ${parent.prefix} in ${parent.vrf?.name}`);
    }
    const vrf = String(parent.vrf?.id);
    const inside = await client.ipam.prefixes.count({ within: ALLOC_PARENT, vrf_id: vrf });
    if (inside !== ALLOC_CHILDREN) fail(`${inside} prefixes inside the parent`);
    const sample = [0, 1, 777, ALLOC_LINKS - 1, ALLOC_LINKS, 15_000, ALLOC_CHILDREN - 1].map(
      seededChild,
    );
    const got = await client.ipam.prefixes.all({ prefix: sample, vrf_id: vrf });
    if (got.length !== sample.length) {
      fail(`${got.length} of ${sample.length} sampled children found (${sample.join(", ")})`);
    }
    const blocks = (await client.ipam.prefixes.availablePrefixes(parentId).list()) as {
      prefix: string;
    }[];
    const holes = blocks.filter((b) => b.prefix.endsWith("/31")).length;
    const firstFree = `${dotted(BASE + FIRST_FREE_OFFSET)}/26`;
    if (holes !== ALLOC_LINKS || !blocks.some((b) => b.prefix === firstFree)) {
      fail(
        `available-prefixes lists ${holes} free /31s and ${
          blocks.some((b) => b.prefix === firstFree) ? "" : "not "
        }${firstFree}`,
      );
    }
    return [
      `parent ${ALLOC_PARENT} (VRF ${ALLOC_VRF}) with ${inside} prefixes inside (API count)`,
      `${sample.length} sampled children found by prefix`,
      `available-prefixes: ${blocks.length} free blocks, ${holes} of them the free /31s, the free end from ${firstFree}`,
    ];
  } finally {
    client.close();
  }
}

/** What a case returns to run.ts. */
export interface AllocateCaseResult {
  rows: Row[];
  checks: Check[];
  notes: string[];
}

/** What the case needs from run.ts. */
export interface AllocateCaseDeps {
  reps: number;
  inst: Instance;
  db: string;
  py: string;
  log: Log;
  failures: Map<string, string[]>;
  denoChild: string[];
  interleaved: (
    variants: Variant[],
    reps: number,
    log: Log,
    failures: Map<string, string[]>,
  ) => Promise<Map<string, Sample[]>>;
}

/** Runs the case: seed, warm-up, the interleaved variants, rows, checks and notes. */
export async function allocateCase(d: AllocateCaseDeps): Promise<AllocateCaseResult> {
  const env = { NETBOX_TOKEN: d.inst.token, NETBOX_URL: d.inst.url, NO_COLOR: "1" };
  const parentId = await seedAllocate(d.db, d.inst, d.log);
  const verified = await verifyAllocateSeed(d.inst, parentId);
  const args = (n: number) => [String(parentId), String(n), String(ALLOC_LENGTH)];
  const tk = (policy: string) => (n: number) => [
    ...d.denoChild,
    "--allow-env=NETBOX_TOKEN",
    "bench/_toolkit_allocate.ts",
    d.inst.url,
    ...args(n),
    policy,
  ];
  const py = (n: number) => [d.py, "bench/_pynetbox.py", "allocate", d.inst.url, ...args(n)];
  const defs: [string, string, (n: number) => string[], number][] = [
    [
      "tk",
      "library `allocatePrefixes()` loop (policy first: the POST alone)",
      tk("first"),
      ALLOC_COUNT,
    ],
    ["py", "pynetbox `prefixes.get(id).available_prefixes.create()` loop", py, ALLOC_COUNT],
    [
      "tk-measured",
      `library loop, \`policy: least-used\` (measures the parent first; ${MEASURED_COUNT} prefixes)`,
      tk("least-used"),
      MEASURED_COUNT,
    ],
  ];
  const variants: Variant[] = defs.map(([id, , cmd, n]) => ({
    id,
    run: async () => {
      const load = Number(loadAvg().split(/[ ,]+/)[0]);
      const t = await timed(cmd(n), { env });
      const prefixes = (t.json?.prefixes ?? []) as string[];
      const problems = allocationProblems(prefixes, n);
      const deleted = await clearAllocated(d.db, d.inst);
      if (deleted !== n) problems.push(`NetBox held ${deleted} new prefixes afterwards`);
      if (problems.length) throw new Error(`Cannot trust ${id}: ${problems.join("; ")}`);
      return {
        [id]: {
          ms: t.ms,
          innerMs: Number(t.json?.ms),
          rssMb: t.rssMb,
          extra: { requests: Number(t.json?.requests), load, first: prefixes[0] },
        },
      };
    },
  }));
  d.log("allocate: warming up (module caches, one allocation each, deleted again)");
  for (const [, , cmd] of defs) {
    await timed(cmd(1), { env });
    await clearAllocated(d.db, d.inst);
  }
  const samples = await d.interleaved(variants, d.reps, d.log, d.failures);
  const labels = Object.fromEntries(defs.map(([id, label]) => [id, label]));
  const counts = Object.fromEntries(defs.map(([id, , , n]) => [id, n]));
  const rows: Row[] = defs.filter(([id]) => samples.has(id)).map(([id]) => ({
    id,
    label: labels[id],
    samples: samples.get(id)!,
  }));
  for (const r of rows) {
    const reqs = median(r.samples.map((s) => Number(s.extra?.requests)));
    const inner = median(r.samples.map((s) => s.innerMs ?? NaN));
    const loads = r.samples.map((s) => Number(s.extra?.load).toFixed(2)).join(", ");
    const n = counts[r.id];
    r.note = `${n} prefixes, ${reqs} requests (${(reqs / n).toFixed(2)} per prefix); in-process ${
      fmtMs(inner)
    } (${fmtMs(inner / n)} per prefix); 1-min load at the start of each run ${loads}`;
  }
  const med = (id: string, pick: (s: Sample) => number) =>
    median((samples.get(id) ?? []).map(pick));
  const wall = (id: string) => med(id, (s) => s.ms);
  const inner = (id: string) => med(id, (s) => s.innerMs ?? NaN);
  return {
    rows,
    checks: [
      {
        name: `Allocate ${ALLOC_COUNT} /${ALLOC_LENGTH} one at a time: library / pynetbox (wall)`,
        value: wall("tk") / wall("py"),
        unit: "×",
        target: 1.1,
      },
      {
        name:
          `Allocate ${ALLOC_COUNT} /${ALLOC_LENGTH} one at a time: library / pynetbox (in-process)`,
        value: inner("tk") / inner("py"),
        unit: "×",
        target: 1.1,
      },
    ],
    notes: [
      `${ALLOC_PARENT} (VRF ${ALLOC_VRF}) holding ${ALLOC_CHILDREN} prefixes: ${ALLOC_LINKS} /31s each followed by a free /31, then ${
        ALLOC_CHILDREN - ALLOC_LINKS
      } /32s; the /${ALLOC_LENGTH}s come from the free end (${
        dotted(BASE + FIRST_FREE_OFFSET)
      } on). Seeded by SQL, read back through the API: ${verified.join("; ")}.`,
      `Each variant allocates ${ALLOC_COUNT} /${ALLOC_LENGTH}s one request cycle at a time in its own process (the library loop, not the task: one \`allocatePrefixes(client, { parentId }, { length: ${ALLOC_LENGTH} })\` per prefix; pynetbox: one \`get()\` and one \`available_prefixes.create()\` per prefix); the prefixes are checked (distinct, aligned, inside the parent, clear of the seed) and deleted again through the API after every run (not timed).`,
      "Wall time is the process from spawn to exit (Deno or Python start-up included); in-process time starts after the imports.",
      `library with policy least-used, per prefix in-process / pynetbox's: ${
        ((inner("tk-measured") / MEASURED_COUNT) / (inner("py") / ALLOC_COUNT)).toFixed(2)
      }× — the price of measuring the parent (its available-prefixes) before each POST, which a policy, --headroom or --min-days-left needs (${MEASURED_COUNT} prefixes a run, for time).`,
    ],
  };
}
