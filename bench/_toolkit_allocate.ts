/**
 * Child process of the allocate case: the next free prefix of a parent, one at a time, with the
 * library (`allocatePrefixes` in a loop, one call per prefix). Prints
 * `{"count", "ms", "requests", "prefixes"}` (ms measured inside the process, after the imports).
 *
 * `deno run --allow-net=127.0.0.1 --allow-env=NETBOX_TOKEN bench/_toolkit_allocate.ts URL ID N LEN [POLICY]`
 *
 * POLICY: `first` (the default: NetBox's POST alone) or `least-used` (each call measures the
 * parent's free space first, what a policy or limit costs).
 *
 * @module
 */

import { allocatePrefixes, type AllocationPolicy, createClient } from "../mod.ts";

if (Deno.args[0] === "--warm") Deno.exit(0); // only load the modules (cache warm-up)

const [url, id, n, length, policy = "first"] = Deno.args;
let requests = 0;
const counted: typeof fetch = (input, init) => {
  requests++;
  return fetch(input, init);
};
const t0 = performance.now();
// A generous timeout: a loaded test box can be slow; it is not what we measure.
const client = createClient({
  url,
  token: Deno.env.get("NETBOX_TOKEN") ?? "",
  fetch: counted,
  timeoutMs: 600_000,
});
try {
  const prefixes: string[] = [];
  for (let i = 0; i < Number(n); i++) {
    const r = await allocatePrefixes(client, { parentId: Number(id) }, {
      length: Number(length),
      policy: policy as AllocationPolicy,
    });
    prefixes.push(...r.allocated.map((p) => String(p.prefix)));
  }
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ count: prefixes.length, ms: Math.round(ms), requests, prefixes }));
} finally {
  client.close();
}
