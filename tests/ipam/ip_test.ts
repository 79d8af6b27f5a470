import assert from "node:assert/strict";
import {
  contains,
  coveringNetwork,
  formatCidr,
  formatIp,
  hostOf,
  parseCidr,
  parseIp,
  parseSpan,
  usableSpan,
} from "../../lib/ipam/ip.ts";

const v6 = (text: string) => formatIp(parseIp(text));

Deno.test("parseIp() reads IPv4 and rejects bad octets", () => {
  assert.equal(parseIp("192.168.3.10").value, 0xc0a8030an);
  assert.equal(parseIp("255.255.255.255").value, 0xffffffffn);
  for (const bad of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "a.b.c.d", ""]) {
    assert.throws(() => parseIp(bad), /Cannot parse IP address/, bad);
  }
});

Deno.test("parseIp() reads IPv6 in every written form", () => {
  assert.equal(parseIp("::").value, 0n);
  assert.equal(parseIp("::1").value, 1n);
  assert.equal(parseIp("2001:db8::").value, 0x20010db8n << 96n);
  assert.equal(parseIp("::ffff:1.2.3.4").value, 0xffff01020304n);
  assert.equal(parseIp("1:2:3:4:5:6:7:8").value, 0x00010002000300040005000600070008n);
  for (const bad of ["1::2::3", "1:2:3:4:5:6:7", "12345::", "1:2:3:4:5:6:7:8:9", "::g", ":1::"]) {
    assert.throws(() => parseIp(bad), /Cannot parse IP address/, bad);
  }
});

Deno.test("formatIp() prints IPv6 the way NetBox (netaddr) does", () => {
  // Expected values taken from netaddr 1.x on the NetBox 4.7.3 venv.
  assert.equal(v6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  assert.equal(v6("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
  assert.equal(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
  assert.equal(v6("::1.2.3.4"), "::1.2.3.4");
  assert.equal(v6("0:0:0:0:0:0:0:0"), "::");
  assert.equal(v6("1:0:0:0:0:0:0:0"), "1::");
  assert.equal(v6("FE80:0:0:0:0:0:0:0"), "fe80::");
  assert.equal(v6("::1"), "::1");
  assert.equal(v6("::ffff"), "::ffff");
  assert.equal(v6("::1:0"), "::0.1.0.0");
  assert.equal(v6("::ffff:0:1"), "::ffff:0.0.0.1");
  assert.equal(v6("::2:0:0"), "::2:0:0");
  assert.equal(v6("0:0:0:0:1:0:0:0"), "::1:0:0:0");
  assert.equal(v6("1:0:1:0:0:1:0:0"), "1:0:1::1:0:0");
});

Deno.test("parseCidr() keeps the written address and computes the network", () => {
  const net = parseCidr("10.1.2.3/16");
  assert.equal(formatCidr(net), "10.1.2.3/16");
  assert.equal(formatCidr(net, { network: true }), "10.1.0.0/16");
  assert.equal(net.last, 0x0a01ffffn);
  assert.equal(parseCidr("10.0.0.1").prefixLength, 32);
  assert.equal(parseCidr("2001:db8::/64").last, (0x20010db8n << 96n) | ((1n << 64n) - 1n));
  assert.throws(() => parseCidr("10.0.0.0/33"), /prefix length must be 0-32/);
  assert.throws(() => parseCidr("10.0.0.0/x"), /Cannot parse CIDR/);
});

Deno.test("contains() checks family and bounds", () => {
  const net = parseCidr("192.168.3.0/24");
  assert.ok(contains(net, parseIp("192.168.3.255")));
  assert.ok(!contains(net, parseIp("192.168.4.0")));
  assert.ok(!contains(parseCidr("::/0"), parseIp("1.2.3.4")));
});

Deno.test("usableSpan() follows NetBox's network/broadcast rules", () => {
  const s = (cidr: string, pool = false) => {
    const span = usableSpan(parseCidr(cidr), pool);
    return `${formatIp({ family: span.family, value: span.start })}-${
      formatIp({ family: span.family, value: span.end })
    }`;
  };
  assert.equal(s("10.0.0.0/29"), "10.0.0.1-10.0.0.6");
  assert.equal(s("10.0.0.0/29", true), "10.0.0.0-10.0.0.7");
  assert.equal(s("10.0.0.0/31"), "10.0.0.0-10.0.0.1");
  assert.equal(s("10.0.0.0/32"), "10.0.0.0-10.0.0.0");
  assert.equal(s("2001:db8::/64"), "2001:db8::1-2001:db8::ffff:ffff:ffff:ffff");
  assert.equal(s("2001:db8::/127"), "2001:db8::-2001:db8::1");
  assert.equal(s("2001:db8::/64", true), "2001:db8::-2001:db8::ffff:ffff:ffff:ffff");
});

Deno.test("parseSpan() reads START-END with or without masks", () => {
  const span = parseSpan("10.0.0.10/24-10.0.0.20/24");
  assert.equal(span.end - span.start, 10n);
  assert.throws(() => parseSpan("10.0.0.20-10.0.0.10"), /start is after the end/);
  assert.throws(() => parseSpan("10.0.0.1-::1"), /different families/);
  assert.throws(() => parseSpan("10.0.0.1"), /expected START-END/);
});

Deno.test("hostOf() drops the mask", () => {
  assert.equal(formatIp(hostOf("2001:db8::5/64")), "2001:db8::5");
});

Deno.test("coveringNetwork() finds the smallest network holding a span", () => {
  assert.equal(formatCidr(coveringNetwork(parseSpan("10.0.0.10-10.0.0.20"))), "10.0.0.0/27");
  assert.equal(formatCidr(coveringNetwork(parseSpan("10.0.0.10-10.0.0.10"))), "10.0.0.10/32");
  assert.equal(formatCidr(coveringNetwork(parseSpan("0.0.0.0-255.255.255.255"))), "0.0.0.0/0");
  assert.equal(
    formatCidr(coveringNetwork(parseSpan("2001:db8::1-2001:db8::1:0"))),
    "2001:db8::/111",
  );
});
