/**
 * Adaptive chunk sizes of bulk writes: each bulk request is timed, and the next chunks are sized
 * so that one request stays well inside the client's per-request timeout. A NetBox under load can
 * take longer for one request of many objects than the client waits (a 200-address create took
 * over 30 s on a busy NetBox 4.3); the client then reports a timeout although NetBox commits the
 * chunk later.
 *
 * @module
 */

import { seconds } from "../base/duration.ts";
import type { ChunkSizeChange, Clock } from "./types.ts";

/**
 * Until a request has been measured, chunks assume a slow NetBox (this many ms per object), so
 * the first requests already fit a third of the timeout; fast answers grow them from there.
 */
export const ASSUMED_MS_PER_OBJECT = 200;

/** A request that takes more than this share of the timeout shrinks the next chunks. */
const SLOW_SHARE = 1 / 3;
/** Chunks are sized to take about this share of the timeout ("well under a third"). */
const TARGET_SHARE = 1 / 4;

/** The chunk size of one bulk write, adjusted by the measured requests. */
export interface ChunkSizer {
  /** Objects in the next chunk (1 … the caller's chunk size). */
  readonly size: number;
  /**
   * Times one bulk request: `run` sends `objects` objects; its time adjusts the size. A request
   * that timed out or was answered with an error counts too (it took that long).
   */
  measure<R>(method: string, objects: number, run: () => Promise<R>): Promise<R>;
}

/** Options of {@linkcode createChunkSizer}. */
export interface ChunkSizerOptions {
  /** The caller's chunk size: the upper bound, and the fixed size without `timeoutMs`. */
  max: number;
  /** The client's per-request timeout; without it chunks keep `max` objects. */
  timeoutMs?: number;
  /** The client's clock. */
  clock: Clock;
  /** The list path, for the change events. */
  path: string;
  /** Called when the size changes. */
  onChange?: (change: ChunkSizeChange) => void;
}

/**
 * Creates the sizer of one bulk write. Slow requests (more than a third of the timeout) shrink
 * the next chunks to what fits a quarter of it at the measured seconds per object, down to 1;
 * fast ones double them, never above `max` nor above what fits.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createChunkSizer } from "./_chunk_size.ts";
 * let now = 0;
 * const clock = { now: () => now, sleep: () => Promise.resolve() };
 * const sizer = createChunkSizer({ max: 200, timeoutMs: 30_000, clock, path: "ipam/ip-addresses/" });
 * const sizes = [sizer.size]; // 50: 0.2 s per object assumed, 10 s (a third of the timeout)
 * await sizer.measure("POST", 50, () => Promise.resolve(now += 20_000)); // 0.4 s per object
 * sizes.push(sizer.size); // 18: 7.2 s at 0.4 s per object, within a quarter of the timeout
 * assert(sizes.join() === "50,18");
 * ```
 */
export function createChunkSizer(options: ChunkSizerOptions): ChunkSizer {
  const { max, timeoutMs, clock, path, onChange } = options;
  const fits = (msPerObject: number) =>
    msPerObject <= 0
      ? max
      : Math.max(1, Math.min(max, Math.floor((timeoutMs! * TARGET_SHARE) / msPerObject)));
  let size = timeoutMs === undefined ? max : Math.max(
    1,
    Math.min(max, Math.floor((timeoutMs * SLOW_SHARE) / ASSUMED_MS_PER_OBJECT)),
  );

  const record = (method: string, objects: number, ms: number) => {
    if (timeoutMs === undefined || objects < 1) return;
    const fit = fits(ms / objects);
    const previous = size;
    size = ms > timeoutMs * SLOW_SHARE
      ? Math.min(size, fit)
      : Math.max(size, Math.min(2 * objects, fit, max));
    if (size !== previous) {
      onChange?.({ method, path, objects, ms, timeoutMs, size, previous });
    }
  };

  return {
    get size() {
      return size;
    },
    async measure<R>(method: string, objects: number, run: () => Promise<R>): Promise<R> {
      const started = clock.now();
      try {
        const result = await run();
        record(method, objects, clock.now() - started);
        return result;
      } catch (err) {
        // An answer (a 400 after validating every object) or a timeout took as long as it
        // took; a failure before sending says nothing about NetBox's speed, but waiting for it
        // is no reason to grow either.
        const ms = clock.now() - started;
        if (ms > timeoutMs! * SLOW_SHARE || isAnswer(err)) record(method, objects, ms);
        throw err;
      }
    },
  };
}

/** Whether an error is an HTTP answer (it has a status). */
function isAnswer(err: unknown): boolean {
  return typeof (err as { status?: unknown } | null)?.status === "number";
}

/**
 * The request log line of a size change.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { formatChunkSizeChange } from "./_chunk_size.ts";
 * const line = formatChunkSizeChange({
 *   method: "POST", path: "ipam/ip-addresses/", objects: 200, ms: 12_345, timeoutMs: 30_000,
 *   size: 40, previous: 200,
 * });
 * assert(line === "bulk: POST ipam/ip-addresses/ 200 objects took 12.3 s (timeout 30 s): next chunks 40 objects");
 * ```
 */
export function formatChunkSizeChange(change: ChunkSizeChange): string {
  const { method, path, objects, ms, timeoutMs, size } = change;
  const plural = (n: number) => `${n} object${n === 1 ? "" : "s"}`;
  return `bulk: ${method} ${path} ${plural(objects)} took ${seconds(ms)} ` +
    `(timeout ${seconds(timeoutMs)}): next chunks ${plural(size)}`;
}
