/**
 * Deletes in the bulk-import plan: `_state: absent` entries, the scope tag, and `prune`, against
 * an in-memory backend (the real NetBox is in tests/integration/bulk_import_prune_test.ts).
 */
import assert from "node:assert/strict";
import {
  buildPlan,
  type FieldMeta,
  type ImportBackend,
  type PlanOptions,
} from "../../lib/import/plan.ts";
import { parseImport } from "../../lib/import/parse.ts";
import { importReport, renderImportText } from "../../lib/import/report.ts";
import { parseBlockers } from "../../lib/import/apply.ts";
import { InputError } from "../../lib/client/errors.ts";
import type { Filters, NetBoxObject } from "../../lib/client/types.ts";

const S = (required = false): FieldMeta => ({ type: "string", required });
const F = (required = false): FieldMeta => ({ type: "field", required });
const SLUG: FieldMeta = { type: "slug", required: true };
const STATUS: FieldMeta = {
  type: "choice",
  choices: ["active", "planned"].map((v) => ({ value: v, display_name: v })),
};
const META: Record<string, Record<string, FieldMeta>> = {
  "extras/tags/": { name: S(true), slug: SLUG },
  "dcim/sites/": { name: S(true), slug: SLUG, status: STATUS, tags: F(), description: S() },
  "dcim/devices/": { name: S(), site: F(true), role: F(true), device_type: F(true), tags: F() },
  "dcim/interfaces/": { name: S(true), device: F(true), tags: F() },
};

/** Filters on plain fields, `id`, and `tag` (by slug), as NetBox does. */
function backend(existing: Record<string, NetBoxObject[]> = {}, log: string[] = []): ImportBackend {
  return {
    fields: (path) => Promise.resolve(META[path]),
    list: (path: string, filters: Filters) => {
      log.push(`${path} ${JSON.stringify(filters)}`);
      return Promise.resolve(
        (existing[path] ?? []).filter((o) =>
          Object.entries(filters).every(([k, v]) => {
            const want = (Array.isArray(v) ? v : [v]).map(String);
            if (k === "tag") {
              return ((o.tags ?? []) as { slug: string }[]).some((t) => want.includes(t.slug));
            }
            return want.includes(String(o[k]));
          })
        ),
      );
    },
  };
}

async function plan(
  text: string,
  existing: Record<string, NetBoxObject[]> = {},
  options: PlanOptions = {},
  format: "yaml" | "csv" = "yaml",
  log: string[] = [],
) {
  const sections = parseImport(text, {
    file: format === "csv" ? "in.csv" : "in.yaml",
    format,
    model: format === "csv" ? "dcim.sites" : undefined,
  });
  return await buildPlan(sections, backend(existing, log), options);
}

const tag = (id: number, slug: string) => ({ id, url: "", display: slug, name: slug, slug });
const site = (id: number, slug: string, tags: { id: number; slug: string }[] = []) => ({
  id,
  url: "",
  display: slug,
  name: slug,
  slug,
  status: { value: "active", label: "Active" },
  tags,
});
const SCOPE = tag(50, "nac");
const OTHER = tag(51, "other-scope");

Deno.test("_state: absent deletes the matched object and ignores its other fields", async () => {
  const p = await plan(
    `sites:\n  - {slug: gone, name: whatever, status: nonsense, _state: absent}\n`,
    { "dcim/sites/": [site(3, "gone")] },
  );
  assert.deepEqual(p.problems, []);
  const [item] = p.items;
  assert.equal(item.action, "delete");
  assert.equal(item.reason, "absent");
  assert.equal(item.id, 3);
  assert.equal(item.key, "slug=gone");
  assert.deepEqual(item.body, {});
});

Deno.test("_state: absent of an object that does not exist is unchanged (idempotent)", async () => {
  const p = await plan(`sites:\n  - {slug: never, _state: absent}\n`);
  assert.deepEqual(p.problems, []);
  assert.equal(p.items[0].action, "unchanged");
  // The key refers to a device that does not exist: the interface cannot exist either.
  const q = await plan(`interfaces:\n  - {device: nowhere, name: eth0, _state: absent}\n`);
  assert.deepEqual(q.problems, []);
  assert.equal(q.items[0].action, "unchanged");
});

Deno.test("_state: absent in a CSV column; present is the default", async () => {
  const p = await plan(
    "name,slug,_state\nGone,gone,absent\nKept,kept,present\nNew,new,\n",
    { "dcim/sites/": [site(3, "gone"), site(4, "kept")] },
    {},
    "csv",
  );
  assert.deepEqual(p.problems, []);
  assert.deepEqual(
    p.items.map((i) => `${i.label}:${i.action}`).sort(),
    ["gone:delete", "kept:update", "new:create"],
  );
});

Deno.test("an invalid _state is an input problem at its position, naming the values", async () => {
  const p = await plan(`sites:\n  - {slug: a, name: a, _state: deleted}\n`);
  assert.equal(p.problems.length, 1);
  assert.deepEqual(p.problems[0].loc, { file: "in.yaml", line: 2, column: 32 });
  assert.match(
    p.problems[0].message,
    /invalid _state "deleted" \(expected "present" or "absent"\)/,
  );
  const csv = await plan("name,slug,_state\nA,a,gone\n", {}, {}, "csv");
  assert.equal(`${csv.problems[0].loc.line}`, "2");
  assert.match(csv.problems[0].message, /invalid _state "gone"/);
});

Deno.test("an object both present and absent in the input is an input problem", async () => {
  const p = await plan(
    `sites:\n  - {slug: a, name: a}\n  - {slug: a, _state: absent}\n`,
    { "dcim/sites/": [site(3, "a")] },
  );
  assert.equal(p.problems.length, 1);
  assert.match(p.problems[0].message, /both present and absent .* at in\.yaml:2:5/);
  assert.equal(p.problems[0].loc.line, 3);
});

Deno.test("an entry that stays may not refer to an object the input deletes", async () => {
  const p = await plan(
    `sites:\n  - {slug: a, _state: absent}\ndevices:\n  - {name: d, site: a, role: 1, device_type: 1}\n`,
    { "dcim/sites/": [site(3, "a")] },
  );
  assert.ok(
    p.problems.some((x) => /refers to dcim\.sites a, which the input deletes/.test(x.message)),
    JSON.stringify(p.problems),
  );
});

Deno.test("--scope-tag adds the tag to what is created or updated, once", async () => {
  const existing = {
    "extras/tags/": [SCOPE, OTHER],
    "dcim/sites/": [site(3, "tagged", [SCOPE]), site(4, "plain", [OTHER])],
  };
  const p = await plan(
    `sites:\n  - {slug: tagged, name: tagged}\n  - {slug: plain, name: plain}\n` +
      `  - {slug: new, name: new, tags: [other-scope]}\n`,
    existing,
    { scopeTag: "nac" },
  );
  assert.deepEqual(p.problems, []);
  const by = Object.fromEntries(p.items.map((i) => [i.label, i]));
  assert.equal(by.tagged.action, "unchanged");
  assert.equal(by.plain.action, "update");
  assert.deepEqual(by.plain.body.tags, [51, 50], "the other tags are kept");
  assert.equal(by.new.action, "create");
  assert.deepEqual(by.new.body.tags, [51, 50]);
});

Deno.test("--scope-tag creates the tag when NetBox does not have it", async () => {
  const p = await plan(`sites:\n  - {slug: a, name: a}\n`, {}, { scopeTag: "Net Box As Code" });
  assert.deepEqual(p.problems, []);
  const t = p.items.find((i) => i.model.key === "extras.tags")!;
  assert.equal(t.action, "create");
  assert.deepEqual(t.body, { name: "Net Box As Code", slug: "net-box-as-code" });
});

Deno.test("with a scope tag, _state: absent deletes only objects that carry it", async () => {
  const p = await plan(
    `sites:\n  - {slug: a, _state: absent}\n  - {slug: b, _state: absent}\n`,
    { "extras/tags/": [SCOPE], "dcim/sites/": [site(3, "a", [SCOPE]), site(4, "b")] },
    { scopeTag: "nac" },
  );
  assert.equal(p.problems.length, 1);
  assert.match(p.problems[0].message, /dcim\.sites b \(id 4\) does not carry the scope tag "nac"/);
  assert.equal(p.items.find((i) => i.label === "a")!.requireTag, "nac");
});

Deno.test("prune deletes what carries the scope tag and is in no file, nothing else", async () => {
  const log: string[] = [];
  const p = await plan(
    `sites:\n  - {slug: kept, name: kept}\n`,
    {
      "extras/tags/": [SCOPE, OTHER],
      "dcim/sites/": [
        site(3, "kept", [SCOPE]),
        site(4, "left", [SCOPE]),
        site(5, "untagged"),
        site(6, "foreign", [OTHER]),
      ],
      "dcim/interfaces/": [{
        id: 9,
        url: "",
        display: "eth0",
        name: "eth0",
        device: { id: 2, name: "sw1" },
        tags: [SCOPE],
      }],
    },
    { scopeTag: "nac", prune: true },
    "yaml",
    log,
  );
  assert.deepEqual(p.problems, []);
  const deletes = p.items.filter((i) => i.action === "delete");
  assert.deepEqual(
    deletes.map((i) => `${i.model.key} ${i.label} ${i.id} ${i.reason} ${i.key}`).sort(),
    [
      "dcim.interfaces sw1 eth0 9 prune name=eth0, device=sw1",
      "dcim.sites left 4 prune slug=left",
    ],
  );
  assert.ok(log.includes('ipam/ip-addresses/ {"tag":"nac"}'), "every model is looked at");
  assert.ok(!log.some((l) => l.startsWith('extras/tags/ {"tag"')), "tags are never pruned");

  const report = importReport(p);
  assert.equal(report.summary.delete, 2);
  assert.equal(report.items[0].action, "delete", "deletes are listed first");
  assert.equal(report.items[0].model, "dcim.interfaces", "in reverse dependency order");
  assert.equal(report.items[0].reason, "pruned: not in files");
  assert.equal(report.items[0].location, null);
  const text = renderImportText(report);
  assert.match(text, /^MODEL\s+CREATE\s+UPDATE\s+DELETE\s+UNCHANGED\s+INVALID$/m);
  assert.match(text, /^total\s+0\s+0\s+2\s+1\s+0$/m);
  assert.match(text, /^- delete dcim\.sites left {2}\(slug=left id 4; pruned: not in files\)$/m);
});

Deno.test("prune needs a scope tag", async () => {
  await assert.rejects(() => plan(`sites: []\n`, {}, { prune: true }), InputError);
});

Deno.test("prune prunes nothing when an entry is invalid", async () => {
  const p = await plan(
    `sites:\n  - {slug: kept, name: kept, status: bogus}\n`,
    { "extras/tags/": [SCOPE], "dcim/sites/": [site(4, "left", [SCOPE])] },
    { scopeTag: "nac", prune: true },
  );
  assert.equal(p.problems.length, 1);
  assert.ok(!p.items.some((i) => i.action === "delete"));
  assert.match(p.pruneSkipped ?? "", /invalid entries/);
});

Deno.test("prune refuses to delete an object an entry still refers to", async () => {
  const p = await plan(
    `interfaces:\n  - {device: sw1, name: eth0}\n`,
    {
      "extras/tags/": [SCOPE],
      "dcim/devices/": [{ id: 2, url: "", display: "sw1", name: "sw1", tags: [SCOPE] }],
    },
    { scopeTag: "nac", prune: true },
  );
  assert.ok(
    p.problems.some((x) =>
      /refers to dcim\.devices sw1, which carries the scope tag "nac" but is in no file/.test(
        x.message,
      )
    ),
    JSON.stringify(p.problems),
  );
  assert.ok(!p.items.some((i) => i.action === "delete"));
  assert.match(p.pruneSkipped ?? "", /refer to objects prune would delete/);
});

Deno.test("parseBlockers() reads the objects of NetBox's 409", () => {
  assert.deepEqual(
    parseBlockers(
      "Unable to delete object. 2 dependent objects were found: foxtrot (12), golf (the 2nd) (13)",
    ),
    [{ name: "foxtrot", id: 12 }, { name: "golf (the 2nd)", id: 13 }],
  );
  assert.deepEqual(parseBlockers("something else"), []);
});

Deno.test("a planned delete that would take along an object the import keeps says so", async () => {
  const ip = (id: number, address: string, tags: { id: number; slug: string }[]) => ({
    id,
    url: "",
    display: address,
    address,
    device_id: 2,
    assigned_object: { id: 9, device: { id: 2 } },
    tags,
  });
  const p = await plan(
    `sites: []\n`,
    {
      "extras/tags/": [SCOPE],
      "dcim/devices/": [{ id: 2, url: "", display: "sw1", name: "sw1", tags: [SCOPE] }],
      // One address is pruned with the device, the other is not the import's.
      "ipam/ip-addresses/": [ip(70, "10.0.0.1/24", []), ip(71, "10.0.0.2/24", [SCOPE])],
    },
    { scopeTag: "nac", prune: true },
  );
  assert.deepEqual(p.problems, []);
  const dev = p.items.find((i) => i.model.key === "dcim.devices")!;
  assert.deepEqual(dev.blockers, [{ model: "ipam.ip-addresses", name: "10.0.0.1/24", id: 70 }]);
  const row = importReport(p).items.find((i) => i.model === "dcim.devices")!;
  assert.match(
    String(row.message),
    /^will be refused: NetBox would delete ipam\.ip-addresses 10\.0\.0\.1\/24 \(id 70\)/,
  );
});
