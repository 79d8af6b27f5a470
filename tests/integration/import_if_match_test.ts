/**
 * Lost updates in imports: an update is written only if the object is as it was planned against
 * (If-Match on NetBox 4.6+, last_updated before). When someone changes it meanwhile, the entry is
 * planned again against what NetBox holds and written once more; a second change leaves it
 * failed ("changed by someone else"; bulk-import exits 3). On the real NetBox.
 */

import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { applyImport, planImport } from "../../lib/import/import.ts";
import { fetchOk, netboxTest, type NetBoxTestEnv, uniqueName } from "./_netbox.ts";

/** A client whose write-side requests on the site first let someone else change it. */
function racing(env: NetBoxTestEnv, siteId: number, times: number) {
  let edits = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const onSites = url.pathname === "/api/dcim/sites/";
    const writeSide = (req.method === "PATCH" && onSites) ||
      (onSites && url.searchParams.get("fields") === "id,last_updated");
    if (writeSide && edits < times) {
      edits++;
      await new Promise((r) => setTimeout(r, 5));
      await fetchOk(env, "PATCH", `/api/dcim/sites/${siteId}/`, {
        comments: `edited by someone else ${edits}`,
      });
    }
    return await globalThis.fetch(req);
  };
  return createClient({ url: env.url, token: env.token, fetch, timeoutMs: 120_000, log: () => {} });
}

async function withSite(
  env: NetBoxTestEnv,
  fn: (site: { id: number; slug: string }) => Promise<void>,
) {
  const slug = uniqueName("ifm").toLowerCase();
  const site = await fetchOk(env, "POST", "/api/dcim/sites/", {
    name: slug,
    slug,
    description: "old",
  });
  try {
    await fn(site);
  } finally {
    await fetchOk(env, "DELETE", `/api/dcim/sites/${site.id}/`).catch(() => {});
  }
}

const doc = (slug: string) => ({
  text: `sites:\n  - {name: ${slug}, slug: ${slug}, description: mine}\n`,
  file: "sites.yaml",
});

netboxTest(
  "an import update planned against an object someone then changed is planned again and written",
  (env) =>
    withSite(env, async (site) => {
      const nb = racing(env, site.id, 1);
      try {
        const plan = await planImport(nb, [doc(site.slug)]);
        assert.equal(plan.items[0].action, "update");
        const report = await applyImport(nb, plan);
        assert.equal(report.summary.update, 1, JSON.stringify(report.items));
        assert.equal(report.summary.changed, undefined);
        assert.match(String(report.items[0].message), /someone changed it meanwhile/);
        const now = await fetchOk(env, "GET", `/api/dcim/sites/${site.id}/`);
        assert.equal(now.description, "mine");
        assert.equal(now.comments, "edited by someone else 1");
      } finally {
        nb.close();
      }
    }),
);

netboxTest(
  "an import update whose object changes again is not written and reported changed",
  (env) =>
    withSite(env, async (site) => {
      const nb = racing(env, site.id, 2);
      try {
        const plan = await planImport(nb, [doc(site.slug)]);
        const report = await applyImport(nb, plan);
        assert.equal(report.summary.changed, 1, JSON.stringify(report.items));
        assert.equal(report.summary.failed, 1);
        assert.match(
          String(report.items[0].message),
          /changed by someone else since it was read, twice/,
        );
        const now = await fetchOk(env, "GET", `/api/dcim/sites/${site.id}/`);
        assert.equal(now.description, "old");
        assert.equal(now.comments, "edited by someone else 2");
      } finally {
        nb.close();
      }
    }),
);
