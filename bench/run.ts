/**
 * `deno task bench`: the toolkit against pynetbox and raw HTTP (curl) on a real NetBox, in one
 * run, interleaved, several reps, medians and ratios with their targets. Writes
 * `bench/results/<date>.md` and `.json` and prints the Markdown.
 *
 * ```sh
 * deno task bench                 # full run (3 reps; ~15 min on a 2-core box)
 * deno task bench --reps 5        # more reps
 * deno task bench --quick         # smoke run: 1 rep, 500 addresses to create
 * deno task bench --cases list,help --keep-up
 * deno task bench --scale         # 100,000 and 1,000,000 addresses (see scale.ts)
 * deno task bench --scale --quick # the 100,000 step only
 * ```
 *
 * Cases: `help` (cold start), `list` (20,000 addresses), `create` (5,000 addresses, with the
 * unchanged re-import), `audit` (audit-ips on 50,000 addresses / 5,000 prefixes), `allocate`
 * (100 `/30`s one at a time out of a `/16` holding 20,000 prefixes, see `allocate_bench.ts`). The NetBox
 * instances are the bench's own (see `_provision.ts`); the data is seeded once (`seed.ts`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { generateIps } from "../tests/fixtures/import/gen_ips.ts";
import {
  checkStartLoad,
  fmtMs,
  interleaved,
  loadAvg,
  machineLine,
  median,
  type Sample,
  softwareLine,
  timed,
  type Variant,
} from "./_measure.ts";
import { down, type Instance, INSTANCES, up, venvPython } from "./_provision.ts";
import { type Check, passes, renderMarkdown, type Results, type Row } from "./_report.ts";
import { scaleMain } from "./scale.ts";
import { ALLOC_CHILDREN, ALLOC_COUNT, ALLOC_LENGTH, allocateCase } from "./allocate_bench.ts";
import {
  AUDIT_IPS,
  AUDIT_PREFIXES,
  clearCreatedSql,
  CREATE_BASE,
  CREATE_COUNT,
  CREATE_TAG,
  CREATE_VRF,
  createBodies,
  LIST_COUNT,
  seedAudit,
  seedList,
} from "./seed.ts";

const ALL_CASES = ["help", "list", "create", "audit", "allocate"] as const;
type CaseId = typeof ALL_CASES[number];
const TASKS = ["bulk-import", "audit-ips", "find-free-ip", "assign-primary-ip"];
const PAGE_SIZE = 1000;
const CONCURRENCY = 4;
/** Task flags for a slow, loaded test box: a long per-request timeout (not what we measure). */
const SLOW_SERVER = ["--timeout", "600"];

interface Opts {
  reps: number;
  quick: boolean;
  cases: CaseId[];
  keepUp: boolean;
  createReps: number;
  allCurl: boolean;
  sample: number;
  createCount: number;
  helpRuns: number;
  out: string;
  force: boolean;
}

const log = (line: string) => console.error(`bench: ${line}`);
/** Failed runs by variant id (reported under Warnings). */
const FAILURES = new Map<string, string[]>();

function parseOpts(args: string[]): Opts {
  const { values } = parseArgs({
    args,
    options: {
      reps: { type: "string" },
      quick: { type: "boolean", default: false },
      cases: { type: "string" },
      "keep-up": { type: "boolean", default: false },
      "create-reps": { type: "string" },
      "all-curl": { type: "boolean", default: false },
      sample: { type: "string" },
      out: { type: "string", default: "bench/results" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task bench [--reps N] [--quick] [--cases help,list,create,audit] " +
        "[--create-reps N] [--sample N] [--all-curl] [--keep-up] [--out DIR] [--force]\n" +
        "A run whose 1-minute load average is above 1.0 at the start is refused; --force runs " +
        "it anyway and marks its results.",
    );
    Deno.exit(0);
  }
  const quick = values.quick;
  const reps = Number(values.reps ?? (quick ? 1 : 3));
  const cases = (values.cases?.split(",") ?? [...ALL_CASES]) as CaseId[];
  for (const c of cases) {
    if (!ALL_CASES.includes(c)) throw new RangeError(`Cannot run case "${c}": unknown case`);
  }
  if (!Number.isInteger(reps) || reps < 1) {
    throw new RangeError(`Cannot use --reps ${values.reps}: expected a positive integer`);
  }
  const createCount = quick ? 500 : CREATE_COUNT;
  const sample = Math.min(createCount, Number(values.sample ?? (quick ? 50 : 500)));
  return {
    reps,
    quick,
    cases,
    keepUp: values["keep-up"],
    createReps: Number(values["create-reps"] ?? 1),
    allCurl: values["all-curl"],
    sample,
    createCount,
    helpRuns: quick ? 3 : Math.max(10, reps),
    out: values.out,
    force: values.force,
  };
}

/** The exact `deno run` command of a task from deno.json, with the deno binary resolved. */
async function taskCommand(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile("deno.json"));
  const entry = config.tasks[task];
  const command: string = typeof entry === "string" ? entry : entry.command;
  const parts = command.trim().split(/\s+/);
  if (parts[0] !== "deno") throw new Error(`Cannot run task ${task}: not a deno command`);
  return [Deno.execPath(), ...parts.slice(1)];
}

const DENO_CHILD = [Deno.execPath(), "run", "--no-prompt", "--allow-net=127.0.0.1"];

function tokenEnv(inst: Instance): Record<string, string> {
  return { NETBOX_TOKEN: inst.token, NETBOX_URL: inst.url, NO_COLOR: "1" };
}

function sampleOf(
  t: { ms: number; rssMb?: number; json?: Record<string, unknown> },
  extra?: Sample["extra"],
): Sample {
  const inner = t.json?.ms;
  return {
    ms: t.ms,
    innerMs: typeof inner === "number" ? inner : undefined,
    rssMb: t.rssMb,
    extra,
  };
}

function expectCount(what: string, json: Record<string, unknown> | undefined, want: number) {
  if (json?.count !== want) {
    throw new Error(`Cannot trust ${what}: it reported ${json?.count} objects, expected ${want}`);
  }
}

// --- cases ---------------------------------------------------------------------------------------

interface CaseResult {
  rows: Row[];
  checks: Check[];
  notes: string[];
}

function rowsOf(samples: Map<string, Sample[]>, labels: Record<string, string>): Row[] {
  return Object.entries(labels).filter(([id]) => samples.has(id)).map(([id, label]) => ({
    id,
    label,
    samples: samples.get(id)!,
  }));
}

function med(rows: Row[], id: string, pick: (s: Sample) => number | undefined = (s) => s.ms) {
  const row = rows.find((r) => r.id === id);
  return median((row?.samples ?? []).map(pick).filter((v): v is number => v !== undefined));
}

async function helpCase(opts: Opts, py: string): Promise<CaseResult> {
  const variants: Variant[] = [];
  const labels: Record<string, string> = {};
  for (const task of TASKS) {
    const cmd = [...await taskCommand(task), "--help"];
    labels[task] = `${task} --help`;
    variants.push({ id: task, run: async () => ({ [task]: sampleOf(await timed(cmd)) }) });
  }
  labels.pynetbox = `python -c "import pynetbox" (reference)`;
  variants.push({
    id: "pynetbox",
    run: async () => ({ pynetbox: sampleOf(await timed([py, "-c", "import pynetbox"])) }),
  });
  for (const v of variants) await v.run(0); // warm the module caches (transpiled code, .pyc)
  const samples = await interleaved(variants, opts.helpRuns, log, FAILURES);
  const rows = rowsOf(samples, labels);
  return {
    rows,
    checks: TASKS.map((t) => ({
      name: `${t} --help`,
      value: med(rows, t),
      unit: "ms" as const,
      target: 150,
    })),
    notes: [
      `${opts.helpRuns} runs each; the command is the task's exact \`deno run …\` line from deno.json (what \`deno task\` runs, without deno task's own start-up).`,
    ],
  };
}

async function listCase(opts: Opts, inst: Instance, py: string): Promise<CaseResult> {
  const env = tokenEnv(inst);
  const tk = (
    mode: string,
  ) => [...DENO_CHILD, "--allow-env=NETBOX_TOKEN", "bench/_toolkit_list.ts", inst.url, mode];
  const curl = (
    mode: string,
  ) => ["bash", "bench/_curl_list.sh", mode, inst.url, String(PAGE_SIZE), String(CONCURRENCY)];
  const defs: [string, string, string[]][] = [
    ["tk-par", "toolkit `all()` (parallel, default)", tk("parallel")],
    ["tk-seq", "toolkit `all({}, { parallel: false })`", tk("sequential")],
    ["py", "pynetbox `list(nb.ipam.ip_addresses.all())`", [
      py,
      "bench/_pynetbox.py",
      "list",
      inst.url,
    ]],
    ["py-thr", "pynetbox `threading=True`", [py, "bench/_pynetbox.py", "list-threading", inst.url]],
    ["curl-seq-offset", "curl sequential, offset pages", curl("seq-offset")],
    ["curl-seq-cursor", "curl sequential, cursor pages (`start=`)", curl("seq-cursor")],
    ["curl-par-offset", `curl ${CONCURRENCY} parallel, offsets (xargs -P)`, curl("par-offset")],
    ["curl-par-cursor", `curl ${CONCURRENCY} parallel, id ranges (xargs -P)`, curl("par-cursor")],
  ];
  // The two other curl variants add little (offset vs cursor costs the same here) and ~25% time.
  const extra = ["curl-seq-cursor", "curl-par-offset"];
  const used = opts.allCurl ? defs : defs.filter(([id]) => !extra.includes(id));
  const labels: Record<string, string> = {};
  const variants: Variant[] = used.map(([id, label, cmd]) => {
    labels[id] = label;
    return {
      id,
      run: async () => {
        const t = await timed(cmd, { env });
        expectCount(id, t.json, LIST_COUNT);
        return { [id]: sampleOf(t, { requests: Number(t.json?.requests ?? NaN) }) };
      },
    };
  });
  log("warming up: one untimed parallel curl listing");
  await timed(curl("par-cursor"), { env });
  await timed([...DENO_CHILD, "bench/_toolkit_list.ts", "--warm"]);
  const samples = await interleaved(variants, opts.reps, log, FAILURES);
  const rows = rowsOf(samples, labels);
  for (const r of rows) {
    const reqs = median(r.samples.map((s) => Number(s.extra?.requests)));
    if (Number.isFinite(reqs)) r.note = `${reqs} requests`;
  }
  const curlIds = used.map(([id]) => id).filter((id) => id.startsWith("curl"));
  const bestCurl = curlIds.reduce((a, b) => (med(rows, a) <= med(rows, b) ? a : b));
  const tkPar = med(rows, "tk-par");
  return {
    rows,
    checks: [
      {
        name: "List 20k: toolkit / pynetbox",
        value: tkPar / med(rows, "py"),
        unit: "×",
        target: 0.5,
      },
      {
        name: "List 20k: toolkit / pynetbox threading",
        value: tkPar / med(rows, "py-thr"),
        unit: "×",
        target: 0.8,
      },
      {
        name: `List 20k: toolkit / best curl (${labels[bestCurl]})`,
        value: tkPar / med(rows, bestCurl),
        unit: "×",
        target: 1.15,
      },
    ],
    notes: [
      `${LIST_COUNT} IP addresses, full representation, page size ${PAGE_SIZE} for every client (NetBox's MAX_PAGE_SIZE); parallel variants use ${CONCURRENCY} requests in flight (the toolkit's default concurrency, pynetbox's default max_workers).`,
      "curl bodies go to files and are not parsed (the server's limit); the toolkit and pynetbox parse every page into objects.",
      `toolkit sequential / best sequential curl: ${
        (med(rows, "tk-seq") / Math.min(
          ...["curl-seq-offset", "curl-seq-cursor"].map((id) => med(rows, id)).filter(
            Number.isFinite,
          ),
        ))
          .toFixed(2)
      }×.`,
    ],
  };
}

async function linesOf(path: string): Promise<number> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim()).length;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

async function createCase(opts: Opts, inst: Instance, py: string): Promise<CaseResult> {
  const env = tokenEnv(inst);
  const refs = await seedList(inst, log);
  const dir = await Deno.makeTempDir({ prefix: "netbox-bench-" });
  const n = opts.createCount;
  const yamlFile = `${dir}/ips.yaml`;
  const jsonFile = `${dir}/ips.json`;
  await Deno.writeTextFile(
    yamlFile,
    generateIps({ count: n, vrf: CREATE_VRF, base: CREATE_BASE, tag: CREATE_TAG }),
  );
  await Deno.writeTextFile(jsonFile, JSON.stringify(createBodies(refs.vrfId, refs.tagId, n)));
  const importCmd = [
    ...await taskCommand("bulk-import"),
    yamlFile,
    ...SLOW_SERVER,
    "--format",
    "json",
    "--quiet",
  ];
  const clear = async () => {
    const deleted = await clearCreatedSql(INSTANCES.list.db);
    if (deleted !== n) log(`warning: deleted ${deleted} addresses, expected ${n}`);
  };
  const scale = n / opts.sample;
  const variants: Variant[] = [
    {
      id: "import",
      run: async (rep) => {
        const audit1 = `${dir}/audit-${rep}-1.jsonl`;
        const audit2 = `${dir}/audit-${rep}-2.jsonl`;
        const first = await timed([...importCmd, "--audit-log", audit1], { env });
        const s1 = (first.json ?? JSON.parse(first.stdout)).summary;
        if (s1.create !== n + 0 || s1.failed) {
          throw new Error(`Cannot trust bulk-import: created ${s1.create}, failed ${s1.failed}`);
        }
        const again = await timed([...importCmd, "--audit-log", audit2], { env });
        const s2 = JSON.parse(again.stdout).summary;
        const writes = await linesOf(audit2);
        await clear();
        return {
          import: { ms: first.ms, rssMb: first.rssMb, extra: { writes: await linesOf(audit1) } },
          reimport: {
            ms: again.ms,
            rssMb: again.rssMb,
            extra: { writes, create: s2.create, update: s2.update, unchanged: s2.unchanged },
          },
        };
      },
    },
    {
      id: "lib",
      run: async () => {
        const t = await timed([
          ...DENO_CHILD,
          "--allow-env=NETBOX_TOKEN",
          "--allow-read",
          "bench/_toolkit_create.ts",
          inst.url,
          jsonFile,
        ], { env });
        expectCount("library bulk create", t.json, n);
        await clear();
        return { lib: sampleOf(t) };
      },
    },
    {
      id: "py-loop",
      run: async () => {
        const t = await timed([
          py,
          "bench/_pynetbox.py",
          "create-loop",
          inst.url,
          jsonFile,
          String(opts.sample),
        ], { env });
        expectCount("pynetbox create loop", t.json, opts.sample);
        const inner = Number(t.json?.ms);
        const clearedN = await clearCreatedSql(INSTANCES.list.db);
        if (clearedN !== opts.sample) log(`warning: deleted ${clearedN}, expected ${opts.sample}`);
        // Scale the work, not the interpreter start-up: (wall - inner) + inner × N / sample.
        return {
          "py-loop": {
            ms: t.ms - inner + inner * scale,
            innerMs: inner * scale,
            rssMb: t.rssMb,
            extra: { measured_ms: t.ms, sample: opts.sample },
          },
        };
      },
    },
    {
      id: "py-list",
      run: async () => {
        const t = await timed([py, "bench/_pynetbox.py", "create-list", inst.url, jsonFile], {
          env,
        });
        expectCount("pynetbox create([...])", t.json, n);
        await clear();
        return { "py-list": sampleOf(t) };
      },
    },
  ];
  await timed([...DENO_CHILD, "bench/_toolkit_create.ts", "--warm"]);
  const samples = await interleaved(variants, opts.createReps, log, FAILURES);
  await Deno.remove(dir, { recursive: true });
  const labels = {
    import: "`bulk-import` task, YAML file (create)",
    lib: "library `ipAddresses.create([...])` (chunks of 200, 4 in flight)",
    "py-loop": `pynetbox loop of \`create()\` (${opts.sample} measured, × ${scale})`,
    "py-list": "pynetbox `create([...])` (one request)",
    reimport: "`bulk-import` again, nothing changed",
  };
  const rows = rowsOf(samples, labels);
  const reimport = rows.find((r) => r.id === "reimport");
  const writes = (reimport?.samples ?? []).reduce((a, s) => a + Number(s.extra?.writes ?? 0), 0);
  if (reimport) {
    const u = reimport.samples.at(-1)?.extra;
    reimport.note =
      `${writes} writes in all reps (audit log); report: ${u?.unchanged} unchanged, ${u?.create} create, ${u?.update} update`;
  }
  const imp = rows.find((r) => r.id === "import");
  if (imp) imp.note = `${median(imp.samples.map((s) => Number(s.extra?.writes)))} write requests`;
  const lib = med(rows, "lib");
  const importMs = med(rows, "import");
  return {
    rows,
    checks: [
      {
        name: `Create ${n}: library / pynetbox loop`,
        value: lib / med(rows, "py-loop"),
        unit: "×",
        target: 0.1,
      },
      {
        name: `Create ${n}: library / pynetbox create([...])`,
        value: lib / med(rows, "py-list"),
        unit: "×",
        target: 1.0,
      },
      {
        name: `Create ${n}: bulk-import / pynetbox loop`,
        value: importMs / med(rows, "py-loop"),
        unit: "×",
        target: 0.1,
      },
      {
        name: `Create ${n}: bulk-import / pynetbox create([...])`,
        value: importMs / med(rows, "py-list"),
        unit: "×",
        target: 1.0,
      },
      {
        name: `Re-import ${n} unchanged / first import`,
        value: med(rows, "reimport") / importMs,
        unit: "×",
        target: 0.3,
      },
      { name: `Re-import ${n} unchanged: writes`, value: writes, unit: "writes", target: 0 },
    ],
    notes: [
      `${n} IP addresses (VRF ${CREATE_VRF}, tag, DNS name), deleted again after every variant (not timed; straight in PostgreSQL with their tag and search-cache rows, because an API bulk delete of 5,000 takes minutes here), so every rep starts equal. The import file also lists the VRF, tag and prefix, which exist already (unchanged).`,
      `pynetbox's loop sends one POST per address: ${opts.sample} are measured each rep and the in-process time is scaled linearly to ${n} (start-up counted once).`,
      "The re-import runs right after the import of the same rep; its writes are the lines of its --audit-log file.",
    ],
  };
}

async function auditCase(opts: Opts, inst: Instance): Promise<CaseResult> {
  const env = tokenEnv(inst);
  await seedAudit(inst, log);
  const task = [
    ...await taskCommand("audit-ips"),
    ...SLOW_SERVER,
    "--format",
    "json",
    "--fail-on",
    "never",
    "--quiet",
  ];
  const probe = [...DENO_CHILD, "--allow-env=NETBOX_TOKEN", "bench/_audit_probe.ts", inst.url];
  const variants: Variant[] = [
    {
      id: "task",
      run: async () => {
        const t = await timed(task, { env });
        const doc = JSON.parse(t.stdout);
        const analysed = doc.summary?.analysed ?? {};
        return {
          task: {
            ms: t.ms,
            rssMb: t.rssMb,
            extra: { findings: Number(doc.summary?.findings), ...numeric(analysed) },
          },
        };
      },
    },
    {
      id: "probe",
      run: async () => {
        const t = await timed(probe, { env });
        const j = t.json ?? {};
        if (j.ips !== AUDIT_IPS + 100) log(`warning: the probe saw ${j.ips} addresses`);
        const part = (k: string) => ({ ms: Number(j[k]) });
        return {
          "probe-total": {
            ms: Number(j.total_ms),
            rssMb: Number(j.peak_rss_mb),
            extra: { ratio: Number(j.total_ms) / Number(j.fetch_ms), wall: t.ms },
          },
          "probe-fetch": part("fetch_ms"),
          "probe-analysis": part("analysis_ms"),
          "probe-render": part("render_ms"),
        };
      },
    },
  ];
  await timed([...DENO_CHILD, "bench/_audit_probe.ts", "--warm"]);
  const samples = await interleaved(variants, opts.reps, log, FAILURES);
  const rows = rowsOf(samples, {
    task: "`audit-ips --format json` end to end (process)",
    "probe-fetch": "  in-process: fetch (every listing)",
    "probe-analysis": "  in-process: analysis (`analyzeAudit`)",
    "probe-render": "  in-process: render JSON",
    "probe-total": "  in-process: total (peak RSS sampled in-process)",
  });
  const t = rows.find((r) => r.id === "task");
  if (t) t.note = `${t.samples.at(-1)?.extra?.findings} findings`;
  const ratio = median((samples.get("probe-total") ?? []).map((s) => Number(s.extra?.ratio)));
  return {
    rows,
    checks: [
      {
        name: "Audit 50k/5k: analysis",
        value: med(rows, "probe-analysis"),
        unit: "ms",
        target: 1000,
        strict: true,
      },
      {
        name: "Audit 50k/5k: peak RSS of the task",
        value: med(rows, "task", (s) => s.rssMb),
        unit: "MB",
        target: 300,
        strict: true,
      },
      { name: "Audit 50k/5k: total / fetch (in-process)", value: ratio, unit: "×", target: 1.1 },
    ],
    notes: [
      `${AUDIT_IPS} IP addresses (+100 assigned to device interfaces as primaries) in ${AUDIT_PREFIXES} prefixes over 5 VRFs; 2% orphans, some without DNS name.`,
      "The task row is the real `audit-ips` process (wall time; peak RSS from GNU time). The in-process rows come from `bench/_audit_probe.ts`, which runs the same library calls (fetchAuditData, analyzeAudit, JSON) with a stopwatch on each part; total / fetch is computed per rep, then the median taken.",
      `audit-ips wall time / in-process fetch: ${
        (med(rows, "task") / med(rows, "probe-fetch")).toFixed(2)
      }× (includes Deno start-up and rendering).`,
    ],
  };
}

function numeric(o: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === "number")) as Record<
    string,
    number
  >;
}

// --- set-up --------------------------------------------------------------------------------------

async function serverFacts(inst: Instance): Promise<Record<string, string | number>> {
  const headers = { Authorization: `Bearer ${inst.token}`, Accept: "application/json" };
  const status = await (await fetch(`${inst.url}/api/status/`, { headers })).json();
  const page =
    await (await fetch(`${inst.url}/api/ipam/ip-addresses/?limit=100000&fields=id`, { headers }))
      .json();
  return {
    netbox: `NetBox ${status["netbox-version"]} (PyPI wheel), Python ${
      status["python-version"]
    }, gunicorn ${inst.workers} workers, PostgreSQL and Redis on loopback`,
    // Measured on the IP addresses: an instance without any (the allocate case alone) has none.
    ...(page.results.length
      ? { "page size": `${page.results.length} (MAX_PAGE_SIZE; every client uses it)` }
      : {}),
  };
}

// --- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (Deno.args.includes("--scale")) {
    // The scale bench: its own steps, instances and results file (see scale.ts).
    return await scaleMain(Deno.args.filter((a) => a !== "--scale"));
  }
  const opts = parseOpts(Deno.args);
  const busy = checkStartLoad(opts.force, log);
  const started = performance.now();
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const py = await venvPython();
  const setup: Record<string, string | number> = { machine: await machineLine() };
  setup["load average at start"] = loadAvg();
  setup.software = await softwareLine(py);
  setup.repetitions =
    `${opts.reps} (list, audit, allocate), ${opts.createReps} (create + re-import), ${opts.helpRuns} (--help)`;
  const instances: Instance[] = [];
  const results: Results = {
    date,
    command: `deno task bench ${Deno.args.join(" ")}`.trim(),
    reps: opts.reps,
    quick: opts.quick,
    setup,
    cases: [],
    checks: [],
    warnings: busy ? [busy] : [],
    duration_s: 0,
  };
  const partial = ALL_CASES.every((c) => opts.cases.includes(c)) ? "" : `-${opts.cases.join("+")}`;
  const stem = `${opts.out}/${date.slice(0, 10)}${partial}${opts.quick ? "-quick" : ""}`;
  const save = async () => {
    results.duration_s = (performance.now() - started) / 1000;
    await Deno.mkdir(opts.out, { recursive: true });
    await Deno.writeTextFile(`${stem}.md`, renderMarkdown(results) + "\n");
    await Deno.writeTextFile(`${stem}.json`, JSON.stringify(results, null, 2) + "\n");
  };
  // Saved after every case, so a late failure still leaves the finished cases on disk.
  let caseLoad = loadAvg();
  const add = async (id: string, title: string, r: CaseResult) => {
    const notes = [
      ...r.notes,
      `Load average (1, 5, 15 min) before: ${caseLoad}; after: ${loadAvg()}.`,
    ];
    caseLoad = loadAvg();
    results.cases.push({ id, title, rows: r.rows, notes });
    results.checks.push(...r.checks);
    await save();
  };
  try {
    if (opts.cases.includes("help")) {
      log("case: cold start (--help)");
      await add("help", "Cold start: `--help`", await helpCase(opts, py));
    }
    if (["list", "create", "allocate"].some((c) => opts.cases.includes(c as CaseId))) {
      const inst = await up("list");
      instances.push(inst);
      Object.assign(setup, await serverFacts(inst));
      if (opts.cases.includes("list") || opts.cases.includes("create")) {
        await seedList(inst, log);
      }
      if (opts.cases.includes("list")) {
        log("case: list 20,000 IP addresses");
        await add("list", `List all ${LIST_COUNT} IP addresses`, await listCase(opts, inst, py));
      }
      if (opts.cases.includes("create")) {
        log(`case: create ${opts.createCount} IP addresses (+ unchanged re-import)`);
        await add(
          "create",
          `Create ${opts.createCount} IP addresses; re-import unchanged`,
          await createCase(opts, inst, py),
        );
      }
      if (opts.cases.includes("allocate")) {
        log(`case: allocate ${ALLOC_COUNT} /${ALLOC_LENGTH} one at a time`);
        await add(
          "allocate",
          `Allocate ${ALLOC_COUNT} /${ALLOC_LENGTH} one at a time in a /16 holding ${ALLOC_CHILDREN} prefixes`,
          await allocateCase({
            reps: opts.reps,
            inst,
            db: INSTANCES.list.db,
            py,
            log,
            failures: FAILURES,
            denoChild: DENO_CHILD,
            interleaved,
          }),
        );
      }
    }
    if (opts.cases.includes("audit")) {
      const inst = await up("audit");
      instances.push(inst);
      if (!setup.netbox) Object.assign(setup, await serverFacts(inst));
      log("case: audit-ips on 50,000 addresses / 5,000 prefixes");
      await add(
        "audit",
        `audit-ips on ${AUDIT_IPS} IP addresses / ${AUDIT_PREFIXES} prefixes`,
        await auditCase(opts, inst),
      );
    }
  } finally {
    if (!opts.keepUp) { for (const inst of instances) await down(inst); }
  }
  setup["load average at end"] = loadAvg();
  for (const [id, messages] of FAILURES) {
    results.warnings.push(
      `${id}: ${messages.length} failed run(s): ${[...new Set(messages)].join(" | ")}`,
    );
  }
  const missed = results.checks.filter((c) => !passes(c));
  if (missed.length) {
    results.warnings.push(
      `${missed.length} target(s) missed: ${missed.map((c) => c.name).join("; ")}`,
    );
  }
  await save();
  console.log(renderMarkdown(results));
  log(`wrote ${stem}.md and ${stem}.json in ${fmtMs(results.duration_s * 1000)}`);
}

if (import.meta.main) await main();
