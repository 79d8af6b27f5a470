/**
 * The export's serializer: sections in dependency order, entries sorted by natural key (parents
 * first, numbers and addresses numerically, names naturally), fixed key order, the same bytes
 * for the same content in YAML, JSON and CSV, and documents bulk-import's parser reads back to
 * the same entries. (Reading NetBox is tested against the real one: tests/integration.)
 */

import assert from "node:assert/strict";
import {
  type ExportSection,
  renderExport,
  resolveExportModels,
  sectionName,
  sortEntries,
} from "../../lib/import/export.ts";
import { lookupModel, modelByKey, MODELS } from "../../lib/import/models.ts";
import { readImportDocuments } from "../../lib/import/import.ts";
import { InputError } from "../../lib/client/errors.ts";

const section = (key: string, entries: Record<string, unknown>[]): ExportSection => ({
  model: modelByKey(key),
  name: sectionName(modelByKey(key)),
  entries,
});

const SAMPLE = {
  sections: [
    section("extras.tags", [{ name: "prod", slug: "prod" }]),
    section("dcim.sites", [{
      name: "Matrix: HQ",
      slug: "matrix",
      description: '3-node cluster, "quoted"\nsecond line',
      tags: ["prod"],
    }]),
    section("dcim.interfaces", [
      { name: "eth0", device: { name: "foxtrot", site: "matrix" }, type: "1000base-t" },
      {
        name: "bond0",
        device: { name: "foxtrot", site: "matrix" },
        type: "lag",
        tagged_vlans: [{ vid: 10, group: null, site: "matrix" }],
      },
    ]),
    section("ipam.ip-addresses", [{
      address: "192.168.3.5/24",
      vrf: "management",
      interface: { device: { name: "foxtrot", site: "matrix" }, name: "eth0" },
      custom_fields: { owner_team: "netops", rack_units: 2 },
    }]),
  ],
  warnings: [],
};

Deno.test("every model has a section name the import reads as the same model", () => {
  for (const m of MODELS) {
    const name = sectionName(m);
    assert.equal(lookupModel(name)?.key, m.key, name);
  }
  assert.equal(sectionName(modelByKey("virtualization.interfaces")), "vm_interfaces");
  assert.equal(sectionName(modelByKey("dcim.interfaces")), "interfaces");
});

Deno.test("YAML: block entries, flow references, strings quoted only where YAML needs it", () => {
  const [doc] = renderExport(SAMPLE, "yaml");
  assert.equal(doc.file, "export.yaml");
  assert.equal(
    doc.text,
    [
      "tags:",
      "  - name: prod",
      "    slug: prod",
      "sites:",
      "  - name: 'Matrix: HQ'",
      "    slug: matrix",
      "    description: |-",
      '      3-node cluster, "quoted"',
      "      second line",
      "    tags: [prod]",
      "interfaces:",
      "  - name: eth0",
      "    device: {name: foxtrot, site: matrix}",
      "    type: 1000base-t",
      "  - name: bond0",
      "    device: {name: foxtrot, site: matrix}",
      "    type: lag",
      "    tagged_vlans: [{vid: 10, group: null, site: matrix}]",
      "ip_addresses:",
      "  - address: 192.168.3.5/24",
      "    vrf: management",
      "    interface: {device: {name: foxtrot, site: matrix}, name: eth0}",
      "    custom_fields: {owner_team: netops, rack_units: 2}",
      "",
    ].join("\n"),
  );
});

Deno.test("YAML and JSON read back by bulk-import's parser as the same entries", () => {
  for (const format of ["yaml", "json"] as const) {
    const docs = renderExport(SAMPLE, format);
    const sections = readImportDocuments(docs);
    assert.deepEqual(
      sections.map((s) => [lookupModel(s.key)?.key, s.entries.map((e) => e.data)]),
      SAMPLE.sections.map((s) => [s.model.key, s.entries]),
      format,
    );
  }
});

Deno.test("JSON: two-space indent, keys in the order given, one trailing newline", () => {
  const [doc] = renderExport({ sections: [SAMPLE.sections[0]] }, "json");
  assert.equal(
    doc.text,
    '{\n  "tags": [\n    {\n      "name": "prod",\n      "slug": "prod"\n    }\n  ]\n}\n',
  );
});

Deno.test("CSV: one file per model, dotted headers, tags joined, inexpressible fields dropped", () => {
  const docs = renderExport(SAMPLE, "csv", { emptyModels: [modelByKey("dcim.devices")] });
  assert.deepEqual(docs.map((d) => [d.file, d.model]), [
    ["01-tags.csv", "extras.tags"],
    ["02-sites.csv", "dcim.sites"],
    ["03-devices.csv", "dcim.devices"],
    ["04-interfaces.csv", "dcim.interfaces"],
    ["05-ip_addresses.csv", "ipam.ip-addresses"],
  ]);
  assert.equal(docs[2].text, "name,site\n");
  assert.equal(
    docs[3].text,
    "name,device.name,device.site,type\neth0,foxtrot,matrix,1000base-t\nbond0,foxtrot,matrix,lag\n",
  );
  assert.deepEqual(docs[3].dropped, ["tagged_vlans"]);
  assert.equal(
    docs[4].text,
    "address,vrf,interface.device.name,interface.device.site,interface.name," +
      "custom_fields.owner_team,custom_fields.rack_units\n" +
      "192.168.3.5/24,management,foxtrot,matrix,eth0,netops,2\n",
  );
  // Read back by the import's CSV parser: the same entries (CSV gives strings).
  const sections = readImportDocuments(docs);
  assert.deepEqual(sections[4].entries[0].data, {
    address: "192.168.3.5/24",
    vrf: "management",
    interface: { device: { name: "foxtrot", site: "matrix" }, name: "eth0" },
    custom_fields: { owner_team: "netops", rack_units: "2" },
  });
  assert.deepEqual(sections[1].entries[0].data.tags, ["prod"]);
  assert.equal(sections[1].entries[0].data.description, '3-node cluster, "quoted"\nsecond line');
});

Deno.test("CSV is exact: no formula guard on cells that start with = + - @", () => {
  const [doc] = renderExport({
    sections: [section("dcim.sites", [{ name: "-edge", slug: "edge", description: "=1+1" }])],
  }, "csv");
  assert.equal(doc.text, "name,slug,description\n-edge,edge,=1+1\n");
});

Deno.test("the same content gives the same bytes (entry objects built in another key order)", () => {
  const a = renderExport(SAMPLE, "yaml")[0].text;
  const b = renderExport(JSON.parse(JSON.stringify(SAMPLE, null, 0)), "yaml")[0].text;
  assert.equal(a, b);
  assert.equal(renderExport({ sections: [] }, "yaml")[0].text, "{}\n");
});

Deno.test("resolveExportModels: aliases, dependency order, unknown names with a hint", () => {
  assert.deepEqual(
    resolveExportModels(["ip_addresses", "sites", "dcim/devices"]).map((m) => m.key),
    ["dcim.sites", "dcim.devices", "ipam.ip-addresses"],
  );
  assert.throws(
    () => resolveExportModels(["devicez"]),
    (err) =>
      err instanceof InputError &&
      /unknown model "devicez" \(did you mean devices\?\)/.test(err.message),
  );
  assert.throws(() => resolveExportModels(["plugins/foo/bars"]), InputError);
});

Deno.test("entries sort by natural key, parents first; numbers, addresses and names naturally", () => {
  const ips = [
    { address: "10.0.0.10/24", vrf: "b" },
    { address: "10.0.0.9/24", vrf: "b" },
    { address: "2001:db8::1/64" },
    { address: "10.0.0.200/24" },
    { address: "10.0.0.30/24" },
  ];
  sortEntries(modelByKey("ipam.ip-addresses"), ips);
  assert.deepEqual(ips.map((i) => `${i.vrf ?? "-"} ${i.address}`), [
    "- 10.0.0.30/24",
    "- 10.0.0.200/24",
    "- 2001:db8::1/64",
    "b 10.0.0.9/24",
    "b 10.0.0.10/24",
  ]);
  const ifaces = [
    { name: "eth10", device: { name: "b", site: "s1" } },
    { name: "eth2", device: { name: "b", site: "s1" } },
    { name: "eth1", device: { name: "a", site: "s2" } },
    { name: "eth1", device: { name: "c", site: "s1" } },
  ];
  sortEntries(modelByKey("dcim.interfaces"), ifaces);
  assert.deepEqual(ifaces.map((i) => `${i.device.site}/${i.device.name}/${i.name}`), [
    "s1/b/eth2",
    "s1/b/eth10",
    "s1/c/eth1",
    "s2/a/eth1",
  ]);
  const vlans = [{ vid: 300, site: "x" }, { vid: 20, group: "g" }, { vid: 100 }, { vid: 3 }];
  sortEntries(modelByKey("ipam.vlans"), vlans);
  assert.deepEqual(vlans.map((v) => v.vid), [3, 100, 20, 300]);
  // Cables whose ends are of different kinds sort the same whatever order NetBox lists them in.
  const dev = { name: "d0", site: "s0" };
  const cables = [
    { a: { device: dev, interface: "mgmt0" }, b: { device: dev, interface: "mgmt1" } },
    { a: { device: dev, rear_port: "rp0" }, b: { device: dev, rear_port: "rp1" } },
    { a: { device: dev, power_port: "psu0" }, b: { power_panel: "PP1", power_feed: "F1" } },
    { a: { device: dev, console_port: "con0" }, b: { device: dev, console_server_port: "cs0" } },
  ];
  const orders = new Set<string>();
  for (let i = 0; i < cables.length; i++) {
    const shuffled = [...cables.slice(i), ...cables.slice(0, i)].reverse();
    sortEntries(modelByKey("dcim.cables"), shuffled);
    orders.add(JSON.stringify(shuffled));
    sortEntries(modelByKey("dcim.cables"), shuffled.reverse());
    orders.add(JSON.stringify(shuffled));
  }
  assert.equal(orders.size, 1, [...orders].join("\n"));
});
