/**
 * The retry loop of the transport: a call's round trips under the client's retry policy
 * (lib/client/retry.ts), the final error built from the last failed attempt, and the write
 * event of the last attempt reported once.
 *
 * @module
 */

import { retry } from "./retry.ts";
import {
  type AttemptLog,
  type Connection,
  FailedAttempt,
  prepareCall,
  roundTrip,
} from "./_round_trip.ts";
import type { RequestOptions, WriteEvent } from "./types.ts";

/** The retry settings of a client, beside its connection. */
export interface RetrySettings {
  /** Retries per request. */
  readonly retries: number;
  /** The total time the retries of one request may take, in ms. */
  readonly retryBudgetMs: number;
  /** Receives each write's outcome (the last attempt's). */
  readonly onWrite?: (event: WriteEvent) => void;
}

/** Sends one request with retries; the handshake is the caller's business. */
export async function send(
  conn: Connection,
  settings: RetrySettings,
  method: string,
  apiPath: string,
  url: string,
  action: string,
  options: RequestOptions,
): Promise<unknown> {
  const call = prepareCall(conn, method, apiPath, url, action, options);
  const log: AttemptLog = { attempts: 0 };
  try {
    return await retry((n) => roundTrip(conn, call, n, log), {
      method,
      retries: settings.retries,
      budgetMs: settings.retryBudgetMs,
      clock: conn.clock,
      signal: call.callerSignal,
      failureOf: (err) => err instanceof FailedAttempt ? err.failure : undefined,
      onRetry: conn.verbose
        ? ({ attempt: n, delayMs }) =>
          conn.log(`retrying ${method} ${call.shownPath} in ${delayMs}ms (attempt ${n + 1})`)
        : undefined,
    });
  } catch (err) {
    if (err instanceof FailedAttempt) {
      throw err.toError(log.attempts > 1 ? ` after ${log.attempts} attempts` : "");
    }
    throw err;
  } finally {
    if (log.lastWrite && settings.onWrite) settings.onWrite(log.lastWrite);
  }
}
