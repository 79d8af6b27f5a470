/**
 * The revert's domain calls over a small in-memory NetBox: selections, audit logs, the plan
 * (collapsing, order, refusals) and applying it (new ids relinked, tags and generic relations
 * written as the API takes them).
 */

import assert from "node:assert/strict";
import { NetBoxTimeoutError } from "../../lib/client/errors.ts";
import { type FakeRequest, fakeTransport, httpError } from "../_fake_transport.ts";
import {
  applyRevert,
  checkSelection,
  type LoggedChange,
  planRevert,
  readChanges,
  requestIdsOfAuditLog,
  RevertRefusedError,
} from "../../lib/revert/mod.ts";

type Obj = Record<string, unknown> & { id: number };

/** A tiny NetBox: detail GET/PATCH/DELETE, list GET filtered by `x_id`, POST with new ids. */
function store(tables: Record<string, Obj[]>) {
  let next = 1000;
  const handler = (req: FakeRequest) => {
    const m = /^(.*\/)(\d+)\/$/.exec(req.path);
    if (m) {
      const rows = tables[m[1]] ?? [];
      const at = rows.findIndex((o) => o.id === Number(m[2]));
      if (at < 0) throw httpError(404, req.method, req.path, { detail: "Not found." });
      if (req.method === "GET") return rows[at];
      if (req.method === "PATCH") return rows[at] = { ...rows[at], ...(req.body as Obj) };
      if (req.method === "DELETE") return void rows.splice(at, 1);
    }
    const rows = tables[req.path] ??= [];
    if (req.method === "POST") {
      const made = { ...(req.body as Obj), id: next++ };
      rows.push(made);
      return made;
    }
    const keys = new Set([...req.query.keys()].filter((k) => k.endsWith("_id")));
    const results = rows.filter((o) =>
      [...keys].every((k) => {
        const ref = o[k.slice(0, -3)];
        const id = typeof ref === "object" && ref !== null ? (ref as Obj).id : ref;
        return req.query.getAll(k).map(Number).includes(id as number);
      })
    );
    return { count: results.length, next: null, previous: null, results };
  };
  return fakeTransport(handler);
}

let changeId = 0;
function change(
  action: LoggedChange["action"],
  model: string,
  object_id: number,
  prechange: Record<string, unknown> | null,
  postchange: Record<string, unknown> | null,
  request_id = "11111111-aaaa-4bbb-8ccc-000000000001",
): LoggedChange {
  return {
    id: ++changeId,
    time: "2026-12-07T18:30:00Z",
    user_name: "admin",
    request_id,
    action,
    model,
    object_id,
    prechange,
    postchange,
  };
}

Deno.test("requestIdsOfAuditLog() takes the successful writes once each and names a bad line", () => {
  const line = (status: number, requestId: string) =>
    JSON.stringify({
      task: "bulk-import",
      method: "POST",
      path: "/api/dcim/sites/",
      status,
      requestId,
    });
  const log = [line(201, "aaaaaaaa-1"), line(400, "bbbbbbbb-2"), line(200, "aaaaaaaa-1"), ""].join(
    "\n",
  );
  assert.deepEqual(requestIdsOfAuditLog(log, "run.log"), ["aaaaaaaa-1"]);
  assert.throws(
    () => requestIdsOfAuditLog(`${line(201, "aaaaaaaa-1")}\n{"method":1}\n`, "run.log"),
    /run\.log:2: expected an object with method, status and requestId/,
  );
  assert.throws(() => requestIdsOfAuditLog(line(400, "x"), "run.log"), /no successful write/);
});

Deno.test("checkSelection() wants request ids or since with user, and real times", () => {
  assert.throws(() => checkSelection({}), /give a request id/);
  assert.throws(() => checkSelection({ since: "2026-12-07T18:00:00Z" }), /since needs user/);
  assert.throws(
    () => checkSelection({ since: "2026-12-07T18:00:00Z", until: "2026-12-06", user: "a" }),
    /before since/,
  );
  assert.throws(() => checkSelection({ requestIds: ["x y"] }), /not a request id/);
  assert.throws(
    () => checkSelection({ requestIds: ["aaaaaaaa-1"], model: "dcim/devices" }),
    /not app\.model/,
  );
  checkSelection({ since: "2026-12-07T18:00:00Z", user: "admin", model: "dcim.device" });
});

Deno.test("planRevert() undoes each object once: deletes what was created, patches back, skips create+delete", async () => {
  const t = store({
    "dcim/sites/": [{
      id: 1,
      name: "Lab",
      slug: "lab",
      status: { value: "active", label: "Active" },
      url: "",
      display: "Lab",
    }],
    "extras/tags/": [{ id: 5, name: "t", slug: "t", url: "", display: "t" }],
  });
  const plan = await planRevert(t, [
    change("create", "extras.tag", 5, null, { name: "t", slug: "t" }),
    change("update", "dcim.site", 1, { name: "Lab", status: "planned" }, {
      name: "Lab",
      status: "staging",
    }),
    change("update", "dcim.site", 1, { name: "Lab", status: "staging" }, {
      name: "Lab",
      status: "active",
    }),
    change("create", "extras.tag", 6, null, { name: "u", slug: "u" }),
    change("delete", "extras.tag", 6, { name: "u", slug: "u" }, null),
  ]);
  assert.deepEqual(plan.refused, []);
  assert.deepEqual(plan.steps.map((s) => `${s.action} ${s.model} ${s.id}`), [
    "update dcim.site 1",
    "delete extras.tag 5",
  ]);
  assert.deepEqual(plan.steps[0].changes, [{
    field: "status",
    before: "active",
    after: "planned",
  }]);
  assert.deepEqual(plan.skipped.map((s) => s.reason), ["created and deleted again"]);
  await applyRevert(t, plan);
  assert.deepEqual(t.lines().filter((l) => !l.startsWith("GET")), [
    "PATCH dcim/sites/1/",
    "DELETE extras/tags/5/",
  ]);
  assert.deepEqual(t.requests.find((r) => r.method === "PATCH")?.body, { status: "planned" });
});

Deno.test("planRevert() refuses an object changed since, with the difference; force overrides", async () => {
  const t = store({
    "dcim/sites/": [{
      id: 1,
      name: "Lab",
      status: { value: "retired", label: "Retired" },
      url: "",
      display: "Lab",
    }],
  });
  const changes = [
    change("update", "dcim.site", 1, { name: "Lab", status: "planned" }, {
      name: "Lab",
      status: "active",
    }),
  ];
  const plan = await planRevert(t, changes);
  assert.equal(plan.refused.length, 1);
  assert.equal(plan.refused[0].refusal, 'changed since: status "active" → "retired"');
  await assert.rejects(applyRevert(t, plan), RevertRefusedError);
  assert.ok(!t.requests.some((r) => r.method !== "GET"), "nothing was written");
  const forced = await planRevert(t, changes, { force: true });
  assert.deepEqual(forced.refused, []);
  assert.match(forced.steps[0].overridden ?? "", /changed since/);
});

Deno.test("planRevert() refuses to delete a created object others now refer to, naming them; cascade overrides", async () => {
  const t = store({
    "dcim/sites/": [{ id: 1, name: "Lab", slug: "lab", url: "", display: "Lab" }],
    "dcim/racks/": [{
      id: 9,
      name: "R1",
      site: { id: 1, url: "", display: "Lab" },
      url: "",
      display: "R1",
    }],
  });
  const changes = [change("create", "dcim.site", 1, null, { name: "Lab", slug: "lab" })];
  const plan = await planRevert(t, changes);
  assert.equal(plan.refused[0]?.refusal, "1 other object refer to it: dcim.racks R1 (id 9)");
  const cascade = await planRevert(t, changes, { cascade: true });
  assert.deepEqual(cascade.refused, []);
  // What the same revert created is not a dependant: the rack goes first.
  const both = await planRevert(t, [
    ...changes,
    change("create", "dcim.rack", 9, null, { name: "R1", site: 1 }),
  ]);
  assert.deepEqual(both.refused, []);
  assert.deepEqual(both.steps.map((s) => `${s.action} ${s.model}`), [
    "delete dcim.rack",
    "delete dcim.site",
  ]);
});

Deno.test("applyRevert() creates deleted objects again in dependency order and relinks their references by new id", async () => {
  const t = store({
    "dcim/devices/": [{
      id: 3,
      name: "web-01",
      primary_ip4: null,
      url: "",
      display: "web-01",
    }],
    "core/object-types/": [{ id: 40, app_label: "dcim", model: "interface" }],
  });
  // A prune: the address went first (the device's primary_ip4 nulled), then its interface.
  const plan = await planRevert(t, [
    change("delete", "ipam.ipaddress", 20, {
      address: "10.0.0.5/24",
      assigned_object_type: 40,
      assigned_object_id: 7,
      tags: ["prod"],
      _private: 1,
    }, null),
    change("update", "dcim.device", 3, { name: "web-01", primary_ip4: 20 }, {
      name: "web-01",
      primary_ip4: null,
    }),
    change("delete", "dcim.interface", 7, { name: "eth0", device: 3, type: "virtual" }, null),
  ]);
  assert.deepEqual(plan.refused, []);
  assert.deepEqual(plan.steps.map((s) => `${s.action} ${s.model}`), [
    "create dcim.interface",
    "create ipam.ipaddress",
    "update dcim.device",
  ]);
  const result = await applyRevert(t, plan);
  assert.deepEqual(result.items.map((i) => i.outcome), ["done", "done", "done"]);
  const writes = t.requests.filter((r) => r.method !== "GET");
  assert.deepEqual(writes.map((w) => [w.method, w.path, w.body]), [
    ["POST", "dcim/interfaces/", { name: "eth0", device: 3, type: "virtual" }],
    ["POST", "ipam/ip-addresses/", {
      address: "10.0.0.5/24",
      assigned_object_type: "dcim.interface",
      assigned_object_id: 1000,
      tags: [{ name: "prod" }],
    }],
    ["PATCH", "dcim/devices/3/", { primary_ip4: 1001 }],
  ]);
  assert.equal(result.items[1].new_id, 1001);
});

Deno.test("readChanges() lists a time window of one user, and an audit log's window with the ids picked out", async () => {
  const row = (id: number, request_id: string) => ({
    id,
    time: "2026-12-07T18:30:00Z",
    user_name: "admin",
    request_id,
    action: { value: "create", label: "Created" },
    changed_object_type: "extras.tag",
    changed_object_id: id,
    prechange_data: {},
    postchange_data: { name: `t${id}` },
  });
  const t = fakeTransport(() => ({
    count: 3,
    next: null,
    results: [row(3, "cccccccc-3"), row(1, "aaaaaaaa-1"), row(2, "bbbbbbbb-2")],
  }));
  const since = await readChanges(t, {
    since: "2026-12-07T18:00:00Z",
    until: "2026-12-07T19:00:00Z",
    user: "admin",
    model: "extras.tag",
  });
  assert.deepEqual(since.map((c) => c.id), [1, 2, 3]);
  assert.deepEqual(t.lines(), [
    "GET core/object-changes/?time_after=2026-12-07T18%3A00%3A00Z&time_before=2026-12-07T19%3A00%3A00Z&user_name=admin&changed_object_type=extras.tag&start=0&limit=1000",
  ]);
  t.requests.length = 0;
  const picked = await readChanges(t, { requestIds: ["aaaaaaaa-1", "cccccccc-3"] }, {
    window: { since: "2026-12-07T18:29:00Z", until: "2026-12-07T18:31:00Z" },
  });
  assert.deepEqual(picked.map((c) => c.request_id), ["aaaaaaaa-1", "cccccccc-3"]);
  assert.equal(t.requests.length, 1, "one listing for the window, none per id");
});

Deno.test("applyRevert() finds a re-created object by its natural key when NetBox's answer was lost", async () => {
  const sites: Obj[] = [];
  const t = fakeTransport((req) => {
    if (req.method === "POST") {
      sites.push({ ...(req.body as Obj), id: 77 });
      throw new NetBoxTimeoutError("Cannot create dcim/sites/: no answer in time", { attempts: 1 });
    }
    const slug = req.query.get("slug");
    const results = sites.filter((s) => s.slug === slug);
    return { count: results.length, next: null, previous: null, results };
  });
  const plan = await planRevert(t, [
    change("delete", "dcim.site", 5, { name: "Lab", slug: "lab", tags: [] }, null),
  ]);
  const result = await applyRevert(t, plan);
  assert.deepEqual(result.items.map((i) => [i.outcome, i.new_id]), [["done", 77]]);
  assert.equal(t.requests.filter((r) => r.method === "POST").length, 1, "never sent twice");
});

Deno.test("planRevert() asks once per referring field for all the created objects of a model", async () => {
  const site = (id: number) => ({ id, name: `s${id}`, slug: `s${id}`, url: "", display: `s${id}` });
  const t = store({
    "dcim/sites/": [site(1), site(2)],
    "dcim/racks/": [{
      id: 9,
      name: "R1",
      site: { id: 2, url: "", display: "s2" },
      url: "",
      display: "R1",
    }],
  });
  const plan = await planRevert(t, [
    change("create", "dcim.site", 1, null, { name: "s1", slug: "s1" }),
    change("create", "dcim.site", 2, null, { name: "s2", slug: "s2" }),
  ]);
  assert.deepEqual(plan.refused.map((s) => [s.id, s.refusal]), [
    [2, "1 other object refer to it: dcim.racks R1 (id 9)"],
  ]);
  const racks = t.lines().filter((l) => l.startsWith("GET dcim/racks/"));
  assert.equal(racks.length, 1, racks.join("\n"));
  assert.match(racks[0], /site_id=(1&site_id=2|2&site_id=1)/, racks[0]);
});

Deno.test("applyRevert() reads a patch back when NetBox's answer was lost: done when it landed", async () => {
  const device: Obj = {
    id: 3,
    name: "web-01",
    status: { value: "offline", label: "Offline" },
    tags: [],
    url: "",
    display: "web-01",
  };
  const t = fakeTransport((req) => {
    if (req.method === "PATCH") {
      Object.assign(device, { status: { value: "active", label: "Active" } });
      throw new NetBoxTimeoutError("Cannot update dcim/devices/3/: no answer in time", {
        attempts: 1,
      });
    }
    return device;
  });
  const plan = await planRevert(t, [
    change("update", "dcim.device", 3, { name: "web-01", status: "active" }, {
      name: "web-01",
      status: "offline",
    }),
  ]);
  const result = await applyRevert(t, plan);
  assert.deepEqual(result.items.map((i) => i.outcome), ["done"]);
  assert.equal(t.requests.filter((r) => r.method === "PATCH").length, 1, "never sent twice");
});
