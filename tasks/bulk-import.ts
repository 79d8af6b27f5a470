/**
 * `bulk-import` — idempotent import of NetBox objects from YAML, JSON and CSV files, in
 * dependency order, with a `--dry-run` plan of field diffs. Bad input writes nothing. Entries
 * with `_state: absent` are deleted; `--prune --scope-tag TAG` deletes what carries TAG and is in
 * no file. A plan deleting more than `--max-deletes` (10) objects stops before any write;
 * `--dry-run --plan-out FILE` saves the plan for review and `--apply-plan FILE` applies exactly it.
 *
 * ```sh
 * deno task bulk-import inventory.yaml --dry-run
 * deno task bulk-import sites.csv devices.csv    # CSV: the model from the file name, or --model
 * deno task bulk-import inventory/*.yaml --scope-tag netbox-as-code --prune --dry-run
 * deno task bulk-import inventory/*.yaml --scope-tag iac --prune --dry-run --plan-out plan.json
 * deno task bulk-import --apply-plan plan.json
 * ```
 *
 * @module
 */

import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { runTask, type TaskContext } from "../lib/cli/task.ts";
import { Option } from "../lib/deps_cli.ts";
import { ImportInputError, type InputFormat } from "../lib/import/parse.ts";
import { readImportFiles } from "../lib/cli/records.ts";
import {
  importOutput,
  parseMatchOn,
  parseMaxDeletes,
  refuseImport,
  warnDeleteLimit,
  writeImport,
} from "../lib/cli/import_report.ts";
import type { PlanOptions } from "../lib/import/plan.ts";
import { writeAtomic } from "../lib/cli/render.ts";
import { planWrites } from "../lib/import/plan_checks.ts";
import {
  applySavedPlan,
  parseSavedPlan,
  planOfSaved,
  reviewSavedPlan,
  savePlan,
} from "../lib/import/saved_plan.ts";
import { applyImport, planImport, readImportDocuments } from "../lib/import/import.ts";
import { importReport, renderProblems } from "../lib/import/report.ts";

interface Opts {
  args: string[];
  inputFormat?: InputFormat;
  model?: string;
  mode: "upsert" | "create-only" | "update-only";
  matchOn: string[];
  createMissingTags?: boolean;
  continueOnError?: boolean;
  chunkSize: string;
  scopeTag?: string;
  prune?: boolean;
  maxDeletes: string;
  planOut?: string;
  applyPlan?: string;
}

const SPEC = {
  name: "bulk-import",
  description:
    "Import NetBox objects from YAML/JSON/CSV files: dependency order, idempotent upsert by natural keys, --dry-run plan with field diffs; entries with `_state: absent` are deleted, and --prune --scope-tag TAG deletes what carries TAG but is in no file; more deletes than --max-deletes stop the run; --dry-run --plan-out FILE saves the plan for review, --apply-plan FILE applies exactly it",
  writes: true,
  formats: ["table", "json", "yaml", "csv"],
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .argument("[files...]", "YAML/JSON/CSV files, or - for standard input")
      .addOption(
        new Option("--input-format <format>", "format of the files (default: by extension)")
          .choices(["yaml", "json", "csv"]),
      )
      .option("--model <model>", "CSV: the model of every row (default: from the file name)")
      .addOption(
        new Option("--mode <mode>", "upsert, create-only or update-only")
          .choices(["upsert", "create-only", "update-only"]).default("upsert"),
      )
      .option(
        "--match-on <model=fields>",
        "natural key override, e.g. dcim.devices=name (repeatable)",
        (v: string, prev: string[]) => [...prev, v],
        [],
      )
      .option("--create-missing-tags", "create tags that do not exist yet")
      .option("--continue-on-error", "skip invalid entries instead of refusing the whole input")
      .option("--chunk-size <n>", "objects per bulk request", "200")
      .option(
        "--scope-tag <tag>",
        "tag every created/updated object with TAG (created if missing); deletes touch only " +
          "objects carrying it",
      )
      .option(
        "--prune",
        "also delete the objects carrying --scope-tag that are in no input file (reverse " +
          "dependency order; give every file)",
      )
      .option(
        "--max-deletes <n>",
        "stop before any write when the plan deletes more than N objects (a number, or all)",
        "10",
      )
      .option(
        "--plan-out <file>",
        "with --dry-run: also save the plan as JSON for review, to apply with --apply-plan",
      )
      .option(
        "--apply-plan <file>",
        "apply exactly the writes of a saved plan (no input files); objects changed since are " +
          "refused",
      ),
  examples: [
    "bulk-import inventory.yaml --dry-run",
    "bulk-import inventory/*.yaml --scope-tag netbox-as-code --prune --dry-run",
    "bulk-import inventory/*.yaml --scope-tag iac --prune --dry-run --plan-out plan.json",
    "bulk-import --apply-plan plan.json --max-deletes 25",
    "bulk-import inventory.yaml --format json > report.json",
    "bulk-import --model dcim.devices devices.csv",
    "cat ips.json | bulk-import --input-format json -",
  ],
};

/** Runs the task; returns the exit code. */
export async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  const chunkSize = Number(opts.chunkSize);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new UsageError(
      `Cannot parse --chunk-size: expected a positive integer, got "${opts.chunkSize}"`,
    );
  }
  const maxDeletes = parseMaxDeletes(opts.maxDeletes);
  if (opts.applyPlan !== undefined) return await runSavedPlan(ctx, opts, chunkSize, maxDeletes);
  if (!opts.args.length) {
    throw new UsageError("Cannot import: give the files to import (or --apply-plan FILE)");
  }
  if (opts.planOut !== undefined && !ctx.dryRun) {
    throw new UsageError(
      "Cannot save the plan without --dry-run: --dry-run --plan-out FILE saves it, " +
        "--apply-plan FILE applies it after review",
    );
  }
  if (opts.prune && !opts.scopeTag) {
    throw new UsageError(
      "Cannot prune without --scope-tag: prune deletes only objects carrying the tag this " +
        "import sets on what it manages (e.g. --scope-tag netbox-as-code --prune)",
    );
  }
  if (opts.scopeTag !== undefined && opts.scopeTag.trim() === "") {
    throw new UsageError("Cannot parse --scope-tag: expected a tag slug or name, got nothing");
  }
  if (opts.prune && opts.mode === "create-only") {
    throw new UsageError(
      "Cannot prune with --mode create-only, which leaves existing objects alone",
    );
  }
  const planOptions: PlanOptions = {
    mode: opts.mode,
    matchOn: parseMatchOn(opts.matchOn),
    createMissingTags: !!opts.createMissingTags,
    ...(opts.scopeTag ? { scopeTag: opts.scopeTag.trim() } : {}),
    ...(opts.prune ? { prune: true } : {}),
  };
  const documents = await readImportFiles(opts.args, ctx.readInput, {
    format: opts.inputFormat,
    model: opts.model,
  });
  let sections;
  try {
    sections = readImportDocuments(documents);
  } catch (err) {
    if (!(err instanceof ImportInputError)) throw err;
    return refuseImport(ctx, err.problems);
  }
  const client = ctx.client();
  // Before planning: NetBox's OPTIONS shows writable fields only to tokens that may write, so a
  // read-only token would otherwise be reported as "unknown field" errors in the input.
  await ctx.assertCanWrite();
  const plan = await planImport(client, sections, planOptions);
  if (plan.problems.length) {
    if (!opts.continueOnError) return refuseImport(ctx, plan.problems);
    ctx.io.stderr(renderProblems(plan.problems));
    ctx.warn(`skipping ${plan.items.filter((i) => i.action === "invalid").length} invalid entries`);
  }
  if (plan.pruneSkipped) ctx.warn(`not pruning: ${plan.pruneSkipped}`);
  if (ctx.dryRun) warnDeleteLimit(ctx, plan, maxDeletes);
  if (ctx.dryRun && opts.planOut !== undefined) {
    const saved = await savePlan(client, plan, { inputs: opts.args, now: ctx.io.now() });
    await writeAtomic(opts.planOut, JSON.stringify(saved, null, 2) + "\n");
    const { create, update, delete: del } = saved.summary;
    ctx.info(
      `plan saved to ${opts.planOut} (${create} to create, ${update} to update, ${del} to ` +
        `delete); after review: bulk-import --apply-plan ${opts.planOut}`,
    );
  }
  if (ctx.dryRun || !planWrites(plan)) {
    const report = importReport(plan);
    if (!ctx.dryRun) report.summary.dry_run = false;
    await ctx.emit(report, importOutput(report));
    return report.summary.invalid ? EXIT.ATTENTION : EXIT.OK;
  }
  return await writeImport(
    ctx,
    plan,
    false,
    (onProgress) =>
      applyImport(client, plan, {
        chunkSize,
        skipInvalid: true,
        stop: ctx.stop,
        maxDeletes,
        onProgress,
      }),
  );
}

/** `--apply-plan FILE`: exactly the writes of a saved plan, nothing planned again. */
async function runSavedPlan(
  ctx: TaskContext,
  opts: Opts,
  chunkSize: number,
  maxDeletes: number,
): Promise<number> {
  const file = opts.applyPlan!;
  const given = Object.entries({
    "input files": opts.args.length > 0,
    "--plan-out": opts.planOut !== undefined,
    "--scope-tag": opts.scopeTag !== undefined,
    "--prune": !!opts.prune,
    "--mode": opts.mode !== "upsert",
    "--match-on": opts.matchOn.length > 0,
    "--create-missing-tags": !!opts.createMissingTags,
  }).filter(([, on]) => on).map(([flag]) => flag);
  if (given.length) {
    throw new UsageError(
      `Cannot apply a saved plan with ${given.join(", ")}: the plan holds its writes and ` +
        "the options it was made with",
    );
  }
  const saved = parseSavedPlan(await ctx.readInput(file), file);
  const client = ctx.client();
  if (ctx.dryRun) {
    const plan = await reviewSavedPlan(client, saved, file);
    warnDeleteLimit(ctx, plan, maxDeletes);
    const report = importReport(plan);
    await ctx.emit(report, importOutput(report));
    return EXIT.OK;
  }
  return await writeImport(
    ctx,
    planOfSaved(saved),
    true,
    (onProgress) =>
      applySavedPlan(client, saved, { chunkSize, maxDeletes, stop: ctx.stop, file, onProgress }),
  );
}

if (import.meta.main) Deno.exit(await main(Deno.args));
