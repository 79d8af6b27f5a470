/**
 * The bundled filter index (`lib/client/filter_index.json`) agrees with the live OpenAPI schema of the
 * real NetBox, and the guard rejects typos against it without fetching the schema.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { decodeNames, type EncodedNames } from "../../lib/client/filter_names.ts";
import { FilterError } from "../../lib/client/errors.ts";
import type { NetBoxObject } from "../../lib/client/types.ts";
import index from "../../lib/client/filter_index.json" with { type: "json" };
import { readServer } from "../../scripts/gen_filter_index.ts";
import { dropVrf } from "./_cleanup.ts";
import { fetchOk, netboxTest, testEnv, uniqueName } from "./_netbox.ts";

netboxTest("the filter index agrees with the live schema of this NetBox version", async () => {
  const env = testEnv();
  const live = await readServer(env.url, env.token);
  console.error(`schema fetch took ${Math.round(live.schemaMs)} ms (NetBox ${live.version})`);
  const encoded = (index as Record<string, EncodedNames>)[live.minor];
  assert.ok(encoded, `lib/client/filter_index.json has no entry for NetBox ${live.minor}`);
  const indexed = decodeNames(encoded);
  assert.deepEqual(Object.keys(indexed).sort(), Object.keys(live.names).sort());
  for (const [path, names] of Object.entries(live.names)) {
    assert.deepEqual(indexed[path], names, path);
  }
});

netboxTest(
  "typo'd filters throw before any list request, without fetching the schema",
  async () => {
    const env = testEnv();
    const lines: string[] = [];
    const nb = createClient({
      url: env.url,
      token: env.token,
      verbose: true,
      log: (l) => lines.push(l),
    });
    try {
      await assert.rejects(
        // @ts-expect-error a typo is a compile error; the guard also catches it at run time
        nb.ipam.prefixes.all({ stie: "x" }),
        (err) => err instanceof FilterError && err.suggestions.includes("site"),
      );
      // @ts-expect-error `device_role` is gone from NetBox 4.x: a compile error and a run-time one
      await assert.rejects(nb.dcim.devices.count({ device_role: "x" }), FilterError);
      assert.ok(lines.every((l) => l.startsWith("GET /api/status/")), lines.join("\n"));
      assert.equal((await nb.ipam.prefixes.all({ vrf_id: null, mask_length__gte: 33 })).length, 0);
    } finally {
      nb.close();
    }
  },
);

// The users' guide (written for NetBox 4.3) filters with `prefix_length__gte` and
// `tenant__isnull`. NetBox ignores both and returns every prefix; the guard refuses them and its
// suggestion is the filter that does what the guide meant.
netboxTest("the guide's ignored filters are refused and the suggestion works", async () => {
  const env = testEnv();
  const nb = createClient({ url: env.url, token: env.token, log: () => {} });
  const vrf = await nb.ipam.vrfs.create({ name: uniqueName("nbtk-guide") });
  const tenantName = uniqueName("nbtk-guide");
  const tenant = await nb.tenancy.tenants.create({ name: tenantName, slug: tenantName });
  try {
    const made = await nb.ipam.prefixes.create([
      { prefix: "10.77.0.0/16", vrf: vrf.id },
      { prefix: "10.77.1.0/24", vrf: vrf.id, tenant: tenant.id },
      { prefix: "10.77.2.0/25", vrf: vrf.id },
    ]);
    assert.equal(made.failed.length, 0, made.failed[0]?.error.message);
    const prefixes = (rows: NetBoxObject[]) => rows.map((r) => String(r.prefix)).sort();

    // What NetBox does with the guide's filters: ignores them.
    for (const query of ["prefix_length__gte=24", "tenant__isnull=true"]) {
      const raw = await fetchOk(env, "GET", `/api/ipam/prefixes/?vrf_id=${vrf.id}&${query}`);
      assert.equal(raw.count, 3, `NetBox applied ${query}`);
    }

    const refusal = async (filters: Record<string, unknown>) => {
      try {
        await nb.ipam.prefixes.all({ vrf_id: vrf.id, ...filters } as never);
      } catch (err) {
        assert.ok(err instanceof FilterError, String(err));
        return err;
      }
      throw new Error(`${JSON.stringify(filters)} was not refused`);
    };
    const length = await refusal({ prefix_length__gte: 24 });
    assert.equal(length.suggestions[0], "mask_length__gte");
    assert.match(length.message, /the prefix length filter is mask_length__gte/);
    assert.deepEqual(
      prefixes(await nb.ipam.prefixes.all({ vrf_id: vrf.id, [length.suggestions[0]]: 24 })),
      ["10.77.1.0/24", "10.77.2.0/25"],
    );

    const isnull = await refusal({ tenant__isnull: true });
    assert.equal(isnull.suggestions[0], "tenant_id");
    assert.match(isnull.message, /no __isnull lookup.*tenant_id: null/);
    assert.deepEqual(
      prefixes(await nb.ipam.prefixes.all({ vrf_id: vrf.id, [isnull.suggestions[0]]: null })),
      ["10.77.0.0/16", "10.77.2.0/25"],
    );
  } finally {
    await dropVrf(nb, vrf.id);
    await nb.tenancy.tenants.delete(tenant.id);
    nb.close();
  }
});
