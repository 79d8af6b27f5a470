/**
 * `export` — NetBox → the YAML/JSON/CSV documents `bulk-import` reads: chosen models and
 * filters, or a whole site/tenant/VRF/tag with what it references; references by natural key,
 * stable order and formatting for `git diff`. Reads only (a read-only token is enough).
 *
 * ```sh
 * deno task export --site matrix --output matrix.yaml
 * deno task export --model dcim.devices --filter site=matrix --format json
 * deno task export --tag netbox-as-code --format csv --output inventory/
 * ```
 *
 * @module
 */

import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { collect, parseFilterPairs, runTask, type TaskContext } from "../lib/cli/task.ts";
import { writeAtomic } from "../lib/cli/render.ts";
import { InputError } from "../lib/client/errors.ts";
import type { Filters } from "../lib/client/types.ts";
import { Option } from "../lib/deps_cli.ts";
import {
  exportDocuments,
  ExportFilterError,
  type ExportFormat,
  ExportScopeError,
  renderExport,
  resolveExportModels,
  sectionName,
} from "../lib/import/export.ts";
import { MODELS } from "../lib/import/models.ts";

interface Opts {
  args: string[];
  format: ExportFormat;
  output?: string;
  model: string[];
  filter: string[];
  site: string[];
  tenant: string[];
  tag: string[];
  vrf: string[];
  dependencies?: boolean;
  pageSize: string;
  strict?: boolean;
}

const SPEC = {
  name: "export",
  description:
    "Export NetBox objects as the YAML/JSON/CSV documents bulk-import reads: references by natural key, stable order for git diff; reads only",
  formats: ["yaml", "json", "csv"],
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) => {
    // The export's own default format is YAML (the common flag's default is "table").
    const format = cmd.options.find((o: { long?: string }) => o.long === "--format");
    if (format) {
      format.defaultValue = "yaml";
      // Export CSV is for re-import: exact, with no formula guard (unlike report CSV).
      format.description = "output format: yaml, json, or csv (one file per model, written " +
        "exactly as NetBox holds it: no formula guard; several models need --output DIR)";
    }
    cmd.setOptionValueWithSource("format", "yaml", "default");
    return cmd
      .option(
        "--model <model>",
        "a model to export, e.g. dcim.devices or ip_addresses (repeatable; default: all)",
        collect,
        [],
      )
      .option(
        "--filter <key=value>",
        "NetBox filter sent with every chosen model's listing (repeatable)",
        collect,
        [],
      )
      .option("--site <slug>", "a whole site with what it references (repeatable)", collect, [])
      .option(
        "--tenant <slug>",
        "everything of a tenant with what it references (repeatable)",
        collect,
        [],
      )
      .option("--tag <slug>", "everything tagged with it, with what it references", collect, [])
      .option(
        "--vrf <name>",
        "a VRF with its prefixes, ranges and addresses (repeatable)",
        collect,
        [],
      )
      .addOption(
        new Option(
          "--dependencies",
          "also export what the objects reference (default with --site/--tenant/--tag/--vrf)",
        ),
      )
      .addOption(new Option("--no-dependencies", "export only the objects chosen"))
      .option("--page-size <n>", "objects per page", "1000")
      .option(
        "--strict",
        "exit 1 when anything the chosen objects reference or hold could not be exported",
      );
  },
  examples: [
    "export --site matrix --output matrix.yaml",
    "export --model dcim.devices --filter site=matrix --format json",
    "export --tag netbox-as-code --format csv --output inventory/",
    "export --model ip_addresses --filter parent=192.168.3.0/24 --no-dependencies",
  ],
};

/** Runs the task; returns the exit code. */
export async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  if (opts.args?.length) {
    throw new UsageError(
      `Cannot parse arguments: unexpected "${opts.args[0]}"; export takes only flags ` +
        "(--model, --filter, --site, --tenant, --tag, --vrf)",
    );
  }
  const pageSize = Number(opts.pageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new UsageError(
      `Cannot parse --page-size: expected a positive integer, got "${opts.pageSize}"`,
    );
  }
  let models;
  try {
    models = resolveExportModels(opts.model);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new UsageError(err.message.replace(/^Cannot export: /, "Cannot parse --model: "));
  }
  const filters: Filters = parseFilterPairs(opts.filter);
  if (opts.format === "csv") checkCsvOutput(opts, models.length);
  const client = ctx.client();
  let result;
  try {
    result = await exportDocuments(client, {
      models: opts.model,
      filters,
      scope: { sites: opts.site, tenants: opts.tenant, tags: opts.tag, vrfs: opts.vrf },
      dependencies: opts.dependencies,
      pageSize,
    });
  } catch (err) {
    if (err instanceof ExportFilterError) {
      throw new UsageError(
        `Cannot use --filter ${opts.filter.join(" --filter ")} for ${err.model}: ${
          err.reason.replace(/^Cannot [^:]*: /, "").replace(/; set strictFilters.*$/, "")
        }`,
      );
    }
    if (err instanceof ExportScopeError) {
      const flag =
        { sites: "--site", tenants: "--tenant", tags: "--tag", vrfs: "--vrf" }[err.scope];
      throw new UsageError(
        `Cannot use ${flag} ${err.value}: ${err.message.replace(/^Cannot export: /, "")}`,
      );
    }
    throw err;
  }
  for (const w of result.warnings) {
    ctx.warn(
      `${w.model}: ${w.field} not exported for ${w.count} object${
        w.count === 1 ? "" : "s"
      } (e.g. ${w.example}): ${w.reason}`,
    );
  }
  const counts = result.sections.map((s) => `${s.name} ${s.entries.length}`);
  const total = result.sections.reduce((n, s) => n + s.entries.length, 0);
  const docs = renderExport(result, opts.format, {
    emptyModels: opts.model.length ? models : [],
  });
  if (opts.format === "csv") {
    for (const d of docs) {
      for (const field of d.dropped ?? []) {
        ctx.warn(`${d.model}: ${field} left out of ${d.file} (CSV cannot express it; use yaml)`);
      }
    }
    if (!severalCsv(opts, models.length) && !isDir(opts.output)) {
      await ctx.writeResult(docs[0].text);
    } else {
      const dir = opts.output!;
      await Deno.mkdir(dir, { recursive: true });
      for (const d of docs) await writeAtomic(`${dir.replace(/\/+$/, "")}/${d.file}`, d.text);
    }
  } else await ctx.writeResult(docs[0].text);
  // Never a silent loss: what was left out is named in the summary too, counted per model.
  const lost = new Map<string, number>();
  for (const w of result.warnings) lost.set(w.model, (lost.get(w.model) ?? 0) + w.count);
  const notExported = [...lost].map(([m, n]) => `${m} ${n}`).join(", ");
  ctx.info(
    `exported ${total} objects${counts.length ? `: ${counts.join(", ")}` : ""}${
      lost.size ? `; fields not exported (see above): ${notExported}` : ""
    }`,
  );
  if (opts.strict && lost.size) {
    ctx.warn(`--strict: ${result.warnings.length} kind(s) of data could not be exported`);
    return EXIT.ATTENTION;
  }
  return EXIT.OK;
}

function isDir(path: string | undefined): boolean {
  if (!path || path === "-") return false;
  if (path.endsWith("/")) return true;
  try {
    return Deno.statSync(path).isDirectory;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Whether the CSV export gives several files (one per model). */
function severalCsv(opts: Opts, models: number): boolean {
  const scoped = opts.site.length + opts.tenant.length + opts.tag.length + opts.vrf.length > 0;
  return models !== 1 || opts.dependencies === true || (scoped && opts.dependencies !== false);
}

/** CSV is one file per model: several models need `--output DIR`. */
function checkCsvOutput(opts: Opts, models: number): void {
  if (severalCsv(opts, models) && (!opts.output || opts.output === "-")) {
    throw new UsageError(
      "Cannot write CSV: several models give one file each; pass --output DIR " +
        `(e.g. --output inventory/), or one --model (one of ${
          MODELS.map(sectionName).slice(0, 6).join(", ")
        }, …) without dependencies`,
    );
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
