/**
 * The generated model types catch typos at compile time: `deno check` accepts
 * `tests/types/typos.ts` (whose `@ts-expect-error` lines are errors and whose other lines
 * compile), and without the `@ts-expect-error` comments every one of those lines fails.
 */

import assert from "node:assert/strict";
import { describe as describeRun, ROOT, runDeno } from "./_deno_tasks.ts";
import type { CommonFilterName } from "../lib/client/types.ts";
import { NON_FILTER_PARAMS } from "../lib/client/filter_guard.ts";

const FIXTURE = `${ROOT}/tests/types/typos.ts`;
const EXPECT = /^\s*\/\/ @ts-expect-error\b.*$/;

Deno.test("the typed endpoints accept the fixture's correct lines and refuse its typos", async () => {
  const result = await runDeno(["check", "--quiet", FIXTURE]);
  assert.equal(result.code, 0, describeRun(result));
});

Deno.test("without @ts-expect-error every marked line of the fixture is a compile error", async () => {
  const lines = (await Deno.readTextFile(FIXTURE)).split("\n");
  const expected: number[] = [];
  const stripped = lines.map((line, i) => {
    if (!EXPECT.test(line)) return line;
    expected.push(i + 2); // 1-based number of the line below the comment
    return line.replace(/\/\/ @ts-expect-error/, "// (was @ts-expect-error)");
  });
  assert.ok(expected.length >= 10, `only ${expected.length} @ts-expect-error lines`);
  const dir = await Deno.makeTempDir({ prefix: "nbtk-types-" });
  try {
    const file = `${dir}/typos.ts`;
    const text = stripped.join("\n").replaceAll(`"../../`, `"file://${ROOT}/`);
    await Deno.writeTextFile(file, text);
    const result = await runDeno(["check", "--quiet", `--config=${ROOT}/deno.json`, file]);
    assert.notEqual(result.code, 0, `deno check accepted the typos:\n${describeRun(result)}`);
    // deno prints "at file:///…/typos.ts:LINE:COL" for each diagnostic.
    // deno-lint-ignore no-control-regex
    const output = (result.stdout + result.stderr).replace(/\x1b\[[0-9;]*m/g, "");
    const reported = new Set(
      [...output.matchAll(/typos\.ts:(\d+):\d+/g)].map((m) => Number(m[1])),
    );
    const missed = expected.filter((line) => !reported.has(line));
    assert.deepEqual(missed, [], `no compile error on line(s) ${missed.join(", ")}:\n${output}`);
    const unexpected = [...reported].filter((line) => !expected.includes(line));
    assert.deepEqual(unexpected, [], `errors on lines not marked as expected:\n${output}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CommonFilterName lists exactly the guard's non-filter parameters", () => {
  const names: Record<CommonFilterName, true> = {
    limit: true,
    offset: true,
    start: true,
    brief: true,
    fields: true,
    omit: true,
    exclude: true,
    ordering: true,
    q: true,
    format: true,
    export: true,
    filter: true,
    filter_id: true,
  };
  assert.deepEqual(Object.keys(names).sort(), [...NON_FILTER_PARAMS].sort());
});
