/**
 * The verbs of `nb` over the library calls: each takes the task's context, the resolved list
 * path and the parsed words, and returns the exit code.
 *
 * @module
 */

import { EXIT, UsageError } from "./exit.ts";
import type { TaskContext } from "./task.ts";
import { parseFields, parseFilterWords, parseRecordFile, splitIds } from "./nb_args.ts";
import { chooseColumns, outcomeReport, streamListing } from "./nb_output.ts";
import { renderTable } from "./render.ts";
import { paginate } from "../client/paginate.ts";
import { getOne, type WriteOutcome } from "../client/where.ts";
import { modelName } from "../client/model_resolve.ts";
import type { Filters, NetBoxObject } from "../client/types.ts";

/** The flags the verbs read. */
export interface NbOpts {
  filter: string[];
  where: string[];
  fields?: string;
  brief?: boolean;
  omit?: string;
  limit?: string;
  sort?: string;
  file?: string;
  inputFormat?: string;
  ifMatch?: boolean;
  maxDeletes: string;
  chunkSize: string;
  output?: string;
  /** script run: the variables as JSON. */
  data?: string;
  /** script run: keep the changes. */
  commit?: boolean;
  /** script run: wait for the job (`--no-wait` turns it off). */
  wait?: boolean;
  /** script run: seconds to wait for the job. */
  waitTimeout?: string;
  /** graphql: the variables file. */
  variables?: string;
}

/** A positive whole number flag. */
export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`Cannot parse ${flag}: expected a positive whole number, got "${value}"`);
  }
  return n;
}

const list = (v?: string) => v?.split(",").map((s) => s.trim()).filter(Boolean);

/** The filters of the words and of `--filter`. */
export function filtersOf(words: string[], opts: NbOpts): Filters {
  const merged: Record<string, unknown> = { ...parseFilterWords(words) };
  for (const [k, v] of Object.entries(parseFilterWords(opts.filter))) {
    const before = merged[k];
    merged[k] = before === undefined ? v : [before, v].flat();
  }
  return merged as Filters;
}

/** `list`: streams NDJSON/CSV, collects the other formats. */
export async function listVerb(
  ctx: TaskContext,
  path: string,
  words: string[],
  opts: NbOpts,
): Promise<number> {
  const filters = filtersOf(words, opts);
  const limit = positiveInt(opts.limit, "--limit");
  const fields = list(opts.fields);
  const client = ctx.client();
  const listing = paginate<NetBoxObject>(client, path, filters, {
    fields,
    omit: list(opts.omit),
    brief: opts.brief,
    ordering: opts.sort,
    signal: ctx.stop,
    ...(limit ? { pageSize: Math.min(limit, 1000), parallel: false } : {}),
  });
  async function* limited() {
    let n = 0;
    if (limit === 0) return;
    for await (const item of listing) {
      yield item;
      if (limit && ++n >= limit) return;
    }
  }
  if (ctx.format === "ndjson" || ctx.format === "csv") {
    const pieces: string[] = [];
    const toFile = opts.output !== undefined && opts.output !== "-";
    await streamListing(limited(), ctx.format, (t) => {
      if (toFile) pieces.push(t);
      else ctx.io.stdout(t);
    }, fields);
    if (toFile) await ctx.writeResult(pieces);
    return EXIT.OK;
  }
  const items = await Array.fromAsync(limited());
  await ctx.emit(
    { summary: { model: modelName(path), count: items.length, filters }, items },
    { columns: chooseColumns(items[0], fields) },
  );
  return EXIT.OK;
}

/** The one object `get`, `render-config`, `trace` and `available` act on. */
export async function selectOne(
  ctx: TaskContext,
  path: string,
  words: string[],
  opts: NbOpts,
  what: string,
): Promise<NetBoxObject> {
  const { ids, rest } = splitIds(words);
  if (ids.length > 1 || (ids.length === 1 && rest.length) || (!ids.length && !rest.length)) {
    throw new UsageError(
      `Cannot ${what}: give one id or filters (name=value) that match one object`,
    );
  }
  const client = ctx.client();
  return await getOne(client, path, ids.length ? ids[0] : filtersOf(rest, opts), {
    fields: list(opts.fields),
    omit: list(opts.omit),
    brief: opts.brief,
  });
}

/** One object as a table: a row per field. */
export function objectTable(object: Record<string, unknown>): string {
  const rows = Object.entries(object).map(([field, value]) => ({ field, value }));
  return renderTable(rows, ["field", "value"]);
}

/** The records of `--file` (or `-`, standard input). */
export async function fileRecords(ctx: TaskContext, opts: NbOpts) {
  const text = await ctx.readInput(opts.file!);
  return parseRecordFile(text, opts.file!, opts.inputFormat);
}

/** Ids from `--file` records (`id` of each). */
export function recordIds(records: Record<string, unknown>[], file: string): number[] {
  return records.map((r, i) => {
    const id = r.id;
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
      throw new UsageError(`Cannot read ${file}: record ${i + 1} has no valid id`);
    }
    return id;
  });
}

/** The words of create/update: every one `field=value`. */
export function fieldsOf(words: string[], verb: string): Record<string, unknown> {
  if (!words.length) {
    throw new UsageError(`Cannot ${verb}: give the fields (field=value) or --file`);
  }
  return parseFields(words);
}

/** Reports the outcomes of a write; exit 1 when some failed or are unknown. */
export async function reportWrite(
  ctx: TaskContext,
  path: string,
  outcomes: WriteOutcome[],
): Promise<number> {
  const { summary, items, columns } = outcomeReport(modelName(path), outcomes, ctx.dryRun);
  await ctx.emit({ summary, items }, { columns });
  if (!ctx.quiet) {
    const parts = Object.entries(summary).filter(([_k, v]) => typeof v === "number" && v > 0)
      .map(([k, v]) => `${v} ${k.replace("_", " ")}`);
    ctx.info(`${summary.model}: ${parts.join(", ") || "nothing to do"}`);
  }
  return summary.failed || summary.unknown ? EXIT.ATTENTION : EXIT.OK;
}

/** A cable trace (`[[near…], cable, [far…]]` segments) as rows: near, cable, far by name. */
export function traceRows(answer: unknown): Record<string, unknown>[] {
  if (!Array.isArray(answer)) return [];
  const names = (end: unknown) =>
    [end].flat().filter(Boolean).map((o) => {
      const x = o as Record<string, unknown>;
      const parent = (x.device ?? x.circuit ?? x.power_panel) as
        | Record<string, unknown>
        | undefined;
      return `${parent ? `${parent.display ?? parent.name}:` : ""}${x.display ?? x.name ?? x.id}`;
    }).join(",");
  return answer.map((segment) => {
    const [near, cable, far] = Array.isArray(segment) ? segment : [];
    const c = cable as Record<string, unknown> | null;
    return {
      near: names(near),
      cable: c ? String(c.label || c.display || c.id) : "",
      far: names(far),
    };
  });
}
