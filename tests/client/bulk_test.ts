import assert from "node:assert/strict";
import { bulkCreate, bulkDelete, bulkUpdate } from "../../lib/client/bulk.ts";
import { createClient } from "../../lib/client/client.ts";
import { NetBoxHttpError, NotSentError } from "../../lib/client/errors.ts";
import { type FakeRequest, fakeTransport, httpError } from "../_fake_transport.ts";

type Body = Record<string, unknown>;

/**
 * A fake bulk-create endpoint: an item without `name` is invalid. `perItem` answers like most
 * NetBox endpoints (an array aligned to the request); otherwise like devices (one dict).
 */
function creator(perItem: boolean) {
  let nextId = 1;
  return (req: FakeRequest) => {
    const body = req.body as Body[];
    const errors = body.map((b) => (b.name ? {} : { name: ["This field is required."] }));
    if (errors.some((e) => Object.keys(e).length)) {
      throw httpError(400, "POST", req.path, perItem ? errors : errors.find((e) => "name" in e));
    }
    return body.map((b) => ({ id: nextId++, ...b }));
  };
}

const inputs = (n: number, bad: number[]) =>
  Array.from({ length: n }, (_, i) => (bad.includes(i) ? { slug: `s${i}` } : { name: `n${i}` }));

Deno.test("bulkCreate() keeps input order and chunks by chunkSize", async () => {
  const t = fakeTransport(creator(true));
  const result = await bulkCreate(t, "dcim/sites/", inputs(450, []));
  assert.equal(t.requests.length, 3);
  assert.deepEqual(t.requests.map((r) => (r.body as Body[]).length), [200, 200, 50]);
  assert.deepEqual(
    result.succeeded.map((o) => (o as Body).name),
    inputs(450, []).map((i) => i.name),
  );
  assert.equal(result.failed.length, 0);
});

Deno.test("bulkCreate() marks bad items from the per-item errors and resends the good ones", async () => {
  const t = fakeTransport(creator(true));
  const result = await bulkCreate(t, "dcim/sites/", inputs(100, [3, 50, 99]), { chunkSize: 100 });
  assert.equal(result.succeeded.length, 97);
  assert.deepEqual(result.failed.map((f) => f.index), [3, 50, 99]);
  assert.deepEqual(result.failed[0].messages, { name: ["This field is required."] });
  assert.match(result.failed[0].error.message, /item 3 .*name: This field is required/);
  assert.equal(t.requests.length, 2, "one rejected request, one resend of the good items");
  assert.equal((t.requests[1].body as Body[]).length, 97);
  assert.ok(result.items.every((r, i) => r.index === i));
});

Deno.test("bulkCreate() bisects a chunk rejected with one error dict to isolate bad items", async () => {
  const t = fakeTransport(creator(false));
  const bad = [5, 6, 40];
  const result = await bulkCreate(t, "dcim/devices/", inputs(64, bad), { chunkSize: 64 });
  assert.deepEqual(result.failed.map((f) => f.index), bad);
  assert.equal(result.succeeded.length, 61);
  assert.deepEqual(result.failed[2].messages, { name: ["This field is required."] });
  assert.ok(t.requests.length < 30, `bisection took ${t.requests.length} requests`);
  // every good item was created exactly once
  const created = t.requests.flatMap((r) =>
    (r.body as Body[]).every((b) => b.name) ? r.body as Body[] : []
  );
  assert.equal(created.length, 61);
});

Deno.test("bulkCreate() bisects a 500 NetBox answered itself, never a proxy's 500", async () => {
  const clash = fakeTransport((req) => {
    const names = (req.body as Body[]).map((b) => b.name);
    if (new Set(names).size < names.length) {
      throw httpError(500, "POST", req.path, {
        error: "duplicate key value violates unique constraint",
        exception: "IntegrityError",
        netbox_version: "4.7.3",
        python_version: "3.12.1",
      });
    }
    return (req.body as Body[]).map((b, i) => ({ id: i + 1, ...b }));
  });
  const r1 = await bulkCreate(clash, "x/", [{ name: "a" }, { name: "b" }, { name: "a" }, {
    name: "c",
  }]);
  assert.equal(r1.succeeded.length, 4); // halves [a,b] and [a,c] succeed separately in this fake
  // NetBox 4.3 - 4.5 cannot validate "not-an-ip" and raise KeyError: 'data' (a 500 of NetBox's
  // own): the chunk is split until that item stands alone, the others land.
  const keyError = fakeTransport((req) => {
    if ((req.body as Body[]).some((b) => b.address === "not-an-ip")) {
      throw httpError(500, "POST", req.path, {
        error: "'data'",
        exception: "KeyError",
        netbox_version: "4.3.7",
        python_version: "3.12.1",
      });
    }
    return (req.body as Body[]).map((b, i) => ({ id: i + 1, ...b }));
  });
  const bodies = Array.from({ length: 8 }, (_, i) => ({ address: `10.0.0.${i + 1}/24` }));
  bodies[5].address = "not-an-ip";
  const r2 = await bulkCreate(keyError, "x/", bodies);
  assert.deepEqual(r2.failed.map((f) => f.index), [5]);
  assert.equal(r2.succeeded.length, 7);
  assert.equal((r2.failed[0].error as NetBoxHttpError).status, 500, r2.failed[0].error.message);
  // A 500 without NetBox's error body (a proxy, a crash before the view): not split, not resent.
  const proxy = fakeTransport((req) => {
    throw httpError(500, "POST", req.path, "<html>Internal Server Error</html>");
  });
  const r3 = await bulkCreate(proxy, "x/", [{ name: "a" }, { name: "b" }]);
  assert.equal(proxy.requests.length, 1);
  assert.equal(r3.failed.length, 2);
  assert.ok(r3.failed[0].error instanceof NetBoxHttpError);
});

Deno.test("bulkCreate() marks a chunk failed on a network error and goes on", async () => {
  let calls = 0;
  const t = fakeTransport((req) => {
    if (calls++ === 0) throw new Error("connection reset");
    return (req.body as Body[]).map((b, i) => ({ id: i, ...b }));
  }, { concurrency: 1 });
  const result = await bulkCreate(t, "x/", inputs(4, []), { chunkSize: 2 });
  assert.deepEqual(result.failed.map((f) => f.index), [0, 1]);
  assert.match(result.failed[0].error.message, /connection reset/);
  assert.equal(result.succeeded.length, 2);
});

Deno.test("bulkCreate() bounds concurrency and reports progress", async () => {
  const t = fakeTransport(creator(true), { concurrency: 3 });
  const progress: number[] = [];
  await bulkCreate(t, "x/", inputs(1000, []), {
    chunkSize: 50,
    onProgress: (done) => progress.push(done),
  });
  assert.equal(t.maxInFlight, 3);
  assert.equal(progress.at(-1), 1000);
});

Deno.test("bulkUpdate() reports ids NetBox silently skipped", async () => {
  const existing = new Set([1, 2, 3]);
  const t = fakeTransport((req) =>
    (req.body as { id: number }[]).filter((b) => existing.has(b.id)).reverse()
  );
  const result = await bulkUpdate(t, "ipam/vrfs/", [
    { id: 1, description: "a" },
    { id: 77, description: "b" },
    { id: 3, description: "c" },
  ]);
  assert.deepEqual(result.skippedIds, [77]);
  assert.deepEqual(result.succeeded.map((v) => (v as Body).id), [1, 3]);
  assert.equal(result.failed[0].index, 1);
  assert.match(result.failed[0].error.message, /skipped/);
});

Deno.test("bulkUpdate() bisects a rejected chunk to find the bad item", async () => {
  const t = fakeTransport((req) => {
    const body = req.body as Body[];
    if (body.some((b) => b.status === "bogus")) {
      throw httpError(400, "PATCH", req.path, { status: ['"bogus" is not a valid choice.'] });
    }
    return body;
  });
  const items = Array.from(
    { length: 10 },
    (_, i) => ({ id: i + 1, status: i === 7 ? "bogus" : "active" }),
  );
  const result = await bulkUpdate(t, "ipam/prefixes/", items);
  assert.deepEqual(result.failed.map((f) => f.index), [7]);
  assert.deepEqual(result.failed[0].messages, { status: ['"bogus" is not a valid choice.'] });
  assert.equal(result.succeeded.length, 9);
});

Deno.test("bulkUpdate() rejects items without an id before sending", () => {
  const t = fakeTransport(() => []);
  assert.throws(() => bulkUpdate(t, "x/", [{ description: "x" } as never]), TypeError);
  assert.equal(t.requests.length, 0);
});

Deno.test("bulkDelete() before NetBox 4.7 checks existence first and reports unknown ids", async () => {
  const existing = new Set([10, 11, 12]);
  const t = fakeTransport((req) => {
    if (req.method === "GET") {
      return {
        count: null,
        next: null,
        results: req.query.getAll("id").map(Number).filter((id) => existing.has(id)).map((id) => ({
          id,
        })),
      };
    }
    for (const { id } of req.body as { id: number }[]) existing.delete(id);
    return undefined;
  }, { version: "4.6.8" });
  const result = await bulkDelete(t, "dcim/sites/", [10, 999, 12]);
  assert.deepEqual(result.skippedIds, [999]);
  assert.deepEqual(result.succeeded, [{ id: 10 }, { id: 12 }]);
  assert.deepEqual(t.lines(), [
    "GET dcim/sites/?id=10&id=999&id=12&fields=id&limit=3",
    "DELETE dcim/sites/",
  ]);
  assert.deepEqual(t.requests[1].body, [{ id: 10 }, { id: 12 }]);
});

/** A fake delete endpoint: object 3 has dependents; `v47` answers bulk 409s like NetBox 4.7. */
function deleter(v47: boolean) {
  return (req: FakeRequest) => {
    if (req.method === "GET") {
      return { results: req.query.getAll("id").map((id) => ({ id: Number(id) })) };
    }
    if (req.path === "dcim/sites/3/") {
      throw httpError(409, "DELETE", req.path, {
        detail: "Unable to delete object. 2 dependent objects were found: dev1 (1), dev2 (2)",
      });
    }
    if (req.path !== "dcim/sites/") return undefined;
    if ((req.body as { id: number }[]).some((b) => b.id === 3)) {
      throw httpError(
        409,
        "DELETE",
        req.path,
        v47
          ? {
            detail: "1 of 2 objects could not be deleted.",
            errors: [{ id: 3, errors: { __all__: ["Unable to delete: 2 dependent object(s)"] } }],
          }
          : {
            detail: "Unable to delete object. 2 dependent objects were found: dev1 (1), dev2 (2)",
          },
      );
    }
    return undefined;
  };
}

Deno.test("bulkDelete() isolates objects with dependents and reports the blockers", async () => {
  for (const v47 of [false, true]) {
    const t = fakeTransport(deleter(v47), { version: v47 ? "4.7.3" : "4.6.8" });
    const result = await bulkDelete(t, "dcim/sites/", [1, 2, 3, 4, 5]);
    assert.deepEqual(result.failed.map((f) => f.index), [2]);
    assert.match(
      result.failed[0].error.message,
      /2 dependent objects were found: dev1 \(1\), dev2/,
    );
    assert.deepEqual(result.failed[0].messages, {
      detail: ["Unable to delete object. 2 dependent objects were found: dev1 (1), dev2 (2)"],
    });
    assert.deepEqual(result.succeeded, [{ id: 1 }, { id: 2 }, { id: 4 }, { id: 5 }]);
    if (v47) {
      assert.deepEqual(t.lines().map((l) => l.split("?")[0]), [
        "DELETE dcim/sites/",
        "DELETE dcim/sites/3/",
        "DELETE dcim/sites/",
      ]);
    }
  }
});

/** NetBox 4.7: unknown ids and invalid items make the whole call fail with a per-id list. */
function strict47(existing: Set<number>) {
  return (req: FakeRequest) => {
    const body = req.body as ({ id: number } & Body)[];
    const errors = body.flatMap((b): { id: number; errors: Record<string, string[]> }[] =>
      !existing.has(b.id)
        ? [{ id: b.id, errors: { id: [`Object with ID ${b.id} does not exist`] } }]
        : b.color === "zzz"
        ? [{ id: b.id, errors: { color: ["Enter a valid hexadecimal RGB color code."] } }]
        : []
    );
    if (errors.length) {
      throw httpError(400, req.method, req.path, {
        detail: `${errors.length} of ${body.length} objects could not be found.`,
        errors,
      });
    }
    return req.method === "DELETE" ? undefined : body;
  };
}

Deno.test("bulkUpdate() on NetBox 4.7 uses the per-id errors: skipped and invalid items", async () => {
  const t = fakeTransport(strict47(new Set([1, 2, 3])));
  const result = await bulkUpdate(t, "extras/tags/", [
    { id: 1, color: "zzz" },
    { id: 99, description: "ghost" },
    { id: 3, description: "ok" },
  ]);
  assert.deepEqual(result.skippedIds, [99]);
  assert.deepEqual(result.failed.map((f) => f.index), [0, 1]);
  assert.deepEqual(result.failed[0].messages, {
    color: ["Enter a valid hexadecimal RGB color code."],
  });
  assert.deepEqual(result.succeeded, [{ id: 3, description: "ok" }]);
  assert.equal(t.requests.length, 2, "one refused call, one resend of the good item");
});

Deno.test("bulkDelete() on NetBox 4.7 reports unknown ids from the per-id errors", async () => {
  const t = fakeTransport(strict47(new Set([10, 12])));
  const result = await bulkDelete(t, "dcim/sites/", [10, 999, 12]);
  assert.deepEqual(result.skippedIds, [999]);
  assert.deepEqual(result.succeeded, [{ id: 10 }, { id: 12 }]);
  assert.deepEqual(t.lines(), ["DELETE dcim/sites/", "DELETE dcim/sites/"]);
  assert.deepEqual(t.requests[1].body, [{ id: 10 }, { id: 12 }]);
});

Deno.test("bulkCreate() reads NetBox 4.7's indexed error list", async () => {
  let nextId = 1;
  const t = fakeTransport((req) => {
    const body = req.body as Body[];
    const errors = body.flatMap((b, index) =>
      b.name ? [] : [{ index, errors: { name: ["This field is required."] } }]
    );
    if (errors.length) {
      throw httpError(400, "POST", req.path, {
        detail: `${errors.length} of ${body.length} objects could not be created.`,
        errors,
      });
    }
    return body.map((b) => ({ id: nextId++, ...b }));
  });
  const result = await bulkCreate(t, "ipam/ip-addresses/", inputs(10, [0, 7]));
  assert.deepEqual(result.failed.map((f) => f.index), [0, 7]);
  assert.deepEqual(result.failed[1].messages, { name: ["This field is required."] });
  assert.equal(result.succeeded.length, 8);
  assert.equal(t.requests.length, 2);
});

/**
 * A fake NetBox on a fake clock: a write takes `msPerObject(objects created so far)` per object
 * (one request at a time, so each request's time is exact). The client's timeout is `timeoutMs`.
 */
function slowNetBox(timeoutMs: number, msPerObject: (created: number) => number) {
  let now = 0;
  let created = 0;
  const log: string[] = [];
  const t = fakeTransport((req) => {
    const body = req.body as Body[];
    const ms = body.length * msPerObject(created);
    took.push(ms);
    now += ms;
    return body.map((b) => ({ id: ++created, ...b }));
  }, { concurrency: 1 });
  const took: number[] = [];
  Object.assign(t, {
    clock: { now: () => now, sleep: () => Promise.resolve() },
    timeoutMs,
    logVerbose: (line: string) => log.push(line),
  });
  const sizes = () => t.requests.map((r) => (r.body as Body[]).length);
  return { t, log, took, sizes };
}

Deno.test("bulkCreate() shrinks chunks that take over a third of the timeout and grows them back when fast", async () => {
  // 0.4 s per object for the first 200 objects, then 10 ms; the timeout is 30 s.
  const nb = slowNetBox(30_000, (created) => (created < 200 ? 400 : 10));
  const changes: number[] = [];
  const result = await bulkCreate(nb.t, "ipam/ip-addresses/", inputs(1000, []), {
    onChunkSize: (c) => changes.push(c.size),
  });
  // 50 assumed to fit a third (0.2 s per object) took 20 s: 18 objects fit a quarter (7.2 s).
  assert.deepEqual(nb.sizes(), [50, ...Array(9).fill(18), 18, 36, 72, 144, 200, 200, 118]);
  assert.deepEqual(changes, [18, 36, 72, 144, 200]);
  assert.ok(nb.took.slice(1).every((ms) => ms <= 10_000), `took ${nb.took}`);
  assert.equal(
    nb.log[0],
    "bulk: POST ipam/ip-addresses/ 50 objects took 20 s (timeout 30 s): next chunks 18 objects",
  );
  assert.equal(
    nb.log[1],
    "bulk: POST ipam/ip-addresses/ 18 objects took 0.2 s (timeout 30 s): next chunks 36 objects",
  );
  assert.equal(result.failed.length, 0);
  assert.deepEqual(
    result.succeeded.map((o) => (o as Body).name),
    inputs(1000, []).map((i) => i.name),
  );
  assert.ok(result.items.every((r, i) => r.index === i));
});

Deno.test("bulkCreate() goes down to one object per request when one object takes a third of the timeout", async () => {
  // 2 s per object for the first 8 objects, with a 3 s timeout; then 0.1 s.
  const nb = slowNetBox(3_000, (created) => (created < 8 ? 2_000 : 100));
  const result = await bulkCreate(nb.t, "x/", inputs(40, []), { chunkSize: 40 });
  // 5 objects assumed (a third of 3 s at 0.2 s each) took 10 s: one at a time, until fast again.
  assert.deepEqual(nb.sizes(), [5, 1, 1, 1, 1, 2, 4, 7, 7, 7, 4]);
  assert.equal(result.succeeded.length, 40);
  assert.ok(result.items.every((r, i) => r.index === i && r.ok));
});

Deno.test("bulkCreate() never exceeds chunkSize however fast NetBox is", async () => {
  const nb = slowNetBox(30_000, () => 0);
  const result = await bulkCreate(nb.t, "x/", inputs(200, []), { chunkSize: 30 });
  assert.deepEqual(nb.sizes(), [30, 30, 30, 30, 30, 30, 20]);
  assert.deepEqual(nb.log, []);
  assert.equal(result.succeeded.length, 200);
  const fast = slowNetBox(30_000, () => 1);
  await bulkCreate(fast.t, "x/", inputs(500, []), {});
  assert.deepEqual(fast.sizes(), [50, 100, 200, 150]);
});

Deno.test("bulkCreate() without a known timeout keeps chunkSize", async () => {
  const t = fakeTransport(creator(true), { concurrency: 1 });
  Object.assign(t, { clock: { now: () => 0, sleep: () => Promise.resolve() } });
  await bulkCreate(t, "x/", inputs(450, []));
  assert.deepEqual(t.requests.map((r) => (r.body as Body[]).length), [200, 200, 50]);
});

Deno.test("bulkCreate() cuts chunks as slots free up, results in input order under concurrency", async () => {
  const create = creator(true);
  const events: string[] = [];
  const t = fakeTransport(async (req) => {
    events.push("start");
    // answers come back out of order
    await new Promise((r) => setTimeout(r, ((req.body as Body[]).length * 7) % 5));
    events.push("end");
    return create(req);
  }, { concurrency: 4 });
  let now = 0;
  Object.assign(t, {
    timeoutMs: 3_000,
    clock: { now: () => (now += 1), sleep: () => Promise.resolve() },
  });
  const progress: number[] = [];
  const result = await bulkCreate(t, "x/", inputs(600, [7, 123]), {
    chunkSize: 64,
    onProgress: (done) => progress.push(done),
  });
  const sizes = t.requests.map((r) => (r.body as Body[]).length);
  assert.ok(sizes.every((n) => n <= 64), `sizes ${sizes}`);
  assert.equal(sizes[0], 5);
  assert.deepEqual(events.slice(0, 3), ["start", "end", "start"], "the first chunk goes alone");
  assert.ok(sizes.includes(64), `grew back to 64: ${sizes}`);
  assert.equal(t.maxInFlight, 4);
  assert.deepEqual(result.failed.map((f) => f.index), [7, 123]);
  assert.ok(result.items.every((r, i) => r.index === i));
  assert.deepEqual(
    result.succeeded.map((o) => (o as Body).name),
    inputs(600, [7, 123]).flatMap((i) => (i.name ? [i.name] : [])),
  );
  // every good item was created exactly once
  assert.equal(new Set(result.succeeded.map((o) => (o as { id: number }).id)).size, 598);
  assert.equal(progress.at(-1), 600);
});

Deno.test("bulkCreate() on stop finishes the chunk in flight and sends no other", async () => {
  const stop = new AbortController();
  const t = fakeTransport((req) => {
    stop.abort();
    return (req.body as Body[]).map((b, i) => ({ id: i + 1, ...b }));
  }, { concurrency: 2 });
  const result = await bulkCreate(t, "x/", inputs(10, []), { chunkSize: 2, stop: stop.signal });
  assert.equal(t.requests.length, 2, "the two chunks in flight");
  assert.equal(result.succeeded.length, 4);
  assert.deepEqual(result.failed.map((f) => f.index), [4, 5, 6, 7, 8, 9]);
  assert.ok(result.failed.every((f) => f.error instanceof NotSentError));
  const aborted = new AbortController();
  aborted.abort(new Error("cancelled"));
  const none = await bulkCreate(t, "x/", inputs(3, []), { signal: aborted.signal });
  assert.equal(t.requests.length, 2);
  assert.ok(none.failed.every((f) => f.error.message === "cancelled"));
});

Deno.test("a client's bulk create logs chunk size changes in its verbose request log", async () => {
  let now = 0;
  let id = 0;
  const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith("/api/status/")) {
      return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
    }
    const body = JSON.parse(String(init?.body)) as Body[];
    now += body.length * 300; // 0.3 s per object
    return Promise.resolve(Response.json(body.map((b) => ({ id: ++id, ...b })), { status: 201 }));
  };
  const clock = { now: () => now, sleep: () => Promise.resolve() };
  for (const verbose of [true, false]) {
    const lines: string[] = [];
    const nb = createClient({
      url: "http://127.0.0.1:1",
      token: "nbt_abcdefghijkl.secret",
      fetch,
      clock,
      verbose,
      timeoutMs: 10_000,
      concurrency: 1,
      log: (line) => lines.push(line),
    });
    const result = await nb.ipam.ipAddresses.create(
      Array.from({ length: 30 }, (_, i) => ({ address: `10.0.0.${i + 1}/24` })),
      { chunkSize: 30 },
    );
    assert.equal(result.succeeded.length, 30);
    const bulk = lines.filter((l) => l.startsWith("bulk:"));
    assert.deepEqual(
      bulk,
      verbose
        ? [
          "bulk: POST ipam/ip-addresses/ 16 objects took 4.8 s (timeout 10 s): next chunks 8 objects",
        ]
        : [],
    );
    nb.close();
  }
});
