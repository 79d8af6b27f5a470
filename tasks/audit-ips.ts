/**
 * audit-ips — checks the IP data in NetBox and reports what is wrong: duplicates, orphans, mask
 * and VRF mismatches, DNS names, primary IPs, prefix utilization and more (`--list-rules`).
 * A handful of parallel list calls with trimmed fields, then in-memory analysis.
 *
 * ```sh
 * deno task audit-ips
 * deno task audit-ips --vrf blue --fail-on warning --format json --output /var/lib/audit.json
 * deno task audit-ips --format html --output /var/www/audit.html --schedule "0 * * * *"
 * ```
 *
 * @module
 */

import { collect, runTask, type TaskContext } from "../lib/cli/task.ts";
import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { auditIps } from "../lib/audit/audit.ts";
import { compilePattern, parseRulesFile } from "../lib/audit/config.ts";
import type { AuditScope } from "../lib/audit/data.ts";
import {
  type AuditDoc,
  type AuditSummary,
  FINDING_COLUMNS,
  renderAuditCsv,
  renderAuditHtml,
  renderAuditMarkdown,
  renderAuditTable,
} from "../lib/audit/report.ts";
import type { DnsResolver } from "../lib/audit/resolve.ts";
import {
  AUDIT_RULES,
  type AuditConfig,
  defaultAuditConfig,
  isRuleId,
  SEVERITIES,
} from "../lib/audit/rules.ts";
import { checkCronPattern, runOnSchedule, type Scheduler } from "../lib/audit/schedule.ts";
import type { Filters } from "../lib/client/types.ts";
import { escapeControls } from "../lib/client/safe_text.ts";

const FORMATS = ["table", "json", "yaml", "csv", "markdown", "html"];
const FAIL_ON = ["error", "warning", "info", "never"] as const;
type FailOn = typeof FAIL_ON[number];

/** Options of audit-ips as parsed. */
interface Opts {
  vrf?: string;
  parent?: string;
  tenant?: string;
  site?: string;
  tag?: string;
  filter: string[];
  rules?: string;
  dnsPattern?: string;
  enable: string[];
  disable: string[];
  resolve?: boolean;
  failOn: string;
  listRules?: boolean;
  schedule?: string;
  maxRuns?: string;
}

/** What tests inject into {@linkcode main}. */
export interface AuditDeps {
  /** The DNS resolver for `--resolve`. @default {systemResolver} */
  resolver?: DnsResolver;
  /** The scheduler for `--schedule`. @default {croner} */
  scheduler?: Scheduler;
  /** Stops a `--schedule` loop. */
  signal?: AbortSignal;
}

const SPEC = {
  name: "audit-ips",
  description: "Audit the IP data in NetBox: duplicates, orphans, mask/VRF mismatches, DNS " +
    "names, primary IPs, prefix utilization (see --list-rules)",
  formats: FORMATS,
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .option("--vrf <vrf>", "only this VRF (name, RD or id; 'global' for the global table)")
      .option("--parent <cidr>", "only addresses and prefixes inside this CIDR")
      .option("--tenant <slug>", "only addresses and prefixes of this tenant")
      .option(
        "--site <slug>",
        "only the prefixes scoped to this site and the addresses inside them",
      )
      .option("--tag <slug>", "only addresses and prefixes with this tag")
      .option("--filter <key=value>", "extra IP address filter (repeatable)", collect, [])
      .option(
        "--rules <file>",
        "rules file (YAML): enable/disable, severities, thresholds, " +
          "dns_pattern, exemptions",
      )
      .option("--dns-pattern <regex>", "house pattern every DNS name must match")
      .option("--enable <rule>", "run a rule that is off by default (repeatable)", collect, [])
      .option("--disable <rule>", "skip a rule (repeatable)", collect, [])
      .option(
        "--resolve",
        "also check that DNS names resolve to their address (dns-forward-mismatch)",
      )
      .option(
        "--fail-on <severity>",
        `exit 1 when a finding is at least: ${FAIL_ON.join(", ")}`,
        "error",
      )
      .option("--list-rules", "print the rules (id, severity, default, description) and exit")
      .option(
        "--schedule <cron>",
        "keep running: re-audit on this cron schedule (e.g. '0 * * * *'), " +
          "rewriting --output each time",
      )
      .option("--max-runs <n>", "with --schedule: stop after N runs")
      .addHelpText(
        "after",
        `
Objects tagged audit-ignore are skipped. Exit code: 1 when a finding reaches --fail-on, else 0.
With --schedule each run writes --output atomically and one summary line to stderr; a failed
run is logged and the schedule continues.
Names and messages come from NetBox, where anyone with edit rights writes them: table and
markdown show control characters as \\x1b (markdown also escapes < [ ] | \\), html escapes
markup, csv puts ' before a cell starting with = + - @ tab or CR; json and yaml are exact.`,
      ),
  examples: [
    "audit-ips",
    "audit-ips --vrf blue --fail-on warning --format json --output /var/lib/netbox-audit.json",
    "audit-ips --parent 10.0.0.0/8 --rules audit-rules.yaml --format markdown",
    "audit-ips --format html --output /var/www/audit.html --schedule '0 6 * * *'",
  ],
};

/**
 * Runs the task.
 *
 * @param args Command-line arguments.
 * @param io The process's IO.
 * @param deps Injected resolver, scheduler and stop signal (tests).
 * @returns The exit code.
 *
 * @example Listing the rules
 * ```ts
 * import { main } from "./audit-ips.ts";
 * let out = "";
 * const code = await main(["--list-rules"], {
 *   stdout: (t) => out += t, stderr: () => {}, env: () => undefined, stderrIsTerminal: false,
 *   readTextFile: () => Promise.resolve(""), now: () => new Date(),
 * });
 * console.assert(code === 0 && out.includes("duplicate-address"));
 * ```
 */
export function main(
  args: string[],
  io: TaskIO = defaultIO(),
  deps: AuditDeps = {},
): Promise<number> {
  return runTask<Opts>(SPEC, args, io, (ctx, opts) => handle(ctx, opts, deps));
}

async function handle(ctx: TaskContext, opts: Opts, deps: AuditDeps): Promise<number> {
  if (opts.listRules) {
    ctx.io.stdout(listRules());
    return EXIT.OK;
  }
  const failOn = parseFailOn(opts.failOn);
  const scope = parseScope(opts);
  const config = await buildConfig(ctx, opts);
  if (opts.schedule === undefined) {
    if (opts.maxRuns !== undefined) {
      throw new UsageError("Cannot use --max-runs without --schedule");
    }
    const { summary } = await auditOnce(ctx, scope, config, failOn, opts, deps);
    return summary.needs_attention ? EXIT.ATTENTION : EXIT.OK;
  }
  return await scheduled(ctx, scope, config, failOn, opts, deps);
}

function listRules(): string {
  const width = Math.max(...AUDIT_RULES.map((r) => r.id.length));
  const lines = AUDIT_RULES.map((r) =>
    `${r.id.padEnd(width)}  ${r.severity.padEnd(7)}  ${r.enabled ? "on " : "off"}  ${r.description}`
  );
  return `${"RULE".padEnd(width)}  SEVERITY DEFAULT  DESCRIPTION\n${lines.join("\n")}\n`;
}

function parseFailOn(value: string): FailOn {
  if (!(FAIL_ON as readonly string[]).includes(value)) {
    throw new UsageError(
      `Cannot parse --fail-on: expected one of ${FAIL_ON.join(", ")}, got "${value}"`,
    );
  }
  return value as FailOn;
}

function parseScope(opts: Opts): AuditScope {
  const filters: Filters = {};
  for (const pair of opts.filter) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`Cannot parse --filter "${pair}": expected key=value`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const prev = filters[key];
    filters[key] = prev === undefined
      ? value
      : [...(Array.isArray(prev) ? prev : [prev]), value] as string[];
  }
  return {
    vrf: opts.vrf,
    parent: opts.parent,
    tenant: opts.tenant,
    site: opts.site,
    tag: opts.tag,
    filters,
  };
}

async function buildConfig(ctx: TaskContext, opts: Opts): Promise<AuditConfig> {
  let config = defaultAuditConfig();
  if (opts.rules !== undefined) config = parseRulesFile(await ctx.readInput(opts.rules), config);
  if (opts.dnsPattern !== undefined) {
    config.dnsPattern = compilePattern(opts.dnsPattern, "--dns-pattern");
  }
  for (const [list, on] of [[opts.enable, true], [opts.disable, false]] as const) {
    for (const id of list) {
      if (!isRuleId(id)) throw new UsageError(`Cannot find rule "${id}": see --list-rules`);
      if (on) config.enabled.add(id);
      else config.enabled.delete(id);
    }
  }
  if (opts.resolve) config.enabled.add("dns-forward-mismatch");
  else config.enabled.delete("dns-forward-mismatch");
  if (opts.schedule !== undefined) {
    try {
      checkCronPattern(opts.schedule);
    } catch (err) {
      throw new UsageError(`Cannot use --schedule "${opts.schedule}": ${(err as Error).message}`);
    }
  }
  return config;
}

/** One audit: fetch, analyse, emit. Returns the summary. */
async function auditOnce(
  ctx: TaskContext,
  scope: AuditScope,
  config: AuditConfig,
  failOn: FailOn,
  opts: Opts,
  deps: AuditDeps,
): Promise<{ summary: AuditSummary }> {
  const { summary, findings, utilization, warnings } = await auditIps(ctx.client(), {
    scope,
    config,
    failOn,
    resolver: deps.resolver,
    dnsConcurrency: ctx.concurrency * 2,
    now: ctx.io.now(),
    onListed: (what, n) => ctx.verbose && ctx.info(`listed ${n} ${what}`),
  });
  for (const w of warnings) ctx.warn(w);
  const thresholds = { warning: config.utilizationWarning, error: config.utilizationError };
  await ctx.emit(
    {
      summary: summary as unknown as Record<string, unknown>,
      items: findings as unknown as Record<string, unknown>[],
    },
    {
      columns: FINDING_COLUMNS,
      renderers: {
        table: (doc) => renderAuditTable(doc as unknown as AuditDoc),
        csv: (doc) => renderAuditCsv(doc as unknown as AuditDoc),
        markdown: (doc) => renderAuditMarkdown(doc as unknown as AuditDoc),
        html: (doc) => renderAuditHtml(doc as unknown as AuditDoc, utilization, thresholds),
      },
    },
  );
  if (opts.schedule === undefined) ctx.info(summaryLine(summary));
  return { summary };
}

function summaryLine(s: AuditSummary): string {
  const parts = SEVERITIES.map((sev) => `${s.by_severity[sev]} ${sev}`).join(", ");
  return `audit-ips: ${s.started_at} ${s.findings} finding${s.findings === 1 ? "" : "s"} ` +
    `(${parts}) in ${s.duration_ms} ms${
      s.needs_attention ? `; needs attention (fail-on ${s.fail_on})` : ""
    }`;
}

async function scheduled(
  ctx: TaskContext,
  scope: AuditScope,
  config: AuditConfig,
  failOn: FailOn,
  opts: Opts,
  deps: AuditDeps,
): Promise<number> {
  let maxRuns: number | undefined;
  if (opts.maxRuns !== undefined) {
    maxRuns = Number(opts.maxRuns);
    if (!Number.isInteger(maxRuns) || maxRuns < 1) {
      throw new UsageError(
        `Cannot parse --max-runs: expected a positive integer, got "${opts.maxRuns}"`,
      );
    }
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = deps.signal ? [] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  deps.signal?.addEventListener("abort", onSignal);
  let last: number = EXIT.OK;
  ctx.info(
    `audit-ips: running on schedule "${opts.schedule}"${maxRuns ? ` for ${maxRuns} runs` : ""}`,
  );
  try {
    await runOnSchedule(opts.schedule!, async (run) => {
      try {
        const { summary } = await auditOnce(ctx, scope, config, failOn, opts, deps);
        ctx.io.stderr(`${summaryLine(summary)} (run ${run})\n`);
        last = summary.needs_attention ? EXIT.ATTENTION : EXIT.OK;
      } catch (err) {
        const message = escapeControls(err instanceof Error ? err.message : String(err));
        ctx.io.stderr(`audit-ips: ${ctx.io.now().toISOString()} run ${run} failed: ${message}\n`);
        last = EXIT.UNREACHABLE;
      }
    }, { signal: stop.signal, maxRuns, scheduler: deps.scheduler });
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    deps.signal?.removeEventListener("abort", onSignal);
  }
  return last;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
