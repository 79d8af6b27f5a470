/**
 * The layers of lib/ hold: each folder imports only itself and the folders below it, a `_*.ts`
 * file is private to its folder, and neither the library nor an entry of deno.json's exports map
 * (mod.ts, lib/ipam/mod.ts, …) reaches the CLI plumbing.
 *
 *   base     (concurrency limits, safe text)                 imports nothing outside itself
 *   client   (transport, paging, bulk, filters, endpoints)   base
 *   ipam     (IP math, DNS names, choices, free IPs, assign) base, client
 *   import   (parse, plan, apply, report)                    base, client, ipam
 *   audit    (data, rules, analysis, reports)                base, client, ipam
 *   inventory (Ansible and Nornir inventories)              base, client
 *   revert   (undo from the change log)                      base, client, ipam, import
 *   cli      (flags, rendering, exit codes)                  everything in lib
 *
 * `lib/deps.ts` (third-party modules) may be imported by any of them, `lib/deps_cli.ts` (the
 * flag parser) by cli alone, so the library never loads it.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

const ALLOWED: Record<string, string[]> = {
  base: ["base"],
  client: ["base", "client"],
  ipam: ["base", "client", "ipam"],
  import: ["base", "client", "ipam", "import"],
  audit: ["base", "client", "ipam", "audit"],
  inventory: ["base", "client", "inventory"],
  revert: ["base", "client", "ipam", "import", "revert"],
  cli: ["base", "client", "ipam", "import", "audit", "inventory", "revert", "cli"],
};

/** The relative module specifiers a source file imports (code only, not doc examples). */
export function importsOf(source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of code.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    out.push(m[1]);
  }
  return out;
}

function join(dir: string, spec: string): string {
  const parts = dir ? dir.split("/") : [];
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

/** Every broken layer rule in a tree of files (path relative to the repository → source). */
export function layerViolations(
  files: Map<string, string>,
  entries: readonly string[] = ["mod.ts"],
): string[] {
  const problems: string[] = [];
  for (const [path, source] of files) {
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    const [top, layer] = path.split("/");
    for (const spec of importsOf(source)) {
      const target = join(dir, spec);
      const [ttop, tlayer] = target.split("/");
      const name = target.slice(target.lastIndexOf("/") + 1);
      const tdir = target.slice(0, target.lastIndexOf("/"));
      if (ttop === "lib" && name.startsWith("_") && tdir !== dir && !path.startsWith("tests/")) {
        problems.push(`${path} imports ${target}, which is private to ${tdir}/`);
      }
      if (
        entries.includes(path) && (target.startsWith("lib/cli/") || target === "lib/deps_cli.ts")
      ) {
        problems.push(`${path} exports CLI plumbing (${target})`);
      }
      if (top !== "lib") continue;
      if (ttop !== "lib") {
        problems.push(`${path} imports ${target}, outside lib/`);
        continue;
      }
      if (target === "lib/deps.ts") continue;
      if (target === "lib/deps_cli.ts") {
        if (layer !== "cli") problems.push(`${path} imports ${target}, which only cli may import`);
        continue;
      }
      if (path === "lib/deps.ts" || path === "lib/deps_cli.ts") {
        problems.push(`${path} imports ${target}`);
        continue;
      }
      const allowed = ALLOWED[layer];
      if (!allowed) {
        problems.push(`${path} is outside the layer folders (${Object.keys(ALLOWED).join(", ")})`);
      } else if (!allowed.includes(tlayer)) {
        problems.push(
          `${path} (${layer}) imports ${target} (${tlayer}): ${layer} may import only ${
            allowed.join(", ")
          }`,
        );
      }
    }
  }
  return problems;
}

/**
 * The order inside lib/client, lowest first: the filter types, the generated models built on
 * them, the shared types (all three type-only), then the client's machinery, then `client.ts`,
 * which composes it, then `mod.ts`, the entry that exports it. A file may import only files of
 * its own rank or below (and the type modules only strictly below), so nothing runs back up.
 */
const CLIENT_RANK: Record<string, number> = {
  "lib/client/filter_types.ts": 0,
  "lib/client/models.ts": 1,
  "lib/client/types.ts": 2,
  "lib/client/client.ts": 4,
  "lib/client/mod.ts": 5,
};
const MACHINERY = 3;

function clientRank(path: string): number {
  return CLIENT_RANK[path] ?? MACHINERY;
}

/**
 * Every import circle and every import back up inside lib/client (type imports count too: a
 * circle of types is still a circle to read through).
 */
export function clientGraphProblems(files: Map<string, string>): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [path, source] of files) {
    if (!path.startsWith("lib/client/")) continue;
    const dir = path.slice(0, path.lastIndexOf("/"));
    const targets = importsOf(source).map((spec) => join(dir, spec))
      .filter((t) => t.startsWith("lib/client/"));
    graph.set(path, targets);
    for (const target of targets) {
      const [from, to] = [clientRank(path), clientRank(target)];
      if (to > from || (to === from && from < MACHINERY)) {
        problems.push(`${path} imports ${target}: back up inside lib/client`);
      }
    }
  }
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (path: string) => {
    if (state.get(path) === "done") return;
    if (state.get(path) === "open") {
      problems.push(`import circle: ${[...stack.slice(stack.indexOf(path)), path].join(" → ")}`);
      return;
    }
    state.set(path, "open");
    stack.push(path);
    for (const target of graph.get(path) ?? []) visit(target);
    stack.pop();
    state.set(path, "done");
  };
  for (const path of [...graph.keys()].sort()) visit(path);
  return problems;
}

async function readTree(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(ROOT + rel)) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory && e.name !== "fixtures") await walk(p);
      else if (e.isFile && e.name.endsWith(".ts")) files.set(p, await Deno.readTextFile(ROOT + p));
    }
  };
  for (const dir of ["lib", "tasks", "tests", "bench", "scripts"]) await walk(dir);
  files.set("mod.ts", await Deno.readTextFile(ROOT + "mod.ts"));
  return files;
}

/** The entry files of deno.json's exports map, relative to the repository. */
async function entryFiles(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(ROOT + "deno.json"));
  const exports: Record<string, string> = typeof config.exports === "string"
    ? { ".": config.exports }
    : config.exports;
  return Object.values(exports).map((p) => p.replace(/^\.\//, ""));
}

Deno.test("lib/ keeps its layers: client imports nothing above it, nothing in lib imports cli", async () => {
  const files = await readTree();
  assert.ok([...files.keys()].filter((p) => p.startsWith("lib/client/")).length > 10);
  assert.deepEqual(layerViolations(files, await entryFiles()), []);
});

Deno.test("the layer check names each kind of broken rule", () => {
  const planted = new Map([
    ["lib/client/endpoint.ts", 'import { parseCidr } from "../ipam/ip.ts";'],
    [
      "lib/ipam/assign.ts",
      'import { EXIT } from "../cli/exit.ts";\nimport { x } from "../audit/_index.ts";',
    ],
    [
      "lib/audit/data.ts",
      '/**\n * import { main } from "../../tasks/audit-ips.ts";\n */\nimport { y } from "../client/types.ts";',
    ],
    ["mod.ts", 'export { runTask } from "./lib/cli/task.ts";'],
    ["lib/audit/mod.ts", 'export { EXIT } from "../cli/exit.ts";'],
    ["lib/helpers.ts", 'import { z } from "./client/types.ts";'],
    ["lib/inventory/render.ts", 'import { Option } from "../deps_cli.ts";'],
    ["lib/cli/task.ts", 'import { Command } from "../deps_cli.ts";'],
  ]);
  assert.deepEqual(layerViolations(planted, ["mod.ts", "lib/audit/mod.ts"]), [
    "lib/client/endpoint.ts (client) imports lib/ipam/ip.ts (ipam): client may import only base, client",
    "lib/ipam/assign.ts (ipam) imports lib/cli/exit.ts (cli): ipam may import only base, client, ipam",
    "lib/ipam/assign.ts imports lib/audit/_index.ts, which is private to lib/audit/",
    "lib/ipam/assign.ts (ipam) imports lib/audit/_index.ts (audit): ipam may import only base, client, ipam",
    "mod.ts exports CLI plumbing (lib/cli/task.ts)",
    "lib/audit/mod.ts exports CLI plumbing (lib/cli/exit.ts)",
    "lib/audit/mod.ts (audit) imports lib/cli/exit.ts (cli): audit may import only base, client, ipam, audit",
    "lib/helpers.ts is outside the layer folders (base, client, ipam, import, audit, inventory, revert, cli)",
    "lib/inventory/render.ts imports lib/deps_cli.ts, which only cli may import",
  ]);
});

Deno.test("deno.json publishes the library its entries need, and none of the task plumbing", async () => {
  const files = await readTree();
  const config = JSON.parse(await Deno.readTextFile(ROOT + "deno.json"));
  const include: string[] = config.publish.include;
  const published = (p: string) => include.some((i) => i.endsWith("/") ? p.startsWith(i) : p === i);
  const needed = new Set<string>();
  const visit = (path: string) => {
    if (needed.has(path) || !path.endsWith(".ts")) return;
    needed.add(path);
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    for (const spec of importsOf(files.get(path) ?? "")) visit(join(dir, spec));
  };
  const entries = await entryFiles();
  assert.ok(entries.length >= 4 && entries[0] === "mod.ts", entries.join(", "));
  for (const entry of entries) {
    assert.ok(published(entry), `${entry} is an entry of the exports map but not published`);
    visit(entry);
  }
  assert.deepEqual([...needed].filter((p) => !published(p)), []);
  assert.deepEqual(include.filter((i) => i.startsWith("lib/cli/") || i.startsWith("tasks/")), []);
  assert.ok(needed.has("lib/audit/audit.ts") && needed.has("lib/import/import.ts"));
});

Deno.test("lib/client has no import circle and no import back up", async () => {
  assert.deepEqual(clientGraphProblems(await readTree()), []);
});

Deno.test("the client graph check names a circle and an import back up", () => {
  const planted = new Map([
    ["lib/client/types.ts", 'import type { BranchInfo } from "./branching.ts";'],
    ["lib/client/branching.ts", 'import type { RequestOptions } from "./types.ts";'],
    ["lib/client/models.ts", 'import type { FiltersOf } from "./types.ts";'],
    ["lib/client/paginate.ts", 'import { createClient } from "./client.ts";'],
    ["lib/client/client.ts", 'import { paginate } from "./paginate.ts";'],
  ]);
  assert.deepEqual(clientGraphProblems(planted), [
    "lib/client/types.ts imports lib/client/branching.ts: back up inside lib/client",
    "lib/client/models.ts imports lib/client/types.ts: back up inside lib/client",
    "lib/client/paginate.ts imports lib/client/client.ts: back up inside lib/client",
    "import circle: lib/client/branching.ts → lib/client/types.ts → lib/client/branching.ts",
    "import circle: lib/client/client.ts → lib/client/paginate.ts → lib/client/client.ts",
  ]);
});
