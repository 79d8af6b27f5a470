import assert from "node:assert/strict";
import {
  buildPlan,
  type FieldMeta,
  type ImportBackend,
  type PlanOptions,
} from "../../lib/import/plan.ts";
import { parseImport } from "../../lib/import/parse.ts";
import type { Filters, NetBoxObject } from "../../lib/client/types.ts";

const S = (required = false): FieldMeta => ({ type: "string", required });
const F = (required = false): FieldMeta => ({ type: "field", required });
const STATUS: FieldMeta = {
  type: "choice",
  choices: ["active", "planned", "offline"].map((v) => ({ value: v, display_name: v })),
};
const META: Record<string, Record<string, FieldMeta>> = {
  "extras/tags/": { name: S(true), slug: { type: "slug", required: true }, color: S() },
  "dcim/sites/": {
    name: S(true),
    slug: { type: "slug", required: true },
    status: STATUS,
    tags: F(),
    description: S(),
  },
  "dcim/devices/": {
    name: S(),
    site: F(true),
    role: F(true),
    device_type: F(true),
    status: STATUS,
    tags: F(),
    primary_ip4: F(),
    custom_fields: { type: "json" },
  },
  "dcim/device-roles/": { name: S(true), slug: { type: "slug", required: true } },
  "dcim/device-types/": {
    model: S(true),
    slug: { type: "slug", required: true },
    manufacturer: F(true),
  },
  "dcim/interfaces/": {
    name: S(true),
    device: F(true),
    type: { type: "choice", choices: [{ value: "virtual" }] },
  },
  "dcim/regions/": { name: S(true), slug: { type: "slug", required: true }, parent: F() },
  "extras/custom-fields/": {
    name: S(true),
    type: { type: "choice", choices: ["text", "integer", "select"].map((value) => ({ value })) },
    object_types: { type: "list" },
    choice_set: F(),
  },
  "ipam/vrfs/": { name: S(true) },
  "ipam/ip-addresses/": {
    address: S(true),
    vrf: F(),
    dns_name: S(),
    status: STATUS,
    tags: F(),
    assigned_object_type: S(),
    assigned_object_id: { type: "integer" },
  },
};

function backend(existing: Record<string, NetBoxObject[]> = {}, log: string[] = []): ImportBackend {
  return {
    fields: (path) => Promise.resolve(META[path]),
    list: (path: string, filters: Filters) => {
      log.push(`${path} ${JSON.stringify(filters)}`);
      const rows = existing[path] ?? [];
      return Promise.resolve(rows.filter((o) =>
        Object.entries(filters).every(([k, v]) => {
          const vals = (Array.isArray(v) ? v : [v]).map(String);
          return vals.includes(String(o[k]));
        })
      ));
    },
  };
}

async function plan(
  yaml: string,
  existing: Record<string, NetBoxObject[]> = {},
  options: PlanOptions = {},
) {
  const sections = parseImport(yaml, { file: "in.yaml", format: "yaml" });
  return await buildPlan(sections, backend(existing), options);
}

const obj = (id: number, fields: Record<string, unknown>): NetBoxObject => ({
  id,
  url: "",
  display: "",
  ...fields,
});

Deno.test("buildPlan() creates new objects and references them as new", async () => {
  const p = await plan(`
tags:
  - {name: proxmox, slug: proxmox}
sites:
  - {name: Matrix, slug: matrix, status: active, tags: [proxmox]}
`);
  assert.deepEqual(p.problems, []);
  const site = p.items.find((i) => i.model.key === "dcim.sites")!;
  assert.equal(site.action, "create");
  assert.equal(JSON.stringify(site.body.tags), '["new:proxmox"]');
  assert.equal(site.deps.size, 1);
  assert.equal(p.items[0].model.key, "extras.tags", "tags are written first");
});

Deno.test("buildPlan() leaves equal objects unchanged with NetBox read shapes", async () => {
  const p = await plan(
    `sites:\n  - {name: Matrix, slug: matrix, status: active, tags: [proxmox]}\n`,
    {
      "extras/tags/": [obj(7, { name: "proxmox", slug: "proxmox" })],
      "dcim/sites/": [obj(3, {
        name: "Matrix",
        slug: "matrix",
        status: { value: "active", label: "Active" },
        tags: [{ id: 7, name: "proxmox", slug: "proxmox" }],
      })],
    },
  );
  assert.deepEqual(p.problems, []);
  assert.equal(p.items[0].action, "unchanged");
  assert.deepEqual(p.items[0].body, {});
});

Deno.test("buildPlan() diffs only the changed fields of an update", async () => {
  const p = await plan(
    `sites:\n  - {name: Matrix, slug: matrix, status: planned, description: lab}\n`,
    {
      "dcim/sites/": [obj(3, {
        name: "Matrix",
        slug: "matrix",
        status: { value: "active", label: "Active" },
        description: "",
      })],
    },
  );
  const [site] = p.items;
  assert.equal(site.action, "update");
  assert.deepEqual(site.body, { status: "planned", description: "lab" });
  assert.deepEqual(site.changes, [
    { field: "status", old: "active", new: "planned" },
    { field: "description", old: "∅", new: "lab" },
  ]);
});

Deno.test("buildPlan() reports unknown fields, bad choices, CIDRs and DNS names with positions", async () => {
  const p = await plan(`ip_addresses:
  - address: 10.0.0.300/24
  - address: 10.0.0.1/24
    status: actve
  - address: 10.0.0.2/24
    dns_name: "bad name"
  - address: 10.0.0.3/24
    colour: red
`);
  const lines = p.problems.map((x) => `${x.loc.line}:${x.loc.column}: ${x.message}`);
  assert.match(lines[0], /^2:14: invalid CIDR "10.0.0.300\/24"/);
  assert.match(lines[1], /^4:13: invalid choice "actve" for status/);
  assert.match(lines[2], /^6:15: "bad name" is not a valid DNS name/);
  assert.match(lines[3], /^8:5: unknown field "colour" for ipam.ip-addresses/);
});

Deno.test("buildPlan() reports unknown references, duplicates and missing required fields", async () => {
  const p = await plan(
    `sites:
  - {name: A, slug: a}
  - {name: B, slug: a}
devices:
  - {name: x, site: nowhere, role: r, device_type: t}
  - {name: y}
`,
    {},
  );
  const msgs = p.problems.map((x) => `${x.loc.line}: ${x.message}`);
  assert.ok(
    msgs.some((m) =>
      /^3: duplicate dcim.sites entry: slug=a is already given at in.yaml:2:5/.test(m)
    ),
    msgs.join("\n"),
  );
  assert.ok(
    msgs.some((m) => /^5: unknown reference: no dcim.sites with slug or name "nowhere"/.test(m)),
    msgs.join("\n"),
  );
  assert.ok(msgs.some((m) => /^6: missing required field "site"/.test(m)), msgs.join("\n"));
});

Deno.test("buildPlan() detects circular references", async () => {
  const p = await plan(`regions:
  - {name: A, slug: a, parent: b}
  - {name: B, slug: b, parent: a}
`);
  assert.equal(p.problems.length, 2);
  assert.match(
    p.problems[0].message,
    /circular reference: dcim.regions a → dcim.regions b → dcim.regions a/,
  );
});

Deno.test("buildPlan() resolves IP interface sugar and primary IPs in a second pass", async () => {
  const p = await plan(
    `devices:
  - {name: foxtrot, site: matrix, role: node, device_type: pve, primary_ip4: 192.168.3.5/24}
interfaces:
  - {device: foxtrot, name: eth0, type: virtual}
ip_addresses:
  - {address: 192.168.3.5/24, interface: {device: foxtrot, name: eth0}, dns_name: foxtrot.example.com}
`,
    {
      "dcim/sites/": [obj(1, { name: "Matrix", slug: "matrix" })],
      "dcim/device-roles/": [obj(2, { name: "Node", slug: "node" })],
      "dcim/device-types/": [obj(3, { model: "PVE", slug: "pve" })],
    },
  );
  assert.deepEqual(p.problems, []);
  const order = p.items.map((i) => i.model.key);
  assert.deepEqual(order, ["dcim.devices", "dcim.interfaces", "ipam.ip-addresses"]);
  const [dev, , ip] = p.items;
  assert.equal(JSON.stringify(dev.deferred), '{"primary_ip4":"new:192.168.3.5/24"}');
  assert.equal(dev.body.primary_ip4, undefined);
  assert.equal(ip.body.assigned_object_type, "dcim.interface");
  assert.equal(JSON.stringify(ip.body.assigned_object_id), '"new:foxtrot eth0"');
});

Deno.test("buildPlan() matches IPs by address and VRF and sees no change on re-run", async () => {
  const p = await plan(
    `ip_addresses:\n  - {address: 10.1.0.5/24, vrf: management, dns_name: Foxtrot.example.com}\n`,
    {
      "ipam/vrfs/": [obj(4, { name: "management" })],
      "ipam/ip-addresses/": [
        obj(10, { address: "10.1.0.5/24", vrf: null, dns_name: "" }),
        obj(11, {
          address: "10.1.0.5/24",
          vrf: { id: 4, name: "management" },
          dns_name: "foxtrot.example.com",
        }),
      ],
    },
  );
  assert.deepEqual(p.problems, []);
  assert.equal(p.items[0].id, 11);
  assert.equal(p.items[0].action, "unchanged");
});

Deno.test("buildPlan() fetches existing IPs with filtered list calls, not one per object", async () => {
  const log: string[] = [];
  const yaml = "ip_addresses:\n" +
    Array.from({ length: 250 }, (_, n) => `  - {address: 10.2.${n >> 8}.${n & 255}/16}\n`).join("");
  const sections = parseImport(yaml, { file: "in.yaml", format: "yaml" });
  const p = await buildPlan(sections, backend({}, log));
  assert.equal(p.items.length, 250);
  assert.equal(log.filter((l) => l.startsWith("ipam/ip-addresses/")).length, 3);
});

Deno.test("buildPlan() in create-only mode leaves existing objects alone", async () => {
  const p = await plan(`sites:\n  - {name: Matrix, slug: matrix, status: planned}\n`, {
    "dcim/sites/": [
      obj(3, { name: "Matrix", slug: "matrix", status: { value: "active", label: "Active" } }),
    ],
  }, { mode: "create-only" });
  assert.equal(p.items[0].action, "unchanged");
});

Deno.test("buildPlan() in update-only mode refuses new objects", async () => {
  const p = await plan(`sites:\n  - {name: Matrix, slug: matrix}\n`, {}, { mode: "update-only" });
  assert.match(p.problems[0].message, /no existing dcim.sites matches slug=matrix/);
});

Deno.test("buildPlan() reports unknown tags unless asked to create them", async () => {
  const yaml = `sites:\n  - {name: Matrix, slug: matrix, tags: [Lab Gear]}\n`;
  const p1 = await plan(yaml);
  assert.match(
    p1.problems[0].message,
    /unknown tag "Lab Gear" \(create it first, or pass --create-missing-tags\)/,
  );
  assert.equal(p1.problems[0].loc.line, 2);
  const p2 = await plan(yaml, {}, { createMissingTags: true });
  assert.deepEqual(p2.problems, []);
  assert.deepEqual(p2.items[0].body, { name: "Lab Gear", slug: "lab-gear" });
});

Deno.test("buildPlan() honours _match and --match-on", async () => {
  const existing = { "dcim/sites/": [obj(3, { name: "Matrix", slug: "old-slug" })] };
  const p1 = await plan(`sites:\n  - {name: Matrix, slug: matrix, _match: [name]}\n`, existing);
  assert.equal(p1.items[0].action, "update");
  assert.deepEqual(p1.items[0].changes, [{ field: "slug", old: "old-slug", new: "matrix" }]);
  const p2 = await plan(`sites:\n  - {name: Matrix, slug: matrix}\n`, existing, {
    matchOn: { "dcim.sites": ["name"] },
  });
  assert.equal(p2.items[0].id, 3);
});

Deno.test("buildPlan() merges custom fields when comparing", async () => {
  const p = await plan(
    `devices:\n  - {name: foxtrot, site: matrix, custom_fields: {rack_unit: 4}}\n`,
    {
      "dcim/sites/": [obj(1, { name: "Matrix", slug: "matrix" })],
      "dcim/devices/": [
        obj(9, { name: "foxtrot", site: { id: 1 }, custom_fields: { rack_unit: 4, other: "x" } }),
      ],
      "extras/custom-fields/": [RACK_UNIT],
    },
  );
  assert.deepEqual(p.problems, []);
  assert.equal(p.items[0].action, "unchanged");
});

const RACK_UNIT = obj(5, {
  name: "rack_unit",
  type: { value: "integer", label: "Integer" },
  object_types: ["dcim.device"],
  choice_set: null,
});
const CF_EXISTING = {
  "dcim/sites/": [obj(1, { name: "Matrix", slug: "matrix" })],
  "extras/custom-fields/": [RACK_UNIT],
};

Deno.test("buildPlan() refuses a custom field NetBox lacks, naming it and its line", async () => {
  const p = await plan(
    `devices:\n  - {name: foxtrot, site: matrix, custom_fields: {rack_units: 4}}\n`,
    CF_EXISTING,
  );
  const cf = p.problems.filter((x) => x.message.includes("custom field"));
  assert.deepEqual(cf.map((x) => [x.loc.line, x.message]), [[
    2,
    'unknown custom field "rack_units": NetBox has none of that name (define it in a ' +
    "custom_fields section of the input)",
  ]]);
});

Deno.test("buildPlan() refuses a custom-field value of the wrong type in one line", async () => {
  const p = await plan(
    `devices:\n  - {name: foxtrot, site: matrix, custom_fields: {rack_unit: four}}\n`,
    CF_EXISTING,
  );
  assert.deepEqual(p.problems.map((x) => x.message).filter((m) => m.includes("custom")), [
    'custom field "rack_unit" (type integer) must be an integer, not string "four"',
  ]);
  assert.equal(p.items[0].action, "invalid");
});

Deno.test("buildPlan() takes a custom field defined in the input and writes it first", async () => {
  const p = await plan(
    `devices:\n  - {name: foxtrot, site: matrix, role: r, device_type: t, custom_fields: {owner_team: "7"}}\n` +
      `custom_fields:\n  - {name: owner_team, type: integer, object_types: [dcim.device]}\n`,
    {
      ...CF_EXISTING,
      "dcim/device-roles/": [obj(2, { name: "r", slug: "r" })],
      "dcim/device-types/": [obj(3, { model: "t", slug: "t" })],
    },
  );
  assert.deepEqual(p.problems, []);
  assert.deepEqual(p.items.map((i) => i.model.key), ["extras.custom-fields", "dcim.devices"]);
  // The CSV-like text "7" is sent as the integer the field holds.
  assert.deepEqual(p.items[1].body.custom_fields, { owner_team: 7 });
  const wrongType = await plan(
    `devices:\n  - {name: foxtrot, site: matrix, custom_fields: {rack_unit: 4}}\n`,
    {
      ...CF_EXISTING,
      "extras/custom-fields/": [{ ...RACK_UNIT, object_types: ["dcim.site"] }],
    },
  );
  assert.deepEqual(wrongType.problems.map((x) => x.message).filter((m) => m.includes("custom")), [
    'custom field "rack_unit" does not apply to dcim.device (its object_types: dcim.site)',
  ]);
});

Deno.test("buildPlan() reports an unknown model with a suggestion", async () => {
  const p = await plan(`sitez:\n  - {name: a}\n`);
  assert.equal(p.problems[0].message, 'unknown model "sitez" (did you mean sites?)');
  assert.deepEqual([p.problems[0].loc.line, p.problems[0].loc.column], [1, 1]);
});

/** Rack groups, VM types, cable bundles and ASN roles: on NetBox 4.6+ (`new46`), else absent. */
function backend46(new46: boolean): ImportBackend {
  const slugged = { name: S(true), slug: { type: "slug", required: true } as FieldMeta };
  const meta: Record<string, Record<string, FieldMeta>> = {
    ...META,
    "dcim/racks/": { name: S(true), site: F(true), ...(new46 ? { group: F() } : {}) },
    "ipam/asns/": { asn: { type: "integer", required: true }, ...(new46 ? { role: F() } : {}) },
    "ipam/roles/": slugged,
    ...(new46 ? { "dcim/rack-groups/": slugged } : {}),
  };
  const log: string[] = [];
  return {
    ...backend({ "dcim/sites/": [obj(1, { name: "Matrix", slug: "matrix" })] }, log),
    fields: (path) => Promise.resolve(meta[path]),
  };
}

Deno.test("buildPlan() refuses rack groups and the fields of NetBox 4.6 on an older NetBox by line and version", async () => {
  const yaml = [
    "rack_groups:",
    "  - {name: Row A, slug: row-a}",
    "racks:",
    "  - {name: R1, site: matrix, group: row-a}",
    "ipam.roles:",
    "  - {name: Transit, slug: transit}",
    "asns:",
    "  - {asn: 65001, role: transit}",
    "",
  ].join("\n");
  const sections = parseImport(yaml, { file: "in.yaml", format: "yaml" });
  const old = await buildPlan(sections, backend46(false));
  assert.deepEqual(old.problems.map((x) => `${x.loc.line}: ${x.message}`), [
    "2: dcim.rack-groups needs NetBox ≥ 4.6: this NetBox has no dcim/rack-groups/ endpoint",
    '4: field "group" of dcim.racks needs NetBox ≥ 4.6 (dcim.rack-groups): this NetBox has ' +
    "no such field",
    '8: field "role" of ipam.asns needs NetBox ≥ 4.6 (ipam.roles): this NetBox has no such ' +
    "field",
  ]);
  const fresh = await buildPlan(sections, backend46(true));
  assert.deepEqual(fresh.problems, []);
  const byModel = (key: string) => fresh.items.find((i) => i.model.key === key)!;
  assert.equal(JSON.stringify(byModel("dcim.racks").body.group), '"new:row-a"');
  assert.equal(JSON.stringify(byModel("ipam.asns").body.role), '"new:transit"');
  const order = fresh.items.map((i) => i.model.key);
  assert.ok(order.indexOf("ipam.roles") < order.indexOf("ipam.asns"), order.join());
  assert.ok(order.indexOf("dcim.rack-groups") < order.indexOf("dcim.racks"), order.join());
});

Deno.test("buildPlan() looks a big import up by key when the table is much bigger, else lists it", async () => {
  const ips = Array.from({ length: 1500 }, (_, i) => `10.${i >> 8}.${i & 255}.1/32`);
  const yaml = `ip_addresses:\n${ips.map((a) => `  - {address: ${a}}`).join("\n")}\n`;
  const existing = {
    "ipam/ip-addresses/": [obj(7, { address: ips[3], vrf: null, dns_name: "", status: "active" })],
  };
  for (const [total, wholeTable] of [[100_000, false], [3_000, true]] as const) {
    const log: string[] = [];
    const counted: string[] = [];
    const b: ImportBackend = {
      ...backend(existing, log),
      count: (path) => {
        counted.push(path);
        return Promise.resolve(total);
      },
    };
    const sections = parseImport(yaml, { file: "in.yaml", format: "yaml" });
    const p = await buildPlan(sections, b);
    assert.deepEqual(p.problems, []);
    const listings = log.filter((l) => l.startsWith("ipam/ip-addresses/ "));
    assert.deepEqual(counted, ["ipam/ip-addresses/"]);
    if (wholeTable) {
      assert.deepEqual(listings, ["ipam/ip-addresses/ {}"], `table of ${total}`);
    } else {
      // 15 lookups of 100 addresses each, never the whole table.
      assert.equal(listings.length, 15, `table of ${total}`);
      assert.ok(listings.every((l) => l.includes('"address":[')));
    }
    // Either way the existing address is matched, the others are created.
    const actions = p.items.filter((i) => i.model.key === "ipam.ip-addresses")
      .map((i) => i.action);
    assert.equal(actions.filter((a) => a === "create").length, 1499);
    assert.equal(actions.filter((a) => a === "unchanged").length, 1);
  }
});
