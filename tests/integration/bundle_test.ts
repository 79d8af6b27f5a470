/**
 * Single-file distribution: `deno task bundle` (the deno.json entry, as the README shows it)
 * writes one self-contained `<task>.js` per task with no `npm:` import left, and each bundle runs
 * from an empty directory with the permissions of its task's `deno.json` entry against the real
 * NetBox.
 */

import assert from "node:assert/strict";
import {
  cheapInvocation,
  type DenoTaskEntry,
  describe,
  readTaskEntries,
  runDeno,
} from "../_deno_tasks.ts";
import { findNpmSpecifiers, listTasks } from "../../scripts/bundle.ts";
import { netboxTest, testEnv } from "./_netbox.ts";
import { seedInventory } from "../netbox/seed.ts";

const entries = await readTaskEntries();

Deno.test("findNpmSpecifiers() finds npm imports and ignores the word in text", () => {
  assert.deepEqual(
    findNpmSpecifiers(
      `import a from "npm:a@1";\nexport * from 'npm:b@2/x';\nawait import("npm:c");\nrequire("npm:d")`,
    ),
    ["npm:a@1", "npm:b@2/x", "npm:c", "npm:d"],
  );
  assert.deepEqual(findNpmSpecifiers(`// see npm:js-yaml\nconst s = "npm:x is pinned";`), []);
});

let bundleDir: string | undefined;

/** Runs `deno task bundle --out-dir DIR` once per test file. */
async function bundles(): Promise<string> {
  if (bundleDir) return bundleDir;
  const dir = await Deno.makeTempDir({ prefix: "nbtk-bundle-" });
  const result = await runDeno(["task", "--quiet", "bundle", "--out-dir", dir]);
  assert.equal(result.code, 0, describe(result));
  bundleDir = dir;
  return dir;
}

Deno.test("deno task bundle writes one self-contained file per task", async () => {
  const dir = await bundles();
  const tasks = await listTasks();
  assert.ok(tasks.length >= 4, `only ${tasks.length} tasks`);
  for (const task of tasks) {
    const code = await Deno.readTextFile(`${dir}/${task}.js`);
    assert.deepEqual(findNpmSpecifiers(code), [], `${task}.js still imports from npm`);
    assert.doesNotMatch(code, /from\s*["']\.\.?\//, `${task}.js has relative imports`);
  }
  assert.ok(entries.length >= 4);
});

for (const entry of entries) {
  netboxTest(`${entry.name} runs as a bundle with its deno.json permissions`, async () => {
    const nb = testEnv();
    await seedInventory(nb.url, nb.token);
    const dir = await bundles();
    await runBundle(entry, dir, nb);
  });
}

async function runBundle(entry: DenoTaskEntry, dir: string, nb: { url: string; token: string }) {
  const task = entry.script.replace(/^tasks\//, "").replace(/\.ts$/, "");
  const cwd = await Deno.makeTempDir({ prefix: "nbtk-bundle-cwd-" });
  const files = await Deno.makeTempDir({ prefix: "nbtk-bundle-files-" });
  try {
    const invocation = await cheapInvocation(entry.script, { dir: files });
    const result = await runDeno(
      ["run", ...entry.denoFlags, `${dir}/${task}.js`, ...entry.scriptArgs, ...invocation.args],
      { cwd, env: { NETBOX_URL: nb.url, NETBOX_TOKEN: nb.token } },
    );
    await invocation.check(result);
  } finally {
    await Deno.remove(cwd, { recursive: true });
    await Deno.remove(files, { recursive: true });
  }
}

// The bundles are shared by the tests of this file; remove them when the file is done.
globalThis.addEventListener("unload", () => {
  if (bundleDir) Deno.removeSync(bundleDir, { recursive: true });
});
