import assert from "node:assert/strict";
import {
  AuditStateError,
  compareWithState,
  findingKey,
  nextState,
  parseState,
  scopeKey,
  serializeState,
} from "../../lib/audit/state.ts";
import type { Finding } from "../../lib/audit/model.ts";

const URL_ = "https://nb.example";
const f = (rule: string, id: number, severity: Finding["severity"] = "warning"): Finding => ({
  rule,
  severity,
  object_type: "ipam.ipaddress",
  object_id: id,
  address: `10.0.0.${id}/24`,
  vrf: null,
  url: null,
  message: `${rule} on ${id}`,
  related: [],
});
const RULES = ["duplicate-address", "orphan-address", "mask-mismatch"];
const run = (day: number, findings: Finding[], rules = RULES) => ({
  findings,
  summary: { started_at: `2026-01-0${day}T00:00:00.000Z`, rules },
});

Deno.test("three runs: new, persisting with first-seen, fixed", () => {
  const r1 = run(1, [f("orphan-address", 1), f("duplicate-address", 2, "error")]);
  const c1 = compareWithState(r1, undefined);
  assert.deepEqual(c1.counts, { new: 2, persisting: 0, fixed: 0 });
  const s1 = nextState(r1, c1, { netboxUrl: URL_, scope: "everything" });
  const text = serializeState(s1);
  const back = parseState(text, { file: "s", netboxUrl: `${URL_}/api/`, scope: "everything" });
  assert.deepEqual(back, JSON.parse(text));

  const r2 = run(2, [f("duplicate-address", 2, "error"), f("mask-mismatch", 3)]);
  const c2 = compareWithState(r2, back);
  assert.deepEqual(c2.findings.map((x) => [x.key, x.baseline, x.first_seen.slice(0, 10)]), [
    ["duplicate-address:ipam.ipaddress:2", "persisting", "2026-01-01"],
    ["mask-mismatch:ipam.ipaddress:3", "new", "2026-01-02"],
  ]);
  assert.deepEqual(c2.fixed.map((x) => x.key), ["orphan-address:ipam.ipaddress:1"]);
  assert.equal(c2.previous_run, "2026-01-01T00:00:00.000Z");
  const s2 = nextState(r2, c2, { netboxUrl: URL_, scope: "everything", previous: back });
  assert.deepEqual(Object.keys(s2.findings).sort(), [
    "duplicate-address:ipam.ipaddress:2",
    "mask-mismatch:ipam.ipaddress:3",
  ]);
  assert.equal(
    s2.findings["duplicate-address:ipam.ipaddress:2"].first_seen,
    "2026-01-01T00:00:00.000Z",
  );
  assert.equal(
    s2.findings["duplicate-address:ipam.ipaddress:2"].last_seen,
    "2026-01-02T00:00:00.000Z",
  );

  // Day 3: the same findings again — nothing new, nothing fixed.
  const c3 = compareWithState(run(3, r2.findings), s2);
  assert.deepEqual(c3.counts, { new: 0, persisting: 2, fixed: 0 });
});

Deno.test("findings of a rule that did not run are neither fixed nor forgotten", () => {
  const r1 = run(1, [f("orphan-address", 1), f("mask-mismatch", 3)]);
  const s1 = nextState(r1, compareWithState(r1, undefined), { netboxUrl: URL_, scope: "x" });
  const r2 = run(2, [f("orphan-address", 1)], ["orphan-address"]);
  const c2 = compareWithState(r2, s1);
  assert.equal(c2.fixed.length, 0);
  const s2 = nextState(r2, c2, { netboxUrl: URL_, scope: "x", previous: s1 });
  assert.ok(s2.findings[findingKey(f("mask-mismatch", 3))]);
});

Deno.test("parseState refuses corrupt and foreign files with exit code 2, naming the file", () => {
  const first = run(1, [f("orphan-address", 1)]);
  const good = serializeState(
    nextState(first, compareWithState(first, undefined), { netboxUrl: URL_, scope: "vrf=blue" }),
  );
  const opts = { file: "/var/lib/audit.json", netboxUrl: URL_, scope: "vrf=blue" };
  const mutate = (fn: (o: Record<string, unknown>) => void) => {
    const o = JSON.parse(good);
    fn(o);
    return JSON.stringify(o);
  };
  const cases: [string, RegExp][] = [
    ["{ not json", /not JSON/],
    ["", /not JSON/],
    ["[]", /not a JSON object/],
    [JSON.stringify({ some: "other tool" }), /its format is null/],
    [mutate((o) => o.format = "sarif"), /its format is "sarif"/],
    [mutate((o) => o.version = 2), /its version is 2/],
    [mutate((o) => o.findings = []), /findings is not an object/],
    [
      mutate((o) => (o.findings as Record<string, unknown>)["x"] = { rule: 1 }),
      /finding "x" has no rule/,
    ],
    [
      mutate((o) => {
        const fs = o.findings as Record<string, Record<string, unknown>>;
        fs["orphan-address:ipam.ipaddress:9"] = fs["orphan-address:ipam.ipaddress:1"];
      }),
      /does not match its rule and object/,
    ],
    [
      mutate((o) => o.netbox_url = "https://other.example"),
      /holds the findings of https:\/\/other\.example, but this run audits https:\/\/nb\.example/,
    ],
    [
      mutate((o) => o.scope = "vrf=red"),
      /written for scope "vrf=red", but this run audits "vrf=blue"/,
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseState(text, opts), (err: unknown) => {
      assert.ok(err instanceof AuditStateError, String(err));
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /^Cannot use state file \/var\/lib\/audit\.json: /);
      assert.match(err.message, message);
      return true;
    }, text);
  }
  assert.doesNotThrow(() => parseState(good, opts));
});

Deno.test("scopeKey is canonical", () => {
  assert.equal(
    scopeKey({ tag: "t", vrf: "v", filters: { status: ["a", "b"], role: "x" } }),
    "vrf=v tag=t filter:role=x filter:status=a,b",
  );
  assert.equal(scopeKey({ filters: {} }), "everything");
});
