/**
 * The plumbing every task shares: common flags, configuration from flags and environment,
 * rendering of results, atomic `--output`, the audit log, and the mapping of errors to exit
 * codes. The library proper (`mod.ts`) never exports this module.
 *
 * Text from NetBox reaches standard error in warnings and error messages: everything a task
 * writes there shows control characters and bidi overrides visibly (`\x1b`, `\u202e`), line
 * feeds aside; a warning, info line or error message is one line, so its line feeds are shown
 * too. `--output` and `--audit-log` files are created with mode 0600 (an existing file keeps
 * its mode), and a token file open to group or others gets a warning.
 *
 * @module
 */

import { Command, CommanderError } from "../deps_cli.ts";
import { createClient } from "../client/client.ts";
import { resolveConfig } from "../client/config.ts";
import { escapeControls } from "../base/safe_text.ts";
import { NetBoxAuthError } from "../client/errors.ts";
import { checkBranchName } from "../client/branching.ts";
import { assertMayWrite, type ModelWrite } from "../client/permissions.ts";
import { TOOLKIT_VERSION } from "../client/version.ts";
import { EXIT, reportError, UsageError } from "./exit.ts";
import type { TaskIO } from "./io.ts";
import { renderDocChunks, type ResultDoc, writeAtomic } from "./render.ts";
import type { Filters, NetBoxClient, WriteEvent } from "../client/types.ts";

/** The environment variables the common flags read. */
export const COMMON_ENV = [
  "NETBOX_URL",
  "NETBOX_TOKEN",
  "NETBOX_TOKEN_FILE",
  "NETBOX_TIMEOUT",
  "NETBOX_RETRIES",
  "NETBOX_SETTLE",
  "NETBOX_CA_CERT",
] as const;

/**
 * Commander argument parser for a repeatable option: collects every value in order.
 *
 * @param value this occurrence's value
 * @param previous the values so far
 * @returns the values with this one appended
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { collect } from "./task.ts";
 * assert(collect("b", ["a"]).join() === "a,b");
 * ```
 */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Parses repeatable `--filter key=value` flags into filters; a key given twice becomes a list
 * (NetBox ORs repeated keys).
 *
 * @param pairs the flag values in order
 * @param flag the flag's name, for the message
 * @returns the filters
 * @throws {UsageError} for a value without `key=`
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseFilterPairs } from "./task.ts";
 * const f = parseFilterPairs(["role=a", "site=x", "role=b"]);
 * assert(JSON.stringify(f) === '{"role":["a","b"],"site":"x"}');
 * ```
 */
export function parseFilterPairs(pairs: readonly string[], flag = "--filter"): Filters {
  const filters: Record<string, string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`Cannot parse ${flag} "${pair}": expected key=value`);
    (filters[pair.slice(0, eq)] ??= []).push(pair.slice(eq + 1));
  }
  return Object.fromEntries(
    Object.entries(filters).map(([k, v]) => [k, v.length === 1 ? v[0] : v]),
  );
}

/** Describes a task for {@linkcode runTask}. */
export interface TaskSpec {
  /** The task name, e.g. `"find-free-ip"`. */
  name: string;
  /** One line for `--help`. */
  description: string;
  /** Adds `--dry-run` and `--audit-log FILE`. @default {false} */
  writes?: boolean;
  /** Output formats. @default {["table", "json", "yaml", "csv"]} */
  formats?: string[];
  /** Adds the task's own options. */
  // deno-lint-ignore no-explicit-any
  configure(cmd: Command<[], any>): Command<any, any>;
  /** Example command lines for `--help`. */
  examples?: string[];
}

/** A progress indicator; draws only when standard error is a terminal. */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

/** What a task handler gets. */
export interface TaskContext {
  io: TaskIO;
  format: string;
  dryRun: boolean;
  verbose: boolean;
  quiet: boolean;
  concurrency: number;
  /** The client (created on first call from flags and environment). */
  client(): NetBoxClient;
  /**
   * Throws a refusal (exit 3) when the token is known to be read-only, or when NetBox says it may
   * not make one of `writes` (a model it may not add or change). Does nothing under `--dry-run`.
   */
  assertCanWrite(writes?: readonly ModelWrite[]): Promise<void>;
  info(msg: string): void;
  warn(msg: string): void;
  progress(label: string, total: number): Progress;
  /** Renders and writes the result (stdout or `--output`, atomically). */
  emit(
    doc:
      & { summary: Record<string, unknown>; items: Record<string, unknown>[] }
      & Record<
        string,
        unknown
      >,
    opts: { columns: string[]; renderers?: Record<string, (doc: ResultDoc) => string> },
  ): Promise<void>;
  /** Writes text to `--output` atomically, or stdout. */
  writeResult(text: string | Iterable<string>): Promise<void>;
  /** Reads a file given by the user (`-` = stdin); unreadable → UsageError. */
  readInput(path: string): Promise<string>;
  /**
   * Fires on the first Ctrl-C or SIGTERM of a writing task: send no new writes, let the ones in
   * flight finish, report what was done and what was not (the task then exits 130 or 143).
   */
  stop: AbortSignal;
}

interface CommonOpts {
  url?: string;
  tokenFile?: string;
  token?: string;
  timeout?: string;
  retries?: string;
  settle?: string;
  concurrency: string;
  memory?: string;
  caCert?: string;
  format: string;
  output?: string;
  verbose?: boolean;
  quiet?: boolean;
  dryRun?: boolean;
  auditLog?: string;
  branch?: string;
}

/**
 * Parses the arguments, runs the handler and maps what it throws to an exit code, printing one
 * clear line to standard error.
 *
 * @param spec the task's description and options
 * @param args the command-line arguments (without the script name)
 * @param rawIo the process's IO (injected in tests)
 * @param handler the task's work; returns the exit code
 * @returns the exit code (see {@linkcode EXIT})
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { runTask } from "./task.ts";
 * import type { TaskIO } from "./io.ts";
 * let out = "";
 * const io: TaskIO = {
 *   stdout: (t) => out += t, stderr: () => {}, env: () => undefined, stderrIsTerminal: false,
 *   readTextFile: () => Promise.resolve(""), now: () => new Date(),
 * };
 * const code = await runTask(
 *   { name: "hello", description: "Says hello", configure: (cmd) => cmd },
 *   ["--help"], io, () => Promise.resolve(0),
 * );
 * assert(code === 0 && out.includes("Says hello"));
 * ```
 */
export async function runTask<O>(
  spec: TaskSpec,
  args: string[],
  rawIo: TaskIO,
  handler: (ctx: TaskContext, opts: O) => Promise<number>,
): Promise<number> {
  const formats = spec.formats ?? ["table", "json", "yaml", "csv"];
  let parsed: { opts: CommonOpts & O; args: string[] } | undefined;
  // Everything but the progress bar writes through `io`, whose stderr shows controls visibly.
  const io = withSafeStderr(rawIo);
  const cmd = buildCommand(spec, formats, io);
  try {
    await cmd.parseAsync(args, { from: "user" });
    parsed = { opts: cmd.opts() as CommonOpts & O, args: cmd.args };
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
      if (err.code === "commander.help") return 0;
      io.stderr(`Run '${spec.name} --help' for usage.\n`);
      return EXIT.USAGE;
    }
    return reportError(err, io);
  }
  const opts = parsed.opts;
  if (PARSE_ONLY.has(rawIo)) return checkParsed(opts, formats, io);
  let client: NetBoxClient | undefined;
  // A writing task stops gracefully on the first Ctrl-C / SIGTERM and at once on the second.
  const stop = new AbortController();
  let interruptedBy: "SIGINT" | "SIGTERM" | undefined;
  const unsubscribe = spec.writes && !opts.dryRun
    ? io.onInterrupt?.((signal) => {
      if (interruptedBy) Deno.exit(signal === "SIGINT" ? EXIT.INTERRUPTED : EXIT.TERMINATED);
      interruptedBy = signal;
      io.stderr(
        `interrupted (${signal}): finishing the writes in flight, sending no new ones ` +
          "(interrupt again to stop at once)\n",
      );
      stop.abort(new Error(`interrupted (${signal})`));
    })
    : undefined;
  try {
    checkFormat(opts.format, formats);
    const ctx = makeContext(spec, opts, io, rawIo, (c) => client = c, stop.signal);
    const code = await handler(ctx, Object.assign(opts, { args: parsed.args }));
    await reportBranch(client, opts, io);
    return interruptedBy ? interruptedExit(interruptedBy, io) : code;
  } catch (err) {
    const code = reportError(err, io);
    await reportBranch(client, opts, io);
    return interruptedBy ? interruptedExit(interruptedBy, io) : code;
  } finally {
    unsubscribe?.();
    client?.close();
  }
}

const PARSE_ONLY = new WeakSet<TaskIO>();

/**
 * Marks an IO so that {@linkcode runTask} only parses: the task's own flag parser checks the
 * arguments (unknown options, missing values, bad choices, `--format`, `--concurrency`) and
 * reports a usage error as a real run would (exit 2), but the handler never runs — nothing is
 * read, nothing is sent to NetBox. For tests of documented command lines.
 *
 * @param io the IO to pass to a task's `main(args, io)`
 * @returns a copy of `io` that makes the task parse only
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseOnly, runTask, type TaskSpec } from "./task.ts";
 * import type { TaskIO } from "./io.ts";
 * let err = "";
 * const io: TaskIO = {
 *   stdout: () => {}, stderr: (t) => err += t, env: () => undefined, stderrIsTerminal: false,
 *   readTextFile: () => Promise.reject(new Error("not read")), now: () => new Date(),
 * };
 * const spec: TaskSpec = { name: "hello", description: "Says hello", configure: (cmd) => cmd };
 * const never = () => Promise.reject(new Error("not run"));
 * assert(await runTask(spec, ["--format", "json"], parseOnly(io), never) === 0);
 * assert(await runTask(spec, ["--nope"], parseOnly(io), never) === 2 && err.includes("--nope"));
 * ```
 */
export function parseOnly(io: TaskIO): TaskIO {
  const marked = { ...io };
  PARSE_ONLY.add(marked);
  return marked;
}

/** A parse-only run: the checks of the common flags a real run makes before its handler. */
function checkParsed(opts: CommonOpts, formats: string[], io: TaskIO): number {
  try {
    checkFormat(opts.format, formats);
    parsePositiveInt(opts.concurrency, "--concurrency");
    parseMemory(opts.memory);
    if (opts.branch !== undefined) checkBranchName(opts.branch);
    return EXIT.OK;
  } catch (err) {
    return reportError(err, io);
  }
}

function checkFormat(format: string, formats: string[]): void {
  if (!formats.includes(format)) {
    throw new UsageError(
      `Cannot render: unknown --format "${format}"; expected one of ${formats.join(", ")}`,
    );
  }
}

/**
 * The IO a task gets: standard error shows control characters visibly, line feeds aside (they
 * separate the lines a task writes).
 */
function withSafeStderr(io: TaskIO): TaskIO {
  return { ...io, stderr: (text) => io.stderr(escapeControls(text, { keepNewlines: true })) };
}

// deno-lint-ignore no-explicit-any
function buildCommand(spec: TaskSpec, formats: string[], io: TaskIO): Command<any, any> {
  const base = new Command()
    .name(spec.name)
    .description(spec.description)
    .version(TOOLKIT_VERSION, "--version")
    .option("--url <url>", "NetBox base URL (env NETBOX_URL); /api suffix optional")
    .option(
      "--token-file <path>",
      "read the API token from a file (env NETBOX_TOKEN_FILE); warns when the file is open " +
        "to group or others (chmod 600 it)",
    )
    .option("--token <token>", "API token (discouraged: visible in ps; prefer NETBOX_TOKEN)")
    .option("--timeout <seconds>", "per-request timeout (env NETBOX_TIMEOUT)", undefined)
    .option("--retries <n>", "retries per request (env NETBOX_RETRIES)")
    .option(
      "--settle <seconds>",
      "after a write NetBox did not answer in time (timeout, 502/504, reset), how long to keep " +
        "reading back before calling its outcome unknown (env NETBOX_SETTLE; default: twice " +
        "the timeout)",
    )
    .option("--concurrency <n>", "requests in flight", "4")
    .option(
      "--memory <MB>",
      "page data a listing holds at once (in flight and buffered), in MB of NetBox's JSON; " +
        "the parsed objects take 2-3 times that (default 4)",
    )
    .option("--ca-cert <path>", "extra CA certificate(s), PEM (env NETBOX_CA_CERT)")
    .option(
      "--format <format>",
      `output format: ${formats.join(", ")}` +
        (formats.includes("csv")
          ? "; csv: a cell starting with = + - @ tab or CR gets a leading ' so spreadsheets " +
            "show it as text, never as a formula (negative numbers too)"
          : ""),
      "table",
    )
    .option(
      "--output <path>",
      "write the result to a file (atomically) instead of stdout; a new file gets mode 0600, " +
        "an existing one keeps its mode",
    )
    .option("--verbose", "log every request (method, path, status, ms) to stderr")
    .option("--quiet", "print errors only on stderr");
  if (spec.writes) {
    base.option("--dry-run", "compute and print the plan; send no write")
      .option(
        "--audit-log <file>",
        "append one JSON line per write (method, path, status, ids); a new file gets mode " +
          "0600, an existing one keeps its mode",
      )
      .option(
        "--branch <name>",
        "NetBox Branching: write into this branch (created when missing, used once ready) " +
          "and read from it, so main stays untouched until the branch is merged; prints the " +
          "branch's URL for review. With --dry-run a missing branch is not created: the plan " +
          "is against main",
      );
  }
  const cmd = spec.configure(base);
  if (spec.examples?.length) {
    cmd.addHelpText("after", `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join("\n")}\n`);
  }
  cmd.addHelpText(
    "after",
    "\nExit codes: 0 done, 1 needs attention, 2 usage/input error, 3 NetBox refused, 4 NetBox unreachable\n",
  );
  cmd.exitOverride().configureOutput({
    writeOut: (s: string) => io.stdout(s),
    writeErr: (s: string) => io.stderr(s),
    outputError: (s: string, write: (s: string) => void) => write(s),
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  return cmd;
}

function makeContext(
  spec: TaskSpec,
  opts: CommonOpts,
  io: TaskIO,
  rawIo: TaskIO,
  onClient: (c: NetBoxClient) => void,
  stop: AbortSignal,
): TaskContext {
  const quiet = !!opts.quiet;
  const verbose = !!opts.verbose && !quiet;
  const concurrency = parsePositiveInt(opts.concurrency, "--concurrency");
  const memoryBudget = parseMemory(opts.memory);
  if (opts.branch !== undefined) checkBranchName(opts.branch);
  let client: NetBoxClient | undefined;
  const log = (line: string) => io.stderr(line + "\n");
  const auditPath = opts.auditLog;
  const getClient = (): NetBoxClient => {
    if (client) return client;
    if (opts.token) {
      log("warning: --token is visible to other users in the process list; prefer NETBOX_TOKEN");
    }
    const config = resolveConfig(
      {
        url: opts.url,
        token: opts.token,
        tokenFile: opts.tokenFile,
        timeoutSec: opts.timeout,
        retries: opts.retries,
        settleSec: opts.settle,
        caCertPath: opts.caCert,
        concurrency,
        memoryBudget,
      },
      io.env,
      // Not silenced by --quiet: like the --token warning, it is about the secret.
      { onWarning: (message) => log(`warning: ${escapeControls(message)}`) },
    );
    client = createClient({
      ...config,
      fetch: io.fetch ?? config.fetch,
      userAgent: `netbox-toolkit/${TOOLKIT_VERSION} ${spec.name}`,
      verbose,
      log: (line) => {
        if (!quiet || line.startsWith("error")) log(line);
      },
      onWrite: auditPath ? (event: WriteEvent) => appendAudit(auditPath, event) : undefined,
      // A task plans against where it writes: reads come from the branch too, so a re-run
      // into the same branch changes nothing. A dry run never creates the branch.
      ...(opts.branch === undefined
        ? {}
        : { branch: opts.branch, branchReads: true, branchCreate: !opts.dryRun }),
    });
    onClient(client);
    return client;
  };
  const appendAudit = (path: string, event: WriteEvent) => {
    const line = new TextEncoder().encode(JSON.stringify({ task: spec.name, ...event }) + "\n");
    // `mode` applies only when the file is created: an existing log keeps its mode.
    const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    try {
      for (let done = 0; done < line.length;) done += file.writeSync(line.subarray(done));
    } finally {
      file.close();
    }
  };
  const writeResult = async (text: string | Iterable<string>) => {
    if (!opts.output || opts.output === "-") {
      for (const piece of typeof text === "string" ? [text] : text) io.stdout(piece);
      return;
    }
    await writeAtomic(opts.output, text);
  };
  return {
    io,
    format: opts.format,
    dryRun: !!opts.dryRun,
    verbose,
    quiet,
    concurrency,
    client: getClient,
    async assertCanWrite(writes = []) {
      if (opts.dryRun) return;
      const c = getClient();
      if ((await c.canWrite()) === false) {
        throw new NetBoxAuthError(
          `Cannot write to NetBox: the token is read-only (write disabled); ${spec.name} needs a write-enabled token`,
          { status: 403, method: "-", path: "-", body: null, messages: {} },
          "permission",
          c.tokenVersion,
        );
      }
      await assertMayWrite(c, writes);
    },
    info: (msg) => {
      if (!quiet) log(escapeControls(msg));
    },
    warn: (msg) => {
      if (!quiet) log(`warning: ${escapeControls(msg)}`);
    },
    // The bar draws with \r and ESC[K itself: it writes to the raw stream.
    progress: (label, total) => makeProgress(rawIo, quiet, label, total),
    async emit(doc, { columns, renderers }) {
      const c = client;
      const branch = await branchOf(c);
      const full: ResultDoc = {
        netbox: {
          url: c?.baseUrl ?? (opts.url ?? io.env("NETBOX_URL") ?? ""),
          version: c ? (await c.status().catch(() => undefined))?.version ?? null : null,
          ...(branch ? { branch: { name: branch.name, url: branch.webUrl } } : {}),
        },
        ...doc,
        ...(branch
          ? { summary: { ...doc.summary, branch: branch.name, branch_url: branch.webUrl } }
          : {}),
      };
      await writeResult(renderDocChunks(full, opts.format, columns, renderers));
    },
    writeResult,
    stop,
    async readInput(path) {
      try {
        return await io.readTextFile(path);
      } catch (err) {
        if (err instanceof Deno.errors.NotCapable) throw err;
        throw new UsageError(`Cannot read ${path}: ${(err as Error).message}`);
      }
    },
  };
}

/** Names the branch the changes went into and where to review them. */
async function reportBranch(
  client: NetBoxClient | undefined,
  opts: CommonOpts,
  io: TaskIO,
): Promise<void> {
  if (opts.quiet || opts.branch === undefined || !client) return;
  const branch = await branchOf(client);
  if (branch) {
    io.stderr(
      `branch ${branch.name}: ${opts.dryRun ? "planned against it" : "changes written there"}; ` +
        `review and merge at ${branch.webUrl}\n`,
    );
  } else if (opts.dryRun) {
    io.stderr(
      `branch ${opts.branch} does not exist yet: planned against main; a run without ` +
        "--dry-run creates it\n",
    );
  }
}

/** The exit code of an interrupted run, after saying how to finish the work. */
function interruptedExit(signal: "SIGINT" | "SIGTERM", io: TaskIO): number {
  io.stderr(
    `stopped by ${signal}: the writes in flight finished, none was started after it; ` +
      "run the same command again to finish\n",
  );
  return signal === "SIGINT" ? EXIT.INTERRUPTED : EXIT.TERMINATED;
}

/** The branch a client writes into, once it exists (never creates it). */
async function branchOf(client: NetBoxClient | undefined) {
  if (!client?.branchName) return undefined;
  return await client.branch().catch(() => undefined);
}

/** `--memory` in MB (fractions allowed) → bytes; `undefined` when not given. */
function parseMemory(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const mb = Number(value);
  if (value.trim() === "" || !Number.isFinite(mb) || mb <= 0) {
    throw new UsageError(`Cannot parse --memory: expected a number of MB > 0, got "${value}"`);
  }
  return Math.max(1, Math.round(mb * 1024 * 1024));
}

function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`Cannot parse ${flag}: expected a positive integer, got "${value}"`);
  }
  return n;
}

function makeProgress(io: TaskIO, quiet: boolean, label: string, total: number): Progress {
  let done = 0;
  const draw = !quiet && io.stderrIsTerminal && total > 0;
  let last = 0;
  const paint = () => {
    const pct = Math.floor((done / total) * 100);
    const width = 30;
    const filled = Math.round((done / total) * width);
    io.stderr(
      `\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${pct}% ${done}/${total}`,
    );
  };
  return {
    tick(n = 1) {
      done = Math.min(total, done + n);
      const now = Date.now();
      if (draw && (now - last > 100 || done === total)) {
        last = now;
        paint();
      }
    },
    done() {
      if (draw) io.stderr("\r\x1b[K");
    },
  };
}
