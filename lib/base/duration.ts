/**
 * Durations in messages.
 *
 * @module
 */

/**
 * "3 s", "0.5 s": a duration in milliseconds as messages show it (whole seconds bare, else one
 * decimal).
 *
 * @param ms milliseconds
 * @returns the text
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { seconds } from "./duration.ts";
 * assert(seconds(6000) === "6 s" && seconds(1500) === "1.5 s");
 * ```
 */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
