// Modules and the module bays on them (keyed by the path of bays), an inventory item's component,
// a front port mapped to several rear ports (NetBox 4.6+), and object custom fields by natural
// key, planned against a fake NetBox.
import assert from "node:assert/strict";
import {
  buildPlan,
  type FieldMeta,
  type ImportBackend,
  type NewRef,
} from "../../lib/import/plan.ts";
import { parseImport } from "../../lib/import/parse.ts";
import type { Filters, NetBoxObject } from "../../lib/client/types.ts";

const S: FieldMeta = { type: "string" };
const F: FieldMeta = { type: "field" };
const I: FieldMeta = { type: "integer" };
const obj = (o: Record<string, unknown>) => ({ url: "", display: "", ...o }) as NetBoxObject;

function backend(rows: Record<string, Record<string, unknown>[]>): ImportBackend {
  const meta: Record<string, Record<string, FieldMeta>> = {
    "dcim/devices/": { name: S, site: F, custom_fields: { type: "json" } },
    "dcim/racks/": { name: S, site: F },
    "dcim/sites/": { name: S, slug: S },
    "dcim/module-types/": { model: S, manufacturer: F },
    "dcim/module-bays/": { name: S, device: F, module: F },
    "dcim/modules/": { device: F, module_bay: F, module_type: F, serial: S },
    "dcim/interfaces/": { name: S, device: F, module: F, type: S },
    "dcim/inventory-items/": {
      name: S,
      device: F,
      component_type: S,
      component_id: I,
    },
    "dcim/rear-ports/": { name: S, device: F, positions: I },
    "dcim/front-ports/": {
      name: S,
      device: F,
      type: S,
      positions: I,
      rear_ports: { type: "list" },
    },
  };
  const all: Record<string, Record<string, unknown>[]> = {
    "dcim/devices/": [{ id: 1, name: "d1", site: { id: 1 } }],
    "dcim/sites/": [{ id: 1, name: "S1", slug: "s1" }, { id: 2, name: "S2", slug: "s2" }],
    "dcim/racks/": [
      { id: 7, name: "R0", site: { id: 1 } },
      { id: 8, name: "R0", site: { id: 2 } },
    ],
    "extras/custom-fields/": [
      { id: 1, name: "rack", type: { value: "object" }, related_object_type: "dcim.rack" },
      { id: 2, name: "racks", type: { value: "multiobject" }, related_object_type: "dcim.rack" },
    ],
    "extras/custom-field-choice-sets/": [],
    "dcim/module-types/": [{ id: 3, model: "Card", manufacturer: { id: 1 } }],
    ...rows,
  };
  return {
    fields: (path) => Promise.resolve(meta[path]),
    list: (path: string, filters: Filters) =>
      Promise.resolve(
        (all[path] ?? []).map(obj).filter((o) =>
          Object.entries(filters).every(([k, v]) =>
            (Array.isArray(v) ? v : [v]).map(String).includes(String(o[k]))
          )
        ),
      ),
  };
}

// Listed children first: the rule finds parents whatever the order.
const INPUT = `module_bays:
  - {device: d1, module: {device: d1, module_bay: {device: d1, module: null, name: slot1}}, name: slot1}
  - {device: d1, name: slot1}
modules:
  - device: d1
    module_bay: {device: d1, module: {device: d1, module_bay: {device: d1, module: null, name: slot1}}, name: slot1}
    module_type: {model: Card}
  - {device: d1, module_bay: {device: d1, module: null, name: slot1}, module_type: {model: Card}}
interfaces:
  - device: d1
    name: eth0
    type: 10gbase-x-sfpp
    module: {device: d1, module_bay: {device: d1, module: {device: d1, module_bay: {device: d1, module: null, name: slot1}}, name: slot1}}
inventory_items:
  - {device: d1, name: optic0, component: {interface: {device: d1, name: eth0}}}
`;

async function plan(rows: Record<string, Record<string, unknown>[]>, input = INPUT) {
  return await buildPlan(parseImport(input, { file: "m.yaml", format: "yaml" }), backend(rows));
}

const uidOf = (v: unknown) => (v as NewRef).uid;

Deno.test("modules into an empty NetBox: a bay of the same name on a module, a module in it, each by its path", async () => {
  const p = await plan({});
  assert.deepEqual(p.problems, []);
  const by = (model: string, n: number) =>
    p.items.filter((i) => i.model.key === model).sort((a, b) => a.uid - b.uid)[n];
  const [bayOnModule, topBay] = [0, 1].map((n) => by("dcim.module-bays", n));
  const [inner, outer] = [0, 1].map((n) => by("dcim.modules", n));
  assert.equal(uidOf(outer.body.module_bay), topBay.uid);
  assert.equal(uidOf(bayOnModule.body.module), outer.uid);
  assert.equal(uidOf(inner.body.module_bay), bayOnModule.uid);
  const eth0 = by("dcim.interfaces", 0);
  assert.equal(uidOf(eth0.body.module), inner.uid);
  const optic = by("dcim.inventory-items", 0);
  assert.equal(optic.body.component_type, "dcim.interface");
  assert.equal(uidOf(optic.body.component_id), eth0.uid);
  // Written parents first.
  const order = p.items.map((i) => i.uid);
  assert.ok(order.indexOf(topBay.uid) < order.indexOf(outer.uid));
  assert.ok(order.indexOf(outer.uid) < order.indexOf(bayOnModule.uid));
  assert.ok(order.indexOf(bayOnModule.uid) < order.indexOf(inner.uid));
  assert.ok(order.indexOf(inner.uid) < order.indexOf(eth0.uid));
});

Deno.test("modules already in NetBox: every entry unchanged; a bay moved to another module is an update", async () => {
  const d = { id: 1, name: "d1" };
  const rows = (eth0Module: number) => ({
    "dcim/module-bays/": [
      { id: 10, name: "slot1", device: d, module: null },
      { id: 11, name: "slot1", device: d, module: { id: 20 } },
    ],
    "dcim/modules/": [
      { id: 20, device: d, module_bay: { id: 10 }, module_type: { id: 3 } },
      { id: 21, device: d, module_bay: { id: 11 }, module_type: { id: 3 } },
    ],
    "dcim/interfaces/": [
      {
        id: 30,
        name: "eth0",
        device: d,
        module: { id: eth0Module },
        type: { value: "10gbase-x-sfpp", label: "SFP+" },
      },
    ],
    "dcim/inventory-items/": [
      { id: 40, name: "optic0", device: d, component_type: "dcim.interface", component_id: 30 },
    ],
  });
  const p = await plan(rows(21));
  assert.deepEqual(p.problems, []);
  for (const i of p.items) {
    assert.equal(i.action, "unchanged", `${i.label}: ${JSON.stringify(i.changes)}`);
  }
  // As CSV writes it: a bay's `module: null` left out means the device's own bay.
  const csv = await plan(rows(21), INPUT.replaceAll("module: null, ", ""));
  assert.deepEqual(csv.problems, []);
  for (const i of csv.items) assert.equal(i.action, "unchanged", `${i.label} (CSV)`);
  const moved = await plan(rows(20));
  const eth0 = moved.items.find((i) => i.model.key === "dcim.interfaces")!;
  assert.equal(eth0.action, "update");
  assert.deepEqual(eth0.body, { module: 21 });
});

Deno.test("a module bay whose module does not exist is one problem naming it", async () => {
  const p = await plan(
    {},
    `module_bays:
  - {device: d1, module: {device: d1, module_bay: {device: d1, module: null, name: nope}}, name: x}
`,
  );
  assert.equal(p.problems.length, 1);
  assert.match(p.problems[0].message, /unknown reference: no dcim\.module-bays with .*nope/);
  // Absent (`_state: absent`): absent already, nothing to do.
  const gone = await plan(
    {},
    `module_bays:
  - {device: d1, module: {device: d1, module_bay: {device: d1, module: null, name: nope}}, name: x, _state: absent}
`,
  );
  assert.deepEqual(gone.problems, []);
  assert.equal(gone.items[0].action, "unchanged");
});

Deno.test("a front port on two rear ports (NetBox 4.6+): rear_ports by natural key, unchanged when NetBox has them", async () => {
  const input = `front_ports:
  - device: d1
    name: fp1
    type: lc
    positions: 2
    rear_ports:
      - {position: 2, rear_port: {device: d1, name: rp1}, rear_port_position: 1}
      - {position: 1, rear_port: {device: d1, name: rp0}}
`;
  const d = { id: 1, name: "d1" };
  const rear = [
    { id: 5, name: "rp0", device: d, positions: 1 },
    { id: 6, name: "rp1", device: d, positions: 1 },
  ];
  const created = await plan({ "dcim/rear-ports/": rear }, input);
  assert.deepEqual(created.problems, []);
  assert.deepEqual(created.items[0].body.rear_ports, [
    { position: 1, rear_port: 5, rear_port_position: 1 },
    { position: 2, rear_port: 6, rear_port_position: 1 },
  ]);
  const fp = (second: number) => ({
    id: 9,
    name: "fp1",
    device: d,
    type: { value: "lc", label: "LC" },
    positions: 2,
    rear_ports: [
      { position: 2, rear_port: second, rear_port_position: 1 },
      { position: 1, rear_port: 5, rear_port_position: 1 },
    ],
  });
  const same = await plan({ "dcim/rear-ports/": rear, "dcim/front-ports/": [fp(6)] }, input);
  assert.equal(same.items[0].action, "unchanged", JSON.stringify(same.items[0].changes));
  const other = await plan({ "dcim/rear-ports/": rear, "dcim/front-ports/": [fp(5)] }, input);
  assert.equal(other.items[0].action, "update");
  assert.deepEqual(other.items[0].changes.map((c) => c.field), ["rear_ports"]);
});

Deno.test("object custom fields by natural key: resolved to ids, unchanged when NetBox holds them", async () => {
  const input = `devices:
  - name: d1
    site: s1
    custom_fields: {rack: {name: R0, site: s2}, racks: [{name: R0, site: s1}, 8]}
`;
  const p = await plan({}, input);
  assert.deepEqual(p.problems, []);
  assert.equal(p.items[0].action, "update");
  assert.deepEqual(p.items[0].body, { custom_fields: { rack: 8, racks: [7, 8] } });
  const held = await plan({
    "dcim/devices/": [{
      id: 1,
      name: "d1",
      site: { id: 1 },
      custom_fields: { rack: { id: 8, name: "R0" }, racks: [{ id: 8 }, { id: 7 }] },
    }],
  }, input);
  assert.equal(held.items[0].action, "unchanged", JSON.stringify(held.items[0].changes));
  const wrong = await plan({}, input.replace("site: s2}", "site: s1, nope: 1}"));
  assert.match(wrong.problems[0].message, /custom field "rack": unknown reference: no dcim\.racks/);
});

Deno.test("an inventory item's component is a port: a module bay is refused naming the kinds", async () => {
  const p = await plan(
    {},
    `inventory_items:
  - {device: d1, name: card0, component: {module_bay: {device: d1, module: null, name: slot1}}}
`,
  );
  const why = p.problems.map((x) => x.message);
  assert.ok(why.some((m) => /component must be one of .*\{interface: …\}/.test(m)), why.join("; "));
});
