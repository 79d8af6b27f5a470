/**
 * Examples that cannot rot: every documented `deno task …` command line (and every
 * `deno run … tasks/<task>.ts …` / `dist/<task>.js …` one) goes through the task's own flag parser.
 *
 * Sources: the JSDoc of `tasks/*.ts` (fenced blocks and inline code), each task's `--help`
 * examples (as the task prints them), and README.md (fenced blocks of any language, and inline
 * code, also when it wraps a line). The task must exist in deno.json; a task run by a
 * `tasks/<name>.ts` script gets its arguments parsed by `main(args, parseOnly(io))` — unknown or
 * removed flags, missing option values, bad choices, a bad `--format` fail with file:line and the
 * parser's own message. Nothing is read and nothing is sent to NetBox (the handler never runs).
 *
 * Shell around a command is taken apart the way a shell would: pipes, `&&`/`||`/`;`, redirections
 * (`> file`, `2>&1`), leading `NAME=value` assignments, a `deno` given by path and `deno task`'s
 * own flags (`-q`), `\` line continuations, quotes, `$(…)`, and `# comments`. Globs stay as they
 * are (a file name is just an argument); `<placeholder>` is one word, and `…` (elided arguments)
 * is dropped. `deno task <name>` / `deno task …` in prose names no task and is skipped.
 */
import assert from "node:assert/strict";
import { parseOnly } from "../../lib/cli/task.ts";
import type { TaskIO } from "../../lib/cli/io.ts";

const ROOT = new URL("../../", import.meta.url);

/** One documented command line. */
interface Example {
  /** Where it is documented, e.g. `README.md:282` or `tasks/bulk-import.ts:9`. */
  where: string;
  /** How it reads there (continuations joined). */
  text: string;
  /** A `--help` example: it must run its task. */
  help?: boolean;
}

/** One task invocation found in an example. */
interface Invocation {
  task: string;
  args: string[];
}

// ---------------------------------------------------------------------------------------------
// Shell: words and operators, the way sh splits them (enough for documentation).

type Token = { op: string } | { word: string };

/** Splits a shell line into words and operators; a `#` starting a word ends the line. */
function shellTokens(line: string): Token[] {
  const tokens: Token[] = [];
  let word: string | undefined;
  const push = (c: string) => word = (word ?? "") + c;
  const end = () => {
    if (word !== undefined) tokens.push({ word });
    word = undefined;
  };
  const placeholder = /^<[A-Za-z][\w.-]*>/;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    const rest = line.slice(i);
    if (c === " " || c === "\t" || c === "\n") {
      end();
      i++;
    } else if (c === "#" && word === undefined) {
      break;
    } else if (c === "\\") {
      if (line[i + 1] === "\n") i += 2; // a continuation
      else {
        push(line[i + 1] ?? "");
        i += 2;
      }
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      push(line.slice(i + 1, close < 0 ? undefined : close));
      word ??= "";
      i = close < 0 ? line.length : close + 1;
    } else if (c === '"') {
      let j = i + 1;
      word ??= "";
      while (j < line.length && line[j] !== '"') {
        if (line[j] === "\\" && j + 1 < line.length) j++;
        push(line[j]);
        j++;
      }
      i = j + 1;
    } else if (rest.startsWith("$(")) {
      let depth = 0;
      let j = i + 1;
      for (; j < line.length; j++) {
        if (line[j] === "(") depth++;
        else if (line[j] === ")" && --depth === 0) break;
      }
      push(line.slice(i, j + 1));
      i = j + 1;
    } else if (placeholder.test(rest)) {
      const m = rest.match(placeholder)![0];
      push(m);
      i += m.length;
    } else {
      const op = rest.match(/^(?:&>>?|>>?&?|<|\|\||&&|\||;|&)/)?.[0];
      if (op) {
        // "2>" / "2>&1": the digits before a redirection name a file descriptor
        if (word !== undefined && /^\d+$/.test(word) && /^[<>]/.test(op)) word = undefined;
        end();
        tokens.push({ op });
        i += op.length;
      } else {
        push(c);
        i++;
      }
    }
  }
  end();
  return tokens;
}

const REDIRECT = /^(?:&>>?|>>?&?|<)$/;

/** The task invocations in a shell line: `deno task NAME …` and `deno run … tasks/NAME.ts …`. */
function invocations(line: string): Invocation[] {
  const found: Invocation[] = [];
  // Simple commands: split at | || && ; &, drop redirections and their targets.
  const commands: string[][] = [[]];
  const tokens = shellTokens(line);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if ("word" in t) commands[commands.length - 1].push(t.word);
    else if (REDIRECT.test(t.op)) {
      if ("word" in (tokens[i + 1] ?? {})) i++; // the target
    } else commands.push([]);
  }
  for (const words of commands) {
    const at = words.findIndex((w, i) =>
      (w === "deno" || w.endsWith("/deno")) && (words[i + 1] === "task" || words[i + 1] === "run")
    );
    if (at < 0) continue;
    // "$@" (a wrapper script passing on its own arguments) is a placeholder like "…".
    const rest = words.slice(at + 2).filter((w) => w !== "…" && w !== "..." && w !== "$@");
    if (words[at + 1] === "task") {
      let i = 0;
      while (rest[i]?.startsWith("-")) {
        i += /^(?:--cwd|-c|--config|-f|--filter)$/.test(rest[i]) ? 2 : 1; // deno task's own flags
      }
      if (rest[i] !== undefined) found.push({ task: rest[i], args: rest.slice(i + 1) });
    } else {
      const i = rest.findIndex((w) => /(?:^|\/)(?:tasks\/[^/]+\.ts|dist\/[^/]+\.js)$/.test(w));
      if (i < 0) continue;
      const task = rest[i].match(/([^/]+)\.(?:ts|js)$/)![1];
      found.push({ task, args: rest.slice(i + 1) });
    }
  }
  return found;
}

/** A documented task name, or a placeholder (`<name>`, `…`, `TASK`) that names no task. */
const isTaskName = (name: string) => /^[a-z][a-z0-9:-]*$/.test(name);

// ---------------------------------------------------------------------------------------------
// Where examples are documented.

type Line = { n: number; text: string };

/**
 * The shell lines in Markdown: each line of a fenced block (continuations joined), and each
 * inline code span (one that wraps a line too), wherever they mention `deno task` / `deno run`.
 */
function markdownExamples(file: string, lines: Line[]): Example[] {
  const out: Example[] = [];
  const wanted = (s: string) => /\bdeno (?:task|run)\b/.test(s);
  let fence: string | undefined;
  let pending: Line | undefined; // a block line ending in "\"
  let para: Line[] = [];
  const flushPara = () => {
    const text = para.map((l) => l.text).join("\n");
    for (const m of text.matchAll(/(`+)([\s\S]*?[^`])\1(?!`)/g)) {
      if (!wanted(m[2])) continue;
      const line = para[0].n + text.slice(0, m.index).split("\n").length - 1;
      out.push({ where: `${file}:${line}`, text: m[2].replaceAll("\n", " ").trim() });
    }
    para = [];
  };
  for (const l of lines) {
    const f = l.text.match(/^\s*(`{3,}|~{3,})/)?.[1];
    if (fence === undefined && f) {
      flushPara();
      fence = f;
    } else if (fence !== undefined && f && l.text.trim().startsWith(fence)) {
      fence = undefined;
    } else if (fence !== undefined) {
      const joined: Line = pending ? { n: pending.n, text: pending.text + "\n" + l.text } : l;
      if (/(^|[^\\])(\\\\)*\\$/.test(l.text)) pending = joined;
      else {
        pending = undefined;
        if (wanted(joined.text)) {
          out.push({ where: `${file}:${joined.n}`, text: joined.text.trim() });
        }
      }
    } else if (l.text.trim() === "") flushPara();
    else para.push(l);
  }
  flushPara();
  return out;
}

/** The text of every JSDoc block of a TypeScript file, line numbers kept, `*` prefixes off. */
function jsdocLines(source: string): Line[] {
  const out: Line[] = [];
  let inDoc = false;
  source.split("\n").forEach((text, i) => {
    if (!inDoc && /^\s*\/\*\*/.test(text)) inDoc = true;
    if (!inDoc) return;
    const closes = text.includes("*/");
    const body = text.replace(/^\s*\/\*\*\s?/, "").replace(/\s*\*\/.*$/, "")
      .replace(/^\s*\* ?/, "");
    out.push({ n: i + 1, text: body });
    if (closes) {
      out.push({ n: i + 1, text: "" });
      inDoc = false;
    }
  });
  return out;
}

/** Every `deno task` / `deno run` example in the README and the tasks' JSDoc. */
async function documentedExamples(): Promise<Example[]> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const examples = markdownExamples(
    "README.md",
    readme.split("\n").map((text, i) => ({ n: i + 1, text })),
  );
  for (const file of await taskFiles()) {
    const source = await Deno.readTextFile(new URL(file, ROOT));
    examples.push(...markdownExamples(file, jsdocLines(source)));
  }
  return examples;
}

async function taskFiles(): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(new URL("tasks/", ROOT))) {
    if (e.isFile && e.name.endsWith(".ts")) files.push(`tasks/${e.name}`);
  }
  return files.sort();
}

// ---------------------------------------------------------------------------------------------
// The tasks and their parsers.

type Main = (args: string[], io: TaskIO) => Promise<number>;

/** deno.json's tasks: name → the `tasks/*.ts` script it runs (undefined for other scripts). */
async function denoTasks(): Promise<Map<string, string | undefined>> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const tasks = new Map<string, string | undefined>();
  for (const [name, entry] of Object.entries(config.tasks as Record<string, unknown>)) {
    const command = typeof entry === "string" ? entry : (entry as { command: string }).command;
    tasks.set(name, command.match(/(?:^|\s)(tasks\/[\w-]+\.ts)(?:\s|$)/)?.[1]);
  }
  return tasks;
}

async function loadMain(script: string): Promise<Main> {
  const mod = await import(new URL(script, ROOT).href);
  assert.equal(typeof mod.main, "function", `${script} exports no main(args, io)`);
  return mod.main as Main;
}

function fakeIO() {
  const out = { stdout: "", stderr: "" };
  const io: TaskIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env: () => undefined,
    stderrIsTerminal: false,
    readTextFile: (path) => Promise.reject(new Error(`parse-only run read ${path}`)),
    now: () => new Date("2026-01-01T00:00:00Z"),
    fetch: (input) => Promise.reject(new Error(`parse-only run fetched ${String(input)}`)),
  };
  return { io, out };
}

/** A task's `--help` examples, each with the line of the task's source that holds it. */
async function helpExamples(task: string, script: string, main: Main): Promise<Example[]> {
  const { io, out } = fakeIO();
  assert.equal(await main(["--help"], io), 0, `${task} --help`);
  const section = out.stdout.split(/^Examples:\n/m)[1];
  if (section === undefined) return [];
  const examples: string[] = [];
  for (const line of section.split("\n")) {
    if (!line.startsWith("  ")) break;
    const last = examples.length - 1;
    if (last >= 0 && /\\$/.test(examples[last])) examples[last] += "\n" + line;
    else examples.push(line.trim());
  }
  const source = (await Deno.readTextFile(new URL(script, ROOT))).split("\n");
  return examples.map((text) => {
    const probe = text.split(/[\\'"\n]/)[0].trimEnd();
    // The string literal that holds it (not the JSDoc header's copy).
    const at = source.findIndex((l) => ['"', "'", "`"].some((q) => l.includes(q + probe)));
    // Help examples leave out "deno task": each command that starts with the task's name runs it.
    const start = new RegExp(`(^|[|;&]\\s*)(?=${task}(\\s|$))`, "g");
    const where = `${script}:${at + 1} (--help)`;
    return { where, text: text.replace(start, "$1deno task "), help: true };
  });
}

// ---------------------------------------------------------------------------------------------

Deno.test("examples: the shell around a documented command line is taken apart like sh does", () => {
  const cases: [string, Invocation[]][] = [
    ["deno task bulk-import a.yaml --dry-run", [{
      task: "bulk-import",
      args: ["a.yaml", "--dry-run"],
    }]],
    [
      "deno task bulk-import inventory/*.yaml --format json > report.json 2>&1",
      [{ task: "bulk-import", args: ["inventory/*.yaml", "--format", "json"] }],
    ],
    [
      "cat ips.json | deno task bulk-import --input-format json - | jq .summary",
      [{ task: "bulk-import", args: ["--input-format", "json", "-"] }],
    ],
    [
      "15 6 * * * cd /opt && NETBOX_URL=https://nb X=1 /usr/local/bin/deno task -q audit-ips " +
      '--format json || notify "exit $?"',
      [{ task: "audit-ips", args: ["--format", "json"] }],
    ],
    [
      "deno task find-free-ip --prefix 10.0.0.0/24 \\\n  --dns-name 'k8s-{n:02}.x' # reserve",
      [{ task: "find-free-ip", args: ["--prefix", "10.0.0.0/24", "--dns-name", "k8s-{n:02}.x"] }],
    ],
    [
      'deno task audit-ips --schedule "0 * * * *" --token-file $(mktemp -d)/t',
      [{ task: "audit-ips", args: ["--schedule", "0 * * * *", "--token-file", "$(mktemp -d)/t"] }],
    ],
    [
      "infisical run --env=prod -- deno task audit-ips",
      [{ task: "audit-ips", args: [] }],
    ],
    [
      "deno run --no-prompt --allow-net --allow-read https://x/<tag>/tasks/find-free-ip.ts --count 3",
      [{ task: "find-free-ip", args: ["--count", "3"] }],
    ],
    ["deno task bench --cases <list> …", [{ task: "bench", args: ["--cases", "<list>"] }]],
    ["deno task …", []],
    ["deno run scripts/demo.ts", []],
  ];
  for (const [line, expected] of cases) assert.deepEqual(invocations(line), expected, line);
  assert.equal(isTaskName("<name>") || isTaskName("TASK"), false);
});

Deno.test("examples: fenced blocks, continuations and inline code that wraps a line are found", () => {
  const md = [
    "Run `deno task audit-ips --schedule '0 * * * *' --output",
    "/x.html` once.",
    "",
    "```sh",
    "deno task find-free-ip --prefix 10.0.0.0/24 \\",
    "  --count 2",
    "echo unrelated",
    "```",
  ];
  const got = markdownExamples("M.md", md.map((text, i) => ({ n: i + 1, text })));
  assert.deepEqual(got, [
    { where: "M.md:1", text: "deno task audit-ips --schedule '0 * * * *' --output /x.html" },
    { where: "M.md:5", text: "deno task find-free-ip --prefix 10.0.0.0/24 \\\n  --count 2" },
  ]);
});

Deno.test("examples: every documented deno task command line parses with its task's own flags", async () => {
  const tasks = await denoTasks();
  const mains = new Map<string, Main>();
  for (const [name, script] of tasks) if (script) mains.set(name, await loadMain(script));

  const examples = await documentedExamples();
  const perSource = new Map<string, number>();
  for (const [name, script] of tasks) {
    if (!script) continue;
    const help = await helpExamples(name, script, mains.get(name)!);
    perSource.set(`${script} --help`, help.length);
    examples.push(...help);
  }

  const failures: string[] = [];
  let parsed = 0;
  for (const example of examples) {
    const file = example.where.split(":")[0];
    perSource.set(file, (perSource.get(file) ?? 0) + 1);
    const found = invocations(example.text);
    if (example.help && !found.some((f) => f.task === file.slice(6, -3))) {
      failures.push(`${example.where}: the example does not run its task\n    ${example.text}`);
    }
    for (const { task, args } of found) {
      if (!isTaskName(task)) continue; // "deno task <name>" in prose
      if (!tasks.has(task)) {
        failures.push(`${example.where}: no task "${task}" in deno.json\n    ${example.text}`);
        continue;
      }
      const main = mains.get(task);
      if (!main) continue; // demo, bench, test…: scripts without a task flag parser
      const { io, out } = fakeIO();
      const code = await main(args, parseOnly(io));
      parsed++;
      if (code !== 0) {
        const why = out.stderr.split("\n").filter((l) => l && !l.startsWith("Run '")).join("; ");
        failures.push(
          `${example.where}: ${task} exits ${code}: ${why}\n    ${
            example.text.replaceAll("\n", "\n    ")
          }`,
        );
      }
    }
  }

  // The collector itself must not rot into finding nothing.
  assert.ok(
    (perSource.get("README.md") ?? 0) >= 10,
    `README examples: ${perSource.get("README.md")}`,
  );
  for (const [name, script] of tasks) {
    if (!script) continue;
    assert.ok((perSource.get(script) ?? 0) >= 1, `no deno task example in ${script}'s JSDoc`);
    assert.ok((perSource.get(`${script} --help`) ?? 0) >= 1, `no example in ${name} --help`);
  }
  assert.ok(parsed >= 40, `only ${parsed} task command lines parsed`);
  assert.equal(
    failures.length,
    0,
    `${failures.length} documented command line(s) do not parse:\n${failures.join("\n")}`,
  );
});
