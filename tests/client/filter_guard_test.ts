import assert from "node:assert/strict";
import { checkFilters, closestNames, validFilterNames } from "../../lib/client/filter_guard.ts";
import { FilterError } from "../../lib/client/errors.ts";
import { paginate } from "../../lib/client/paginate.ts";
import { createEndpoint } from "../../lib/client/endpoint.ts";
import { decodeNames, encodeNames, extractListFilters } from "../../lib/client/filter_names.ts";
import index from "../../lib/client/filter_index.json" with { type: "json" };
import { fakeTable, fakeTransport, httpError } from "../_fake_transport.ts";
import { rejection } from "../_assert.ts";

const SITE_FILTERS = ["id", "id__gt", "name", "name__ic", "slug", "status", "status__n", "tag"];

const schema = {
  openapi: "3.0.3",
  paths: {
    "/api/dcim/sites/": {
      get: {
        operationId: "dcim_sites_list",
        parameters: [
          ...SITE_FILTERS.map((name) => ({ in: "query", name, schema: { type: "string" } })),
          { $ref: "#/components/parameters/Limit" },
        ],
      },
      post: { operationId: "dcim_sites_create" },
    },
    "/api/dcim/sites/{id}/": { get: { operationId: "dcim_sites_retrieve", parameters: [] } },
    "/api/status/": { get: { operationId: "status_retrieve" } },
  },
  components: { parameters: { Limit: { in: "query", name: "limit" } } },
};

/** A server of an unindexed version (9.9) answering the schema and list requests. */
function server(strictFilters = true) {
  return fakeTransport((req) => {
    if (req.path === "schema/") return schema;
    return fakeTable([{ id: 1 }, { id: 2 }], req);
  }, { version: "9.9.1", strictFilters });
}

Deno.test("a typo'd filter throws FilterError before any list request", async () => {
  const t = server();
  const err = await rejection(paginate(t, "dcim/sites/", { stauts: "active" }).all());
  assert.ok(err instanceof FilterError);
  assert.equal(err.filter, "stauts");
  assert.equal(err.suggestions[0], "status");
  assert.match(err.message, /^Cannot list dcim\/sites\/: unknown filter "stauts"/);
  assert.match(err.message, /closest valid names: status/);
  assert.deepEqual(t.lines(), ["GET schema/?format=json"]);
});

Deno.test("the filter guard passes known filters, cf_* and non-filter parameters", async () => {
  const t = server();
  const items = await paginate(t, "dcim/sites/", {
    status: ["active"],
    name__ic: "x",
    cf_owner: "me",
    q: "foo",
    ordering: "name",
    brief: undefined,
    nonsense: undefined, // never sent, so never checked
  }).all();
  assert.equal(items.length, 2);
});

Deno.test("the live schema is fetched once per client and cached", async () => {
  const t = server();
  const sites = createEndpoint(t, "dcim/sites/");
  await sites.all({ status: "active" });
  await sites.count({ slug: "a" });
  await assert.rejects(sites.find({ slgu: "a" }), FilterError);
  assert.equal(t.requests.filter((r) => r.path === "schema/").length, 1);
});

Deno.test("count() and find() check filter names too", async () => {
  const t = server();
  const sites = createEndpoint(t, "dcim/sites/");
  await assert.rejects(sites.count({ nmae: "x" }), /unknown filter "nmae"/);
  await assert.rejects(sites.find({ nmae: "x" }), /unknown filter "nmae"/);
  assert.ok(t.requests.every((r) => r.path === "schema/"));
});

Deno.test("strictFilters: false sends unknown filters unchecked", async () => {
  const t = server(false);
  await paginate(t, "dcim/sites/", { stauts: "active" }).all();
  assert.deepEqual(t.lines(), ["GET dcim/sites/?stauts=active&start=0&limit=1000"]);
});

Deno.test("paths the schema does not know (plugins) are not checked", async () => {
  const t = server();
  await paginate(t, "plugins/foo/bars/", { anything: 1 }).all();
  assert.equal(t.requests.at(-1)?.path, "plugins/foo/bars/");
});

Deno.test("a failing schema fetch warns once and sends filters unchecked", async () => {
  const t = fakeTransport((req) => {
    if (req.path === "schema/") throw httpError(500, "GET", "/api/schema/", "boom");
    return fakeTable([{ id: 1 }], req);
  }, { version: "9.9.1", strictFilters: true });
  assert.equal((await paginate(t, "dcim/sites/", { stauts: "x" }).all()).length, 1);
  assert.equal(t.warnings.length, 1);
  assert.match(t.warnings[0], /^Cannot check filter names: /);
});

Deno.test("indexed NetBox versions need no schema request", async () => {
  const versions = Object.keys(index);
  assert.ok(versions.includes("4.7"), "the index covers NetBox 4.7");
  const t = fakeTransport(() => {
    throw new Error("nothing may be sent");
  }, { version: "4.7.3", strictFilters: true });
  const err = await rejection(paginate(t, "ipam/prefixes/", { stie: "x" }).all());
  assert.ok(err instanceof FilterError && err.suggestions.includes("site"));
  assert.equal(t.requests.length, 0);
  const names = await validFilterNames(t, "ipam/prefixes/");
  for (const name of ["site", "vrf_id", "within", "contains", "mask_length__gte", "status__n"]) {
    assert.ok(names?.has(name), `ipam/prefixes/ knows ${name}`);
  }
  assert.ok(!names?.has("parent"), "prefixes have no parent filter");
});

Deno.test("checkFilters() does nothing without filters", async () => {
  const t = server();
  await checkFilters(t, "dcim/sites/", {});
  assert.equal(t.requests.length, 0);
});

Deno.test("closestNames() ranks by edit distance and skips far names", () => {
  assert.deepEqual(closestNames("stie", ["site", "site_id", "status", "tenant"]), ["site"]);
  assert.deepEqual(closestNames("vrf_di", ["vrf_id", "vrf", "vlan", "role"]), ["vrf_id", "vrf"]);
  assert.deepEqual(closestNames("name", ["name_d", "name_c", "name_b", "name_a"]), [
    "name_a",
    "name_b",
    "name_c",
  ]);
  assert.deepEqual(closestNames("zzzzzzzz", ["site", "id"]), []);
});

Deno.test("extractListFilters() keeps list operations and resolves $ref parameters", () => {
  assert.deepEqual(extractListFilters(schema), {
    "dcim/sites/": [...SITE_FILTERS, "limit"].sort(),
  });
});

Deno.test("the filter name encoding round-trips", () => {
  const names = {
    "a/": ["id", "id__gt", "id__lt", "name", "name__ic", "only__n", "q"],
    "b/": ["id", "id__gt", "id__lt", "x"],
  };
  const encoded = encodeNames(names);
  assert.equal(encoded.suffixes.length, 3);
  assert.deepEqual(decodeNames(encoded), names);
});
