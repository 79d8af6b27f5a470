/**
 * Saved plans without NetBox: what `savePlan()` records (never the token), that `planOfSaved()`
 * gives back the same writes (references to objects created earlier, dependencies, ETags), the
 * shape check of a plan file, the target check, and the delete brake of `applyImport()` — all
 * before any request that writes. (The real NetBox: tests/integration/bulk_import_plan_test.ts.)
 */
import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { applyImport } from "../../lib/import/import.ts";
import { modelByKey } from "../../lib/import/models.ts";
import { type ImportPlan, NewRef, type PlanItem } from "../../lib/import/plan.ts";
import { DeleteLimitError, renderDeletes } from "../../lib/import/plan_checks.ts";
import {
  applySavedPlan,
  checkPlanTarget,
  normalizeNetBoxUrl,
  parseSavedPlan,
  planOfSaved,
  PlanTargetError,
  SavedPlanError,
  savePlan,
} from "../../lib/import/saved_plan.ts";

const TOKEN = "nbt_abcdefghijkl.0123456789abcdef0123456789abcdef01234567";

/** A client on https://nb.example whose NetBox answers status and id listings; logs requests. */
function fakeClient(log: string[], version = "4.7.3", url = "https://nb.example") {
  const fetch: typeof globalThis.fetch = (input, init) => {
    const req = new Request(input, init);
    const u = new URL(req.url);
    log.push(`${req.method} ${u.pathname}${u.search}`);
    if (u.pathname === "/api/status/") {
      return Promise.resolve(Response.json({ "netbox-version": version }));
    }
    const ids = u.searchParams.getAll("id").map(Number);
    const results = ids.map((id) => ({ id, last_updated: "2026-12-02T03:48:28.561882+01:00" }));
    return Promise.resolve(Response.json({ count: results.length, next: null, results }));
  };
  return createClient({ url, token: TOKEN, fetch, retries: 0, log: () => {} });
}

function item(uid: number, model: string, fields: Partial<PlanItem>): PlanItem {
  return {
    uid,
    model: modelByKey(model),
    entry: { loc: { file: "in.yaml", line: uid + 1, column: 5 }, data: { n: uid }, locs: {} },
    label: `${model}-${uid}`,
    action: "create",
    body: {},
    deferred: {},
    changes: [],
    problems: [],
    deps: new Set(),
    deferredDeps: new Set(),
    ...fields,
  };
}

/**
 * A tenant, a site on it (created in the same plan; also in object custom fields), an update, a
 * prune, and what is not saved.
 */
function samplePlan(): ImportPlan {
  const tenant = new NewRef(1, "t");
  return {
    items: [
      item(1, "tenancy.tenants", { body: { name: "t", slug: "t" } }),
      item(2, "dcim.sites", {
        body: {
          name: "s",
          slug: "s",
          tenant,
          tags: [5, tenant],
          custom_fields: { owner: tenant, others: [4, tenant], note: "x" },
        },
        deps: new Set([1]),
      }),
      item(3, "dcim.sites", {
        action: "update",
        id: 7,
        etag: 'W/"2026-01-01T00:00:00+00:00"',
        body: { description: "new" },
        changes: [{ field: "description", old: "old", new: "new" }],
      }),
      item(4, "dcim.sites", {
        action: "delete",
        id: 9,
        reason: "prune",
        key: "slug=gone",
        requireTag: "iac",
      }),
      item(5, "dcim.sites", { action: "unchanged", id: 10 }),
      item(6, "dcim.sites", { action: "invalid" }),
    ],
    problems: [],
    options: { scopeTag: "iac", prune: true },
  };
}

Deno.test("savePlan() records the NetBox, options and every write, never the token", async () => {
  const log: string[] = [];
  const client = fakeClient(log);
  try {
    const saved = await savePlan(client, samplePlan(), {
      inputs: ["in.yaml"],
      now: new Date("2026-12-07T12:00:00Z"),
    });
    const text = JSON.stringify(saved);
    assert.ok(!text.includes(TOKEN.slice(-20)), "no token");
    assert.deepEqual(saved.netbox, { url: "https://nb.example", version: "4.7.3", branch: null });
    assert.deepEqual(saved.options, {
      mode: "upsert",
      match_on: {},
      create_missing_tags: false,
      scope_tag: "iac",
      prune: true,
    });
    assert.deepEqual(saved.summary, { create: 2, update: 1, delete: 1 });
    assert.deepEqual(saved.writes.map((w) => [w.uid, w.action]), [
      [1, "create"],
      [2, "create"],
      [3, "update"],
      [4, "delete"],
    ]);
    const [, site, update, prune] = saved.writes;
    assert.deepEqual(site.body, {
      name: "s",
      slug: "s",
      tenant: "new:t",
      tags: [5, "new:t"],
      custom_fields: { owner: "new:t", others: [4, "new:t"], note: "x" },
    });
    assert.deepEqual(site.refs, {
      tenant: 1,
      tags: [null, 1],
      "custom_fields/owner": 1,
      "custom_fields/others": [null, 1],
    });
    assert.deepEqual(site.source, { file: "in.yaml", line: 3, column: 5 });
    assert.equal(update.etag, 'W/"2026-01-01T00:00:00+00:00"');
    // The delete's ETag is read when the plan is saved (the planner keeps none for deletes).
    assert.equal(prune.etag, 'W/"2026-12-02T02:48:28.561882+00:00"');
    assert.equal(prune.source, undefined, "a pruned object is in no input file");
    assert.deepEqual(log.filter((l) => !l.startsWith("GET /api/status/")).length, 1);
    assert.ok(log.every((l) => l.startsWith("GET ")), "reads only");
  } finally {
    client.close();
  }
});

Deno.test("planOfSaved() restores the writes of a saved plan read back from its JSON", async () => {
  const client = fakeClient([]);
  try {
    const saved = await savePlan(client, samplePlan());
    const plan = planOfSaved(parseSavedPlan(JSON.stringify(saved, null, 2), "plan.json"));
    assert.deepEqual(plan.items.map((i) => [i.uid, i.action, i.model.key, i.id]), [
      [1, "create", "tenancy.tenants", undefined],
      [2, "create", "dcim.sites", undefined],
      [3, "update", "dcim.sites", 7],
      [4, "delete", "dcim.sites", 9],
    ]);
    const site = plan.items[1];
    assert.ok(site.body.tenant instanceof NewRef && site.body.tenant.uid === 1);
    const tags = site.body.tags as unknown[];
    assert.equal(tags[0], 5);
    assert.ok(tags[1] instanceof NewRef && (tags[1] as NewRef).uid === 1);
    // Object custom field values on objects created earlier in the plan.
    const cf = site.body.custom_fields as Record<string, unknown>;
    assert.ok(cf.owner instanceof NewRef && cf.owner.uid === 1);
    const others = cf.others as unknown[];
    assert.equal(others[0], 4);
    assert.ok(others[1] instanceof NewRef && (others[1] as NewRef).uid === 1);
    assert.equal(cf.note, "x");
    assert.deepEqual([...site.deps], [1]);
    assert.deepEqual(site.entry.data, { n: 2 });
    assert.equal(plan.items[2].etag, 'W/"2026-01-01T00:00:00+00:00"');
    assert.equal(plan.items[3].requireTag, "iac");
    assert.deepEqual(plan.options, {
      mode: "upsert",
      matchOn: {},
      createMissingTags: false,
      scopeTag: "iac",
      prune: true,
    });
  } finally {
    client.close();
  }
});

Deno.test("parseSavedPlan() refuses what is no plan with one message naming the problem", async () => {
  const client = fakeClient([]);
  const good = await savePlan(client, samplePlan());
  client.close();
  const bad = (doc: unknown) => JSON.stringify(doc);
  const cases: [string, RegExp][] = [
    ["", /^Cannot read plan p\.json: not JSON/],
    ["[1]", /expected a JSON object/],
    [bad({ summary: {}, items: [] }), /not a bulk-import plan/],
    [bad({ ...good, format_version: 2 }), /format version 2 is newer than this toolkit reads/],
    [bad({ ...good, netbox: { version: "4.7.3", branch: null } }), /netbox\.url: expected/],
    [bad({ ...good, options: { ...good.options, mode: "merge" } }), /options\.mode/],
    [bad({ ...good, writes: {} }), /writes: expected a list/],
    [
      bad({ ...good, writes: [good.writes[0], good.writes[0]] }),
      /writes\[1\]\.uid: 1 appears twice/,
    ],
    [
      bad({ ...good, writes: [{ ...good.writes[3], id: "9" }] }),
      /writes\[0\]\.id: expected a positive/,
    ],
    [bad({ ...good, writes: [{ ...good.writes[0], model: "no model" }] }), /writes\[0\]\.model/],
    [bad({ ...good, writes: [{ ...good.writes[0], action: "merge" }] }), /writes\[0\]\.action/],
    [bad({ ...good, writes: [good.writes[1]] }), /writes\[0\]\.deps: expected the uids of creates/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseSavedPlan(text, "p.json"), (err: Error) => {
      assert.ok(err instanceof SavedPlanError, text);
      assert.equal((err as SavedPlanError).exitCode, 2);
      assert.match(err.message, message, text);
      assert.ok(!err.message.includes("\n"), "one line");
      return true;
    });
  }
});

Deno.test("normalizeNetBoxUrl() compares scheme, host and path, not case, /api or a default port", () => {
  const same = (a: string, b: string) => normalizeNetBoxUrl(a) === normalizeNetBoxUrl(b);
  assert.ok(same("https://NetBox.example/", "https://netbox.example:443/api/"));
  assert.ok(same("http://nb:8080/netbox/api", "http://nb:8080/netbox"));
  assert.ok(!same("http://127.0.0.1:8080", "http://localhost:8080"));
  assert.ok(!same("https://nb.example", "http://nb.example"));
  assert.ok(!same("https://nb.example", "https://nb.example:8443"));
});

Deno.test("checkPlanTarget() refuses a plan for another URL before any request, another version after", async () => {
  const log: string[] = [];
  const client = fakeClient(log);
  try {
    const saved = await savePlan(client, samplePlan());
    log.length = 0;
    const other = fakeClient(log, "4.7.3", "https://other.example");
    try {
      await assert.rejects(
        checkPlanTarget(other, saved, "plan.json"),
        (err: Error) =>
          err instanceof PlanTargetError && err.exitCode === 2 &&
          /plan\.json: it was made for the NetBox at https:\/\/nb\.example, not https:\/\/other\.example/
            .test(err.message),
      );
      assert.equal(log.length, 0, "nothing asked");
    } finally {
      other.close();
    }
    const upgraded = fakeClient(log, "4.7.4");
    try {
      await assert.rejects(
        checkPlanTarget(upgraded, saved),
        /made for NetBox 4\.7\.3, and .* 4\.7\.4/,
      );
      await assert.rejects(
        applySavedPlan(upgraded, saved),
        PlanTargetError,
      );
      assert.ok(log.every((l) => l.startsWith("GET /api/status/")), log.join("\n"));
    } finally {
      upgraded.close();
    }
    await checkPlanTarget(client, {
      ...saved,
      netbox: { ...saved.netbox, url: "HTTPS://nb.example/api/" },
    });
  } finally {
    client.close();
  }
});

Deno.test("applyImport() with maxDeletes refuses a plan deleting more, before any request", async () => {
  const log: string[] = [];
  const client = fakeClient(log);
  try {
    const plan = samplePlan();
    await assert.rejects(applyImport(client, plan, { maxDeletes: 0 }), (err: Error) => {
      assert.ok(err instanceof DeleteLimitError);
      assert.equal(err.exitCode, 2);
      assert.equal(err.limit, 0);
      assert.equal(
        renderDeletes(err.deletes),
        "delete dcim.sites dcim.sites-4 (slug=gone, id 9, prune)\n",
      );
      return true;
    });
    assert.equal(log.length, 0, log.join("\n"));
    const saved = await savePlan(client, plan);
    log.length = 0;
    await assert.rejects(applySavedPlan(client, saved, { maxDeletes: 0 }), DeleteLimitError);
    assert.ok(log.every((l) => l.startsWith("GET ")), "no write");
  } finally {
    client.close();
  }
});
