/**
 * Child process of the create case: creates the addresses of a JSON file (an array of API bodies)
 * with the library's bulk create (default chunk size and concurrency) and prints
 * `{"count", "ms", "failed"}` (ms measured inside the process, after the imports).
 *
 * `deno run --allow-net=127.0.0.1 --allow-env=NETBOX_TOKEN --allow-read bench/_toolkit_create.ts URL FILE`
 *
 * @module
 */

import { createClient } from "../mod.ts";
import type { WritableIPAddress } from "../lib/client/models.ts";

if (Deno.args[0] === "--warm") Deno.exit(0); // only load the modules (cache warm-up)

const [url, file] = Deno.args;
const t0 = performance.now();
const bodies = JSON.parse(await Deno.readTextFile(file)) as WritableIPAddress[];
// A generous timeout (a timed-out POST is not retried): a loaded box can be slow per chunk.
const client = createClient({ url, token: Deno.env.get("NETBOX_TOKEN") ?? "", timeoutMs: 600_000 });
try {
  const result = await client.ipam.ipAddresses.create(bodies);
  const ms = performance.now() - t0;
  console.log(
    JSON.stringify({
      count: result.succeeded.length,
      ms: Math.round(ms),
      failed: result.failed.length,
    }),
  );
} finally {
  client.close();
}
