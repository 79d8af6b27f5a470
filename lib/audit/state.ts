/**
 * Audit runs over time: a state (baseline) file keeps what the last run found, keyed by rule
 * and object (stable across runs: NetBox ids do not change), so a run can say which findings
 * are **new**, which are **persisting** (and since when), and which were **fixed**.
 *
 * The state is plain JSON (`format: "netbox-toolkit/audit-state"`, `version: 1`) bound to one
 * NetBox URL and one audit scope. {@linkcode parseState} refuses a corrupt file, a file of
 * another format or version, and a file written for another NetBox or scope with an
 * {@linkcode AuditStateError} (an `InputError`, exit code 2) naming the file and what was
 * expected — a state is never silently reset.
 *
 * Findings of rules that did not run this time (switched off, `--resolve` not given) are
 * neither reported as fixed nor dropped: the next state carries them over unchanged.
 *
 * @module
 */

import { InputError } from "../client/errors.ts";
import type { Finding } from "./model.ts";

/** The `format` field of every state file. */
export const STATE_FORMAT = "netbox-toolkit/audit-state";
/** The `version` of the state file format this module reads and writes. */
export const STATE_VERSION = 1;

/**
 * One finding as the state remembers it: the finding without its related objects (severity and
 * message as last seen), and when it was first and last seen.
 */
export interface StateEntry extends Omit<Finding, "related"> {
  /** When a run first found it (ISO 8601). */
  first_seen: string;
  /** When a run last found it (ISO 8601). */
  last_seen: string;
}

/** The content of a state file. */
export interface AuditState {
  /** Always {@linkcode STATE_FORMAT}. */
  format: typeof STATE_FORMAT;
  /** Always {@linkcode STATE_VERSION}. */
  version: typeof STATE_VERSION;
  /** The NetBox the findings are about (normalised base URL, no `/api`). */
  netbox_url: string;
  /** The audit scope, as {@linkcode scopeKey} writes it. */
  scope: string;
  /** When the run that wrote it started (ISO 8601). */
  updated_at: string;
  /** The rules that run had switched on. */
  rules: string[];
  /** Every finding by {@linkcode findingKey}. */
  findings: Record<string, StateEntry>;
  /**
   * With observations of the network: when each address was last seen (`VRF-id/address` → ISO
   * 8601; VRF id 0 is the global table), so `documented-unseen` spans daily runs.
   */
  seen?: Record<string, string>;
  /** When the first run with observations started (never-seen addresses count from it). */
  observed_since?: string;
}

/** Whether a finding is new since the state, was there before, or has gone. */
export type BaselineStatus = "new" | "persisting" | "fixed";

/** A finding of this run with its place in history. */
export interface BaselinedFinding extends Finding {
  /** `new` (not in the state) or `persisting`. */
  baseline: "new" | "persisting";
  /** When it was first seen (this run's start for a new one). */
  first_seen: string;
  /** Its stable key ({@linkcode findingKey}). */
  key: string;
}

/** A finding of the previous run that this run no longer finds. */
export interface FixedFinding extends StateEntry {
  /** Always `fixed`. */
  baseline: "fixed";
  /** Its stable key ({@linkcode findingKey}). */
  key: string;
}

/** What {@linkcode compareWithState} returns. */
export interface StateComparison {
  /** This run's findings, in the order given, each marked new or persisting. */
  findings: BaselinedFinding[];
  /** Findings of the previous run that are gone (only of rules that ran this time). */
  fixed: FixedFinding[];
  /** How many of each. */
  counts: { new: number; persisting: number; fixed: number };
  /** When the previous run started, or `null` without a state. */
  previous_run: string | null;
}

/** The part of an audit result the comparison reads (an `AuditIpsResult` will do). */
export interface ComparableResult {
  /** This run's findings. */
  findings: Finding[];
  /** When the run started (ISO 8601) and the rules it ran. */
  summary: { started_at: string; rules: string[] };
}

/**
 * A corrupt state file, or one written for another NetBox, scope or format: an input error
 * (exit code 2) naming the file and what was expected.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { AuditStateError } from "./state.ts";
 * const err = new AuditStateError("Cannot use state file s.json: not JSON");
 * assert(err.exitCode === 2);
 * ```
 */
export class AuditStateError extends InputError {}

/**
 * The stable key of a finding: rule, object type and object id (`orphan-address:ipam.ipaddress:7`).
 *
 * @param f The finding (or anything with its rule and object).
 * @returns The key.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { findingKey } from "./state.ts";
 * assert(findingKey({ rule: "orphan-address", object_type: "ipam.ipaddress", object_id: 7 }) ===
 *   "orphan-address:ipam.ipaddress:7");
 * ```
 */
export function findingKey(
  f: {
    rule: string;
    object_type: string;
    object_id: number;
    address?: string | null;
    vrf?: string | null;
  },
): string {
  // A finding on an address NetBox does not have (live-undocumented) has no id: key it by
  // VRF and address instead.
  if (f.object_id === 0 && f.address) return `${f.rule}:${f.vrf ?? "global"}:${f.address}`;
  return `${f.rule}:${f.object_type}:${f.object_id}`;
}

/**
 * A canonical text for an audit scope: its set fields in a fixed order, `everything` when none.
 *
 * @param scope The scope (`AuditScope`).
 * @returns The text stored in the state's `scope`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { scopeKey } from "./state.ts";
 * assert(scopeKey({ vrf: "blue", parent: "10.0.0.0/8" }) === "vrf=blue parent=10.0.0.0/8");
 * assert(scopeKey({}) === "everything");
 * ```
 */
export function scopeKey(scope: {
  vrf?: string;
  parent?: string;
  tenant?: string;
  site?: string;
  tag?: string;
  filters?: Record<string, unknown>;
}): string {
  const parts: string[] = [];
  for (const key of ["vrf", "parent", "tenant", "site", "tag"] as const) {
    if (scope[key] !== undefined) parts.push(`${key}=${scope[key]}`);
  }
  const filters = Object.entries(scope.filters ?? {}).filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  for (const [k, v] of filters) {
    parts.push(`filter:${k}=${Array.isArray(v) ? v.join(",") : String(v)}`);
  }
  return parts.length ? parts.join(" ") : "everything";
}

/**
 * Compares this run's findings with the previous state: each finding becomes `new` or
 * `persisting` (with its first-seen time), and the previous findings of the rules that ran and
 * are no longer found become `fixed`. Without a state every finding is new.
 *
 * @param result This run's findings and summary (`started_at`, `rules`).
 * @param previous The previous state, or `undefined` on the first run.
 * @returns The marked findings, the fixed ones and their counts.
 *
 * @example Yesterday one orphan and one duplicate; today the orphan is fixed and a new one appears
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { compareWithState, nextState } from "./state.ts";
 * import type { Finding } from "./model.ts";
 * const finding = (rule: string, id: number): Finding => ({
 *   rule, severity: "warning", object_type: "ipam.ipaddress", object_id: id,
 *   address: `10.0.0.${id}/24`, vrf: null, url: null, message: "m", related: [],
 * });
 * const rules = ["duplicate-address", "orphan-address"];
 * const day1 = { findings: [finding("orphan-address", 1), finding("duplicate-address", 2)],
 *   summary: { started_at: "2026-01-01T00:00:00.000Z", rules } };
 * const state = nextState(day1, compareWithState(day1, undefined),
 *   { netboxUrl: "https://nb.example", scope: "everything" });
 * const day2 = { findings: [finding("duplicate-address", 2), finding("orphan-address", 3)],
 *   summary: { started_at: "2026-01-02T00:00:00.000Z", rules } };
 * const cmp = compareWithState(day2, state);
 * assert(cmp.findings[0].baseline === "persisting" && cmp.findings[0].first_seen.startsWith("2026-01-01"));
 * assert(cmp.findings[1].baseline === "new");
 * assert(cmp.fixed.length === 1 && cmp.fixed[0].object_id === 1);
 * assert(cmp.counts.new === 1 && cmp.counts.persisting === 1 && cmp.counts.fixed === 1);
 * ```
 */
export function compareWithState(
  result: ComparableResult,
  previous: AuditState | undefined,
): StateComparison {
  const now = result.summary.started_at;
  const old = previous?.findings ?? {};
  const seen = new Set<string>();
  const findings: BaselinedFinding[] = result.findings.map((f) => {
    const key = findingKey(f);
    seen.add(key);
    const before = Object.hasOwn(old, key) ? old[key] : undefined;
    return before
      ? { ...f, baseline: "persisting", first_seen: before.first_seen, key }
      : { ...f, baseline: "new", first_seen: now, key };
  });
  const ran = new Set(result.summary.rules);
  const fixed: FixedFinding[] = Object.entries(old)
    .filter(([key, e]) => !seen.has(key) && ran.has(e.rule))
    .map(([key, e]) => ({ ...e, baseline: "fixed", key }));
  return {
    findings,
    fixed,
    counts: {
      new: findings.filter((f) => f.baseline === "new").length,
      persisting: findings.filter((f) => f.baseline === "persisting").length,
      fixed: fixed.length,
    },
    previous_run: previous?.updated_at ?? null,
  };
}

/** Options of {@linkcode nextState}. */
export interface NextStateOptions {
  /** The NetBox audited (its base URL). */
  netboxUrl: string;
  /** The scope, as {@linkcode scopeKey} writes it. */
  scope: string;
  /** The previous state: findings of rules that did not run are carried over from it. */
  previous?: AuditState;
  /** This run's last sightings (previous ones included); the previous ones are kept without. */
  seen?: Record<string, string>;
}

/**
 * The state to store after this run: every finding of this run (first-seen kept), plus the
 * previous findings of rules that did not run this time.
 *
 * @param result This run's findings and summary.
 * @param comparison What {@linkcode compareWithState} returned for this run.
 * @param options The NetBox URL, scope and previous state.
 * @returns The new state; write it with {@linkcode serializeState}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { compareWithState, nextState, parseState, serializeState } from "./state.ts";
 * const run = { findings: [], summary: { started_at: "2026-01-01T00:00:00.000Z", rules: [] } };
 * const state = nextState(run, compareWithState(run, undefined), { netboxUrl: "https://nb.example", scope: "everything" });
 * const again = parseState(serializeState(state), { file: "s.json", netboxUrl: "https://nb.example/api/", scope: "everything" });
 * assert(again.updated_at === "2026-01-01T00:00:00.000Z");
 * ```
 */
export function nextState(
  result: ComparableResult,
  comparison: StateComparison,
  options: NextStateOptions,
): AuditState {
  const findings: Record<string, StateEntry> = {};
  const ran = new Set(result.summary.rules);
  for (const [key, e] of Object.entries(options.previous?.findings ?? {})) {
    if (!ran.has(e.rule)) findings[key] = e;
  }
  for (const f of comparison.findings) {
    findings[f.key] = {
      rule: f.rule,
      severity: f.severity,
      object_type: f.object_type,
      object_id: f.object_id,
      address: f.address,
      vrf: f.vrf,
      url: f.url,
      message: f.message,
      first_seen: f.first_seen,
      last_seen: result.summary.started_at,
    };
  }
  const seen = options.seen ?? options.previous?.seen;
  const observedSince = options.previous?.observed_since ??
    (options.seen ? result.summary.started_at : undefined);
  return {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    netbox_url: normalizeBase(options.netboxUrl),
    scope: options.scope,
    updated_at: result.summary.started_at,
    rules: [...result.summary.rules],
    findings,
    ...(seen ? { seen } : {}),
    ...(observedSince ? { observed_since: observedSince } : {}),
  };
}

/**
 * The state as the text of a state file (pretty JSON, keys sorted by finding key).
 *
 * @param state The state.
 * @returns JSON text ending with a newline.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { serializeState, STATE_FORMAT } from "./state.ts";
 * const text = serializeState({ format: STATE_FORMAT, version: 1, netbox_url: "https://nb", scope: "everything",
 *   updated_at: "2026-01-01T00:00:00.000Z", rules: [], findings: {} });
 * assert(JSON.parse(text).format === STATE_FORMAT && text.endsWith("\n"));
 * ```
 */
export function serializeState(state: AuditState): string {
  const findings = Object.fromEntries(
    Object.entries(state.findings).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  );
  return JSON.stringify({ ...state, findings }, null, 2) + "\n";
}

/** What {@linkcode parseState} checks the file against. */
export interface ParseStateOptions {
  /** The file's name, for messages. */
  file: string;
  /** The NetBox this run audits: a state of another NetBox is refused. */
  netboxUrl: string;
  /** This run's scope ({@linkcode scopeKey}): a state of another scope is refused. */
  scope: string;
}

/**
 * Reads a state file's text and checks that it is a state of this format and version, for this
 * NetBox and this scope.
 *
 * @param text The file's content.
 * @param options The file name and what it must match.
 * @returns The state.
 * @throws {AuditStateError} When the text is not a valid state, or is another NetBox's or
 *   scope's: exit code 2, the message names the file and what was expected.
 *
 * @example A state of another NetBox is refused
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { AuditStateError, parseState } from "./state.ts";
 * const text = JSON.stringify({ format: "netbox-toolkit/audit-state", version: 1,
 *   netbox_url: "https://other.example", scope: "everything", updated_at: "2026-01-01T00:00:00Z",
 *   rules: [], findings: {} });
 * try {
 *   parseState(text, { file: "s.json", netboxUrl: "https://nb.example", scope: "everything" });
 *   assert(false);
 * } catch (err) {
 *   assert(err instanceof AuditStateError && /other\.example/.test(err.message));
 * }
 * ```
 */
export function parseState(text: string, options: ParseStateOptions): AuditState {
  const { file } = options;
  const fail = (why: string): never => {
    throw new AuditStateError(
      `Cannot use state file ${file}: ${why}; expected a ${STATE_FORMAT} version ${STATE_VERSION} ` +
        `file written by \`serializeState\` (move it away to start a new baseline)`,
    );
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail(`not JSON (${(err as Error).message})`);
  }
  if (!isRecord(raw)) return fail("not a JSON object");
  if (raw.format !== STATE_FORMAT) {
    return fail(`its format is ${JSON.stringify(raw.format ?? null)}`);
  }
  if (raw.version !== STATE_VERSION) {
    return fail(`its version is ${JSON.stringify(raw.version ?? null)}`);
  }
  if (typeof raw.netbox_url !== "string") return fail("netbox_url is missing");
  if (typeof raw.scope !== "string") return fail("scope is missing");
  if (typeof raw.updated_at !== "string" || Number.isNaN(Date.parse(raw.updated_at))) {
    return fail("updated_at is not a date");
  }
  if (!Array.isArray(raw.rules) || !raw.rules.every((r) => typeof r === "string")) {
    return fail("rules is not a list of rule ids");
  }
  if (!isRecord(raw.findings)) return fail("findings is not an object");
  for (const [key, e] of Object.entries(raw.findings)) {
    const bad = entryProblem(e);
    if (bad) return fail(`finding ${JSON.stringify(key)} ${bad}`);
    if (findingKey(e as StateEntry) !== key) {
      return fail(`finding ${JSON.stringify(key)} does not match its rule and object`);
    }
  }
  if (raw.seen !== undefined) {
    if (!isRecord(raw.seen)) return fail("seen is not an object");
    for (const [key, t] of Object.entries(raw.seen)) {
      if (typeof t !== "string" || Number.isNaN(Date.parse(t))) {
        return fail(`seen ${JSON.stringify(key)} is not a date`);
      }
    }
  }
  if (
    raw.observed_since !== undefined &&
    (typeof raw.observed_since !== "string" || Number.isNaN(Date.parse(raw.observed_since)))
  ) {
    return fail("observed_since is not a date");
  }
  const url = normalizeBase(options.netboxUrl);
  if (normalizeBase(raw.netbox_url) !== url) {
    throw new AuditStateError(
      `Cannot use state file ${file}: it holds the findings of ${raw.netbox_url}, but this run ` +
        `audits ${url}; give each NetBox its own state file`,
    );
  }
  if (raw.scope !== options.scope) {
    throw new AuditStateError(
      `Cannot use state file ${file}: it was written for scope "${raw.scope}", but this run ` +
        `audits "${options.scope}"; give each scope its own state file`,
    );
  }
  return raw as unknown as AuditState;
}

function entryProblem(e: unknown): string | undefined {
  if (!isRecord(e)) return "is not an object";
  for (const field of ["rule", "object_type", "message", "first_seen", "last_seen"]) {
    if (typeof e[field] !== "string") return `has no ${field}`;
  }
  if (!["error", "warning", "info"].includes(e.severity as string)) return "has no severity";
  if (!Number.isInteger(e.object_id)) return "has no object_id";
  if (Number.isNaN(Date.parse(e.first_seen as string))) return "has a bad first_seen";
  for (const field of ["address", "vrf", "url"]) {
    if (e[field] !== null && e[field] !== undefined && typeof e[field] !== "string") {
      return `has a bad ${field}`;
    }
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `https://nb.example/api/` → `https://nb.example` (lower-case scheme and host). */
function normalizeBase(url: string): string {
  let u = url.trim().replace(/\/+$/, "").replace(/\/api$/, "");
  try {
    const parsed = new URL(u);
    u = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
  } catch {
    // not a URL: compare as text
  }
  return u;
}
