/**
 * The parallel page engine behind `list()`: fetches segments of a listing (id ranges or offsets)
 * concurrently, yields their pages strictly in segment order, and keeps memory bounded by a
 * window of segments and a few pages per segment.
 *
 * @module
 */

import { createLimiter } from "../base/limit.ts";

/** One page of a NetBox list response. */
export interface Page<T> {
  count?: number | null;
  next?: string | null;
  results: T[];
}

/** A segment: a query to start from, whether to follow `next`, and an optional id range. */
export interface Segment {
  query: URLSearchParams;
  /** Follow `next` links until the end (or until an id leaves the range). */
  follow: boolean;
  /** Keep only items with `from <= id < to` (`to` undefined = unbounded); stop at `id >= to`. */
  range?: { from: number; to?: number };
}

/** Options of {@linkcode windowedPages}. */
export interface WindowOptions {
  /** Requests in flight. */
  concurrency: number;
  /** Pages buffered per segment before its producer waits. @default {2} */
  pagesAhead?: number;
  /** Aborts everything. */
  signal?: AbortSignal;
}

/** The query string of a `next` link; its scheme, host and path are ignored on purpose. */
export function nextQuery(next: string): URLSearchParams {
  return new URL(next, "http://ignored.invalid/").searchParams;
}

interface SegmentState<T> {
  pages: T[][];
  done: boolean;
}

function createNotifier() {
  let resolve!: () => void;
  let promise = new Promise<void>((r) => (resolve = r));
  return {
    wait: () => promise,
    notify() {
      resolve();
      promise = new Promise<void>((r) => (resolve = r));
    },
  };
}

/** Clips a page to a segment's id range; `stop` when an item lies beyond it. */
function clip<T>(items: T[], range: Segment["range"]): { items: T[]; stop: boolean } {
  if (!range) return { items, stop: false };
  const kept: T[] = [];
  for (const item of items) {
    const id = (item as { id?: unknown }).id as number;
    if (range.to !== undefined && id >= range.to) return { items: kept, stop: true };
    if (id >= range.from) kept.push(item);
  }
  return { items: kept, stop: false };
}

/**
 * Yields the pages of `segments` in order while fetching up to `concurrency` pages at once, at
 * most `2 × concurrency + 1` segments ahead of the consumer (so one slow segment does not leave
 * the other request slots idle). The first error stops everything and is
 * thrown to the consumer; leaving the loop early aborts the requests in flight.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { windowedPages } from "./_page_window.ts";
 * const segments = [0, 2, 4].map((o) => ({ query: new URLSearchParams({ offset: String(o) }), follow: false }));
 * const pages = [];
 * for await (const page of windowedPages(segments, (q) => Promise.resolve({ results: [Number(q.get("offset"))] }), { concurrency: 2 })) {
 *   pages.push(...page);
 * }
 * assert(pages.join() === "0,2,4");
 * ```
 */
export async function* windowedPages<T>(
  segments: Segment[],
  fetchPage: (query: URLSearchParams, signal: AbortSignal) => Promise<Page<T>>,
  options: WindowOptions,
): AsyncGenerator<T[]> {
  const { concurrency, pagesAhead = 2 } = options;
  const limit = createLimiter(concurrency);
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const changed = createNotifier();
  const space = createNotifier();
  const states: SegmentState<T>[] = segments.map(() => ({ pages: [], done: false }));
  const running: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  const stopped = () => ctrl.signal.aborted || failure !== undefined;

  const produce = async (index: number) => {
    const state = states[index];
    const segment = segments[index];
    let query = segment.query;
    try {
      while (!stopped()) {
        while (state.pages.length >= pagesAhead && !stopped()) await space.wait();
        const page = await limit(() =>
          stopped() ? Promise.resolve(undefined) : fetchPage(query, ctrl.signal)
        );
        if (!page || stopped()) return;
        const { items, stop } = clip(page.results, segment.range);
        state.pages.push(items);
        changed.notify();
        if (stop || !segment.follow || !page.next || page.results.length === 0) return;
        query = nextQuery(page.next);
      }
    } catch (error) {
      failure ??= { error };
    } finally {
      state.done = true;
      changed.notify();
    }
  };

  let started = 0;
  try {
    for (let i = 0; i < segments.length; i++) {
      while (started < segments.length && started <= i + 2 * concurrency) {
        running.push(produce(started++));
      }
      const state = states[i];
      while (true) {
        if (failure) throw failure.error;
        const page = state.pages.shift();
        if (page) {
          space.notify();
          if (page.length) yield page;
          continue;
        }
        if (state.done) break;
        await changed.wait();
      }
    }
    if (failure) throw failure.error;
  } finally {
    ctrl.abort();
    space.notify();
    options.signal?.removeEventListener("abort", onAbort);
    await Promise.allSettled(running);
  }
}
