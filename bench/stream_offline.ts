/**
 * Streaming memory offline: peak RSS of `for await` over `list()` (every IP address, nothing
 * kept) against the offline NetBox (`_offline_server.ts`, a process of its own, so the figure is
 * the client's alone), at 100,000 and 1,000,000 addresses, for the configurations below, plus
 * the process's floor (an empty `deno run`, importing `lib/client/client.ts`, importing
 * `mod.ts`). Not part of CI; writes `bench/results/<date>-scale-stream-offline.{json,md}`.
 *
 * ```sh
 * deno run -A bench/stream_offline.ts --reps 2 [--force] [--steps 100000,1000000]
 * ```
 *
 * The offline server answers faster than the client parses, so the page window is full all the
 * time: the worst case for memory. Load averages are recorded before and after every run (the
 * load rule of `_measure.ts` applies at the start).
 *
 * @module
 */

import { checkStartLoad, loadAvg, machineLine } from "./_measure.ts";
import { sparkline } from "./_report.ts";

const args = Deno.args;
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const REPS = Number(opt("--reps", "2"));
const STEPS = opt("--steps", "100000,1000000").split(",").map(Number);
const ROOT = new URL("../", import.meta.url).pathname;
const V8 = "--max-semi-space-size=1,--heap-growing-percent=10";

/** One configuration: V8 flags, the client's memory budget (MB) and extra environment. */
interface Config {
  name: string;
  v8?: string;
  memoryMb?: number;
  env?: Record<string, string>;
}
const CONFIGS: Config[] = [
  { name: "defaults" },
  { name: "flags", v8: V8 },
  { name: "flags-mem1", v8: V8, memoryMb: 1 },
  { name: "flags-mem1-arena2", v8: V8, memoryMb: 1, env: { MALLOC_ARENA_MAX: "2" } },
  {
    name: "flags-mem1-arena2-mmap64k",
    v8: V8,
    memoryMb: 1,
    env: { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "65536" },
  },
];

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** Runs a command under GNU time: its stdout, peak RSS (MB) and CPU seconds. */
async function timed(cmd: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "TIME %M %e %U %S", ...cmd],
    env,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = decode(out.stderr);
  const t = err.split("\n").find((l) => l.startsWith("TIME "))?.split(" ");
  if (!out.success || !t) throw new Error(`${cmd.join(" ")} failed:\n${err.slice(-1500)}`);
  return {
    stdout: decode(out.stdout),
    maxRssMb: Math.round(Number(t[1]) / 1024),
    wallS: Number(t[2]),
    cpuS: +(Number(t[3]) + Number(t[4])).toFixed(2),
  };
}

/** RSS, V8 heap and external memory right after importing `spec` (nothing for an empty run). */
async function floor(spec?: string) {
  const code = `${spec ? `import "${spec}";\n` : ""}const m = Deno.memoryUsage();
console.log(JSON.stringify({ rss: m.rss, heap: m.heapTotal, external: m.external }));`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, code);
  try {
    const r = await timed([Deno.execPath(), "run", "-A", file]);
    const m = JSON.parse(r.stdout);
    const mb = (x: number) => +(x / 1048576).toFixed(1);
    return { rss: mb(m.rss), heap: mb(m.heap), external: mb(m.external) };
  } finally {
    await Deno.remove(file);
  }
}

async function server(n: number): Promise<{ url: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", `${ROOT}bench/_offline_server.ts`, String(n)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the offline server stopped before listening");
    text += decode(value);
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { url: JSON.parse(text.split("\n")[0]).url, child };
}

const loadWarning = checkStartLoad(args.includes("--force"), (l) => console.error(l));
const started = loadAvg();
const floors = {
  empty: await floor(),
  client: await floor(`${ROOT}lib/client/client.ts`),
  mod: await floor(`${ROOT}mod.ts`),
};
console.error(`floors: ${JSON.stringify(floors)}`);
const rows: Record<string, unknown>[] = [];
for (const n of STEPS) {
  const { url, child } = await server(n);
  try {
    for (let rep = 1; rep <= REPS; rep++) {
      for (const c of CONFIGS) {
        const before = loadAvg();
        const r = await timed([
          Deno.execPath(),
          "run",
          ...(c.v8 ? [`--v8-flags=${c.v8}`] : []),
          "--allow-net=127.0.0.1",
          "--allow-env=NETBOX_TOKEN",
          `${ROOT}bench/_toolkit_list.ts`,
          url,
          "stream",
          ...(c.memoryMb ? [String(c.memoryMb)] : []),
        ], { NETBOX_TOKEN: "nbt_offline0000.x", ...c.env });
        const j = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
        if (j.count !== n) throw new Error(`${c.name}: streamed ${j.count} of ${n}`);
        const row = {
          config: c.name,
          addresses: n,
          rep,
          peak_rss_mb: r.maxRssMb,
          rss_mb: j.rss_mb,
          heap_mb: j.heap_mb,
          ms: j.ms,
          cpu_s: r.cpuS,
          load_before: before,
          load_after: loadAvg(),
        };
        console.error(
          `${c.name} ${n} #${rep}: ${r.maxRssMb} MB, ${j.ms} ms, ${r.cpuS} s CPU, load ${before}`,
        );
        rows.push(row);
      }
    }
  } finally {
    child.kill();
    await child.status;
  }
}

const result = {
  date: new Date().toISOString(),
  machine: await machineLine(),
  load: { start: started, end: loadAvg(), warning: loadWarning ?? null },
  floors_mb: floors,
  configs: CONFIGS,
  rows,
};
const stem = `${ROOT}bench/results/${result.date.slice(0, 10)}-scale-stream-offline`;
await Deno.writeTextFile(`${stem}.json`, JSON.stringify(result, null, 2) + "\n");
await Deno.writeTextFile(`${stem}.md`, markdown(result));
console.log(markdown(result));

function markdown(r: typeof result): string {
  const every3 = (xs: number[]) => xs.filter((_, i) => i % 3 === 0);
  const lines = r.rows.map((row) => {
    const rss = row.rss_mb as number[], heap = row.heap_mb as number[];
    return `| ${row.config} | ${
      (row.addresses as number).toLocaleString("en")
    } | ${row.rep} | ${row.peak_rss_mb} | \`${sparkline(every3(rss))}\` ${Math.min(...rss)}–${
      Math.max(...rss)
    } | ${Math.min(...heap)}–${Math.max(...heap)} | ${
      ((row.ms as number) / 1000).toFixed(1)
    } s | ${row.cpu_s} s | ${String(row.load_before).split(" ")[0]} → ${
      String(row.load_after).split(" ")[0]
    } |`;
  });
  const f = r.floors_mb;
  return `# Streaming offline: peak RSS of \`list()\` — ${r.date.slice(0, 10)}

\`bench/stream_offline.ts\`: \`bench/_toolkit_list.ts URL stream [MB]\` streams every address of the
offline NetBox (\`bench/_offline_server.ts\`, a process of its own) through
\`client.ipam.ipAddresses.list()\` (importing the \`"./client"\` entry) and keeps nothing. Peak RSS from GNU time (MB); the sparkline is
RSS over the run (peak of equal time slices, every third shown, scaled from zero); heap is V8's
committed heap + external memory over the run; CPU is user + system of the streaming process.
Machine: ${r.machine}. Load average (1, 5, 15 min) at the start ${r.load.start}, at the end
${r.load.end}${r.load.warning ? ` — ${r.load.warning}` : ""}.

Configurations: \`flags\` = \`--v8-flags=${V8}\`; \`mem1\` = \`memoryBudget\` 1 MB (default 4 MB);
\`arena2\` = \`MALLOC_ARENA_MAX=2\`; \`mmap64k\` = \`MALLOC_MMAP_THRESHOLD_=65536\` (glibc: buffers of
64 KB and more are mapped and unmapped, not kept in the heap).

The floor, RSS after start-up (V8 heap, external): an empty \`deno run\` ${f.empty.rss} MB
(${f.empty.heap}, ${f.empty.external}); importing \`lib/client/client.ts\` ${f.client.rss} MB
(${f.client.heap}, ${f.client.external}); importing \`mod.ts\` ${f.mod.rss} MB (${f.mod.heap},
${f.mod.external}).

| configuration | addresses | rep | peak RSS | RSS over the run | heap | time | CPU | load before → after |
|---|---|---|---|---|---|---|---|---|
${lines.join("\n")}
`;
}
