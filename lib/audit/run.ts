/**
 * One audit run as `audit-ips` makes it, as a library call: audit, compare with the previous
 * state, plan (and apply) fixes, journal the new errors, and the document and next state that
 * result. The caller reads and writes the state file and renders the document.
 *
 * @module
 */

import type { ModelWrite } from "../client/permissions.ts";
import type { NetBoxClient } from "../client/types.ts";
import { auditIps, type AuditIpsOptions, type AuditIpsResult } from "./audit.ts";
import { applyFixes, fixReport, type NetworkFixOptions, planFixes, renderFixPlan } from "./fix.ts";
import { journalFindings, type JournalOutcome } from "./journal.ts";
import type { AuditSummary } from "./report.ts";
import { atLeast, defaultAuditConfig, type Severity } from "./rules.ts";
import {
  type AuditState,
  compareWithState,
  nextState,
  scopeKey,
  type StateComparison,
} from "./state.ts";

/** Options of {@linkcode runAudit}: those of `auditIps` and what happens around it. */
export interface RunAuditOptions extends AuditIpsOptions {
  /** Track findings over time against this previous state (`null`: the first run). */
  previous?: AuditState | null;
  /** With a previous state: the result needs attention when a new finding is at least this. */
  failOnNew?: Severity | "never";
  /** Plan safe fixes (`apply: true` also writes them). */
  fix?: { apply: boolean; orphanTag?: string; network?: NetworkFixOptions };
  /** Write a journal entry on the object of each new error finding (`dryRun`: plan only). */
  journal?: { dryRun: boolean };
}

/** What {@linkcode runAudit} returns. */
export interface AuditRun {
  /** The audit itself. */
  result: AuditIpsResult;
  /** The summary (with `baseline` when tracked; `needs_attention` counts `failOnNew`). */
  summary: AuditSummary;
  /** The findings as reported: with `baseline` and `first_seen` when tracked. */
  items: Record<string, unknown>[];
  /** Extra parts of the document: `fixes`, `journal`, `fixed`, `forecast`. */
  extra: Record<string, unknown>;
  /** The fix plan as text (empty without `fix`). */
  fixText: string;
  /** How many fix or journal writes failed. */
  failed: number;
  /** The journal outcomes (empty without `journal`). */
  journal: JournalOutcome[];
  /** The state to keep for the next run (when tracked). */
  next?: AuditState;
}

/**
 * The writes a run with these options may make: check them before running.
 *
 * @param options the run's options
 * @returns the model writes (none for a read-only run)
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { runWrites } from "./run.ts";
 * assert(runWrites({}).length === 0);
 * assert(runWrites({ fix: { apply: true } })[0].path === "ipam/ip-addresses/");
 * ```
 */
export function runWrites(options: RunAuditOptions): ModelWrite[] {
  return [
    ...(options.fix?.apply ? [{ path: "ipam/ip-addresses/", action: "change" as const }] : []),
    // live-undocumented addresses are created.
    ...(options.fix?.apply && (options.network || options.probe)
      ? [{ path: "ipam/ip-addresses/", action: "add" as const }]
      : []),
    ...(options.journal && !options.journal.dryRun
      ? [{ path: "extras/journal-entries/", action: "add" as const }]
      : []),
  ];
}

/**
 * Runs one audit with everything around it. Reads only, except for `fix.apply` and `journal`.
 *
 * @param client the client
 * @param options audit options, previous state, fixes, journal
 * @returns the document parts, the fix plan text, failures and the next state
 *
 * @example A first tracked run: every finding is new
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createClient } from "../client/client.ts";
 * import { runAudit } from "./run.ts";
 * const fetch = (input: string | URL | Request) => {
 *   const url = new URL(input instanceof Request ? input.url : input);
 *   if (url.pathname === "/api/status/") return Promise.resolve(Response.json({ "netbox-version": "4.7.3" }));
 *   const results = url.pathname === "/api/ipam/ip-addresses/"
 *     ? [{ id: 1, url: "https://nb.example/api/ipam/ip-addresses/1/", address: "10.9.0.5/24", vrf: null,
 *       status: "active", role: null, dns_name: "", tags: [], assigned_object_type: null, assigned_object_id: null }]
 *     : [];
 *   return Promise.resolve(Response.json({ count: results.length, next: null, results }));
 * };
 * const client = createClient({ url: "https://nb.example", token: "nbt_abcdefghijkl.secret", fetch });
 * const run = await runAudit(client, { previous: null });
 * assert(run.next !== undefined && run.items.every((f) => f.baseline === "new"));
 * ```
 */
export async function runAudit(client: NetBoxClient, options: RunAuditOptions): Promise<AuditRun> {
  const config = options.config ?? defaultAuditConfig();
  const scope = options.scope ?? {};
  // The last sightings of earlier runs make documented-unseen span them.
  const network = (options.network || options.probe) && {
    ...options.network,
    observations: options.network?.observations ?? [],
    lastSeen: options.network?.lastSeen ?? options.previous?.seen,
    observedSince: options.network?.observedSince ?? options.previous?.observed_since,
  };
  const result = await auditIps(client, { ...options, config, scope, network });
  const { summary, findings } = result;
  const tracked = options.previous !== undefined;
  const previous = options.previous ?? undefined;
  // Without a state, the journal treats every finding as new (its marker keeps it idempotent).
  const cmp: StateComparison | undefined = tracked || options.journal
    ? compareWithState(result, previous)
    : undefined;
  let failed = 0;
  const extra: Record<string, unknown> = {};
  let fixText = "";
  if (options.fix) {
    const plan = await planFixes(client, findings, {
      orphanTag: options.fix.orphanTag,
      ignoreTag: config.ignoreTag,
      network: options.fix.network,
    });
    const applied = options.fix.apply ? await applyFixes(client, plan) : undefined;
    failed += applied?.outcomes.filter((o) => o.status !== "applied").length ?? 0;
    fixText = renderFixPlan(plan, applied);
    extra.fixes = fixReport(plan, applied);
  }
  let journal: JournalOutcome[] = [];
  if (options.journal && cmp) {
    // Findings on addresses NetBox does not have (id 0) have no object to write on.
    const fresh = cmp.findings.filter((f) => f.baseline === "new" && f.object_id !== 0);
    journal = await journalFindings(client, fresh, { dryRun: options.journal.dryRun });
    failed += journal.filter((o) => o.status === "failed" || o.status === "unknown").length;
    extra.journal = journal;
  }
  let next: AuditState | undefined;
  if (tracked && cmp) {
    const failOnNew = options.failOnNew;
    const newAttention = failOnNew !== undefined &&
      cmp.findings.some((f) => f.baseline === "new" && atLeast(f.severity, failOnNew));
    Object.assign(summary, {
      baseline: { ...cmp.counts, previous_run: cmp.previous_run },
      ...(failOnNew ? { fail_on_new: failOnNew } : {}),
      needs_attention: summary.needs_attention || newAttention,
    });
    extra.fixed = cmp.fixed;
    next = nextState(result, cmp, {
      netboxUrl: client.baseUrl,
      scope: scopeKey(scope),
      previous,
      seen: result.network?.seen,
    });
  }
  if (config.enabled.has("prefix-exhaustion")) extra.forecast = result.forecast;
  const items = (tracked && cmp ? cmp.findings : findings) as unknown as Record<string, unknown>[];
  return { result, summary, items, extra, fixText, failed, journal, next };
}
