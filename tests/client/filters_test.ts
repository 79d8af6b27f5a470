import assert from "node:assert/strict";
import { serializeFilters } from "../../lib/client/filters.ts";

Deno.test("serializeFilters() repeats keys for arrays", () => {
  assert.equal(
    serializeFilters({ status: ["active", "reserved"], id: [1, 2] }).toString(),
    "status=active&status=reserved&id=1&id=2",
  );
});

Deno.test("serializeFilters() writes null as the string null", () => {
  assert.equal(serializeFilters({ vrf_id: null }).toString(), "vrf_id=null");
  assert.equal(serializeFilters({ vrf_id: [null, 3] }).toString(), "vrf_id=null&vrf_id=3");
});

Deno.test("serializeFilters() writes booleans as true and false", () => {
  assert.equal(
    serializeFilters({ is_pool: true, assigned: false }).toString(),
    "is_pool=true&assigned=false",
  );
});

Deno.test("serializeFilters() writes midnight UTC dates as the date only", () => {
  assert.equal(
    serializeFilters({ created__gte: new Date("2024-05-01T00:00:00Z") }).toString(),
    "created__gte=2024-05-01",
  );
});

Deno.test("serializeFilters() writes other dates as full ISO strings", () => {
  assert.equal(
    serializeFilters({ last_updated__lt: new Date("2024-05-01T10:30:00Z") }).get(
      "last_updated__lt",
    ),
    "2024-05-01T10:30:00.000Z",
  );
});

Deno.test("serializeFilters() drops undefined values and empty arrays", () => {
  assert.equal(serializeFilters({ a: undefined, b: [], c: "x" }).toString(), "c=x");
  assert.equal(serializeFilters().toString(), "");
});

Deno.test("serializeFilters() keeps numbers, zero and empty strings", () => {
  assert.equal(
    serializeFilters({ vid: 0, mask_length: 24, q: "" }).toString(),
    "vid=0&mask_length=24&q=",
  );
});

Deno.test("serializeFilters() encodes special characters", () => {
  assert.equal(serializeFilters({ q: "a b&c=d/24" }).toString(), "q=a+b%26c%3Dd%2F24");
});

Deno.test("serializeFilters() rejects non-finite numbers and invalid dates", () => {
  assert.throws(() => serializeFilters({ vid: NaN }), TypeError);
  assert.throws(() => serializeFilters({ vid: Infinity }), /Cannot serialise filter "vid"/);
  assert.throws(() => serializeFilters({ created: new Date("nope") }), /invalid Date/);
});
