/**
 * Child process of the list cases: lists every IP address with the library and prints
 * `{"count", "ms", "requests", "peak_rss_mb"}` (ms measured inside the process, after the
 * imports; peak RSS sampled in-process every 20 ms).
 *
 * `deno run --allow-net=127.0.0.1 --allow-env=NETBOX_TOKEN bench/_toolkit_list.ts URL MODE`
 *
 * MODE: `parallel` (`all()`, the default), `sequential` (`all({}, { parallel: false })`), or
 * `stream` (`for await` over `list()`, parallel, nothing kept: what the scale bench measures).
 *
 * @module
 */

import { createClient } from "../mod.ts";

if (Deno.args[0] === "--warm") Deno.exit(0); // only load the modules (cache warm-up)

const [url, mode = "parallel"] = Deno.args;
let requests = 0;
const counted: typeof fetch = (input, init) => {
  requests++;
  return fetch(input, init);
};
let peak = Deno.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, Deno.memoryUsage().rss);
}, 20);
const t0 = performance.now();
// A generous timeout: a loaded test box can take long for one page; it is not what we measure.
const client = createClient({
  url,
  token: Deno.env.get("NETBOX_TOKEN") ?? "",
  fetch: counted,
  timeoutMs: 600_000,
});
try {
  let count = 0;
  if (mode === "stream") {
    for await (const ip of client.ipam.ipAddresses.list()) if (ip.id) count++;
  } else {
    count = (await client.ipam.ipAddresses.all({}, { parallel: mode !== "sequential" })).length;
  }
  const ms = performance.now() - t0;
  peak = Math.max(peak, Deno.memoryUsage().rss);
  console.log(
    JSON.stringify({
      count,
      ms: Math.round(ms),
      requests,
      peak_rss_mb: Math.round(peak / 1048576),
    }),
  );
} finally {
  clearInterval(sampler);
  client.close();
}
