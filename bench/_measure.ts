/**
 * Measuring child processes: wall time from spawn to exit, peak RSS through `/usr/bin/time`,
 * the child's own JSON line; medians and the interleaved repetition loop.
 *
 * @module
 */

/** One measurement of one variant. */
export interface Sample {
  /** Wall time of the process (spawn to exit), or the scaled/derived time, in ms. */
  ms: number;
  /** Time measured inside the process (after its imports), when it reports one. */
  innerMs?: number;
  /** Peak resident set size of the process, in MB. */
  rssMb?: number;
  /** Anything else the variant reports (counts, write counts, parts). */
  extra?: Record<string, number | string | boolean>;
}

/** Options of {@linkcode timed}. */
export interface TimedOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Exit codes that count as success. @default {[0]} */
  okCodes?: number[];
}

/** The outcome of {@linkcode timed}. */
export interface Timed {
  ms: number;
  rssMb?: number;
  /** CPU time of the process and its children (user + system, GNU time), in seconds. */
  cpuS?: number;
  code: number;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON, when it is an object. */
  json?: Record<string, unknown>;
}

let timeBinary: string | null | undefined;

async function gnuTime(): Promise<string | null> {
  if (timeBinary === undefined) {
    try {
      await Deno.stat("/usr/bin/time");
      timeBinary = "/usr/bin/time";
    } catch {
      timeBinary = null;
    }
  }
  return timeBinary;
}

function lastJson(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * Runs a command, measuring its wall time (spawn to exit) and, through GNU time, its peak RSS.
 * Throws when the exit code is not one of `okCodes`, with the end of stderr.
 */
export async function timed(cmd: string[], options: TimedOptions = {}): Promise<Timed> {
  const time = await gnuTime();
  const rssFile = time ? await Deno.makeTempFile({ prefix: "bench-rss-" }) : undefined;
  const argv = time ? [time, "-f", "%M %U %S", "-o", rssFile!, ...cmd] : cmd;
  const command = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const t0 = performance.now();
  const out = await command.output();
  const ms = performance.now() - t0;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  let rssMb: number | undefined;
  let cpuS: number | undefined;
  if (rssFile) {
    const [kb, user, sys] = ((await Deno.readTextFile(rssFile)).trim().split("\n").at(-1) ?? "")
      .split(" ").map(Number);
    if (Number.isFinite(kb) && kb > 0) rssMb = kb / 1024;
    if (Number.isFinite(user) && Number.isFinite(sys)) cpuS = user + sys;
    await Deno.remove(rssFile);
  }
  if (!(options.okCodes ?? [0]).includes(out.code)) {
    throw new Error(
      `Cannot run ${cmd.slice(0, 4).join(" ")}…: exit code ${out.code}\n${stderr.slice(-2000)}`,
    );
  }
  return { ms, rssMb, cpuS, code: out.code, stdout, stderr, json: lastJson(stdout) };
}

/** The median of a list of numbers (NaN when empty). */
export function median(values: number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A variant of a case: one run produces samples for one or more result ids. */
export interface Variant {
  /** Result id (and label) this variant reports; a compound variant reports several. */
  id: string;
  run(rep: number): Promise<Record<string, Sample>>;
}

/**
 * Runs every variant `reps` times, interleaved: rep after rep, each rep running every variant
 * once, the order rotated by one each rep so no variant always runs first (or right after a
 * heavy one). Returns the samples per result id; a run that throws is logged and its message
 * added to `failures` (by variant id) instead of ending the loop.
 */
export async function interleaved(
  variants: Variant[],
  reps: number,
  log: (line: string) => void,
  failures: Map<string, string[]> = new Map(),
): Promise<Map<string, Sample[]>> {
  const out = new Map<string, Sample[]>();
  for (let rep = 0; rep < reps; rep++) {
    const order = variants.map((_, i) => variants[(i + rep) % variants.length]);
    for (const v of order) {
      let samples: Record<string, Sample>;
      try {
        samples = await v.run(rep);
      } catch (err) {
        // One failed run (a server timeout, a crash) is recorded, not fatal to the whole bench.
        const message = (err as Error).message.split("\n")[0];
        log(`rep ${rep + 1}/${reps} ${v.id}: FAILED: ${message}`);
        failures.set(v.id, [...(failures.get(v.id) ?? []), message]);
        continue;
      }
      for (const [id, s] of Object.entries(samples)) {
        if (!out.has(id)) out.set(id, []);
        out.get(id)!.push(s);
        log(
          `rep ${rep + 1}/${reps} ${id}: ${fmtMs(s.ms)}${
            s.innerMs !== undefined ? ` (in-process ${fmtMs(s.innerMs)})` : ""
          }${s.rssMb !== undefined ? `, ${s.rssMb.toFixed(0)} MB` : ""}`,
        );
      }
    }
  }
  return out;
}

/** `1234` → `"1.23 s"`, `87` → `"87 ms"`. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 100_000 ? 0 : 2)} s` : `${Math.round(ms)} ms`;
}

/** The first line a command prints ("?" when it cannot run). */
export async function commandLine(cmd: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout).trim().split("\n")[0];
  } catch {
    return "?";
  }
}

/** The load averages (1, 5, 15 minutes). */
export function loadAvg(): string {
  return Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
}

/** Above this 1-minute load average at the start, a bench run is refused (or marked). */
export const MAX_START_LOAD = 1.0;

/** What to do about the machine's load at the start of a run. */
export interface LoadDecision {
  /** `run`: quiet enough; `marked`: busy, run anyway and say so; `refused`: busy, do not run. */
  verdict: "run" | "marked" | "refused";
  /** The line for the results (a warning when marked) or the refusal message. */
  message: string;
}

/**
 * The load rule: figures taken while other work competes for the cores are not comparable, so
 * a run whose 1-minute load average is above {@linkcode MAX_START_LOAD} at the start is refused,
 * or, with `force`, run and marked in its results.
 *
 * @param load The 1-minute load average at the start.
 * @param force Run anyway (`--force`).
 */
export function loadRule(load: number, force: boolean): LoadDecision {
  const shown = load.toFixed(2);
  if (!(load > MAX_START_LOAD)) {
    return { verdict: "run", message: `load average ${shown} at the start` };
  }
  if (force) {
    return {
      verdict: "marked",
      message: `run on a busy machine (--force): load average ${shown} at the start, above ` +
        `${MAX_START_LOAD.toFixed(1)}; times and RSS are not comparable with a quiet run`,
    };
  }
  return {
    verdict: "refused",
    message:
      `Cannot start the bench: load average ${shown} is above ${
        MAX_START_LOAD.toFixed(1)
      } (other work would skew the figures); wait for a quiet machine or pass --force to run ` +
      "anyway with the results marked",
  };
}

/**
 * Applies {@linkcode loadRule} to this machine now: exits 1 with the message when refused,
 * else returns the warning for the results (`undefined` on a quiet machine).
 */
export function checkStartLoad(force: boolean, log: (line: string) => void): string | undefined {
  const decision = loadRule(Deno.loadavg()[0], force);
  if (decision.verdict === "refused") {
    console.error(decision.message);
    Deno.exit(1);
  }
  log(decision.message);
  return decision.verdict === "marked" ? decision.message : undefined;
}

/** Cores, CPU model and memory of this machine, for a results file. */
export async function machineLine(): Promise<string> {
  // /proc needs --allow-all under Deno: ask grep, and Deno's own sys calls.
  const model = (await commandLine(["grep", "-m1", "model name", "/proc/cpuinfo"]))
    .replace(/^model name\s*:\s*/, "");
  const gb = Deno.systemMemoryInfo().total / 1024 ** 3;
  return `${navigator.hardwareConcurrency} cores (${model}), ${gb.toFixed(1)} GB memory`;
}

/** Deno, Python, pynetbox and curl versions, for a results file. */
export async function softwareLine(py: string): Promise<string> {
  const pynetbox = await commandLine([py, "-c", "import pynetbox; print(pynetbox.__version__)"]);
  const curl = (await commandLine(["curl", "--version"])).split(" ").slice(0, 2).join(" ");
  return `Deno ${Deno.version.deno}; ${await commandLine([
    py,
    "-V",
  ])}, pynetbox ${pynetbox}; ${curl}`;
}
