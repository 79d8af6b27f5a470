import assert from "node:assert/strict";
import { main } from "../../tasks/find-free-ip.ts";
import { fakeIO, FakeNetBox } from "../_fake_netbox.ts";

function setup(options: { maxPageSize?: number; readOnly?: boolean } = {}) {
  const nb = new FakeNetBox(options);
  const prefix = nb.add("prefix", { prefix: "192.168.3.0/24", vrf: null, status: "active" });
  nb.add("ip", { address: "192.168.3.1/24" });
  nb.add("ip", { address: "192.168.3.3/24" });
  return { nb, prefix };
}

async function run(nb: FakeNetBox, args: string[]) {
  const { io, out } = fakeIO(nb);
  const code = await main([...args, "--format", "json"], io);
  const doc = out.stdout ? JSON.parse(out.stdout) : undefined;
  return { code, doc, stderr: out.stderr };
}

const addresses = (doc: { items: { address: string }[] }) => doc.items.map((i) => i.address);

Deno.test("find-free-ip lists the first free addresses of a prefix in the global table", async () => {
  const { nb } = setup();
  const { code, doc } = await run(nb, ["--prefix", "192.168.3.0/24", "--count", "3"]);
  assert.equal(code, 0);
  assert.deepEqual(addresses(doc), ["192.168.3.2/24", "192.168.3.4/24", "192.168.3.5/24"]);
  assert.ok(doc.items.every((i: { action: string }) => i.action === "free"));
  assert.ok(
    nb.requests.some((r) => r.includes("vrf_id=null")),
    "global table asked with vrf_id=null",
  );
  assert.deepEqual(nb.writes(), []);
});

Deno.test("find-free-ip lists beyond the server's cap by computing the rest", async () => {
  const { nb } = setup({ maxPageSize: 50 });
  const { code, doc } = await run(nb, ["--prefix", "192.168.3.0/24", "--count", "200"]);
  assert.equal(code, 0);
  const list = addresses(doc);
  assert.equal(list.length, 200);
  assert.equal(new Set(list).size, 200);
  assert.ok(!list.includes("192.168.3.1/24") && !list.includes("192.168.3.3/24"));
  assert.equal(list.at(-1), "192.168.3.202/24");
});

Deno.test("find-free-ip exits 1 and lists what there is when fewer are free", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "10.0.0.0/29", vrf: null });
  const { code, doc, stderr } = await run(nb, ["--prefix", "10.0.0.0/29", "--count", "10"]);
  assert.equal(code, 1);
  assert.equal(doc.items.length, 6);
  assert.match(stderr, /only 6 free addresses in 10\.0\.0\.0\/29/);
});

Deno.test("find-free-ip --skip leaves the first usable addresses out", async () => {
  const { nb } = setup();
  const { doc } = await run(nb, ["--prefix", "192.168.3.0/24", "--skip", "4", "--count", "2"]);
  assert.deepEqual(addresses(doc), ["192.168.3.5/24", "192.168.3.6/24"]);
});

Deno.test("find-free-ip returns the first addresses of an IPv6 /64 at once", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "2001:db8:1::/64", vrf: null });
  const { doc } = await run(nb, ["--prefix", "2001:db8:1::/64", "--count", "3"]);
  assert.deepEqual(addresses(doc), ["2001:db8:1::1/64", "2001:db8:1::2/64", "2001:db8:1::3/64"]);
});

Deno.test("find-free-ip --vrf looks the prefix up in that VRF", async () => {
  const nb = new FakeNetBox();
  const vrf = nb.add("vrf", { name: "blue", rd: "65000:1" });
  nb.add("prefix", { prefix: "10.1.0.0/24", vrf: null });
  nb.add("prefix", { prefix: "10.1.0.0/24", vrf: vrf.id });
  nb.add("ip", { address: "10.1.0.1/24", vrf: vrf.id });
  const { code, doc } = await run(nb, ["--prefix", "10.1.0.0/24", "--vrf", "65000:1"]);
  assert.equal(code, 0);
  assert.deepEqual(addresses(doc), ["10.1.0.2/24"]);
  assert.equal(doc.items[0].vrf, "blue");
});

Deno.test("find-free-ip --filter uses the first matching prefix with enough room", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "10.2.0.0/30", vrf: null, role: "servers" });
  nb.add("prefix", { prefix: "10.3.0.0/24", vrf: null, role: "servers" });
  const { code, doc } = await run(nb, ["--filter", "role=servers", "--count", "3"]);
  assert.equal(code, 0);
  assert.equal(doc.summary.pool, "10.3.0.0/24");
  assert.deepEqual(addresses(doc), ["10.3.0.1/24", "10.3.0.2/24", "10.3.0.3/24"]);
});

Deno.test("find-free-ip --reserve creates named addresses in one available-ips POST", async () => {
  const { nb, prefix } = setup();
  nb.add("tag", { name: "production-dns", slug: "production-dns" });
  const { code, doc } = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--count",
    "3",
    "--dns-name",
    "k8s-{n:02}-worker.spaceships.work",
    "--tag",
    "production-dns",
  ]);
  assert.equal(code, 0);
  assert.deepEqual(nb.writes(), [`POST ipam/prefixes/${prefix.id}/available-ips`]);
  assert.deepEqual(doc.items.map((i: { dns_name: string }) => i.dns_name), [
    "k8s-01-worker.spaceships.work",
    "k8s-02-worker.spaceships.work",
    "k8s-03-worker.spaceships.work",
  ]);
  assert.ok(
    doc.items.every((i: { action: string; id: number }) => i.action === "reserved" && i.id > 0),
  );
  const created = nb.table("ip").filter((ip) => ip.dns_name.startsWith("k8s-"));
  assert.equal(created.length, 3);
  assert.ok(created.every((ip) => ip.tags[0]?.slug === "production-dns"));
});

Deno.test("find-free-ip --reserve with an existing --dns-name returns it and writes nothing", async () => {
  const { nb } = setup();
  nb.add("ip", { address: "192.168.3.77/24", dns_name: "web.example.com" });
  const { code, doc } = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--dns-name",
    "web.example.com",
  ]);
  assert.equal(code, 0);
  assert.deepEqual(nb.writes(), []);
  assert.equal(doc.items[0].action, "existing");
  assert.equal(doc.items[0].address, "192.168.3.77/24");
  const again = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--dns-name",
    "web.example.com",
    "--new",
  ]);
  assert.equal(again.doc.items[0].action, "reserved");
});

Deno.test("find-free-ip --reserve that does not fit exits 1 and creates nothing", async () => {
  const nb = new FakeNetBox();
  nb.add("prefix", { prefix: "192.168.3.0/29", vrf: null });
  nb.add("ip", { address: "192.168.3.1/29" });
  nb.add("ip", { address: "192.168.3.2/29" });
  nb.add("ip", { address: "192.168.3.3/29" });
  nb.add("ip", { address: "192.168.3.4/29" });
  const { code, stderr } = await run(nb, [
    "--prefix",
    "192.168.3.0/29",
    "--reserve",
    "--count",
    "5",
  ]);
  assert.equal(code, 1);
  assert.match(stderr, /Cannot reserve 5 addresses in 192\.168\.3\.0\/29: 2 free/);
  assert.deepEqual(nb.writes(), []);
  assert.equal(nb.table("ip").length, 4);
});

Deno.test("find-free-ip turns the server's 409 into exit 1 with the free count", async () => {
  const nb = new FakeNetBox();
  const prefix = nb.add("prefix", { prefix: "192.168.3.0/29", vrf: null });
  const { io, out } = fakeIO(nb);
  // Another client takes addresses between our listing and our POST.
  const inner = io.fetch;
  io.fetch = (input, init) => {
    if (init?.method === "POST") {
      for (const a of ["1", "2", "3", "4", "5"]) nb.add("ip", { address: `192.168.3.${a}/29` });
    }
    return inner(input, init);
  };
  const code = await main(["--prefix", "192.168.3.0/29", "--reserve", "--count", "2"], io);
  assert.equal(code, 1);
  assert.match(out.stderr, /Cannot reserve 2 addresses in 192\.168\.3\.0\/29: 1 free/);
  assert.deepEqual(nb.writes(), [`POST ipam/prefixes/${prefix.id}/available-ips`]);
});

Deno.test("find-free-ip rejects an invalid DNS name before sending anything", async () => {
  const { nb } = setup();
  const bad = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--dns-name",
    "bad name.example",
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a valid DNS name/);
  const house = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--dns-name",
    "web.example.com",
    "--dns-pattern",
    String.raw`^[a-z0-9-]+-\d{2}-[a-z0-9-]+\.[a-z0-9.-]+$`,
  ]);
  assert.equal(house.code, 2);
  assert.match(house.stderr, /does not match the pattern/);
  assert.deepEqual(nb.requests, []);
});

Deno.test("find-free-ip refuses a plain --dns-name for several addresses", async () => {
  const { nb } = setup();
  const r = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--count",
    "2",
    "--dns-name",
    "a.example",
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /use a template/);
});

Deno.test("find-free-ip --reserve needs existing tags unless --create-tags", async () => {
  const { nb } = setup();
  const r = await run(nb, ["--prefix", "192.168.3.0/24", "--reserve", "--tag", "nope"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no such tag/);
  assert.deepEqual(nb.writes(), []);
  const c = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--tag",
    "nope",
    "--create-tags",
  ]);
  assert.equal(c.code, 0);
  assert.equal(nb.table("tag")[0].slug, "nope");
});

Deno.test("find-free-ip --reserve --skip creates the addresses explicitly past the skipped ones", async () => {
  const { nb } = setup();
  const { code, doc } = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--skip",
    "5",
    "--count",
    "2",
  ]);
  assert.equal(code, 0);
  assert.deepEqual(addresses(doc), ["192.168.3.6/24", "192.168.3.7/24"]);
  assert.deepEqual(nb.writes(), ["POST ipam/ip-addresses"]);
});

Deno.test("find-free-ip --reserve --skip uses the locked path when the skipped ones are taken", async () => {
  const { nb, prefix } = setup();
  const { doc } = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--skip",
    "1",
    "--count",
    "1",
  ]);
  assert.deepEqual(addresses(doc), ["192.168.3.2/24"]);
  assert.deepEqual(nb.writes(), [`POST ipam/prefixes/${prefix.id}/available-ips`]);
});

Deno.test("find-free-ip without --reserve works with a read-only token; --reserve is refused", async () => {
  const { nb } = setup({ readOnly: true });
  assert.equal((await run(nb, ["--prefix", "192.168.3.0/24"])).code, 0);
  const r = await run(nb, ["--prefix", "192.168.3.0/24", "--reserve"]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /read-only/);
  assert.deepEqual(nb.writes(), []);
});

Deno.test("find-free-ip --dry-run --reserve shows the plan and writes nothing", async () => {
  const { nb } = setup();
  const { code, doc } = await run(nb, [
    "--prefix",
    "192.168.3.0/24",
    "--reserve",
    "--count",
    "2",
    "--dry-run",
  ]);
  assert.equal(code, 0);
  assert.deepEqual(doc.items.map((i: { action: string }) => i.action), [
    "would-reserve",
    "would-reserve",
  ]);
  assert.deepEqual(nb.writes(), []);
});

Deno.test("find-free-ip --range lists free addresses of an IP range", async () => {
  const nb = new FakeNetBox();
  nb.add("range", { start_address: "10.5.0.10/24", end_address: "10.5.0.12/24", vrf: null });
  nb.add("ip", { address: "10.5.0.11/24" });
  const { doc } = await run(nb, ["--range", "10.5.0.10-10.5.0.12", "--count", "5"]);
  assert.deepEqual(addresses(doc), ["10.5.0.10/24", "10.5.0.12/24"]);
});

Deno.test("find-free-ip usage errors exit 2 without a request", async () => {
  const { nb } = setup();
  for (
    const args of [
      [],
      ["--prefix", "10.0.0.0/24", "--prefix-id", "1"],
      ["--prefix", "10.0.0.0/33"],
      ["--prefix", "10.0.0.0/24", "--count", "0"],
      ["--prefix", "10.0.0.0/24", "--status", "reserved"],
      ["--prefix", "10.0.0.0/24", "--reserve", "--role", "boss"],
    ]
  ) {
    assert.equal((await run(nb, args)).code, 2, args.join(" "));
  }
  assert.deepEqual(nb.requests, []);
});

Deno.test("find-free-ip names a missing prefix with exit 3", async () => {
  const { nb } = setup();
  const r = await run(nb, ["--prefix", "172.16.0.0/24"]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /Cannot find prefix 172\.16\.0\.0\/24 in the global table/);
});

Deno.test("find-free-ip lists beyond the server's cap in an IP range too", async () => {
  const nb = new FakeNetBox({ maxPageSize: 5 });
  nb.add("range", { start_address: "10.6.0.10/24", end_address: "10.6.0.40/24", vrf: null });
  nb.add("ip", { address: "10.6.0.12/24" });
  const { code, doc } = await run(nb, ["--range", "10.6.0.10-10.6.0.40", "--count", "8"]);
  assert.equal(code, 0);
  assert.deepEqual(addresses(doc), [
    "10.6.0.10/24",
    "10.6.0.11/24",
    "10.6.0.13/24",
    "10.6.0.14/24",
    "10.6.0.15/24",
    "10.6.0.16/24",
    "10.6.0.17/24",
    "10.6.0.18/24",
  ]);
});

Deno.test("find-free-ip's table of free addresses shows only columns that carry data", async () => {
  const { nb } = setup();
  const global = fakeIO(nb);
  assert.equal(await main(["--prefix", "192.168.3.0/24", "--count", "2"], global.io), 0);
  assert.equal(
    global.out.stdout,
    "ADDRESS         ACTION\n192.168.3.2/24  free\n192.168.3.4/24  free\n",
  );
  const vrf = nb.add("vrf", { name: "mgmt", rd: null });
  nb.add("prefix", { prefix: "10.9.0.0/29", vrf: { id: vrf.id, name: "mgmt" }, status: "active" });
  const inVrf = fakeIO(nb);
  assert.equal(
    await main(["--prefix", "10.9.0.0/29", "--vrf", "mgmt", "--count", "1"], inVrf.io),
    0,
  );
  assert.equal(inVrf.out.stdout, "ADDRESS      VRF   ACTION\n10.9.0.1/29  mgmt  free\n");
});
