/**
 * applyPlan against a scripted client: the ports NetBox makes from an existing device type's
 * templates when the import creates a device are updated to the entry, not created a second
 * time. (NetBox itself: the demo site's round trip in tests/integration/export_test.ts.)
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

/** NetBox with the ports of device 100 made from its type's templates (eth0: id 77). */
function fakeClient(log: string[]): ApplyClient {
  let next = 100;
  const made = [{ id: 77, url: "", display: "eth0", name: "eth0", device: { id: 100 } }];
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
