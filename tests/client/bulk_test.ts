import assert from "node:assert/strict";
import { bulkCreate, bulkDelete, bulkUpdate } from "../../lib/client/bulk.ts";
import { NetBoxHttpError } from "../../lib/client/errors.ts";
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
