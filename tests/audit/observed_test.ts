import assert from "node:assert/strict";
import { InputError } from "../../lib/client/errors.ts";
import {
  detectObservedFormat,
  type Observation,
  parseObservations,
  parseObservedSpec,
} from "../../lib/audit/observed.ts";

const assertEquals = (a: unknown, b: unknown) => assert.deepEqual(a, b);

function assertThrows(fn: () => unknown, cls: typeof InputError, includes = ""): Error {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err}`);
    assert.ok((err as Error).message.includes(includes), (err as Error).message);
    return err as Error;
  }
  throw new Error("expected an error");
}

const DIR = new URL("../fixtures/observed/", import.meta.url);
const NOW = new Date("2026-12-01T12:00:00Z");

function read(name: string): Observation[] {
  const text = Deno.readTextFileSync(new URL(name, DIR));
  return parseObservations(text, { file: name, now: NOW });
}

function brief(obs: Observation[]): string[] {
  return obs.map((o) => `${o.address} ${o.mac ?? "-"}`);
}

const CASES: [string, string, string[]][] = [
  ["ip-neigh.txt", "ip-neigh", [
    "10.0.0.1 00:11:22:33:44:01",
    "10.0.0.2 00:11:22:33:44:02",
    "10.0.0.5 00:11:22:33:44:02",
  ]],
  ["ip6-neigh.txt", "ip-neigh", ["2001:db8::1 00:11:22:33:44:01"]],
  ["arp-an.txt", "arp-an", ["10.0.0.1 00:11:22:33:44:01", "10.0.0.2 00:11:22:33:44:02"]],
  ["ios-arp.txt", "ios-arp", ["10.0.0.1 00:11:22:33:44:01", "10.0.0.2 00:11:22:33:44:02"]],
  ["nxos-arp.txt", "nxos-arp", ["10.0.0.1 00:11:22:33:44:01", "10.0.0.2 00:11:22:33:44:02"]],
  ["ios-ipv6-neighbors.txt", "ios-ipv6-neighbors", ["2001:db8::1 00:11:22:33:44:01"]],
  ["junos-arp.txt", "junos-arp", ["10.0.0.1 00:11:22:33:44:01", "10.0.0.2 00:11:22:33:44:02"]],
  ["dhcpd.leases", "dhcpd-leases", [
    "10.0.0.50 00:11:22:33:44:50",
    "10.0.0.52 00:11:22:33:44:50",
    "10.0.0.51 00:11:22:33:44:51",
  ]],
  ["dhcpd6.leases", "dhcpd-leases", ["2001:db8::50 -"]],
  ["kea-leases4.csv", "kea-csv", ["10.0.0.60 00:11:22:33:44:60", "10.0.0.63 00:11:22:33:44:60"]],
  ["kea-leases6.csv", "kea-csv", ["2001:db8::60 00:11:22:33:44:60"]],
  ["dnsmasq.leases", "dnsmasq-leases", [
    "10.0.0.70 00:11:22:33:44:70",
    "10.0.0.71 00:11:22:33:44:71",
    "2001:db8::70 -",
  ]],
  ["nmap.xml", "nmap-xml", ["10.0.0.1 00:11:22:33:44:01", "10.0.0.2 -"]],
  ["plain.csv", "csv", [
    "10.0.0.1 00:11:22:33:44:01",
    "10.0.0.2 -",
    "2001:db8::1 00:11:22:33:44:01",
  ]],
  ["plain.json", "json", ["10.0.0.1 00:11:22:33:44:01", "10.0.0.2 -"]],
];

for (const [file, format, expected] of CASES) {
  Deno.test(`parseObservations() reads ${file} as ${format}: live entries only`, () => {
    const text = Deno.readTextFileSync(new URL(file, DIR));
    assertEquals(detectObservedFormat(text), format);
    const obs = read(file);
    assertEquals(brief(obs), expected);
    assertEquals(obs.every((o) => o.format === format && o.vrf === null), true);
  });
}

Deno.test("parseObservations() keeps each entry's source line and time", () => {
  const [a, b] = read("plain.csv");
  assertEquals([a.source, a.seen_at], ["switch-a", "2026-12-01T08:00:00.000Z"]);
  assertEquals([b.source, b.seen_at], ["plain.csv:3", "2026-11-20T08:00:00.000Z"]);
  const ios = read("ios-arp.txt");
  assertEquals(ios.map((o) => o.source), ["ios-arp.txt:3", "ios-arp.txt:4"]);
  assertEquals(ios[0].seen_at, NOW.toISOString());
  const nmap = read("nmap.xml");
  assertEquals(nmap[1].seen_at, new Date(1796100005_000).toISOString());
});

Deno.test("parseObservations() refuses a file of no known format, naming the formats", () => {
  const text = Deno.readTextFileSync(new URL("not-observations.txt", DIR));
  const err = assertThrows(
    () => parseObservations(text, { file: "letter.txt", now: NOW }),
    InputError,
  );
  assertEquals(err.message.startsWith("Cannot read observations letter.txt: not one of"), true);
});

Deno.test("parseObservations() refuses the whole file on one bad line, naming file:line", () => {
  const text = Deno.readTextFileSync(new URL("bad-line.txt", DIR));
  assertThrows(
    () => parseObservations(text, { file: "bad-line.txt", now: NOW }),
    InputError,
    'bad-line.txt:2 (ip-neigh): "10.0.0.300" is not an IP address',
  );
  assertThrows(
    () => parseObservations("10.0.0.1 dev eth0 lladdr zz:zz REACHABLE\n", { file: "n", now: NOW }),
    InputError,
    'n:1 (ip-neigh): "zz:zz" is not a MAC address',
  );
  assertThrows(
    () => parseObservations("lease 10.0.0.1 {\n  binding state active;\n", { file: "l", now: NOW }),
    InputError,
    "l:3 (dhcpd-leases): the file ends inside a block",
  );
  assertThrows(
    () =>
      parseObservations(
        "Protocol  Address Age (min) Hardware Addr Type Interface\nbogus row\n",
        { file: "r", now: NOW },
      ),
    InputError,
    "r:2 (ios-arp)",
  );
  assertThrows(
    () => parseObservations("address,mac\n10.0.0.1,aa,bb,cc,dd\n", { file: "c", now: NOW }),
    InputError,
    "c:2 (csv): expected 2 columns",
  );
});

Deno.test("parseObservations() with a named format refuses content of another", () => {
  const text = Deno.readTextFileSync(new URL("arp-an.txt", DIR));
  assertThrows(
    () => parseObservations(text, { file: "a", format: "junos-arp", now: NOW }),
    InputError,
    "a:1 (junos-arp): expected the header",
  );
});

Deno.test("parseObservations() keeps the latest sighting of an address seen twice", () => {
  const obs = parseObservations(
    "address,seen_at\n10.0.0.1,2026-11-01T00:00:00Z\n10.0.0.1,2026-11-05T00:00:00Z\n" +
      "10.0.0.1,2026-11-03T00:00:00Z\n",
    { file: "x.csv", now: NOW, vrf: "blue" },
  );
  assertEquals(obs.map((o) => [o.seen_at, o.source, o.vrf]), [
    ["2026-11-05T00:00:00.000Z", "x.csv:3", "blue"],
  ]);
});

Deno.test("parseObservedSpec() splits vrf=NAME:FILE and refuses half of it", () => {
  assertEquals(parseObservedSpec("vrf=tenant-a:/tmp/arp.txt"), {
    vrf: "tenant-a",
    file: "/tmp/arp.txt",
  });
  assertEquals(parseObservedSpec("arp.txt"), { vrf: null, file: "arp.txt" });
  assertThrows(() => parseObservedSpec("vrf=blue"), InputError, "expected FILE or vrf=NAME:FILE");
});
