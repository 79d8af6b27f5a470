/**
 * Parses the `Retry-After` response header (RFC 9110 §10.2.3): delay seconds or an HTTP date.
 *
 * @module
 */

/**
 * The delay a `Retry-After` header asks for, in milliseconds, or `undefined` when the header is
 * missing or unparseable. A date in the past gives 0.
 *
 * @param value The header value.
 * @param now The current time in ms since the epoch (the client's clock).
 * @returns Milliseconds to wait, or `undefined`.
 *
 * @example Seconds and HTTP dates
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { parseRetryAfter } from "./_retry_after.ts";
 * assert(parseRetryAfter("2", 0) === 2000);
 * const now = Date.parse("Tue, 01 Jul 2025 10:00:00 GMT");
 * assert(parseRetryAfter("Tue, 01 Jul 2025 10:00:05 GMT", now) === 5000);
 * assert(parseRetryAfter("soon", now) === undefined);
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (/^[\d+-]/.test(text)) return undefined; // "1.5", "-1": not valid delay-seconds
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
