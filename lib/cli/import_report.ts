/**
 * What only the bulk-import task needs around `lib/import`: its `--match-on` and `--max-deletes`
 * values, the progress of a write, and how a plan or report reaches the user — the text/CSV
 * renderers, the warnings and refusals on stderr, and the exit code of a finished import.
 *
 * @module
 */

import { lookupModel } from "../import/models.ts";
import type { ImportProblem } from "../import/parse.ts";
import type { Change, ImportPlan } from "../import/plan.ts";
import {
  DeleteLimitError,
  plannedDeletes,
  plannedWrites,
  renderDeletes,
  writesOfPlan,
} from "../import/plan_checks.ts";
import { importFailures, importNeedsAttention } from "../import/import.ts";
import { type ImportReport, renderImportText, renderProblems } from "../import/report.ts";
import { EXIT, UsageError } from "./exit.ts";
import { renderDoc } from "./render.ts";
import type { TaskContext } from "./task.ts";

/**
 * Parses `--match-on MODEL=FIELD[,FIELD…]` values into the planner's `matchOn`.
 *
 * @param values the flag's values
 * @returns the fields to match on, by model key
 * @throws {UsageError} a value that is not `MODEL=FIELD…` with a known model
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseMatchOn } from "./import_report.ts";
 * assert(parseMatchOn(["sites=name, slug"])["dcim.sites"]?.join() === "name,slug");
 * ```
 */
export function parseMatchOn(values: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values) {
    const m = /^([^=]+)=(.+)$/.exec(v);
    const model = m ? lookupModel(m[1]) : undefined;
    if (!m || !model) {
      throw new UsageError(
        `Cannot parse --match-on "${v}": expected MODEL=FIELD[,FIELD…] with a known model`,
      );
    }
    out[model.key] = m[2].split(",").map((f) => f.trim()).filter(Boolean);
  }
  return out;
}

/**
 * Parses `--max-deletes`: a whole number, or `all`.
 *
 * @param value the flag's value
 * @returns the limit (`Infinity` for `all`)
 * @throws {UsageError} anything else
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseMaxDeletes } from "./import_report.ts";
 * assert(parseMaxDeletes("10") === 10 && parseMaxDeletes("ALL") === Infinity);
 * ```
 */
export function parseMaxDeletes(value: string): number {
  if (value.trim().toLowerCase() === "all") return Infinity;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || value.trim() === "") {
    throw new UsageError(
      `Cannot parse --max-deletes: expected a whole number or "all", got "${value}"`,
    );
  }
  return n;
}

/**
 * Writes a plan through `apply` (which refuses too many deletes before any write), with a
 * progress bar, and reports the outcome ({@linkcode finishImport}).
 *
 * @param ctx the task's context
 * @param plan the plan `apply` writes
 * @param saved whether it is a saved plan (`--apply-plan`)
 * @param apply the library call, given a progress callback
 * @returns the exit code
 */
export async function writeImport(
  ctx: TaskContext,
  plan: ImportPlan,
  saved: boolean,
  apply: (onProgress: (done: number) => void) => Promise<ImportReport>,
): Promise<number> {
  await ctx.assertCanWrite(writesOfPlan(plan));
  const bar = ctx.progress("importing", plannedWrites(plan).length);
  let last = 0;
  let report: ImportReport;
  try {
    report = await apply((done) => {
      bar.tick(done - last);
      last = done;
    });
  } catch (err) {
    if (!(err instanceof DeleteLimitError)) throw err;
    return refuseDeletes(ctx, err);
  } finally {
    bar.done();
  }
  return await finishImport(ctx, report, saved);
}

/**
 * Dry run: the plan is printed, with a warning when applying it would stop at the limit.
 *
 * @param ctx the task's context
 * @param plan the plan
 * @param maxDeletes `--max-deletes`
 */
export function warnDeleteLimit(ctx: TaskContext, plan: ImportPlan, maxDeletes: number): void {
  const n = plannedDeletes(plan).length;
  if (n <= maxDeletes) return;
  ctx.warn(
    `applying this plan would stop before any write: it deletes ${n} objects, more than ` +
      `--max-deletes ${maxDeletes}; if they are meant, add --max-deletes ${n} (or all)`,
  );
}

/** The deletes over the limit, listed, and one line on how to raise it: exit 2. */
function refuseDeletes(ctx: TaskContext, err: DeleteLimitError): number {
  ctx.io.stderr(renderDeletes(err.deletes));
  const n = err.deletes.length;
  ctx.io.stderr(
    `error: Cannot import: the plan deletes ${n} objects (listed above), more than ` +
      `--max-deletes ${err.limit}; nothing was written. If they are meant, run again with ` +
      `--max-deletes ${n} (or --max-deletes all)\n`,
  );
  return EXIT.USAGE;
}

/**
 * Prints what failed, emits the report, and maps it to the exit code.
 *
 * @param ctx the task's context
 * @param report the import's report
 * @param saved whether a saved plan was applied (`--apply-plan`)
 * @returns the exit code
 */
export async function finishImport(
  ctx: TaskContext,
  report: ImportReport,
  saved: boolean,
): Promise<number> {
  const failures = importFailures(report);
  if (failures) ctx.io.stderr(failures);
  await ctx.emit(report, importOutput(report));
  const changed = report.summary.changed;
  if (changed && saved) {
    ctx.io.stderr(
      `error: Cannot apply the plan to ${changed} object${changed === 1 ? "" : "s"}: ` +
        `changed in NetBox since the plan was made (see above; not written); the rest of the ` +
        "plan was applied. Make a new plan (--dry-run --plan-out) and review it\n",
    );
    return EXIT.REFUSED;
  }
  if (changed) {
    ctx.io.stderr(
      `error: Cannot import: ${changed} objects were changed by someone else ` +
        "while this import ran (twice); read the report, then run the import again\n",
    );
    return EXIT.REFUSED;
  }
  if (report.summary.blocked) {
    ctx.io.stderr(
      `error: Cannot delete ${report.summary.blocked} object${
        report.summary.blocked === 1 ? "" : "s"
      }: NetBox refused (other objects depend on them; see the report); the rest was done\n`,
    );
    return EXIT.REFUSED;
  }
  return importNeedsAttention(report) ? EXIT.ATTENTION : EXIT.OK;
}

// deno-fmt-ignore
const CSV_COLUMNS = ["model", "name", "action", "id", "key", "reason", "location", "changes", "message"];

/**
 * How an import report renders: text table, JSON/YAML as is, CSV one row per entry.
 *
 * @param report the report
 * @returns the options of `TaskContext.emit`
 */
export function importOutput(report: ImportReport): {
  columns: string[];
  renderers: { table: () => string; csv: () => string };
} {
  return {
    columns: [],
    renderers: {
      table: () => renderImportText(report),
      csv: () =>
        renderDoc(
          {
            netbox: { url: "", version: null },
            summary: report.summary,
            items: report.items.map((i) => ({
              ...i,
              changes: (i.changes as Change[]).map((c) => `${c.field}: ${c.old} → ${c.new}`)
                .join("; "),
            })),
          },
          "csv",
          CSV_COLUMNS,
        ),
    },
  };
}

/**
 * Problems in the input, listed, and one line saying nothing was written: exit 2.
 *
 * @param ctx the task's context
 * @param problems the problems
 * @returns the exit code
 */
export function refuseImport(ctx: TaskContext, problems: ImportProblem[]): number {
  ctx.io.stderr(renderProblems(problems));
  ctx.io.stderr(
    `error: Cannot import: ${problems.length} problem${
      problems.length === 1 ? "" : "s"
    } in the input; nothing was written\n`,
  );
  return EXIT.USAGE;
}
