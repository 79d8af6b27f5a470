/**
 * Late writes. A write whose answer was lost in a way NetBox may still act on — the client's
 * timeout, a gateway's 502/504, a connection broken after the request was sent — can land
 * seconds later: a gateway gives up (nginx `proxy_read_timeout`) while the Django worker goes on
 * and commits. So a read-back that does not find such a write proves nothing at once; it is
 * repeated with growing pauses until the write shows up or a settle window has passed
 * (`ClientOptions.settleMs`, by default twice the request timeout). Only then is the write
 * "not there" — and even then its outcome is unknown, never "not written". Which errors call for
 * it: `mayHaveActed` (lib/client/errors.ts).
 *
 * @module
 */

import type { Clock, Transport } from "./types.ts";

/** The first pause between read-backs; each further pause doubles. */
const FIRST_PAUSE_MS = 500;

/** What {@linkcode settle} found. */
export interface Settled<T> {
  /** The last read-back. */
  value: T;
  /** Whether `done` held for it (the write was found). */
  found: boolean;
  /** Milliseconds spent waiting between read-backs. */
  waitedMs: number;
}

/** Options of {@linkcode settle}. */
export interface SettleOptions {
  /** The window in ms. @default {the transport's `settleMs`} */
  windowMs?: number;
  /** Sleeps between read-backs. @default {the transport's clock} */
  clock?: Clock;
  /** Stops waiting at once (the last read-back is returned). */
  signal?: AbortSignal;
}

/**
 * Reads back until `done(value)` holds or the settle window has passed: at once, then after
 * 0.5 s, 1 s, 2 s, … (the last pause cut to the window). A read that throws ends it with the
 * error.
 *
 * @param transport the client: its settle window and clock
 * @param read one read-back
 * @param done whether a read-back shows the write
 * @param options another window, clock or a stop signal
 * @returns the last read-back, whether it showed the write, and the time waited
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { settle } from "./settle.ts";
 * let now = 0;
 * const clock = { now: () => now, sleep: (ms: number) => Promise.resolve(void (now += ms)) };
 * let reads = 0;
 * const r = await settle({ settleMs: 6000, clock }, () => Promise.resolve(++reads), (n) => n === 3);
 * assert(r.found && r.value === 3 && r.waitedMs === 1500);
 * const never = await settle({ settleMs: 6000, clock }, () => Promise.resolve(0), (n) => n > 0);
 * assert(!never.found && never.waitedMs === 6000);
 * ```
 */
export async function settle<T>(
  transport: Pick<Transport, "settleMs" | "clock">,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: SettleOptions = {},
): Promise<Settled<T>> {
  const windowMs = options.windowMs ?? transport.settleMs;
  const clock = options.clock ?? transport.clock;
  let value = await read();
  let waitedMs = 0;
  const start = clock.now();
  for (let pause = FIRST_PAUSE_MS; !done(value) && waitedMs < windowMs; pause *= 2) {
    const ms = Math.min(pause, windowMs - waitedMs);
    try {
      await clock.sleep(ms, options.signal);
    } catch {
      waitedMs = Math.min(windowMs, Math.max(0, clock.now() - start));
      break; // stopped: the last read-back stands
    }
    waitedMs += ms;
    value = await read();
  }
  return { value, found: done(value), waitedMs };
}
