/**
 * The parallel page engine behind `list()`: fetches segments of a listing (id ranges or offsets)
 * concurrently, yields their pages strictly in segment order, and keeps memory bounded: the pages
 * it holds at once — in flight and buffered for the consumer — never exceed what a memory budget
 * allows for the measured page size, and shrink to what the consumer's measured speed needs (a
 * slow consumer gets one page ahead, not a full window).
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

/**
 * A page as the window holds it: what the window needs to go on (the `next` link, whether the
 * page is empty, its size) and its items on demand. A page held as the answer's text is parsed
 * only when the consumer reaches it, so pages waiting in the window are one string each, not
 * thousands of objects that V8's young generation would have to copy and keep.
 */
export interface HeldPage<T> {
  count?: number | null;
  next?: string | null;
  /** The page holds no item. */
  empty: boolean;
  /** Its size in bytes (the answer's length, or {@linkcode pageBytes} of parsed items). */
  bytes: number;
  /** Its items; the first call parses them and lets the page's text go, later calls throw. */
  items(): T[];
}

/**
 * A parsed page as a {@linkcode HeldPage}.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { heldPage } from "./_page_window.ts";
 * const page = heldPage({ next: null, results: [{ id: 1 }] });
 * assert(!page.empty && page.items()[0].id === 1);
 * ```
 */
export function heldPage<T>(page: Page<T>): HeldPage<T> {
  let taken = false;
  return {
    count: page.count,
    next: page.next,
    empty: page.results.length === 0,
    bytes: pageBytes(page.results),
    items() {
      if (taken) throw new Error("A held page's items were already taken");
      taken = true;
      // The answer lets go of its items: the consumer drops each as it is handed out.
      const items = page.results;
      page.results = [];
      return items;
    },
  };
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
  /**
   * Bytes of page data held at once, in flight and buffered (pages are measured as they arrive,
   * see {@linkcode pageBytes}). At least one page is always allowed. @default {Infinity}
   */
  memoryBudget?: number;
  /** The size of one page in bytes before any arrived (e.g. the listing's first page). */
  firstPageBytes?: number;
  /** Milliseconds, for measuring fetch and consumer speed. @default {performance.now} */
  now?: () => number;
  /** Aborts everything. */
  signal?: AbortSignal;
}

/**
 * The bytes of a page as NetBox sent them, estimated from its first and last item (pages of
 * one listing hold objects of one shape), so the window never serializes a whole page.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { pageBytes } from "./_page_window.ts";
 * const items = Array.from({ length: 100 }, (_, id) => ({ id, name: "x".repeat(90) }));
 * assert(Math.abs(pageBytes(items) - JSON.stringify(items).length) < 300);
 * ```
 */
export function pageBytes(items: readonly unknown[]): number {
  if (items.length === 0) return 64;
  const first = JSON.stringify(items[0])?.length ?? 4;
  const last = items.length > 1 ? JSON.stringify(items[items.length - 1])?.length ?? 4 : first;
  return Math.ceil(((first + last) / 2 + 1) * items.length) + 64;
}

/** A moving average that follows changes within a few samples. */
function average(): { add(v: number): void; value(): number | undefined } {
  let value: number | undefined;
  return {
    add: (v) => (value = value === undefined ? v : value * 0.7 + v * 0.3),
    value: () => value,
  };
}

/** The query string of a `next` link; its scheme, host and path are ignored on purpose. */
export function nextQuery(next: string): URLSearchParams {
  return new URL(next, "http://ignored.invalid/").searchParams;
}

interface SegmentState<T> {
  pages: HeldPage<T>[];
  /** An item beyond the segment's id range was seen: the rest of it is not fetched or read. */
  ended: boolean;
  /** Requests of this segment in flight (0 or 1). */
  inFlight: number;
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
  const idOf = (item: T) => (item as { id?: unknown }).id as number;
  const inside = (item: T) => idOf(item) >= range.from;
  const beyond = (item: T) => range.to !== undefined && idOf(item) >= range.to;
  // Nearly always the whole page lies inside the range: it is kept as it is, not copied.
  if (items.every((item) => inside(item) && !beyond(item))) return { items, stop: false };
  const kept: T[] = [];
  for (const item of items) {
    if (beyond(item)) return { items: kept, stop: true };
    if (inside(item)) kept.push(item);
  }
  return { items: kept, stop: false };
}

/**
 * Yields the pages of `segments` in order while fetching up to `concurrency` pages at once, at
 * most `2 × concurrency + 1` segments ahead of the consumer (so one slow segment does not leave
 * the other request slots idle). The pages held at once (in flight plus buffered) stay within
 * `memoryBudget` for the largest page seen, at most `2 × concurrency`, and within what the
 * consumer's speed needs: `fetch time / consumer time per page` pages ahead, plus one. The
 * segment the consumer reads may always fetch when it holds nothing, so the window never
 * stalls. The first error stops everything and is thrown to the consumer; leaving the loop
 * early aborts the requests in flight.
 *
 * @example
 * ```ts
 * import { ok as assert } from "node:assert/strict";
 * import { heldPage, windowedPages } from "./_page_window.ts";
 * const segments = [0, 2, 4].map((o) => ({ query: new URLSearchParams({ offset: String(o) }), follow: false }));
 * const fetchPage = (q: URLSearchParams) => Promise.resolve(heldPage({ results: [Number(q.get("offset"))] }));
 * const pages = [];
 * for await (const page of windowedPages(segments, fetchPage, { concurrency: 2 })) {
 *   pages.push(...page);
 * }
 * assert(pages.join() === "0,2,4");
 * ```
 */
export async function* windowedPages<T>(
  segments: Segment[],
  fetchPage: (query: URLSearchParams, signal: AbortSignal) => Promise<HeldPage<T>>,
  options: WindowOptions,
): AsyncGenerator<T[]> {
  const { concurrency, pagesAhead = 2, memoryBudget = Infinity, now = () => performance.now() } =
    options;
  const limit = createLimiter(concurrency);
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const changed = createNotifier();
  const space = createNotifier();
  const states: SegmentState<T>[] = segments.map(() => ({
    pages: [],
    ended: false,
    inFlight: 0,
    done: false,
  }));
  const running: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  const stopped = () => ctrl.signal.aborted || failure !== undefined;
  const over = (state: SegmentState<T>) => stopped() || state.ended;

  // What the window measures: the largest page, the fetch time and the consumer's time per page.
  let largestPage = options.firstPageBytes ?? 0;
  const fetchMs = average();
  const consumeMs = average();
  let held = 0; // pages in flight plus pages buffered
  let current = 0; // the segment the consumer reads
  const waiting = new Set<number>();

  /** Pages the window may hold now. */
  const allowed = (): number => {
    const byBudget = largestPage > 0 ? Math.floor(memoryBudget / largestPage) : Infinity;
    let pages = Math.min(byBudget, 2 * concurrency);
    const fetch = fetchMs.value(), consume = consumeMs.value();
    if (fetch !== undefined && consume !== undefined) {
      pages = Math.min(pages, Math.ceil(fetch / Math.max(consume, 0.01)) + 1);
    }
    return Math.max(1, pages);
  };
  /** Whether segment `index` may start a fetch: the reader's first, then in segment order. */
  const mayFetch = (index: number): boolean => {
    const state = states[index];
    if (index === current) return held < allowed() || (state.pages.length + state.inFlight === 0);
    // One place stays free for the segment the consumer reads, lower segments go first.
    if (held + 1 >= allowed()) return false;
    for (const w of waiting) if (w < index && w !== current) return false;
    return true;
  };

  const produce = async (index: number) => {
    const state = states[index];
    const segment = segments[index];
    let query = segment.query;
    try {
      while (!over(state)) {
        while (!over(state) && (state.pages.length >= pagesAhead || !mayFetch(index))) {
          // Only a segment kept back by the window lets higher segments go first.
          if (state.pages.length < pagesAhead) waiting.add(index);
          await space.wait();
        }
        if (waiting.delete(index)) space.notify();
        if (over(state)) return;
        held++;
        state.inFlight++;
        const page = await limit(async () => {
          if (over(state)) return undefined;
          const started = now();
          const answer = await fetchPage(query, ctrl.signal);
          fetchMs.add(now() - started);
          return answer;
        }).finally(() => state.inFlight--);
        if (!page || over(state)) {
          held--;
          return;
        }
        largestPage = Math.max(largestPage, page.bytes);
        const { next, empty } = page;
        state.pages.push(page);
        changed.notify();
        if (!segment.follow || !next || empty) return;
        query = nextQuery(next);
      }
    } catch (error) {
      failure ??= { error };
    } finally {
      waiting.delete(index);
      state.done = true;
      changed.notify();
      space.notify();
    }
  };

  let started = 0;
  try {
    for (let i = 0; i < segments.length; i++) {
      current = i;
      space.notify();
      while (started < segments.length && started <= i + 2 * concurrency) {
        running.push(produce(started++));
      }
      const state = states[i];
      while (true) {
        if (failure) throw failure.error;
        const page = state.pages.shift();
        if (page) {
          held--;
          space.notify();
          if (state.ended) continue;
          // The consumer's time per page includes parsing the page: both are its work.
          const handed = now();
          const { items, stop } = clip(page.items(), segments[i].range);
          if (stop) {
            state.ended = true;
            space.notify();
          }
          if (items.length) yield items;
          consumeMs.add(now() - handed);
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
