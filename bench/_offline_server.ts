/**
 * The in-memory NetBox of `_offline_netbox.ts` as a real HTTP server on 127.0.0.1, in a process
 * of its own: a client measured against it (`_toolkit_list.ts URL stream`) pays only its own
 * memory and CPU, not the fake server's. Prints `{"url"}` once listening; runs until killed.
 *
 * `deno run --allow-net=127.0.0.1 bench/_offline_server.ts N [PORT]`
 *
 * @module
 */

import { OFFLINE_URL, offlineFetch } from "./_offline_netbox.ts";

const n = Number(Deno.args[0] ?? 100_000);
const port = Number(Deno.args[1] ?? 0);
if (!Number.isInteger(n) || n < 100 || n % 100 !== 0) {
  throw new RangeError(`Cannot serve ${Deno.args[0]} addresses: expected a multiple of 100`);
}
const fake = offlineFetch(n);
const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
  const url = new URL(req.url);
  const answer = await fake(`${OFFLINE_URL}${url.pathname}${url.search}`);
  // The fake names its own base URL in `next` links; the client follows only their query string.
  return answer;
});
console.log(JSON.stringify({ url: `http://127.0.0.1:${server.addr.port}` }));
