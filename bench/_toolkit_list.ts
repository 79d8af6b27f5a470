/**
 * Child process of the list cases: lists every IP address with the library and prints
 * `{"count", "ms", "requests", "peak_rss_mb", "rss_mb"}` (ms measured inside the process, after
 * the imports; RSS sampled in-process every 20 ms; `rss_mb` is RSS over the run, the peak of
 * each of up to 48 equal slices, for a sparkline that shows whether memory stays flat).
 *
 * `deno run --allow-net=127.0.0.1 --allow-env=NETBOX_TOKEN bench/_toolkit_list.ts URL MODE [MB]`
 *
 * MODE: `parallel` (`all()`, the default), `sequential` (`all({}, { parallel: false })`),
 * `stream` (`for await` over `list()`, parallel, nothing kept: what the scale bench measures),
 * importing the `"./client"` entry (`lib/client/mod.ts`, what a script that only streams needs),
 * or `stream-root`, the same importing the root entry (`mod.ts`, as the other modes do).
 * MB: the client's `memoryBudget` in MB (its default without).
 *
 * @module
 */

if (Deno.args[0] === "--warm") {
  await import("../mod.ts"); // only load the modules (cache warm-up)
  Deno.exit(0);
}

const [url, mode = "parallel", memoryMb] = Deno.args;
// Only the entry the mode names is loaded: the root entry's domains cost ~20 MB of RSS.
const { createClient } = mode === "stream"
  ? await import("../lib/client/mod.ts")
  : await import("../mod.ts");
let requests = 0;
const counted: typeof fetch = (input, init) => {
  requests++;
  return fetch(input, init);
};
const t0 = performance.now();
const rss: [number, number][] = []; // [ms since t0, bytes]
const heap: [number, number][] = []; // [ms since t0, V8 heap committed + external bytes]
const sample = () => {
  const m = Deno.memoryUsage();
  const ms = performance.now() - t0;
  rss.push([ms, m.rss]);
  heap.push([ms, m.heapTotal + m.external]);
};
sample();
const sampler = setInterval(sample, 20);
// A generous timeout: a loaded test box can take long for one page; it is not what we measure.
const client = createClient({
  url,
  token: Deno.env.get("NETBOX_TOKEN") ?? "",
  fetch: counted,
  timeoutMs: 600_000,
  memoryBudget: memoryMb === undefined ? undefined : Math.round(Number(memoryMb) * 1048576),
});

/** The peak of each of `slices` equal time slices of the samples (fewer when there are fewer). */
function slicePeaks(samples: [number, number][], slices: number): number[] {
  const end = samples.at(-1)?.[0] ?? 0;
  const out: number[] = [];
  for (const [ms, bytes] of samples) {
    const i = end > 0 ? Math.min(slices - 1, Math.floor((ms / end) * slices)) : 0;
    out[i] = Math.max(out[i] ?? 0, bytes);
  }
  // A slice without a sample (a long GC pause) takes its neighbour's value.
  for (let i = 0; i < out.length; i++) out[i] ??= out[i - 1] ?? 0;
  return out.map((b) => Math.round(b / 1048576));
}

try {
  let count = 0;
  if (mode === "stream" || mode === "stream-root") {
    for await (const ip of client.ipam.ipAddresses.list()) if (ip.id) count++;
  } else {
    count = (await client.ipam.ipAddresses.all({}, { parallel: mode !== "sequential" })).length;
  }
  const ms = performance.now() - t0;
  sample();
  const peak = Math.max(...rss.map(([, b]) => b));
  console.log(
    JSON.stringify({
      count,
      ms: Math.round(ms),
      requests,
      peak_rss_mb: Math.round(peak / 1048576),
      rss_mb: slicePeaks(rss, 48),
      heap_mb: slicePeaks(heap, 48),
    }),
  );
} finally {
  clearInterval(sampler);
  client.close();
}
