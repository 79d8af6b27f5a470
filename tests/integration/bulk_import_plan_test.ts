/**
 * Reviewed plans and the delete brake of bulk-import, against the real NetBox, as a user runs
 * them: a prune beyond `--max-deletes` writes nothing (exit 2) until the limit is raised;
 * `--dry-run --plan-out` then `--apply-plan` writes exactly the plan; a stale plan refuses the
 * objects changed since (exit 3) and applies the rest; a plan for another NetBox, or a file that
 * is no plan, is refused with nothing written. NetBox is read back (raw API) after every run.
 * Few objects (sites, a tenant), each test its own names; everything made is deleted.
 */

import assert from "node:assert/strict";
import { main } from "../../tasks/bulk-import.ts";
import {
  authHeader,
  type Body,
  fetchJson,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  uniqueName,
} from "./_netbox.ts";
import { withTempDir } from "./_inventory.ts";
import { runTaskWrites, type WritesRun } from "./_run_task.ts";

const run = (args: string[]): Promise<WritesRun> => runTaskWrites(main, args);

const json = (r: WritesRun): Body => {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
};

/** The site with this slug as NetBox holds it now, or undefined. */
async function site(env: NetBoxTestEnv, slug: string): Promise<Body | undefined> {
  const page = await fetchOk(env, "GET", `/api/dcim/sites/?slug=${slug}`);
  assert.ok(page.count <= 1);
  return page.results[0];
}

/** Deletes the sites and tenants whose slug starts with `s`, then the tag `s`; logs failures. */
async function cleanUp(env: NetBoxTestEnv, s: string): Promise<void> {
  for (const path of ["dcim/sites", "tenancy/tenants", "extras/tags"]) {
    try {
      const page = await fetchOk(env, "GET", `/api/${path}/?slug__isw=${s}&limit=100&fields=id`);
      for (const o of page.results) await fetchJson(env, "DELETE", `/api/${path}/${o.id}/`);
    } catch (err) {
      console.error(`cleanup ${path}: ${(err as Error).message.slice(0, 200)}`);
    }
  }
}

/** `n` sites `<s>-<name>` carrying the scope tag `s` (made through the task itself). */
async function seed(dir: string, s: string, names: string[]): Promise<void> {
  const file = `${dir}/seed.yaml`;
  await Deno.writeTextFile(
    file,
    `sites:\n${
      names.map((n) => `  - {name: ${s}-${n}, slug: ${s}-${n}, description: old}\n`).join("")
    }`,
  );
  const r = await run([file, "--scope-tag", s, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
}

netboxTest(
  "bulk-import --prune beyond --max-deletes deletes nothing (exit 2, listed); raising it deletes them",
  async (env) => {
    const s = uniqueName("mxd");
    await withTempDir(async (dir) => {
      try {
        await seed(dir, s, ["a", "b", "c"]);
        const one = `${dir}/one.yaml`;
        await Deno.writeTextFile(
          one,
          `sites:\n  - {name: ${s}-a, slug: ${s}-a, description: old}\n`,
        );
        const prune = [one, "--scope-tag", s, "--prune", "--format", "json"];

        const dry = await run([...prune, "--dry-run", "--max-deletes", "1"]);
        assert.equal(dry.code, 0, dry.stderr);
        assert.equal(json(dry).summary.delete, 2, "the dry run still prints the plan");
        assert.match(dry.stderr, /applying this plan would stop before any write: it deletes 2/);

        const stopped = await run([...prune, "--max-deletes", "1"]);
        assert.equal(stopped.code, 2, stopped.stderr);
        assert.deepEqual(stopped.writes, [], "nothing was written");
        assert.equal(stopped.stdout, "");
        for (const n of ["b", "c"]) {
          assert.match(
            stopped.stderr,
            new RegExp(`delete dcim\\.sites ${s}-${n} \\(slug=${s}-${n}, id \\d+, prune\\)`),
          );
        }
        assert.match(stopped.stderr, /more than --max-deletes 1; nothing was written/);
        assert.match(stopped.stderr, /--max-deletes 2 \(or --max-deletes all\)/);
        for (const n of ["a", "b", "c"]) {
          assert.ok(await site(env, `${s}-${n}`), `${n} is still there`);
        }

        const raised = await run([...prune, "--max-deletes", "2"]);
        assert.equal(raised.code, 0, raised.stderr);
        assert.equal(json(raised).summary.delete, 2);
        assert.ok(await site(env, `${s}-a`));
        assert.equal(await site(env, `${s}-b`), undefined);
        assert.equal(await site(env, `${s}-c`), undefined);
      } finally {
        await cleanUp(env, s);
      }
    });
  },
);

netboxTest(
  "bulk-import --dry-run --plan-out, then --apply-plan writes exactly the saved plan",
  async (env) => {
    const s = uniqueName("pln");
    await withTempDir(async (dir) => {
      try {
        await seed(dir, s, ["a", "b"]);
        const input = `${dir}/inventory.yaml`;
        const plan = `${dir}/plan.json`;
        await Deno.writeTextFile(
          input,
          `tenants:\n  - {name: ${s}-t, slug: ${s}-t}\n` +
            `sites:\n  - {name: ${s}-a, slug: ${s}-a, description: new}\n` +
            `  - {slug: ${s}-b, _state: absent}\n` +
            `  - {name: ${s}-c, slug: ${s}-c, tenant: ${s}-t}\n`,
        );
        const dry = await run([input, "--scope-tag", s, "--dry-run", "--plan-out", plan]);
        assert.equal(dry.code, 0, dry.stderr);
        assert.deepEqual(dry.writes, []);
        assert.match(
          dry.stderr,
          /plan saved to .*plan\.json \(2 to create, 1 to update, 1 to delete\)/,
        );
        const text = await Deno.readTextFile(plan);
        assert.ok(!text.includes(env.token), "the token is not in the plan");
        const saved = JSON.parse(text);
        assert.equal(saved.netbox.url, env.url.replace(/\/+$/, ""));
        assert.equal(
          saved.netbox.version,
          (await fetchOk(env, "GET", "/api/status/"))["netbox-version"],
        );
        assert.equal(saved.options.scope_tag, s);
        const a = await site(env, `${s}-a`);
        const b = await site(env, `${s}-b`);
        assert.deepEqual(
          saved.writes.map((w: Body) => [w.action, w.model, w.label, w.id ?? null]),
          [
            ["create", "tenancy.tenants", `${s}-t`, null],
            ["update", "dcim.sites", `${s}-a`, a.id],
            ["delete", "dcim.sites", `${s}-b`, b.id],
            ["create", "dcim.sites", `${s}-c`, null],
          ],
        );
        const [, update, del, create] = saved.writes;
        assert.deepEqual(create.refs, { tenant: saved.writes[0].uid }, "c names the new tenant");
        assert.deepEqual(update.body, { description: "new" });
        assert.match(update.etag, /^W\/"/, "the update carries the ETag it was planned against");
        assert.match(del.etag, /^W\/"/, "the delete too");

        // The input changes after the review: the saved plan is what gets applied.
        await Deno.writeTextFile(input, `sites:\n  - {name: ${s}-z, slug: ${s}-z}\n`);
        const applied = await run(["--apply-plan", plan, "--format", "json"]);
        assert.equal(applied.code, 0, applied.stderr);
        assert.deepEqual(applied.writes, [
          "POST /api/tenancy/tenants/",
          "PATCH /api/dcim/sites/",
          "POST /api/dcim/sites/",
          `DELETE /api/dcim/sites/${b.id}/`,
        ]);
        const t = (await fetchOk(env, "GET", `/api/tenancy/tenants/?slug=${s}-t`)).results[0];
        assert.ok(t, "the tenant was created");
        assert.equal((await site(env, `${s}-c`))?.tenant?.id, t.id, "c refers to the new tenant");
        assert.equal((await site(env, `${s}-a`))?.description, "new");
        assert.equal(await site(env, `${s}-b`), undefined);
        assert.equal(await site(env, `${s}-z`), undefined, "nothing outside the plan");
      } finally {
        await cleanUp(env, s);
      }
    });
  },
);

netboxTest(
  "bulk-import --apply-plan of a stale plan refuses the objects changed since (exit 3) and applies the rest",
  async (env) => {
    const s = uniqueName("stl");
    await withTempDir(async (dir) => {
      try {
        await seed(dir, s, ["a", "b", "c"]);
        const input = `${dir}/inventory.yaml`;
        const plan = `${dir}/plan.json`;
        await Deno.writeTextFile(
          input,
          `sites:\n  - {name: ${s}-a, slug: ${s}-a, description: mine}\n` +
            `  - {name: ${s}-b, slug: ${s}-b, description: mine}\n` +
            `  - {slug: ${s}-c, _state: absent}\n` +
            `  - {name: ${s}-d, slug: ${s}-d, description: mine}\n`,
        );
        const dry = await run([input, "--dry-run", "--plan-out", plan]);
        assert.equal(dry.code, 0, dry.stderr);

        // Someone else, after the review: edits a and c, creates d.
        const a = await site(env, `${s}-a`);
        const c = await site(env, `${s}-c`);
        await fetchOk(env, "PATCH", `/api/dcim/sites/${a.id}/`, { comments: "theirs" });
        await fetchOk(env, "PATCH", `/api/dcim/sites/${c.id}/`, { comments: "theirs" });
        await fetchOk(env, "POST", "/api/dcim/sites/", {
          name: `${s}-d`,
          slug: `${s}-d`,
          description: "theirs",
        });

        const r = await run(["--apply-plan", plan, "--format", "json"]);
        assert.equal(r.code, 3, r.stderr);
        assert.match(
          r.stderr,
          /Cannot apply the plan to 3 objects: changed in NetBox since the plan was made/,
        );
        const by = new Map<string, Body>(json(r).items.map((i: Body) => [i.name, i]));
        assert.equal(by.get(`${s}-a`).action, "failed");
        assert.match(by.get(`${s}-a`).message, /changed by someone else/);
        assert.equal(by.get(`${s}-b`).action, "update");
        assert.equal(by.get(`${s}-c`).action, "failed");
        assert.match(by.get(`${s}-c`).message, /not deleted: changed by someone else/);
        assert.equal(by.get(`${s}-d`).action, "failed");
        assert.match(by.get(`${s}-d`).message, /exists now/);

        const now = {
          a: await site(env, `${s}-a`),
          b: await site(env, `${s}-b`),
          c: await site(env, `${s}-c`),
          d: await site(env, `${s}-d`),
        };
        assert.deepEqual(
          [now.a.description, now.a.comments],
          ["old", "theirs"],
          "a keeps their change only",
        );
        assert.equal(now.b.description, "mine", "b, unchanged since, is written");
        assert.equal(now.c?.comments, "theirs", "c is not deleted");
        assert.equal(now.d.description, "theirs", "d is theirs, not created again");
        assert.ok(!r.writes.some((w) => w.includes(`/${a.id}/`) || w.includes(`/${c.id}/`)));
      } finally {
        await cleanUp(env, s);
      }
    });
  },
);

netboxTest(
  "bulk-import --apply-plan refuses a plan for another NetBox and a file that is no plan, writing nothing",
  async (env) => {
    const s = uniqueName("oth");
    await withTempDir(async (dir) => {
      try {
        await seed(dir, s, ["a"]);
        const input = `${dir}/inventory.yaml`;
        const plan = `${dir}/plan.json`;
        await Deno.writeTextFile(
          input,
          `sites:\n  - {name: ${s}-a, slug: ${s}-a, description: new}\n  - {name: ${s}-b, slug: ${s}-b}\n`,
        );
        assert.equal((await run([input, "--dry-run", "--plan-out", plan])).code, 0);
        const saved = JSON.parse(await Deno.readTextFile(plan));
        const variants: [string, Body, RegExp][] = [
          [
            "url",
            { ...saved, netbox: { ...saved.netbox, url: "https://netbox.example.com" } },
            /made for the NetBox at https:\/\/netbox\.example\.com, not /,
          ],
          [
            "version",
            { ...saved, netbox: { ...saved.netbox, version: "4.0.0" } },
            /made for NetBox 4\.0\.0, and .* runs /,
          ],
          [
            "branch",
            { ...saved, netbox: { ...saved.netbox, branch: "feature" } },
            /made for branch feature, not main/,
          ],
        ];
        for (const [what, doc, message] of variants) {
          const file = `${dir}/${what}.json`;
          await Deno.writeTextFile(file, JSON.stringify(doc));
          const r = await run(["--apply-plan", file]);
          assert.equal(r.code, 2, `${what}: ${r.stderr}`);
          assert.deepEqual(r.writes, [], what);
          assert.match(r.stderr, message);
          assert.equal(r.stderr.trim().split("\n").length, 1, `${what}: one line\n${r.stderr}`);
        }
        const bad: [string, string, RegExp][] = [
          ["notjson", "{ writes: [", /Cannot read plan .*notjson\.json: not JSON/],
          ["report", JSON.stringify({ summary: {}, items: [] }), /not a bulk-import plan/],
          [
            "shape",
            JSON.stringify({ ...saved, writes: [{ ...saved.writes[0], id: "7" }] }),
            /writes\[0\]\.id: expected a positive integer/,
          ],
        ];
        for (const [what, text, message] of bad) {
          const file = `${dir}/${what}.json`;
          await Deno.writeTextFile(file, text);
          const r = await run(["--apply-plan", file]);
          assert.equal(r.code, 2, `${what}: ${r.stderr}`);
          assert.deepEqual(r.writes, []);
          assert.match(r.stderr, message);
        }
        assert.equal((await site(env, `${s}-a`))?.description, "old", "a is as it was");
        assert.equal(await site(env, `${s}-b`), undefined, "b was not created");
      } finally {
        await cleanUp(env, s);
      }
    });
  },
);

netboxTest(
  "bulk-import --apply-plan --branch writes the saved plan into the branch it was made for",
  async (env) => {
    const s = uniqueName("brp");
    const branch = `nbtk-${s}`;
    const plugin = (await fetchJson(env, "GET", "/api/plugins/branching/")).status === 200;
    await withTempDir(async (dir) => {
      try {
        await seed(dir, s, ["a"]);
        const input = `${dir}/inventory.yaml`;
        const plan = `${dir}/plan.json`;
        await Deno.writeTextFile(
          input,
          `sites:\n  - {name: ${s}-a, slug: ${s}-a, description: new}\n` +
            `  - {name: ${s}-b, slug: ${s}-b}\n`,
        );
        const dry = await run([input, "--branch", branch, "--dry-run", "--plan-out", plan]);
        if (!plugin) {
          assert.equal(dry.code, 2, dry.stderr);
          assert.match(dry.stderr, /has no NetBox Branching plugin/);
          return;
        }
        assert.equal(dry.code, 0, dry.stderr);
        assert.equal(JSON.parse(await Deno.readTextFile(plan)).netbox.branch, branch);

        const onMain = await run(["--apply-plan", plan]);
        assert.equal(onMain.code, 2, onMain.stderr);
        assert.match(onMain.stderr, new RegExp(`made for branch ${branch}, not main`));
        assert.deepEqual(onMain.writes, []);

        const r = await run(["--apply-plan", plan, "--branch", branch, "--format", "json"]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(json(r).summary.create + json(r).summary.update, 2);
        const made = (await fetchOk(
          env,
          "GET",
          `/api/plugins/branching/branches/?name=${branch}`,
        )).results[0];
        assert.ok(made, "the branch was created");
        const inBranch = async (slug: string) => {
          const res = await fetch(`${env.url}/api/dcim/sites/?slug=${slug}`, {
            headers: {
              Accept: "application/json",
              Authorization: authHeader(env.token),
              "X-NetBox-Branch": made.schema_id,
            },
          });
          return (await res.json()).results[0];
        };
        assert.equal((await inBranch(`${s}-a`))?.description, "new");
        assert.ok(await inBranch(`${s}-b`), "b was created in the branch");
        assert.equal((await site(env, `${s}-a`))?.description, "old", "main is untouched");
        assert.equal(await site(env, `${s}-b`), undefined);
      } finally {
        const b = (await fetchOk(env, "GET", `/api/plugins/branching/branches/?name=${branch}`)
          .catch(() => ({ results: [] }))).results[0];
        if (b) await fetchJson(env, "DELETE", `/api/plugins/branching/branches/${b.id}/`);
        await cleanUp(env, s);
      }
    });
  },
);
