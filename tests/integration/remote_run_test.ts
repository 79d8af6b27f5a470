/**
 * Remote run: the repository served over HTTP on 127.0.0.1, each task run by URL from an empty
 * directory (no deno.json, no lock file) with `--allow-import` for that origin plus the
 * permissions of its `deno.json` entry, against the real NetBox.
 */

import assert from "node:assert/strict";
import { cheapInvocation, describe, readTaskEntries, ROOT, runDeno } from "../_deno_tasks.ts";
import { netboxTest, testEnv } from "./_netbox.ts";
import { seedInventory } from "../netbox/seed.ts";

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
};

/** Serves the repository's files read-only; anything outside it or hidden is a 404. */
function serveRepository(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    const ext = path.match(/\.[a-z]+$/)?.[0] ?? "";
    if (request.method !== "GET" || path.includes("..") || /\/\./.test(path) || !TYPES[ext]) {
      return new Response("not found\n", { status: 404 });
    }
    try {
      const body = await Deno.readFile(`${ROOT}${path}`);
      return new Response(body, { headers: { "content-type": TYPES[ext] } });
    } catch {
      return new Response("not found\n", { status: 404 });
    }
  });
}

const entries = await readTaskEntries();

Deno.test("remote run covers every task entry of deno.json", () => {
  assert.ok(entries.length >= 4, `only ${entries.length} task entries run tasks/*.ts`);
});

for (const entry of entries) {
  netboxTest(`${entry.name} runs by URL from an empty directory`, async () => {
    const nb = testEnv();
    await seedInventory(nb.url, nb.token);
    const server = serveRepository();
    const cwd = await Deno.makeTempDir({ prefix: "nbtk-remote-cwd-" });
    const files = await Deno.makeTempDir({ prefix: "nbtk-remote-files-" });
    try {
      const origin = `127.0.0.1:${server.addr.port}`;
      const invocation = await cheapInvocation(entry.script, { dir: files });
      const result = await runDeno(
        [
          "run",
          ...entry.denoFlags,
          `--allow-import=${origin}`,
          `http://${origin}/${entry.script}`,
          ...entry.scriptArgs,
          ...invocation.args,
        ],
        { cwd, env: { NETBOX_URL: nb.url, NETBOX_TOKEN: nb.token } },
      );
      await invocation.check(result);
      const left: string[] = [];
      for await (const f of Deno.readDir(cwd)) left.push(f.name);
      assert.deepEqual(left, [], `the run left files in its directory\n${describe(result)}`);
    } finally {
      await server.shutdown();
      await Deno.remove(cwd, { recursive: true });
      await Deno.remove(files, { recursive: true });
    }
  });
}
