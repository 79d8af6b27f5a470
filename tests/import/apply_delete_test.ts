/**
 * The delete phase of applyPlan against a scripted client: reverse dependency order, the scope-tag
 * check just before deleting, blocked deletes with their blockers, cascades that would take
 * objects the import does not delete, and interrupts. (NetBox itself: bulk_import_prune_test.ts.)
 */
import assert from "node:assert/strict";
import { type ApplyClient, applyPlan } from "../../lib/import/apply.ts";
import { systemClock } from "../../lib/client/retry.ts";
import { modelByKey } from "../../lib/import/models.ts";
import type { ImportPlan, PlanItem } from "../../lib/import/plan.ts";
import { NetBoxHttpError, NetBoxTimeoutError, NotSentError } from "../../lib/client/errors.ts";
import type { BulkResult, Filters, NetBoxObject } from "../../lib/client/types.ts";

let uid = 0;
function del(model: string, id: number, requireTag?: string): PlanItem {
  return {
    uid: uid++,
    model: modelByKey(model),
    entry: { loc: { file: "", line: 0, column: 0 }, data: {}, locs: {} },
    label: `${model}#${id}`,
    action: "delete",
    reason: "prune",
    key: `id=${id}`,
    id,
    ...(requireTag ? { requireTag } : {}),
    body: {},
    deferred: {},
    changes: [],
    problems: [],
    deps: new Set(),
    deferredDeps: new Set(),
  };
}

interface Script {
  /** Objects by path, for `all()` (filtered by `id`, and the ref filters by `_ref`). */
  objects?: Record<string, (NetBoxObject & { _ref?: Record<string, number> })[]>;
  /** Ids NetBox refuses to delete, with its 409 message. */
  refuse?: Record<number, string>;
  /** Aborted before the delete of this path. */
  stopAt?: string;
}

function fakeClient(script: Script, log: string[], stop?: AbortController) {
  const endpoint = (path: string) => ({
    all: (filters: Filters) => {
      log.push(`GET ${path} ${JSON.stringify(filters)}`);
      const rows = script.objects?.[path] ?? [];
      return Promise.resolve(rows.filter((o) =>
        Object.entries(filters).every(([k, v]) => {
          const want = (Array.isArray(v) ? v : [v]).map(Number);
          return k === "id" ? want.includes(o.id) : want.includes(o._ref?.[k] ?? -1);
        })
      ));
    },
    delete: (ids: number[], opts: { stop?: AbortSignal }) => {
      if (script.stopAt === path) stop?.abort();
      log.push(`DELETE ${path} ${ids.join(",")}`);
      const items = ids.map((id, index) => {
        if (opts.stop?.aborted) {
          return { index, ok: false, messages: {}, error: new NotSentError("stopped") } as const;
        }
        const refused = script.refuse?.[id];
        if (refused) {
          const messages = { detail: [refused] };
          const error = new NetBoxHttpError("Cannot delete", {
            status: 409,
            method: "DELETE",
            path,
            body: {},
            messages,
          });
          return { index, ok: false, messages, error } as const;
        }
        return { index, ok: true, value: { id } } as const;
      });
      return Promise.resolve({
        items,
        succeeded: [],
        failed: [],
        skippedIds: [],
      } as unknown as BulkResult<{ id: number }>);
    },
  });
  return { endpoint, settleMs: 0, clock: systemClock } as unknown as ApplyClient;
}

const plan = (items: PlanItem[]): ImportPlan => ({ items, problems: [] });
const tagged = (id: number, slug = "nac") => ({ id, url: "", display: "", tags: [{ slug }] });

Deno.test("applyPlan() deletes in reverse dependency order, one call per model", async () => {
  const log: string[] = [];
  const items = [del("dcim.sites", 1), del("ipam.ip-addresses", 2), del("dcim.devices", 3)];
  const r = await applyPlan(plan(items), fakeClient({}, log));
  assert.deepEqual(log.filter((l) => l.startsWith("DELETE")), [
    "DELETE ipam/ip-addresses/ 2",
    "DELETE dcim/devices/ 3",
    "DELETE dcim/sites/ 1",
  ]);
  assert.deepEqual([...r.values()].map((o) => o.status), ["deleted", "deleted", "deleted"]);
});

Deno.test("applyPlan() deletes only what still carries the scope tag", async () => {
  const log: string[] = [];
  const items = [
    del("dcim.sites", 1, "nac"),
    del("dcim.sites", 2, "nac"),
    del("dcim.sites", 3, "nac"),
  ];
  const client = fakeClient(
    { objects: { "dcim/sites/": [tagged(1), tagged(2, "someone-elses")] } },
    log,
  );
  const r = await applyPlan(plan(items), client);
  assert.equal(r.get(items[0].uid)?.status, "deleted");
  assert.equal(r.get(items[1].uid)?.status, "skipped");
  assert.match(r.get(items[1].uid)?.message ?? "", /no longer carries the scope tag "nac"/);
  assert.equal(r.get(items[2].uid)?.status, "deleted");
  assert.match(r.get(items[2].uid)?.message ?? "", /already gone/);
  assert.deepEqual(log.filter((l) => l.startsWith("DELETE")), ["DELETE dcim/sites/ 1"]);
});

Deno.test("applyPlan() reports a blocked delete with its blockers, and the rest goes", async () => {
  const log: string[] = [];
  const items = [del("dcim.sites", 1), del("dcim.sites", 2)];
  const client = fakeClient({
    refuse: { 1: "Unable to delete object. 1 dependent objects were found: sw1 (40)" },
    objects: { "dcim/devices/": [{ id: 40, url: "", display: "sw1", _ref: { site_id: 1 } }] },
  }, log);
  const r = await applyPlan(plan(items), client);
  const o = r.get(items[0].uid)!;
  assert.equal(o.status, "blocked");
  assert.deepEqual(o.blockers, [{ name: "sw1", id: 40, model: "dcim.devices" }]);
  assert.match(o.message ?? "", /^blocked by dcim\.devices sw1 \(id 40\): Unable to delete/);
  assert.equal(r.get(items[1].uid)?.status, "deleted");
});

Deno.test("applyPlan() does not delete a device whose interfaces hold addresses it keeps", async () => {
  const log: string[] = [];
  const items = [del("dcim.devices", 5), del("dcim.devices", 6)];
  const ip = {
    id: 70,
    url: "",
    display: "10.0.0.1/24",
    address: "10.0.0.1/24",
    assigned_object: { id: 9, device: { id: 5 } },
    _ref: { device_id: 5 },
  };
  const r = await applyPlan(
    plan(items),
    fakeClient({ objects: { "ipam/ip-addresses/": [ip] } }, log),
  );
  const o = r.get(items[0].uid)!;
  assert.equal(o.status, "blocked");
  assert.deepEqual(o.blockers, [{ model: "ipam.ip-addresses", name: "10.0.0.1/24", id: 70 }]);
  assert.equal(r.get(items[1].uid)?.status, "deleted");
  assert.deepEqual(log.filter((l) => l.startsWith("DELETE")), ["DELETE dcim/devices/ 6"]);
});

Deno.test("applyPlan() stopped: the deletes not sent are reported not-sent", async () => {
  const log: string[] = [];
  const stop = new AbortController();
  const items = [del("dcim.sites", 1), del("ipam.prefixes", 2), del("ipam.ip-addresses", 3)];
  const client = fakeClient({ stopAt: "ipam/prefixes/" }, log, stop);
  const r = await applyPlan(plan(items), client, { stop: stop.signal });
  assert.equal(r.get(items[2].uid)?.status, "deleted");
  assert.equal(r.get(items[1].uid)?.status, "not-sent");
  assert.equal(r.get(items[0].uid)?.status, "not-sent");
  assert.ok(!log.includes("DELETE dcim/sites/ 1"), "nothing is sent after the interrupt");
});

/**
 * A delete whose answer never came (the client's timeout): the object is gone after `goneAfter`
 * read-backs (a late delete), or never. The clock is fake: waiting costs nothing.
 */
function lateDeleteClient(goneAfter: number, log: string[]) {
  let reads = 0;
  let now = 0;
  const clock = {
    now: () => now,
    sleep: (ms: number) => Promise.resolve(void (now += ms)),
  };
  const endpoint = (path: string) => ({
    all: () => {
      reads++;
      log.push(`GET ${path} at ${now} ms`);
      return Promise.resolve(reads > goneAfter ? [] : [{ id: 7 }]);
    },
    delete: (ids: number[]) => {
      log.push(`DELETE ${path} ${ids.join(",")}`);
      const error = new NetBoxTimeoutError("Cannot delete: no answer within 3 s", { attempts: 1 });
      return Promise.resolve({
        items: ids.map((_, index) => ({ index, ok: false, messages: {}, error })),
        succeeded: [],
        failed: [],
        skippedIds: [],
      } as unknown as BulkResult<{ id: number }>);
    },
  });
  return { endpoint, settleMs: 6000, clock } as unknown as ApplyClient;
}

Deno.test("applyPlan() reads a delete NetBox did not answer back until it is gone (late delete)", async () => {
  const log: string[] = [];
  const tag = del("extras.tags", 7);
  const r = await applyPlan(plan([tag]), lateDeleteClient(3, log));
  assert.equal(r.get(tag.uid)?.status, "deleted");
  assert.match(r.get(tag.uid)?.message ?? "", /confirmed by reading back/);
  assert.deepEqual(log, [
    "DELETE extras/tags/ 7",
    "GET extras/tags/ at 0 ms",
    "GET extras/tags/ at 500 ms",
    "GET extras/tags/ at 1500 ms",
    "GET extras/tags/ at 3500 ms",
  ]);
});

Deno.test("applyPlan() a delete still there after the settle window is unknown, not failed", async () => {
  const log: string[] = [];
  const tag = del("extras.tags", 7);
  const r = await applyPlan(plan([tag]), lateDeleteClient(Infinity, log));
  assert.equal(r.get(tag.uid)?.status, "unknown");
  assert.match(
    r.get(tag.uid)?.message ?? "",
    /may still be deleting it: still there after reading back for 6 s/,
  );
  assert.equal(log.at(-1), "GET extras/tags/ at 6000 ms");
});
