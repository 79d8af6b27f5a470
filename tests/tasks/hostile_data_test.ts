/**
 * The tasks with hostile text in NetBox (names anyone with edit rights may choose) and secrets at
 * rest: CSV cells never start a formula, table/Markdown/stderr show control characters visibly,
 * HTML escapes markup, JSON keeps the text exact; `--output` / `--audit-log` files are created
 * 0600 and a token file open to others draws a warning.
 */
import assert from "node:assert/strict";
import { main as auditIps } from "../../tasks/audit-ips.ts";
import { main as findFreeIp } from "../../tasks/find-free-ip.ts";
import type { TaskIO } from "../../lib/cli/io.ts";
import { yamlParse } from "../../lib/deps.ts";
import { fakeIO, FakeNetBox, type Obj } from "../_fake_netbox.ts";

/** Whether the text holds a raw control character (C0, DEL, C1) or bidi override. */
function hasRawControls(text: string): boolean {
  return [...text].some((ch) => {
    const c = ch.codePointAt(0)!;
    return c < 0x20 && ch !== "\n" || (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
  });
}

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;
const BASE = "http://127.0.0.1:9";
const TOKEN = "nbt_abcdefghijkl.secretsecretsecret";
const posix = Deno.build.os !== "windows";

const FORMULA = '=HYPERLINK("http://evil.example","x")';
const TERMINAL = "\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script>\u202e";
const TERMINAL_SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07<script>alert(1)</script>\\u202e";
const NO_PRIMARY = "has IPv4 addresses on its interfaces but no primary_ip4";

/** The shared fake NetBox over fixed tables; `fail` answers every request but status 400. */
function netbox(tables: Record<string, Row[]>, fail?: Row): typeof fetch {
  const nb = new FakeNetBox({ host: BASE, tables: tables as Record<string, Obj[]> });
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (fail && url.pathname !== "/api/status/") {
      return Promise.resolve(Response.json(fail, { status: 400 }));
    }
    return nb.fetch(input, init);
  };
}

/** Two active devices with hostile names, each with an address but no primary IPv4. */
function inventory(): Record<string, Row[]> {
  const tags = [{ slug: "mine", name: "mine" }];
  const device = (id: number, name: string) => ({
    id,
    name,
    url: `${BASE}/api/dcim/devices/${id}/`,
    status: { value: "active" },
    primary_ip4: null,
  });
  const ip = (id: number, dev: Row) => ({
    id,
    url: `${BASE}/api/ipam/ip-addresses/${id}/`,
    address: `10.0.0.${id}/24`,
    status: { value: "active", label: "Active" },
    dns_name: `h${id}.example.net`,
    assigned_object_type: "dcim.interface",
    assigned_object_id: 10 + id,
    assigned_object: { id: 10 + id, name: "eth0", device: { id: dev.id, name: dev.name } },
    tags,
  });
  const d1 = device(1, FORMULA);
  const d2 = device(2, TERMINAL);
  return {
    "ipam/vrfs": [],
    "ipam/ip-addresses": [ip(1, d1), ip(2, d2)],
    "ipam/prefixes": [{ id: 1, url: `${BASE}/api/ipam/prefixes/1/`, prefix: "10.0.0.0/24", tags }],
    "ipam/ip-ranges": [],
    "dcim/devices": [d1, d2],
    "virtualization/virtual-machines": [],
    "dcim/interfaces": [],
    "virtualization/interfaces": [],
  };
}

function io(fetch: typeof globalThis.fetch, vars: Record<string, string> = {}) {
  const out = { stdout: "", stderr: "" };
  const env: Record<string, string> = { NETBOX_URL: BASE, NETBOX_TOKEN: TOKEN, ...vars };
  const taskIO: TaskIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env: (name) => env[name],
    stderrIsTerminal: false,
    fetch,
    readTextFile: (path) => Deno.readTextFile(path),
    now: () => new Date("2026-01-01T00:00:00Z"),
  };
  return { io: taskIO, out };
}

async function audit(format: string, extra: string[] = []) {
  const t = io(netbox(inventory()));
  const code = await auditIps(["--tag", "mine", "--format", format, ...extra], t.io);
  return { code, ...t.out };
}

Deno.test("audit-ips --format csv: a device name cannot start a formula", async () => {
  const r = await audit("csv");
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    "rule,severity,object_type,object_id,address,vrf,message,url,related\n" +
      `primary-missing,warning,dcim.device,1,,,"'=HYPERLINK(""http://evil.example"",""x"") ` +
      `${NO_PRIMARY}",${BASE}/dcim/devices/1/,\n` +
      // CSV is data: control characters stay exact (no formula leader here).
      `primary-missing,warning,dcim.device,2,,,${TERMINAL} ${NO_PRIMARY},${BASE}/dcim/devices/2/,\n`,
  );
});

Deno.test("audit-ips --format table: escape sequences and bidi overrides are shown, not obeyed", async () => {
  const r = await audit("table");
  assert.ok(!hasRawControls(r.stdout), JSON.stringify(r.stdout));
  const lines = r.stdout.trimEnd().split("\n");
  const pad = (s: string, n: number) => s.padEnd(n);
  assert.deepEqual(lines.slice(-2), [
    `${pad("warning", 8)}  ${pad("", 7)}  ${pad("", 3)}  device 1  ${FORMULA} ${NO_PRIMARY}`,
    `${pad("warning", 8)}  ${pad("", 7)}  ${pad("", 3)}  device 2  ${TERMINAL_SHOWN} ${NO_PRIMARY}`,
  ]);
});

Deno.test("audit-ips --format markdown: controls shown, tags and links defused", async () => {
  const r = await audit("markdown");
  assert.ok(!hasRawControls(r.stdout), JSON.stringify(r.stdout));
  const rows = r.stdout.split("\n").filter((l) => l.startsWith("| warning |"));
  assert.deepEqual(rows, [
    `| warning |  |  | [dcim.device 1](${BASE}/dcim/devices/1/) | ${FORMULA} ${NO_PRIMARY} |`,
    `| warning |  |  | [dcim.device 2](${BASE}/dcim/devices/2/) | ` +
    `\\x1b\\[2J\\x1b\\]0;pwned\\x07\\<script>alert(1)\\</script>\\u202e ${NO_PRIMARY} |`,
  ]);
});

Deno.test("audit-ips --format html: a device name cannot add markup", async () => {
  const r = await audit("html");
  assert.doesNotMatch(r.stdout, /<script/i);
  assert.ok(
    r.stdout.includes(
      `<td>\x1b[2J\x1b]0;pwned\x07&lt;script&gt;alert(1)&lt;/script&gt;\u202e ${NO_PRIMARY}</td>`,
    ),
  );
  assert.ok(
    r.stdout.includes(
      `<td>=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;) ${NO_PRIMARY}</td>`,
    ),
  );
});

Deno.test("audit-ips --format json and yaml keep NetBox's text exact", async () => {
  const r = await audit("json");
  const messages = JSON.parse(r.stdout).items.map((i: Row) => i.message);
  assert.deepEqual(messages, [`${FORMULA} ${NO_PRIMARY}`, `${TERMINAL} ${NO_PRIMARY}`]);
  const y = await audit("yaml");
  const doc = yamlParse(y.stdout) as { items: Row[] };
  assert.deepEqual(doc.items.map((i) => i.message), messages);
  assert.ok(y.stdout.includes("\\e[2J\\e]0;pwned\\a<script>"), y.stdout); // YAML's own escapes
});

Deno.test("audit-ips: an error message carrying NetBox text reaches stderr as one visible line", async () => {
  const t = io(netbox(inventory(), { detail: "\x1b]0;pwned\x07boom\x9b2J" }));
  const code = await auditIps(["--tag", "mine"], t.io);
  assert.equal(code, 3);
  assert.equal(t.out.stdout, "");
  assert.equal(t.out.stderr, "error: Cannot list ipam/vrfs/: \\x1b]0;pwned\\x07boom\\x9b2J\n");
});

Deno.test("audit-ips --output writes a new report 0600, neutralised", {
  ignore: !posix,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/audit.csv`;
    const r = await audit("csv", ["--output", path]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.equal(((await Deno.stat(path)).mode! & 0o777).toString(8), "600");
    assert.ok((await Deno.readTextFile(path)).includes(`"'=HYPERLINK(""http://evil.example""`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- find-free-ip: renderDoc's CSV and table, --output, --audit-log, --token-file

function vrfSetup(name: string) {
  const nb = new FakeNetBox();
  const vrf = nb.add("vrf", { name, rd: "65000:1" });
  nb.add("prefix", { prefix: "10.1.0.0/24", vrf: vrf.id });
  return nb;
}

Deno.test("find-free-ip --format csv: a VRF name cannot start a formula", async () => {
  const nb = vrfSetup("-1+cmd|' /C calc'!A0");
  const { io, out } = fakeIO(nb);
  const code = await findFreeIp(
    ["--prefix", "10.1.0.0/24", "--vrf", "65000:1", "--count", "2", "--format", "csv"],
    io,
  );
  assert.equal(code, 0);
  assert.equal(
    out.stdout,
    "address,vrf,action\n10.1.0.1/24,'-1+cmd|' /C calc'!A0,free\n" +
      "10.1.0.2/24,'-1+cmd|' /C calc'!A0,free\n",
  );
});

Deno.test("find-free-ip --format table: a VRF name's escape sequences are shown", async () => {
  const nb = vrfSetup("blue\x1b]0;pwned\x07\u202e");
  const { io, out } = fakeIO(nb);
  const code = await findFreeIp(["--prefix", "10.1.0.0/24", "--vrf", "65000:1"], io);
  assert.equal(code, 0);
  const vrf = "blue\\x1b]0;pwned\\x07\\u202e";
  assert.equal(
    out.stdout,
    `ADDRESS      ${"VRF".padEnd(vrf.length)}  ACTION\n10.1.0.1/24  ${vrf}  free\n`,
  );
});

Deno.test("find-free-ip --output: new file 0600, an existing file keeps its mode", {
  ignore: !posix,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const nb = vrfSetup("=evil");
    const args = ["--prefix", "10.1.0.0/24", "--vrf", "65000:1", "--format", "csv"];
    const fresh = `${dir}/new.csv`;
    assert.equal(await findFreeIp([...args, "--output", fresh], fakeIO(nb).io), 0);
    assert.equal(((await Deno.stat(fresh)).mode! & 0o777).toString(8), "600");
    assert.equal(await Deno.readTextFile(fresh), "address,vrf,action\n10.1.0.1/24,'=evil,free\n");
    const shared = `${dir}/shared.csv`;
    await Deno.writeTextFile(shared, "old\n");
    await Deno.chmod(shared, 0o644);
    assert.equal(await findFreeIp([...args, "--output", shared], fakeIO(nb).io), 0);
    assert.equal(((await Deno.stat(shared)).mode! & 0o777).toString(8), "644");
    assert.equal(await Deno.readTextFile(shared), "address,vrf,action\n10.1.0.1/24,'=evil,free\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "new.csv",
      "shared.csv",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("find-free-ip --audit-log: created 0600; an existing log keeps its mode", {
  ignore: !posix,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    const nb = new FakeNetBox();
    nb.add("prefix", { prefix: "192.168.3.0/24", vrf: null });
    const reserve = (log: string) =>
      findFreeIp(
        ["--prefix", "192.168.3.0/24", "--reserve", "--audit-log", log, "--format", "json"],
        fakeIO(nb).io,
      );
    const fresh = `${dir}/writes.jsonl`;
    assert.equal(await reserve(fresh), 0);
    assert.equal(((await Deno.stat(fresh)).mode! & 0o777).toString(8), "600");
    assert.equal((await Deno.readTextFile(fresh)).trim().split("\n").length, 1);
    const existing = `${dir}/shared.jsonl`;
    await Deno.writeTextFile(existing, "");
    await Deno.chmod(existing, 0o640);
    assert.equal(await reserve(existing), 0);
    assert.equal(((await Deno.stat(existing)).mode! & 0o777).toString(8), "640");
    const line = JSON.parse((await Deno.readTextFile(existing)).trim());
    assert.equal(line.task, "find-free-ip");
    assert.equal(line.method, "POST");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("find-free-ip --token-file open to others: a warning naming file and mode, no token", {
  ignore: !posix,
}, async () => {
  const path = await Deno.makeTempFile({ prefix: "nbtk-token-" });
  try {
    await Deno.writeTextFile(path, `${TOKEN}\n`);
    await Deno.chmod(path, 0o644);
    const nb = vrfSetup("blue");
    const t = io(nb.fetch, { NETBOX_TOKEN: "" });
    const args = ["--prefix", "10.1.0.0/24", "--vrf", "65000:1", "--format", "json"];
    assert.equal(await findFreeIp([...args, "--token-file", path], t.io), 0);
    assert.equal(
      t.out.stderr,
      `warning: the token file ${path} (--token-file) is open to its group and others ` +
        `(mode 0644); restrict it to its owner: chmod 600 ${path}\n`,
    );
    assert.ok(!t.out.stderr.includes("secret") && !t.out.stdout.includes("secret"));
    // NETBOX_TOKEN_FILE is named as such; --quiet does not hide it (it is about the secret).
    const e = io(nb.fetch, { NETBOX_TOKEN: "", NETBOX_TOKEN_FILE: path });
    assert.equal(await findFreeIp([...args, "--quiet"], e.io), 0);
    assert.match(e.out.stderr, /\(NETBOX_TOKEN_FILE\) is open to its group and others/);
    // A private file: silence.
    await Deno.chmod(path, 0o600);
    const p = io(nb.fetch, { NETBOX_TOKEN: "" });
    assert.equal(await findFreeIp([...args, "--token-file", path], p.io), 0);
    assert.equal(p.out.stderr, "");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("every task with CSV output says in --help how CSV cells are neutralised", async () => {
  const { main: assignPrimaryIp } = await import("../../tasks/assign-primary-ip.ts");
  const { main: bulkImport } = await import("../../tasks/bulk-import.ts");
  const guard = "csv: a cell starting with = + - @ tab or CR gets a leading ' so spreadsheets " +
    "show it as text, never as a formula (negative numbers too)";
  const help = async (main: (args: string[], io: TaskIO) => Promise<number>) => {
    const t = io(netbox({}));
    assert.equal(await main(["--help"], t.io), 0);
    return t.out.stdout.replace(/\s+/g, " ");
  };
  for (const main of [auditIps, findFreeIp, assignPrimaryIp, bulkImport]) {
    const text = await help(main);
    assert.ok(text.includes(guard), text);
    assert.ok(text.includes("a new file gets mode 0600, an existing one keeps its mode"), text);
  }
  const bulk = await help(bulkImport);
  assert.ok(bulk.includes("output format: table, json, yaml, csv; csv:"), bulk);
  assert.ok(bulk.includes("append one JSON line per write"), bulk);
});
