import assert from "node:assert/strict";
import { countObjects, pageOfText, paginate } from "../../lib/client/paginate.ts";
import { NetBoxError } from "../../lib/client/errors.ts";
import { fakeTable, fakeTransport } from "../_fake_transport.ts";

function rows(ids: number[]) {
  return ids.map((id) => ({ id, name: `obj-${id}` }));
}

/** Ids 1..n with gaps and an uneven distribution (dense start, sparse middle, dense end). */
function unevenIds(n: number): number[] {
  const ids: number[] = [];
  let id = 0;
  for (let i = 0; i < n; i++) {
    id += i % 7 === 0 ? 1 : i < n / 3 ? 1 : i < (2 * n) / 3 ? 37 : 2;
    ids.push(id);
  }
  return ids;
}

Deno.test("paginate() uses offset mode on NetBox before 4.6", async () => {
  const data = rows([1, 2, 3, 4, 5]);
  const t = fakeTransport((req) => fakeTable(data, req, { cursor: false }), {
    version: "4.5.4",
    pageSize: 2,
  });
  const items = await paginate(t, "dcim/sites/", { status: "active" }, { parallel: false }).all();
  assert.deepEqual(items.map((i) => (i as { id: number }).id), [1, 2, 3, 4, 5]);
  assert.deepEqual(t.lines(), [
    "GET dcim/sites/?status=active&limit=2",
    "GET dcim/sites/?status=active&limit=2&offset=2",
    "GET dcim/sites/?status=active&limit=2&offset=4",
  ]);
});

Deno.test("paginate() uses cursor mode on NetBox 4.6 and later", async () => {
  const data = rows([3, 5, 8, 13]);
  const t = fakeTransport((req) => fakeTable(data, req), { version: "4.6.0", pageSize: 2 });
  const items = await paginate(t, "dcim/sites/", {}, { parallel: false }).all();
  assert.deepEqual(items.map((i) => (i as { id: number }).id), [3, 5, 8, 13]);
  assert.deepEqual(t.lines(), [
    "GET dcim/sites/?start=0&limit=2",
    "GET dcim/sites/?start=6&limit=2",
    "GET dcim/sites/?start=14&limit=2",
  ]);
});

Deno.test("paginate() uses offset mode when ordering is given", async () => {
  const data = rows([1, 2, 3]);
  const t = fakeTransport((req) => fakeTable(data, req), { pageSize: 2 });
  await paginate(t, "dcim/sites/", {}, { ordering: "name", parallel: false }).all();
  assert.deepEqual(t.lines(), [
    "GET dcim/sites/?ordering=name&limit=2",
    "GET dcim/sites/?ordering=name&limit=2&offset=2",
  ]);
});

Deno.test("paginate() follows only the query string of a next link naming another host", async () => {
  const data = rows([1, 2, 3]);
  const t = fakeTransport(
    (req) => fakeTable(data, req, { host: "http://10.9.9.9:8000/proxy", cursor: false }),
    { version: "4.4.0", pageSize: 2 },
  );
  const items = await paginate(t, "ipam/vrfs/", {}, { parallel: false }).all();
  assert.equal(items.length, 3);
  assert.equal(t.requests[1].path, "ipam/vrfs/");
  assert.equal(t.requests[1].query.toString(), "limit=2&offset=2");
  assert.ok(t.lines().every((l) => !l.includes("10.9.9.9")));
});

Deno.test("paginate() sends one request for a result that fits in one page", async () => {
  const t = fakeTransport((req) => fakeTable(rows([1, 2, 3]), req));
  assert.equal((await paginate(t, "dcim/sites/").all()).length, 3);
  assert.equal(t.requests.length, 1);
  const old = fakeTransport((req) => fakeTable(rows([1, 2, 3]), req, { cursor: false }), {
    version: "4.3.7",
  });
  assert.equal((await paginate(old, "dcim/sites/").all()).length, 3);
  assert.equal(old.requests.length, 1);
});

Deno.test("paginate() in parallel cursor mode returns exactly the sequential result", async () => {
  const data = rows(unevenIds(2500));
  const seq = fakeTransport((req) => fakeTable(data, req), { pageSize: 100 });
  const par = fakeTransport((req) => fakeTable(data, req), { pageSize: 100, concurrency: 4 });
  const a = await paginate(seq, "ipam/ip-addresses/", {}, { parallel: false }).all();
  const b = await paginate(par, "ipam/ip-addresses/").all();
  assert.equal(a.length, 2500);
  assert.deepEqual(b, a);
  assert.ok(par.maxInFlight > 1, "requests ran in parallel");
  assert.ok(par.maxInFlight <= 4, "at most concurrency requests in flight");
  const split = par.requests.filter((r) => r.query.has("id__lt"));
  assert.ok(split.length > 5, "listing was split into id ranges");
  assert.ok(par.requests.some((r) => r.query.get("ordering") === "-id"), "max id probed");
});

Deno.test("paginate() holds no item it has handed out (a long listing stays in bounded memory)", async () => {
  for (const version of ["4.7.3", "4.5.4"]) { // cursor mode (id ranges), offset mode
    const data = rows(unevenIds(1200));
    const answers: { results: unknown[] }[] = [];
    const t = fakeTransport(async (req) => {
      const answer = await fakeTable(data, req, { cursor: version === "4.7.3" }) as {
        results: unknown[];
      };
      answers.push(answer);
      return answer;
    }, { pageSize: 100, concurrency: 3, version });
    // A transport that hands over parsed answers (one that ignores `parse`): the pages are its.
    const parsed = {
      ...t,
      request: (m, p, o) => t.request(m, p, { ...o, parse: undefined }),
    } as typeof t;
    let count = 0;
    for await (const item of paginate(parsed, "ipam/ip-addresses/")) {
      count++;
      const held = answers.some((a) => a.results.includes(item));
      assert.ok(!held, `${version}: item ${(item as { id: number }).id} still held by its page`);
    }
    assert.equal(count, 1200);
    assert.ok(t.maxInFlight > 1, "requests ran in parallel");
  }
});

Deno.test("paginate() parses a page only when the consumer reaches it (pages ahead wait as text)", async () => {
  const data = rows(unevenIds(1200));
  let ranges = 0;
  let brokenFrom: number | undefined;
  const t = fakeTransport((req) => fakeTable(data, req), { pageSize: 100, concurrency: 3 });
  // The third id range's first answer is cut in the middle of its items (its head is intact).
  const transport = {
    ...t,
    request: (method, path, options) => {
      const query = options?.query as URLSearchParams;
      const broken = query.has("id__lt") && ++ranges === 3;
      if (broken) brokenFrom = Number(query.get("start"));
      const parse = options?.parse;
      return t.request(method, path, {
        ...options,
        parse: parse && ((text) => parse(broken ? text.replace('{"id":', '{"id":,') : text)),
      });
    },
  } as typeof t;
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const item of paginate<{ id: number }>(transport, "ipam/ip-addresses/")) {
      // The first item waits until the window has fetched ahead, the broken page included.
      if (seen.length === 0) await new Promise((r) => setTimeout(r, 30));
      seen.push(item.id);
    }
  }, /Cannot list ipam\/ip-addresses\/: .*not JSON/);
  assert.ok(brokenFrom !== undefined && t.requests.length > 6, "the broken page was fetched");
  // Every item before the broken page was handed out; none after it.
  assert.deepEqual(seen, data.map((r) => r.id).filter((id) => id < brokenFrom!));
});

Deno.test("paginate() ends an id range at its first item beyond it when the server ignores id__lt", async () => {
  const data = rows(unevenIds(2500));
  const t = fakeTransport((req) => {
    const query = new URLSearchParams(req.query);
    query.delete("id__lt"); // a server (or plugin) without the id filter
    return fakeTable(data, { ...req, query });
  }, { pageSize: 100, concurrency: 4 });
  const got = await paginate<{ id: number }>(t, "ipam/ip-addresses/").all();
  assert.deepEqual(got.map((r) => r.id), data.map((r) => r.id));
  // Each range reads at most two pages past its end (its producer's pages ahead).
  const ranges = t.requests.filter((r) => r.query.has("id__lt")).length;
  assert.ok(t.requests.length <= 2 + 3 * ranges + 25, `${t.requests.length} requests`);
});

Deno.test("paginate() in parallel offset mode returns exactly the sequential result", async () => {
  const data = rows(unevenIds(1234));
  const opts = { version: "4.5.1", pageSize: 50 };
  const seq = fakeTransport((req) => fakeTable(data, req, { cursor: false }), opts);
  const par = fakeTransport((req) => fakeTable(data, req, { cursor: false }), opts);
  const a = await paginate(seq, "ipam/ip-addresses/", {}, { parallel: false }).all();
  const b = await paginate(par, "ipam/ip-addresses/").all();
  assert.equal(a.length, 1234);
  assert.deepEqual(b, a);
  assert.ok(par.maxInFlight > 1 && par.maxInFlight <= 4);
  assert.equal(par.requests.length, Math.ceil(1234 / 50));
});

Deno.test("paginate() detects a clamped page size and keeps the result complete", async () => {
  const data = rows(unevenIds(700));
  const cursor = fakeTransport((req) => fakeTable(data, req, { maxPageSize: 60 }), {
    pageSize: 1000,
  });
  const offset = fakeTransport((req) => fakeTable(data, req, { maxPageSize: 60, cursor: false }), {
    version: "4.4.2",
    pageSize: 1000,
  });
  const want = data.map((r) => r.id);
  assert.deepEqual((await paginate(cursor, "x/").all()).map((i) => (i as { id: number }).id), want);
  assert.deepEqual((await paginate(offset, "x/").all()).map((i) => (i as { id: number }).id), want);
  assert.ok(offset.requests.slice(1).every((r) => r.query.get("limit") === "60"));
  assert.equal(offset.requests.length, Math.ceil(700 / 60));
});

Deno.test("paginate() keeps only a window of pages ahead of a slow consumer", async () => {
  const data = rows(Array.from({ length: 5000 }, (_, i) => i + 1));
  const t = fakeTransport((req) => fakeTable(data, req), { pageSize: 100, concurrency: 2 });
  let seen = 0;
  let sent = 0;
  for await (const _ of paginate(t, "x/")) {
    if (++seen < 150) continue; // in the second page
    await new Promise((r) => setTimeout(r, 0)); // let the producers run as far as they may
    sent = t.requests.length;
    break;
  }
  // first page + probe + at most (2 x concurrency + 1) segments x 2 pages, of 50 pages in all
  assert.ok(sent >= 4 && sent <= 2 + 5 * 2, `sent ${sent} requests`);
});

Deno.test("paginate() listings are re-iterable", async () => {
  const t = fakeTransport((req) => fakeTable(rows([1, 2]), req));
  const listing = paginate(t, "x/");
  assert.equal((await listing.all()).length, 2);
  assert.equal((await listing.all()).length, 2);
  assert.equal(t.requests.length, 2);
});

Deno.test("paginate() stops all requests when the consumer breaks early", async () => {
  const data = rows(Array.from({ length: 3000 }, (_, i) => i + 1));
  const t = fakeTransport((req) => fakeTable(data, req), { pageSize: 100 });
  for await (const _ of paginate(t, "x/")) break;
  const sent = t.requests.length;
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(t.requests.length, sent);
  assert.ok(sent < 30);
});

Deno.test("paginate() falls back to following next links when filters use id", async () => {
  const data = rows(unevenIds(500));
  const t = fakeTransport((req) => fakeTable(data, req), { pageSize: 50 });
  const items = await paginate(t, "x/", { id__gte: 10 }).all();
  assert.deepEqual(items, data.filter((r) => r.id >= 10));
  assert.ok(t.requests.every((r) => !r.query.has("id__lt") && !r.query.has("ordering")));
});

Deno.test("paginate() sends field trimming options", async () => {
  const t = fakeTransport(() => ({ count: null, next: null, results: [] }));
  await paginate(t, "dcim/devices/", {}, {
    brief: true,
    fields: ["id", "name"],
    omit: ["comments"],
    excludeConfigContext: true,
  }).all();
  assert.equal(
    t.requests[0].query.toString(),
    "brief=true&fields=id%2Cname&omit=comments&exclude=config_context&start=0&limit=1000",
  );
});

Deno.test("paginate() emulates omit on NetBox before 4.5.2", async () => {
  const t = fakeTransport(
    () => ({ count: 1, next: null, results: [{ id: 1, name: "a", comments: "long" }] }),
    { version: "4.5.1" },
  );
  const items = await paginate(t, "dcim/devices/", {}, { omit: ["comments"] }).all();
  assert.deepEqual(items, [{ id: 1, name: "a" }]);
  assert.ok(!t.requests[0].query.has("omit"));
});

Deno.test("paginate() rejects paging keys passed as filters", () => {
  const t = fakeTransport(() => ({ results: [] }));
  assert.throws(() => paginate(t, "x/", { limit: 5 }), /"limit" is set by the paginator/);
  assert.equal(t.requests.length, 0);
});

Deno.test("paginate() propagates a failed page and stops", async () => {
  const data = rows(Array.from({ length: 1000 }, (_, i) => i + 1));
  const t = fakeTransport((req) => {
    if (req.query.get("start") && Number(req.query.get("start")) > 500) throw new Error("boom");
    return fakeTable(data, req);
  }, { pageSize: 100 });
  await assert.rejects(paginate(t, "x/").all(), /boom/);
});

Deno.test("countObjects() asks the server with limit=1 and brief", async () => {
  const t = fakeTransport((req) => fakeTable(rows([1, 2, 3]), req));
  assert.equal(await countObjects(t, "dcim/sites/", { status: "active" }), 3);
  assert.deepEqual(t.lines(), ["GET dcim/sites/?status=active&limit=1&brief=true"]);
});

Deno.test("pageOfText() reads a list answer's head and parses its items once, when asked", () => {
  const next = "http://nb.example/api/ipam/prefixes/?limit=2&offset=2&q=a%20b";
  const pretty = JSON.stringify({ count: 7, next, previous: null, results: [{ id: 1 }] }, null, 2);
  const page = pageOfText<{ id: number }>("ipam/prefixes/", pretty);
  assert.deepEqual([page.count, page.next, page.empty, page.bytes], [
    7,
    next,
    false,
    pretty.length,
  ]);
  assert.deepEqual(page.items(), [{ id: 1 }]);
  assert.throws(() => page.items(), /already taken/);
  const empty = pageOfText(
    "ipam/prefixes/",
    '{"count":0,"next":null,"previous":null,"results":[ ]}',
  );
  assert.deepEqual([empty.count, empty.next, empty.empty, empty.items()], [0, null, true, []]);
  // Another order of keys (or an answer with more of them) is parsed at once, and still works.
  const other = pageOfText("x/", '{"results":[{"id":2}],"next":null,"count":1,"extra":true}');
  assert.deepEqual([other.count, other.empty, other.items()], [1, false, [{ id: 2 }]]);
  // An answer that is not a list page is refused at once; one cut in its items when read.
  assert.throws(() => pageOfText("x/", '{"detail":"nope"}'), NetBoxError);
  assert.throws(() => pageOfText("x/", "<html>proxy error</html>"), SyntaxError);
  const cut = pageOfText("x/", '{"count":null,"next":null,"previous":null,"results":[{"id":1,]}');
  assert.throws(
    () => cut.items(),
    /Cannot list x\/: the server answered with a body that is not JSON/,
  );
});
