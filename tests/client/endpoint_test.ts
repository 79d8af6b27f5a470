import assert from "node:assert/strict";
import { createEndpoint, normalisePath } from "../../lib/client/endpoint.ts";
import { createEndpoints } from "../../lib/client/endpoints.ts";
import { AllocationError, NetBoxChangedError, NetBoxError } from "../../lib/client/errors.ts";
import { fakeTable, fakeTransport, httpError } from "../_fake_transport.ts";

const sites = [{ id: 1, url: "", slug: "a" }, { id: 2, url: "", slug: "b" }];

Deno.test("normalisePath() strips /api/ and keeps one trailing slash", () => {
  assert.equal(normalisePath("/api/dcim/sites"), "dcim/sites/");
  assert.equal(normalisePath("dcim/sites/"), "dcim/sites/");
  assert.equal(normalisePath("plugins/foo/bars//"), "plugins/foo/bars/");
  assert.throws(() => normalisePath("/api/"), TypeError);
});

Deno.test("get() requests the detail path with trimming options", async () => {
  const t = fakeTransport(() => sites[0]);
  const ep = createEndpoint(t, "/api/dcim/sites");
  assert.deepEqual(await ep.get(1, { fields: ["id", "slug"] }), sites[0]);
  assert.deepEqual(t.lines(), ["GET dcim/sites/1/?fields=id%2Cslug"]);
  await assert.rejects(ep.get(0), TypeError);
});

Deno.test("find() returns the one match, undefined for none, and throws for several", async () => {
  const t = fakeTransport((req) =>
    fakeTable(sites.filter((s) => !req.query.has("slug") || s.slug === req.query.get("slug")), req)
  );
  const ep = createEndpoint(t, "dcim/sites/");
  assert.equal((await ep.find({ slug: "b" }))?.id, 2);
  assert.equal(await ep.find({ slug: "zzz" }), undefined);
  await assert.rejects(ep.find({}), (err) => {
    assert.ok(err instanceof NetBoxError);
    assert.match(err.message, /^Cannot find one object in dcim\/sites\/: 2 objects match/);
    return true;
  });
  assert.equal(t.requests[0].query.toString(), "slug=b&limit=2");
});

Deno.test("create/update/delete of one object use the list and detail paths", async () => {
  const t = fakeTransport((req) => (req.method === "DELETE" ? undefined : { id: 9, url: "" }));
  const ep = createEndpoint(t, "ipam/vrfs/");
  await ep.create({ name: "x" });
  await ep.update(9, { description: "d" });
  await ep.delete(9);
  assert.deepEqual(t.lines(), ["POST ipam/vrfs/", "PATCH ipam/vrfs/9/", "DELETE ipam/vrfs/9/"]);
  assert.deepEqual(t.requests[1].body, { description: "d" });
});

Deno.test("create/update/delete with arrays write in bulk", async () => {
  const t = fakeTransport((req) => {
    if (req.method === "GET") return { results: [{ id: 1 }] };
    if (req.method === "DELETE") return undefined;
    return (req.body as object[]).map((b, i) => ({ id: i + 1, ...b }));
  });
  const ep = createEndpoint(t, "ipam/vrfs/");
  const created = await ep.create([{ name: "a" }, { name: "b" }]);
  assert.equal(created.succeeded.length, 2);
  const updated = await ep.update([{ id: 1, description: "x" }]);
  assert.equal(updated.succeeded.length, 1);
  const deleted = await ep.delete([1, 2]);
  assert.deepEqual(deleted.succeeded, [{ id: 1 }, { id: 2 }]);
  assert.deepEqual(t.lines().map((l) => l.split("?")[0]), [
    "POST ipam/vrfs/",
    "PATCH ipam/vrfs/",
    "DELETE ipam/vrfs/",
  ]);
});

Deno.test("createEndpoints() maps the table to NetBox paths", () => {
  const eps = createEndpoints(fakeTransport(() => undefined));
  assert.equal(eps.dcim.deviceTypes.path, "dcim/device-types/");
  assert.equal(eps.ipam.ipRanges.path, "ipam/ip-ranges/");
  assert.equal(eps.virtualization.interfaces.path, "virtualization/interfaces/");
  assert.equal(eps.extras.tags.path, "extras/tags/");
  assert.equal(eps.endpoint("/api/plugins/x/y").path, "plugins/x/y/");
});

Deno.test("available helpers list with a limit and always return arrays on create", async () => {
  const t = fakeTransport((req) =>
    req.method === "GET" ? [{ family: 4, address: "192.0.2.1/24", vrf: null }] : { id: 5 }
  );
  const eps = createEndpoints(t);
  const free = eps.ipam.prefixes.availableIps(7);
  assert.equal((await free.list({ limit: 3 })).length, 1);
  assert.deepEqual(await free.create({ status: "reserved" }), [{ id: 5 }]);
  await eps.ipam.ipRanges.availableIps(3).list();
  await eps.ipam.prefixes.availablePrefixes(7).list();
  await eps.ipam.vlanGroups.availableVlans(2).list();
  assert.deepEqual(t.lines(), [
    "GET ipam/prefixes/7/available-ips/?limit=3",
    "POST ipam/prefixes/7/available-ips/",
    "GET ipam/ip-ranges/3/available-ips/?limit=1000",
    "GET ipam/prefixes/7/available-prefixes/?limit=1000",
    "GET ipam/vlan-groups/2/available-vlans/?limit=1000",
  ]);
});

Deno.test("available create turns a 409 into AllocationError", async () => {
  const t = fakeTransport((req) => {
    throw httpError(409, "POST", req.path, {
      detail: "Insufficient resources are available to satisfy the request",
    });
  });
  const free = createEndpoints(t).ipam.prefixes.availableIps(7);
  await assert.rejects(free.create([{}, {}]), AllocationError);
});

const READ = { id: 1, url: "", last_updated: "2026-12-02T03:48:28.561882+01:00" };
const READ_ETAG = 'W/"2026-12-02T02:48:28.561882+00:00"';

Deno.test("update() with ifMatch sends the object's ETag as If-Match on NetBox >= 4.6", async () => {
  const t = fakeTransport(() => ({ ...READ, description: "x" }));
  await createEndpoint(t, "dcim/sites/").update(1, { description: "x" }, { ifMatch: READ });
  assert.deepEqual(t.lines(), ["PATCH dcim/sites/1/"]);
  assert.equal(t.requests[0].headers?.["If-Match"], READ_ETAG);
});

Deno.test("update() with ifMatch before NetBox 4.6 refuses an object changed since it was read", async () => {
  const t = fakeTransport(
    (req) => req.method === "GET" ? { id: 1, last_updated: "2026-12-02T02:50:00+00:00" } : READ,
    { version: "4.5.9" },
  );
  const ep = createEndpoint(t, "dcim/sites/");
  await assert.rejects(ep.update(1, { description: "x" }, { ifMatch: READ }), NetBoxChangedError);
  assert.deepEqual(t.lines(), ["GET dcim/sites/1/?fields=id%2Clast_updated"]);
});

Deno.test("update() of several objects with ifMatch sends their ETags as one If-Match", async () => {
  const t = fakeTransport((req) => req.body);
  const result = await createEndpoint(t, "dcim/sites/").update(
    [{ id: 1, description: "x" }, { id: 2, description: "y" }],
    { ifMatch: [READ_ETAG, 'W/"2026-12-02T02:50:00+00:00"'] },
  );
  assert.equal(result.failed.length, 0);
  assert.deepEqual(t.lines(), ["PATCH dcim/sites/"]);
  assert.equal(
    t.requests[0].headers?.["If-Match"],
    `${READ_ETAG}, W/"2026-12-02T02:50:00+00:00"`,
  );
});
