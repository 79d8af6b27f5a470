// A front port's rear port in one form on every NetBox: on 4.6+ (a `rear_ports` list of
// mappings instead of `rear_port` + `rear_port_position`) the plan writes and compares the list.
import assert from "node:assert/strict";
import { buildPlan, type FieldMeta, type ImportBackend } from "../../lib/import/plan.ts";
import { parseImport } from "../../lib/import/parse.ts";
import type { Filters, NetBoxObject } from "../../lib/client/types.ts";

const S: FieldMeta = { type: "string" };
const F: FieldMeta = { type: "field" };
const obj = (o: Record<string, unknown>) => ({ url: "", display: "", ...o }) as NetBoxObject;

function backend(frontPorts: Record<string, unknown>[], v46: boolean): ImportBackend {
  const meta: Record<string, Record<string, FieldMeta>> = {
    "dcim/devices/": { name: S, site: F },
    "dcim/rear-ports/": { name: S, device: F, positions: { type: "integer" } },
    "dcim/front-ports/": v46
      ? {
        name: S,
        device: F,
        type: S,
        positions: { type: "integer" },
        rear_ports: { type: "list" },
      }
      : { name: S, device: F, type: S, rear_port: F, rear_port_position: { type: "integer" } },
  };
  const rows: Record<string, Record<string, unknown>[]> = {
    "dcim/devices/": [{ id: 1, name: "d1", site: { id: 1 } }],
    "dcim/rear-ports/": [{ id: 5, name: "rp0", device: { id: 1, name: "d1" }, positions: 2 }],
    "dcim/front-ports/": frontPorts,
  };
  return {
    fields: (path) => Promise.resolve(meta[path]),
    list: (path: string, filters: Filters) =>
      Promise.resolve(
        (rows[path] ?? []).map(obj).filter((o) =>
          Object.entries(filters).every(([k, v]) =>
            (Array.isArray(v) ? v : [v]).map(String).includes(String(o[k]))
          )
        ),
      ),
  };
}

const INPUT = `front_ports:
  - device: d1
    name: fp0
    type: lc
    rear_port: {device: d1, name: rp0}
    rear_port_position: 2
`;

async function plan(frontPorts: Record<string, unknown>[], v46 = true) {
  const sections = parseImport(INPUT, { file: "f.yaml", format: "yaml" });
  return await buildPlan(sections, backend(frontPorts, v46));
}

Deno.test("front ports on NetBox 4.6+: rear_port + rear_port_position become one mapping", async () => {
  const p = await plan([]);
  assert.deepEqual(p.problems, []);
  assert.deepEqual(p.items[0].body, {
    name: "fp0",
    device: 1,
    type: "lc",
    rear_ports: [{ position: 1, rear_port: 5, rear_port_position: 2 }],
  });
});

Deno.test("front ports on NetBox 4.6+: the same mapping is unchanged, another position an update", async () => {
  const existing = (pos: number) => ({
    id: 9,
    name: "fp0",
    device: { id: 1, name: "d1" },
    type: { value: "lc", label: "LC" },
    rear_ports: [{ position: 1, rear_port: 5, rear_port_position: pos }],
  });
  const same = (await plan([existing(2)])).items[0];
  assert.equal(same.action, "unchanged", JSON.stringify(same.changes));
  const p = await plan([existing(1)]);
  assert.equal(p.items[0].action, "update");
  assert.deepEqual(p.items[0].body, {
    rear_ports: [{ position: 1, rear_port: 5, rear_port_position: 2 }],
  });
  assert.deepEqual(p.items[0].changes.map((c) => c.field), ["rear_port"]);
});

Deno.test("front ports up to NetBox 4.5: rear_port and rear_port_position are plain fields", async () => {
  const p = await plan([], false);
  assert.deepEqual(p.problems, []);
  assert.deepEqual(p.items[0].body, {
    name: "fp0",
    device: 1,
    type: "lc",
    rear_port: 5,
    rear_port_position: 2,
  });
});
