/**
 * The `--schedule CRON` loop of the IP address audit: runs a job on a cron schedule (croner)
 * until stopped or after a number of runs. The scheduler is injectable so tests never wait for
 * the clock.
 *
 * @module
 */

import { Cron } from "../deps.ts";

/** Starts calling `tick` on a schedule; returns how to stop. */
export type Scheduler = (pattern: string, tick: () => void) => { stop(): void };

/** The real scheduler: croner, with overlapping runs prevented by the loop itself. */
export const cronScheduler: Scheduler = (pattern, tick) => {
  const job = new Cron(pattern, tick);
  return { stop: () => job.stop() };
};

/**
 * Checks a cron pattern without scheduling anything.
 *
 * @throws {TypeError} With croner's reason when the pattern is invalid.
 */
export function checkCronPattern(pattern: string): void {
  new Cron(pattern, { paused: true }).stop();
}

/** Options of {@linkcode runOnSchedule}. */
export interface ScheduleOptions {
  /** Stops the loop (after the run in progress). */
  signal?: AbortSignal;
  /** Stops after this many runs. */
  maxRuns?: number;
  /** @default {cronScheduler} */
  scheduler?: Scheduler;
}

/**
 * Runs `job` at every tick of `pattern` until `signal` aborts or `maxRuns` runs are done. A tick
 * that arrives while a run is in progress is skipped. The job must not throw (it logs its own
 * failures); a throw is swallowed so the schedule continues.
 *
 * @returns The number of runs.
 */
export function runOnSchedule(
  pattern: string,
  job: (run: number) => Promise<void>,
  options: ScheduleOptions = {},
): Promise<number> {
  const { signal, maxRuns, scheduler = cronScheduler } = options;
  return new Promise((resolve) => {
    let runs = 0;
    let busy = false;
    let finished = false;
    const handle: { current?: { stop(): void } } = {};
    const finish = () => {
      if (finished) return;
      finished = true;
      handle.current?.stop();
      signal?.removeEventListener("abort", onAbort);
      resolve(runs);
    };
    const onAbort = () => {
      if (!busy) finish();
    };
    const tick = async () => {
      if (busy || finished) return;
      busy = true;
      runs++;
      try {
        await job(runs);
      } catch {
        // the job reports its own failures; the schedule goes on
      }
      busy = false;
      if ((maxRuns !== undefined && runs >= maxRuns) || signal?.aborted) finish();
    };
    if (signal?.aborted) return resolve(0);
    signal?.addEventListener("abort", onAbort);
    handle.current = scheduler(pattern, () => void tick());
    if (finished) handle.current.stop();
  });
}
