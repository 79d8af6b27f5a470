/**
 * Measures audit-ips against the network without a NetBox: 100,000 addresses in two /16s and
 * 100,000 sightings (a plain CSV: 90 % of them documented, 10 % not), read with
 * `parseObservations` and compared with `checkNetwork` (all four network rules, interface MACs
 * for every address). Target: the comparison under 2 s (wall or, on a loaded machine, CPU time).
 * Exits 1 when it is missed.
 *
 * ```sh
 * deno run --allow-sys bench/audit_network_bench.ts [--n 100000] [--runs 3]
 * ```
 *
 * @module
 */

import process from "node:process";
import { checkNetwork, NETWORK_RULES } from "../lib/audit/network.ts";
import type { AuditData } from "../lib/audit/model.ts";
import { parseObservations } from "../lib/audit/observed.ts";
import { defaultAuditConfig } from "../lib/audit/rules.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const n = arg("--n", 100_000);
const runs = arg("--runs", 3);
const TARGET_MS = 2000;

const v4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const mac = (i: number) =>
  ["02", "00", "00", (i >> 16) & 255, (i >> 8) & 255, i & 255]
    .map((x) => typeof x === "string" ? x : x.toString(16).padStart(2, "0")).join(":")
    .toUpperCase();
const data: AuditData = {
  ips: Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    address: `${v4(i)}/16`,
    status: i % 10 ? "active" : "reserved",
    tags: [],
    assigned_object_type: "dcim.interface",
    assigned_object_id: i + 1,
  })),
  prefixes: [{ id: 1, prefix: "10.0.0.0/16" }, { id: 2, prefix: "10.1.0.0/16" }],
  ranges: [],
  vrfs: [],
  interfaces: [],
  vmInterfaces: [],
  devices: [],
  vms: [],
};
const lines = ["address,mac,seen_at,source"];
for (let i = 0; i < n; i++) {
  const j = i < n * 0.9 ? i : n + i;
  lines.push(`${v4(j)},${mac(j)},,arp`);
}
const interfaceMacs = new Map(data.ips.map((ip, i) => [`dcim.interface:${ip.id}`, [mac(i)]]));
const config = defaultAuditConfig();
for (const r of NETWORK_RULES) config.enabled.add(r);

const t0 = performance.now();
const observations = parseObservations(lines.join("\n") + "\n", { file: "bench.csv" });
const parseMs = performance.now() - t0;
const times: number[] = [];
const cpu: number[] = [];
let findings = 0;
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  const c0 = process.cpuUsage();
  const result = checkNetwork(data, config, { observations, unseenDays: 0, interfaceMacs });
  times.push(performance.now() - t);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  findings = result.findings.length;
}
const report = {
  addresses: n,
  observations: observations.length,
  findings,
  parse_ms: Math.round(parseMs),
  first_ms: Math.round(times[0]),
  best_ms: Math.round(Math.min(...times)),
  first_cpu_ms: Math.round(cpu[0]),
  load_average: Deno.loadavg()[0],
  target_ms: TARGET_MS,
};
console.log(JSON.stringify(report, null, 2));
const ok = Math.min(report.first_ms, report.first_cpu_ms) < TARGET_MS;
if (!ok) console.error("audit network bench: target missed");
Deno.exit(ok ? 0 : 1);
