/**
 * The retry policy (pure data and functions) and the retry loop of the client.
 *
 * Idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried on 408, 429, 500, 502, 503,
 * 504, timeouts and network failures. POST and PATCH are retried only when the server certainly
 * did not act: 429, 503, and connection failures before the request was sent. TLS certificate
 * failures are never retried. `Retry-After` wins over back-off, up to a cap.
 *
 * @module
 */

import type { Clock } from "./types.ts";

/** What went wrong in one attempt, as far as the retry policy cares. */
export type AttemptFailure =
  | {
    kind: "status";
    status: number;
    /** The delay the server asked for (`Retry-After`), in ms. */
    retryAfterMs?: number;
  }
  | { kind: "timeout" }
  | {
    kind: "network";
    /**
     * `connect`: the request was never sent (refused, DNS, unreachable); `tls`: certificate or
     * handshake failure; `reset`: the connection broke after the request was sent; `body`: the
     * response body broke off.
     */
    stage: "connect" | "tls" | "reset" | "body";
  };

/** The numbers of the retry policy. */
export interface RetryPolicy {
  /** Retries after the first attempt. @default {4} */
  retries: number;
  /** First back-off delay in ms. @default {250} */
  baseDelayMs: number;
  /** Back-off growth per retry. @default {2} */
  factor: number;
  /** Longest back-off delay in ms. @default {10000} */
  maxDelayMs: number;
  /** Longest `Retry-After` honoured, in ms; a longer one stops retrying. @default {60000} */
  maxRetryAfterMs: number;
  /** Total time for all attempts and waits, in ms. @default {120000} */
  budgetMs: number;
}

/**
 * The default policy.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { DEFAULT_RETRY_POLICY } from "./retry.ts";
 * assert(DEFAULT_RETRY_POLICY.retries === 4);
 * ```
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 4,
  baseDelayMs: 250,
  factor: 2,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
  budgetMs: 120_000,
});

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const RETRY_STATUS_IDEMPOTENT = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_STATUS_ANY = new Set([429, 503]);

/**
 * Whether a failure of a request with this method may be retried.
 *
 * @param method The HTTP method.
 * @param failure What went wrong.
 * @returns `true` when a retry cannot repeat a write the server already made.
 *
 * @example POST is retried only when the server did not act
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { isRetryable } from "./retry.ts";
 * assert(isRetryable("GET", { kind: "status", status: 500 }));
 * assert(!isRetryable("POST", { kind: "status", status: 500 }));
 * assert(isRetryable("POST", { kind: "status", status: 503 }));
 * assert(isRetryable("POST", { kind: "network", stage: "connect" }));
 * assert(!isRetryable("GET", { kind: "network", stage: "tls" }));
 * ```
 */
export function isRetryable(method: string, failure: AttemptFailure): boolean {
  const idempotent = IDEMPOTENT.has(method.toUpperCase());
  switch (failure.kind) {
    case "status":
      return (idempotent ? RETRY_STATUS_IDEMPOTENT : RETRY_STATUS_ANY).has(failure.status);
    case "timeout":
      return idempotent;
    case "network":
      if (failure.stage === "tls") return false;
      return failure.stage === "connect" || idempotent;
  }
}

/**
 * The jittered exponential back-off before retry number `retry` (1-based): a random delay
 * between half and all of `min(maxDelayMs, baseDelayMs * factor^(retry-1))`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { backoffDelay, DEFAULT_RETRY_POLICY } from "./retry.ts";
 * assert(backoffDelay(1, DEFAULT_RETRY_POLICY, () => 1) === 250);
 * assert(backoffDelay(3, DEFAULT_RETRY_POLICY, () => 0) === 500);
 * assert(backoffDelay(20, DEFAULT_RETRY_POLICY, () => 1) === 10_000);
 * ```
 */
export function backoffDelay(
  retry: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "factor" | "maxDelayMs">,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** (retry - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * How long to wait before retry number `retry` (1-based), or `undefined` to stop: the failure
 * is not retryable, the retries are used up, or `Retry-After` asks for more than the cap.
 *
 * @example Retry-After wins over back-off
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { DEFAULT_RETRY_POLICY, retryDelay } from "./retry.ts";
 * const failure = { kind: "status", status: 429, retryAfterMs: 2000 } as const;
 * assert(retryDelay("GET", failure, 1, DEFAULT_RETRY_POLICY) === 2000);
 * assert(retryDelay("POST", { kind: "status", status: 500 }, 1, DEFAULT_RETRY_POLICY) === undefined);
 * ```
 */
export function retryDelay(
  method: string,
  failure: AttemptFailure,
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (retry > policy.retries || !isRetryable(method, failure)) return undefined;
  if (failure.kind === "status" && failure.retryAfterMs !== undefined) {
    return failure.retryAfterMs <= policy.maxRetryAfterMs ? failure.retryAfterMs : undefined;
  }
  return backoffDelay(retry, policy, random);
}

/**
 * The real clock: `Date.now()` and an abortable `setTimeout`.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { systemClock } from "./retry.ts";
 * const start = systemClock.now();
 * await systemClock.sleep(1);
 * assert(systemClock.now() >= start);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/** Options of {@linkcode retry}. */
export interface RetryOptions extends Partial<RetryPolicy> {
  /** The HTTP method (decides what may be retried). */
  method: string;
  /** Maps a thrown error to a failure; `undefined` means "never retry this". */
  failureOf(error: unknown): AttemptFailure | undefined;
  /** @default {systemClock} */
  clock?: Clock;
  /** Stops waiting and retrying. */
  signal?: AbortSignal;
  /** @default {Math.random} */
  random?: () => number;
  /** Called before each wait. */
  onRetry?(info: { attempt: number; delayMs: number; error: unknown }): void;
}

/**
 * Runs `attempt` until it resolves or the policy says stop; then throws the last error.
 *
 * @param attempt Called with the attempt number (1-based).
 * @param options The method, the failure classifier and the policy.
 * @returns What `attempt` resolved to.
 * @throws The last attempt's error.
 *
 * @example Two failures then success, without real waiting
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { retry } from "./retry.ts";
 * let now = 0;
 * const clock = { now: () => now, sleep: (ms: number) => { now += ms; return Promise.resolve(); } };
 * const result = await retry((n) => n < 3 ? Promise.reject(new Error("busy")) : Promise.resolve(n), {
 *   method: "GET", clock, failureOf: () => ({ kind: "status", status: 503 }),
 * });
 * assert(result === 3);
 * ```
 */
export async function retry<T>(
  attempt: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { method, failureOf, clock = systemClock, signal, random = Math.random, onRetry } = options;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY };
  for (const key of Object.keys(DEFAULT_RETRY_POLICY) as (keyof RetryPolicy)[]) {
    const value = options[key];
    if (value !== undefined) policy[key] = value;
  }
  const start = clock.now();
  for (let n = 1;; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (signal?.aborted) throw error;
      const failure = failureOf(error);
      const delayMs = failure && retryDelay(method, failure, n, policy, random);
      if (delayMs === undefined || clock.now() - start + delayMs > policy.budgetMs) throw error;
      onRetry?.({ attempt: n, delayMs, error });
      await clock.sleep(delayMs, signal);
    }
  }
}
