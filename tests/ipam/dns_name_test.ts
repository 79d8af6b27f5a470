import assert from "node:assert/strict";
import { expandNameTemplate, isNameTemplate, validateDnsName } from "../../lib/ipam/dns_name.ts";

Deno.test("validateDnsName() accepts what NetBox accepts", () => {
  for (const ok of ["a", "web-01.example.com", "web_01.example.com.", "*.example.com", "", "A.B"]) {
    assert.equal(validateDnsName(ok), undefined, ok);
  }
});

Deno.test("validateDnsName() rejects what NetBox rejects, with a reason", () => {
  for (const bad of ["bad name", "web..example", ".example", "a.*.b", "ünï.example", "a/b"]) {
    assert.match(validateDnsName(bad) ?? "", /is not a valid DNS name/, bad);
  }
  assert.match(validateDnsName("a".repeat(256)) ?? "", /at most 255/);
  assert.equal(validateDnsName("a".repeat(255)), undefined);
});

Deno.test("validateDnsName() applies a house pattern given as text or RegExp", () => {
  const house = String.raw`^[a-z0-9-]+-\d{2}-[a-z0-9-]+\.[a-z0-9.-]+$`;
  assert.equal(validateDnsName("k8s-01-worker.spaceships.work", house), undefined);
  assert.match(validateDnsName("k8s-worker.spaceships.work", house) ?? "", /does not match/);
  assert.match(validateDnsName("Web.x", /^[a-z.]+$/) ?? "", /does not match the pattern/);
});

Deno.test("expandNameTemplate() pads {n:02} and leaves {n} plain", () => {
  assert.equal(
    expandNameTemplate("k8s-{n:02}-worker.spaceships.work", 1),
    "k8s-01-worker.spaceships.work",
  );
  assert.equal(expandNameTemplate("k8s-{n:2}-w", 7), "k8s-07-w");
  assert.equal(expandNameTemplate("h{n}-{n:03}", 12), "h12-012");
  assert.ok(isNameTemplate("x{n}"));
  assert.ok(!isNameTemplate("x{m}"));
});
