import assert from "node:assert/strict";
import { checkDnsForward } from "../../lib/audit/resolve.ts";
import { defaultAuditConfig } from "../../lib/audit/rules.ts";

Deno.test("checkDnsForward() asks A for IPv4, AAAA for IPv6, and compares values", async () => {
  const asked: string[] = [];
  const resolver = (name: string, type: "A" | "AAAA") => {
    asked.push(`${type} ${name}`);
    if (name === "v6.example") return Promise.resolve(["2001:DB8:0:0::1"]);
    if (name === "v4.example") return Promise.resolve(["10.0.0.1"]);
    return Promise.reject(new Error("NXDOMAIN"));
  };
  const findings = await checkDnsForward(
    [
      { id: 1, address: "10.0.0.1/24", dns_name: "v4.example" },
      { id: 2, address: "2001:db8::1/64", dns_name: "v6.example" },
      { id: 3, address: "10.0.0.3/24", dns_name: "gone.example", vrf: { id: 7 } },
      { id: 4, address: "10.0.0.4/24", dns_name: "" },
      { id: 5, address: "10.0.0.5/24", dns_name: "*.wild.example" },
      { id: 6, address: "10.0.0.6/24", dns_name: "x.example", tags: [{ slug: "audit-ignore" }] },
    ],
    defaultAuditConfig(),
    resolver,
    { vrfs: [{ id: 7, name: "blue" }] },
  );
  assert.deepEqual(asked.sort(), ["A gone.example", "A v4.example", "AAAA v6.example"]);
  assert.equal(findings.length, 1);
  assert.equal(findings[0].object_id, 3);
  assert.equal(findings[0].vrf, "blue");
  assert.match(findings[0].message, /gone\.example does not resolve \(A\): NXDOMAIN/);
});

Deno.test("checkDnsForward() keeps at most `concurrency` look-ups in flight", async () => {
  let inFlight = 0;
  let peak = 0;
  const resolver = async () => {
    peak = Math.max(peak, ++inFlight);
    await Promise.resolve();
    inFlight--;
    return ["10.9.9.9"];
  };
  const ips = Array.from({ length: 20 }, (_, i) => ({
    id: i,
    address: `10.0.0.${i}/24`,
    dns_name: `h${i}.example`,
  }));
  const findings = await checkDnsForward(ips, defaultAuditConfig(), resolver, { concurrency: 3 });
  assert.equal(findings.length, 20);
  assert.equal(peak, 3);
});
