/**
 * The one worker pool of the toolkit: parallel listing, bulk writes, DNS checks, batch tasks.
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

/**
 * Maps items with at most `n` calls of `fn` pending at once; results keep the items' order.
 *
 * @param items the inputs
 * @param n the most calls in flight
 * @param fn the work for one item (and its index)
 * @returns the results, in input order
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { mapLimit } from "./limit.ts";
 * const out = await mapLimit([3, 1, 2], 2, (x) => Promise.resolve(x * 10));
 * assert(out.join() === "30,10,20");
 * ```
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  n: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const limit = createLimiter(n);
  return await Promise.all(items.map((item, i) => limit(() => fn(item, i))));
}
