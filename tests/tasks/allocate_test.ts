/**
 * tasks/allocate.ts through main() against the fake NetBox: flags, output, exit codes, and bad
 * input refused with one line before anything is sent.
 */
import assert from "node:assert/strict";
import { main } from "../../tasks/allocate.ts";
import { fakeIO, FakeNetBox } from "../_fake_netbox.ts";

async function run(nb: FakeNetBox, args: string[]) {
  const { io, out } = fakeIO(nb);
  const code = await main([...args, "--format", "json"], io);
  const doc = out.stdout ? JSON.parse(out.stdout) : undefined;
  return { code, doc, stderr: out.stderr };
}

function setup() {
  const nb = new FakeNetBox();
  const parent = nb.add("prefix", { prefix: "10.30.0.0/29", status: "container" });
  const group = nb.add("vlangroup", { name: "g1", slug: "g1", vid_ranges: [[5, 6]] });
  nb.add("ipam/asn-ranges", { name: "r1", slug: "r1", start: 65000, end: 65000, rir: null });
  return { nb, parent, group };
}

Deno.test("allocate --help shows each kind with an example", async () => {
  const { io, out } = fakeIO(new FakeNetBox());
  assert.equal(await main(["--help"], io), 0);
  for (const kind of ["prefix", "vlan", "asn", "ip"]) {
    assert.match(out.stdout, new RegExp(`allocate ${kind} --`), kind);
  }
});

Deno.test("allocate prefix --key: allocated, then the same prefixes as existing with no write", async () => {
  const { nb } = setup();
  const args = [
    "prefix",
    "--parent",
    "10.30.0.0/29",
    "--length",
    "31",
    "--count",
    "2",
    "--key",
    "k",
  ];
  const first = await run(nb, args);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(
    first.doc.items.map((i: { value: string; action: string }) => `${i.value} ${i.action}`),
    ["10.30.0.0/31 allocated", "10.30.0.2/31 allocated"],
  );
  assert.equal(first.doc.summary.pool, "10.30.0.0/29");
  const writes = nb.writes().length;
  const again = await run(nb, args);
  assert.equal(again.code, 0);
  assert.deepEqual(again.doc.items.map((i: { action: string }) => i.action), [
    "existing",
    "existing",
  ]);
  assert.equal(nb.writes().length, writes);
});

Deno.test("allocate vlan and asn: a full pool is exit 3 naming it; --dry-run writes nothing", async () => {
  const { nb } = setup();
  const dry = await run(nb, [
    "vlan",
    "--group",
    "g1",
    "--name",
    "v-{n}",
    "--count",
    "2",
    "--dry-run",
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(dry.doc.items.map((i: { value: string }) => i.value), ["5", "6"]);
  assert.deepEqual(nb.writes(), []);
  const asn = await run(nb, ["asn", "--range", "r1"]);
  assert.equal(asn.code, 0, asn.stderr);
  assert.equal(asn.doc.items[0].value, "65000");
  const full = await run(nb, ["asn", "--range", "r1"]);
  assert.equal(full.code, 3);
  assert.match(full.stderr, /Cannot allocate 1 ASN: no pool has room: r1 \(full: 0 of 1 fit\)/);
});

Deno.test("allocate asn --min-days-left: the range forecast full too soon is skipped, and stderr says why", async () => {
  const nb = new FakeNetBox();
  nb.add("ipam/asn-ranges", { name: "r3", slug: "r3", start: 65200, end: 65209, rir: null });
  nb.add("ipam/asn-ranges", { name: "r4", slug: "r4", start: 65300, end: 65309, rir: null });
  // r3: one ASN a day for 5 days (since deleted), 10 free → 10 days left.
  nb.load(
    "core/object-changes",
    [4, 3, 2, 1, 0].map((daysAgo, i) => ({
      id: 100 + i,
      time: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
      action: { value: "create", label: "Created" },
      changed_object_type: "ipam.asn",
      postchange_data: { asn: 65200 + i, rir: 1 },
    })),
  );
  const args = ["asn", "--filter", "name=r3", "--filter", "name=r4", "--min-days-left"];
  const r = await run(nb, [...args, "14"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.doc.items[0].value, "65300");
  assert.match(r.stderr, /skipped r3: forecast: 10 days left \(< 14\)/);
  const soon = await run(nb, [...args, "9", "--dry-run"]);
  assert.equal(soon.doc.items[0].value, "65200");
});

Deno.test("allocate ip --key is find-free-ip's reservation, returned again on a re-run", async () => {
  const { nb } = setup();
  const args = ["ip", "--parent", "10.30.0.0/29", "--key", "gw", "--status", "reserved"];
  const first = await run(nb, args);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.doc.items[0].value, "10.30.0.1/29");
  const again = await run(nb, args);
  assert.equal(again.doc.items[0].action, "existing");
  assert.equal(nb.table("ip").length, 1);
});

Deno.test("allocate refuses bad input with exit 2, one line, and nothing sent", async () => {
  const cases: [string[], RegExp][] = [
    [[], /name a kind: prefix, vlan, asn, ip/],
    [["subnet"], /Cannot allocate "subnet"/],
    [
      ["prefix", "--parent", "10.30.0.0/29", "--length", "31", "--count", "0"],
      /--count: expected an integer >= 1/,
    ],
    [
      ["vlan", "--group", "g1", "--length", "24", "--name", "x"],
      /--length with vlan: only with prefix/,
    ],
    [["prefix", "--length", "31"], /give one of --parent, --parent-id, --filter/],
    [["asn", "--range", "r1", "--headroom", "0"], /--headroom/],
    [["asn", "--range", "r1", "--min-days-left", "0"], /Cannot parse --min-days-left: expected/],
    [
      ["ip", "--parent", "10.30.0.0/29", "--min-days-left", "7"],
      /--min-days-left with ip: only with prefix, vlan, asn/,
    ],
    [
      ["prefix", "--parent", "10.30.0.0/29", "--length", "31", "--key", "has space"],
      /--key "has space"/,
    ],
  ];
  for (const [args, message] of cases) {
    const nb = new FakeNetBox();
    const { code, stderr } = await run(nb, args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
    assert.deepEqual(nb.requests, [], args.join(" "));
  }
  // Found only by reading: nothing written.
  const { nb } = setup();
  for (
    const [args, message] of [
      [
        ["prefix", "--parent", "10.30.0.0/29", "--length", "24"],
        /--length 24: length \/24 is outside 10\.30\.0\.0\/29 \(expected 30-32\)/,
      ],
      [
        ["vlan", "--group", "nope", "--name", "x"],
        /--group "nope": no VLAN group has that id, name or slug/,
      ],
      [["asn", "--range", "nope"], /--range "nope": no ASN range has that id, name or slug/],
    ] as [string[], RegExp][]
  ) {
    const { code, stderr } = await run(nb, args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
  }
  assert.deepEqual(nb.writes(), []);
});

Deno.test("allocate --plan --set: the steps with their values; a failing step exits 3 with nothing left; bad plans exit 2", async () => {
  const { nb, parent } = setup();
  const plan = `key: "{site}"
allocations:
  - {name: links, kind: prefix, parent_id: ${parent.id}, length: 31, count: 2}
  - {name: vlan, kind: vlan, group: g1, vlan_name: "l-{links}"}
  - {name: asn, kind: asn, range: r1}
`;
  const files = {
    "site.yaml": plan,
    "cycle.yaml": plan.replace("group: g1", 'group: "{asn}"').replace(
      "range: r1",
      'range: "{vlan}"',
    ),
  };
  const go = async (args: string[]) => {
    const { io, out } = fakeIO(nb, files);
    const code = await main([...args, "--format", "json"], io);
    return { code, doc: out.stdout ? JSON.parse(out.stdout) : undefined, stderr: out.stderr };
  };
  const dry = await go(["--plan", "site.yaml", "--set", "site=dc3", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(
    dry.doc.items.map((i: { step: string; value: string }) => `${i.step} ${i.value}`),
    [
      "links 10.30.0.0/31",
      "links 10.30.0.2/31",
      "vlan ",
      "asn 65000",
    ],
  );
  assert.deepEqual(nb.writes(), []);
  // The ASN range is full by now: the plan fails at its last step and removes the rest.
  nb.add("ipam/asns", { asn: 65000 });
  const failed = await go(["--plan", "site.yaml", "--set", "site=dc3"]);
  assert.equal(failed.code, 3, failed.stderr);
  assert.match(failed.stderr, /step "asn" failed: .*rolled back 3 objects this run made/);
  assert.equal(nb.table("prefix").length, 1);
  assert.equal(nb.table("vlan").length, 0);
  for (
    const [args, message] of [
      [
        ["--plan", "cycle.yaml", "--set", "site=dc3"],
        /a cycle: (vlan → asn → vlan|asn → vlan → asn)/,
      ],
      [["--plan", "site.yaml"], /no value for \{site\}/],
      [
        ["--plan", "site.yaml", "--set", "site=dc3", "--length", "3"],
        /Cannot use --plan with --length/,
      ],
      [["prefix", "--set", "a=b"], /--set without --plan/],
    ] as [string[], RegExp][]
  ) {
    const before = nb.writes().length;
    const r = await go(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(nb.writes().length, before);
  }
});
