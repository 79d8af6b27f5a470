/**
 * The public surface is chosen, and a change to it is a visible diff: every name each entry of
 * deno.json's exports map exports (as `deno doc --json` sees it, with its kind) must be listed in
 * tests/public_surface.txt. Adding or removing an export without updating the list fails here;
 * after a deliberate change, regenerate the list and review its diff:
 *
 *   UPDATE_SURFACE=1 deno task test tests/public_surface_test.ts
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const LIST = "tests/public_surface.txt";
const REGENERATE = `UPDATE_SURFACE=1 deno task test ${LIST.replace(".txt", "_test.ts")}`;

const HEADER = [
  "# The public surface: each name an entry of deno.json's exports map exports, and its kind,",
  "# as `deno doc --json` sees them (tests/public_surface_test.ts compares). After a deliberate",
  `# change, regenerate with: ${REGENERATE}`,
  "# entry kind name",
];

interface DocSymbol {
  name: string;
  declarations: { kind: string; declarationKind?: string }[];
}

/** The subpath → file entries of deno.json's exports map (a string is `"."`). */
export function exportEntries(config: { exports: string | Record<string, string> }): [
  string,
  string,
][] {
  const map = typeof config.exports === "string" ? { ".": config.exports } : config.exports;
  return Object.entries(map);
}

/** `<entry> <kind> <name>` for each exported symbol of one entry's `deno doc --json`. */
export function surfaceLines(entry: string, doc: unknown): string[] {
  const nodes = (doc as { nodes: Record<string, { symbols: DocSymbol[] }> }).nodes;
  const lines: string[] = [];
  for (const node of Object.values(nodes)) {
    for (const symbol of node.symbols) {
      const exported = symbol.declarations.filter((d) => d.declarationKind !== "private");
      if (exported.length === 0) continue;
      const kind = [...new Set(exported.map((d) => d.kind))].sort().join("+");
      lines.push(`${entry} ${kind} ${symbol.name}`);
    }
  }
  return lines;
}

/**
 * The lines only in `actual` (`+`) and only in `expected` (`-`), by entry and name, so a name
 * whose kind changed shows as its `-` line above its `+` line.
 */
export function surfaceDiff(expected: readonly string[], actual: readonly string[]): string[] {
  const want = new Set(expected);
  const have = new Set(actual);
  const key = (line: string) => {
    const [entry, , name] = line.slice(2).split(" ");
    return `${entry} ${name} ${line[0] === "-" ? 0 : 1}`;
  };
  return [
    ...expected.filter((l) => !have.has(l)).map((l) => `- ${l}`),
    ...actual.filter((l) => !want.has(l)).map((l) => `+ ${l}`),
  ].sort((a, b) => key(a).localeCompare(key(b)));
}

async function docJson(file: string): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", file],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `deno doc --json ${file} failed:\n${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function currentSurface(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(ROOT + "deno.json"));
  const entries = exportEntries(config);
  const docs = await Promise.all(entries.map(([, file]) => docJson(file)));
  const lines = entries.flatMap(([entry], i) => surfaceLines(entry, docs[i]));
  return lines.sort((a, b) => a.localeCompare(b));
}

function listedSurface(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
}

Deno.test("the public surface: the exports of every entry of deno.json are those listed in tests/public_surface.txt", async () => {
  const actual = await currentSurface();
  if (Deno.env.get("UPDATE_SURFACE") === "1") {
    await Deno.writeTextFile(ROOT + LIST, [...HEADER, ...actual, ""].join("\n"));
    console.log(`wrote ${LIST}: ${actual.length} exports`);
    return;
  }
  const expected = listedSurface(await Deno.readTextFile(ROOT + LIST));
  const diff = surfaceDiff(expected, actual);
  assert.ok(
    diff.length === 0,
    `The public surface changed (+ exported but not listed, - listed but no longer exported):\n` +
      diff.map((l) => `  ${l}\n`).join("") +
      `If the change is deliberate, regenerate the list and commit its diff:\n  ${REGENERATE}`,
  );
});

Deno.test("surfaceLines() lists each exported symbol once, with its kinds, skipping private ones", () => {
  const doc = {
    nodes: {
      "file:///x/mod.ts": {
        symbols: [
          { name: "NetBoxError", declarations: [{ kind: "class", declarationKind: "export" }] },
          {
            name: "merged",
            declarations: [
              { kind: "namespace", declarationKind: "export" },
              { kind: "function", declarationKind: "export" },
            ],
          },
          { name: "Hidden", declarations: [{ kind: "interface", declarationKind: "private" }] },
        ],
      },
    },
  };
  assert.deepEqual(surfaceLines("./ipam", doc), [
    "./ipam class NetBoxError",
    "./ipam function+namespace merged",
  ]);
});

Deno.test("surfaceDiff() names what was added and what was removed", () => {
  assert.deepEqual(
    surfaceDiff([". class A", ". function b"], [". class A", ". function c", ". variable b"]),
    ["- . function b", "+ . variable b", "+ . function c"],
  );
  assert.deepEqual(surfaceDiff([". class A"], [". class A"]), []);
});
