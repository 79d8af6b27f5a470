/**
 * The result document of a bulk import (the plan in `--dry-run`, the outcome otherwise) and its
 * text rendering: a model × created/updated/(deleted/)unchanged/failed table, then the deletes
 * (each with its natural key, id and why), then one line per changed entry with its field diff. Names, old values and NetBox's messages are shown with control
 * characters and bidi overrides visible (`\x1b`, `\u202e`), as they are text anyone with edit
 * rights in NetBox (or the input's author) wrote.
 *
 * @module
 */

import { escapeControls } from "../base/safe_text.ts";
import type { ImportPlan, PlanItem } from "./plan.ts";
import type { ApplyResult } from "./apply.ts";
import { formatProblem } from "./parse.ts";

/** Counts of one model. */
export interface ModelCounts {
  /** Entries to create (dry run) or created. */
  create: number;
  /** Entries to update or updated. */
  update: number;
  /** Entries that already match NetBox. */
  unchanged: number;
  /** Entries NetBox rejected. */
  failed: number;
  /** Entries with problems in the input (not sent). */
  invalid: number;
  /** Entries not sent because the import was interrupted (only when there are some). */
  not_sent?: number;
  /** Entries NetBox's lost answers leave in doubt: check them (only when there are some). */
  unknown?: number;
  /** Objects to delete (dry run) or deleted (only when there are some). */
  delete?: number;
  /** Deletes NetBox refused because other objects depend on them (only when there are some). */
  blocked?: number;
  /** Deletes not made: the object lost the scope tag meanwhile (only when there are some). */
  skipped?: number;
}

/** The document the task emits (`summary` + `items`). */
export type ImportReport = {
  summary: {
    dry_run: boolean;
    models: Record<string, ModelCounts>;
    create: number;
    update: number;
    unchanged: number;
    failed: number;
    invalid: number;
    /** Objects to delete (dry run) or deleted: `_state: absent` entries and pruned objects. */
    delete: number;
    /** Deletes NetBox refused because other objects depend on them (only when there are some). */
    blocked?: number;
    /** Deletes not made: the object lost the scope tag meanwhile (only when there are some). */
    skipped?: number;
    /** Why `prune` pruned nothing (only when it was asked for and skipped). */
    prune_skipped?: string;
    /** Entries not sent because the import was interrupted (only when there are some). */
    not_sent?: number;
    /** Entries NetBox's lost answers leave in doubt: check them (only when there are some). */
    unknown?: number;
    /**
     * Failed entries whose object someone else changed meanwhile: twice in an import, once since
     * the plan was made for a saved plan (only when some).
     */
    changed?: number;
  };
  items: Record<string, unknown>[];
};

/**
 * Builds the report of a plan (dry run) or of its outcome.
 *
 * @param plan The plan.
 * @param outcome The result of `applyPlan`, or undefined for a dry run.
 * @returns The summary and one item per entry.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { importReport } from "./report.ts";
 * const r = importReport({ items: [], problems: [] });
 * assert(r.summary.dry_run && r.summary.create === 0);
 * ```
 */
export function importReport(plan: ImportPlan, outcome?: ApplyResult): ImportReport {
  const models: Record<string, ModelCounts> = {};
  const totals: ModelCounts = { create: 0, update: 0, unchanged: 0, failed: 0, invalid: 0 };
  let changed = 0;
  // Deletes first, in the order they are made (reverse dependency order), then the rest.
  const deleting = (a: PlanItem) => a.action === "delete" ? 0 : 1;
  const ordered = [...plan.items].sort((a, b) =>
    deleting(a) - deleting(b) ||
    (a.action === "delete" ? b.model.order - a.model.order : a.model.order - b.model.order) ||
    a.uid - b.uid
  );
  const items = ordered.map((item) => {
    const o = outcome?.get(item.uid);
    const action = o
      ? ({
        created: "create",
        updated: "update",
        unchanged: "unchanged",
        deleted: "delete",
        blocked: "blocked",
        skipped: "skipped",
        failed: "failed",
        invalid: "invalid",
        "not-sent": "not-sent",
        unknown: "unknown",
      } as const)[o.status]
      : item.action;
    const counts = models[item.model.key] ??= {
      create: 0,
      update: 0,
      unchanged: 0,
      failed: 0,
      invalid: 0,
    };
    if (action === "not-sent") {
      counts.not_sent = (counts.not_sent ?? 0) + 1;
      totals.not_sent = (totals.not_sent ?? 0) + 1;
    } else if (action === "unknown") {
      counts.unknown = (counts.unknown ?? 0) + 1;
      totals.unknown = (totals.unknown ?? 0) + 1;
    } else if (action === "delete" || action === "blocked" || action === "skipped") {
      counts[action] = (counts[action] ?? 0) + 1;
      totals[action] = (totals[action] ?? 0) + 1;
    } else {
      counts[action]++;
      totals[action]++;
    }
    if (o?.changed) changed++;
    const l = item.entry.loc;
    const row: Record<string, unknown> = {
      model: item.model.key,
      name: item.label,
      action,
      id: o?.id ?? item.id ?? null,
      location: item.reason === "prune" ? null : `${l.file}:${l.line}:${l.column}`,
      changes: item.changes,
      message: o?.message ??
        (item.problems.length ? item.problems.map((p) => p.message).join("; ") : null),
    };
    if (item.action === "delete") {
      row.key = item.key ?? null;
      row.reason = item.reason === "prune" ? "pruned: not in files" : "_state: absent";
      if (o?.blockers) row.blockers = o.blockers;
      else if (!outcome && item.blockers) {
        row.blockers = item.blockers;
        row.message ??= `will be refused: NetBox would delete ${
          item.blockers.map((b) => `${b.model} ${b.name} (id ${b.id})`).join(", ")
        } with it, and this import does not delete ${
          item.blockers.length === 1 ? "that" : "those"
        }`;
      }
    }
    return row;
  });
  const { delete: deletes = 0, ...rest } = totals;
  return {
    summary: {
      dry_run: !outcome,
      models,
      ...rest,
      delete: deletes,
      ...(plan.pruneSkipped ? { prune_skipped: plan.pruneSkipped } : {}),
      ...(changed ? { changed } : {}),
    },
    items,
  };
}

const MARK: Record<string, string> = {
  create: "+",
  update: "~",
  delete: "-",
  blocked: "!",
  skipped: "=",
  failed: "!",
  invalid: "x",
  "not-sent": "-",
  unknown: "?",
};

/**
 * Renders the report as text: the per-model table, then the entries that change or failed.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { importReport, renderImportText } from "./report.ts";
 * const text = renderImportText(importReport({ items: [], problems: [] }));
 * assert(text.includes("MODEL"));
 * ```
 */
export function renderImportText(report: ImportReport): string {
  const dry = report.summary.dry_run;
  const s = report.summary;
  // The DELETE column only when something is deleted (or refused), so plain imports look as before.
  const del = !!(s.delete || s.blocked || s.skipped);
  const heads = dry
    ? ["MODEL", "CREATE", "UPDATE", ...(del ? ["DELETE"] : []), "UNCHANGED", "INVALID"]
    : ["MODEL", "CREATED", "UPDATED", ...(del ? ["DELETED"] : []), "UNCHANGED", "FAILED"];
  const row = (name: string, c: Omit<ModelCounts, "delete"> & { delete?: number }) => [
    name,
    String(c.create),
    String(c.update),
    ...(del ? [String(c.delete ?? 0)] : []),
    String(c.unchanged),
    String(dry ? c.invalid : c.failed + c.invalid + (c.blocked ?? 0)),
  ];
  const rows = Object.entries(report.summary.models).map(([m, c]) => row(m, c));
  rows.push(row("total", s));
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const out = [line(heads), ...rows.map(line)];
  const lines: string[] = [];
  const t = (value: unknown) => escapeControls(String(value));
  for (const item of report.items) {
    const mark = MARK[item.action as string];
    if (!mark) continue;
    if (item.reason) {
      const id = item.id === null ? "" : ` id ${item.id}`;
      const where = item.location ? `, ${t(item.location)}` : "";
      lines.push(
        `${mark} ${item.action} ${item.model} ${t(item.name)}  (${t(item.key)}${id}; ` +
          `${item.reason}${where})`,
      );
    } else {
      lines.push(`${mark} ${item.action} ${item.model} ${t(item.name)}  (${t(item.location)})`);
    }
    for (const c of item.changes as { field: string; old: string; new: string }[]) {
      lines.push(`    ${t(c.field)}: ${t(c.old)} → ${t(c.new)}`);
    }
    if (item.message) lines.push(`    ${t(item.message)}`);
  }
  if (s.not_sent) {
    out.push("", `not sent (interrupted): ${s.not_sent}; run the import again to finish`);
  }
  if (s.prune_skipped) out.push("", `not pruned: ${t(s.prune_skipped)}`);
  if (lines.length) out.push("", ...lines);
  return out.join("\n") + "\n";
}

/**
 * One line per problem, `file:line:column: message` (control characters shown visibly).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { renderProblems } from "./report.ts";
 * const t = renderProblems([{ loc: { file: "a.yaml", line: 1, column: 2 }, message: "bad" }]);
 * assert(t === "a.yaml:1:2: bad\n");
 * ```
 */
export function renderProblems(
  problems: { loc: { file: string; line: number; column: number }; message: string }[],
): string {
  return problems.map((p) => escapeControls(formatProblem(p)) + "\n").join("");
}
