/**
 * A task that keeps running on a cron schedule until Ctrl-C/SIGTERM (or `maxRuns`): each run's
 * failure is logged and the schedule continues; the exit code is the last run's.
 *
 * @module
 */

import { runOnSchedule, type Scheduler } from "../audit/schedule.ts";
import { escapeControls } from "../base/safe_text.ts";
import { cliMessage, EXIT, exitCodeOf, UsageError } from "./exit.ts";
import type { TaskContext } from "./task.ts";

/** What {@linkcode runScheduled} runs. */
export interface ScheduledRun {
  /** The task's name, for log lines. */
  name: string;
  /** The cron pattern. */
  pattern: string;
  /** `--max-runs` as given: stop after that many runs. */
  maxRuns?: string;
  /** Stops the schedule (tests); else SIGINT and SIGTERM do. */
  signal?: AbortSignal;
  /** The scheduler (tests). @default croner */
  scheduler?: Scheduler;
  /** One run; returns its exit code. */
  once: (run: number) => Promise<number>;
}

/**
 * Runs `once` on the schedule and returns the exit code of the last run.
 *
 * @param ctx the task context (log lines, clock)
 * @param run the schedule and the work
 * @returns the last run's exit code (4 after a failed run, 2 for an input error)
 *
 * @example
 * ```ts ignore
 * const code = await runScheduled(ctx, { name: "audit-ips", pattern: "0 * * * *", once: () => audit() });
 * ```
 */
export async function runScheduled(ctx: TaskContext, run: ScheduledRun): Promise<number> {
  let maxRuns: number | undefined;
  if (run.maxRuns !== undefined) {
    maxRuns = Number(run.maxRuns);
    if (!Number.isInteger(maxRuns) || maxRuns < 1) {
      throw new UsageError(
        `Cannot parse --max-runs: expected a positive integer, got "${run.maxRuns}"`,
      );
    }
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = run.signal ? [] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  run.signal?.addEventListener("abort", onSignal);
  let last: number = EXIT.OK;
  ctx.info(
    `${run.name}: running on schedule "${run.pattern}"${maxRuns ? ` for ${maxRuns} runs` : ""}`,
  );
  try {
    await runOnSchedule(run.pattern, async (n) => {
      try {
        last = await run.once(n);
      } catch (err) {
        const message = escapeControls(
          err instanceof Error ? cliMessage(err.message) : String(err),
        );
        ctx.io.stderr(`${run.name}: ${ctx.io.now().toISOString()} run ${n} failed: ${message}\n`);
        last = exitCodeOf(err);
      }
    }, { signal: stop.signal, maxRuns, scheduler: run.scheduler });
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    run.signal?.removeEventListener("abort", onSignal);
  }
  return last;
}
