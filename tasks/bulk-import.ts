/**
 * `bulk-import` — idempotent import of NetBox objects from YAML, JSON and CSV files, in
 * dependency order, with a `--dry-run` plan of field diffs. Bad input writes nothing.
 *
 * ```sh
 * deno task bulk-import inventory.yaml --dry-run
 * deno task bulk-import sites.csv devices.csv --model-from-name
 * ```
 *
 * @module
 */

import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { runTask, type TaskContext } from "../lib/cli/task.ts";
import { escapeControls } from "../lib/client/safe_text.ts";
import { Option } from "../lib/deps.ts";
import type { ModelWrite } from "../lib/client/permissions.ts";
import {
  formatFromPath,
  ImportInputError,
  type ImportProblem,
  type ImportSection,
  type InputFormat,
} from "../lib/import/parse.ts";
import { lookupModel } from "../lib/import/models.ts";
import type { PlanOptions } from "../lib/import/plan.ts";
import {
  applyImport,
  type ImportDocument,
  planImport,
  readImportDocuments,
} from "../lib/import/import.ts";
import { importReport, renderImportText, renderProblems } from "../lib/import/report.ts";

interface Opts {
  args: string[];
  inputFormat?: InputFormat;
  model?: string;
  mode: "upsert" | "create-only" | "update-only";
  matchOn: string[];
  createMissingTags?: boolean;
  continueOnError?: boolean;
  chunkSize: string;
}

const SPEC = {
  name: "bulk-import",
  description:
    "Import NetBox objects from YAML/JSON/CSV files: dependency order, idempotent upsert by natural keys, --dry-run plan with field diffs",
  writes: true,
  formats: ["table", "json", "yaml"],
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .argument("<files...>", "YAML/JSON/CSV files, or - for standard input")
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
      .option("--chunk-size <n>", "objects per bulk request", "200"),
  examples: [
    "bulk-import inventory.yaml --dry-run",
    "bulk-import inventory.yaml --format json > report.json",
    "bulk-import --model dcim.devices devices.csv",
    "cat ips.json | bulk-import --input-format json -",
  ],
};

/** Runs the task; returns the exit code. */
export async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

function parseMatchOn(values: string[]): Record<string, string[]> {
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

/** `01-dcim.sites.csv` → `dcim.sites`. */
function modelFromName(path: string): string | undefined {
  const base = path.split("/").pop()!.replace(/\.[^.]+$/, "").replace(/^\d+[-_]/, "");
  return lookupModel(base) ? base : undefined;
}

async function readAll(ctx: TaskContext, opts: Opts): Promise<ImportDocument[]> {
  const documents: ImportDocument[] = [];
  for (const path of opts.args) {
    const format = opts.inputFormat ?? formatFromPath(path);
    if (!format) {
      throw new UsageError(
        `Cannot read ${path}: unknown format; name it .yaml/.json/.csv or pass --input-format`,
      );
    }
    const text = await ctx.readInput(path);
    const file = path === "-" ? "<stdin>" : path;
    const model = format === "csv" ? opts.model ?? modelFromName(path) : undefined;
    documents.push({ text, file, format, model });
  }
  return documents;
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  const chunkSize = Number(opts.chunkSize);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new UsageError(
      `Cannot parse --chunk-size: expected a positive integer, got "${opts.chunkSize}"`,
    );
  }
  const planOptions: PlanOptions = {
    mode: opts.mode,
    matchOn: parseMatchOn(opts.matchOn),
    createMissingTags: !!opts.createMissingTags,
  };
  let sections: ImportSection[];
  try {
    sections = readImportDocuments(await readAll(ctx, opts));
  } catch (err) {
    if (!(err instanceof ImportInputError)) throw err;
    return refuse(ctx, err.problems);
  }
  const client = ctx.client();
  // Before planning: NetBox's OPTIONS shows writable fields only to tokens that may write, so a
  // read-only token would otherwise be reported as "unknown field" errors in the input.
  await ctx.assertCanWrite();
  const plan = await planImport(client, sections, planOptions);
  if (plan.problems.length) {
    if (!opts.continueOnError) return refuse(ctx, plan.problems);
    ctx.io.stderr(renderProblems(plan.problems));
    ctx.warn(`skipping ${plan.items.filter((i) => i.action === "invalid").length} invalid entries`);
  }
  const writes = plan.items.some((i) =>
    i.action === "create" || i.action === "update" || Object.keys(i.deferred).length
  );
  if (ctx.dryRun || !writes) {
    const report = importReport(plan);
    if (!ctx.dryRun) report.summary.dry_run = false;
    await ctx.emit(report, { columns: [], renderers: { table: () => renderImportText(report) } });
    return report.summary.invalid ? EXIT.ATTENTION : EXIT.OK;
  }
  const writesNeeded = new Map<string, ModelWrite>();
  for (const item of plan.items) {
    if (item.action !== "create" && item.action !== "update") continue;
    const action = item.action === "create" ? "add" : "change";
    writesNeeded.set(`${action} ${item.model.path}`, { path: item.model.path, action });
    if (Object.keys(item.deferred).length) {
      writesNeeded.set(`change ${item.model.path}`, { path: item.model.path, action: "change" });
    }
  }
  await ctx.assertCanWrite([...writesNeeded.values()]);
  const total = plan.items.filter((i) => i.action === "create" || i.action === "update").length;
  const bar = ctx.progress("importing", total);
  let last = 0;
  const report = await applyImport(client, plan, {
    chunkSize,
    skipInvalid: true,
    stop: ctx.stop,
    onProgress: (done) => {
      bar.tick(done - last);
      last = done;
    },
  });
  bar.done();
  for (const item of report.items) {
    if (item.action === "failed" || item.action === "unknown") {
      const what = `${item.location}: ${item.model} ${item.name}: ${item.message}`;
      ctx.io.stderr(`${escapeControls(what)}\n`);
    }
  }
  await ctx.emit(report, { columns: [], renderers: { table: () => renderImportText(report) } });
  if (report.summary.changed) {
    ctx.io.stderr(
      `error: Cannot import: ${report.summary.changed} objects were changed by someone else ` +
        "while this import ran (twice); read the report, then run the import again\n",
    );
    return EXIT.REFUSED;
  }
  return report.summary.failed || report.summary.invalid || report.summary.unknown
    ? EXIT.ATTENTION
    : EXIT.OK;
}

function refuse(ctx: TaskContext, problems: ImportProblem[]): number {
  ctx.io.stderr(renderProblems(problems));
  ctx.io.stderr(
    `error: Cannot import: ${problems.length} problem${
      problems.length === 1 ? "" : "s"
    } in the input; nothing was written\n`,
  );
  return EXIT.USAGE;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
