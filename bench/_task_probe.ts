/**
 * Child process of the scale bench: runs a task's own `main(args, io)` in-process (the same code
 * `deno task <name>` runs, after the imports) with a fetch that records when each request was in
 * flight, from the call until its body was read to the end. Prints one JSON line:
 *
 * - `ms`: the whole task; `fetch_end_ms`: when the last response body was read (so
 *   `ms - fetch_end_ms` is the client's work after the fetch: analysis, planning, rendering);
 * - `http_ms`: time with at least one request in flight (waiting on the server and reading);
 *   `client_only_ms = ms - http_ms`: time with nothing in flight (the client alone);
 * - `requests`, `code` (the task's exit code), `stdout_bytes` (its result is counted, not
 *   printed; `stdout_head` holds its first 4,000 characters), `peak_rss_mb` (sampled in-process
 *   every 20 ms).
 *
 * `deno run --allow-net=127.0.0.1 --allow-env --allow-read --allow-write bench/_task_probe.ts TASK ARGS…`
 *
 * `--offline N` before TASK runs it against an in-memory NetBox of the scale layout with N
 * addresses (`_offline_netbox.ts`) instead of `NETBOX_URL`: the client's own work after the
 * fetch, profiled in seconds (`_task_probe.ts --offline 1000000 audit-ips --format json`).
 *
 * @module
 */

import { defaultIO, type TaskIO } from "../lib/cli/io.ts";
import { OFFLINE_URL, offlineFetch } from "./_offline_netbox.ts";

const TASKS = ["audit-ips", "bulk-import", "find-free-ip", "assign-primary-ip"];

if (Deno.args[0] === "--warm") {
  for (const t of TASKS) await import(`../tasks/${t}.ts`);
  Deno.exit(0);
}

const offline = Deno.args[0] === "--offline" ? Number(Deno.args[1]) : undefined;
const [task, ...args] = offline === undefined ? Deno.args : Deno.args.slice(2);
if (!TASKS.includes(task)) throw new Error(`Cannot probe task "${task}": unknown task`);
const { main } = await import(`../tasks/${task}.ts`) as {
  main(args: string[], io?: TaskIO): Promise<number>;
};

let peak = Deno.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, Deno.memoryUsage().rss);
}, 20);

const baseFetch = offline === undefined ? fetch : offlineFetch(offline);

let inFlight = 0;
let busySince = 0;
let httpMs = 0;
let fetchEnd = 0;
let requests = 0;
const t0 = performance.now();
const begin = () => {
  if (inFlight++ === 0) busySince = performance.now();
};
const end = () => {
  const now = performance.now();
  fetchEnd = Math.max(fetchEnd, now);
  if (--inFlight === 0) httpMs += now - busySince;
};

/** fetch, with each request counted in flight until its body is read (or fails). */
const tracked: typeof fetch = async (input, init) => {
  requests++;
  begin();
  let response: Response;
  try {
    response = await baseFetch(input, init);
  } catch (err) {
    end();
    throw err;
  }
  if (!response.body) {
    end();
    return response;
  }
  let done = false;
  const finish = () => {
    if (!done) (done = true, end());
  };
  const body = response.body.pipeThrough(
    new TransformStream({
      flush: finish,
      cancel: finish,
    } as Transformer<Uint8Array, Uint8Array>),
  );
  // An aborted or cancelled body also ends the request.
  init?.signal?.addEventListener("abort", finish, { once: true });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
};

let stdoutBytes = 0;
let head = "";
const io: TaskIO = {
  ...defaultIO(),
  ...(offline === undefined ? {} : {
    env: (name: string) =>
      ({ NETBOX_URL: OFFLINE_URL, NETBOX_TOKEN: "nbt_offline0000.offlinesecret" })[name],
  }),
  stdout: (text) => {
    stdoutBytes += text.length;
    if (head.length < 4000) head += text.slice(0, 4000 - head.length);
  },
  fetch: tracked,
};
let code: number;
try {
  code = await main(args, io);
} finally {
  clearInterval(sampler);
}
const ms = performance.now() - t0;
peak = Math.max(peak, Deno.memoryUsage().rss);
console.log(JSON.stringify({
  code,
  ms: Math.round(ms),
  fetch_end_ms: Math.round(fetchEnd - t0),
  after_fetch_ms: Math.round(ms - (fetchEnd - t0)),
  http_ms: Math.round(httpMs),
  client_only_ms: Math.round(ms - httpMs),
  requests,
  stdout_bytes: stdoutBytes,
  stdout_head: head,
  peak_rss_mb: Math.round(peak / 1048576),
}));
// The tasks end with `Deno.exit(await main(…))`, so whatever main() leaves pending (a timer, an
// unread body) does not keep them alive; neither may it keep the probe alive.
Deno.exit(0);
