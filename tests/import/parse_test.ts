import assert from "node:assert/strict";
import { formatFromPath, ImportInputError, parseImport } from "../../lib/import/parse.ts";

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ImportInputError) {
      return err.problems.map((p) => `${p.loc.file}:${p.loc.line}:${p.loc.column}: ${p.message}`);
    }
    throw err;
  }
  assert.fail("expected an ImportInputError");
}

Deno.test("parseImport() keeps YAML positions of entries, keys, values and list items", () => {
  const [, ips] = parseImport(
    "tags:\n  - {name: a, slug: a}\nip_addresses:\n  - address: 10.0.0.1/24\n    tags: [a, b]\n    interface: {device: foxtrot, name: eth0}\n",
    { file: "x.yaml", format: "yaml" },
  );
  const e = ips.entries[0];
  assert.equal(ips.key, "ip_addresses");
  assert.deepEqual([e.loc.line, e.loc.column], [4, 5]);
  assert.deepEqual([e.locs.address.key!.line, e.locs.address.value.column], [4, 14]);
  assert.deepEqual([e.locs["tags.1"].value.line, e.locs["tags.1"].value.column], [5, 15]);
  assert.deepEqual([e.locs["interface.name"].value.line, e.locs["interface.name"].value.column], [
    6,
    40,
  ]);
  assert.deepEqual(e.data.interface, { device: "foxtrot", name: "eth0" });
});

Deno.test("parseImport() reports broken YAML and JSON with line and column", () => {
  assert.deepEqual(
    problems(() =>
      parseImport("sites:\n  - name: a\n     slug: b\n", { file: "a.yaml", format: "yaml" })
    ),
    [
      "a.yaml:3:10: invalid YAML: bad indentation of a mapping entry",
    ],
  );
  assert.deepEqual(
    problems(() =>
      parseImport('{"sites": [\n  {"name": "a",}\n]}', { file: "a.json", format: "json" })
    ),
    [
      "a.json:2:16: invalid JSON: Expected double-quoted property name",
    ],
  );
});

Deno.test("parseImport() reads JSON with positions", () => {
  const [s] = parseImport('{"sites": [\n  {"name": "M", "slug": "m"}\n]}', {
    file: "a.json",
    format: "json",
  });
  assert.deepEqual(s.entries[0].data, { name: "M", slug: "m" });
  assert.deepEqual([s.entries[0].locs.slug.key!.line, s.entries[0].locs.slug.key!.column], [2, 17]);
});

Deno.test("parseImport() rejects shapes other than model → list of objects", () => {
  assert.deepEqual(problems(() => parseImport("- a\n- b\n", { file: "a.yaml", format: "yaml" })), [
    'a.yaml:1:1: expected a mapping from model (e.g. "sites") to a list of objects',
  ]);
  assert.deepEqual(
    problems(() => parseImport("sites:\n  - 1\n  - {a: 1}\n", { file: "a.yaml", format: "yaml" })),
    [
      'a.yaml:2:5: item 1 of "sites" must be an object',
    ],
  );
});

Deno.test("parseImport() reads CSV with dotted headers, tag lists and cell columns", () => {
  const [s] = parseImport(
    'name,site.slug,tags\nfoxtrot,matrix,"a, b"\ngolf,,\n',
    { file: "d.csv", format: "csv", model: "dcim.devices" },
  );
  assert.equal(s.key, "dcim.devices");
  assert.deepEqual(s.entries[0].data, {
    name: "foxtrot",
    site: { slug: "matrix" },
    tags: ["a", "b"],
  });
  assert.deepEqual(s.entries[1].data, { name: "golf" }, "empty cells leave fields alone");
  assert.deepEqual([
    s.entries[0].locs["site.slug"].value.line,
    s.entries[0].locs["site.slug"].value.column,
  ], [2, 9]);
  assert.deepEqual([s.entries[1].loc.line], [3]);
});

Deno.test("parseImport() reports CSV rows of the wrong width and a missing --model", () => {
  assert.deepEqual(
    problems(() => parseImport("a,b,c\n1,2\n", { file: "x.csv", format: "csv", model: "sites" })),
    [
      "x.csv:2:3: row has 2 fields but the header has 3",
    ],
  );
  assert.match(
    problems(() => parseImport("a\n1\n", { file: "x.csv", format: "csv" }))[0],
    /needs --model/,
  );
});

Deno.test("formatFromPath() knows yaml, yml, json and csv", () => {
  assert.deepEqual(["a.yml", "b.YAML", "c.json", "d.csv", "e.txt"].map(formatFromPath), [
    "yaml",
    "yaml",
    "json",
    "csv",
    undefined,
  ]);
});

Deno.test("parseImport() gives CSV rows after empty lines and multi-line cells their first line", () => {
  const [section] = parseImport('name,slug,description\na,a,x\n\n\nb,b,"two\nlines"\nc,c,\n', {
    file: "x.csv",
    format: "csv",
    model: "dcim.sites",
  });
  assert.deepEqual(section.entries.map((e) => e.loc.line), [2, 5, 7]);
});
