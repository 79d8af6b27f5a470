/**
 * Child process of the list case: lists every IP address with the library and prints
 * `{"count", "ms", "requests"}` (ms measured inside the process, after the imports).
 *
 * `deno run --allow-net=127.0.0.1 --allow-env=NETBOX_TOKEN bench/_toolkit_list.ts URL parallel|sequential`
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
const t0 = performance.now();
// A generous timeout: a loaded test box can take long for one page; it is not what we measure.
const client = createClient({
  url,
  token: Deno.env.get("NETBOX_TOKEN") ?? "",
  fetch: counted,
  timeoutMs: 600_000,
});
try {
  const ips = await client.ipam.ipAddresses.all({}, { parallel: mode !== "sequential" });
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ count: ips.length, ms: Math.round(ms), requests }));
} finally {
  client.close();
}
