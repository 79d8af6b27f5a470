/**
 * Bundles every task script into one self-contained file, `dist/<task>.js`, with
 * `deno bundle --platform=deno` (esbuild, fetched from npm — works offline once cached). A
 * bundle carries its npm dependencies inline, so it runs with nothing but `deno`:
 *
 * ```sh
 * deno task bundle
 * deno run --no-prompt --allow-net --allow-env=NETBOX_URL,… dist/find-free-ip.js --help
 * ```
 *
 * Usage: `deno run --allow-read --allow-run=deno scripts/bundle.ts [--out-dir DIR] [TASK…]`
 *
 * @module
 */

/** The repository root. */
const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** What one bundle run produced. */
export interface BundleResult {
  /** The task name, e.g. `"find-free-ip"`. */
  task: string;
  /** The bundle's path. */
  file: string;
  /** Its size in bytes. */
  bytes: number;
}

/** Options of {@linkcode bundleTasks}. */
export interface BundleOptions {
  /** Where the bundles go. @default {"<root>/dist"} */
  outDir?: string;
  /** Which tasks (names without `.ts`). @default {every `tasks/*.ts`} */
  tasks?: string[];
  /** The `deno` executable. @default {"deno"} */
  deno?: string;
}

/**
 * Finds `npm:` module specifiers left in bundled code (imports, dynamic imports, requires).
 *
 * @param code the bundle's text
 * @returns the specifiers found (empty when the bundle is self-contained)
 *
 * @example
 * ```ts
 * import { findNpmSpecifiers } from "./bundle.ts";
 * console.assert(findNpmSpecifiers(`import { x } from "npm:js-yaml@5";`).join() === "npm:js-yaml@5");
 * console.assert(findNpmSpecifiers(`const s = "see npm:js-yaml";`).length === 0);
 * ```
 */
export function findNpmSpecifiers(code: string): string[] {
  const found = code.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["'`](npm:[^"'`]+)["'`]/g,
  );
  return [...found].map((m) => m[1]);
}

/** Lists the task names (`tasks/*.ts` without the extension), sorted. */
export async function listTasks(root = ROOT): Promise<string[]> {
  const names: string[] = [];
  for await (const f of Deno.readDir(`${root}/tasks`)) {
    if (f.isFile && /^[a-z0-9-]+\.ts$/.test(f.name)) names.push(f.name.slice(0, -3));
  }
  return names.sort();
}

/**
 * Bundles the tasks, one `deno bundle` each, and checks that no `npm:` import is left.
 *
 * @param options output directory, task names, deno executable
 * @returns one result per task
 * @throws {Error} When `deno bundle` fails or a bundle still imports from npm
 *
 * @example
 * ```ts ignore
 * import { bundleTasks } from "./bundle.ts";
 * const results = await bundleTasks({ outDir: "dist", tasks: ["find-free-ip"] });
 * console.log(results[0].file); // dist/find-free-ip.js
 * ```
 */
export async function bundleTasks(options: BundleOptions = {}): Promise<BundleResult[]> {
  const { outDir = `${ROOT}/dist`, deno = "deno" } = options;
  const tasks = options.tasks ?? await listTasks();
  const results: BundleResult[] = [];
  for (const task of tasks) {
    const file = `${outDir}/${task}.js`;
    const out = await new Deno.Command(deno, {
      args: ["bundle", "--quiet", "--platform=deno", "-o", file, `${ROOT}/tasks/${task}.ts`],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const why = new TextDecoder().decode(out.stderr).trim();
      throw new Error(`Cannot bundle tasks/${task}.ts: deno bundle exited ${out.code}\n${why}`);
    }
    const code = await Deno.readTextFile(file);
    const left = findNpmSpecifiers(code);
    if (left.length > 0) {
      throw new Error(`Cannot bundle tasks/${task}.ts: npm imports left in ${file}: ${left}`);
    }
    results.push({ task, file, bytes: new TextEncoder().encode(code).length });
  }
  return results;
}

function parseArgs(args: string[]): BundleOptions {
  const options: BundleOptions = {};
  const tasks: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out-dir" && i + 1 < args.length) options.outDir = args[++i];
    else if (args[i].startsWith("--out-dir=")) options.outDir = args[i].slice(10);
    else if (args[i] === "--help" || args[i] === "-h") {
      console.log("Usage: deno task bundle [--out-dir DIR] [TASK…]  (default: every task → dist/)");
      Deno.exit(0);
    } else if (args[i].startsWith("-")) throw new Error(`Cannot bundle: unknown option ${args[i]}`);
    else tasks.push(args[i].replace(/^tasks\//, "").replace(/\.ts$/, ""));
  }
  if (tasks.length > 0) options.tasks = tasks;
  return options;
}

if (import.meta.main) {
  try {
    for (const r of await bundleTasks(parseArgs(Deno.args))) {
      console.log(`${r.file.replace(`${ROOT}/`, "")}  ${(r.bytes / 1024).toFixed(0)} KiB`);
    }
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
