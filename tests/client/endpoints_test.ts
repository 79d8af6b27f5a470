import assert from "node:assert/strict";
import { ENDPOINT_SINCE, ENDPOINT_TABLE } from "../../lib/client/_endpoint_table.ts";
import { createClient } from "../../lib/client/client.ts";
import { createEndpoints } from "../../lib/client/endpoints.ts";
import { NetBoxError } from "../../lib/client/errors.ts";
import { fakeTable, fakeTransport } from "../_fake_transport.ts";

/** Every (app, name, path) of the generated table. */
const ROWS = Object.entries(ENDPOINT_TABLE).flatMap(([app, paths]) =>
  Object.entries(paths as Record<string, string>).map(([name, path]) => ({ app, name, path }))
);

Deno.test("the typed tree reaches every list endpoint of the table under its app", () => {
  // NetBox 4.7: 140 list operations, of which dcim/connected-device/ is a look-up, not a list.
  assert.ok(ROWS.length >= 139, `only ${ROWS.length} typed endpoints`);
  assert.deepEqual(Object.keys(ENDPOINT_TABLE).sort(), [
    "circuits",
    "core",
    "dcim",
    "extras",
    "ipam",
    "tenancy",
    "users",
    "virtualization",
    "vpn",
    "wireless",
  ]);
  const tree = createEndpoints(fakeTransport(() => ({})));
  for (const { app, name, path } of ROWS) {
    const endpoint = (tree as unknown as Record<string, Record<string, { path: string }>>)[app][
      name
    ];
    assert.equal(endpoint.path, path, `${app}.${name}`);
  }
  assert.equal(tree.circuits.circuits.path, "circuits/circuits/");
  assert.equal(tree.wireless.wirelessLans.path, "wireless/wireless-lans/");
  assert.equal(typeof tree.ipam.prefixes.availableIps, "function");
  assert.equal(typeof tree.ipam.prefixes.availablePrefixes, "function");
  assert.equal(typeof tree.ipam.ipRanges.availableIps, "function");
  assert.equal(typeof tree.ipam.vlanGroups.availableVlans, "function");
});

Deno.test("the client's apps and endpoints are made on first use, once", () => {
  const client = createClient({
    url: "http://127.0.0.1:1",
    token: "nbt_abcdefghijkl.secret",
    fetch: () => Promise.reject(new Error("no request expected")),
  });
  try {
    const descriptor = Object.getOwnPropertyDescriptor(client, "dcim");
    assert.equal(typeof descriptor?.get, "function", "dcim is not a lazy property");
    assert.equal(client.dcim, client.dcim);
    assert.equal(client.dcim.devices, client.dcim.devices);
    assert.equal(typeof Object.getOwnPropertyDescriptor(client.vpn, "tunnels")?.get, "function");
  } finally {
    client.close();
  }
});

Deno.test("an endpoint newer than the server refuses before sending, naming the version", async () => {
  assert.equal(ENDPOINT_SINCE["users/owners/"], "4.5");
  const t = fakeTransport((req) => fakeTable([], req), { version: "4.3.7" });
  const tree = createEndpoints(t);
  const needs = (err: unknown) => {
    assert.ok(err instanceof NetBoxError);
    assert.equal(
      err.message,
      "Cannot use /api/users/owners/: it needs NetBox ≥ 4.5 (this server runs 4.3.7)",
    );
    assert.equal(err.exitCode, 3);
    return true;
  };
  await assert.rejects(tree.users.owners.count(), needs);
  await assert.rejects(tree.users.owners.all({ name: "x" }), needs);
  await assert.rejects(tree.users.owners.get(1), needs);
  await assert.rejects(tree.users.owners.create({ name: "x", group: 1 }), needs);
  const bulk = await tree.users.owners.delete([1, 2]);
  assert.deepEqual(bulk.failed.map((item) => needs(item.error)), [true, true]);
  assert.deepEqual(t.lines(), []);
  // An endpoint NetBox 4.3 has answers there.
  assert.equal(await tree.circuits.circuits.count(), 0);
  assert.deepEqual(t.lines(), ["GET circuits/circuits/?limit=1&brief=true"]);
});

Deno.test("an endpoint newer than 4.3 works on a server new enough", async () => {
  const t = fakeTransport((req) => fakeTable([{ id: 1, url: "" }], req), { version: "4.5.0" });
  assert.equal(await createEndpoints(t).users.owners.count(), 1);
  assert.equal(t.requests.length, 1);
});
