/**
 * A tiny concurrency limiter shared by parallel listing and bulk writes.
 *
 * @module
 */

/** Runs functions with at most `n` of them pending at once. */
export type Limiter = <R>(fn: () => Promise<R>) => Promise<R>;

/**
 * Creates a limiter allowing `n` concurrent runs (first come, first served).
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { createLimiter } from "./limit.ts";
 * const limit = createLimiter(2);
 * const out = await Promise.all([1, 2, 3].map((x) => limit(() => Promise.resolve(x * 2))));
 * assert(out.join() === "2,4,6");
 * ```
 */
export function createLimiter(n: number): Limiter {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Cannot limit concurrency: ${n} is not a positive integer`);
  }
  let active = 0;
  const queue: (() => void)[] = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    while (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
