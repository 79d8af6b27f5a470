/**
 * The library verbs behind `nb` against the in-memory NetBox: model names, field diffs,
 * getOne, update/delete by filter (dry run, unchanged objects, lost answers, the delete brake),
 * and the CLI's value rule and record files.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { resolveModel } from "../../lib/client/model_resolve.ts";
import { fieldChanges, sameValue } from "../../lib/client/diff.ts";
import {
  deleteWhere,
  getOne,
  MatchError,
  updateObjects,
  updateWhere,
} from "../../lib/client/where.ts";
import { InputError } from "../../lib/client/errors.ts";
import { runScript } from "../../lib/client/actions.ts";
import { parseFields, parseRecordFile } from "../../lib/cli/nb_args.ts";
import { main } from "../../tasks/nb.ts";
import { fakeIO, FakeNetBox } from "../_fake_netbox.ts";
import type { Transport } from "../../lib/client/types.ts";

const TOKEN = "nbt_abcdefghijkl.0123456789";

function fakeWithTags(fetchWrap?: (f: typeof fetch) => typeof fetch) {
  const nb = new FakeNetBox({ storeAsSent: true });
  nb.load("extras/tags", [
    { id: 1, url: "", display: "red", name: "red", slug: "red", color: "ff0000", description: "" },
    {
      id: 2,
      url: "",
      display: "green",
      name: "green",
      slug: "green",
      color: "00ff00",
      description: "",
    },
    {
      id: 3,
      url: "",
      display: "blue",
      name: "blue",
      slug: "blue",
      color: "0000ff",
      description: "x",
    },
  ]);
  const client = createClient({
    url: nb.host,
    token: TOKEN,
    fetch: fetchWrap ? fetchWrap(nb.fetch) : nb.fetch,
    settleMs: 1,
    retries: 0,
  });
  return { nb, client };
}

Deno.test("resolveModel() takes dotted, slashed, short and snake_case names and suggests on a typo", async () => {
  const { client } = fakeWithTags();
  try {
    for (const name of ["dcim.devices", "dcim/devices", "devices", "/api/dcim/devices/"]) {
      assert.equal(await resolveModel(client, name), "dcim/devices/");
    }
    assert.equal(await resolveModel(client, "ipam.ip_addresses"), "ipam/ip-addresses/");
    await assert.rejects(resolveModel(client, "devcies"), /did you mean dcim\.devices/);
    await assert.rejects(
      resolveModel(client, "interfaces"),
      (err) =>
        err instanceof InputError &&
        /dcim\.interfaces, virtualization\.interfaces/.test(err.message),
    );
  } finally {
    client.close();
  }
});

Deno.test("resolveModel() finds plugin models under /api/plugins/", async () => {
  const roots: Record<string, unknown> = {
    "plugins/": { branching: "http://x/api/plugins/branching/" },
    "plugins/branching/": { branches: "http://x/api/plugins/branching/branches/" },
  };
  const transport = {
    status: () => Promise.resolve({ version: "4.7.3", major: 4, minor: 7, patch: 3, raw: {} }),
    request: (_m: string, path: string) => Promise.resolve(roots[path] ?? {}),
  } as unknown as Transport;
  assert.equal(await resolveModel(transport, "branches"), "plugins/branching/branches/");
  assert.equal(
    await resolveModel(transport, "plugins.branching.branches"),
    "plugins/branching/branches/",
  );
  assert.equal(await resolveModel(transport, "branching/branches"), "plugins/branching/branches/");
});

Deno.test("sameValue() reads NetBox's read shapes against write values", () => {
  assert.ok(sameValue({ value: "active", label: "Active" }, "active"));
  assert.ok(sameValue({ id: 7, name: "matrix", slug: "matrix" }, 7));
  assert.ok(sameValue({ id: 7, name: "matrix", slug: "matrix" }, { slug: "matrix" }));
  assert.ok(!sameValue({ id: 7, name: "matrix", slug: "matrix" }, { slug: "zion" }));
  assert.ok(sameValue([{ id: 1, name: "a" }, { id: 2, name: "b" }], [2, { name: "a" }]));
  assert.ok(!sameValue([{ id: 1, name: "a" }], [{ name: "a" }, 2]));
  assert.ok(sameValue(null, null) && sameValue("", null) && !sameValue("x", null));
  assert.deepEqual(
    fieldChanges({ id: 1, site: { id: 3, name: "m" }, mtu: 1500 }, { id: 1, site: 4, mtu: 1500 }),
    [
      { field: "site", before: "m", after: 4 },
    ],
  );
});

Deno.test("getOne() returns the one match and names the matches of an ambiguous selector", async () => {
  const { client } = fakeWithTags();
  try {
    assert.equal((await getOne(client, "extras/tags/", { slug: "green" })).id, 2);
    assert.equal((await getOne(client, "extras/tags/", 3)).name, "blue");
    await assert.rejects(
      getOne(client, "extras/tags/", { description: "" }),
      (err) =>
        err instanceof MatchError && err.count === 2 && err.exitCode === 3 &&
        /2 objects match description=: red \(id 1\), green \(id 2\)/.test(err.message),
    );
    await assert.rejects(
      getOne(client, "extras/tags/", { slug: "none" }),
      /none matches slug=none/,
    );
  } finally {
    client.close();
  }
});

Deno.test("updateWhere() diffs first: a dry run sends nothing, unchanged objects are not written", async () => {
  const { nb, client } = fakeWithTags();
  try {
    const plan = await updateWhere(client, "extras/tags/", { slug: ["red", "blue"] }, {
      description: "x",
    }, {
      dryRun: true,
    });
    assert.deepEqual(plan.map((o) => [o.id, o.status, o.changes]), [
      [1, "planned", [{ field: "description", before: "", after: "x" }]],
      [3, "unchanged", []],
    ]);
    assert.deepEqual(nb.writes(), []);
    const done = await updateWhere(client, "extras/tags/", { slug: ["red", "blue"] }, {
      description: "x",
    });
    assert.deepEqual(done.map((o) => o.status), ["done", "unchanged"]);
    assert.equal(nb.writes().length, 1);
    assert.equal(nb.table("extras/tags").find((t) => t.id === 1)!.description, "x");
    await assert.rejects(
      updateWhere(client, "extras/tags/", {}, { description: "y" }),
      /at least one filter/,
    );
  } finally {
    client.close();
  }
});

Deno.test("updateObjects(): a write whose answer was lost is read back — done when it landed, else unknown", async () => {
  let apply = true;
  // A gateway's 504 after (or instead of) NetBox's work: the PATCH may have landed.
  const { nb, client } = fakeWithTags((inner) => async (input, init) => {
    const req = new Request(input, init);
    if (req.method !== "PATCH") return inner(req);
    if (apply) await (await inner(req)).body?.cancel();
    return new Response("<html>504</html>", {
      status: 504,
      headers: { "content-type": "text/html" },
    });
  });
  try {
    const [landed] = await updateObjects(client, "extras/tags/", [{ id: 2, color: "123456" }]);
    assert.equal(landed.status, "done");
    assert.match(landed.message!, /confirmed by reading back/);
    apply = false;
    const [lost] = await updateObjects(client, "extras/tags/", [{ id: 2, color: "abcdef" }]);
    assert.equal(lost.status, "unknown");
    assert.match(lost.message!, /may still be writing it: not confirmed by reading back/);
    assert.equal(nb.table("extras/tags").find((t) => t.id === 2)!.color, "123456");
  } finally {
    client.close();
  }
});

Deno.test("deleteWhere() stops before any write above maxDeletes", async () => {
  const { nb, client } = fakeWithTags();
  try {
    await assert.rejects(
      deleteWhere(client, "extras/tags/", { color__n: "x" }, { maxDeletes: 2 }),
      /Cannot delete 3 objects of extras\/tags\/: more than the limit of 2/,
    );
    assert.deepEqual(nb.writes(), []);
    const done = await deleteWhere(client, "extras/tags/", { slug: "red" }, { maxDeletes: 2 });
    assert.deepEqual(done.map((o) => [o.id, o.status]), [[1, "done"]]);
    assert.equal(nb.table("extras/tags").length, 2);
  } finally {
    client.close();
  }
});

Deno.test("parseFields() and parseRecordFile(): JSON when it parses, else text; dotted keys build dicts", () => {
  assert.deepEqual(
    parseFields(["vid=10", "name=007", 'slug="007"', "tags=[1,2]", "site.slug=matrix", "x=null"]),
    {
      vid: 10,
      name: "007",
      slug: "007",
      tags: [1, 2],
      site: { slug: "matrix" },
      x: null,
    },
  );
  assert.throws(() => parseFields(["a=1", "a=2"]), /a is given twice/);
  assert.throws(() => parseFields(["status"]), /Cannot parse "status": expected field=value/);
  assert.deepEqual(parseRecordFile("- name: a\n  vid: 3\n", "v.yaml"), [{ name: "a", vid: 3 }]);
  assert.deepEqual(parseRecordFile("id,status\n4,offline\n", "-", "csv"), [{
    id: 4,
    status: "offline",
  }]);
  assert.throws(() => parseRecordFile('{"id":1}\nnot json\n', "x.ndjson"), /x\.ndjson:2/);
});

Deno.test("nb: bad words are refused with exit 2 before anything is sent", async () => {
  const { nb } = fakeWithTags();
  for (
    const [args, message] of [
      [["tags", "frobnicate"], /unknown verb "frobnicate"/],
      [["tags", "lsit"], /did you mean list/],
      [["tags", "update", "3", "color"], /expected field=value/],
      [["tags", "delete"], /give ids, --where/],
      [["tags", "list", "--limit", "0"], /--limit: expected a positive whole number/],
    ] as const
  ) {
    const { io, out } = fakeIO(nb);
    assert.equal(await main([...args], io), 2, out.stderr);
    assert.match(out.stderr, message);
  }
  assert.deepEqual(nb.writes(), []);
});

Deno.test("nb list streams ndjson and csv; get shows one object; --help per verb", async () => {
  const { nb } = fakeWithTags();
  let { io, out } = fakeIO(nb);
  assert.equal(
    await main(["tags", "list", "--format", "ndjson", "--limit", "2"], io),
    0,
    out.stderr,
  );
  assert.deepEqual(out.stdout.trim().split("\n").map((l) => JSON.parse(l).slug), ["red", "green"]);
  ({ io, out } = fakeIO(nb));
  assert.equal(await main(["tags", "list", "--format", "csv", "--fields", "name,color"], io), 0);
  assert.equal(out.stdout, "name,color\nred,ff0000\ngreen,00ff00\nblue,0000ff\n");
  ({ io, out } = fakeIO(nb));
  assert.equal(await main(["tags", "get", "slug__ic=e"], io), 3);
  assert.match(out.stderr, /3 objects match slug__ic=e/);
  ({ io, out } = fakeIO(nb));
  assert.equal(await main(["devices", "update", "--help"], io), 0);
  assert.match(out.stdout, /Usage: nb <model> update/);
  assert.match(out.stdout, /nb devices update 12 status=offline/);
});

Deno.test("runScript() posts data and commit, then polls the job to its end", async () => {
  const sent: string[] = [];
  let polls = 0;
  let now = 0;
  const transport = {
    strictFilters: false,
    clock: { now: () => now, sleep: (ms: number) => Promise.resolve(void (now += ms)) },
    status: () => Promise.resolve({ version: "4.3.7", major: 4, minor: 3, patch: 7, raw: {} }),
    request: (method: string, path: string, o: { body?: unknown } = {}) => {
      sent.push(`${method} ${path}${o.body ? ` ${JSON.stringify(o.body)}` : ""}`);
      if (path === "extras/scripts/check.Dns/") {
        return Promise.resolve({ id: 4, url: "", name: "Dns" });
      }
      if (method === "POST") {
        return Promise.resolve({
          result: { url: "http://x/api/core/jobs/77/", status: { value: "pending" } },
        });
      }
      const status = ++polls < 3 ? "running" : "completed";
      return Promise.resolve({
        id: 77,
        url: "",
        status: { value: status },
        data: { log: [{ status: "success", message: "ok" }], output: "done" },
      });
    },
  } as unknown as Transport;
  const run = await runScript(transport, "check.Dns", {
    data: { site: "matrix" },
    commit: true,
    pollMs: 500,
  });
  assert.equal(run.status, "completed");
  assert.equal(run.jobId, 77);
  assert.deepEqual(run.log, [{ status: "success", message: "ok" }]);
  assert.equal(run.output, "done");
  assert.equal(now, 1000);
  assert.deepEqual(sent.slice(0, 2), [
    "GET extras/scripts/check.Dns/",
    'POST extras/scripts/4/ {"data":{"site":"matrix"},"commit":true}',
  ]);
  polls = -100;
  now = 0;
  const late = await runScript(transport, "check.Dns", { timeoutMs: 3000, pollMs: 1000 });
  assert.equal(late.status, "running");
  assert.equal(now, 3000);
});

Deno.test("updateObjects() with ifMatch: an object changed after it was read fails, the others land", async () => {
  let raced = false;
  const { nb, client } = fakeWithTags((inner) => async (input, init) => {
    const req = new Request(input, init);
    if (req.method === "PATCH" && !raced) {
      raced = true; // someone else edits tag 1 between our read and our write
      await inner(`${nb.host}/api/extras/tags/1/`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ description: "theirs" }),
      }).then((r) => r.body?.cancel());
    }
    return inner(req);
  });
  try {
    for (const t of nb.table("extras/tags")) t.last_updated = "2025-01-01T00:00:00.123456Z";
    const out = await updateObjects(client, "extras/tags/", [{ id: 1, color: "111111" }, {
      id: 2,
      color: "222222",
    }], { ifMatch: true });
    assert.deepEqual(out.map((o) => o.status), ["failed", "done"]);
    assert.match(out[0].message!, /changed/);
    assert.deepEqual(nb.table("extras/tags").slice(0, 2).map((t) => [t.color, t.description]), [
      ["ff0000", "theirs"],
      ["222222", ""],
    ]);
  } finally {
    client.close();
  }
});
