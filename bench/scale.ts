/**
 * `deno task bench --scale`: the toolkit at the size of the largest NetBox installations, on the
 * bench's own NetBox instances seeded by SQL (`scale_seed.ts`), in steps of 100,000
 * and 1,000,000 IP addresses (one database and instance per step, brought up one after the
 * other). Writes `bench/results/<date>-scale.md` and `.json` and prints the Markdown.
 *
 * ```sh
 * deno task bench --scale                   # both steps (~60 min on a 2-core box, seeding incl.)
 * deno task bench --scale --quick           # the 100k step only (smoke run, ~10 min)
 * deno task bench --scale --steps 1m --cases audit,free
 * deno task bench --scale --pynetbox-1m     # also pynetbox's stream and audit at 1M (~30 min more, ~10 GB)
 * deno task bench --scale --steps 1m --merge bench/results/…-scale-quick.json   # a run in two parts
 * ```
 *
 * Cases per step: `stream` (every address, `for await` over `list()`; the best parallel curl;
 * pynetbox), `audit` (`audit-ips`), `free` (`find-free-ip`, 1,000 free in the /12 pool holding
 * half the addresses), `import` (`bulk-import --dry-run` of 1 % and 10 % of the step's size).
 * Every run records its wall time, peak RSS and CPU time (GNU time), and the CPU time NetBox's
 * gunicorn spent meanwhile, so a missed goal says whether the server or the client took the time.
 * The tasks run through `_task_probe.ts`: their own `main()` in a process of their own, with the
 * moment the last response was read (what comes after is the client's own work).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  checkStartLoad,
  fmtMs,
  loadAvg,
  machineLine,
  type Sample,
  softwareLine,
  type Timed,
  timed,
} from "./_measure.ts";
import { down, type Instance, INSTANCES, masterPid, up, venvPython } from "./_provision.ts";
import { type Check, passes, renderMarkdown, type Results, type Row } from "./_report.ts";
import {
  importItems,
  importYaml,
  POOL_CIDR,
  type ScaleStep,
  seedScale,
  stampOf,
  STEPS,
  verifyScale,
} from "./scale_seed.ts";

/** In the order they run: the cheapest goals first, so a run cut short has the most. */
const CASES = ["free", "audit", "import", "stream", "import-growth"] as const;
type CaseId = typeof CASES[number];

/**
 * The scale goals, kept here so the report shows goal against measurement. They are not
 * to be lowered to make a run pass: a miss is explained (where the time goes), not hidden.
 */
export const GOALS = {
  /** Streaming every address: peak RSS, and the same at 100k and 1M. */
  streamRssMb: 80,
  /** Streaming: toolkit throughput / best parallel curl of the same pages, at least. */
  streamThroughput: 1.0,
  /** "Constant" peak RSS: 1M / 100k at most (sampling noise and allocator slack). */
  streamRssGrowth: 1.1,
  /** Streaming: toolkit peak RSS / pynetbox's, at most. */
  streamRssVsPynetbox: 2.2,
  /** Streaming: pynetbox's time / the toolkit's, at least. */
  streamSpeedVsPynetbox: 1.2,
  /** audit-ips: analysis (everything after the last response) at most, ms. */
  auditAnalysisMs: 10_000,
  /** audit-ips: peak RSS, MB. */
  auditRssMb: 2048,
  /** audit-ips: end to end / fetch. */
  auditOverFetch: 1.1,
  /** find-free-ip: time after the fetch, ms. */
  freeAfterFetchMs: 5_000,
  /** bulk-import --dry-run of 100k against 1M: whole plan, ms. */
  importMs: 60_000,
  /** bulk-import: peak RSS, MB. */
  importRssMb: 2048,
  /** bulk-import: ~linear growth: 10× the items may cost at most this many times the time. */
  importGrowth: 12,
} as const;

const PAGE_SIZE = 1000;
const CONCURRENCY = 4;
const FREE_COUNT = 1000;
/** Items of the pynetbox get()-per-item plan that are really sent (the rest is scaled). */
const PY_PLAN_SAMPLE = 500;
const DENO_CHILD = [Deno.execPath(), "run", "--no-prompt", "--allow-net=127.0.0.1"];
/**
 * V8 flags of the streaming script: a young generation of 1 MB semi-spaces instead of up to
 * 16 MB (pages die young and are collected at once, not promoted), and an old generation that
 * grows by 10 % past its live size instead of up to several times it, and V8's own preference
 * for memory over speed (`--optimize-for-size`: freed heap pages go back to the system at once).
 * None is a hard limit. Offline (1,000,000 addresses against `_offline_server.ts`) the first two
 * took the stream's peak RSS from 238–247 MB to 112–114 MB (2026-12-07); after pages waited as
 * text, the third took it from 96–99 MB to 87–92 MB for 30 % more client CPU (2026-12-08,
 * 2.4 s → 3.4 s). The stream is also measured without them.
 */
export const STREAM_V8_FLAGS =
  "--max-semi-space-size=1,--heap-growing-percent=10,--optimize-for-size";
const PROBE = [
  ...DENO_CHILD,
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "bench/_task_probe.ts",
];
/** A loaded 2-core box can take minutes for one big page: not what we measure. */
const SLOW_SERVER = ["--timeout", "900"];

interface Opts {
  steps: ScaleStep[];
  cases: CaseId[];
  pynetbox1m: boolean;
  keepUp: boolean;
  quick: boolean;
  out: string;
  /** An earlier results JSON whose other steps join this run's (a long run in two parts). */
  merge?: string;
  /** A results JSON to complete again (growth, missed goals) without running anything. */
  regenerate?: string;
  /** Run even when the machine is busy (the results are marked). */
  force: boolean;
}

const log = (line: string) => console.error(`bench --scale: ${line}`);

function parseOpts(args: string[]): Opts {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      steps: { type: "string" },
      cases: { type: "string" },
      "pynetbox-1m": { type: "boolean", default: false },
      "keep-up": { type: "boolean", default: false },
      out: { type: "string", default: "bench/results" },
      merge: { type: "string" },
      regenerate: { type: "string" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task bench --scale [--quick] [--steps 100k,1m] [--cases free,audit,import,stream,import-growth] " +
        "[--pynetbox-1m] [--keep-up] [--out DIR] [--merge EARLIER.json] [--regenerate RESULTS.json] " +
        "[--force]\nA run whose 1-minute load average is above 1.0 at the start is refused; " +
        "--force runs it anyway and marks its results.",
    );
    Deno.exit(0);
  }
  const stepIds = values.steps?.split(",") ?? (values.quick ? ["100k"] : ["100k", "1m"]);
  const steps = stepIds.map((id) => {
    const step = STEPS[id.toLowerCase()];
    if (!step) throw new RangeError(`Cannot run step "${id}": expected 100k or 1m`);
    return step;
  });
  const cases = (values.cases?.split(",") ?? [...CASES]) as CaseId[];
  for (const c of cases) {
    if (!CASES.includes(c)) throw new RangeError(`Cannot run case "${c}": unknown case`);
  }
  return {
    steps,
    cases,
    pynetbox1m: values["pynetbox-1m"],
    keepUp: values["keep-up"],
    quick: values.quick,
    out: values.out,
    merge: values.merge,
    regenerate: values.regenerate,
    force: values.force,
  };
}

// --- measuring ------------------------------------------------------------------------------------

async function capture(cmd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** CPU seconds (user + system) NetBox's gunicorn master and workers have used so far. */
async function serverCpu(inst: Instance): Promise<number> {
  const master = await masterPid(inst.port);
  if (master === undefined) return NaN;
  const pids = [String(master), ...(await capture("pgrep", "-P", String(master))).split("\n")]
    .filter(Boolean);
  const times = await capture("ps", "-o", "times=", "-p", pids.join(","));
  return times.split("\n").map((t) => Number(t.trim())).filter(Number.isFinite)
    .reduce((a, b) => a + b, 0);
}

/** One measured run: the process (GNU time) and the server's CPU meanwhile. */
interface Run extends Timed {
  serverCpuS: number;
}

async function measure(
  inst: Instance,
  what: string,
  cmd: string[],
  env: Record<string, string>,
): Promise<Run> {
  log(`${what} …`);
  const before = await serverCpu(inst);
  const t = await timed(cmd, { env });
  const serverCpuS = (await serverCpu(inst)) - before;
  log(
    `${what}: ${fmtMs(t.ms)}, ${t.rssMb?.toFixed(0)} MB, client CPU ${
      t.cpuS?.toFixed(1)
    } s, server CPU ${serverCpuS.toFixed(1)} s`,
  );
  return { ...t, serverCpuS };
}

function sampleOf(r: Run, extra: Record<string, number | string | boolean> = {}): Sample {
  const inner = r.json?.ms;
  return {
    ms: r.ms,
    innerMs: typeof inner === "number" ? inner : undefined,
    rssMb: r.rssMb,
    extra: {
      client_cpu_s: Number((r.cpuS ?? NaN).toFixed(2)),
      server_cpu_s: Number(r.serverCpuS.toFixed(2)),
      ...extra,
    },
  };
}

/** "client CPU 12 s · server CPU 180 s (1.9 of 2 cores)" for a row's note. */
function cpuNote(r: Run): string {
  const cores = r.serverCpuS / (r.ms / 1000);
  return `client CPU ${r.cpuS?.toFixed(1)} s · NetBox CPU ${r.serverCpuS.toFixed(0)} s (${
    cores.toFixed(1)
  } cores busy)`;
}

function num(json: Record<string, unknown> | undefined, key: string): number {
  const v = json?.[key];
  return typeof v === "number" ? v : NaN;
}

function tokenEnv(inst: Instance): Record<string, string> {
  return { NETBOX_TOKEN: inst.token, NETBOX_URL: inst.url, NO_COLOR: "1" };
}

const fmtN = (n: number) => n.toLocaleString("en-US");

// --- cases ---------------------------------------------------------------------------------------

interface CaseResult {
  rows: Row[];
  checks: Check[];
  notes: string[];
}

function row(id: string, label: string, sample: Sample, note = ""): Row {
  return { id, label, samples: [sample], note };
}

function runPynetbox(step: ScaleStep, opts: Opts): boolean {
  return step.id !== "1m" || opts.pynetbox1m;
}

async function streamCase(
  step: ScaleStep,
  inst: Instance,
  py: string,
  opts: Opts,
): Promise<CaseResult> {
  const env = tokenEnv(inst);
  const n = step.ips;
  // `stream` imports the "./client" entry, `stream-root` the root entry (mod.ts).
  const stream = (flags: string[], mode = "stream") => [
    ...DENO_CHILD,
    ...flags,
    "--allow-env=NETBOX_TOKEN",
    "bench/_toolkit_list.ts",
    inst.url,
    mode,
  ];
  const tk = await measure(
    inst,
    `stream ${fmtN(n)}: toolkit`,
    stream([`--v8-flags=${STREAM_V8_FLAGS}`]),
    env,
  );
  if (tk.json?.count !== n) throw new Error(`Cannot trust the stream: ${tk.json?.count} addresses`);
  const plain = await measure(inst, `stream ${fmtN(n)}: toolkit, V8 defaults`, stream([]), env);
  const root = await measure(
    inst,
    `stream ${fmtN(n)}: toolkit, root entry`,
    stream([`--v8-flags=${STREAM_V8_FLAGS}`], "stream-root"),
    env,
  );
  // curl may be stopped (a run cut short at a deadline): the toolkit's figures still count.
  let curl: Run | undefined;
  let curlError = "";
  try {
    curl = await measure(inst, `stream ${fmtN(n)}: curl`, [
      "bash",
      "bench/_curl_list.sh",
      "par-cursor",
      inst.url,
      String(PAGE_SIZE),
      String(CONCURRENCY),
    ], env);
    if (curl.json?.count !== n) throw new Error(`it listed ${curl.json?.count} addresses`);
  } catch (err) {
    curlError = (err as Error).message.split("\n")[0];
    curl = undefined;
    log(`stream ${fmtN(n)}: curl not measured: ${curlError}`);
  }
  const tkRow = (id: string, label: string, r: Run): Row => ({
    ...row(
      id,
      label,
      sampleOf(r, { requests: num(r.json, "requests") }),
      `${num(r.json, "requests")} requests · in-process peak RSS ${
        num(r.json, "peak_rss_mb")
      } MB · ${cpuNote(r)}`,
    ),
    rssMb: Array.isArray(r.json?.rss_mb) ? r.json.rss_mb as number[] : undefined,
  });
  const rows = [
    tkRow(
      "tk",
      `toolkit: \`for await (const ip of client.ipam.ipAddresses.list())\`, the \`"./client"\` entry, \`--v8-flags=${STREAM_V8_FLAGS}\``,
      tk,
    ),
    tkRow("tk-plain", "the same with V8's default heap sizing", plain),
    tkRow("tk-root", "the same flags, importing the root entry (`mod.ts`)", root),
  ];
  if (curl) {
    rows.push(row(
      "curl",
      `curl, ${CONCURRENCY} parallel id ranges (xargs -P; bodies to files, not parsed)`,
      sampleOf(curl),
      `${num(curl.json, "requests")} requests · ${cpuNote(curl)}`,
    ));
  }
  let pyNote = "pynetbox: not run at this step (`--pynetbox-1m` runs it)";
  const pyChecks: Check[] = [];
  if (runPynetbox(step, opts)) {
    const p = await measure(inst, `stream ${fmtN(n)}: pynetbox`, [
      py,
      "bench/_pynetbox.py",
      "stream",
      inst.url,
    ], env);
    rows.push(
      row(
        "py",
        "pynetbox: `for ip in nb.ipam.ip_addresses.all()` (offset pages, sequential)",
        sampleOf(p),
        cpuNote(p),
      ),
    );
    pyNote = `toolkit / pynetbox: ${(tk.ms / p.ms).toFixed(2)}× the time; peak RSS ${
      tk.rssMb?.toFixed(0)
    } vs ${p.rssMb?.toFixed(0)} MB.`;
    pyChecks.push(
      {
        name: `Stream ${fmtN(n)}: peak RSS toolkit / pynetbox`,
        value: (tk.rssMb ?? NaN) / (p.rssMb ?? NaN),
        unit: "×",
        target: GOALS.streamRssVsPynetbox,
      },
      {
        name: `Stream ${fmtN(n)}: speed toolkit / pynetbox (pynetbox's time / the toolkit's)`,
        value: p.ms / tk.ms,
        unit: "×",
        target: GOALS.streamSpeedVsPynetbox,
        atLeast: true,
      },
    );
  }
  const throughput = curl ? curl.ms / tk.ms : NaN;
  const label = fmtN(n);
  return {
    rows,
    checks: [
      {
        name: `Stream ${label}: peak RSS`,
        value: tk.rssMb ?? NaN,
        unit: "MB",
        target: GOALS.streamRssMb,
      },
      {
        name: `Stream ${label}: throughput toolkit / best parallel curl`,
        value: throughput,
        unit: "×",
        target: GOALS.streamThroughput,
        atLeast: true,
        note: !curl
          ? `curl was not measured at this step (${curlError}).`
          : throughput < GOALS.streamThroughput
          ? `toolkit ${fmtMs(tk.ms)} vs curl ${fmtMs(curl.ms)}; NetBox's CPU: ${
            tk.serverCpuS.toFixed(0)
          } s vs ${curl.serverCpuS.toFixed(0)} s, the toolkit's own CPU ${
            tk.cpuS?.toFixed(0)
          } s (JSON parsing) competes with NetBox for the 2 cores.`
          : undefined,
      },
      ...pyChecks,
    ],
    notes: [
      `${label} IP addresses, full representation, page size ${PAGE_SIZE} (MAX_PAGE_SIZE); the toolkit streams in cursor mode with ${CONCURRENCY} id ranges in flight and keeps nothing; curl fetches the same id ranges ${CONCURRENCY} at a time (its best mode in the list case).`,
      curl
        ? `Throughput toolkit / curl = curl time / toolkit time: ${throughput.toFixed(2)}×.`
        : `curl not measured at this step: ${curlError}.`,
      pyNote,
      `V8's default heap sizing: ${fmtMs(plain.ms)}, peak RSS ${
        plain.rssMb?.toFixed(0)
      } MB (with \`--v8-flags=${STREAM_V8_FLAGS}\`: ${fmtMs(tk.ms)}, ${tk.rssMb?.toFixed(0)} MB).`,
      `The root entry (\`mod.ts\`, the domains and their YAML/CSV libraries loaded too): ${
        fmtMs(root.ms)
      }, peak RSS ${root.rssMb?.toFixed(0)} MB.`,
    ],
  };
}

async function auditCase(
  step: ScaleStep,
  inst: Instance,
  py: string,
  opts: Opts,
): Promise<CaseResult> {
  const env = tokenEnv(inst);
  const label = fmtN(step.ips);
  const t = await measure(inst, `audit ${label}: audit-ips`, [
    ...PROBE,
    "audit-ips",
    ...SLOW_SERVER,
    "--format",
    "json",
    "--fail-on",
    "never",
    "--quiet",
  ], env);
  const j = t.json ?? {};
  const head = String(j.stdout_head ?? "");
  const findings = /"findings":\s*(\d+)/.exec(head)?.[1] ?? "?";
  const fetchMs = num(j, "fetch_end_ms");
  const afterMs = num(j, "after_fetch_ms");
  const total = num(j, "ms");
  const rows = [
    row(
      "task",
      "`audit-ips --format json` (its main(), own process)",
      sampleOf(t),
      `${findings} findings, ${num(j, "stdout_bytes")} bytes of JSON · ${
        num(j, "requests")
      } requests · ${cpuNote(t)}`,
    ),
    row("fetch", "  fetch (until the last response was read)", { ms: fetchMs }),
    row(
      "after",
      "  after the fetch: analysis + rendering",
      { ms: afterMs },
      `nothing in flight for ${fmtMs(num(j, "client_only_ms"))} of the run`,
    ),
  ];
  const notes = [
    `${label} IP addresses in ${
      fmtN(step.prefixes)
    } prefixes over 10 VRFs and the global pool; 1 in 50 of the VRF addresses is an orphan, 1 in 13 has no DNS name.`,
    "The task runs its own `main()` under `_task_probe.ts` (same code as `deno task audit-ips`, result counted, not printed): wall time and peak RSS of the process from GNU time; the fetch ends when the last response body has been read, the analysis is everything after it.",
  ];
  if (runPynetbox(step, opts)) {
    const p = await measure(inst, `audit ${label}: pynetbox`, [
      py,
      "bench/_pynetbox.py",
      "audit",
      inst.url,
    ], env);
    const pj = p.json ?? {};
    rows.push(
      row(
        "py",
        "pynetbox: `list(…all())` of addresses and prefixes, duplicates/orphans/utilization in Python",
        sampleOf(p),
        `fetch ${fmtMs(num(pj, "fetch_ms"))}, analysis ${fmtMs(num(pj, "analysis_ms"))}; ${
          num(pj, "orphans")
        } orphans, ${num(pj, "duplicates")} duplicates · ${cpuNote(p)}`,
      ),
    );
    notes.push(
      `audit-ips / the pynetbox script: ${(t.ms / p.ms).toFixed(2)}× the time, ${
        ((t.rssMb ?? NaN) / (p.rssMb ?? NaN)).toFixed(2)
      }× the peak RSS (the script checks 3 of the audit's rules).`,
    );
  } else notes.push("pynetbox: not run at this step (`--pynetbox-1m` runs it).");
  return {
    rows,
    checks: [
      {
        name: `audit-ips ${label}: analysis (after the fetch)`,
        value: afterMs,
        unit: "ms",
        target: GOALS.auditAnalysisMs,
      },
      {
        name: `audit-ips ${label}: peak RSS`,
        value: t.rssMb ?? NaN,
        unit: "MB",
        target: GOALS.auditRssMb,
      },
      {
        name: `audit-ips ${label}: end to end / fetch`,
        value: total / fetchMs,
        unit: "×",
        target: GOALS.auditOverFetch,
      },
    ],
    notes,
  };
}

async function freeCase(
  step: ScaleStep,
  inst: Instance,
  py: string,
): Promise<CaseResult> {
  const env = tokenEnv(inst);
  const label = fmtN(step.poolIps);
  const base = [
    ...PROBE,
    "find-free-ip",
    ...SLOW_SERVER,
    "--prefix",
    POOL_CIDR,
    "--count",
    String(FREE_COUNT),
    "--format",
    "json",
    "--quiet",
  ];
  const server = await measure(inst, `free in ${POOL_CIDR} (${label}): server list`, base, env);
  const computed = await measure(
    inst,
    `free in ${POOL_CIDR} (${label}): computed`,
    [...base, "--skip", "1"],
    env,
  );
  const p = await measure(inst, `free in ${POOL_CIDR}: pynetbox`, [
    py,
    "bench/_pynetbox.py",
    "free",
    inst.url,
    POOL_CIDR,
    String(FREE_COUNT),
  ], env);
  for (const [what, r] of [["server", server], ["computed", computed]] as const) {
    if (r.json?.code !== 0) {
      throw new Error(`Cannot trust find-free-ip (${what}): exit ${r.json?.code}`);
    }
  }
  const taskRow = (id: string, labelText: string, r: Run) =>
    row(
      id,
      labelText,
      sampleOf(r),
      `fetch ${fmtMs(num(r.json, "fetch_end_ms"))} (${
        num(r.json, "requests")
      } requests), after it ${fmtMs(num(r.json, "after_fetch_ms"))} · ${cpuNote(r)}`,
    );
  return {
    rows: [
      taskRow(
        "server",
        `\`find-free-ip --prefix ${POOL_CIDR} --count ${FREE_COUNT}\`: NetBox's available-ips answers all`,
        server,
      ),
      taskRow(
        "computed",
        `the same with \`--skip 1\`: past the server's cap (${FREE_COUNT}), computed from the pool's child addresses`,
        computed,
      ),
      row(
        "py",
        `pynetbox: \`prefixes.get(prefix=…).available_ips.list(limit=${FREE_COUNT})\``,
        sampleOf(p),
        cpuNote(p),
      ),
    ],
    checks: [
      {
        name: `find-free-ip ${FREE_COUNT} in a /12 holding ${label}: after the fetch`,
        value: num(server.json, "after_fetch_ms"),
        unit: "ms",
        target: GOALS.freeAfterFetchMs,
      },
      {
        name: `find-free-ip ${FREE_COUNT} in a /12 holding ${label}, computed: after the fetch`,
        value: num(computed.json, "after_fetch_ms"),
        unit: "ms",
        target: GOALS.freeAfterFetchMs,
      },
    ],
    notes: [
      `${POOL_CIDR} (global table) holds ${label} addresses on every second host, so its ${
        fmtN(2 ** 20 - 2 - step.poolIps)
      } free addresses are single-address gaps: the worst case for a free-address search.`,
      "The computed path lists the pool's child addresses (`?parent=…&fields=id,address,vrf`), turns them into free spans (work proportional to the occupied addresses, `freeSpans`) and takes the first addresses lazily (`iterateFree`): free space is never enumerated address by address.",
      `find-free-ip / pynetbox (server list): ${
        (server.ms / p.ms).toFixed(2)
      }× the time (the task includes Deno start-up, NetBox's status and the pool lookup).`,
    ],
  };
}

function importSummary(r: Run): string {
  const head = String(r.json?.stdout_head ?? "");
  const pick = (k: string) =>
    /"(\w+)":/.test(head) ? new RegExp(`"${k}":\\s*(\\d+)`).exec(head)?.[1] : "?";
  return `plan: ${pick("create")} create, ${pick("update")} update, ${
    pick("unchanged")
  } unchanged, ${pick("invalid")} invalid`;
}

/** The import plans of a step's `import` case (10 % of its size) and `import-growth` (1 %). */
const PLANS = new Map<string, Run>();

async function importCase(
  step: ScaleStep,
  inst: Instance,
  py: string,
  growth: boolean,
): Promise<CaseResult> {
  const env = tokenEnv(inst);
  const db = INSTANCES[step.instance].db;
  // `import`: the plan of 10 % (the goal) and pynetbox's; `import-growth`: the plan of 1 %,
  // compared with the 10 % one (a case of its own, last: on a slow box it may be left out).
  const sizes = growth ? [step.ips / 100] : [step.ips / 10];
  const dir = await Deno.makeTempDir({ prefix: "netbox-bench-scale-" });
  const rows: Row[] = [];
  const runs: Run[] = [];
  try {
    let biggestJson = "";
    for (const size of sizes) {
      const items = await importItems(db, size);
      const yaml = `${dir}/ips-${size}.yaml`;
      await Deno.writeTextFile(yaml, importYaml(items));
      if (!biggestJson) {
        biggestJson = `${dir}/ips-${size}.json`;
        await Deno.writeTextFile(biggestJson, JSON.stringify(items));
      }
      const r = await measure(inst, `import plan ${fmtN(size)} vs ${fmtN(step.ips)}`, [
        ...PROBE,
        "bulk-import",
        yaml,
        "--dry-run",
        ...SLOW_SERVER,
        "--format",
        "json",
        "--quiet",
      ], env);
      if (r.json?.code !== 0) throw new Error(`Cannot trust the plan: exit ${r.json?.code}`);
      runs.push(r);
      PLANS.set(`${step.id}-${size}`, r);
      rows.push(
        row(
          `tk-${size}`,
          `\`bulk-import --dry-run\`, ${fmtN(size)} items (YAML)`,
          sampleOf(r),
          `${importSummary(r)} · fetch ${fmtMs(num(r.json, "fetch_end_ms"))} (${
            num(r.json, "requests")
          } requests), planning after it ${fmtMs(num(r.json, "after_fetch_ms"))} · ${cpuNote(r)}`,
        ),
      );
    }
    const biggest = sizes[0];
    if (growth) return growthOf(step, rows);
    const notes = [
      `Items: half existing addresses of VRFs scale-0/1 (half of those with a changed description), half new ones: the plan is ${
        fmtN(biggest / 2)
      } create, ${fmtN(biggest / 4)} update, ${fmtN(biggest / 4)} unchanged for ${
        fmtN(biggest)
      } items.`,
    ];
    {
      const get = await measure(inst, `import plan: pynetbox get() per item`, [
        py,
        "bench/_pynetbox.py",
        "plan-get",
        inst.url,
        biggestJson,
        String(PY_PLAN_SAMPLE),
      ], env);
      const inner = num(get.json, "ms");
      const scale = biggest / PY_PLAN_SAMPLE;
      rows.push(
        row(
          "py-get",
          `pynetbox: one \`ip_addresses.get(address=…, vrf_id=…)\` per item (${PY_PLAN_SAMPLE} measured, × ${scale})`,
          {
            ms: get.ms - inner + inner * scale,
            innerMs: inner * scale,
            rssMb: get.rssMb,
            extra: { measured_ms: get.ms, sample: PY_PLAN_SAMPLE },
          },
          cpuNote(get),
        ),
      );
      const bulk = await measure(inst, `import plan: pynetbox filter() of the VRFs`, [
        py,
        "bench/_pynetbox.py",
        "plan-bulk",
        inst.url,
        biggestJson,
      ], env);
      rows.push(
        row(
          "py-bulk",
          "pynetbox: one `ip_addresses.filter(vrf_id=[…])` of the items' VRFs, then a dict",
          sampleOf(bulk),
          `${num(bulk.json, "fetched")} fetched in ${fmtMs(num(bulk.json, "fetch_ms"))}; ${
            num(bulk.json, "create")
          } create, ${num(bulk.json, "update")} update, ${
            num(bulk.json, "unchanged")
          } unchanged · ${cpuNote(bulk)}`,
        ),
      );
      notes.push(
        `bulk-import / pynetbox get() loop (${fmtN(biggest)} items): ${
          (runs[runs.length - 1].ms / (get.ms - inner + inner * scale)).toFixed(2)
        }×; / pynetbox filter()+dict: ${
          (runs[runs.length - 1].ms / bulk.ms).toFixed(2)
        }× (that script compares 3 fields and resolves nothing; the task validates every entry against NetBox's field metadata and resolves every reference).`,
      );
    }
    const big = runs[0];
    const label = `${fmtN(biggest)} vs ${fmtN(step.ips)}`;
    return {
      rows,
      notes,
      checks: [
        {
          name: `bulk-import plan ${label}`,
          value: big.ms,
          unit: "ms",
          target: GOALS.importMs,
          note: big.ms > GOALS.importMs
            ? `fetch ${fmtMs(num(big.json, "fetch_end_ms"))} of ${fmtMs(big.ms)} (${
              num(big.json, "requests")
            } requests): the plan looks the items' addresses up by key, 100 per request (the table is more than twice the import: lib/import/plan.ts), NetBox spent ${
              big.serverCpuS.toFixed(0)
            } s of CPU on it, the client ${big.cpuS?.toFixed(0)} s.`
            : undefined,
        },
        {
          name: `bulk-import plan ${label}: peak RSS`,
          value: big.rssMb ?? NaN,
          unit: "MB",
          target: GOALS.importRssMb,
        },
      ],
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The `import-growth` result: the 1 % plan's row and its growth to the 10 % plan. */
function growthOf(step: ScaleStep, rows: Row[]): CaseResult {
  const small = PLANS.get(`${step.id}-${step.ips / 100}`);
  const big = PLANS.get(`${step.id}-${step.ips / 10}`);
  const notes: string[] = [];
  const checks: Check[] = [];
  if (small && big) {
    const planning = num(big.json, "after_fetch_ms") / num(small.json, "after_fetch_ms");
    notes.push(
      `10× the items (${fmtN(step.ips / 100)} → ${fmtN(step.ips / 10)}): whole run ${
        (big.ms / small.ms).toFixed(2)
      }×, fetch ${
        (num(big.json, "fetch_end_ms") / num(small.json, "fetch_end_ms")).toFixed(2)
      }× (the items looked up by key), planning after the fetch ${planning.toFixed(2)}×.`,
    );
    checks.push({
      name: `bulk-import plan: growth ${fmtN(step.ips / 100)} → ${
        fmtN(step.ips / 10)
      } items against ${fmtN(step.ips)} (planning after the fetch)`,
      value: planning,
      unit: "×",
      target: GOALS.importGrowth,
    });
  } else notes.push("The 10 % plan did not run in this run: no growth to compute.");
  return { rows, notes, checks };
}

// --- main ----------------------------------------------------------------------------------------

/** The figures of one step that the growth table compares, from the results' rows. */
function figuresOf(results: Results, step: ScaleStep): Record<string, number> {
  const sample = (caseId: string, rowId: string) =>
    results.cases.find((c) => c.id === `${caseId}-${step.id}`)?.rows.find((r) => r.id === rowId)
      ?.samples[0];
  const n = (v: number | undefined) => v ?? NaN;
  return {
    "stream: toolkit": n(sample("stream", "tk")?.ms),
    "stream: curl": n(sample("stream", "curl")?.ms),
    "stream: toolkit peak RSS": n(sample("stream", "tk")?.rssMb),
    "audit-ips": n(sample("audit", "task")?.ms),
    "audit-ips: fetch": n(sample("audit", "fetch")?.ms),
    "audit-ips: analysis": n(sample("audit", "after")?.ms),
    "audit-ips: peak RSS": n(sample("audit", "task")?.rssMb),
    "find-free-ip (server list)": n(sample("free", "server")?.ms),
    "find-free-ip (computed)": n(sample("free", "computed")?.ms),
    "bulk-import plan of 10 % of the step": n(sample("import", `tk-${step.ips / 10}`)?.ms),
    "bulk-import plan of 10 %: peak RSS": n(sample("import", `tk-${step.ips / 10}`)?.rssMb),
  };
}

/** `base` with the cases and checks of `earlier` that it does not have (by id and name). */
function mergeResults(base: Results, earlier: Results): Results {
  const ids = new Set(base.cases.map((c) => c.id));
  const names = new Set(base.checks.map((c) => c.name));
  const kept = earlier.cases.filter((c) => !ids.has(c.id) && c.id !== "growth");
  const keptIds = new Set(kept.map((c) => c.id));
  const rank = (id: string) => {
    if (id === "growth") return 1e6;
    const [caseId, stepId] = [id.slice(0, id.lastIndexOf("-")), id.split("-").at(-1)!];
    return Object.keys(STEPS).indexOf(stepId) * 100 + CASES.indexOf(caseId as CaseId);
  };
  const setup = { ...base.setup };
  for (const [k, v] of Object.entries(earlier.setup)) {
    if (/^\d+[km] /.test(k) && !(k in setup)) setup[`${k} (earlier run)`] = v;
  }
  return {
    ...base,
    setup,
    cases: [...base.cases, ...kept].sort((a, b) => rank(a.id) - rank(b.id)),
    checks: [
      ...base.checks,
      ...earlier.checks.filter((c) => !names.has(c.name) && !c.name.startsWith("Stream peak RSS ")),
    ],
    warnings: [
      ...base.warnings,
      `Part of these results come from an earlier run (${earlier.date}, \`${earlier.command}\`, ${
        Math.round(earlier.duration_s)
      } s), merged with --merge: ${kept.map((c) => c.title).join("; ")}.`,
      ...earlier.warnings.filter((w) => {
        const failed = /^(\w+) ([\w-]+): failed/.exec(w);
        if (failed && !keptIds.has(`${failed[2]}-${failed[1]}`)) return false;
        return !w.startsWith("Part of these") && !/goal\(s\) missed/.test(w);
      }),
    ],
  };
}

async function writeResults(stem: string, res: Results): Promise<void> {
  await Deno.mkdir(stem.slice(0, stem.lastIndexOf("/")) || ".", { recursive: true });
  await Deno.writeTextFile(`${stem}.md`, renderMarkdown(res) + "\n");
  await Deno.writeTextFile(`${stem}.json`, JSON.stringify(res, null, 2) + "\n");
}

/**
 * Completes a results document: the growth between the two steps (when both are in it), the
 * "constant RSS" check, and the list of missed goals. Whatever an earlier finish() added is
 * replaced.
 */
export function finish(input: Results): Results {
  const res: Results = {
    ...input,
    cases: input.cases.filter((c) => c.id !== "growth"),
    checks: input.checks.filter((c) => !c.name.startsWith("Stream peak RSS ")),
    warnings: input.warnings.filter((w) => !/goal\(s\) missed/.test(w)),
  };
  const present = Object.values(STEPS).filter((st) =>
    res.cases.some((c) => c.id.endsWith(`-${st.id}`))
  );
  if (present.length === 2) {
    const [sa, sb] = present;
    const a = figuresOf(res, sa);
    const b = figuresOf(res, sb);
    const rssA = a["stream: toolkit peak RSS"];
    const rssB = b["stream: toolkit peak RSS"];
    if (Number.isFinite(rssA) && Number.isFinite(rssB)) {
      res.checks.push({
        name: `Stream peak RSS ${fmtN(sb.ips)} / ${fmtN(sa.ips)} (constant)`,
        value: rssB / rssA,
        unit: "×",
        target: GOALS.streamRssGrowth,
      });
    }
    const lines = Object.keys(b).filter((k) => Number.isFinite(a[k]) && Number.isFinite(b[k]))
      .map((k) => {
        const show = (v: number) => k.endsWith("RSS") ? `${v.toFixed(0)} MB` : fmtMs(v);
        return `${k}: ${show(a[k])} → ${show(b[k])} (${(b[k] / a[k]).toFixed(2)}×)`;
      });
    res.cases.push({
      id: "growth",
      title: `Growth ${fmtN(sa.ips)} → ${fmtN(sb.ips)} addresses (${sb.ips / sa.ips}× the data)`,
      rows: [],
      notes: lines.length ? lines : ["No figure was measured at both steps."],
    });
  }
  const missed = res.checks.filter((c) => !passes(c));
  if (missed.length) {
    res.warnings.push(`${missed.length} goal(s) missed: ${missed.map((c) => c.name).join("; ")}`);
  }
  return res;
}

/** Runs the scale bench with the arguments after `--scale`. */
export async function scaleMain(args: string[]): Promise<void> {
  const opts = parseOpts(args);
  if (opts.regenerate) {
    // Only re-derive the growth and the missed goals of a results file (e.g. after a run was
    // stopped at a deadline, its last completed case saved).
    const file = opts.regenerate;
    let base = JSON.parse(await Deno.readTextFile(file)) as Results;
    if (opts.merge) base = mergeResults(base, JSON.parse(await Deno.readTextFile(opts.merge)));
    const res = finish(base);
    await writeResults(file.replace(/\.json$/, ""), res);
    console.log(renderMarkdown(res));
    return;
  }
  const busy = checkStartLoad(opts.force, log);
  const started = performance.now();
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const py = await venvPython();
  const setup: Record<string, string | number> = {
    machine: await machineLine(),
    "load average at start": loadAvg(),
    software: await softwareLine(py),
    steps: opts.steps.map((s) => `${s.id}: ${stampOf(s)}`).join(" · "),
  };
  const results: Results = {
    date,
    command: `deno task bench --scale ${args.join(" ")}`.trim(),
    reps: 1,
    quick: opts.quick,
    setup,
    cases: [],
    checks: [],
    warnings: busy ? [busy] : [],
    duration_s: 0,
  };
  const stem = `${opts.out}/${date.slice(0, 10)}-scale${opts.quick ? "-quick" : ""}`;
  const save = async () => {
    results.duration_s = (performance.now() - started) / 1000;
    await Deno.mkdir(opts.out, { recursive: true });
    const out = view();
    out.duration_s = results.duration_s;
    await Deno.writeTextFile(`${stem}.md`, renderMarkdown(out) + "\n");
    await Deno.writeTextFile(`${stem}.json`, JSON.stringify(out, null, 2) + "\n");
  };
  const earlier = opts.merge
    ? JSON.parse(await Deno.readTextFile(opts.merge)) as Results
    : undefined;
  if (earlier) {
    for (const [k, v] of Object.entries(earlier.setup)) {
      if (/^\d+[km] /.test(k) && !(k in setup)) setup[`${k} (earlier run)`] = v;
    }
  }
  /** This run's results, with the earlier run's cases and checks that this run did not repeat. */
  const view = (): Results => {
    if (!earlier) return results;
    const ids = new Set(results.cases.map((c) => c.id));
    const names = new Set(results.checks.map((c) => c.name));
    const kept = earlier.cases.filter((c) => !ids.has(c.id) && c.id !== "growth");
    const rank = (id: string) => {
      if (id === "growth") return 1e6;
      const [caseId, stepId] = [id.slice(0, id.lastIndexOf("-")), id.split("-").at(-1)!];
      return Object.keys(STEPS).indexOf(stepId) * 100 + CASES.indexOf(caseId as CaseId);
    };
    return {
      ...results,
      cases: [...kept, ...results.cases].sort((a, b) => rank(a.id) - rank(b.id)),
      checks: [
        ...earlier.checks.filter((c) =>
          !names.has(c.name) && !c.name.startsWith("Stream peak RSS ")
        ),
        ...results.checks,
      ],
      warnings: [
        `Part of these results come from an earlier run (${earlier.date}, \`${earlier.command}\`, ${
          Math.round(earlier.duration_s)
        } s), merged with --merge: ${kept.map((c) => c.title).join("; ")}.`,
        ...earlier.warnings.filter((w) => {
          // "1m audit: failed: …" of a case not kept from that run does not belong here.
          const failed = /^(\w+) ([\w-]+): failed/.exec(w);
          if (failed && !kept.some((c) => c.id === `${failed[2]}-${failed[1]}`)) return false;
          return !w.startsWith("Part of these") && !/goal\(s\) missed/.test(w);
        }),
        ...results.warnings,
      ],
    };
  };
  for (const step of opts.steps) {
    const db = INSTANCES[step.instance].db;
    const stepStarted = performance.now();
    const inst = await up(step.instance);
    try {
      const seeded = await seedScale(db, step, log);
      const v = await verifyScale(db, step, inst);
      for (const c of v.checks) log(`${step.id}: verified: ${c}`);
      setup[`${step.id} instance`] =
        `port ${inst.port}, database ${db}, gunicorn ${inst.workers} workers; ${
          seeded ? `seeded by SQL in ${seeded.toFixed(0)} s` : "seed reused (stamp matched)"
        }; verified through the API in ${fmtMs(v.ms)}: ${v.checks.join("; ")}`;
      const label = fmtN(step.ips);
      let caseLoad = loadAvg();
      const add = async (id: CaseId, title: string, r: CaseResult) => {
        const notes = [
          ...r.notes,
          `Load average (1, 5, 15 min) before: ${caseLoad}; after: ${loadAvg()}.`,
        ];
        caseLoad = loadAvg();
        results.cases.push({ id: `${id}-${step.id}`, title, rows: r.rows, notes });
        results.checks.push(...r.checks);
        await save();
      };
      for (const c of opts.cases) {
        try {
          if (c === "stream") {
            await add(c, `Stream ${label} IP addresses`, await streamCase(step, inst, py, opts));
          } else if (c === "audit") {
            await add(
              c,
              `audit-ips on ${label} addresses / ${fmtN(step.prefixes)} prefixes`,
              await auditCase(step, inst, py, opts),
            );
          } else if (c === "free") {
            await add(
              c,
              `find-free-ip: ${FREE_COUNT} free in a /12 holding ${fmtN(step.poolIps)} addresses`,
              await freeCase(step, inst, py),
            );
          } else if (c === "import") {
            await add(
              c,
              `bulk-import --dry-run of ${
                fmtN(step.ips / 10)
              } items against ${label} existing addresses`,
              await importCase(step, inst, py, false),
            );
          } else if (c === "import-growth") {
            await add(
              c,
              `bulk-import --dry-run of ${fmtN(step.ips / 100)} items against ${label}: growth`,
              await importCase(step, inst, py, true),
            );
          }
        } catch (err) {
          const message = (err as Error).message.split("\n").slice(0, 3).join(" ");
          log(`${step.id} ${c}: FAILED: ${message}`);
          results.warnings.push(`${step.id} ${c}: failed: ${message}`);
          await save();
        }
      }
      setup[`${step.id} duration`] = fmtMs(performance.now() - stepStarted);
    } finally {
      if (!opts.keepUp) await down(inst);
    }
  }
  setup["load average at end"] = loadAvg();
  results.duration_s = (performance.now() - started) / 1000;
  const final = finish(view());
  await writeResults(stem, final);
  console.log(renderMarkdown(final));
  log(`wrote ${stem}.md and ${stem}.json in ${fmtMs(results.duration_s * 1000)}`);
}
