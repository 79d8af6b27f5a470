import assert from "node:assert/strict";
import {
  type AttemptFailure,
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryable,
  retry,
  retryDelay,
  systemClock,
} from "../../lib/client/retry.ts";
import { parseRetryAfter } from "../../lib/client/_retry_after.ts";
import { fakeClock } from "../_fake_server.ts";

const status = (code: number): AttemptFailure => ({ kind: "status", status: code });

Deno.test("isRetryable() retries idempotent methods on 408/429/500/502/503/504 only", () => {
  for (const method of ["GET", "HEAD", "PUT", "DELETE"]) {
    for (const code of [408, 429, 500, 502, 503, 504]) {
      assert.ok(isRetryable(method, status(code)), `${method} ${code}`);
    }
    for (const code of [400, 401, 403, 404, 409, 412, 501]) {
      assert.ok(!isRetryable(method, status(code)), `${method} ${code}`);
    }
    assert.ok(isRetryable(method, { kind: "timeout" }));
    assert.ok(isRetryable(method, { kind: "network", stage: "reset" }));
    assert.ok(isRetryable(method, { kind: "network", stage: "body" }));
  }
});

Deno.test("isRetryable() retries POST and PATCH only when the server certainly did not act", () => {
  for (const method of ["POST", "PATCH", "post"]) {
    assert.ok(isRetryable(method, status(429)));
    assert.ok(isRetryable(method, status(503)));
    assert.ok(isRetryable(method, { kind: "network", stage: "connect" }));
    for (const code of [408, 500, 502, 504]) assert.ok(!isRetryable(method, status(code)));
    assert.ok(!isRetryable(method, { kind: "timeout" }));
    assert.ok(!isRetryable(method, { kind: "network", stage: "reset" }));
    assert.ok(!isRetryable(method, { kind: "network", stage: "body" }));
  }
});

Deno.test("isRetryable() never retries TLS failures", () => {
  for (const method of ["GET", "POST"]) {
    assert.ok(!isRetryable(method, { kind: "network", stage: "tls" }));
  }
});

Deno.test("backoffDelay() grows by the factor, is jittered into the upper half and capped", () => {
  const p = DEFAULT_RETRY_POLICY;
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n, p, () => 1)), [250, 500, 1000, 2000]);
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n, p, () => 0)), [125, 250, 500, 1000]);
  assert.equal(backoffDelay(30, p, () => 1), 10_000);
  assert.equal(backoffDelay(30, p, () => 0), 5_000);
});

Deno.test("retryDelay() prefers Retry-After, refuses one beyond the cap, stops after the retries", () => {
  const p = DEFAULT_RETRY_POLICY;
  const busy: AttemptFailure = { kind: "status", status: 429, retryAfterMs: 2000 };
  assert.equal(retryDelay("GET", busy, 1, p), 2000);
  assert.equal(retryDelay("POST", busy, 1, p), 2000);
  assert.equal(retryDelay("GET", { ...busy, retryAfterMs: 60_001 }, 1, p), undefined);
  assert.equal(retryDelay("GET", busy, 5, p), undefined, "4 retries = 5 attempts");
  assert.equal(retryDelay("GET", status(503), 4, p, () => 1), 2000);
  assert.equal(retryDelay("POST", status(500), 1, p), undefined);
});

Deno.test("retry() runs again after a retryable failure, waiting on the injected clock", async () => {
  const clock = fakeClock();
  const seen: number[] = [];
  const result = await retry((n) => {
    seen.push(n);
    return n < 3 ? Promise.reject(new Error(`fail ${n}`)) : Promise.resolve("done");
  }, { method: "GET", clock, random: () => 1, failureOf: () => status(502) });
  assert.equal(result, "done");
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(clock.sleeps, [250, 500]);
});

Deno.test("retry() throws the last error when retries run out", async () => {
  const clock = fakeClock();
  await assert.rejects(
    retry((n) => Promise.reject(new Error(`fail ${n}`)), {
      method: "GET",
      retries: 2,
      clock,
      failureOf: () => status(500),
    }),
    { message: "fail 3" },
  );
  assert.equal(clock.sleeps.length, 2);
});

Deno.test("retry() does not retry what failureOf does not classify", async () => {
  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new TypeError("bug"));
    }, { method: "GET", clock, failureOf: () => undefined }),
    TypeError,
  );
  assert.equal(calls, 1);
});

Deno.test("retry() stops before a wait that would overrun the budget", async () => {
  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new Error("busy"));
    }, {
      method: "GET",
      retries: 100,
      budgetMs: 7_000,
      clock,
      failureOf: () => ({ kind: "status", status: 503, retryAfterMs: 3000 }),
    }),
    { message: "busy" },
  );
  assert.equal(calls, 3);
  assert.deepEqual(clock.sleeps, [3000, 3000]);
});

Deno.test("retry() stops when the signal aborts", async () => {
  const controller = new AbortController();
  const clock = fakeClock();
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      controller.abort();
      return Promise.reject(new Error("failed"));
    }, { method: "GET", clock, signal: controller.signal, failureOf: () => status(503) }),
    { message: "failed" },
  );
  assert.equal(calls, 1);
  assert.deepEqual(clock.sleeps, []);
});

Deno.test("systemClock.sleep() rejects when its signal aborts", async () => {
  const controller = new AbortController();
  const pending = systemClock.sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(pending, { message: "stop" });
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates, rejects garbage", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(parseRetryAfter("2", now), 2000);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0, "past date");
  assert.equal(parseRetryAfter("1.5", now), undefined);
  assert.equal(parseRetryAfter("-1", now), undefined);
  assert.equal(parseRetryAfter("later", now), undefined);
  assert.equal(parseRetryAfter("", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});
