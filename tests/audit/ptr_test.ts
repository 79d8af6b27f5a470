import assert from "node:assert/strict";
import dgram from "node:dgram";
import { checkPtr, parseNameserver, reverseName, systemPtrResolver } from "../../lib/audit/ptr.ts";
import { defaultAuditConfig } from "../../lib/audit/rules.ts";
import { InputError } from "../../lib/client/errors.ts";

/** A loopback DNS server answering PTR queries from a table (NXDOMAIN otherwise). */
async function dnsServer(table: Record<string, string[]>) {
  const socket = dgram.createSocket("udp4");
  const asked: string[] = [];
  socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
    const labels: string[] = [];
    let i = 12;
    while (msg[i] !== 0) {
      labels.push(new TextDecoder().decode(msg.slice(i + 1, i + 1 + msg[i])));
      i += msg[i] + 1;
    }
    const question = msg.slice(12, i + 5);
    const name = labels.join(".").toLowerCase();
    asked.push(name);
    const answers = table[name] ?? [];
    const header = new Uint8Array(12);
    header.set(msg.slice(0, 2)); // id
    header[2] = 0x81; // response, recursion desired
    header[3] = answers.length ? 0x80 : 0x83; // recursion available; NXDOMAIN when none
    header[5] = 1; // one question
    header[7] = answers.length;
    const parts: number[] = [...header, ...question];
    for (const target of answers) {
      const rdata = target.split(".").filter(Boolean).flatMap((l) => [
        l.length,
        ...new TextEncoder().encode(l),
      ]).concat([0]);
      parts.push(0xc0, 0x0c, 0, 12, 0, 1, 0, 0, 0, 60, rdata.length >> 8, rdata.length & 0xff);
      parts.push(...rdata);
    }
    socket.send(new Uint8Array(parts), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = (socket.address() as { port: number }).port;
  return { port, asked, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

Deno.test("checkPtr() asks a loopback DNS server and reports PTRs that do not name the address", async () => {
  const server = await dnsServer({
    "1.0.0.10.in-addr.arpa": ["a.example."],
    "2.0.0.10.in-addr.arpa": ["other.example."],
  });
  try {
    const resolver = systemPtrResolver(parseNameserver(`127.0.0.1:${server.port}`));
    const findings = await checkPtr(
      [
        { id: 1, address: "10.0.0.1/24", dns_name: "A.example" }, // matches (case)
        { id: 2, address: "10.0.0.2/24", dns_name: "b.example" }, // names another
        { id: 3, address: "10.0.0.3/24", dns_name: "c.example" }, // no PTR
        { id: 4, address: "10.0.0.4/24", dns_name: "" }, // not asked
        { id: 5, address: "10.0.0.5/24", dns_name: "e.example", tags: [{ slug: "audit-ignore" }] },
      ],
      defaultAuditConfig(),
      resolver,
    );
    assert.deepEqual(findings.map((f) => [f.object_id, f.message]), [
      [2, "the PTR of 10.0.0.2 names other.example, not its DNS name b.example"],
      [3, "10.0.0.3 has no PTR record (its DNS name is c.example)"],
    ]);
    assert.deepEqual(server.asked.sort(), [
      "1.0.0.10.in-addr.arpa",
      "2.0.0.10.in-addr.arpa",
      "3.0.0.10.in-addr.arpa",
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("reverseName() and parseNameserver() follow DNS's and the flag's forms", () => {
  assert.equal(reverseName("192.0.2.10"), "10.2.0.192.in-addr.arpa");
  assert.equal(
    reverseName("2001:db8::1/64"),
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
  );
  assert.deepEqual(parseNameserver("[::1]:5353"), { ipAddr: "::1", port: 5353 });
  assert.deepEqual(parseNameserver("127.0.0.1"), { ipAddr: "127.0.0.1", port: 53 });
  for (const bad of ["ns.example", "127.0.0.1:0", "127.0.0.1:x"]) {
    assert.throws(() => parseNameserver(bad), InputError, bad);
  }
});
