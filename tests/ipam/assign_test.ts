/**
 * lib/ipam/assign.ts directly: assignIp and assignIps against the shared fake NetBox — the
 * result a caller gets, the error it throws (class, message, exit code), and what NetBox holds
 * afterwards.
 */
import assert from "node:assert/strict";
import { createClient } from "../../lib/client/client.ts";
import { InputError, NetBoxAuthError, NetBoxChangedError } from "../../lib/client/errors.ts";
import type { NetBoxClient } from "../../lib/client/types.ts";
import {
  assignIp,
  type AssignIpRequest,
  assignIps,
  type AssignStep,
} from "../../lib/ipam/assign.ts";
import { LookupError } from "../../lib/ipam/lookup.ts";
import { FakeNetBox, type FakeNetBoxOptions, type StoredIp } from "../_fake_netbox.ts";
import { rejection } from "../_assert.ts";

const VMIF = "virtualization.vminterface";
const NONE = { primary_ip4: null, primary_ip6: null, oob_ip: null };

function clientOf(nb: FakeNetBox, fetch: typeof globalThis.fetch = nb.fetch): NetBoxClient {
  return createClient({ url: nb.host, token: "nbt_abcdefghijkl.0123456789", fetch });
}

/** A VM docker-01 (eth0), a device foxtrot (mgmt0, eth1) at site Matrix, 192.168.3.0/24. */
function inventory(options: FakeNetBoxOptions = {}) {
  const nb = new FakeNetBox(options);
  const site = nb.add("site", { name: "Matrix", slug: "matrix" });
  const cluster = nb.add("cluster", { name: "docker" });
  const vm = nb.add("vm", { name: "docker-01", cluster: cluster.id });
  const eth0 = nb.add("vminterface", { name: "eth0", virtual_machine: vm.id });
  const foxtrot = nb.add("device", { name: "foxtrot", site: site.id });
  const mgmt = nb.add("interface", { name: "mgmt0", device: foxtrot.id });
  const eth1 = nb.add("interface", { name: "eth1", device: foxtrot.id });
  const prefix = nb.add("prefix", { prefix: "192.168.3.0/24", vrf: null });
  return { nb, client: clientOf(nb), site, vm, eth0, foxtrot, mgmt, eth1, prefix };
}

const ON_VM: AssignIpRequest = {
  target: { virtualMachine: "docker-01" },
  interface: "eth0",
  address: "192.168.3.10/24",
};

/** A stored IP with the fake's defaults for the fields a test does not name. */
function ipWith(fields: Partial<StoredIp> & { id: number; address: string }): StoredIp {
  return {
    vrf: null,
    status: "active",
    dns_name: "",
    description: "",
    tags: [],
    assigned_object_type: null,
    assigned_object_id: null,
    ...fields,
  };
}

Deno.test("assignIp() creates a new address on the interface and sets primary_ip4", async () => {
  const { nb, client, vm, eth0 } = inventory();
  const steps: AssignStep[] = [];
  const r = await assignIp(client, { ...ON_VM, dnsName: "Docker-01.Example.com" }, {
    onStep: (s) => steps.push(s),
  });
  const [ip] = nb.ips();
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "192.168.3.10/24",
    dns_name: "docker-01.example.com",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: ip.id });
  assert.deepEqual(r, {
    target: "vm docker-01",
    interface: "eth0",
    address: "192.168.3.10/24",
    ip_id: ip.id,
    actions: ["created-ip", "set-primary"],
    steps,
  });
  assert.deepEqual(steps.map((s) => s.text), [
    "create IP 192.168.3.10/24 (VRF global) on docker-01 eth0",
    "set primary_ip4 of docker-01 to 192.168.3.10/24",
  ]);
});

Deno.test("assignIp() a second identical call only reads and reports unchanged", async () => {
  const { nb, client, vm } = inventory();
  const first = await assignIp(client, { ...ON_VM, dnsName: "docker-01.example.com" });
  const writes = nb.writes().length;
  const ips = nb.ips();
  const again = await assignIp(client, { ...ON_VM, dnsName: "docker-01.example.com" });
  assert.deepEqual(again.actions, ["unchanged"]);
  assert.deepEqual(again.steps, []);
  assert.equal(again.ip_id, first.ip_id);
  assert.equal(nb.writes().length, writes);
  assert.deepEqual(nb.ips(), ips);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: first.ip_id });
});

Deno.test("assignIp() sets primary_ip6 for an IPv6 address and picks the only interface", async () => {
  const { nb, client, vm, eth0 } = inventory();
  const r = await assignIp(client, {
    target: { virtualMachine: "docker-01" },
    address: "2001:db8::10/64",
  });
  assert.equal(r.interface, "eth0");
  const [ip] = nb.ips();
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "2001:db8::10/64",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip6: ip.id });
});

Deno.test("assignIp() oob sets a device's oob_ip; for a VM it is an InputError, nothing sent", async () => {
  const { nb, client, foxtrot, mgmt } = inventory();
  const r = await assignIp(client, {
    target: { device: "foxtrot", site: "matrix" },
    interface: "mgmt0",
    address: "10.9.0.5/24",
    oob: true,
  });
  assert.deepEqual(r.actions, ["created-ip", "set-oob"]);
  const [ip] = nb.ips();
  assert.equal(ip.assigned_object_id, mgmt.id);
  assert.deepEqual(nb.primaries("device", foxtrot.id), { ...NONE, oob_ip: ip.id });
  const requests = nb.requests.length;
  const err = await rejection(assignIp(client, { ...ON_VM, oob: true }));
  assert.ok(err instanceof InputError, String(err));
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /devices only/);
  assert.equal(nb.requests.length, requests, "nothing sent");
});

Deno.test("assignIp() reuses an existing address and sends only the fields that differ", async () => {
  const { nb, client, vm, eth0 } = inventory();
  const ip = nb.add("ip", {
    address: "192.168.3.10/24",
    dns_name: "old.example",
    description: "keep",
    status: "reserved",
  });
  const r = await assignIp(client, { ...ON_VM, dnsName: "new.example", description: "keep" });
  assert.deepEqual(r.actions, ["updated-ip", "assigned", "set-primary"]);
  assert.equal(r.ip_id, ip.id);
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "192.168.3.10/24",
    status: "reserved", // not asked for: left as it is
    dns_name: "new.example",
    description: "keep",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.sent, [
    {
      request: `PATCH ipam/ip-addresses/${ip.id}`,
      body: { dns_name: "new.example", assigned_object_type: VMIF, assigned_object_id: eth0.id },
    },
    { request: `PATCH virtualization/virtual-machines/${vm.id}`, body: { primary_ip4: ip.id } },
  ]);
});

Deno.test("assignIp() refuses an address assigned elsewhere with LookupError naming it", async () => {
  const { nb, client, vm, eth1 } = inventory();
  nb.add("ip", {
    address: "192.168.3.10/24",
    assigned_object_type: "dcim.interface",
    assigned_object_id: eth1.id,
  });
  const err = await rejection(assignIp(client, ON_VM, { fieldNames: { move: "--move" } }));
  assert.ok(err instanceof LookupError, String(err));
  assert.equal(err.exitCode, 3);
  assert.match(err.message, /assigned to device foxtrot interface eth1; add --move/);
  assert.deepEqual(nb.writes(), []);
  assert.deepEqual(nb.primaries("vm", vm.id), NONE);
});

Deno.test("assignIp() move clears the blocking primary of the old device and moves the address", async () => {
  const { nb, client, vm, eth0, eth1, foxtrot } = inventory();
  const ip = nb.add("ip", {
    address: "192.168.3.10/24",
    assigned_object_type: "dcim.interface",
    assigned_object_id: eth1.id,
    dns_name: "foxtrot.example.com",
  });
  nb.get("device", foxtrot.id)!.primary_ip4 = { id: ip.id };
  const r = await assignIp(client, { ...ON_VM, move: true });
  assert.deepEqual(r.actions, ["cleared-primary", "moved", "set-primary"]);
  assert.deepEqual(nb.primaries("device", foxtrot.id), NONE);
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "192.168.3.10/24",
    dns_name: "foxtrot.example.com",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: ip.id });
});

Deno.test("assignIp() looks the address up in its VRF: several VRFs without vrf is ambiguous", async () => {
  const { nb, client, vm, eth0 } = inventory();
  const red = nb.add("vrf", { name: "red", rd: "65000:1" });
  const blue = nb.add("vrf", { name: "blue", rd: "65000:2" });
  const inRed = nb.add("ip", { address: "192.168.3.10/24", vrf: red.id });
  const inBlue = nb.add("ip", { address: "192.168.3.10/24", vrf: blue.id });
  const err = await rejection(assignIp(client, ON_VM));
  assert.ok(err instanceof LookupError, String(err));
  assert.match(err.message, /exists in 2 VRFs/);
  assert.match(err.message, /red/);
  assert.match(err.message, /blue/);
  assert.deepEqual(nb.writes(), []);
  const r = await assignIp(client, { ...ON_VM, vrf: "65000:2" });
  assert.equal(r.ip_id, inBlue.id);
  assert.deepEqual(nb.ips(), [
    ipWith({ id: inRed.id, address: "192.168.3.10/24", vrf: red.id }),
    ipWith({
      id: inBlue.id,
      address: "192.168.3.10/24",
      vrf: blue.id,
      assigned_object_type: VMIF,
      assigned_object_id: eth0.id,
    }),
  ]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: inBlue.id });
});

Deno.test("assignIp() creates a new address in the VRF given, beside a global copy", async () => {
  const { nb, client, eth0 } = inventory();
  const green = nb.add("vrf", { name: "green" });
  const global = nb.add("ip", { address: "192.168.3.10/24" });
  const r = await assignIp(client, { ...ON_VM, vrf: "green" });
  assert.deepEqual(r.actions, ["created-ip", "set-primary"]);
  assert.notEqual(r.ip_id, global.id);
  assert.deepEqual(
    nb.ip(r.ip_id!),
    ipWith({
      id: r.ip_id!,
      address: "192.168.3.10/24",
      vrf: green.id,
      assigned_object_type: VMIF,
      assigned_object_id: eth0.id,
    }),
  );
  assert.equal(nb.ip(global.id).assigned_object_id, null);
});

Deno.test("assignIp() fromPrefix allocates through available-ips, then reuses that address", async () => {
  const { nb, client, prefix, vm, eth0 } = inventory();
  nb.add("ip", { address: "192.168.3.1/24" });
  const r = await assignIp(client, {
    target: { virtualMachine: "docker-01" },
    fromPrefix: "192.168.3.0/24",
    dnsName: "docker-01.example.com",
  });
  assert.equal(r.address, "192.168.3.2/24");
  assert.deepEqual(r.actions, ["allocated-ip", "set-primary"]);
  assert.deepEqual(nb.sent[0], {
    request: `POST ipam/prefixes/${prefix.id}/available-ips`,
    body: {
      dns_name: "docker-01.example.com",
      status: "active",
      assigned_object_type: VMIF,
      assigned_object_id: eth0.id,
    },
  });
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: r.ip_id });
  const writes = nb.writes().length;
  const again = await assignIp(client, {
    target: { virtualMachine: vm.id },
    fromPrefix: prefix.id,
  });
  assert.deepEqual(again.actions, ["unchanged"]);
  assert.equal(again.ip_id, r.ip_id);
  assert.equal(nb.writes().length, writes);
  assert.equal(nb.ips().length, 2);
});

Deno.test("assignIp() dryRun returns the plan and writes nothing", async () => {
  const { nb, client, vm } = inventory();
  const steps: string[] = [];
  const r = await assignIp(client, { ...ON_VM, dryRun: true }, {
    onStep: (s) => steps.push(s.text),
  });
  assert.deepEqual(r.actions, ["created-ip", "set-primary"]);
  assert.equal(r.ip_id, null);
  assert.equal(r.address, "192.168.3.10/24");
  assert.deepEqual(steps, [
    "create IP 192.168.3.10/24 (VRF global) on docker-01 eth0",
    "set primary_ip4 of docker-01 to 192.168.3.10/24",
  ]);
  assert.deepEqual(nb.writes(), []);
  assert.deepEqual(nb.ips(), []);
  assert.deepEqual(nb.primaries("vm", vm.id), NONE);
  const plan = await assignIp(client, {
    target: { virtualMachine: "docker-01" },
    fromPrefix: "192.168.3.0/24",
    dryRun: true,
  });
  assert.equal(plan.address, "192.168.3.1/24 (next free)");
  assert.deepEqual(nb.writes(), []);
});

Deno.test("assignIp() names ambiguous devices; site picks one", async () => {
  const { nb, client, foxtrot } = inventory();
  const zion = nb.add("site", { name: "Zion", slug: "zion" });
  nb.add("device", { name: "foxtrot", site: zion.id });
  const request: AssignIpRequest = {
    target: { device: "foxtrot" },
    interface: "eth1",
    address: "10.0.0.1/24",
  };
  const err = await rejection(assignIp(client, request));
  assert.ok(err instanceof LookupError, String(err));
  assert.match(err.message, /2 match: .*Matrix.*Zion/);
  assert.equal(err.candidates.length, 2);
  assert.deepEqual(nb.writes(), []);
  const r = await assignIp(client, { ...request, target: { device: "foxtrot", site: "matrix" } });
  assert.equal(r.target, "device foxtrot");
  assert.deepEqual(nb.primaries("device", foxtrot.id), { ...NONE, primary_ip4: r.ip_id });
});

Deno.test("assignIp() a missing interface is a LookupError; createInterface creates it", async () => {
  const { nb, client, vm } = inventory();
  const request = { ...ON_VM, interface: "eth9" };
  const err = await rejection(assignIp(client, request, {
    fieldNames: { createInterface: "--create-interface" },
  }));
  assert.ok(err instanceof LookupError, String(err));
  assert.match(err.message, /add --create-interface/);
  assert.deepEqual(nb.writes(), []);
  const r = await assignIp(client, { ...request, createInterface: true });
  assert.deepEqual(r.actions, ["created-interface", "created-ip", "set-primary"]);
  const eth9 = nb.table("vminterface").find((i) => i.name === "eth9")!;
  assert.equal(eth9.virtual_machine.id, vm.id);
  assert.equal(nb.ip(r.ip_id!).assigned_object_id, eth9.id);
});

Deno.test("assignIp() with a read-only token is refused before any write (NetBoxAuthError)", async () => {
  const { nb, client } = inventory({ readOnly: true });
  const err = await rejection(assignIp(client, ON_VM));
  assert.ok(err instanceof NetBoxAuthError, String(err));
  assert.equal(err.exitCode, 3);
  assert.match(err.message, /read-only/);
  assert.deepEqual(nb.writes(), []);
});

Deno.test("assignIp() with a token that may not add IP addresses is refused before any write", async () => {
  const { nb, client } = inventory({ deny: { "ipam/ip-addresses": ["add"] } });
  const err = await rejection(assignIp(client, ON_VM));
  assert.ok(err instanceof NetBoxAuthError, String(err));
  assert.match(err.message, /may not add ipam\.ip-addresses .*ipam\.add_ipaddress/);
  assert.deepEqual(nb.writes(), []);
});

/**
 * The inventory, plus another address on another interface of the VM that a concurrent client
 * makes its primary IP `times` times: just before our PATCH reaches NetBox (4.6+: NetBox checks
 * If-Match) or just before the client's own last_updated check (before 4.6).
 */
function racing(version: string, times: number) {
  const { nb, vm } = inventory({ version });
  const theirs = nb.add("vminterface", { name: "eth1", virtual_machine: vm.id });
  const other = nb.add("ip", {
    address: "192.168.3.99/24",
    assigned_object_type: VMIF,
    assigned_object_id: theirs.id,
  });
  let changes = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const req = new Request(input, init);
    const onVm = req.url.includes("/virtual-machines/");
    const check = req.method === "GET" && onVm && req.url.includes("last_updated");
    const write = req.method === "PATCH" && onVm;
    if (changes < times && (version < "4.6" ? check : write)) {
      changes++;
      await nb.fetch(`${nb.host}/api/virtualization/virtual-machines/${vm.id}/`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ primary_ip4: changes % 2 ? other.id : null }),
      });
    }
    return nb.fetch(req);
  };
  return { nb, vm, other, client: clientOf(nb, fetch) };
}

for (const version of ["4.7.3", "4.5.0"]) {
  const how = version < "4.6" ? "last_updated" : "If-Match";
  Deno.test(`assignIp() re-reads once after a concurrent change of the VM (${version}, ${how})`, async () => {
    const { nb, vm, client } = racing(version, 1);
    const r = await assignIp(client, ON_VM);
    assert.deepEqual(r.actions, ["created-ip", "set-primary"]);
    assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: r.ip_id });
    assert.equal(nb.ips().length, 2, "the address was created once");
  });

  Deno.test(`assignIp() never overwrites a VM that keeps changing: NetBoxChangedError (${version}, ${how})`, async () => {
    const { nb, vm, client } = racing(version, 2);
    const err = await rejection(assignIp(client, ON_VM));
    assert.ok(err instanceof NetBoxChangedError, String(err));
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /changed/);
    assert.equal(
      nb.primaries("vm", vm.id).primary_ip4,
      null,
      "the other client's last write stands",
    );
    assert.equal(nb.ips().length, 2, "the address was created once");
  });
}

Deno.test("assignIp() rejects an invalid request with InputError before sending anything", async () => {
  const { nb, client } = inventory();
  const bad: [AssignIpRequest, RegExp][] = [
    [{ target: { virtualMachine: "docker-01" } }, /exactly one of address or fromPrefix/],
    [{ ...ON_VM, address: "192.168.3.10" }, /needs a mask/],
    [{ ...ON_VM, address: "192.168.3.300/24" }, /./],
    [{ ...ON_VM, status: "up" }, /status "up"/],
    [{ ...ON_VM, dnsName: "bad name" }, /not a valid DNS name/],
    [{ target: { device: 7, site: "matrix" }, address: "10.0.0.1/24" }, /site needs a device name/],
    [{ ...ON_VM, interface: undefined, createInterface: true }, /createInterface needs interface/],
  ];
  for (const [request, message] of bad) {
    const err = await rejection(assignIp(client, request));
    assert.ok(err instanceof InputError, `${JSON.stringify(request)}: ${err}`);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, message);
  }
  assert.deepEqual(nb.requests, []);
});

Deno.test("assignIps() runs every request; a refused one fails alone, in request order", async () => {
  const { nb, client } = inventory();
  for (let i = 1; i <= 3; i++) {
    const vm = nb.add("vm", { name: `web-0${i}` });
    nb.add("vminterface", { name: "eth0", virtual_machine: vm.id });
  }
  const requests: AssignIpRequest[] = [
    { target: { virtualMachine: "web-01" }, address: "192.168.3.21/24" },
    { target: { virtualMachine: "nope" }, address: "192.168.3.22/24" },
    { target: { virtualMachine: "web-03" }, fromPrefix: "192.168.3.0/24" },
    { target: { virtualMachine: "web-02" } },
  ];
  const seen: number[] = [];
  const outcomes = await assignIps(client, requests, {
    concurrency: 2,
    onStep: (_, index) => seen.push(index),
  });
  // The errors in the message: this failed once in CI (request 0 failed) and passes every rerun.
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [true, false, true, false],
    outcomes.map((o, i) => `${i}: ${o.ok ? "ok" : (o.error as Error)?.message}`).join("\n"),
  );
  assert.ok(!outcomes[1].ok && outcomes[1].error instanceof LookupError);
  assert.ok(!outcomes[3].ok && outcomes[3].error instanceof InputError);
  assert.ok(outcomes[0].ok && outcomes[0].result.target === "vm web-01");
  assert.ok(outcomes[2].ok && outcomes[2].result.address === "192.168.3.1/24");
  assert.deepEqual([...new Set(seen)].sort(), [0, 2]);
  assert.deepEqual(nb.ips().map((ip) => ip.address).sort(), ["192.168.3.1/24", "192.168.3.21/24"]);
});

Deno.test("assignIps() stops all of them when the token is read-only (the promise rejects)", async () => {
  const { nb, client } = inventory({ readOnly: true });
  const err = await rejection(assignIps(client, [ON_VM, { ...ON_VM, address: "192.168.3.11/24" }]));
  assert.ok(err instanceof NetBoxAuthError, String(err));
  assert.deepEqual(nb.writes(), []);
});

Deno.test("assignIps() after stop fires starts nothing new: the rest fail NotSent", async () => {
  const { nb, client } = inventory();
  const stop = new AbortController();
  stop.abort();
  const outcomes = await assignIps(client, [ON_VM], { stop: stop.signal });
  assert.ok(!outcomes[0].ok);
  assert.equal(outcomes[0].error.name, "NotSentError");
  assert.match(outcomes[0].error.message, /stopped before it was started/);
  assert.deepEqual(nb.writes(), []);
});
