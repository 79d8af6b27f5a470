/**
 * The checked-in model types (`lib/client/models.ts`) are what `scripts/gen_models.ts` generates
 * from the live OpenAPI schema of the real NetBox: a schema change (or an endpoint added to the
 * table without regenerating) fails here, like the filter index test does for filter names.
 *
 * The checked-in file is generated from NetBox 4.7. Against another minor version the test
 * compares with `lib/client/models_<major>_<minor>.ts` when one exists (see the generator's
 * `--out`), and otherwise only checks that the generator runs.
 */

import assert from "node:assert/strict";
import { fetchSchema, renderModels } from "../../scripts/gen_models.ts";
import { netboxTest, testEnv } from "./_netbox.ts";

const CLIENT = new URL("../../lib/client/", import.meta.url);

async function readIfExists(url: URL): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(url);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

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

netboxTest("lib/client/models.ts is what the generator makes of the live schema", async () => {
  const env = testEnv();
  const live = await fetchSchema(env.url, env.token);
  console.error(`schema fetch took ${Math.round(live.schemaMs)} ms (NetBox ${live.version})`);
  const generated = await renderModels(live.schema, live.version);
  const [major, minor] = live.version.split(".");
  const main = await Deno.readTextFile(new URL("models.ts", CLIENT));
  const mainVersion = main.match(/export type ModelsVersion = "(\d+)\.(\d+)\./);
  const checkedIn = mainVersion?.[1] === major && mainVersion?.[2] === minor
    ? main
    : await readIfExists(new URL(`models_${major}_${minor}.ts`, CLIENT));
  if (checkedIn === undefined) {
    console.error(
      `!!! no checked-in models for NetBox ${major}.${minor} (models.ts is for ` +
        `${mainVersion?.[1]}.${
          mainVersion?.[2]
        }); generated ${generated.length} bytes, not compared`,
    );
    assert.match(generated, /export type IPAddress = \{/);
    return;
  }
  // The patch version in the header may differ; everything else must be equal.
  const normalise = (text: string) => text.replace(/\b(\d+)\.(\d+)\.\d+\b/g, "$1.$2.x");
  assert.ok(
    normalise(checkedIn) === normalise(generated),
    `the checked-in models differ from the live schema of NetBox ${live.version}; regenerate ` +
      `with scripts/gen_models.ts. First difference at ${
        firstDifference(normalise(checkedIn), normalise(generated))
      }`,
  );
});
