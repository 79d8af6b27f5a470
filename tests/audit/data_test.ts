import assert from "node:assert/strict";
import { type AuditSource, fetchAuditData, resolveVrf } from "../../lib/audit/data.ts";
import type { Filters, ListOptions, NetBoxObject } from "../../lib/client/types.ts";

interface Call {
  path: string;
  filters: Filters;
  options: ListOptions;
}

/** A fake client: each endpoint streams `list()` from a table and records the call. */
function fakeSource(tables: Record<string, NetBoxObject[]> = {}) {
  const calls: Call[] = [];
  const ep = (path: string) => ({
    async *list(filters: Filters = {}, options: ListOptions = {}) {
      calls.push({ path, filters, options });
      yield* tables[path] ?? [];
    },
  });
  const source = {
    ipam: {
      vrfs: ep("ipam/vrfs/"),
      prefixes: ep("ipam/prefixes/"),
      ipRanges: ep("ipam/ip-ranges/"),
      ipAddresses: ep("ipam/ip-addresses/"),
    },
    dcim: { devices: ep("dcim/devices/"), interfaces: ep("dcim/interfaces/") },
    virtualization: {
      virtualMachines: ep("virtualization/virtual-machines/"),
      interfaces: ep("virtualization/interfaces/"),
    },
  } as unknown as AuditSource;
  return { source, calls };
}

const vrfs = [
  { id: 3, url: "u", name: "blue", rd: "65000:3" },
  { id: 4, url: "u", name: "red", rd: null },
];

Deno.test("fetchAuditData() lists everything once, in parallel, with trimmed fields", async () => {
  const { source, calls } = fakeSource({ "ipam/vrfs/": vrfs });
  await fetchAuditData(source);
  const paths = calls.map((c) => c.path).sort();
  assert.deepEqual(paths, [
    "dcim/devices/",
    "dcim/interfaces/",
    "ipam/ip-addresses/",
    "ipam/ip-ranges/",
    "ipam/prefixes/",
    "ipam/vrfs/",
    "virtualization/interfaces/",
    "virtualization/virtual-machines/",
  ]);
  for (const c of calls) {
    assert.ok(c.options.fields?.length, `no fields for ${c.path}`);
    assert.equal(c.options.parallel, true);
  }
  const ifaces = calls.find((c) => c.path === "dcim/interfaces/")!;
  assert.deepEqual(ifaces.filters, { vrf_id: [3, 4] });
  assert.ok(
    calls.find((c) => c.path === "ipam/ip-addresses/")!.options.fields!.includes("assigned_object"),
  );
});

Deno.test("fetchAuditData() turns the scope into filters", async () => {
  const { source, calls } = fakeSource({ "ipam/vrfs/": vrfs });
  await fetchAuditData(source, {
    vrf: "blue",
    parent: "10.0.0.0/8",
    tenant: "acme",
    tag: "prod",
    filters: { status: "active" },
  });
  const ipCall = calls.find((c) => c.path === "ipam/ip-addresses/")!;
  assert.deepEqual(ipCall.filters, {
    status: "active",
    vrf_id: 3,
    parent: "10.0.0.0/8",
    tenant: "acme",
    tag: "prod",
  });
  const prefixCalls = calls.filter((c) => c.path === "ipam/prefixes/").map((c) => c.filters);
  assert.deepEqual(prefixCalls, [
    { vrf_id: 3, within_include: "10.0.0.0/8" }, // context
    { vrf_id: 3, contains: "10.0.0.0/8" }, // prefixes above --parent
    { vrf_id: null, status: "container", within_include: "10.0.0.0/8" }, // global containers
    { vrf_id: null, status: "container", contains: "10.0.0.0/8" },
    { vrf_id: 3, within_include: "10.0.0.0/8", tenant: "acme", tag: "prod", site: undefined },
  ]);
});

Deno.test("fetchAuditData() --site keeps the addresses inside the site's prefixes", async () => {
  const { source } = fakeSource({
    "ipam/vrfs/": vrfs,
    "ipam/prefixes/": [{ id: 1, url: "u", prefix: "10.1.0.0/16", vrf: null }],
    "ipam/ip-addresses/": [
      { id: 1, url: "u", address: "10.1.2.3/24", vrf: null },
      { id: 2, url: "u", address: "10.1.2.3/24", vrf: { id: 3, url: "u" } },
      { id: 3, url: "u", address: "10.2.0.1/24", vrf: null },
    ],
  });
  const data = await fetchAuditData(source, { site: "matrix" });
  assert.deepEqual(data.ips.map((ip) => ip.id), [1]);
  assert.deepEqual([...data.reportPrefixIds!], [1]);
});

Deno.test("resolveVrf() finds by id, name or RD and refuses the unknown and ambiguous", () => {
  assert.equal(resolveVrf(vrfs, "3"), 3);
  assert.equal(resolveVrf(vrfs, "red"), 4);
  assert.equal(resolveVrf(vrfs, "65000:3"), 3);
  assert.equal(resolveVrf(vrfs, "global"), null);
  assert.throws(() => resolveVrf(vrfs, "green"), /Cannot find VRF "green"/);
  assert.throws(
    () => resolveVrf([...vrfs, { id: 9, name: "red" }], "red"),
    /2 VRFs match \(ids 4, 9\)/,
  );
});

Deno.test("fetchAuditData() refuses a --parent that is not a CIDR", async () => {
  const { source } = fakeSource({ "ipam/vrfs/": vrfs });
  await assert.rejects(fetchAuditData(source, { parent: "10.0.0.0/33" }), /not a CIDR/);
});

Deno.test("fetchAuditData() survives a VRF deleted between its listing and the interface listing", async () => {
  const { NetBoxHttpError } = await import("../../lib/client/errors.ts");
  const { source, calls } = fakeSource({ "ipam/vrfs/": vrfs });
  const iface = { id: 9, url: "u", display: "eth0", vrf: { id: 3 } } as unknown as NetBoxObject;
  const interfaces = source.dcim.interfaces as unknown as { list: unknown };
  interfaces.list = async function* (filters: Filters = {}, options: ListOptions = {}) {
    calls.push({ path: "dcim/interfaces/", filters, options });
    const ids = filters.vrf_id as number[];
    if (ids.includes(4)) {
      throw new NetBoxHttpError("Cannot list dcim/interfaces/: vrf_id: …", {
        status: 400,
        method: "GET",
        path: "/api/dcim/interfaces/",
        body: {},
        messages: { vrf_id: ["Select a valid choice. 4 is not one of the available choices."] },
      });
    }
    yield iface;
  };
  const data = await fetchAuditData(source);
  assert.deepEqual(data.interfaces, [iface]);
  assert.deepEqual(
    calls.filter((c) => c.path === "dcim/interfaces/").map((c) => c.filters.vrf_id),
    [[3, 4], [3]],
  );
});

Deno.test("fetchAuditData() keeps one copy of each VRF, tenant, status and role the rows repeat", async () => {
  const ip = (id: number, vrf: number, status: string) => ({
    id,
    url: `u${id}`,
    address: `10.0.0.${id}/24`,
    vrf: { id: vrf, name: `v${vrf}`, rd: null },
    tenant: { id: 7, name: "acme" },
    status: { value: status, label: status.toUpperCase() },
    role: null,
    tags: [{ id: 1, slug: "t" }],
  });
  const rows = [ip(1, 3, "active"), ip(2, 3, "reserved"), ip(3, 4, "active"), ip(4, 3, "active")];
  const copy = structuredClone(rows);
  const { source } = fakeSource({ "ipam/vrfs/": vrfs, "ipam/ip-addresses/": rows });
  const { ips } = await fetchAuditData(source);
  // The same content as NetBox sent…
  assert.deepEqual(ips, copy);
  // …with one object per VRF id, tenant id and status value.
  assert.equal(ips[0].vrf, ips[1].vrf);
  assert.equal(ips[0].vrf, ips[3].vrf);
  assert.notEqual(ips[0].vrf, ips[2].vrf);
  assert.equal(ips[0].tenant, ips[2].tenant);
  assert.equal(ips[0].status, ips[2].status);
  assert.equal(ips[0].status, ips[3].status);
  assert.notEqual(ips[0].status, ips[1].status);
  // Other nested values (tags) are left as they came.
  assert.notEqual(ips[0].tags, ips[3].tags);
});
