/**
 * `nb` — any NetBox model from the shell: `nb <model> <verb> …` for every list endpoint of the
 * live NetBox (core and plugins; `dcim.devices`, `dcim/devices` and `devices` alike), with
 * list/get/count, create/update/delete (from arguments, filters or a file; dry run with field
 * diffs, If-Match, chunks with a result per object, a delete brake), choices, schema, detail
 * actions (render-config, trace, available), custom scripts and GraphQL.
 *
 * ```sh
 * deno task nb devices list site=matrix --fields name,status --format csv
 * deno task nb devices update 12 status=offline
 * deno task nb devices update --where site=matrix --where status=planned status=active --dry-run
 * deno task nb dcim.interfaces choices type
 * deno task nb graphql '{ site_list { name } }'
 * ```
 *
 * @module
 */

import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT, UsageError } from "../lib/cli/exit.ts";
import { collect, runTask, type TaskContext } from "../lib/cli/task.ts";
import { Option } from "../lib/deps_cli.ts";
import { parseMaxDeletes } from "../lib/cli/import_report.ts";
import { parseFields, RECORD_FORMATS, splitIds } from "../lib/cli/nb_args.ts";
import { VERB_HELP, verbHelp } from "../lib/cli/nb_help.ts";
import * as v from "../lib/cli/nb_verbs.ts";
import * as m from "../lib/cli/nb_more.ts";
import { closestNames } from "../lib/client/filter_guard.ts";
import { modelName, resolveModel } from "../lib/client/model_resolve.ts";
import { countObjects } from "../lib/client/paginate.ts";
import * as w from "../lib/client/where.ts";

interface Opts extends v.NbOpts {
  args: string[];
}

const VERBS = Object.keys(VERB_HELP).filter((x) => x !== "script" && x !== "graphql");

const SPEC = {
  name: "nb",
  description: "Any NetBox model from the shell: nb <model> <verb> … with verbs " +
    `${VERBS.join(", ")}; nb script run NAME; nb graphql QUERY. nb <model> <verb> --help ` +
    "shows a verb's usage and examples",
  writes: true,
  formats: ["table", "json", "ndjson", "yaml", "csv"],
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .argument(
        "[words...]",
        "<model> <verb> then ids, filters (name=value) or fields (field=value)",
      )
      .option("--filter <name=value>", "a filter (repeatable; a repeated name ORs)", collect, [])
      .option(
        "--where <name=value>",
        "update/delete: the objects to change (repeatable)",
        collect,
        [],
      )
      .option("--fields <a,b>", "only these fields (NetBox's ?fields=)")
      .option("--brief", "the brief representation")
      .option("--omit <a,b>", "leave these fields out (NetBox >= 4.5.2)")
      .option("--limit <n>", "list: at most N objects; available: at most N")
      .option("--sort <field>", "list: order by FIELD (-FIELD descending)")
      .option(
        "--file <path>",
        "create/update/delete: records from a JSON/YAML/CSV/NDJSON file, - for stdin",
      )
      .addOption(
        new Option("--input-format <format>", "format of --file (default: by extension)").choices([
          ...RECORD_FORMATS,
        ]),
      )
      .option("--if-match", "update: only objects unchanged since they were read (else refused)")
      .option(
        "--max-deletes <n>",
        "delete: stop before any write when more objects match (a number, or all)",
        "10",
      )
      .option("--chunk-size <n>", "objects per bulk request", "200")
      .option("--data <json>", "script run: the script's variables as a JSON object")
      .option("--commit", "script run: keep the script's changes")
      .option("--no-wait", "script run: do not wait for the job")
      .option(
        "--wait-timeout <seconds>",
        "script run: stop waiting after this long (exit 1, the job runs on)",
        "600",
      )
      .option("--variables <file>", "graphql: the query's variables (a JSON file)"),
  examples: Object.values(VERB_HELP).map((h) => h.examples[0]),
};

/** Runs the task; returns the exit code. */
export async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    const verb = args.find((a) => a in VERB_HELP);
    if (verb) return (io.stdout(verbHelp(verb)), EXIT.OK);
  }
  return await runTask<Opts>(SPEC, args, io, run);
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  let [model, verb, ...rest] = opts.args;
  if (model === "graphql") return await m.graphqlVerb(ctx, [verb, ...rest].filter(Boolean), opts);
  if (model === "script") return await m.scriptVerb(ctx, verb, rest, opts);
  if (model in VERB_HELP && verb !== undefined && !(verb in VERB_HELP)) {
    [model, verb] = [verb, model];
  }
  if (!model || !verb) {
    throw new UsageError(
      `Cannot run nb: give a model and a verb (nb <model> <verb> …); verbs: ${VERBS.join(", ")}`,
    );
  }
  if (!VERBS.includes(verb)) {
    const close = closestNames(verb, VERBS);
    throw new UsageError(
      `Cannot run nb: unknown verb "${verb}"${
        close.length ? `; did you mean ${close.join(", ")}?` : `; verbs: ${VERBS.join(", ")}`
      }`,
    );
  }
  checkWords(verb, rest, opts);
  const path = await resolveModel(ctx.client(), model);
  const client = ctx.client();
  const write = {
    dryRun: ctx.dryRun,
    ifMatch: !!opts.ifMatch,
    chunkSize: v.positiveInt(opts.chunkSize, "--chunk-size"),
    stop: ctx.stop,
  };
  switch (verb) {
    case "list":
      return await v.listVerb(ctx, path, rest, opts);
    case "count": {
      const n = await countObjects(client, path, v.filtersOf(rest, opts));
      if (ctx.format === "table") ctx.io.stdout(`${n}\n`);
      else {await ctx.emit({ summary: { model: modelName(path), count: n }, items: [] }, {
          columns: [],
        });}
      return EXIT.OK;
    }
    case "get": {
      const object = await v.selectOne(ctx, path, rest, opts, `get one ${modelName(path)}`);
      await ctx.emit({ summary: { model: modelName(path) }, items: [object] }, {
        columns: [],
        renderers: { table: () => v.objectTable(object) },
      });
      return EXIT.OK;
    }
    case "create": {
      const bodies = opts.file ? await v.fileRecords(ctx, opts) : [v.fieldsOf(rest, "create")];
      await ctx.assertCanWrite([{ path, action: "add" }]);
      return await v.reportWrite(ctx, path, await w.createObjects(client, path, bodies, write));
    }
    case "update": {
      let outcomes;
      if (opts.file) {
        const records = await v.fileRecords(ctx, opts);
        v.recordIds(records, opts.file);
        await ctx.assertCanWrite([{ path, action: "change" }]);
        outcomes = await w.updateObjects(
          client,
          path,
          records as ({ id: number } & Record<string, unknown>)[],
          write,
        );
      } else if (opts.where.length) {
        const fields = v.fieldsOf(rest, "update");
        await ctx.assertCanWrite([{ path, action: "change" }]);
        outcomes = await w.updateWhere(
          client,
          path,
          v.filtersOf([], { ...opts, filter: opts.where }),
          fields,
          write,
        );
      } else {
        const { ids, rest: words } = splitIds(rest);
        const fields = v.fieldsOf(words, "update");
        await ctx.assertCanWrite([{ path, action: "change" }]);
        outcomes = await w.updateObjects(client, path, ids.map((id) => ({ ...fields, id })), write);
      }
      return await v.reportWrite(ctx, path, outcomes);
    }
    case "delete": {
      const maxDeletes = parseMaxDeletes(opts.maxDeletes);
      const del = { ...write, maxDeletes };
      await ctx.assertCanWrite();
      const outcomes = opts.where.length
        ? await w.deleteWhere(client, path, v.filtersOf([], { ...opts, filter: opts.where }), del)
        : await w.deleteObjects(
          client,
          path,
          opts.file ? v.recordIds(await v.fileRecords(ctx, opts), opts.file) : splitIds(rest).ids,
          del,
        );
      if (ctx.dryRun && outcomes.length > maxDeletes) {
        ctx.warn(
          `without --dry-run this stops before any write: ${outcomes.length} objects match, more than --max-deletes ${maxDeletes}`,
        );
      }
      return await v.reportWrite(ctx, path, outcomes);
    }
    case "choices":
      return await m.choicesVerb(ctx, path, rest[0]);
    case "schema":
      return await m.schemaVerb(ctx, path);
    default: // render-config, trace, available
      return await m.detailVerb(ctx, path, verb, rest, opts);
  }
}

/** Words a verb does not take are refused before anything is sent. */
function checkWords(verb: string, rest: string[], opts: Opts): void {
  if (["choices", "schema"].includes(verb) && rest.length > (verb === "choices" ? 1 : 0)) {
    throw new UsageError(`Cannot run nb ${verb}: unexpected "${rest.at(-1)}"`);
  }
  if (["create", "update"].includes(verb) && !opts.file) {
    const { rest: words } = splitIds(rest);
    parseFields(words);
  }
  if (
    verb === "delete" && !opts.where.length && !opts.file &&
    (!rest.length || splitIds(rest).rest.length)
  ) {
    throw new UsageError("Cannot delete: give ids, --where filter=value (repeatable) or --file");
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
