/**
 * Raw-fetch checks of the NetBox REST facts the toolkit relies on (../shared/NETBOX-API.md),
 * against the real server: independent of the library, so a wrong assumption shows up here
 * first. Where the server disagreed with the notes, these tests follow the server (see the
 * comments marked "differs").
 */
import assert from "node:assert/strict";
import { fetchJson, fetchOk, netboxTest, type NetBoxTestEnv, uniqueName } from "./_netbox.ts";

const NETBOX_VERSION = "4.7.3";

async function deleteQuietly(env: NetBoxTestEnv, path: string): Promise<void> {
  await fetchJson(env, "DELETE", path);
}

netboxTest(
  "status answers with the version and API-Version / X-Request-ID headers",
  async (env) => {
    const res = await fetchJson(env, "GET", "/api/status/");
    assert.equal(res.status, 200);
    assert.equal(res.body["netbox-version"], NETBOX_VERSION);
    assert.match(res.body["netbox-full-version"], /^4\.7\.3/);
    assert.equal(typeof res.body.installed_apps, "object");
    assert.equal(res.body["installed-apps"], undefined);
    assert.equal(res.headers.get("api-version"), "4.7");
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    // Every API response carries them, errors included.
    const missing = await fetchJson(env, "GET", "/api/dcim/sites/999999999/");
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("api-version"), "4.7");
    assert.ok(missing.headers.get("x-request-id"));
  },
);

netboxTest(
  "an Accept version other than the server's major.minor is refused with 406",
  async (env) => {
    const res = await fetch(`${env.url}/api/status/`, {
      headers: { Authorization: `Bearer ${env.token}`, Accept: "application/json; version=4.6" },
    });
    const body = await res.json();
    assert.equal(res.status, 406);
    assert.equal(body.detail, 'Invalid version in "Accept" header.');
    const same = await fetch(`${env.url}/api/status/`, {
      headers: { Authorization: `Bearer ${env.token}`, Accept: "application/json; version=4.7" },
    });
    await same.body?.cancel();
    assert.equal(same.status, 200);
  },
);

async function authCheck(env: NetBoxTestEnv, header: string | undefined) {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (header !== undefined) headers.Authorization = header;
  const res = await fetch(`${env.url}/api/authentication-check/`, { headers });
  return { status: res.status, body: await res.json() };
}

netboxTest("v2 tokens authenticate as Bearer and v1 tokens as Token", async (env) => {
  assert.ok(env.tokenV1, "NETBOX_TEST_TOKEN_V1 is not set");
  assert.match(env.token, /^nbt_[A-Za-z0-9]{12}\.[A-Za-z0-9]+$/);
  const v2 = await authCheck(env, `Bearer ${env.token}`);
  assert.equal(v2.status, 200);
  assert.equal(typeof v2.body.username, "string");
  const v1 = await authCheck(env, `Token ${env.tokenV1}`);
  assert.equal(v1.status, 200);
  assert.equal(v1.body.username, v2.body.username);
});

netboxTest("the server tells v1 from v2 by the nbt_ prefix, not by the keyword", async (env) => {
  assert.equal((await authCheck(env, `Token ${env.token}`)).status, 200);
  assert.equal((await authCheck(env, `Bearer ${env.tokenV1}`)).status, 200);
});

netboxTest("auth failures are 403 with NetBox's exact detail", async (env) => {
  const badV1 = await authCheck(env, `Token ${"0".repeat(40)}`);
  assert.deepEqual([badV1.status, badV1.body], [403, { detail: "Invalid v1 token" }]);
  const badV2 = await authCheck(env, `Bearer nbt_${"a".repeat(12)}.${"b".repeat(40)}`);
  assert.deepEqual([badV2.status, badV2.body], [403, { detail: "Invalid v2 token" }]);
  const none = await authCheck(env, undefined);
  assert.deepEqual([none.status, none.body], [403, {
    detail: "Authentication credentials were not provided.",
  }]);
});

netboxTest("a read-only token reads but a write is 403", async (env) => {
  assert.ok(env.tokenRo, "NETBOX_TEST_TOKEN_RO is not set");
  const read = await fetchJson(env, "GET", "/api/dcim/sites/?limit=1", undefined, env.tokenRo);
  assert.equal(read.status, 200);
  const name = uniqueName("nbtk-api-ro");
  const write = await fetchJson(env, "POST", "/api/dcim/sites/", { name, slug: name }, env.tokenRo);
  assert.equal(write.status, 403);
  assert.deepEqual(write.body, { detail: "You do not have permission to perform this action." });
  const after = await fetchOk(env, "GET", `/api/dcim/sites/?slug=${name}`);
  assert.equal(after.count, 0);
});

netboxTest("a site can be created, listed, read, updated and deleted", async (env) => {
  const name = uniqueName("nbtk-api-site");
  const created = await fetchJson(env, "POST", "/api/dcim/sites/", {
    name,
    slug: name,
    status: "planned",
  });
  assert.equal(created.status, 201);
  const id = created.body.id;
  try {
    assert.equal(created.body.name, name);
    // Choice fields are written raw and read back as {value, label}.
    assert.deepEqual(created.body.status, { value: "planned", label: "Planned" });

    const listed = await fetchOk(env, "GET", `/api/dcim/sites/?slug=${name}`);
    assert.deepEqual(
      [listed.count, listed.next, listed.previous, listed.results.map((s: { id: number }) => s.id)],
      [1, null, null, [id]],
    );

    const patched = await fetchJson(env, "PATCH", `/api/dcim/sites/${id}/`, {
      description: "updated by netbox_api_test",
    });
    assert.equal(patched.status, 200);
    const read = await fetchOk(env, "GET", `/api/dcim/sites/${id}/`);
    assert.equal(read.description, "updated by netbox_api_test");
    assert.equal(read.name, name);

    const deleted = await fetchJson(env, "DELETE", `/api/dcim/sites/${id}/`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, null);
    const gone = await fetchJson(env, "GET", `/api/dcim/sites/${id}/`);
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { detail: "No Site matches the given query." });
  } finally {
    await deleteQuietly(env, `/api/dcim/sites/${id}/`);
  }
});

netboxTest("bulk create answers in request order and bulk delete removes them all", async (env) => {
  const names = [1, 2, 3].map(() => uniqueName("nbtk-api-bulk"));
  const created = await fetchJson(
    env,
    "POST",
    "/api/dcim/sites/",
    names.map((name) => ({ name, slug: name })),
  );
  assert.equal(created.status, 201);
  const ids: number[] = created.body.map((s: { id: number }) => s.id);
  try {
    assert.deepEqual(created.body.map((s: { name: string }) => s.name), names);
    const deleted = await fetchJson(env, "DELETE", "/api/dcim/sites/", ids.map((id) => ({ id })));
    assert.equal(deleted.status, 204);
    const left = await fetchOk(
      env,
      "GET",
      `/api/dcim/sites/?${ids.map((i) => `id=${i}`).join("&")}`,
    );
    assert.equal(left.count, 0);
  } finally {
    if (ids.length) await fetchJson(env, "DELETE", "/api/dcim/sites/", ids.map((id) => ({ id })));
  }
});

// differs: NETBOX-API.md says a refused bulk create answers with an array aligned to the request.
// NetBox 4.7.3 answers {detail: "N of M objects could not be created.", errors: [{index, errors}]}.
netboxTest("bulk create with one bad item is refused as a whole, errors by index", async (env) => {
  const good = uniqueName("nbtk-api-bulkbad");
  const res = await fetchJson(env, "POST", "/api/dcim/sites/", [
    { name: good, slug: good },
    { name: uniqueName("nbtk-api-bulkbad"), slug: "not a slug!" },
  ]);
  assert.equal(res.status, 400);
  assert.equal(res.body.detail, "1 of 2 objects could not be created.");
  assert.equal(res.body.errors.length, 1);
  assert.equal(res.body.errors[0].index, 1);
  assert.deepEqual(Object.keys(res.body.errors[0].errors), ["slug"]);
  const left = await fetchOk(env, "GET", `/api/dcim/sites/?slug=${good}`);
  assert.equal(left.count, 0, "the good item must not have been created");
});

// differs: NETBOX-API.md says bulk update/delete silently skip unknown ids. NetBox 4.7.3 refuses
// the whole request with 400 and names the unknown ids; nothing is deleted or updated.
netboxTest(
  "bulk delete/update with an unknown id is refused as a whole (400 naming it)",
  async (env) => {
    const names = [1, 2].map(() => uniqueName("nbtk-api-bulkdel"));
    const created = await fetchOk(
      env,
      "POST",
      "/api/dcim/sites/",
      names.map((name) => ({ name, slug: name })),
    );
    const ids: number[] = created.map((s: { id: number }) => s.id);
    const unknown = 2_000_000_000;
    try {
      const del = await fetchJson(env, "DELETE", "/api/dcim/sites/", [
        ...ids.map((id) => ({ id })),
        { id: unknown },
      ]);
      assert.equal(del.status, 400);
      assert.deepEqual(del.body, {
        detail: "1 of 3 objects could not be found.",
        errors: [{ id: unknown, errors: { id: [`Object with ID ${unknown} does not exist`] } }],
      });
      const still = await fetchOk(
        env,
        "GET",
        `/api/dcim/sites/?${ids.map((i) => `id=${i}`).join("&")}`,
      );
      assert.equal(still.count, 2, "nothing may be deleted");

      const upd = await fetchJson(env, "PATCH", "/api/dcim/sites/", [
        { id: ids[0], description: "changed" },
        { id: unknown, description: "changed" },
      ]);
      assert.equal(upd.status, 400);
      assert.equal(upd.body.detail, "1 of 2 objects could not be found.");
      const first = await fetchOk(env, "GET", `/api/dcim/sites/${ids[0]}/`);
      assert.equal(first.description, "");

      const ok = await fetchJson(env, "PATCH", "/api/dcim/sites/", [
        { id: ids[0], description: "changed" },
      ]);
      assert.equal(ok.status, 200);
      assert.equal(ok.body[0].description, "changed");
    } finally {
      await fetchJson(env, "DELETE", "/api/dcim/sites/", ids.map((id) => ({ id })));
    }
  },
);

netboxTest("cursor pagination: start= gives null count and next with start=last+1", async (env) => {
  const prefix = uniqueName("nbtk-api-cur");
  const created = await fetchOk(
    env,
    "POST",
    "/api/extras/tags/",
    [1, 2, 3].map((i) => ({ name: `${prefix}-${i}`, slug: `${prefix}-${i}` })),
  );
  const ids: number[] = created.map((t: { id: number }) => t.id).sort((a: number, b: number) =>
    a - b
  );
  try {
    const q = `slug__isw=${prefix}&limit=2`;
    const page1 = await fetchOk(env, "GET", `/api/extras/tags/?${q}&start=${ids[0]}`);
    assert.equal(page1.count, null);
    assert.equal(page1.previous, null);
    assert.deepEqual(page1.results.map((t: { id: number }) => t.id), ids.slice(0, 2));
    const next = new URL(page1.next);
    assert.equal(next.searchParams.get("start"), String(ids[1] + 1));
    assert.equal(next.searchParams.get("limit"), "2");
    assert.equal(next.searchParams.get("slug__isw"), prefix);

    const page2 = await fetchOk(env, "GET", `/api/extras/tags/${next.search}`);
    assert.deepEqual(page2.results.map((t: { id: number }) => t.id), ids.slice(2));
    assert.equal(page2.next, null, "a short page has no next");

    const bad = await fetchJson(env, "GET", `/api/extras/tags/?start=${ids[0]}&offset=2`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, ["'start' and 'offset' are mutually exclusive."]);
  } finally {
    await fetchJson(env, "DELETE", "/api/extras/tags/", ids.map((id) => ({ id })));
  }
});

netboxTest(
  "offset pagination: count/next/previous, limit above MAX_PAGE_SIZE is clamped",
  async (env) => {
    const page = await fetchOk(env, "GET", "/api/extras/tags/?limit=1");
    assert.equal(typeof page.count, "number");
    assert.equal(page.previous, null);
    if (page.count > 1) assert.match(page.next, /[?&]offset=1(&|$)/);
    const big = await fetchOk(env, "GET", "/api/extras/tags/?limit=5000&brief=1");
    assert.ok(big.results.length <= 1000);
    if (big.count > 1000) assert.match(big.next, /[?&]limit=1000(&|$)/);
  },
);

netboxTest(
  "an unknown filter name is silently ignored (the whole table comes back)",
  async (env) => {
    const all = await fetchOk(env, "GET", "/api/extras/tags/?limit=1");
    const bogus = await fetchOk(env, "GET", "/api/extras/tags/?limit=1&no_such_filter=zzz");
    assert.equal(bogus.count, all.count);
    const real = await fetchOk(env, "GET", "/api/extras/tags/?limit=1&slug=zzz-no-such-tag-zzz");
    assert.equal(real.count, 0);
  },
);

netboxTest("a write to a path without the trailing slash is an HTML 404", async (env) => {
  const res = await fetchJson(env, "POST", "/api/dcim/sites", {});
  assert.equal(res.status, 404);
  assert.equal(typeof res.body, "string");
  assert.match(res.body, /<html/i);
});

netboxTest(
  "available-ips: GET is a plain array, POST of N creates N, exhaustion is 409",
  async (env) => {
    const vrfName = uniqueName("nbtk-api-avail");
    const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name: vrfName });
    let prefixId: number | undefined;
    try {
      // A /29 in a VRF of our own: 6 usable hosts (network and broadcast excluded).
      const prefix = await fetchOk(env, "POST", "/api/ipam/prefixes/", {
        prefix: "10.99.0.8/29",
        vrf: vrf.id,
      });
      prefixId = prefix.id;
      const path = `/api/ipam/prefixes/${prefix.id}/available-ips/`;

      const free = await fetchOk(env, "GET", `${path}?limit=3`);
      assert.ok(Array.isArray(free), "available-ips is a plain array");
      assert.deepEqual(free.map((a: { address: string }) => a.address), [
        "10.99.0.9/29",
        "10.99.0.10/29",
        "10.99.0.11/29",
      ]);
      assert.equal(free[0].family, 4);
      assert.equal(free[0].vrf.id, vrf.id);
      assert.equal((await fetchOk(env, "GET", path)).length, 6);

      const made = await fetchJson(env, "POST", path, [{ description: "a" }, { description: "b" }]);
      assert.equal(made.status, 201);
      assert.deepEqual(made.body.map((a: { address: string }) => a.address), [
        "10.99.0.9/29",
        "10.99.0.10/29",
      ]);
      assert.equal(made.body[0].vrf.id, vrf.id);
      assert.equal(made.body[1].description, "b");

      const one = await fetchJson(env, "POST", path, { description: "single" });
      assert.equal(one.status, 201);
      assert.equal(one.body.address, "10.99.0.11/29");

      const tooMany = await fetchJson(env, "POST", path, [1, 2, 3, 4].map(() => ({})));
      assert.equal(tooMany.status, 409);
      assert.deepEqual(tooMany.body, {
        detail: "Insufficient resources are available to satisfy the request",
      });
      const left = await fetchOk(env, "GET", path);
      assert.equal(left.length, 3, "a refused POST creates nothing");
    } finally {
      const ips = await fetchOk(env, "GET", `/api/ipam/ip-addresses/?vrf_id=${vrf.id}&limit=100`);
      const ipIds = ips.results.map((a: { id: number }) => ({ id: a.id }));
      if (ipIds.length) await fetchJson(env, "DELETE", "/api/ipam/ip-addresses/", ipIds);
      if (prefixId) await deleteQuietly(env, `/api/ipam/prefixes/${prefixId}/`);
      await deleteQuietly(env, `/api/ipam/vrfs/${vrf.id}/`);
    }
  },
);

netboxTest("deleting an object others depend on is 409 naming the dependants", async (env) => {
  const name = uniqueName("nbtk-api-dep");
  const vrf = await fetchOk(env, "POST", "/api/ipam/vrfs/", { name });
  const ip = await fetchOk(env, "POST", "/api/ipam/ip-addresses/", {
    address: "10.98.0.1/24",
    vrf: vrf.id,
  });
  try {
    const res = await fetchJson(env, "DELETE", `/api/ipam/vrfs/${vrf.id}/`);
    assert.equal(res.status, 409);
    assert.match(res.body.detail, /^Unable to delete object\. 1 dependent objects were found: /);
    assert.match(res.body.detail, /10\.98\.0\.1\/24/);
  } finally {
    await deleteQuietly(env, `/api/ipam/ip-addresses/${ip.id}/`);
    await deleteQuietly(env, `/api/ipam/vrfs/${vrf.id}/`);
  }
});

netboxTest("tags must be ids or dicts: a plain string is refused", async (env) => {
  const name = uniqueName("nbtk-api-tags");
  const res = await fetchJson(env, "POST", "/api/dcim/sites/", {
    name,
    slug: name,
    tags: ["production"],
  });
  try {
    assert.equal(res.status, 400);
    assert.ok(res.body.tags, JSON.stringify(res.body));
  } finally {
    if (res.status === 201) await deleteQuietly(env, `/api/dcim/sites/${res.body.id}/`);
  }
});
