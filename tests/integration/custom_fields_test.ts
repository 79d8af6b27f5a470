/**
 * Custom fields on the real NetBox: bulk-import refuses a value for a custom field NetBox does
 * not have, and a value of the wrong type, with one line naming the field and the entry's line
 * (exit 2, nothing written); export writes an object custom field's value by its object's natural
 * key (a site's slug), names what it cannot carry (an object field of a model the import does not
 * know: a user) on stderr and in its summary, and `--strict` makes that exit 1.
 *
 * One site and three custom fields of its own (prefixed per run), deleted afterwards.
 */

import assert from "node:assert/strict";
import { main as bulkImport } from "../../tasks/bulk-import.ts";
import { main as exportTask } from "../../tasks/export.ts";
import { fetchJson, fetchOk, netboxTest, uniqueName } from "./_netbox.ts";
import { runTaskMain } from "./_run_task.ts";
import { withTempDir } from "./_inventory.ts";

netboxTest(
  "custom fields: unknown field and wrong type are one plan error each; export writes a site-valued field by slug, --strict exits 1 on a user-valued one",
  async (env) => {
    const p = uniqueName("nbtk-cf");
    const cf = p.replaceAll("-", "_");
    const run = (main: typeof bulkImport, args: string[]) =>
      runTaskMain(main, args, { url: env.url, token: env.token });
    const created: [string, number][] = [];
    try {
      const site = await fetchOk(env, "POST", "/api/dcim/sites/", { name: p, slug: p });
      created.push(["dcim/sites", site.id]);
      const int = await fetchOk(env, "POST", "/api/extras/custom-fields/", {
        name: `${cf}_int`,
        type: "integer",
        object_types: ["dcim.site"],
      });
      created.push(["extras/custom-fields", int.id]);

      // 1. bulk-import: one line per problem, naming the field and the entry's line; exit 2.
      await withTempDir(async (dir) => {
        const file = `${dir}/in.yaml`;
        await Deno.writeTextFile(
          file,
          `sites:\n  - {name: ${p}, slug: ${p}, custom_fields: {${cf}_nope: 1}}\n` +
            `  - {name: ${p}-b, slug: ${p}-b, custom_fields: {${cf}_int: twelve}}\n`,
        );
        const r = await run(bulkImport, [file]);
        assert.equal(r.code, 2, r.stderr);
        const lines = r.stderr.trim().split("\n");
        assert.match(
          lines[0],
          new RegExp(`in\\.yaml:2:\\d+: unknown custom field "${cf}_nope": NetBox has none`),
        );
        assert.match(
          lines[1],
          new RegExp(
            `in\\.yaml:3:\\d+: custom field "${cf}_int" \\(type integer\\) must be an integer, ` +
              `not string "twelve"`,
          ),
        );
        assert.deepEqual(
          r.requests.filter((q) => !q.startsWith("GET ") && !q.startsWith("OPTIONS ")),
          [],
        );
        const b = await fetchOk(env, "GET", `/api/dcim/sites/?slug=${p}-b`);
        assert.equal(b.count, 0, "nothing written");
      });

      // 2. export: a site-valued custom field by the site's slug; a user-valued one (users are
      // no model of the import) named on stderr and in the summary.
      for (const [name, type] of [["peer", "dcim.site"], ["who", "users.user"]]) {
        const obj = await fetchOk(env, "POST", "/api/extras/custom-fields/", {
          name: `${cf}_${name}`,
          type: "object",
          related_object_type: type,
          object_types: ["dcim.site"],
        });
        created.push(["extras/custom-fields", obj.id]);
      }
      const user = (await fetchOk(env, "GET", "/api/users/users/?limit=1")).results[0];
      await fetchOk(env, "PATCH", `/api/dcim/sites/${site.id}/`, {
        custom_fields: { [`${cf}_peer`]: site.id, [`${cf}_int`]: 12, [`${cf}_who`]: user.id },
      });
      const args = ["--model", "sites", "--filter", `slug=${p}`];
      const plain = await run(exportTask, args);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(
        plain.stderr,
        new RegExp(`dcim\\.sites: custom_fields\\.${cf}_who not exported for 1 object`),
      );
      assert.doesNotMatch(plain.stderr, new RegExp(`${cf}_peer`));
      assert.match(plain.stderr, /fields not exported \(see above\): dcim\.sites 1/);
      assert.match(
        plain.stdout,
        new RegExp(`custom_fields: \\{${cf}_int: 12, ${cf}_peer: ${p}\\}`),
      );
      const strict = await run(exportTask, [...args, "--strict"]);
      assert.equal(strict.code, 1, strict.stderr);
      assert.equal(strict.stdout, plain.stdout);
    } finally {
      for (const [path, id] of created.reverse()) {
        const res = await fetchJson(env, "DELETE", `/api/${path}/${id}/`);
        if (res.status !== 204) console.error(`cleanup: ${path} ${id}: ${res.status}`);
      }
    }
  },
);
