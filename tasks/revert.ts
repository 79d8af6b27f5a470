/**
 * `revert` — undo the writes of a run, from NetBox's change log: the request ids its
 * `--audit-log` recorded (or a time window and user) select the changes; created objects are
 * deleted, updated ones patched back, deleted ones created again with their references and tags.
 * An object changed since by someone else is refused (exit 3, the difference shown) unless
 * `--force`; a created object others now refer to, unless `--cascade`. `--dry-run` prints every
 * write with its diff; `--audit-log` records the revert's own writes, so it can be reverted too.
 *
 * ```sh
 * deno task bulk-import inventory.yaml --audit-log run.log
 * deno task revert --from-audit-log run.log --dry-run
 * deno task revert --from-audit-log run.log --audit-log undo.log
 * deno task revert --since 2026-12-07T18:00:00Z --user admin --model dcim.device
 * ```
 *
 * @module
 */

import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { EXIT } from "../lib/cli/exit.ts";
import { collect, runTask, type TaskContext } from "../lib/cli/task.ts";
import {
  auditLogWrites,
  checkSelection,
  readChanges,
  type RevertSelection,
} from "../lib/revert/changes.ts";
import { planRevert, RevertRefusedError, type RevertStep, show } from "../lib/revert/plan.ts";
import { applyRevert, type RevertItem } from "../lib/revert/apply.ts";

interface Opts {
  requestId: string[];
  fromAuditLog: string[];
  since?: string;
  until?: string;
  user?: string;
  model?: string;
  force?: boolean;
  cascade?: boolean;
}

const COLUMNS = ["action", "model", "id", "name", "new_id", "outcome", "error"];

const SPEC = {
  name: "revert",
  description: "Undo the writes of a run from NetBox's change log: created objects deleted, " +
    "updated ones patched back, deleted ones created again (references and tags relinked); " +
    "objects changed since are refused unless --force",
  writes: true,
  // deno-lint-ignore no-explicit-any
  configure: (cmd: any) =>
    cmd
      .option(
        "--request-id <id>",
        "undo the changes of this request (NetBox's X-Request-ID; repeatable)",
        collect,
        [],
      )
      .option(
        "--from-audit-log <file>",
        "undo every successful write an --audit-log of a task recorded (repeatable)",
        collect,
        [],
      )
      .option("--since <time>", "undo the changes of --user from this time on (ISO 8601)")
      .option("--until <time>", "with --since: up to this time (default: now)")
      .option("--user <name>", "with --since: whose changes")
      .option("--model <app.model>", "only changes of this model, e.g. dcim.device, ipam.ipaddress")
      .option("--force", "undo changes also on objects changed since (overwrites the later change)")
      .option(
        "--cascade",
        "delete created objects also when others now refer to them (NetBox deletes or unlinks those)",
      ),
  examples: [
    "revert --from-audit-log run.log --dry-run",
    "revert --from-audit-log run.log --audit-log undo.log",
    "revert --from-audit-log undo.log",
    "revert --request-id 4f1c0f6e-2b0a-4c55-9d4e-6b7f3f1d2a10",
    "revert --since 2026-12-07T18:00:00Z --until 2026-12-07T19:00:00Z --user admin --model dcim.device",
  ],
};

async function main(args: string[], io: TaskIO = defaultIO()): Promise<number> {
  return await runTask<Opts>(SPEC, args, io, run);
}

async function run(ctx: TaskContext, opts: Opts): Promise<number> {
  const requestIds = [...opts.requestId];
  const times: string[] = [];
  for (const file of opts.fromAuditLog) {
    const log = auditLogWrites(await ctx.readInput(file), file);
    for (const id of log.ids) if (!requestIds.includes(id)) requestIds.push(id);
    if (log.first && log.last) times.push(log.first, log.last);
  }
  // The log's own times, widened for a clock apart from NetBox's (ids outside are read one by one).
  const window = times.length && !opts.requestId.length
    ? {
      since: new Date(Math.min(...times.map(Date.parse)) - 30_000).toISOString(),
      until: new Date(Math.max(...times.map(Date.parse)) + 30_000).toISOString(),
    }
    : undefined;
  const selection: RevertSelection = {
    ...(requestIds.length ? { requestIds } : {}),
    since: opts.since,
    until: opts.until,
    user: opts.user,
    model: opts.model,
  };
  // Checked before the client exists: a bad selection is a usage error with nothing sent.
  checkSelection(selection);
  const client = ctx.client();
  const changes = await readChanges(client, selection, { signal: ctx.stop, window });
  const plan = await planRevert(client, changes, {
    force: !!opts.force,
    cascade: !!opts.cascade,
  });
  for (const step of plan.steps) {
    if (step.overridden) ctx.warn(`${label(step)}: ${step.overridden} (undone anyway)`);
  }
  if (plan.refused.length) {
    for (const step of plan.refused) ctx.io.stderr(`refused: ${label(step)}: ${step.refusal}\n`);
    throw new RevertRefusedError(
      `Cannot revert: ${plan.refused.length} of ${plan.steps.length} objects cannot be put back ` +
        "as logged; nothing was written (--force undoes changed objects anyway, --cascade " +
        "deletes objects others refer to)",
    );
  }
  for (const s of plan.skipped) ctx.info(`skip ${s.model} ${s.name} (id ${s.id}): ${s.reason}`);
  let items: (Omit<RevertItem, "outcome"> & { outcome: RevertItem["outcome"] | "planned" })[];
  if (ctx.dryRun) {
    for (const step of plan.steps) ctx.info(`would ${describeWrite(step)}`);
    items = plan.steps.map((s) => ({
      action: s.action,
      model: s.model,
      id: s.id,
      name: s.name,
      new_id: null,
      outcome: "planned",
      error: null,
    }));
  } else {
    const writes = plan.steps.filter((s) => s.action !== "delete")
      .map((s) => ({
        path: s.path,
        action: s.action === "create" ? "add" as const : "change" as const,
      }));
    await ctx.assertCanWrite(
      writes.filter((w, i) =>
        writes.findIndex((o) => o.path === w.path && o.action === w.action) === i
      ),
    );
    const result = await applyRevert(client, plan, {
      stop: ctx.stop,
      onStep: (step) => ctx.info(describeWrite(step)),
    });
    items = result.items;
  }
  const count = (o: RevertItem["outcome"]) => items.filter((i) => i.outcome === o).length;
  const summary = {
    changes: plan.changes,
    objects: plan.steps.length,
    deleted: plan.steps.filter((s) => s.action === "delete").length,
    updated: plan.steps.filter((s) => s.action === "update").length,
    created: plan.steps.filter((s) => s.action === "create").length,
    skipped: plan.skipped.length,
    done: ctx.dryRun ? 0 : count("done"),
    failed: count("failed"),
    unknown: count("unknown"),
    not_sent: count("not-sent"),
    dry_run: ctx.dryRun,
  };
  for (const i of items) {
    if (i.error) ctx.io.stderr(`error: ${i.model} ${i.name} (id ${i.id}): ${i.error}\n`);
  }
  await ctx.emit({ summary, items: items.map((i) => ({ ...i })) }, { columns: COLUMNS });
  ctx.info(
    ctx.dryRun
      ? `${plan.steps.length} writes planned for ${plan.changes} changes (dry run: nothing sent)`
      : `${summary.done} of ${items.length} writes done${
        summary.failed ? `, ${summary.failed} failed` : ""
      }${
        summary.unknown ? `, ${summary.unknown} unknown (answer lost: check before re-running)` : ""
      }${summary.not_sent ? `, ${summary.not_sent} not sent` : ""}`,
  );
  return summary.failed || summary.unknown || summary.not_sent ? EXIT.ATTENTION : EXIT.OK;
}

function label(step: RevertStep): string {
  return `${step.model} ${step.name} (id ${step.id})`;
}

/** One write as printed: method, path and its diff. */
function describeWrite(step: RevertStep): string {
  if (step.action === "delete") return `DELETE ${step.path}${step.id}/ (${label(step)})`;
  const diff = step.changes.map((c) =>
    step.action === "create"
      ? `${c.field}=${show(c.after)}`
      : `${c.field} ${show(c.before)} → ${show(c.after)}`
  ).join(", ");
  return step.action === "create"
    ? `POST ${step.path} (${label(step)} again, new id): ${diff}`
    : `PATCH ${step.path}${step.id}/ (${label(step)}): ${diff}`;
}

export { main };

if (import.meta.main) Deno.exit(await main(Deno.args));
