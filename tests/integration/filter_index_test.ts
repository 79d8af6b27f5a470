/**
 * The bundled filter index (`lib/filter_index.json`) agrees with the live OpenAPI schema of the
 * real NetBox, and the guard rejects typos against it without fetching the schema.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client.ts";
import { decodeNames, type EncodedNames } from "../../lib/_filter_names.ts";
import { FilterError } from "../../lib/errors.ts";
import index from "../../lib/filter_index.json" with { type: "json" };
import { readServer } from "../../scripts/gen_filter_index.ts";
import { netboxTest, testEnv } from "./_netbox.ts";

netboxTest("the filter index agrees with the live schema of this NetBox version", async () => {
  const env = testEnv();
  const live = await readServer(env.url, env.token);
  console.error(`schema fetch took ${Math.round(live.schemaMs)} ms (NetBox ${live.version})`);
  const encoded = (index as Record<string, EncodedNames>)[live.minor];
  assert.ok(encoded, `lib/filter_index.json has no entry for NetBox ${live.minor}`);
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
        nb.ipam.prefixes.all({ stie: "x" }),
        (err) => err instanceof FilterError && err.suggestions.includes("site"),
      );
      await assert.rejects(nb.dcim.devices.count({ device_role: "x" }), FilterError);
      assert.ok(lines.every((l) => l.startsWith("GET /api/status/")), lines.join("\n"));
      assert.equal((await nb.ipam.prefixes.all({ vrf_id: null, mask_length__gte: 33 })).length, 0);
    } finally {
      nb.close();
    }
  },
);
