import assert from "node:assert/strict";
import { analyzeAudit } from "../../lib/audit/analyze.ts";
import type { AuditData, AuditHost, AuditIp } from "../../lib/audit/model.ts";
import { defaultAuditConfig } from "../../lib/audit/rules.ts";

const d1 = { id: 1, name: "d1", url: "http://nb/api/dcim/devices/1/" };

function onD1(ifaceId = 11) {
  return {
    assigned_object_type: "dcim.interface",
    assigned_object_id: ifaceId,
    assigned_object: { id: ifaceId, name: `eth${ifaceId}`, device: d1 },
  };
}

/** A clean inventory: no rule fires. */
function clean(): AuditData {
  const ips: AuditIp[] = [
    {
      id: 1,
      url: "http://nb/api/ipam/ip-addresses/1/",
      address: "10.0.0.10/24",
      status: { value: "active" },
      dns_name: "d1.example.net",
      ...onD1(),
    },
    { id: 2, address: "2001:db8::10/64", status: "active", dns_name: "d1.example.net", ...onD1() },
    { id: 3, address: "10.1.0.5/24", vrf: { id: 1, name: "blue" }, status: "reserved" },
  ];
  const devices: AuditHost[] = [{
    ...d1,
    status: { value: "active" },
    primary_ip4: { id: 1 },
    primary_ip6: { id: 2 },
  }];
  return {
    ips,
    prefixes: [
      { id: 1, prefix: "10.0.0.0/24", status: "active" },
      { id: 2, prefix: "2001:db8::/64", status: "active" },
      { id: 3, prefix: "10.1.0.0/24", vrf: { id: 1, name: "blue" }, status: "active" },
    ],
    ranges: [],
    vrfs: [{ id: 1, name: "blue" }, { id: 2, name: "red" }],
    interfaces: [],
    vmInterfaces: [],
    devices,
    vms: [],
  };
}

function rulesOf(data: AuditData, config = defaultAuditConfig(), now?: Date) {
  return analyzeAudit(data, config, { now }).findings.map((f) => `${f.rule}@${f.object_id}`);
}

Deno.test("analyzeAudit() finds nothing in a clean inventory", () => {
  assert.deepEqual(rulesOf(clean()), []);
});

Deno.test("analyzeAudit() reports a duplicate address once, on the newest copy", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.1.0.5/24", vrf: { id: 1 }, status: "reserved" });
  const result = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(result.findings.map((f) => [f.rule, f.object_id]), [["duplicate-address", 9]]);
  assert.equal(result.findings[0].related[0].object_id, 3);
  assert.match(result.findings[0].message, /recorded 2 times in VRF blue/);
});

Deno.test("analyzeAudit() does not treat the same host in another VRF as a duplicate", () => {
  const data = clean();
  data.prefixes.push({ id: 8, prefix: "10.1.0.0/24", vrf: { id: 2 } });
  data.ips.push({ id: 9, address: "10.1.0.5/24", vrf: { id: 2 }, status: "reserved" });
  assert.deepEqual(rulesOf(data), []);
});

Deno.test("analyzeAudit() exempts duplicates whose copies all have shared roles", () => {
  const data = clean();
  data.ips.push(
    { id: 8, address: "10.0.0.50/24", status: "reserved", role: "vip" },
    { id: 9, address: "10.0.0.50/24", status: "reserved", role: { value: "anycast" } },
  );
  assert.deepEqual(rulesOf(data), []);
  data.ips[data.ips.length - 1].role = null;
  assert.deepEqual(rulesOf(data), ["duplicate-address@9"]);
});

Deno.test("analyzeAudit() reports one host with different masks", () => {
  const data = clean();
  data.prefixes[2].is_pool = true;
  data.ips.push({ id: 9, address: "10.1.0.5/32", vrf: { id: 1 }, status: "reserved" });
  assert.deepEqual(rulesOf(data), ["duplicate-address-mask@9"]);
});

Deno.test("analyzeAudit() reports an address without an enclosing prefix", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.9.0.5/24", vrf: { id: 1 }, status: "reserved" });
  assert.deepEqual(rulesOf(data), ["orphan-address@9"]);
});

Deno.test("analyzeAudit() lets a global container enclose a VRF address", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.9.0.5/24", vrf: { id: 1 }, status: "reserved" });
  data.prefixes.push({ id: 7, prefix: "10.8.0.0/15", status: "container" });
  assert.deepEqual(rulesOf(data).filter((r) => r.startsWith("orphan")), []);
  data.prefixes[data.prefixes.length - 1].status = "active";
  assert.deepEqual(rulesOf(data), ["orphan-address@9"]);
});

Deno.test("analyzeAudit() reports a mask that differs from the closest prefix", () => {
  const data = clean();
  data.prefixes.push({ id: 7, prefix: "10.0.0.0/16", status: "container" });
  data.ips.push({ id: 9, address: "10.0.0.77/25", status: "reserved" });
  const result = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(result.findings.map((f) => `${f.rule}@${f.object_id}`), ["mask-mismatch@9"]);
  assert.match(result.findings[0].message, /prefix 10\.0\.0\.0\/24 is \/24/);
});

Deno.test("analyzeAudit() exempts loopbacks and host masks in pools from mask checks", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.0.0.77/32", status: "reserved", role: "loopback" });
  assert.deepEqual(rulesOf(data), []);
  data.ips.push({ id: 10, address: "10.1.0.77/32", vrf: { id: 1 }, status: "reserved" });
  assert.deepEqual(rulesOf(data), ["mask-mismatch@10"]);
  data.prefixes[2].is_pool = true;
  assert.deepEqual(rulesOf(data), []);
});

Deno.test("analyzeAudit() reports network IDs and broadcasts on interfaces", () => {
  const data = clean();
  data.ips.push(
    { id: 9, address: "10.0.0.255/24", status: "active", dns_name: "b.example.net", ...onD1() },
    {
      id: 10,
      address: "10.0.0.0/32",
      role: "loopback",
      status: "active",
      dns_name: "n.example.net",
      ...onD1(12),
    },
  );
  const result = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(result.findings.map((f) => `${f.rule}@${f.object_id}`), [
    "network-or-broadcast@9",
    "network-or-broadcast@10",
  ]);
  assert.match(result.findings[0].message, /broadcast address of its own mask/);
  assert.match(result.findings[1].message, /network ID of prefix 10\.0\.0\.0\/24/);
});

Deno.test("analyzeAudit() reports an active assigned address without a DNS name", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.0.0.11/24", status: "active", ...onD1() });
  assert.deepEqual(rulesOf(data), ["missing-dns-name@9"]);
});

Deno.test("analyzeAudit() checks DNS names against NetBox's rule and the house pattern", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.0.0.11/24", status: "reserved", dns_name: "bad name" });
  assert.deepEqual(rulesOf(data), ["invalid-dns-name@9"]);
  data.ips[3].dns_name = "under_score.example.com";
  assert.deepEqual(rulesOf(data), []);
  const config = defaultAuditConfig();
  config.dnsPattern = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.example\.net$/;
  assert.deepEqual(rulesOf(data, config), ["invalid-dns-name@9"]);
});

Deno.test("analyzeAudit() reports a DNS name on two objects but not a v4+v6 pair", () => {
  const data = clean();
  data.ips.push({
    id: 9,
    address: "10.0.0.11/24",
    status: "reserved",
    dns_name: "D1.example.net.",
  });
  const result = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(result.findings.map((f) => `${f.rule}@${f.object_id}`), [
    "duplicate-dns-name@9",
  ]);
  assert.deepEqual(result.findings[0].related.map((r) => r.object_id), [2, 1]);
});

Deno.test("analyzeAudit() reports an active device without a primary for a family", () => {
  const data = clean();
  data.devices[0].primary_ip6 = null;
  assert.deepEqual(rulesOf(data), ["primary-missing@1"]);
  data.devices[0].status = "offline";
  assert.deepEqual(rulesOf(data), []);
});

Deno.test("analyzeAudit() reports a primary IP that is not on the device", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.0.0.12/24", status: "active", dns_name: "x.example.net" });
  data.devices.push({ id: 2, name: "d2", status: "active", primary_ip4: { id: 9 } });
  const result = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(result.findings.map((f) => `${f.rule}@${f.object_type}:${f.object_id}`), [
    "primary-not-on-object@dcim.device:2",
  ]);
  assert.equal(result.findings[0].related[0].object_id, 9);
});

Deno.test("analyzeAudit() accepts a NAT outside address as primary", () => {
  const data = clean();
  data.ips.push({
    id: 9,
    address: "10.0.0.12/24",
    status: "active",
    nat_inside: { id: 1 },
  });
  data.devices[0].primary_ip4 = { id: 9 };
  assert.deepEqual(rulesOf(data), []);
});

Deno.test("analyzeAudit() accepts a primary IP on another member of the virtual chassis", () => {
  const data = clean();
  data.devices[0].virtual_chassis = { id: 5 };
  data.devices.push({
    id: 2,
    name: "d2",
    status: "active",
    primary_ip4: { id: 1 },
    virtual_chassis: { id: 5 },
  });
  assert.deepEqual(rulesOf(data), []);
});

Deno.test("analyzeAudit() reports primaries with different DNS names", () => {
  const data = clean();
  data.ips[1].dns_name = "other.example.net";
  assert.deepEqual(rulesOf(data), ["primary-dns-mismatch@1"]);
});

Deno.test("analyzeAudit() reports half-assigned addresses", () => {
  const data = clean();
  data.ips.push(
    { id: 9, address: "10.0.0.13/24", status: "reserved", assigned_object_type: "dcim.interface" },
    { id: 10, address: "10.0.0.14/24", status: "reserved", assigned_object_id: 44 },
  );
  assert.deepEqual(rulesOf(data), ["half-assigned@9", "half-assigned@10"]);
});

Deno.test("analyzeAudit() reports an address whose interface is in another VRF", () => {
  const data = clean();
  data.interfaces.push({ id: 11, vrf: { id: 2, name: "red" }, device: d1 });
  const result = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(result.findings.map((f) => `${f.rule}@${f.object_id}`), [
    "vrf-mismatch@1",
    "vrf-mismatch@2",
  ]);
  assert.match(
    result.findings[0].message,
    /in the global table but its interface eth11 is in VRF red/,
  );
});

Deno.test("analyzeAudit() reports a deprecated address in use", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.0.0.15/24", status: "deprecated", ...onD1() });
  assert.deepEqual(rulesOf(data), ["deprecated-in-use@9"]);
  data.ips[3] = { id: 9, address: "10.0.0.15/24", status: "deprecated" };
  assert.deepEqual(rulesOf(data), []);
});

Deno.test("analyzeAudit() reports an active address assigned to nothing as info", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.0.0.16/24", status: "active" });
  const result = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(result.findings.map((f) => [f.rule, f.severity]), [[
    "unassigned-active",
    "info",
  ]]);
});

Deno.test("analyzeAudit() computes prefix utilization the way NetBox does", () => {
  const data = clean();
  data.prefixes.push({ id: 20, prefix: "10.5.0.0/29", status: "active" }); // 6 usable
  for (let i = 1; i <= 5; i++) {
    data.ips.push({ id: 100 + i, address: `10.5.0.${i}/29`, status: "reserved", role: "vip" });
  }
  data.ips.push({ id: 106, address: "10.5.0.1/29", status: "reserved", role: "vip" });
  data.ips.push({ id: 107, address: "10.5.0.1/29", status: "reserved", role: "vip" });
  const result = analyzeAudit(data, defaultAuditConfig());
  const u = result.utilization.find((x) => x.id === 20)!;
  assert.equal(u.utilization, 83.33); // 5 distinct hosts of 6
  assert.deepEqual(result.findings.map((f) => [f.rule, f.severity, f.object_id]), [
    ["prefix-utilization", "warning", 20],
  ]);
  data.ips.push({ id: 108, address: "10.5.0.6/29", status: "reserved" });
  const full = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(full.findings.map((f) => [f.rule, f.severity]), [[
    "prefix-utilization",
    "error",
  ]]);
});

Deno.test("analyzeAudit() counts utilized ranges, pools, containers and mark_utilized", () => {
  const data = clean();
  data.prefixes.push(
    { id: 20, prefix: "10.6.0.0/24", is_pool: true },
    { id: 21, prefix: "10.7.0.0/16", status: "container" },
    { id: 22, prefix: "10.7.0.0/17" },
    { id: 23, prefix: "10.7.0.0/18" },
    { id: 24, prefix: "10.8.0.0/24", mark_utilized: true },
  );
  data.ranges.push(
    { id: 1, start_address: "10.6.0.0/24", end_address: "10.6.0.99/24", mark_utilized: true },
    { id: 2, start_address: "10.6.0.100/24", end_address: "10.6.0.199/24" },
  );
  data.ips.push({ id: 9, address: "10.6.0.5/24", status: "reserved" });
  data.ips.push({ id: 10, address: "10.6.0.200/24", status: "reserved" });
  const result = analyzeAudit(data, defaultAuditConfig());
  const u = (id: number) => result.utilization.find((x) => x.id === id)!.utilization;
  assert.equal(u(20), 39.45); // 100 (range) + 1 outside it, of 256
  assert.equal(u(21), 50); // the /17 (the /18 inside it is not counted twice)
  assert.equal(u(24), 100);
  assert.deepEqual(rulesOf(data), ["prefix-utilization@24"]);
});

Deno.test("analyzeAudit() reports stale reservations only when enabled", () => {
  const data = clean();
  data.ips[2].created = "2020-01-01T00:00:00Z";
  data.ips[2].last_updated = "2024-01-01T00:00:00Z";
  const now = new Date("2024-05-01T00:00:00Z");
  assert.deepEqual(rulesOf(data, defaultAuditConfig(), now), []);
  const config = defaultAuditConfig();
  config.enabled.add("stale-reserved");
  assert.deepEqual(rulesOf(data, config, now), ["stale-reserved@3"]);
  config.staleReservedDays = 200;
  assert.deepEqual(rulesOf(data, config, now), []);
});

Deno.test("analyzeAudit() skips objects tagged audit-ignore", () => {
  const data = clean();
  data.ips.push({
    id: 9,
    address: "10.9.9.9/24",
    status: "active",
    tags: [{ slug: "audit-ignore", name: "audit-ignore" }],
  });
  data.devices[0].primary_ip6 = null;
  data.devices[0].tags = [{ slug: "audit-ignore" }];
  assert.deepEqual(rulesOf(data), []);
});

Deno.test("analyzeAudit() honours exemptions by tag, role and prefix, globally and per rule", () => {
  const data = clean();
  data.ips.push(
    { id: 9, address: "10.9.0.1/24", status: "reserved", tags: [{ slug: "lab" }] },
    { id: 10, address: "10.9.1.1/24", status: "reserved", role: "secondary" },
    { id: 11, address: "10.9.2.1/24", status: "reserved" },
  );
  assert.deepEqual(rulesOf(data), ["orphan-address@9", "orphan-address@10", "orphan-address@11"]);
  const config = defaultAuditConfig();
  config.exempt.tags.push("lab");
  config.ruleExempt["orphan-address"] = {
    tags: [],
    roles: ["secondary"],
    prefixes: ["10.9.2.0/24"],
  };
  assert.deepEqual(rulesOf(data, config), []);
});

Deno.test("analyzeAudit() runs only enabled rules with configured severities", () => {
  const data = clean();
  data.ips.push({ id: 9, address: "10.9.0.1/24", status: "active" });
  const config = defaultAuditConfig();
  config.enabled.delete("unassigned-active");
  config.severity["orphan-address"] = "error";
  const result = analyzeAudit(data, config);
  assert.deepEqual(result.findings.map((f) => [f.rule, f.severity]), [["orphan-address", "error"]]);
});

Deno.test("analyzeAudit() handles a VM with its interfaces like a device", () => {
  const vm = { id: 7, name: "vm7", url: "http://nb/api/virtualization/virtual-machines/7/" };
  const data = clean();
  data.ips.push({
    id: 9,
    address: "10.0.0.40/24",
    status: "active",
    dns_name: "vm7.example.net",
    assigned_object_type: "virtualization.vminterface",
    assigned_object_id: 70,
    assigned_object: { id: 70, name: "eth0", virtual_machine: vm },
  });
  data.vms.push({ ...vm, status: "active", primary_ip4: null });
  const result = analyzeAudit(data, defaultAuditConfig());
  assert.deepEqual(result.findings.map((f) => [f.rule, f.object_type, f.object_id, f.url]), [[
    "primary-missing",
    "virtualization.virtualmachine",
    7,
    "http://nb/virtualization/virtual-machines/7/",
  ]]);
});
