import assert from "node:assert/strict";
import { TOOLKIT_VERSION } from "../../lib/client/version.ts";
import { DEFAULT_USER_AGENT } from "../../lib/client/transport.ts";

Deno.test("the toolkit has one version: deno.json's, sent in the User-Agent", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.equal(TOOLKIT_VERSION, config.version);
  assert.equal(DEFAULT_USER_AGENT, `netbox-toolkit/${config.version}`);
});
