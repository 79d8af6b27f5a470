/**
 * The verbs of `nb` beyond list and write: choices, schema, the detail actions (render-config,
 * trace, available), GraphQL queries and custom scripts.
 *
 * @module
 */

import { EXIT, UsageError } from "./exit.ts";
import type { TaskContext } from "./task.ts";
import { parseFields } from "./nb_args.ts";
import { chooseColumns } from "./nb_output.ts";
import { type NbOpts, positiveInt, selectOne, traceRows } from "./nb_verbs.ts";
import { renderTable } from "./render.ts";
import { DETAIL_ACTIONS, detailAction, graphql, runScript } from "../client/actions.ts";
import { choices, schema } from "../client/meta.ts";
import { modelName } from "../client/model_resolve.ts";

/** `nb <model> choices [field]`. */
export async function choicesVerb(ctx: TaskContext, path: string, field?: string): Promise<number> {
  const found = await choices(ctx.client(), path, field);
  const items = Object.entries(found).flatMap(([field, list]) =>
    list.map((c) => ({ field, ...c }))
  );
  await ctx.emit({
    summary: { model: modelName(path), fields: Object.keys(found).length },
    items,
  }, { columns: ["field", "value", "label"] });
  return EXIT.OK;
}

/** `nb <model> schema`: the fields (table: writable ones) and the filters with lookups. */
export async function schemaVerb(ctx: TaskContext, path: string): Promise<number> {
  const s = await schema(ctx.client(), path);
  const items = s.fields.map((f) => ({ ...f, choices: f.choices?.map((c) => c.value) }));
  const filters = (s.filters ?? []).map((f) =>
    `${f.name}${f.lookups.length ? ` (${f.lookups.join(" ")})` : ""}`
  );
  await ctx.emit({
    summary: { model: modelName(path), fields: items.length },
    items,
    filters: s.filters ?? null,
  }, {
    columns: ["name", "type", "required", "readOnly", "label", "choices"],
    renderers: {
      table: (doc) =>
        renderTable(doc.items.filter((f) => !f.readOnly), ["name", "type", "required", "choices"]) +
        (filters.length ? `\nFilters:\n${filters.map((f) => `  ${f}`).join("\n")}\n` : ""),
    },
  });
  return EXIT.OK;
}

/** `nb <model> render-config|trace|available <id | filters> [kind]`. */
export async function detailVerb(
  ctx: TaskContext,
  path: string,
  verb: string,
  rest: string[],
  opts: NbOpts,
): Promise<number> {
  const client = ctx.client();
  // render-config, trace, available
  const known = DETAIL_ACTIONS[path] ?? [];
  let [action, words] = [verb === "trace" && known.includes("paths") ? "paths" : verb, rest];
  if (verb === "available") {
    const kind = /^[a-z]+$/.test(rest.at(-1) ?? "") ? rest.at(-1) : undefined;
    if (kind) words = rest.slice(0, -1);
    action = kind ? `available-${kind}` : known.find((a) => a.startsWith("available-")) ?? verb;
  }
  const limit = positiveInt(opts.limit, "--limit");
  const object = await selectOne(
    ctx,
    path,
    words,
    { ...opts, fields: "id,display" },
    `${verb} ${modelName(path)}`,
  );
  const answer = await detailAction(
    client,
    path,
    object.id,
    action,
    limit ? { query: { limit: String(limit) } } : {},
  );
  const items = action === "trace" || action === "paths"
    ? traceRows(answer)
    : [answer].flat() as Record<string, unknown>[];
  const text = (answer as { content?: unknown })?.content;
  await ctx.emit({ summary: { model: modelName(path), id: object.id, action }, items }, {
    columns: chooseColumns(items[0], undefined, true),
    renderers: typeof text === "string"
      ? { table: () => text.endsWith("\n") ? text : `${text}\n` }
      : {},
  });
  return EXIT.OK;
}

/** See `nb --help`. */
export async function graphqlVerb(
  ctx: TaskContext,
  words: string[],
  opts: NbOpts,
): Promise<number> {
  if (words.length !== 1) {
    throw new UsageError("Cannot run a GraphQL query: give the query as one argument");
  }
  let variables: Record<string, unknown> | undefined;
  if (opts.variables) {
    try {
      variables = JSON.parse(await ctx.readInput(opts.variables));
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new UsageError(`Cannot read ${opts.variables}: ${err.message}`);
    }
  }
  const answer = await graphql(ctx.client(), words[0], variables);
  const doc = {
    netbox: { url: ctx.client().baseUrl, version: (await ctx.client().status()).version },
    ...answer,
  };
  await ctx.writeResult(JSON.stringify(doc, null, 2) + "\n");
  for (const e of answer.errors ?? []) ctx.warn(`GraphQL: ${e.message}`);
  return answer.errors?.length ? EXIT.ATTENTION : EXIT.OK;
}

/** See `nb --help`. */
export async function scriptVerb(
  ctx: TaskContext,
  sub: string | undefined,
  words: string[],
  opts: NbOpts,
): Promise<number> {
  const [name, ...vars] = words;
  if (sub !== "run" || !name) {
    throw new UsageError(
      "Cannot run a script: nb script run <id | module.ClassName | name> [var=value …]",
    );
  }
  let data: Record<string, unknown> = parseFields(vars);
  if (opts.data) {
    try {
      data = { ...JSON.parse(opts.data), ...data };
    } catch (err) {
      throw new UsageError(`Cannot parse --data: ${(err as Error).message}`);
    }
  }
  if (ctx.dryRun) {
    throw new UsageError(
      "Cannot run a script with --dry-run: run it without --commit instead (NetBox rolls its changes back)",
    );
  }
  const waitSeconds = positiveInt(opts.waitTimeout ?? "600", "--wait-timeout")!;
  const result = await runScript(ctx.client(), name, {
    data,
    commit: !!opts.commit,
    wait: opts.wait,
    timeoutMs: waitSeconds * 1000,
    signal: ctx.stop,
  });
  const items = result.log.map((l) => ({ status: l.status ?? "", message: l.message ?? "" }));
  await ctx.emit({
    summary: {
      script: result.script.name ?? name,
      job: result.jobId,
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
    },
    items,
    ...(result.output !== undefined ? { output: result.output } : {}),
  }, { columns: ["status", "message"] });
  ctx.info(`job ${result.jobId}: ${result.status}${result.error ? ` (${result.error})` : ""}`);
  if (opts.wait !== false && !["completed", "errored", "failed"].includes(result.status)) {
    // NetBox's RQ worker had not run it yet (its queue is shared with every background job).
    ctx.warn(
      `job ${result.jobId} is still ${result.status} after ${waitSeconds} s; follow it at ` +
        `${ctx.client().baseUrl}/core/jobs/${result.jobId}/`,
    );
    return EXIT.ATTENTION;
  }
  return ["errored", "failed"].includes(result.status) ? EXIT.ATTENTION : EXIT.OK;
}
