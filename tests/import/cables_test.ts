// Cables in the import plan: identified by their ends (either way round), a missing end is one
// problem naming it, a new cable's ends are written as NetBox's terminations; and the export
// side writes the ends sorted; a saved plan keeps ends on objects created earlier in it.
import assert from "node:assert/strict";
import { buildPlan, type FieldMeta, type ImportBackend, NewRef } from "../../lib/import/plan.ts";
import { createClient } from "../../lib/client/client.ts";
import { parseSavedPlan, planOfSaved, savePlan } from "../../lib/import/saved_plan.ts";
import { parseImport } from "../../lib/import/parse.ts";
import type { Filters, NetBoxObject } from "../../lib/client/types.ts";
import { cableEndsOf, cableKey, readEnds } from "../../lib/import/_rule_cables.ts";

const S: FieldMeta = { type: "string" };
const F: FieldMeta = { type: "field" };
const META: Record<string, Record<string, FieldMeta>> = {
  "dcim/devices/": { name: S, site: F },
  "dcim/sites/": { name: S, slug: { type: "slug" } },
  "dcim/interfaces/": { name: S, device: F },
  "dcim/console-ports/": { name: S, device: F },
  "dcim/cables/": {
    a_terminations: { type: "list" },
    b_terminations: { type: "list" },
    label: S,
    status: { type: "choice", choices: [{ value: "connected" }, { value: "planned" }] },
  },
};

const site = { id: 1, slug: "s1", name: "S1" };
const dev = (id: number, name: string) => ({ id, name, site: { id: 1, slug: "s1" } });
const iface = (id: number, device: number, name: string) => ({
  id,
  name,
  device: { id: device, name: `d${device}` },
});
const obj = (o: Record<string, unknown>) => ({ url: "", display: "", ...o }) as NetBoxObject;
const EXISTING: Record<string, Record<string, unknown>[]> = {
  "dcim/sites/": [site],
  "dcim/devices/": [dev(1, "d1"), dev(2, "d2")],
  "dcim/interfaces/": [iface(11, 1, "eth0"), iface(21, 2, "eth0"), iface(22, 2, "eth1")],
  "dcim/console-ports/": [{ id: 31, name: "con", device: { id: 1, name: "d1" } }],
  "dcim/cables/": [{
    id: 100,
    label: "x",
    status: { value: "connected" },
    a_terminations: [{ object_type: "dcim.interface", object_id: 11 }],
    b_terminations: [{ object_type: "dcim.interface", object_id: 21 }],
  }],
};

function backend(): ImportBackend {
  return {
    fields: (path) => Promise.resolve(META[path]),
    list: (path: string, filters: Filters) =>
      Promise.resolve(
        (EXISTING[path] ?? []).map(obj).filter((o) =>
          Object.entries(filters).every(([k, v]) =>
            (Array.isArray(v) ? v : [v]).map(String).includes(String(o[k]))
          )
        ),
      ),
  };
}

async function plan(yaml: string) {
  return await buildPlan(parseImport(yaml, { file: "c.yaml", format: "yaml" }), backend());
}

Deno.test("cables: the same ends with A and B swapped match the existing cable (unchanged)", async () => {
  const p = await plan(`cables:
  - a: [{device: d2, interface: eth0}]
    b: [{device: d1, interface: eth0}]
    label: x
`);
  assert.deepEqual(p.problems, []);
  assert.equal(p.items[0].action, "unchanged");
  assert.equal(p.items[0].id, 100);
});

Deno.test("cables: _state: absent deletes the cable with these ends (either way round)", async () => {
  const p = await plan(`cables:
  - a: [{device: d2, interface: eth0}]
    b: [{device: d1, interface: eth0}]
    _state: absent
`);
  assert.deepEqual(p.problems, []);
  assert.equal(p.items[0].action, "delete");
  assert.equal(p.items[0].id, 100);
  const gone = await plan(`cables:
  - a: [{device: d2, interface: eth1}]
    b: [{device: d1, interface: eth0}]
    _state: absent
`);
  assert.equal(gone.items[0].action, "unchanged");
});

Deno.test("cables: a changed field of a matched cable is an update of that field only", async () => {
  const p = await plan(`cables:
  - a: [{device: d1, interface: eth0}]
    b: [{device: d2, interface: eth0}]
    label: y
`);
  assert.equal(p.items[0].action, "update");
  assert.deepEqual(p.items[0].changes.map((c) => c.field), ["label"]);
  assert.deepEqual(p.items[0].body, { label: "y" });
});

Deno.test("cables: a new cable writes its ends as terminations", async () => {
  const p = await plan(`cables:
  - a: {device: d2, interface: eth1}
    b: [{device: d1, console_port: con}]
    status: planned
`);
  assert.deepEqual(p.problems, []);
  assert.equal(p.items[0].action, "create");
  assert.deepEqual(p.items[0].body, {
    a_terminations: [{ object_type: "dcim.interface", object_id: 22 }],
    b_terminations: [{ object_type: "dcim.consoleport", object_id: 31 }],
    status: "planned",
  });
});

Deno.test("cables: an end that does not exist is one problem naming it; nothing planned", async () => {
  const p = await plan(`cables:
  - a: [{device: d1, interface: eth0}]
    b: [{device: d2, interface: eth9}]
`);
  assert.equal(p.problems.length, 1, JSON.stringify(p.problems));
  assert.match(
    p.problems[0].message,
    /^cable end b\[0\] \(device d2 interface eth9\) does not exist$/,
  );
  assert.equal(p.problems[0].loc.line, 3);
  assert.equal(p.items[0].action, "invalid");
});

Deno.test("cables: a malformed end and a missing side are problems", async () => {
  let p = await plan(`cables:
  - a: [{device: d1, port: eth0}]
    b: [{device: d2, interface: eth0}]
`);
  assert.equal(p.problems.length, 1);
  assert.match(
    p.problems[0].message,
    /^a\[0\] must be one end like \{device: d1, interface: eth0\}/,
  );
  p = await plan(`cables:
  - a: [{device: d1, interface: eth0}]
`);
  assert.equal(p.problems.length, 1);
  assert.match(p.problems[0].message, /a cable needs both ends, a and b/);
});

Deno.test("cables: the key ignores the order of ends and of the sides", () => {
  const k = cableKey(["t:2", "t:1"], ["t:3"]);
  assert.equal(k, cableKey(["t:3"], ["t:1", "t:2"]));
  assert.notEqual(k, cableKey(["t:1"], ["t:2", "t:3"]));
  assert.equal(typeof readEnds("a", []), "string");
  const r = readEnds("b", [{ power_panel: "p1", power_feed: "f1" }]);
  assert.ok(Array.isArray(r));
  assert.equal(r[0].target.key, "dcim.power-feeds");
  assert.deepEqual(r[0].spec, { power_panel: "p1", name: "f1" });
});

Deno.test("cables: the export writes the smaller side as a, each side sorted", () => {
  const names: Record<number, string> = { 1: "eth1", 2: "eth0", 3: "eth0" };
  const devs: Record<number, string> = { 1: "d2", 2: "d2", 3: "d1" };
  const ends = cableEndsOf(
    obj({
      id: 9,
      a_terminations: [
        { object_type: "dcim.interface", object_id: 1 },
        { object_type: "dcim.interface", object_id: 2 },
      ],
      b_terminations: [{ object_type: "dcim.interface", object_id: 3 }],
    }),
    (_m, id) => ({ device: devs[id], name: names[id] }),
  );
  assert.deepEqual(ends, {
    a: { device: "d1", interface: "eth0" },
    b: [{ device: "d2", interface: "eth0" }, { device: "d2", interface: "eth1" }],
  });
  const bad = cableEndsOf(
    obj({ id: 9, a_terminations: [{ object_type: "dcim.nothing", object_id: 1 }] }),
    () => undefined,
  );
  assert.ok("problem" in bad);
});

Deno.test("cables: a saved plan keeps a new cable's ends on interfaces created earlier in it", async () => {
  const p = await plan(`interfaces:
  - {device: d1, name: eth5}
cables:
  - a: {device: d1, interface: eth5}
    b: {device: d2, interface: eth1}
`);
  assert.deepEqual(p.problems, []);
  const cable = p.items.find((i) => i.model.key === "dcim.cables")!;
  const iface = p.items.find((i) => i.model.key === "dcim.interfaces")!;
  assert.deepEqual([...cable.deps], [iface.uid]);
  const fetch: typeof globalThis.fetch = (input) => {
    const u = new URL(new Request(input).url);
    if (u.pathname === "/api/status/") {
      return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
    }
    return Promise.resolve(Response.json({ count: 0, next: null, results: [] }));
  };
  const client = createClient({
    url: "https://nb.example",
    token: "x".repeat(40),
    fetch,
    retries: 0,
    log: () => {},
  });
  try {
    const saved = await savePlan(client, p);
    const back = planOfSaved(parseSavedPlan(JSON.stringify(saved), "plan.json"));
    const ends = back.items.find((i) => i.model.key === "dcim.cables")!.body.a_terminations as {
      object_type: string;
      object_id: unknown;
    }[];
    assert.equal(ends[0].object_type, "dcim.interface");
    assert.ok(ends[0].object_id instanceof NewRef && ends[0].object_id.uid === iface.uid);
  } finally {
    client.close();
  }
});
