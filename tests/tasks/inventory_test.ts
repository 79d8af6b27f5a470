import assert from "node:assert/strict";
import { main } from "../../tasks/inventory.ts";
import { fakeIO } from "../_fake_netbox.ts";
import { yamlParse } from "../../lib/deps.ts";
import { fixture } from "../inventory/_fixture.ts";

async function run(args: string[]) {
  const nb = fixture();
  const { io, out } = fakeIO(nb);
  const code = await main(args, io);
  return { code, stdout: out.stdout, stderr: out.stderr, nb };
}

Deno.test("inventory prints Ansible's --list JSON by default and names hosts left out", async () => {
  const { code, stdout, stderr } = await run(["--list", "--group-by", "site,role"]);
  assert.equal(code, 0);
  const doc = JSON.parse(stdout);
  assert.deepEqual(doc.site_matrix, { hosts: ["core1", "vm1"] });
  assert.deepEqual(doc.role_core, { hosts: ["core1", "vm1"] });
  assert.deepEqual(Object.keys(doc._meta.hostvars), ["core1", "vm1"]);
  assert.match(
    stderr,
    /warning: device noip has no primary IP: left out \(--include-no-ip keeps it\)/,
  );
});

Deno.test("inventory --host prints one host's variables", async () => {
  const { code, stdout } = await run(["--host", "vm1"]);
  assert.equal(code, 0);
  assert.equal(JSON.parse(stdout).ansible_host, "2001:db8::10");
  const missing = await run(["--host", "nope"]);
  assert.equal(missing.code, 0);
  assert.deepEqual(JSON.parse(missing.stdout), {});
  assert.match(missing.stderr, /host nope is not in the inventory/);
});

Deno.test("inventory refuses bad input with one line and exit 2, sending no listing", async () => {
  for (
    const [args, message] of [
      [
        ["--group-by", "site,sitee"],
        /^error: Cannot parse --group-by: "sitee": expected one of site, /,
      ],
      [
        ["--filter", "stie=matrix"],
        /^error: Cannot use the filters for the devices: unknown filter "stie"/,
      ],
      [["--compose", "x"], /^error: Cannot parse --compose "x": expected var=field/],
      [["--host", "a", "--format", "nornir"], /^error: Cannot use --host with --format nornir/],
      [["--format", "csv"], /unknown --format "csv"/],
    ] as const
  ) {
    const { code, stdout, stderr, nb } = await run([...args]);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr.trim(), message);
    assert.ok(!nb.requests.some((r) => r.includes("stie")));
    // Only the filter needs NetBox (its version names the valid filters); no host is listed.
    assert.ok(!nb.requests.some((r) => /^GET (dcim|virtualization)\//.test(r)), nb.requests.join());
  }
});

Deno.test("inventory --format nornir --output DIR writes SimpleInventory's three files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code } = await run([
      "--format",
      "nornir",
      "--group-by",
      "site,region",
      "--output",
      `${dir}/nornir/`,
    ]);
    assert.equal(code, 0);
    const hosts = yamlParse(await Deno.readTextFile(`${dir}/nornir/hosts.yaml`)) as Record<
      string,
      { hostname: string; groups: string[] }
    >;
    const groups = yamlParse(await Deno.readTextFile(`${dir}/nornir/groups.yaml`)) as Record<
      string,
      { groups: string[] }
    >;
    assert.equal(hosts.core1.hostname, "192.0.2.1");
    assert.deepEqual(hosts.core1.groups, ["site_matrix"]);
    assert.deepEqual(groups.site_matrix.groups, ["region_eu"]);
    assert.deepEqual(yamlParse(await Deno.readTextFile(`${dir}/nornir/defaults.yaml`)), {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inventory --format ansible-yaml prints a static inventory", async () => {
  const { code, stdout } = await run(["--format", "ansible-yaml", "--group-by", "role"]);
  assert.equal(code, 0);
  const doc = yamlParse(stdout) as { all: { hosts: Record<string, { ansible_host: string }> } };
  assert.equal(doc.all.hosts.core1.ansible_host, "192.0.2.1");
  assert.deepEqual(Object.keys(doc.all), ["hosts", "children"]);
});
