/**
 * Lost updates: `update(id, patch, { ifMatch })` writes only when the object is unchanged since it
 * was read — by NetBox's If-Match (4.6 and newer) or by comparing last_updated (before 4.6) — on
 * the real NetBox of the run, read back afterwards.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { NetBoxChangedError } from "../../lib/client/errors.ts";
import { etagOf } from "../../lib/client/etag.ts";
import {
  authHeader,
  createNamed,
  deleteIds,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  recordingFetch,
  serverVersion,
  uniqueName,
  versionAtLeast,
} from "./_netbox.ts";

const clientOf = (env: NetBoxTestEnv, fetch?: typeof globalThis.fetch) =>
  createClient({ url: env.url, token: env.token, log: () => {}, fetch });

netboxTest("etagOf() of a listed object is the ETag NetBox sends for it", async (env) => {
  const [id] = await createNamed(env, "dcim/sites", uniqueName("etag"), 1);
  const nb = clientOf(env);
  try {
    const listed = await nb.dcim.sites.find({ id });
    const got = await nb.dcim.sites.get(id);
    const res = await fetch(`${env.url}/api/dcim/sites/${id}/`, {
      headers: { Authorization: authHeader(env.token), Accept: "application/json" },
    });
    await res.body?.cancel();
    const header = res.headers.get("ETag");
    assert.ok(listed);
    if (versionAtLeast(await serverVersion(env), 4, 6)) {
      assert.match(header ?? "", /^W\/"\d{4}-\d\d-\d\dT[\d:.]+\+00:00"$/);
      assert.equal(etagOf(got), header);
    }
    assert.equal(etagOf(listed), etagOf(got));
  } finally {
    nb.close();
    await deleteIds(env, "dcim/sites", [id]);
  }
});

netboxTest(
  "update() with ifMatch writes an unchanged object and refuses a changed one",
  async (env) => {
    const [id] = await createNamed(env, "dcim/sites", uniqueName("ifmatch"), 1);
    const { fetch, requests } = recordingFetch();
    const nb = clientOf(env, fetch);
    try {
      const read = await nb.dcim.sites.get(id);
      const written = await nb.dcim.sites.update(id, { description: "first" }, { ifMatch: read });
      assert.equal(written.description, "first");

      // Someone else edits the site after our second read.
      const stale = await nb.dcim.sites.get(id);
      await new Promise((r) => setTimeout(r, 20));
      await fetchOk(env, "PATCH", `/api/dcim/sites/${id}/`, { description: "theirs" });
      requests.length = 0;
      const err = await nb.dcim.sites.update(id, { description: "mine" }, { ifMatch: stale })
        .then(() => undefined, (e) => e);
      assert.ok(err instanceof NetBoxChangedError, String(err));
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /changed by someone else since it was read/);
      const after = await fetchOk(env, "GET", `/api/dcim/sites/${id}/`);
      assert.equal(after.description, "theirs");
      const v46 = versionAtLeast(await serverVersion(env), 4, 6);
      const patches = requests.filter((r) => r.method === "PATCH");
      // 4.6+: NetBox refused the PATCH (412); before: the client did not send it at all.
      assert.equal(patches.length, v46 ? 1 : 0);
    } finally {
      nb.close();
      await deleteIds(env, "dcim/sites", [id]);
    }
  },
);
