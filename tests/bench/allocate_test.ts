import assert from "node:assert/strict";
import {
  ALLOC_CHILDREN,
  ALLOC_LINKS,
  allocateSeedSql,
  allocationProblems,
  FIRST_FREE_OFFSET,
  seededChild,
} from "../../bench/allocate_bench.ts";

Deno.test("seededChild(): /31 links every fourth address, then /32s back to back, nothing past the end", () => {
  assert.equal(seededChild(0), "10.200.0.0/31");
  assert.equal(seededChild(1), "10.200.0.4/31");
  assert.equal(seededChild(64), "10.200.1.0/31");
  assert.equal(seededChild(ALLOC_LINKS - 1), "10.200.187.124/31");
  assert.equal(seededChild(ALLOC_LINKS), "10.200.187.128/32");
  assert.equal(seededChild(ALLOC_CHILDREN - 1), "10.200.218.191/32");
  // The /30s start right after the last /32.
  assert.equal(FIRST_FREE_OFFSET, 218 * 256 + 192);
  assert.throws(() => seededChild(ALLOC_CHILDREN), RangeError);
  assert.throws(() => seededChild(-1), RangeError);
});

Deno.test("allocationProblems(): count, length, alignment, inside the parent, clear of the seed, no twice", () => {
  const good = Array.from({ length: 3 }, (_, i) => `10.200.218.${192 + 4 * i}/30`);
  assert.deepEqual(allocationProblems(good, 3), []);
  assert.deepEqual(allocationProblems(good, 4), ["3 prefixes, expected 4"]);
  assert.deepEqual(
    allocationProblems(
      [
        "10.200.218.192/30",
        "10.200.218.192/30",
        "10.200.218.198/30",
        "10.200.218.200/31",
        "10.201.0.0/30",
        "10.200.187.124/30",
        "2001:db8::/126",
      ],
      7,
    ),
    [
      "10.200.218.192/30: allocated twice",
      "10.200.218.198/30: not a network address",
      "10.200.218.200/31: expected a /30",
      "10.201.0.0/30: outside 10.200.0.0/16",
      "10.200.187.124/30: overlaps the seeded children",
      "2001:db8::/126: not an IPv4 prefix",
    ],
  );
  assert.match(allocationProblems(["10.199.255.252/30"], 1)[0], /outside/);
});

Deno.test("allocateSeedSql(): one transaction, the children's layout as seededChild() names it", () => {
  const sql = allocateSeedSql();
  assert.match(sql, /BEGIN;[\s\S]*COMMIT;/);
  assert.match(sql, new RegExp(`generate_series\\(0, ${ALLOC_CHILDREN - 1}\\)`));
  assert.match(
    sql,
    new RegExp(
      `WHEN i < ${ALLOC_LINKS} THEN set_masklen\\('10\\.200\\.0\\.0'::inet \\+ 4 \\* i, 31\\)`,
    ),
  );
  assert.match(sql, new RegExp(`\\+ \\(${4 * ALLOC_LINKS} \\+ i - ${ALLOC_LINKS}\\), 32\\)`));
  // Only the bench VRF's prefixes are replaced.
  assert.match(sql, /DELETE FROM ipam_prefix WHERE vrf_id = \(SELECT id FROM v\);/);
  assert.doesNotMatch(sql, /DELETE FROM ipam_prefix;/);
});
