import assert from "node:assert/strict";
import { checkRow, main, parseRows } from "../../tasks/assign-primary-ip.ts";
import { fakeIO, FakeNetBox, type StoredIp } from "../_fake_netbox.ts";

function inventory(options: { readOnly?: boolean } = {}) {
  const nb = new FakeNetBox(options);
  const site = nb.add("site", { name: "Matrix", slug: "matrix" });
  const cluster = nb.add("cluster", { name: "docker" });
  const vm = nb.add("vm", { name: "docker-01", cluster: cluster.id });
  const eth0 = nb.add("vminterface", { name: "eth0", virtual_machine: vm.id });
  const foxtrot = nb.add("device", { name: "foxtrot", site: site.id });
  const mgmt = nb.add("interface", { name: "mgmt0", device: foxtrot.id });
  const eth1 = nb.add("interface", { name: "eth1", device: foxtrot.id });
  const prefix = nb.add("prefix", { prefix: "192.168.3.0/24", vrf: null });
  return { nb, site, vm, eth0, foxtrot, mgmt, eth1, prefix };
}

async function run(
  nb: FakeNetBox,
  args: string[],
  files: Record<string, string> = {},
) {
  const { io, out } = fakeIO(nb, files);
  const code = await main([...args, "--format", "json"], io);
  const doc = out.stdout ? JSON.parse(out.stdout) : undefined;
  return { code, doc, stderr: out.stderr };
}

const VM_ARGS = ["--vm", "docker-01", "--interface", "eth0", "--address", "192.168.3.10/24"];
const VMIF = "virtualization.vminterface";
const NONE = { primary_ip4: null, primary_ip6: null, oob_ip: null };

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

Deno.test("assign-primary-ip creates the IP on the interface and sets the VM's primary_ip4", async () => {
  const { nb, vm, eth0 } = inventory();
  const { code, doc } = await run(nb, [
    ...VM_ARGS,
    "--dns-name",
    "docker-01-nexus.spaceships.work",
  ]);
  assert.equal(code, 0, JSON.stringify(doc));
  const [ip] = nb.ips();
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "192.168.3.10/24",
    dns_name: "docker-01-nexus.spaceships.work",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: ip.id });
  assert.deepEqual(doc.items, [{
    target: "vm docker-01",
    interface: "eth0",
    address: "192.168.3.10/24",
    ip_id: ip.id,
    actions: ["created-ip", "set-primary"],
    line: null,
    outcome: "done",
    error: null,
  }]);
});

Deno.test("assign-primary-ip is unchanged on a second run and only reads", async () => {
  const { nb } = inventory();
  const args = [...VM_ARGS, "--dns-name", "docker-01-nexus.spaceships.work"];
  await run(nb, args);
  const before = nb.writes().length;
  const stored = nb.ips();
  const vm = nb.primaries("vm", nb.table("vm")[0].id);
  assert.equal(stored.length, 1);
  assert.deepEqual(vm, { ...NONE, primary_ip4: stored[0].id });
  const { code, doc } = await run(nb, args);
  assert.equal(code, 0);
  assert.deepEqual(doc.items[0].actions, ["unchanged"]);
  assert.equal(doc.items[0].ip_id, stored[0].id);
  assert.equal(nb.writes().length, before);
  assert.equal(stored[0].dns_name, "docker-01-nexus.spaceships.work");
  assert.deepEqual(nb.ips(), stored);
  assert.deepEqual(nb.primaries("vm", nb.table("vm")[0].id), vm);
});

Deno.test("assign-primary-ip sets primary_ip6 for an IPv6 address", async () => {
  const { nb, vm, eth0 } = inventory();
  const { code } = await run(nb, ["--vm", "docker-01", "--address", "2001:db8::10/64"]);
  assert.equal(code, 0);
  const [ip] = nb.ips();
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "2001:db8::10/64",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip6: ip.id });
});

Deno.test("assign-primary-ip --oob sets a device's oob_ip and refuses VMs with exit 2", async () => {
  const { nb, foxtrot, mgmt } = inventory();
  const r = await run(nb, [
    "--device",
    "foxtrot",
    "--interface",
    "mgmt0",
    "--address",
    "10.9.0.5/24",
    "--oob",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [ip] = nb.ips();
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "10.9.0.5/24",
    assigned_object_type: "dcim.interface",
    assigned_object_id: mgmt.id,
  })]);
  assert.deepEqual(nb.primaries("device", foxtrot.id), { ...NONE, oob_ip: ip.id });
  assert.deepEqual(r.doc.items[0].actions, ["created-ip", "set-oob"]);
  const writes = nb.writes().length;
  const vm = await run(nb, [...VM_ARGS, "--oob"]);
  assert.equal(vm.code, 2);
  assert.match(vm.stderr, /devices only/);
  assert.equal(nb.writes().length, writes);
  assert.deepEqual(nb.primaries("vm", nb.table("vm")[0].id), NONE);
});

Deno.test("assign-primary-ip reuses an existing IP and sends only the changed fields", async () => {
  const { nb, vm, eth0 } = inventory();
  const ip = nb.add("ip", {
    address: "192.168.3.10/24",
    dns_name: "old.example",
    description: "keep",
  });
  const { code, doc } = await run(nb, [
    ...VM_ARGS,
    "--dns-name",
    "new.example",
    "--description",
    "keep",
  ]);
  assert.equal(code, 0);
  assert.deepEqual(doc.items[0].actions, ["updated-ip", "assigned", "set-primary"]);
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "192.168.3.10/24",
    dns_name: "new.example",
    description: "keep",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: ip.id });
  // description is already "keep": only dns_name and the assignment are sent.
  assert.deepEqual(nb.sent, [
    {
      request: `PATCH ipam/ip-addresses/${ip.id}`,
      body: { dns_name: "new.example", assigned_object_type: VMIF, assigned_object_id: eth0.id },
    },
    { request: `PATCH virtualization/virtual-machines/${vm.id}`, body: { primary_ip4: ip.id } },
  ]);
});

Deno.test("assign-primary-ip keeps an existing IP's dns_name, description and status unless given", async () => {
  const { nb, vm, eth0 } = inventory();
  const ip = nb.add("ip", {
    address: "192.168.3.10/24",
    dns_name: "old.example.com",
    description: "rack 4",
    status: "reserved",
  });
  const first = await run(nb, VM_ARGS);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(first.doc.items[0].actions, ["assigned", "set-primary"]);
  const kept = ipWith({
    id: ip.id,
    address: "192.168.3.10/24",
    status: "reserved",
    dns_name: "old.example.com",
    description: "rack 4",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  });
  assert.deepEqual(nb.ips(), [kept]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: ip.id });
  assert.deepEqual(nb.sent[0], {
    request: `PATCH ipam/ip-addresses/${ip.id}`,
    body: { assigned_object_type: VMIF, assigned_object_id: eth0.id },
  });

  // Assigned and primary already: nothing to do, nothing rewritten.
  const again = await run(nb, VM_ARGS);
  assert.deepEqual(again.doc.items[0].actions, ["unchanged"]);
  assert.deepEqual(nb.ips(), [kept]);

  // --dns-name (lower-cased) and --status replace the stored values; description stays.
  const writes = nb.sent.length;
  const renamed = await run(nb, [
    ...VM_ARGS,
    "--dns-name",
    "New.Example.com",
    "--status",
    "active",
  ]);
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.deepEqual(renamed.doc.items[0].actions, ["updated-ip"]);
  assert.deepEqual(nb.ips(), [{ ...kept, dns_name: "new.example.com", status: "active" }]);
  assert.deepEqual(nb.sent.slice(writes), [{
    request: `PATCH ipam/ip-addresses/${ip.id}`,
    body: { dns_name: "new.example.com", status: "active" },
  }]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: ip.id });
});

Deno.test("assign-primary-ip refuses an IP assigned elsewhere with exit 3 naming it", async () => {
  const { nb, eth1, vm } = inventory();
  const ip = nb.add("ip", {
    address: "192.168.3.10/24",
    assigned_object_type: "dcim.interface",
    assigned_object_id: eth1.id,
  });
  const r = await run(nb, VM_ARGS);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /assigned to device foxtrot interface eth1; add --move/);
  assert.deepEqual(nb.writes(), []);
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "192.168.3.10/24",
    assigned_object_type: "dcim.interface",
    assigned_object_id: eth1.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), NONE);
});

Deno.test("assign-primary-ip --move clears the blocking primary designation and moves the IP", async () => {
  const { nb, eth1, foxtrot, vm, eth0 } = inventory();
  const ip = nb.add("ip", {
    address: "192.168.3.10/24",
    assigned_object_type: "dcim.interface",
    assigned_object_id: eth1.id,
    dns_name: "foxtrot.example.com",
    description: "was foxtrot's",
  });
  nb.table("device").find((d) => d.id === foxtrot.id)!.primary_ip4 = { id: ip.id };
  const { code, doc, stderr } = await run(nb, [...VM_ARGS, "--move"]);
  assert.equal(code, 0, stderr);
  assert.deepEqual(doc.items[0].actions, ["cleared-primary", "moved", "set-primary"]);
  assert.deepEqual(nb.primaries("device", foxtrot.id), NONE);
  assert.deepEqual(nb.ips(), [ipWith({
    id: ip.id,
    address: "192.168.3.10/24",
    dns_name: "foxtrot.example.com",
    description: "was foxtrot's",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: ip.id });
});

Deno.test("assign-primary-ip refuses an address present in several VRFs without --vrf", async () => {
  const { nb, vm, eth0 } = inventory();
  const red = nb.add("vrf", { name: "red" });
  const blue = nb.add("vrf", { name: "blue" });
  const inRed = nb.add("ip", { address: "192.168.3.10/24", vrf: red.id });
  const inBlue = nb.add("ip", { address: "192.168.3.10/24", vrf: blue.id });
  const r = await run(nb, VM_ARGS);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /exists in 2 VRFs/);
  assert.match(r.stderr, /red/);
  assert.match(r.stderr, /blue/);
  assert.deepEqual(nb.writes(), []);
  const ok = await run(nb, [...VM_ARGS, "--vrf", "blue"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.doc.items[0].ip_id, inBlue.id);
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

Deno.test("assign-primary-ip --from-prefix allocates through available-ips, then reuses it", async () => {
  const { nb, prefix, vm, eth0 } = inventory();
  const gateway = nb.add("ip", { address: "192.168.3.1/24" });
  const first = await run(nb, [
    "--vm",
    "docker-01",
    "--from-prefix",
    "192.168.3.0/24",
    "--dns-name",
    "docker-01.example.com",
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.doc.items[0].address, "192.168.3.2/24");
  assert.deepEqual(first.doc.items[0].actions, ["allocated-ip", "set-primary"]);
  const ip = nb.ips()[1];
  assert.deepEqual(nb.sent, [
    {
      request: `POST ipam/prefixes/${prefix.id}/available-ips`,
      body: {
        dns_name: "docker-01.example.com",
        status: "active",
        assigned_object_type: VMIF,
        assigned_object_id: eth0.id,
      },
    },
    { request: `PATCH virtualization/virtual-machines/${vm.id}`, body: { primary_ip4: ip.id } },
  ]);
  const stored = [
    ipWith({ id: gateway.id, address: "192.168.3.1/24" }),
    ipWith({
      id: ip.id,
      address: "192.168.3.2/24",
      dns_name: "docker-01.example.com",
      assigned_object_type: VMIF,
      assigned_object_id: eth0.id,
    }),
  ];
  assert.deepEqual(nb.ips(), stored);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: ip.id });
  const writes = nb.writes().length;
  const second = await run(nb, ["--vm", "docker-01", "--from-prefix", String(prefix.id)]);
  assert.deepEqual(second.doc.items[0].actions, ["unchanged"]);
  assert.equal(second.doc.items[0].ip_id, ip.id);
  assert.equal(nb.writes().length, writes);
  assert.deepEqual(nb.ips(), stored);
});

Deno.test("assign-primary-ip --dry-run prints each step and writes nothing", async () => {
  const { nb } = inventory();
  const r = await run(nb, [...VM_ARGS, "--dry-run"]);
  assert.equal(r.code, 0);
  assert.deepEqual(nb.writes(), []);
  assert.deepEqual(nb.ips(), []);
  assert.deepEqual(nb.primaries("vm", nb.table("vm")[0].id), NONE);
  assert.match(r.stderr, /would create IP 192\.168\.3\.10\/24/);
  assert.match(r.stderr, /would set primary_ip4 of docker-01/);
  assert.equal(r.doc.summary.dry_run, true);
});

Deno.test("assign-primary-ip names ambiguous devices with exit 3", async () => {
  const { nb } = inventory();
  const other = nb.add("site", { name: "Zion", slug: "zion" });
  nb.add("device", { name: "foxtrot", site: other.id });
  const r = await run(nb, ["--device", "foxtrot", "--address", "10.0.0.1/24"]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /2 match: .*Matrix.*Zion/);
  assert.deepEqual(nb.writes(), []);
});

Deno.test("assign-primary-ip picks the only interface and can create a missing one", async () => {
  const { nb, vm, eth0 } = inventory();
  const only = await run(nb, ["--vm", "docker-01", "--address", "192.168.3.20/24"]);
  assert.equal(only.code, 0, only.stderr);
  assert.equal(only.doc.items[0].interface, "eth0");
  const [first] = nb.ips();
  assert.deepEqual(nb.ips(), [ipWith({
    id: first.id,
    address: "192.168.3.20/24",
    assigned_object_type: VMIF,
    assigned_object_id: eth0.id,
  })]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: first.id });
  const missing = await run(nb, [
    "--vm",
    "docker-01",
    "--interface",
    "eth9",
    "--address",
    "192.168.3.21/24",
  ]);
  assert.equal(missing.code, 3);
  assert.match(missing.stderr, /add --create-interface/);
  assert.equal(nb.ips().length, 1);
  const created = await run(nb, [
    "--vm",
    "docker-01",
    "--interface",
    "eth9",
    "--create-interface",
    "--address",
    "192.168.3.21/24",
  ]);
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(created.doc.items[0].actions, [
    "created-interface",
    "created-ip",
    "set-primary",
  ]);
  assert.deepEqual(
    nb.table("vminterface").map((i) => [i.name, i.virtual_machine.id]),
    [["eth0", vm.id], ["eth9", vm.id]],
  );
  const eth9 = nb.table("vminterface")[1];
  const second = nb.ips()[1];
  assert.deepEqual(nb.ips(), [
    ipWith({
      id: first.id,
      address: "192.168.3.20/24",
      assigned_object_type: VMIF,
      assigned_object_id: eth0.id,
    }),
    ipWith({
      id: second.id,
      address: "192.168.3.21/24",
      assigned_object_type: VMIF,
      assigned_object_id: eth9.id,
    }),
  ]);
  assert.deepEqual(nb.primaries("vm", vm.id), { ...NONE, primary_ip4: second.id });
});

Deno.test("assign-primary-ip with a read-only token is refused before any write", async () => {
  const { nb } = inventory({ readOnly: true });
  const r = await run(nb, VM_ARGS);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /read-only/);
  assert.deepEqual(nb.writes(), []);
  assert.deepEqual(nb.ips(), []);
});

Deno.test("assign-primary-ip --file runs every row, reports failed rows by line and exits 1", async () => {
  const { nb } = inventory();
  for (let i = 1; i <= 4; i++) nb.add("vm", { name: `web-0${i}` });
  const yaml = [
    "# batch",
    "- vm: web-01",
    "  address: 192.168.3.31/24",
    "- vm: web-02",
    "  address: 192.168.3.32/24",
    "- vm: ghost",
    "  address: 192.168.3.33/24",
    "- vm: web-04",
    "  address: 192.168.3.34",
    "- vm: web-03",
    "  address: 192.168.3.35/24",
    "",
  ].join("\n");
  for (const w of ["web-01", "web-02", "web-03", "web-04"]) {
    nb.add("vminterface", {
      name: "eth0",
      virtual_machine: nb.table("vm").find((v) => v.name === w)!.id,
    });
  }
  const r = await run(nb, ["--file", "rows.yaml"], { "rows.yaml": yaml });
  assert.equal(r.code, 1);
  assert.equal(r.doc.summary.done, 3);
  assert.equal(r.doc.summary.failed, 2);
  assert.match(r.stderr, /rows\.yaml:6: Cannot find virtual machine "ghost"/);
  assert.match(r.stderr, /rows\.yaml:8: address "192\.168\.3\.34" needs a mask/);
  assert.deepEqual(
    r.doc.items.map((i: { line: number; actions: string[] }) => [i.line, i.actions]),
    [
      [2, ["created-ip", "set-primary"]],
      [4, ["created-ip", "set-primary"]],
      [6, []],
      [8, []],
      [10, ["created-ip", "set-primary"]],
    ],
  );
  const vmNamed = (name: string) => nb.table("vm").find((v) => v.name === name)!;
  const ifaceOf = (name: string) =>
    nb.table("vminterface").find((i) => i.virtual_machine.id === vmNamed(name).id)!.id;
  const ips = nb.ips();
  assert.deepEqual(
    ips.map((ip) => [ip.address, ip.assigned_object_type, ip.assigned_object_id, ip.status]),
    [
      ["192.168.3.31/24", VMIF, ifaceOf("web-01"), "active"],
      ["192.168.3.32/24", VMIF, ifaceOf("web-02"), "active"],
      ["192.168.3.35/24", VMIF, ifaceOf("web-03"), "active"],
    ],
  );
  assert.deepEqual(nb.primaries("vm", vmNamed("web-01").id), { ...NONE, primary_ip4: ips[0].id });
  assert.deepEqual(nb.primaries("vm", vmNamed("web-02").id), { ...NONE, primary_ip4: ips[1].id });
  assert.deepEqual(nb.primaries("vm", vmNamed("web-03").id), { ...NONE, primary_ip4: ips[2].id });
  assert.deepEqual(nb.primaries("vm", vmNamed("web-04").id), NONE);
});

Deno.test("parseRows() reads CSV and JSON with line numbers", () => {
  const csv = parseRows(
    "vm,address,tags\nweb-01,10.0.0.1/24,a;b\n\nweb-02,10.0.0.2/24,\n",
    "x.csv",
  );
  assert.deepEqual(csv.map((r) => r.line), [2, 4]);
  assert.deepEqual(csv[0].tags, ["a", "b"]);
  const json = parseRows(
    '[\n  {"vm": "a", "address": "10.0.0.1/24"},\n\n  {"vm": "b", "oob": "yes"}\n]',
    "x.json",
  );
  assert.deepEqual(json.map((r) => r.line), [2, 4]);
  assert.equal(json[1].oob, true);
  const rows = parseRows("rows:\n  - vm: a\n    address: 10.0.0.1/24\n  - vm: b\n", "x.yaml");
  assert.deepEqual(rows.map((r) => r.line), [2, 4]);
  assert.throws(
    () => parseRows("- vm: a\n  colour: red\n", "x.yaml"),
    /x\.yaml:1: unknown field "colour"/,
  );
});

Deno.test("checkRow() explains what is wrong with a row", () => {
  assert.match(checkRow({ tags: [], address: "10.0.0.1/24" }) ?? "", /no target/);
  assert.match(
    checkRow({ tags: [], vm: "a", device: "b", address: "10.0.0.1/24" }) ?? "",
    /exclude/,
  );
  assert.match(checkRow({ tags: [], vm: "a" }) ?? "", /exactly one of address or from_prefix/);
  assert.match(
    checkRow({ tags: [], vm: "a", address: "10.0.0.1/24", oob: true }) ?? "",
    /devices only/,
  );
  assert.match(
    checkRow({ tags: [], vm: "a", address: "10.0.0.1/24", dns_name: "a b" }) ?? "",
    /not a valid DNS/,
  );
  assert.equal(checkRow({ tags: [], vm: "a", address: "10.0.0.1/24" }), undefined);
});

Deno.test("assign-primary-ip --file with a read-only token stops with exit 3", async () => {
  const { nb } = inventory({ readOnly: true });
  const r = await run(nb, ["--file", "rows.csv"], {
    "rows.csv": "vm,address\ndocker-01,192.168.3.40/24\ndocker-01,192.168.3.41/24\n",
  });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /read-only/);
  assert.deepEqual(nb.writes(), []);
  assert.deepEqual(nb.ips(), []);
});

Deno.test("assign-primary-ip --file without a NetBox URL is a usage error (exit 2), nothing sent", async () => {
  const { nb } = inventory();
  const { io, out } = fakeIO(nb, {
    "rows.yaml": "rows:\n  - {vm: docker-01, interface: eth0, address: 192.168.3.10/24}\n",
  });
  const env = io.env;
  const code = await main(["--file", "rows.yaml", "--format", "json"], {
    ...io,
    env: (name: string) => name === "NETBOX_URL" ? undefined : env(name),
  });
  assert.equal(code, 2);
  assert.match(out.stderr, /^error: Cannot connect to NetBox: no URL; set NETBOX_URL/m);
  assert.equal(out.stdout, "");
  assert.equal(nb.requests.length, 0);
});
