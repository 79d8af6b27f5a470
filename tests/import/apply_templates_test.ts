/**
 * applyPlan against a scripted client: the ports NetBox makes from an existing device type's or
 * module type's templates when the import creates a device or module are updated to the entry,
 * not created a second time. (NetBox itself: the demo site's round trip in
 * tests/integration/export_test.ts, a module's in tests/integration/bulk_import_test.ts.)
 */
import assert from "node:assert/strict";
import { type ApplyClient, applyPlan } from "../../lib/import/apply.ts";
import { systemClock } from "../../lib/client/retry.ts";
import { modelByKey } from "../../lib/import/models.ts";
import { type ImportPlan, NewRef, type PlanItem } from "../../lib/import/plan.ts";
import type { Filters } from "../../lib/client/types.ts";

let uid = 0;
function create(model: string, body: Record<string, unknown>, deps: number[] = []): PlanItem {
  return {
    uid: uid++,
    model: modelByKey(model),
    entry: { loc: { file: "a.yaml", line: 1, column: 1 }, data: {}, locs: {} },
    label: String(body.name),
    action: "create",
    body,
    deferred: {},
    changes: [],
    problems: [],
    deps: new Set(deps),
    deferredDeps: new Set(),
  };
}

type Made = { id: number; name: string; device: { id: number }; module?: { id: number } | null };

/** NetBox with the ports of device 100 made from its type's templates (eth0: id 77). */
function fakeClient(
  log: string[],
  made: Made[] = [{ id: 77, name: "eth0", device: { id: 100 } }],
): ApplyClient {
  let next = 100;
  const endpoint = (path: string) => ({
    all: (filters: Filters) => {
      log.push(`GET ${path} ${JSON.stringify(filters)}`);
      const want = [filters.device_id].flat().map(Number);
      return Promise.resolve(made.filter((o) => want.includes(o.device.id)));
    },
    create: (bodies: Record<string, unknown>[]) => {
      log.push(`POST ${path} ${bodies.map((b) => JSON.stringify(b)).join(" ")}`);
      const items = bodies.map((_, index) => ({ index, ok: true, value: { id: next++ } }));
      return Promise.resolve({ items, skippedIds: [] });
    },
    update: (bodies: Record<string, unknown>[]) => {
      log.push(`PATCH ${path} ${bodies.map((b) => JSON.stringify(b)).join(" ")}`);
      const items = bodies.map((b, index) => ({ index, ok: true, value: { id: b.id } }));
      return Promise.resolve({ items, skippedIds: [] });
    },
  });
  return { endpoint, settleMs: 0, clock: systemClock } as unknown as ApplyClient;
}

const plan = (items: PlanItem[]): ImportPlan => ({ items, problems: [] });

Deno.test("applyPlan() updates the ports NetBox made from an existing type's templates", async () => {
  const log: string[] = [];
  const device = create("dcim.devices", { name: "sw1", site: 1, device_type: 5, role: 2 });
  const ref = new NewRef(device.uid, "sw1");
  const eth0 = create("dcim.interfaces", { device: ref, name: "eth0", type: "1000base-t" }, [
    device.uid,
  ]);
  const eth9 = create("dcim.interfaces", { device: ref, name: "eth9", type: "1000base-t" }, [
    device.uid,
  ]);
  const r = await applyPlan(plan([device, eth0, eth9]), fakeClient(log));
  assert.deepEqual(log, [
    'POST dcim/devices/ {"name":"sw1","site":1,"device_type":5,"role":2}',
    'GET dcim/interfaces/ {"device_id":[100]}',
    'POST dcim/interfaces/ {"device":100,"name":"eth9","type":"1000base-t"}',
    'PATCH dcim/interfaces/ {"id":77,"device":100,"name":"eth0","type":"1000base-t"}',
  ]);
  assert.deepEqual(r.get(eth0.uid), {
    status: "created",
    id: 77,
    message: "made by NetBox from the device type's template, then set to the entry's values",
  });
  assert.deepEqual(r.get(eth9.uid), { status: "created", id: 101 });
});

Deno.test("applyPlan() looks for no template ports when the device type is new too", async () => {
  const log: string[] = [];
  const type = create("dcim.device-types", { name: "t", model: "t", slug: "t", manufacturer: 1 });
  const device = create("dcim.devices", {
    name: "sw1",
    site: 1,
    device_type: new NewRef(type.uid, "t"),
    role: 2,
  }, [type.uid]);
  const eth0 = create("dcim.interfaces", {
    device: new NewRef(device.uid, "sw1"),
    name: "eth0",
    type: "1000base-t",
  }, [device.uid]);
  const r = await applyPlan(plan([type, device, eth0]), fakeClient(log));
  assert.deepEqual(log.map((l) => l.split(" ").slice(0, 2).join(" ")), [
    "POST dcim/device-types/",
    "POST dcim/devices/",
    "POST dcim/interfaces/",
  ]);
  assert.equal(r.get(eth0.uid)?.status, "created");
});

Deno.test("applyPlan() updates the ports NetBox made from a new module's type's templates", async () => {
  const log: string[] = [];
  // Device 9 exists; the module (type 7, which exists) is new and gets id 100.
  const module = create("dcim.modules", { device: 9, module_bay: 3, module_type: 7 });
  const ref = new NewRef(module.uid, "slot1");
  const port = (name: string) =>
    create("dcim.interfaces", { device: 9, module: ref, name, type: "other" }, [
      module.uid,
    ]);
  const [lc1, lc9] = [port("lc1/1"), port("lc1/9")];
  // eth0 is the device's own: an entry without a module on an existing device is not looked up.
  const eth0 = create("dcim.interfaces", { device: 9, name: "eth0", type: "1000base-t" });
  const r = await applyPlan(
    plan([module, lc1, lc9, eth0]),
    fakeClient(log, [
      { id: 77, name: "lc1/1", device: { id: 9 }, module: { id: 100 } },
      { id: 78, name: "eth0", device: { id: 9 }, module: null },
    ]),
  );
  assert.deepEqual(log, [
    'POST dcim/modules/ {"device":9,"module_bay":3,"module_type":7}',
    'POST dcim/interfaces/ {"device":9,"name":"eth0","type":"1000base-t"}',
    'GET dcim/interfaces/ {"device_id":[9]}',
    'POST dcim/interfaces/ {"device":9,"module":100,"name":"lc1/9","type":"other"}',
    'PATCH dcim/interfaces/ {"id":77,"device":9,"module":100,"name":"lc1/1","type":"other"}',
  ]);
  assert.deepEqual(r.get(lc1.uid), {
    status: "created",
    id: 77,
    message: "made by NetBox from the module type's template, then set to the entry's values",
  });
  assert.deepEqual(r.get(lc9.uid), { status: "created", id: 102 });
  assert.deepEqual(r.get(eth0.uid), { status: "created", id: 101 });
});

Deno.test("applyPlan() matches a new module's port only to one made on that module", async () => {
  const log: string[] = [];
  const module = create("dcim.modules", { device: 9, module_bay: 3, module_type: 7 });
  const lc1 = create("dcim.interfaces", {
    device: 9,
    module: new NewRef(module.uid, "slot1"),
    name: "lc1/1",
    type: "other",
  }, [module.uid]);
  // The same name on the device itself or on another module is not the new module's port.
  for (const other of [null, { id: 55 }]) {
    log.length = 0;
    const made = [{ id: 77, name: "lc1/1", device: { id: 9 }, module: other }];
    const r = await applyPlan(plan([module, lc1]), fakeClient(log, made));
    assert.deepEqual(log.map((l) => l.split(" ").slice(0, 2).join(" ")), [
      "POST dcim/modules/",
      "GET dcim/interfaces/",
      "POST dcim/interfaces/",
    ]);
    assert.equal(r.get(lc1.uid)?.status, "created");
  }
});
