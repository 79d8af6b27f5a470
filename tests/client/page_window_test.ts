import assert from "node:assert/strict";
import { heldPage, pageBytes, windowedPages } from "../../lib/client/_page_window.ts";
import { paginate } from "../../lib/client/paginate.ts";
import { fakeTable, fakeTransport } from "../_fake_transport.ts";

const PAGE = 50;
/** Rows of about 200 bytes, as a page of NetBox objects would be (smaller). */
function rows(ids: number[]) {
  return ids.map((id) => ({ id, name: `obj-${id}`, description: "d".repeat(180) }));
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("pageBytes() estimates a page's JSON size from its first and last item", () => {
  const page = rows(Array.from({ length: PAGE }, (_, i) => i + 1));
  const real = JSON.stringify(page).length;
  assert.ok(Math.abs(pageBytes(page) - real) / real < 0.05, `${pageBytes(page)} vs ${real}`);
  assert.equal(pageBytes([]), 64);
});

Deno.test("windowedPages() never holds more pages than the memory budget allows for a slow consumer", async () => {
  const pageSize = pageBytes(rows(Array.from({ length: PAGE }, (_, i) => i + 1)));
  const budgetPages = 3;
  let started = 0;
  let consumed = 0;
  let mostAlive = 0;
  const segments = Array.from({ length: 30 }, (_, i) => ({
    query: new URLSearchParams({ offset: String(i * PAGE) }),
    follow: false,
  }));
  const fetchPage = async (q: URLSearchParams) => {
    started++;
    mostAlive = Math.max(mostAlive, started - consumed);
    await sleep(1);
    const from = Number(q.get("offset"));
    return heldPage({ results: rows(Array.from({ length: PAGE }, (_, i) => from + i + 1)) });
  };
  const ids: number[] = [];
  for await (
    const page of windowedPages(segments, fetchPage, {
      concurrency: 8,
      memoryBudget: budgetPages * pageSize,
      firstPageBytes: pageSize,
    })
  ) {
    await sleep(3); // the consumer is slower than the server
    ids.push(...page.map((r) => r.id));
    consumed++;
  }
  assert.deepEqual(ids, Array.from({ length: 30 * PAGE }, (_, i) => i + 1));
  // In flight + buffered stay within the budget; the page being consumed is the consumer's.
  assert.ok(mostAlive <= budgetPages + 1, `${mostAlive} pages alive, budget ${budgetPages}`);
});

Deno.test("windowedPages() shrinks the window to what a slow consumer needs", async () => {
  let started = 0;
  let consumed = 0;
  const alive: number[] = [];
  const segments = Array.from({ length: 24 }, (_, i) => ({
    query: new URLSearchParams({ offset: String(i) }),
    follow: false,
  }));
  const fetchPage = (q: URLSearchParams) => {
    started++;
    alive.push(started - consumed);
    return Promise.resolve(heldPage({ results: rows([Number(q.get("offset")) + 1]) }));
  };
  for await (const _ of windowedPages(segments, fetchPage, { concurrency: 4 })) {
    await sleep(4); // fetches take well under a millisecond
    consumed++;
  }
  assert.equal(consumed, 24);
  // No budget: the window starts at 2 × concurrency, then one page ahead of the consumer.
  const late = alive.slice(12);
  assert.ok(late.every((n) => n <= 3), `pages alive per fetch: ${alive.join(",")}`);
});

Deno.test("paginate() holds at most memoryBudget of pages ahead of a slow consumer", async () => {
  const data = rows(Array.from({ length: 40 * PAGE }, (_, i) => i + 1));
  const perPage = pageBytes(data.slice(0, PAGE));
  const t = fakeTransport(async (req) => {
    await sleep(1);
    return fakeTable(data, req);
  }, { version: "4.5.4", pageSize: PAGE, concurrency: 6, memoryBudget: 2 * perPage });
  let seen = 0;
  let mostAhead = 0;
  for await (const _ of paginate(t, "x/")) {
    if (++seen % PAGE !== 0) continue;
    await sleep(2); // the consumer works on each page
    const consumedPages = seen / PAGE;
    mostAhead = Math.max(mostAhead, t.requests.length - consumedPages);
  }
  assert.equal(seen, data.length);
  // Offset pages of exactly PAGE items: requested but not consumed = in flight + buffered.
  assert.ok(mostAhead <= 2, `${mostAhead} pages ahead of the consumer`);
});
