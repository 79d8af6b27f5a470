/**
 * Interrupts: Ctrl-C (SIGINT) or SIGTERM in the middle of a bulk-import run as the deno.json task
 * runs it. The task sends no new write, lets the ones in flight finish, keeps the audit log
 * complete, reports what was done and what was not, and exits 130 (143 for TERM). NetBox is
 * counted afterwards, not the report: what the report calls done is exactly what NetBox holds, a
 * re-run completes the rest with no duplicate, and the run after that writes nothing.
 */

import assert from "node:assert/strict";
import { childEnv, readTaskEntries, ROOT, taskEntry } from "../_deno_tasks.ts";
import { fetchOk, netboxTest, type NetBoxTestEnv, uniqueName } from "./_netbox.ts";

const entry = taskEntry(await readTaskEntries(), "bulk-import");

interface Run {
  code: number;
  report: { summary: Record<string, number>; items: { action: string; id: number | null }[] };
  stderr: string;
  auditIds: number[];
}

/** Runs bulk-import; with `signal`, sends it once NetBox holds one of the sites. */
async function runImport(
  env: NetBoxTestEnv,
  file: string,
  slugPrefix: string,
  signal?: Deno.Signal,
): Promise<Run> {
  const log = `${file}.audit.jsonl`;
  await Deno.remove(log).catch(() => {});
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...entry.denoFlags,
      entry.script,
      file,
      "--format",
      "json",
      "--chunk-size",
      "5",
      "--concurrency",
      "1",
      "--audit-log",
      log,
    ],
    cwd: ROOT,
    env: childEnv({ NETBOX_URL: env.url, NETBOX_TOKEN: env.token }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  if (signal) {
    for (let i = 0; i < 600; i++) {
      if (await countSites(env, slugPrefix) > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill(signal);
  }
  const out = await output;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const text = await Deno.readTextFile(log).catch(() => "");
  const auditIds = text.trim().split("\n").filter(Boolean)
    .flatMap((line) => (JSON.parse(line) as { ids: number[] }).ids);
  let report: Run["report"];
  try {
    report = JSON.parse(stdout);
  } catch {
    throw new Error(
      `no JSON report (exit ${out.code})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
    );
  }
  return { code: out.code, report, stderr, auditIds };
}

async function sitesOf(
  env: NetBoxTestEnv,
  slugPrefix: string,
): Promise<{ id: number; slug: string }[]> {
  const page = await fetchOk(
    env,
    "GET",
    `/api/dcim/sites/?slug__isw=${slugPrefix}&limit=1000&brief=1`,
  );
  return page.results;
}

async function countSites(env: NetBoxTestEnv, slugPrefix: string): Promise<number> {
  const page = await fetchOk(
    env,
    "GET",
    `/api/dcim/sites/?slug__isw=${slugPrefix}&limit=1&brief=1`,
  );
  return page.count;
}

async function interruptedImport(env: NetBoxTestEnv, signal: Deno.Signal, exitCode: number) {
  const prefix = uniqueName("intr").toLowerCase();
  const n = 150;
  const dir = await Deno.makeTempDir({ prefix: "nbtk-intr-" });
  const file = `${dir}/sites.yaml`;
  await Deno.writeTextFile(
    file,
    "sites:\n" +
      Array.from({ length: n }, (_, i) => {
        const slug = `${prefix}-${String(i).padStart(4, "0")}`;
        return `  - {name: ${slug}, slug: ${slug}, status: planned}\n`;
      }).join(""),
  );
  try {
    const first = await runImport(env, file, prefix, signal);
    const at = `--- stderr\n${first.stderr}`;
    assert.equal(first.code, exitCode, at);
    assert.match(first.stderr, new RegExp(`interrupted \\(${signal}\\)`), at);
    assert.match(first.stderr, /run the same command again to finish/, at);
    const created = first.report.items.filter((i) => i.action === "create");
    const notSent = first.report.items.filter((i) => i.action === "not-sent");
    assert.ok(created.length > 0 && notSent.length > 0, at);
    assert.equal(created.length + notSent.length, n, at);
    assert.equal(first.report.summary.not_sent, notSent.length);
    // What the report calls done is exactly what NetBox holds, and what the audit log names.
    const held = await sitesOf(env, prefix);
    assert.deepEqual(
      held.map((s) => s.id).sort((a, b) => a - b),
      created.map((i) => i.id!).sort((a, b) => a - b),
    );
    assert.deepEqual(
      [...first.auditIds].sort((a, b) => a - b),
      held.map((s) => s.id).sort((a, b) => a - b),
    );

    const second = await runImport(env, file, prefix);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.report.summary.create, notSent.length);
    assert.equal(second.report.summary.unchanged, created.length);
    const all = await sitesOf(env, prefix);
    assert.equal(all.length, n);
    assert.equal(new Set(all.map((s) => s.slug)).size, n);

    const third = await runImport(env, file, prefix);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.report.summary.unchanged, n);
    assert.deepEqual(third.auditIds, []);
  } finally {
    const left = await sitesOf(env, prefix);
    if (left.length) {
      await fetchOk(env, "DELETE", "/api/dcim/sites/", left.map((s) => ({ id: s.id })));
    }
    await Deno.remove(dir, { recursive: true });
  }
}

netboxTest(
  "bulk-import stopped by Ctrl-C finishes the writes in flight, exits 130, and a re-run converges",
  async (env) => {
    await interruptedImport(env, "SIGINT", 130);
  },
);

netboxTest("bulk-import stopped by SIGTERM exits 143 with the same guarantees", async (env) => {
  await interruptedImport(env, "SIGTERM", 143);
});
