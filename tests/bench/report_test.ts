import assert from "node:assert/strict";
import { loadRule, MAX_START_LOAD } from "../../bench/_measure.ts";
import { renderMarkdown, type Results, rssLine, sparkline } from "../../bench/_report.ts";

Deno.test("sparkline() scales from zero to the peak, one block per value", () => {
  assert.equal(sparkline([10, 20, 40, 80]), "▁▂▄█");
  assert.equal(sparkline([0, 80]), "▁█");
  // A flat series is a flat bar at the top, not noise stretched over the whole range.
  assert.equal(sparkline([60, 62, 61, 62, 62]), "████████".slice(0, 5));
  assert.equal(sparkline([5, 5, 5]), "███");
  assert.equal(sparkline([]), "");
  assert.equal(sparkline([0, 0]), "▁▁");
  assert.equal(sparkline([NaN, 8]), " █");
});

Deno.test("rssLine() shows the sparkline, the range and the growth of the second half", () => {
  assert.equal(
    rssLine([40, 80, 80, 80]),
    "RSS over the run: `▄███` 40–80 MB (peak of the second half / first half 1.00×)",
  );
  assert.match(rssLine([40, 50, 60, 100]), /`▄▄▅█` 40–100 MB .* 2\.00×/);
  assert.equal(rssLine(undefined), "");
  assert.equal(rssLine([]), "");
});

Deno.test("renderMarkdown() puts a row's RSS sparkline beside its note", () => {
  const res: Results = {
    date: "2026-12-07T00:00:00Z",
    command: "deno task bench --scale",
    reps: 1,
    quick: false,
    setup: {},
    cases: [{
      id: "stream-100k",
      title: "Stream",
      rows: [{
        id: "tk",
        label: "toolkit",
        samples: [{ ms: 1000, rssMb: 70 }],
        note: "108 requests",
        rssMb: [50, 70, 70],
      }],
      notes: [],
    }],
    checks: [],
    warnings: [],
    duration_s: 1,
  };
  assert.match(
    renderMarkdown(res),
    /\| toolkit \| \*\*1\.00 s\*\* \|.*\| 70 MB \| 108 requests · RSS over the run: `▆██` 50–70 MB/,
  );
});

Deno.test("loadRule() runs a quiet machine, refuses a busy one, marks it with --force", () => {
  assert.equal(MAX_START_LOAD, 1.0);
  assert.equal(loadRule(0.4, false).verdict, "run");
  assert.equal(loadRule(1.0, false).verdict, "run");
  const refused = loadRule(1.01, false);
  assert.equal(refused.verdict, "refused");
  assert.match(refused.message, /^Cannot start the bench: load average 1\.01 is above 1\.0/);
  assert.match(refused.message, /--force/);
  const marked = loadRule(3.2, true);
  assert.equal(marked.verdict, "marked");
  assert.match(marked.message, /busy machine \(--force\): load average 3\.20/);
  assert.equal(loadRule(0.2, true).verdict, "run");
});
