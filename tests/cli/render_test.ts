import assert from "node:assert/strict";
import {
  renderDoc,
  renderDocChunks,
  renderTable,
  type ResultDoc,
  writeAtomic,
} from "../../lib/cli/render.ts";
import { yamlParse } from "../../lib/deps.ts";

const posix = Deno.build.os !== "windows";

/** Names anyone with edit rights in NetBox could give a VRF, a device, a DNS name. */
const HOSTILE = {
  formula: '=HYPERLINK("http://evil.example","x")',
  plus: "+1+cmd|' /C calc'!A0",
  minus: "-2+3",
  at: "@SUM(A1:A9)",
  tab: "\t=1",
  cr: "\r=1",
  escapes: "sw1\x1b[2J\x1b]0;pwned\x07",
  bidi: "abc\u202efdp.exe",
};

function doc(items: Record<string, unknown>[]): ResultDoc {
  return { netbox: { url: "http://nb", version: "4.7.3" }, summary: { n: items.length }, items };
}

Deno.test("renderDoc() csv neutralises every formula-leading cell with a leading '", () => {
  const items = Object.entries(HOSTILE).map(([kind, name]) => ({ kind, name, n: -1 }));
  const csv = renderDoc(doc(items), "csv", ["kind", "name", "n"]);
  assert.equal(
    csv,
    [
      "kind,name,n",
      `formula,"'=HYPERLINK(""http://evil.example"",""x"")",'-1`,
      `plus,'+1+cmd|' /C calc'!A0,'-1`,
      "minus,'-2+3,'-1",
      "at,'@SUM(A1:A9),'-1",
      "tab,'\t=1,'-1",
      `cr,"'\r=1",'-1`,
      "escapes,sw1\x1b[2J\x1b]0;pwned\x07,'-1",
      "bidi,abc\u202efdp.exe,'-1",
      "",
    ].join("\n"),
  );
});

Deno.test("renderDoc() csv leaves ordinary values, IPv6 addresses and objects unchanged", () => {
  const csv = renderDoc(
    doc([{ address: "2001:db8::1/64", vrf: { name: "blue" }, id: 7, tags: ["a", "b"] }]),
    "csv",
    ["address", "vrf", "id", "tags"],
  );
  assert.equal(csv, 'address,vrf,id,tags\n2001:db8::1/64,blue,7,"a,b"\n');
});

Deno.test("renderDoc() csv neutralises a nested object's display name", () => {
  const csv = renderDoc(doc([{ vrf: { name: "@evil" } }]), "csv", ["vrf"]);
  assert.equal(csv, "vrf\n'@evil\n");
});

Deno.test("renderTable() shows control characters and bidi overrides visibly, aligned", () => {
  const text = renderTable(
    [
      { name: HOSTILE.escapes, vrf: HOSTILE.bidi, note: "a\nb" },
      { name: "sw2", vrf: "blue", note: "ok" },
    ],
    ["name", "vrf", "note"],
  );
  const name = "sw1\\x1b[2J\\x1b]0;pwned\\x07"; // 26 characters as shown
  const vrf = "abc\\u202efdp.exe"; // 16
  assert.equal(
    text,
    [
      `${"NAME".padEnd(name.length)}  ${"VRF".padEnd(vrf.length)}  NOTE`,
      `${name}  ${vrf}  a\\x0ab`,
      `${"sw2".padEnd(name.length)}  ${"blue".padEnd(vrf.length)}  ok`,
      "",
    ].join("\n"),
  );
  assert.ok(!text.includes("\x1b") && !text.includes("\x07") && !text.includes("\u202e"));
});

Deno.test("renderDoc() table escapes; json and yaml keep NetBox's text exact", () => {
  const items = [{ name: HOSTILE.escapes, vrf: HOSTILE.bidi }];
  assert.equal(
    renderDoc(doc(items), "table", ["name", "vrf"]),
    `${"NAME".padEnd(26)}  VRF\nsw1\\x1b[2J\\x1b]0;pwned\\x07  abc\\u202efdp.exe\n`,
  );
  const json = renderDoc(doc(items), "json", ["name"]);
  assert.deepEqual(JSON.parse(json).items, items);
  const yaml = renderDoc(doc(items), "yaml", ["name"]);
  assert.deepEqual((yamlParse(yaml) as ResultDoc).items, items);
});

async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

Deno.test({
  name: "writeAtomic() creates a new file with mode 0600 and leaves no temporary file",
  ignore: !posix,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await writeAtomic(`${dir}/report.csv`, "a,b\n");
      assert.equal(await Deno.readTextFile(`${dir}/report.csv`), "a,b\n");
      assert.equal((await modeOf(`${dir}/report.csv`)).toString(8), "600");
      const names = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.deepEqual(names, ["report.csv"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "writeAtomic() keeps the mode of an existing file (more open or more closed)",
  ignore: !posix,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      for (const mode of [0o644, 0o640, 0o600, 0o400, 0o664]) {
        const path = `${dir}/out-${mode.toString(8)}.html`;
        await Deno.writeTextFile(path, "old");
        await Deno.chmod(path, mode);
        await writeAtomic(path, "new");
        assert.equal(await Deno.readTextFile(path), "new");
        assert.equal((await modeOf(path)).toString(8), mode.toString(8));
      }
      // Special bits never carry over to the new content.
      const suid = `${dir}/suid`;
      await Deno.writeTextFile(suid, "old");
      await Deno.chmod(suid, 0o4755);
      await writeAtomic(suid, "new");
      assert.equal(((await Deno.stat(suid)).mode! & 0o7777).toString(8), "755");
      assert.equal([...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".tmp")).length, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "writeAtomic() creates its temporary file 0600 even under a permissive umask",
  ignore: !posix,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    // Look at the temporary file while it is being written (between two pieces): it must never
    // be readable by others, even for a moment, whatever the umask (0600 is passed to open, not
    // left to the default 0666). No watcher: what it sees depends on the machine's load.
    const seen: number[] = [];
    function* pieces() {
      yield "x".repeat(1024);
      for (const entry of Deno.readDirSync(dir)) {
        if (entry.name.endsWith(".tmp")) {
          seen.push(Deno.statSync(`${dir}/${entry.name}`).mode! & 0o777);
        }
      }
      yield "y";
    }
    try {
      await writeAtomic(`${dir}/big.json`, pieces());
      assert.deepEqual(seen.map((mode) => mode.toString(8)), ["600"], "the temporary file's mode");
      assert.equal((await modeOf(`${dir}/big.json`)).toString(8), "600");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("renderDocChunks() json gives JSON.stringify's exact bytes, in pieces of 1,000 items", () => {
  const item = (i: number): Record<string, unknown> => ({
    id: i,
    name: Object.values(HOSTILE)[i % 8] + ` \u0000items- "x"\n${i} ☃ 😀`,
    nested: { list: [i, { deep: [] }, null, "a\nb"], empty: {}, none: [] },
    related: i % 3 ? [] : [{ id: i + 1, url: null }],
  });
  for (const n of [0, 1, 999, 1000, 1001, 2000, 2501]) {
    const d: ResultDoc = {
      netbox: { url: "http://nb", version: "4.7.3" },
      summary: { n, note: `\u0000items-${crypto.randomUUID()}`, items: "not the items" },
      items: Array.from({ length: n }, (_, i) => item(i)),
      utilization: [{ prefix: "10.0.0.0/8", items: [1, 2] }],
      warnings: [],
    };
    const pieces = [...renderDocChunks(d, "json", ["id"])];
    assert.equal(pieces.join(""), JSON.stringify(d, null, 2) + "\n", `${n} items`);
    // Never more than 1,000 items in one piece.
    assert.equal(pieces.length, n <= 1000 ? 1 : Math.ceil(n / 1000) + 2, `${n} items`);
    assert.deepEqual(JSON.parse(pieces.join("")), d);
  }
  // The other formats come whole, as renderDoc gives them.
  const big = doc(Array.from({ length: 1500 }, (_, i) => ({ name: `n${i}` })));
  for (const format of ["table", "csv", "yaml"]) {
    assert.deepEqual([...renderDocChunks(big, format, ["name"])], [
      renderDoc(big, format, ["name"]),
    ]);
  }
});

Deno.test({
  name: "writeAtomic() writes a text given in pieces",
  permissions: { read: true, write: true },
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await writeAtomic(`${dir}/out.json`, ["{", '"a": "☃"', "}\n"]);
      assert.equal(await Deno.readTextFile(`${dir}/out.json`), '{"a": "☃"}\n');
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
