/**
 * Raw-fetch checks of the NetBox REST facts the toolkit relies on (../shared/NETBOX-API.md),
 * against the real server: independent of the library, so a wrong assumption shows up here
 * first. Where the server disagreed with the notes, these tests follow the server (see the
 * comments marked "differs").
 *
 * The suite runs against NetBox 4.3.7, 4.5.10, 4.6.8 and 4.7.3. Where releases really differ
 * (v2 tokens from 4.5, cursor paging from 4.6, bulk errors from 4.7, ...) a test branches on the
 * version the server reports and asserts what that release does; nothing is skipped. Every
 * assertion is about objects the test created itself.
 */
import assert from "node:assert/strict";
import {
  authHeader,
  createNamed,
  deleteIds,
  fetchJson,
  fetchOk,
  netboxTest,
  type NetBoxTestEnv,
  serverVersion,
  uniqueName,
  versionAtLeast,
} from "./_netbox.ts";

async function deleteQuietly(env: NetBoxTestEnv, path: string): Promise<void> {
  await fetchJson(env, "DELETE", path);
}

netboxTest(
  "status answers with the version and API-Version / X-Request-ID headers",
  async (env) => {
    const res = await fetchJson(env, "GET", "/api/status/");
    assert.equal(res.status, 200);
    const v = await serverVersion(env);
    // provision.sh names the release it started; the server must be that one.
    const expected = Deno.env.get("NETBOX_TEST_VERSION");
    if (expected) assert.equal(res.body["netbox-version"], expected);
    assert.match(res.body["netbox-version"], /^4\.\d+\.\d+$/);
    assert.ok(
      res.body["netbox-full-version"].startsWith(res.body["netbox-version"]),
      res.body["netbox-full-version"],
    );
    if (versionAtLeast(v, 4, 4)) {
      assert.equal(typeof res.body.installed_apps, "object");
      assert.equal(res.body["installed-apps"], undefined);
    } else {
      // up to 4.3 the key had a dash
      assert.equal(typeof res.body["installed-apps"], "object");
      assert.equal(res.body.installed_apps, undefined);
    }
    const apiVersion = `${v.major}.${v.minor}`;
    assert.equal(res.headers.get("api-version"), apiVersion);
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    // Every API response carries them, errors included.
    const missing = await fetchJson(env, "GET", "/api/dcim/sites/999999999/");
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("api-version"), apiVersion);
    assert.ok(missing.headers.get("x-request-id"));
  },
);

netboxTest(
  "an Accept version other than the server's major.minor is refused with 406",
  async (env) => {
    const v = await serverVersion(env);
    const auth = authHeader(env.token);
    const res = await fetch(`${env.url}/api/status/`, {
      headers: {
        Authorization: auth,
        Accept: `application/json; version=${v.major}.${v.minor - 1}`,
      },
    });
    const body = await res.json();
    assert.equal(res.status, 406);
    assert.equal(body.detail, 'Invalid version in "Accept" header.');
    const same = await fetch(`${env.url}/api/status/`, {
      headers: { Authorization: auth, Accept: `application/json; version=${v.major}.${v.minor}` },
    });
    await same.body?.cancel();
    assert.equal(same.status, 200);
  },
);

/** v2 tokens, `Bearer` and `/api/authentication-check/` exist from NetBox 4.5 on. */
async function hasV2Tokens(env: NetBoxTestEnv): Promise<boolean> {
  return versionAtLeast(await serverVersion(env), 4, 5);
}

/**
 * Authenticates with `header`: on 4.5+ through `/api/authentication-check/` (which names the
 * user), before that through `/api/status/` (which needs a login, like every endpoint there).
 */
async function authCheck(env: NetBoxTestEnv, header: string | undefined) {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (header !== undefined) headers.Authorization = header;
  const path = (await hasV2Tokens(env)) ? "/api/authentication-check/" : "/api/status/";
  const res = await fetch(`${env.url}${path}`, { headers });
  return { status: res.status, body: await res.json() };
}

const NOT_PROVIDED = { detail: "Authentication credentials were not provided." };

netboxTest("v2 tokens authenticate as Bearer and v1 tokens as Token", async (env) => {
  assert.ok(env.tokenV1, "NETBOX_TEST_TOKEN_V1 is not set");
  const v1 = await authCheck(env, `Token ${env.tokenV1}`);
  assert.equal(v1.status, 200);
  if (await hasV2Tokens(env)) {
    assert.match(env.token, /^nbt_[A-Za-z0-9]{12}\.[A-Za-z0-9]+$/);
    const v2 = await authCheck(env, `Bearer ${env.token}`);
    assert.equal(v2.status, 200);
    assert.equal(typeof v2.body.username, "string");
    assert.equal(v1.body.username, v2.body.username);
  } else {
    // 4.3: v1 tokens only (40 hex characters), so the main test token is the v1 one.
    assert.equal(env.token, env.tokenV1);
    assert.match(env.token, /^[0-9a-f]{40}$/);
    assert.equal(typeof v1.body["netbox-version"], "string");
  }
});

netboxTest("the server tells v1 from v2 by the nbt_ prefix, not by the keyword", async (env) => {
  if (await hasV2Tokens(env)) {
    assert.equal((await authCheck(env, `Token ${env.token}`)).status, 200);
    assert.equal((await authCheck(env, `Bearer ${env.tokenV1}`)).status, 200);
  } else {
    // 4.3 knows only the `Token` keyword: `Bearer` is not a credential at all.
    assert.equal((await authCheck(env, `Token ${env.tokenV1}`)).status, 200);
    const bearer = await authCheck(env, `Bearer ${env.tokenV1}`);
    assert.deepEqual([bearer.status, bearer.body], [403, NOT_PROVIDED]);
  }
});

netboxTest("auth failures are 403 with NetBox's exact detail", async (env) => {
  const v2Tokens = await hasV2Tokens(env);
  const badV1 = await authCheck(env, `Token ${"0".repeat(40)}`);
  assert.deepEqual([badV1.status, badV1.body], [403, {
    detail: v2Tokens ? "Invalid v1 token" : "Invalid token",
  }]);
  const badV2 = await authCheck(env, `Bearer nbt_${"a".repeat(12)}.${"b".repeat(40)}`);
  assert.deepEqual(
    [badV2.status, badV2.body],
    [403, v2Tokens ? { detail: "Invalid v2 token" } : NOT_PROVIDED],
  );
  const none = await authCheck(env, undefined);
  assert.deepEqual([none.status, none.body], [403, NOT_PROVIDED]);
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

// Up to 4.6 a refused bulk create answers with an array aligned to the request ({} for good
// items); 4.7 answers {detail: "N of M objects could not be created.", errors: [{index, errors}]}.
netboxTest("bulk create with one bad item is refused as a whole, errors by index", async (env) => {
  const good = uniqueName("nbtk-api-bulkbad");
  const res = await fetchJson(env, "POST", "/api/dcim/sites/", [
    { name: good, slug: good },
    { name: uniqueName("nbtk-api-bulkbad"), slug: "not a slug!" },
  ]);
  assert.equal(res.status, 400);
  if (versionAtLeast(await serverVersion(env), 4, 7)) {
    assert.equal(res.body.detail, "1 of 2 objects could not be created.");
    assert.equal(res.body.errors.length, 1);
    assert.equal(res.body.errors[0].index, 1);
    assert.deepEqual(Object.keys(res.body.errors[0].errors), ["slug"]);
  } else {
    assert.ok(Array.isArray(res.body), JSON.stringify(res.body));
    assert.equal(res.body.length, 2);
    assert.deepEqual(res.body[0], {});
    assert.deepEqual(Object.keys(res.body[1]), ["slug"]);
  }
  const left = await fetchOk(env, "GET", `/api/dcim/sites/?slug=${good}`);
  assert.equal(left.count, 0, "the good item must not have been created");
});

/** NetBox up to 4.6: bulk PATCH/DELETE act on the ids that exist and skip the others. */
async function bulkSkipsUnknownIds(env: NetBoxTestEnv): Promise<void> {
  const names = [1, 2, 3].map(() => uniqueName("nbtk-api-bulkdel"));
  const created = await fetchOk(
    env,
    "POST",
    "/api/dcim/sites/",
    names.map((name) => ({ name, slug: name })),
  );
  const ids: number[] = created.map((s: { id: number }) => s.id);
  const unknown = 2_000_000_000;
  try {
    const upd = await fetchJson(env, "PATCH", "/api/dcim/sites/", [
      { id: ids[0], description: "changed" },
      { id: unknown, description: "changed" },
    ]);
    assert.equal(upd.status, 200);
    assert.deepEqual(upd.body.map((s: { id: number }) => s.id), [ids[0]]);
    assert.equal((await fetchOk(env, "GET", `/api/dcim/sites/${ids[0]}/`)).description, "changed");
    assert.equal((await fetchOk(env, "GET", `/api/dcim/sites/${ids[1]}/`)).description, "");

    const del = await fetchJson(env, "DELETE", "/api/dcim/sites/", [
      { id: ids[0] },
      { id: ids[1] },
      { id: unknown },
    ]);
    assert.equal(del.status, 204);
    const left = await fetchOk(
      env,
      "GET",
      `/api/dcim/sites/?${ids.map((i) => `id=${i}`).join("&")}`,
    );
    assert.deepEqual(left.results.map((s: { id: number }) => s.id), [ids[2]]);
  } finally {
    await fetchJson(env, "DELETE", "/api/dcim/sites/", ids.map((id) => ({ id })));
  }
}

// Up to 4.6 bulk update/delete silently skip unknown ids and act on the others; 4.7 refuses the
// whole request with 400 and names the unknown ids: nothing is deleted or updated.
netboxTest(
  "bulk delete/update with an unknown id: skipped up to 4.6, refused as a whole from 4.7",
  async (env) => {
    if (!versionAtLeast(await serverVersion(env), 4, 7)) return await bulkSkipsUnknownIds(env);
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

netboxTest(
  "cursor pagination (4.6+): start= gives null count and next with start=last+1",
  async (env) => {
    const cursor = versionAtLeast(await serverVersion(env), 4, 6);
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
      if (!cursor) {
        // Before 4.6 `start` is not a paging parameter: ignored, the answer is an offset page.
        const page = await fetchOk(env, "GET", `/api/extras/tags/?${q}&start=${ids[1]}`);
        assert.equal(page.count, 3);
        assert.deepEqual(page.results.map((t: { id: number }) => t.id), ids.slice(0, 2));
        assert.equal(new URL(page.next).searchParams.get("offset"), "2");
        assert.equal(new URL(page.next).searchParams.get("start"), String(ids[1]));
        const both = await fetchJson(env, "GET", `/api/extras/tags/?${q}&start=${ids[0]}&offset=2`);
        assert.equal(both.status, 200);
        assert.deepEqual(both.body.results.map((t: { id: number }) => t.id), ids.slice(2));
        return;
      }
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
  },
);

netboxTest(
  "offset pagination: count/next/previous links carry limit and offset",
  async (env) => {
    // A limit above MAX_PAGE_SIZE (clamped, limit=0) is list_test.ts's, over 1,050 RIRs.
    const prefix = uniqueName("nbtk-api-page");
    const ids = await createNamed(env, "ipam/rirs", prefix, 5);
    try {
      const q = `slug__isw=${prefix}-`;
      const page = await fetchOk(env, "GET", `/api/ipam/rirs/?${q}&limit=1`);
      assert.equal(page.count, 5);
      assert.equal(page.previous, null);
      assert.match(page.next, /[?&]offset=1(&|$)/);
      assert.equal(page.results.length, 1);
      const second = await fetchOk(env, "GET", `/api/ipam/rirs/?${q}&limit=2&offset=2`);
      assert.equal(second.results.length, 2);
      assert.match(second.previous, /[?&]limit=2(&|$)/);
      const next = new URL(second.next).searchParams;
      assert.equal(next.get("limit"), "2");
      assert.equal(next.get("offset"), "4");
      const rest = await fetchOk(env, "GET", `/api/ipam/rirs/?${next}`);
      assert.equal(rest.results.length, 1);
      assert.equal(rest.next, null);
      const seen = [...page.results, ...second.results, ...rest.results].map((t: { id: number }) =>
        t.id
      );
      assert.equal(new Set(seen).size, 4, "no row twice");
    } finally {
      await deleteIds(env, "ipam/rirs", ids);
    }
  },
);

netboxTest(
  "an unknown filter name is silently ignored (the whole set comes back)",
  async (env) => {
    const prefix = uniqueName("nbtk-api-unk");
    const ids = await createNamed(env, "extras/tags", prefix, 3);
    try {
      const q = `slug__isw=${prefix}-&limit=10`;
      const ours = await fetchOk(env, "GET", `/api/extras/tags/?${q}`);
      assert.equal(ours.count, 3);
      // An unknown name narrows nothing: the same three come back.
      const bogus = await fetchOk(env, "GET", `/api/extras/tags/?${q}&no_such_filter=zzz`);
      assert.deepEqual(
        bogus.results.map((t: { id: number }) => t.id),
        ours.results.map((t: { id: number }) => t.id),
      );
      // A known one does narrow.
      const one = await fetchOk(env, "GET", `/api/extras/tags/?${q}&slug=${prefix}-00002`);
      assert.deepEqual(one.results.map((t: { id: number }) => t.id), [ids[1]]);
      const none = await fetchOk(env, "GET", `/api/extras/tags/?${q}&slug=${prefix}-zzz`);
      assert.equal(none.count, 0);
    } finally {
      await deleteIds(env, "extras/tags", ids);
    }
  },
);

netboxTest(
  "a write to a path without the trailing slash: 301 before 4.5.9, an HTML 404 after",
  async (env) => {
    const v = await serverVersion(env);
    const res = await fetch(`${env.url}/api/dcim/sites`, {
      method: "POST",
      redirect: "manual",
      headers: {
        Authorization: authHeader(env.token),
        Accept: "application/json",
        "Content-Type": "application/json",
      },
      body: "{}",
    });
    const text = await res.text();
    if (versionAtLeast(v, 4, 5, 9)) {
      assert.equal(res.status, 404);
      assert.match(text, /<html/i);
    } else {
      // Django's APPEND_SLASH redirect (a client following it loses the body and the method).
      assert.equal(res.status, 301);
      assert.equal(new URL(res.headers.get("location")!, env.url).pathname, "/api/dcim/sites/");
    }
  },
);

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
