import assert from "node:assert/strict";
import { checkRow, main, parseRows } from "../../tasks/assign-primary-ip.ts";
import { fakeIO, fakeIpam } from "./_fake_ipam.ts";

function inventory(options: { readOnly?: boolean } = {}) {
  const nb = fakeIpam(options);
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
  nb: ReturnType<typeof fakeIpam>,
  args: string[],
  files: Record<string, string> = {},
) {
  const { io, out } = fakeIO(nb, files);
  const code = await main([...args, "--format", "json"], io);
  const doc = out.stdout ? JSON.parse(out.stdout) : undefined;
  return { code, doc, stderr: out.stderr };
}

const VM_ARGS = ["--vm", "docker-01", "--interface", "eth0", "--address", "192.168.3.10/24"];

Deno.test("assign-primary-ip creates the IP on the interface and sets the VM's primary_ip4", async () => {
  const { nb, vm, eth0 } = inventory();
  const { code, doc } = await run(nb, [
    ...VM_ARGS,
    "--dns-name",
    "docker-01-nexus.spaceships.work",
  ]);
  assert.equal(code, 0, JSON.stringify(doc));
  const ip = nb.tables.ip.find((o) => o.address === "192.168.3.10/24")!;
  assert.equal(ip.assigned_object_id, eth0.id);
  assert.equal(ip.dns_name, "docker-01-nexus.spaceships.work");
  assert.equal(nb.get("vm", vm.id)!.primary_ip4.id, ip.id);
  assert.deepEqual(doc.items[0].actions, ["created-ip", "set-primary"]);
  assert.equal(doc.items[0].ip_id, ip.id);
});

Deno.test("assign-primary-ip is unchanged on a second run and only reads", async () => {
  const { nb } = inventory();
  const args = [...VM_ARGS, "--dns-name", "docker-01-nexus.spaceships.work"];
  await run(nb, args);
  const before = nb.writes().length;
  const { code, doc } = await run(nb, args);
  assert.equal(code, 0);
  assert.deepEqual(doc.items[0].actions, ["unchanged"]);
  assert.equal(nb.writes().length, before);
});

Deno.test("assign-primary-ip sets primary_ip6 for an IPv6 address", async () => {
  const { nb, vm } = inventory();
  const { code } = await run(nb, ["--vm", "docker-01", "--address", "2001:db8::10/64"]);
  assert.equal(code, 0);
  const ip = nb.tables.ip.find((o) => o.address === "2001:db8::10/64")!;
  assert.equal(nb.get("vm", vm.id)!.primary_ip6.id, ip.id);
  assert.equal(nb.get("vm", vm.id)!.primary_ip4, null);
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
  const ip = nb.tables.ip.find((o) => o.address === "10.9.0.5/24")!;
  assert.equal(ip.assigned_object_id, mgmt.id);
  assert.equal(nb.get("device", foxtrot.id)!.oob_ip.id, ip.id);
  assert.deepEqual(r.doc.items[0].actions, ["created-ip", "set-oob"]);
  const vm = await run(nb, [...VM_ARGS, "--oob"]);
  assert.equal(vm.code, 2);
  assert.match(vm.stderr, /devices only/);
});

Deno.test("assign-primary-ip reuses an existing IP and sends only the changed fields", async () => {
  const { nb, eth0 } = inventory();
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
  assert.equal(nb.tables.ip.length, 1);
  assert.equal(nb.get("ip", ip.id)!.assigned_object_id, eth0.id);
  assert.deepEqual(doc.items[0].actions, ["updated-ip", "assigned", "set-primary"]);
  assert.ok(nb.writes().some((w) => w === `PATCH ipam/ip-addresses/${ip.id}`));
});

Deno.test("assign-primary-ip refuses an IP assigned elsewhere with exit 3 naming it", async () => {
  const { nb, eth1 } = inventory();
  nb.add("ip", {
    address: "192.168.3.10/24",
    assigned_object_type: "dcim.interface",
    assigned_object_id: eth1.id,
  });
  const r = await run(nb, VM_ARGS);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /assigned to device foxtrot interface eth1; add --move/);
  assert.deepEqual(nb.writes(), []);
});

Deno.test("assign-primary-ip --move clears the blocking primary designation and moves the IP", async () => {
  const { nb, eth1, foxtrot, vm, eth0 } = inventory();
  const ip = nb.add("ip", {
    address: "192.168.3.10/24",
    assigned_object_type: "dcim.interface",
    assigned_object_id: eth1.id,
  });
  nb.tables.device.find((d) => d.id === foxtrot.id)!.primary_ip4 = { id: ip.id };
  const { code, doc, stderr } = await run(nb, [...VM_ARGS, "--move"]);
  assert.equal(code, 0, stderr);
  assert.deepEqual(doc.items[0].actions, ["cleared-primary", "moved", "set-primary"]);
  assert.equal(nb.get("device", foxtrot.id)!.primary_ip4, null);
  assert.equal(nb.get("ip", ip.id)!.assigned_object_id, eth0.id);
  assert.equal(nb.get("vm", vm.id)!.primary_ip4.id, ip.id);
});

Deno.test("assign-primary-ip refuses an address present in several VRFs without --vrf", async () => {
  const { nb } = inventory();
  const red = nb.add("vrf", { name: "red" });
  const blue = nb.add("vrf", { name: "blue" });
  nb.add("ip", { address: "192.168.3.10/24", vrf: red.id });
  nb.add("ip", { address: "192.168.3.10/24", vrf: blue.id });
  const r = await run(nb, VM_ARGS);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /exists in 2 VRFs/);
  assert.match(r.stderr, /red/);
  assert.match(r.stderr, /blue/);
  const ok = await run(nb, [...VM_ARGS, "--vrf", "blue"]);
  assert.equal(ok.code, 0, ok.stderr);
});

Deno.test("assign-primary-ip --from-prefix allocates through available-ips, then reuses it", async () => {
  const { nb, prefix, vm } = inventory();
  nb.add("ip", { address: "192.168.3.1/24" });
  const first = await run(nb, ["--vm", "docker-01", "--from-prefix", "192.168.3.0/24"]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.doc.items[0].address, "192.168.3.2/24");
  assert.ok(nb.writes().includes(`POST ipam/prefixes/${prefix.id}/available-ips`));
  const ip = nb.tables.ip.find((o) => o.address === "192.168.3.2/24")!;
  assert.equal(nb.get("vm", vm.id)!.primary_ip4.id, ip.id);
  const writes = nb.writes().length;
  const second = await run(nb, ["--vm", "docker-01", "--from-prefix", String(prefix.id)]);
  assert.deepEqual(second.doc.items[0].actions, ["unchanged"]);
  assert.equal(nb.writes().length, writes);
});

Deno.test("assign-primary-ip --dry-run prints each step and writes nothing", async () => {
  const { nb } = inventory();
  const r = await run(nb, [...VM_ARGS, "--dry-run"]);
  assert.equal(r.code, 0);
  assert.deepEqual(nb.writes(), []);
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
});

Deno.test("assign-primary-ip picks the only interface and can create a missing one", async () => {
  const { nb, vm } = inventory();
  const only = await run(nb, ["--vm", "docker-01", "--address", "192.168.3.20/24"]);
  assert.equal(only.doc.items[0].interface, "eth0");
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
  assert.ok(nb.tables.vminterface.some((i) => i.name === "eth9" && i.virtual_machine.id === vm.id));
});

Deno.test("assign-primary-ip with a read-only token is refused before any write", async () => {
  const { nb } = inventory({ readOnly: true });
  const r = await run(nb, VM_ARGS);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /read-only/);
  assert.deepEqual(nb.writes(), []);
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
      virtual_machine: nb.tables.vm.find((v) => v.name === w)!.id,
    });
  }
  const r = await run(nb, ["--file", "rows.yaml"], { "rows.yaml": yaml });
  assert.equal(r.code, 1);
  assert.equal(r.doc.summary.done, 3);
  assert.equal(r.doc.summary.failed, 2);
  assert.match(r.stderr, /rows\.yaml:6: Cannot find virtual machine "ghost"/);
  assert.match(r.stderr, /rows\.yaml:8: address "192\.168\.3\.34" needs a mask/);
  assert.ok(nb.tables.ip.some((ip) => ip.address === "192.168.3.35/24"));
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
});
