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

import { collect, parseFilterPairs, runTask, type TaskContext } from "../lib/cli/task.ts";
import { runScheduled } from "../lib/cli/scheduled.ts";
import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { runAudit, type RunAuditOptions, runWrites } from "../lib/audit/run.ts";
import { compilePattern, parseRulesFile } from "../lib/audit/config.ts";
import type { AuditScope } from "../lib/audit/data.ts";
import {
  type AuditSummary,
  auditSummaryLine,
  FINDING_COLUMNS,
  renderAuditCsv,
  renderAuditHtml,
  renderAuditMarkdown,
  renderAuditTable,
} from "../lib/audit/report.ts";
import type { DnsResolver } from "../lib/audit/resolve.ts";
import {
  type AuditConfig,
  defaultAuditConfig,
  isRuleId,
  renderRuleList,
} from "../lib/audit/rules.ts";
import { checkCronPattern, type Scheduler } from "../lib/audit/schedule.ts";
import { parseState, scopeKey, serializeState } from "../lib/audit/state.ts";
import {
  type MachineDoc,
  renderAuditJunit,
  renderAuditPrometheus,
  renderAuditSarif,
} from "../lib/audit/formats.ts";
import { writeAtomic } from "../lib/cli/render.ts";
import { NETWORK_RULES } from "../lib/audit/network.ts";
import { IP_STATUSES } from "../lib/ipam/choices.ts";
import { parseProbeSpec, type TcpConnect } from "../lib/audit/probe.ts";
import { parseNameserver, type PtrResolver, systemPtrResolver } from "../lib/audit/ptr.ts";
import {
  OBSERVED_FORMATS,
  type ObservedFormat,
  parseObservations,
  parseObservedSpec,
} from "../lib/audit/observed.ts";
import { TOOLKIT_VERSION } from "../lib/client/version.ts";

const FORMATS = [
  "table",
  "json",
  "yaml",
  "csv",
  "markdown",
  "html",
  "sarif",
  "junit",
  "prometheus",
];
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
  ptr?: boolean;
  nameserver?: string;
  failOn?: string;
  listRules?: boolean;
  schedule?: string;
  maxRuns?: string;
  state?: string;
  failOnNew?: string;
  fix?: boolean;
  apply?: boolean;
  orphanTag: string;
  journal?: boolean;
  forecast?: boolean;
  forecastThreshold: string;
  forecastDays: string;
  observed: string[];
  observedFormat?: string;
  unseenDays: string;
  probe?: string;
  probeConcurrency: string;
  probeTimeout: string;
  probeLimit: string;
  discoveredStatus: string;
  discoveredTag: string;
  unseenTag: string;
  dryRun?: boolean;
}

/** What tests inject into {@linkcode main}. */
export interface AuditDeps {
  /** The DNS resolver for `--resolve`. @default {systemResolver} */
  resolver?: DnsResolver;
  /** The scheduler for `--schedule`. @default {croner} */
  scheduler?: Scheduler;
  /** Stops a `--schedule` loop. */
  signal?: AbortSignal;
  /** The TCP connect of `--probe`. @default {systemConnect} */
  connect?: TcpConnect;
  /** The PTR resolver of `--ptr`. @default {systemPtrResolver(--nameserver)} */
  ptrResolver?: PtrResolver;
}

const SPEC = {
  name: "audit-ips",
  description: "Audit the IP data in NetBox: duplicates, orphans, mask/VRF mismatches, DNS " +
    "names, primary IPs, prefix utilization (see --list-rules)",
  formats: FORMATS,
  writes: true,
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
        "--ptr",
        "also check that the reverse DNS (PTR) of each address with a DNS name names it " +
          "(ptr-mismatch)",
      )
      .option("--nameserver <host[:port]>", "with --ptr: the DNS server to ask")
      .option(
        "--fail-on <severity>",
        `exit 1 when a finding is at least: ${FAIL_ON.join(", ")} (default: error; with ` +
          "--fail-on-new only when given)",
      )
      .option(
        "--state <file>",
        "baseline file: compare with what the last run found (each finding new, persisting " +
          "with its first-seen date, or fixed) and rewrite it atomically; a missing file starts " +
          "one, a corrupt or foreign one (other NetBox, scope or format) is an error (exit 2)",
      )
      .option(
        "--fail-on-new <severity>",
        "with --state: exit 1 only when a NEW finding is at least this severity",
      )
      .option(
        "--fix",
        "plan safe fixes (primary IPv4 with exactly one candidate, mask of the one enclosing " +
          "prefix, tag orphans; with --observed: create live-undocumented addresses, tag " +
          "documented-unseen ones) and print the plan: object, field, old -> new; writes nothing",
      )
      .option("--apply", "with --fix: write the plan (respects --audit-log and --dry-run)")
      .option(
        "--orphan-tag <slug>",
        "the tag --fix gives orphan addresses (tagged orphans are acknowledged: not reported)",
        "audit-orphan",
      )
      .option(
        "--journal",
        "write a journal entry (kind danger) on the object of each NEW error finding, once " +
          "(an entry with the same marker is never written twice)",
      )
      .option(
        "--forecast",
        "forecast prefix exhaustion from NetBox's change log (least squares on address " +
          "creates): rule prefix-exhaustion, 'forecast' in json/yaml, a Prometheus gauge",
      )
      .option("--forecast-threshold <percent>", "forecast prefixes at least this utilized", "50")
      .option("--forecast-days <days>", "change-log window the fit reads", "90")
      .option(
        "--observed <file>",
        "observations of the network (repeatable; FILE or vrf=NAME:FILE): ARP/neighbour tables, " +
          "DHCP leases, nmap XML, CSV/JSON (address,mac,seen_at,source); switches on " +
          "live-undocumented, documented-unseen, mac-mismatch, status-mismatch",
        collect,
        [],
      )
      .option(
        "--observed-format <format>",
        `the format of every --observed file, instead of detecting it: ${
          OBSERVED_FORMATS.join(", ")
        }`,
      )
      .option(
        "--unseen-days <days>",
        "documented-unseen: active addresses not seen for this many days (the last sighting " +
          "is kept in --state)",
        "30",
      )
      .option(
        "--probe <spec>",
        "also TCP-connect to every address in scope (tcp:22,443): an address that accepts or " +
          "refuses is live; switches on the network rules like --observed",
      )
      .option("--probe-concurrency <n>", "with --probe: connects in flight", "32")
      .option("--probe-timeout <ms>", "with --probe: each connect's timeout", "1000")
      .option(
        "--probe-limit <n>",
        "with --probe: refuse to probe more addresses than this (exit 2)",
        "4096",
      )
      .option(
        "--discovered-status <status>",
        "the status --fix gives the live-undocumented addresses it creates",
        "active",
      )
      .option(
        "--discovered-tag <slug>",
        "the tag --fix gives the live-undocumented addresses it creates",
        "discovered",
      )
      .option(
        "--unseen-tag <slug>",
        "the tag --fix gives documented-unseen addresses (tagged ones are acknowledged: not " +
          "reported)",
        "audit-unseen",
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
Objects tagged audit-ignore are skipped. Exit code: 1 when a finding reaches --fail-on (or a new
one reaches --fail-on-new), or a --fix/--journal write failed, else 0.
Formats for machines: sarif (SARIF 2.1.0; baselineState with --state), junit (one testcase per
rule, a failure per finding), prometheus (node_exporter textfile: netbox_audit_findings{rule,
severity}, prefix utilization, forecast, last success timestamp; use --output).
Nothing is written to NetBox without --fix --apply or --journal (and never with --dry-run).
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
    "audit-ips --vrf blue --state /var/lib/audit-blue.json --fail-on-new error --journal",
    "audit-ips --format sarif --output audit.sarif --state audit-state.json",
    "audit-ips --format prometheus --output /var/lib/node_exporter/netbox_audit.prom --forecast",
    "audit-ips --parent 10.0.0.0/8 --fix            # then: --fix --apply --audit-log fixes.log",
    "audit-ips --observed arp.txt --observed vrf=blue:dhcpd.leases --state network.json",
    "audit-ips --parent 10.20.0.0/24 --probe tcp:22,443 --unseen-days 0",
    "audit-ips --vrf blue --ptr --nameserver 10.0.0.53",
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

/** Everything one run needs, checked before anything is sent. */
interface RunPlan {
  scope: AuditScope;
  config: AuditConfig;
  failOn: FailOn;
  /** `--fail-on-new`, when given. */
  failOnNew?: FailOn;
  forecast: { threshold: number; windowDays: number };
  /** The observations of `--observed`, read and checked. */
  network?: RunAuditOptions["network"];
  /** `--probe` and its bounds. */
  probe?: RunAuditOptions["probe"];
  opts: Opts;
  deps: AuditDeps;
}

async function handle(ctx: TaskContext, opts: Opts, deps: AuditDeps): Promise<number> {
  if (opts.listRules) {
    ctx.io.stdout(renderRuleList());
    return EXIT.OK;
  }
  const failOnNew = opts.failOnNew === undefined
    ? undefined
    : parseFailOn(opts.failOnNew, "--fail-on-new");
  // With --fail-on-new, only an explicit --fail-on also counts.
  const failOn = parseFailOn(opts.failOn ?? (failOnNew ? "never" : "error"), "--fail-on");
  if (failOnNew && opts.state === undefined) {
    throw new UsageError("Cannot use --fail-on-new without --state: new since when?");
  }
  if (opts.apply && !opts.fix) throw new UsageError("Cannot use --apply without --fix");
  const scope = parseScope(opts);
  const config = await buildConfig(ctx, opts);
  if (opts.forecast) config.enabled.add("prefix-exhaustion");
  const orphans = config.ruleExempt["orphan-address"] ??= { tags: [], roles: [], prefixes: [] };
  if (!orphans.tags.includes(opts.orphanTag)) orphans.tags.push(opts.orphanTag);
  const unseen = config.ruleExempt["documented-unseen"] ??= { tags: [], roles: [], prefixes: [] };
  if (!unseen.tags.includes(opts.unseenTag)) unseen.tags.push(opts.unseenTag);
  const forecast = {
    threshold: parseNumber(opts.forecastThreshold, "--forecast-threshold", 100),
    windowDays: parseNumber(opts.forecastDays, "--forecast-days"),
  };
  const network = await readObserved(ctx, opts, scope);
  const probe = parseProbe(opts);
  const run: RunPlan = { scope, config, failOn, failOnNew, forecast, network, probe, opts, deps };
  if (opts.schedule === undefined) {
    if (opts.maxRuns !== undefined) {
      throw new UsageError("Cannot use --max-runs without --schedule");
    }
    return (await auditOnce(ctx, run)).code;
  }
  return await scheduled(ctx, run);
}

function parseFailOn(value: string, flag: string): FailOn {
  if (!(FAIL_ON as readonly string[]).includes(value)) {
    throw new UsageError(
      `Cannot parse ${flag}: expected one of ${FAIL_ON.join(", ")}, got "${value}"`,
    );
  }
  return value as FailOn;
}

function parseNumber(value: string, flag: string, max = Infinity): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max) {
    throw new UsageError(`Cannot parse ${flag}: expected a number in (0, ${max}], got "${value}"`);
  }
  return n;
}

function parseScope(opts: Opts): AuditScope {
  const filters = parseFilterPairs(opts.filter);
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
  // Observations switch the network rules on; the rules file and --disable may switch them off.
  if (opts.observed.length || opts.probe !== undefined) {
    for (const id of NETWORK_RULES) config.enabled.add(id);
  }
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
  if (opts.ptr) config.enabled.add("ptr-mismatch");
  else config.enabled.delete("ptr-mismatch");
  if (opts.nameserver !== undefined && !opts.ptr) {
    throw new UsageError("Cannot use --nameserver without --ptr");
  }
  if (opts.schedule !== undefined) {
    try {
      checkCronPattern(opts.schedule);
    } catch (err) {
      throw new UsageError(`Cannot use --schedule "${opts.schedule}": ${(err as Error).message}`);
    }
  }
  return config;
}

/** `--probe` and its bounds, checked before anything is sent. */
function parseProbe(opts: Opts): RunAuditOptions["probe"] {
  if (opts.probe === undefined) return undefined;
  const narrowed = [opts.tenant && "tenant", opts.site && "site", opts.tag && "tag"]
    .find(Boolean);
  if (narrowed || opts.filter.length) {
    throw new UsageError(
      `Cannot use --probe with --${narrowed ?? "filter"}: narrow with --vrf or --parent`,
    );
  }
  const count = (value: string, flag: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < 1) {
      throw new UsageError(`Cannot parse ${flag}: expected a whole number from 1, got "${value}"`);
    }
    return n;
  };
  return {
    ports: parseProbeSpec(opts.probe),
    concurrency: count(opts.probeConcurrency, "--probe-concurrency"),
    timeoutMs: count(opts.probeTimeout, "--probe-timeout"),
    limit: count(opts.probeLimit, "--probe-limit"),
  };
}

/** Reads every --observed file before anything is sent: one bad file refuses the run. */
async function readObserved(
  ctx: TaskContext,
  opts: Opts,
  scope: AuditScope,
): Promise<RunAuditOptions["network"]> {
  if (opts.observedFormat !== undefined && !opts.observed.length) {
    throw new UsageError("Cannot use --observed-format without --observed");
  }
  if (!opts.observed.length && opts.probe === undefined) return undefined;
  const format = opts.observedFormat;
  if (format !== undefined && !(OBSERVED_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(
      `Cannot parse --observed-format: expected one of ${OBSERVED_FORMATS.join(", ")}, got ` +
        `"${format}"`,
    );
  }
  const narrowed = ["tenant", "site", "tag"].filter((k) => scope[k as keyof AuditScope]);
  if (opts.observed.length && (narrowed.length || Object.keys(scope.filters ?? {}).length)) {
    throw new UsageError(
      `Cannot use --observed with --${narrowed[0] ?? "filter"}: addresses outside that scope ` +
        "would look undocumented; narrow with --vrf or --parent",
    );
  }
  if (!IP_STATUSES.includes(opts.discoveredStatus)) {
    throw new UsageError(
      `Cannot parse --discovered-status: expected one of ${IP_STATUSES.join(", ")}, got ` +
        `"${opts.discoveredStatus}"`,
    );
  }
  const unseenDays = Number(opts.unseenDays);
  if (opts.unseenDays.trim() === "" || !Number.isFinite(unseenDays) || unseenDays < 0) {
    throw new UsageError(
      `Cannot parse --unseen-days: expected a number of days (0 or more), got "${opts.unseenDays}"`,
    );
  }
  const now = ctx.io.now();
  const observations = [];
  for (const spec of opts.observed.map(parseObservedSpec)) {
    const text = await ctx.readInput(spec.file);
    observations.push(...parseObservations(text, {
      file: spec.file,
      format: format as ObservedFormat | undefined,
      vrf: spec.vrf,
      now,
    }));
  }
  if (ctx.verbose) ctx.info(`read ${observations.length} sightings`);
  return { observations, unseenDays };
}

/** Reads and checks the state file; `undefined` when it does not exist yet (first run). */
async function loadState(ctx: TaskContext, path: string, scope: string) {
  let text: string;
  try {
    text = await ctx.io.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      ctx.info(`audit-ips: state file ${path} does not exist yet: every finding is new`);
      return undefined;
    }
    if (err instanceof Deno.errors.NotCapable) throw err;
    throw new UsageError(`Cannot read state file ${path}: ${(err as Error).message}`);
  }
  return parseState(text, { file: path, netboxUrl: ctx.client().baseUrl, scope });
}

/** One audit: state, fetch, analyse, fix, journal, emit, state. Returns the exit code. */
async function auditOnce(
  ctx: TaskContext,
  run: RunPlan,
): Promise<{ summary: AuditSummary; code: number }> {
  const { scope, config, failOn, failOnNew, forecast, probe, opts, deps } = run;
  // On a schedule, each run reads the observation files again: cron refreshes them.
  const network = opts.schedule !== undefined && opts.observed.length
    ? await readObserved(ctx, opts, scope)
    : run.network;
  const scopeText = scopeKey(scope);
  const previous = opts.state === undefined
    ? undefined
    : (await loadState(ctx, opts.state, scopeText)) ?? null;
  const options: RunAuditOptions = {
    scope,
    config,
    failOn,
    failOnNew,
    forecast,
    network,
    probe: probe && { ...probe, connect: deps.connect },
    ptrResolver: deps.ptrResolver ??
      systemPtrResolver(
        opts.nameserver === undefined ? undefined : parseNameserver(opts.nameserver),
      ),
    previous,
    resolver: deps.resolver,
    dnsConcurrency: ctx.concurrency * 2,
    now: ctx.io.now(),
    fix: opts.fix
      ? {
        apply: !!opts.apply && !opts.dryRun,
        orphanTag: opts.orphanTag,
        network: {
          status: opts.discoveredStatus,
          tag: opts.discoveredTag,
          unseenTag: opts.unseenTag,
        },
      }
      : undefined,
    journal: opts.journal ? { dryRun: ctx.dryRun } : undefined,
    onListed: (what, n) => ctx.verbose && ctx.info(`listed ${n} ${what}`),
  };
  const writes = runWrites(options);
  if (writes.length) await ctx.assertCanWrite(writes);
  const client = ctx.client();
  const { result, summary, items, extra, fixText, failed, journal, next } = await runAudit(
    client,
    options,
  );
  for (const w of result.warnings) ctx.warn(w);
  if (opts.journal) {
    const count = (s: string) => journal.filter((o) => o.status === s).length;
    ctx.info(
      `audit-ips: journal: ${count("created")} written, ${count("planned")} to write (dry run), ` +
        `${count("exists")} already there, ${count("failed")} failed` +
        (count("unknown") ? `, ${count("unknown")} unknown (NetBox did not answer)` : ""),
    );
  }
  if (summary.baseline) summary.baseline.state = opts.state ?? null;
  const thresholds = { warning: config.utilizationWarning, error: config.utilizationError };
  const { utilization } = result;
  const machine = { toolVersion: TOOLKIT_VERSION, utilization, severities: config.severity };
  const asDoc = (doc: unknown) => doc as MachineDoc;
  await ctx.emit(
    { summary: summary as unknown as Record<string, unknown>, items, ...extra },
    {
      columns: FINDING_COLUMNS,
      renderers: {
        table: (doc) => renderAuditTable(asDoc(doc)) + (fixText ? `\n${fixText}` : ""),
        csv: (doc) => renderAuditCsv(asDoc(doc)),
        markdown: (doc) => renderAuditMarkdown(asDoc(doc)),
        html: (doc) => renderAuditHtml(asDoc(doc), utilization, thresholds),
        sarif: (doc) => renderAuditSarif(asDoc(doc), machine),
        junit: (doc) => renderAuditJunit(asDoc(doc)),
        prometheus: (doc) => renderAuditPrometheus(asDoc(doc), machine),
      },
    },
  );
  if (fixText && !["table", "json", "yaml"].includes(ctx.format)) {
    for (const line of fixText.trimEnd().split("\n")) ctx.info(line);
  }
  if (opts.state !== undefined && next) await writeAtomic(opts.state, serializeState(next));
  if (opts.schedule === undefined) ctx.info(auditSummaryLine(summary));
  const code = summary.needs_attention || failed > 0 ? EXIT.ATTENTION : EXIT.OK;
  return { summary, code };
}

function scheduled(ctx: TaskContext, run: RunPlan): Promise<number> {
  return runScheduled(ctx, {
    name: "audit-ips",
    pattern: run.opts.schedule!,
    maxRuns: run.opts.maxRuns,
    signal: run.deps.signal,
    scheduler: run.deps.scheduler,
    once: async (n) => {
      const { summary, code } = await auditOnce(ctx, run);
      ctx.io.stderr(`${auditSummaryLine(summary)} (run ${n})\n`);
      return code;
    },
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
