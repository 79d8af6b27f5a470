/**
 * Measures the analysis phase of audit-ips alone (no network): 50,000 addresses and 5,000
 * prefixes generated in memory, then `analyzeAudit` timed over a few runs. Targets: < 1 s per
 * analysis (the first, cold run: a task runs it once) and < 300 MB peak RSS. Exits 1 when a
 * target is missed. Wall time suffers on a loaded machine; the CPU time and load average are
 * printed alongside.
 *
 * ```sh
 * deno run --allow-sys bench/audit_analysis_bench.ts [--ips 50000] [--prefixes 5000] [--runs 5]
 * ```
 *
 * @module
 */

import process from "node:process";
import { analyzeAudit } from "../lib/audit/analyze.ts";
import { defaultAuditConfig } from "../lib/audit/rules.ts";
import { generateAuditData } from "./audit_data_gen.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const nIps = arg("--ips", 50_000);
const nPrefixes = arg("--prefixes", 5_000);
const runs = arg("--runs", 5);
const TARGET_MS = 1000;
const TARGET_RSS = 300 * 1024 * 1024;

const data = generateAuditData({ ips: nIps, prefixes: nPrefixes });
const config = defaultAuditConfig();
const times: number[] = [];
const cpuTimes: number[] = [];
let peak = Deno.memoryUsage().rss;
let findings = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const result = analyzeAudit(data, config, { now: new Date("2025-01-01T00:00:00Z") });
  times.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpuTimes.push((c.user + c.system) / 1000);
  findings = result.findings.length;
  peak = Math.max(peak, Deno.memoryUsage().rss);
}
const sorted = [...times].sort((a, b) => a - b);
const report = {
  ips: nIps,
  prefixes: nPrefixes,
  findings,
  runs,
  first_ms: Math.round(times[0]),
  median_ms: Math.round(sorted[Math.floor(sorted.length / 2)]),
  max_ms: Math.round(sorted[sorted.length - 1]),
  // CPU time of the process (all threads, GC included) during the first run: a fairer figure
  // than wall time on a loaded machine.
  first_cpu_ms: Math.round(cpuTimes[0]),
  load_average: Deno.loadavg()[0],
  peak_rss_mb: Math.round(peak / 1024 / 1024),
  target_ms: TARGET_MS,
  target_rss_mb: TARGET_RSS / 1024 / 1024,
};
console.log(JSON.stringify(report, null, 2));
const ok = report.max_ms < TARGET_MS && peak < TARGET_RSS;
if (!ok) console.error("audit analysis bench: target missed");
Deno.exit(ok ? 0 : 1);
