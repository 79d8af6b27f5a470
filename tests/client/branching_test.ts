/**
 * The client's `branch` option against a scripted server (the real plugin is exercised in
 * tests/integration/branching_test.ts): which requests carry the branch header, creation and
 * waiting, a dry run that creates nothing, and the refusals (no plugin, merged branch).
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { ConfigError } from "../../lib/client/errors.ts";
import type { ClientOptions } from "../../lib/client/types.ts";

interface Seen {
  method: string;
  path: string;
  branch: string | null;
}

/** A scripted NetBox with the branching plugin: branches move new → provisioning → ready. */
function server(opts: { plugin?: boolean; existing?: { status: string } } = {}) {
  const seen: Seen[] = [];
  let branch: { id: number; name: string; schema_id: string; status: string } | undefined =
    opts.existing
      ? { id: 3, name: "change-42", schema_id: "abcd1234", status: opts.existing.status }
      : undefined;
  const steps = ["new", "provisioning", "ready"];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/api\//, "");
    seen.push({ method: req.method, path, branch: req.headers.get("X-NetBox-Branch") });
    if (path === "status/") return Response.json({ "netbox-version": "4.7.3" });
    if (path.startsWith("plugins/branching/")) {
      if (opts.plugin === false) return new Response("not found", { status: 404 });
      const status = (b: typeof branch) => b && { ...b, status: { value: b.status } };
      if (path === "plugins/branching/branches/" && req.method === "GET") {
        const results = branch && url.searchParams.get("name") === branch.name
          ? [status(branch)]
          : [];
        return Response.json({ count: results.length, results });
      }
      if (path === "plugins/branching/branches/" && req.method === "POST") {
        const body = await req.json();
        branch = { id: 3, name: body.name, schema_id: "abcd1234", status: "new" };
        return Response.json(status(branch), { status: 201 });
      }
      if (path === "plugins/branching/branches/3/" && branch) {
        const at = steps.indexOf(branch.status);
        if (at >= 0 && at < steps.length - 1) branch.status = steps[at + 1];
        return Response.json(status(branch));
      }
    }
    if (req.method === "GET") return Response.json({ count: 0, next: null, results: [] });
    return Response.json({ id: 9 }, { status: 201 });
  };
  return { fetch, seen };
}

function client(fetch: typeof globalThis.fetch, extra: Partial<ClientOptions> = {}) {
  return createClient({
    url: "https://nb.example.com",
    token: "nbt_abcdefghijkl.secret",
    fetch,
    strictFilters: false,
    branch: "change-42",
    ...extra,
  });
}

const nb = (seen: Seen[]) =>
  seen.filter((s) => !s.path.startsWith("plugins/") && s.path !== "status/");

Deno.test("branch: writes carry the branch header, reads stay on main unless asked", async () => {
  const { fetch, seen } = server();
  const c = client(fetch);
  await c.request("GET", "dcim/sites/");
  await c.request("POST", "dcim/sites/", { body: { name: "x", slug: "x" } });
  await c.request("PATCH", "dcim/sites/9/", { body: { description: "y" } });
  await c.request("DELETE", "dcim/sites/9/");
  assert.deepEqual(nb(seen).map((s) => `${s.method} ${s.branch}`), [
    "GET null",
    "POST abcd1234",
    "PATCH abcd1234",
    "DELETE abcd1234",
  ]);
  // Created once, then polled until ready before the first write; never in the branch itself.
  const plugin = seen.filter((s) => s.path.startsWith("plugins/"));
  assert.deepEqual(plugin.map((s) => s.method), ["GET", "POST", "GET", "GET"]);
  assert.ok(plugin.every((s) => s.branch === null));
  assert.equal((await c.branch())?.webUrl, "https://nb.example.com/plugins/branching/branches/3/");
  c.close();
});

Deno.test("branch: branchReads sends reads into the branch too", async () => {
  const { fetch, seen } = server({ existing: { status: "ready" } });
  const c = client(fetch, { branchReads: true });
  await c.request("GET", "dcim/sites/");
  assert.deepEqual(nb(seen).map((s) => s.branch), ["abcd1234"]);
  assert.equal(seen.filter((s) => s.method === "POST").length, 0, "an existing branch is reused");
  c.close();
});

Deno.test("branch: branchCreate false leaves a missing branch missing and stays on main", async () => {
  const { fetch, seen } = server();
  const c = client(fetch, { branchReads: true, branchCreate: false });
  await c.request("GET", "dcim/sites/");
  assert.deepEqual(nb(seen).map((s) => s.branch), [null]);
  assert.equal(seen.filter((s) => s.method === "POST").length, 0);
  assert.equal(await c.branch(), undefined);
  c.close();
});

Deno.test("branch: no plugin → ConfigError naming it, and the write is not sent", async () => {
  const { fetch, seen } = server({ plugin: false });
  const c = client(fetch);
  await assert.rejects(
    () => c.request("POST", "dcim/sites/", { body: {} }),
    (err: unknown) =>
      err instanceof ConfigError && err.exitCode === 2 &&
      /has no NetBox Branching plugin/.test(err.message),
  );
  assert.deepEqual(nb(seen), []);
  c.close();
});

Deno.test("branch: a merged branch takes no changes", async () => {
  const { fetch, seen } = server({ existing: { status: "merged" } });
  const c = client(fetch);
  await assert.rejects(
    () => c.request("POST", "dcim/sites/", { body: {} }),
    /it is merged, not ready; choose a new branch name/,
  );
  assert.deepEqual(nb(seen), []);
  c.close();
});

Deno.test("branch: a bad name is refused when the client is created", () => {
  assert.throws(() => client(server().fetch, { branch: "" }), ConfigError);
});
