/**
 * `bulk-import` — idempotent import of NetBox objects from YAML, JSON and CSV files, in
 * dependency order, with a `--dry-run` plan of field diffs. Bad input writes nothing. Entries
 * with `_state: absent` are deleted; `--prune --scope-tag TAG` deletes what carries TAG and is in
 * no file.
 *
 * ```sh
 * deno task bulk-import inventory.yaml --dry-run
 * deno task bulk-import sites.csv devices.csv    # CSV: the model from the file name, or --model
 * deno task bulk-import inventory/*.yaml --scope-tag netbox-as-code --prune --dry-run
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
import type { Change, PlanOptions } from "../lib/import/plan.ts";
import { renderDoc } from "../lib/cli/render.ts";
import {
  applyImport,
  type ImportDocument,
  planImport,
  readImportDocuments,
} from "../lib/import/import.ts";
import {
  type ImportReport,
  importReport,
  renderImportText,
  renderProblems,
} from "../lib/import/report.ts";

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
}

const SPEC = {
  name: "bulk-import",
  description:
    "Import NetBox objects from YAML/JSON/CSV files: dependency order, idempotent upsert by natural keys, --dry-run plan with field diffs; entries with `_state: absent` are deleted, and --prune --scope-tag TAG deletes what carries TAG but is in no file",
  writes: true,
  formats: ["table", "json", "yaml", "csv"],
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
      ),
  examples: [
    "bulk-import inventory.yaml --dry-run",
    "bulk-import inventory/*.yaml --scope-tag netbox-as-code --prune --dry-run",
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
  if (plan.pruneSkipped) ctx.warn(`not pruning: ${plan.pruneSkipped}`);
  const writes = plan.items.some((i) =>
    i.action === "create" || i.action === "update" || i.action === "delete" ||
    Object.keys(i.deferred).length
  );
  if (ctx.dryRun || !writes) {
    const report = importReport(plan);
    if (!ctx.dryRun) report.summary.dry_run = false;
    await ctx.emit(report, outputOf(report));
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
  const total =
    plan.items.filter((i) =>
      i.action === "create" || i.action === "update" || i.action === "delete"
    ).length;
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
    if (["failed", "unknown", "blocked", "skipped"].includes(item.action as string)) {
      const where = item.location ?? `${item.reason} (${item.key}, id ${item.id})`;
      const what = `${where}: ${item.model} ${item.name}: ${item.message}`;
      ctx.io.stderr(`${escapeControls(what)}\n`);
    }
  }
  await ctx.emit(report, outputOf(report));
  if (report.summary.changed) {
    ctx.io.stderr(
      `error: Cannot import: ${report.summary.changed} objects were changed by someone else ` +
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
  return report.summary.failed || report.summary.invalid || report.summary.unknown ||
      report.summary.skipped
    ? EXIT.ATTENTION
    : EXIT.OK;
}

const CSV_COLUMNS = [
  "model",
  "name",
  "action",
  "id",
  "key",
  "reason",
  "location",
  "changes",
  "message",
];

/** How the report renders: text table, JSON/YAML as is, CSV one row per entry. */
function outputOf(report: ImportReport) {
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
