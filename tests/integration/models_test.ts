/**
 * The client's typed tree matches the real NetBox. Against the NetBox the checked-in files were
 * generated from (4.7), `lib/client/models.ts` and `lib/client/_endpoint_table.ts` must be
 * exactly what `scripts/gen_models.ts` makes of the live schema: a schema change fails here, like
 * the filter index test does for filter names. Against an older NetBox (4.3 in the matrix) the
 * typed endpoints it lacks are exactly those the table marks as newer, and using one refuses with
 * "needs NetBox ≥ X" while an endpoint it has still answers. One schema fetch per version.
 */

import assert from "node:assert/strict";
import { fetchSchema, listPaths, renderGenerated } from "../../scripts/gen_models.ts";
import { ENDPOINT_SINCE, ENDPOINT_TABLE } from "../../lib/client/_endpoint_table.ts";
import { versionAtLeast } from "../../lib/client/query.ts";
import { netboxTest, recordedClient, testEnv } from "./_netbox.ts";

const CLIENT = new URL("../../lib/client/", import.meta.url);

/** The first differing line of two texts, for a readable failure. */
function firstDifference(a: string, b: string): string {
  const al = a.split("\n"), bl = b.split("\n");
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) {
      return `line ${i + 1}:\n  checked in: ${al[i] ?? "(end)"}\n  generated:  ${bl[i] ?? "(end)"}`;
    }
  }
  return "(no difference)";
}

netboxTest("the typed tree is what the live NetBox's schema says", async () => {
  const env = testEnv();
  const live = await fetchSchema(env.url, env.token);
  console.error(`schema fetch took ${Math.round(live.schemaMs)} ms (NetBox ${live.version})`);
  const [major, minor] = live.version.split(".").map(Number);
  const models = await Deno.readTextFile(new URL("models.ts", CLIENT));
  const generatedFrom = models.match(/export type ModelsVersion = "(\d+)\.(\d+)\./);
  assert.ok(generatedFrom, "models.ts names no ModelsVersion");

  if (Number(generatedFrom[1]) === major && Number(generatedFrom[2]) === minor) {
    // The patch version in the headers may differ; everything else must be equal.
    const normalise = (text: string) => text.replace(/\b(\d+)\.(\d+)\.\d+\b/g, "$1.$2.x");
    for (
      const [name, generated] of Object.entries(await renderGenerated(live.schema, live.version))
    ) {
      const checkedIn = normalise(await Deno.readTextFile(new URL(name, CLIENT)));
      assert.ok(
        checkedIn === normalise(generated),
        `lib/client/${name} differs from the live schema of NetBox ${live.version}; regenerate ` +
          `with scripts/gen_models.ts. First difference at ${
            firstDifference(checkedIn, normalise(generated))
          }`,
      );
    }
    return;
  }

  // An older NetBox: it has exactly the typed endpoints not marked as newer than it.
  const status = { version: live.version, major, minor, patch: 0, raw: {} };
  const has = new Set(listPaths(live.schema));
  const typed = Object.values(ENDPOINT_TABLE).flatMap((app) => Object.values(app) as string[]);
  const wrong = typed.filter((path) => {
    const since = ENDPOINT_SINCE[path]?.split(".").map(Number);
    return has.has(path) !== (!since || versionAtLeast(status, since[0], since[1]));
  });
  assert.deepEqual(wrong, [], `typed endpoints whose version mark is wrong for ${live.version}`);
  const missing = typed.filter((path) => !has.has(path));
  console.error(`NetBox ${live.version} lacks ${missing.length} typed endpoints: ${missing}`);

  const { client, requests } = recordedClient(env);
  try {
    if (!versionAtLeast(status, 4, 5)) {
      await assert.rejects(
        client.users.owners.count(),
        (err: Error) => {
          assert.equal(
            err.message,
            `Cannot use /api/users/owners/: it needs NetBox ≥ 4.5 (this server runs ${live.version})`,
          );
          return true;
        },
      );
      assert.deepEqual(requests.filter((r) => r.path.startsWith("/api/users/owners")), []);
    }
    assert.equal(typeof await client.circuits.circuitTypes.count(), "number");
    assert.ok(requests.some((r) => r.path === "/api/circuits/circuit-types/" && r.status === 200));
  } finally {
    client.close();
  }
});
